"""`expacti whitelist` end to end through the real CLI."""

from __future__ import annotations

import importlib
import json
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from expacti_cli import paths
from expacti_cli.commands.whitelist import parse_ttl

Run = Callable[..., subprocess.CompletedProcess[str]]


def _has(module: str, name: str) -> bool:
    try:
        return hasattr(importlib.import_module(module), name)
    except ImportError:
        return False


needs_engine = pytest.mark.skipif(
    not (_has("expacti_cli.analysis", "analyze") and _has("expacti_cli.risk", "score_command")),
    reason="analysis/risk engine not available yet",
)


def add(run_cli: Run, *args: str) -> dict[str, object]:
    result = run_cli("whitelist", "add", "--json", *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return,unused-ignore]


def listed(run_cli: Run, *flags: str) -> list[dict[str, object]]:
    result = run_cli("whitelist", "list", "--json", *flags)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return,unused-ignore]


def test_add_list_rm(run_cli: Run) -> None:
    a = add(run_cli, "npm test")
    b = add(run_cli, "--kind", "prefix", "--note", "history", "git log")
    c = add(run_cli, "--deny", "--kind", "prefix", "--ttl", "7d", "rm -rf")
    assert (a["kind"], a["action"], a["created"]) == ("exact", "allow", True)
    assert (b["kind"], b["note"]) == ("prefix", "history")
    assert c["action"] == "deny" and c["expires_at"]
    assert a["creator"]  # config reviewer, git email or user@host

    rules = listed(run_cli)
    assert [r["id"] for r in rules] == [a["id"], b["id"], c["id"]]

    human = run_cli("whitelist", "list")
    assert human.returncode == 0
    for r in (a, b, c):
        assert str(r["id"]) in human.stdout
    assert "git log" in human.stdout and "history" in human.stdout

    removed = run_cli("whitelist", "rm", str(b["id"])[:6])
    assert removed.returncode == 0, removed.stderr
    assert f"removed {b['id']}" in removed.stdout
    assert [r["id"] for r in listed(run_cli)] == [a["id"], c["id"]]

    again = run_cli("whitelist", "rm", str(b["id"]))
    assert again.returncode == 1
    assert "no rule with id" in again.stderr


def test_duplicate_add_reports_existing(run_cli: Run) -> None:
    first = add(run_cli, "npm test")
    second = run_cli("whitelist", "add", "npm test")
    assert second.returncode == 0
    assert f"already present as {first['id']}" in second.stdout
    assert len(listed(run_cli)) == 1


def test_scope_is_stored_absolute(run_cli: Run, tmp_path: Path) -> None:
    (tmp_path / "proj").mkdir()
    r = add(run_cli, "--scope", str(tmp_path / "proj" / ".." / "proj"), "make")
    assert r["scope"] == str((tmp_path / "proj").resolve())


BAD_ADDS = [
    (["--kind", "regex", "("], "bad regex pattern"),
    (["--kind", "glob", "ls [abc"], "unclosed '['"),
    (["--kind", "prefix", "git log; rm x"], "shell operator"),
    (["--kind", "prefix", "bash"], "refusing"),
    (["--kind", "prefix", "sudo"], "privilege"),
    (["--kind", "regex", ".*"], "refusing"),
    (["--kind", "glob", "* --help"], "refusing"),
    (["--ttl", "7 days", "npm test"], "bad --ttl"),
    (["--ttl", "0m", "npm test"], "longer than zero"),
    (["  "], "empty"),
]


@pytest.mark.parametrize(("args", "message"), BAD_ADDS)
def test_bad_add_is_refused(run_cli: Run, args: list[str], message: str) -> None:
    result = run_cli("whitelist", "add", *args)
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not paths.rules_file().exists() or listed(run_cli) == []


def test_force_adds_a_broad_rule_with_a_warning(run_cli: Run) -> None:
    result = run_cli("whitelist", "add", "--force", "--kind", "prefix", "bash")
    assert result.returncode == 0
    assert "warning:" in result.stderr
    assert [r["pattern"] for r in listed(run_cli)] == ["bash"]


def test_list_empty_and_expired(run_cli: Run) -> None:
    from rules_helpers import rule

    from expacti_cli.store.rules import RulesStore

    empty = run_cli("whitelist", "list")
    assert empty.returncode == 0 and "no rules yet" in empty.stdout

    store = RulesStore()
    store.add(rule("old", expires_at=datetime.now(UTC) - timedelta(hours=1)))
    store.add(rule("new"))
    assert [r["pattern"] for r in listed(run_cli)] == ["new"]
    everything = listed(run_cli, "--all")
    assert [(r["pattern"], r["expired"]) for r in everything] == [("old", True), ("new", False)]
    human = run_cli("whitelist", "list")
    assert "1 expired rule hidden" in human.stdout
    assert "expired" in run_cli("whitelist", "list", "--all").stdout


def test_corrupt_rules_file_is_named_and_untouched(run_cli: Run) -> None:
    path = paths.rules_file()
    path.parent.mkdir(parents=True)
    content = '{"rules": {"1": {"id": "abc", "pattern": "npm test",}}}'
    path.write_text(content)
    for args in (("list",), ("add", "ls"), ("rm", "abc"), ("list", "--json")):
        result = run_cli("whitelist", *args)
        assert result.returncode == 1, args
        assert str(path) in result.stderr
        assert "line 1, column" in result.stderr
        assert "Traceback" not in result.stderr
    assert path.read_text() == content


def test_display_escapes_control_characters(run_cli: Run) -> None:
    add(run_cli, "echo \x1b[2Jhi")
    out = run_cli("whitelist", "list").stdout
    assert "\x1b[2J" not in out
    assert "\\x1b[2Jhi" in out


TTLS = [("30m", 1800), ("12h", 43200), ("7d", 604800), ("2w", 1209600), ("1d12h", 129600)]


@pytest.mark.parametrize(("text", "seconds"), TTLS)
def test_parse_ttl(text: str, seconds: int) -> None:
    assert parse_ttl(text).total_seconds() == seconds


# --- `whitelist test` needs the analysis and risk engine ---------------------------------------


@needs_engine
def test_test_exit_codes(run_cli: Run) -> None:
    npm = add(run_cli, "npm test")
    gitlog = add(run_cli, "--kind", "prefix", "git log")

    allowed = run_cli("whitelist", "test", "npm test && git log -3")
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
    assert f"allowed by rule {npm['id']}" in allowed.stdout
    assert f"allowed by rule {gitlog['id']}" in allowed.stdout

    asked = run_cli("whitelist", "test", "npm test && rm -rf ~")
    assert asked.returncode == 1, asked.stdout + asked.stderr
    assert "not covered" in asked.stdout
    assert "decision: ask (CRITICAL" in asked.stdout

    deny = add(run_cli, "--deny", "--kind", "prefix", "rm")
    denied = run_cli("whitelist", "test", "npm test && sudo rm -rf ~")
    assert denied.returncode == 3, denied.stdout + denied.stderr
    assert f"denied by rule {deny['id']}" in denied.stdout

    nested = run_cli("whitelist", "test", "--json", "bash -c 'rm -rf x'")
    assert nested.returncode == 3
    payload = json.loads(nested.stdout)
    assert payload["action"] == "deny" and payload["rule_ids"] == [deny["id"]]
    assert payload["risk"]["level"] in ("LOW", "MEDIUM", "HIGH", "CRITICAL")


@needs_engine
def test_test_json_and_no_hits_recorded(run_cli: Run) -> None:
    npm = add(run_cli, "npm test")
    result = run_cli("whitelist", "test", "--json", "npm test")
    assert result.returncode == 0
    payload = json.loads(result.stdout)
    assert payload["action"] == "allow" and payload["via"] == "rule"
    assert payload["parts"][0]["rule_id"] == npm["id"]
    assert payload["command"] == "npm test"
    assert listed(run_cli)[0]["hits"] == 0


@needs_engine
def test_test_scope_via_cwd(run_cli: Run, tmp_path: Path) -> None:
    proj = tmp_path / "proj"
    (proj / "sub").mkdir(parents=True)
    add(run_cli, "--scope", str(proj), "make")
    assert run_cli("whitelist", "test", "--cwd", str(proj / "sub"), "make").returncode == 0
    assert run_cli("whitelist", "test", "--cwd", str(tmp_path), "make").returncode == 1


@needs_engine
def test_test_threshold(run_cli: Run, expacti_home: Path) -> None:
    expacti_home.mkdir(parents=True, exist_ok=True)
    (expacti_home / "config.toml").write_text("auto_approve_below = 30\n")
    low = run_cli("whitelist", "test", "git status")
    assert low.returncode == 0, low.stdout + low.stderr
    assert "by threshold" in low.stdout
    assert run_cli("whitelist", "test", "rm -rf ~").returncode == 1


@needs_engine
def test_test_escapes_the_command(run_cli: Run) -> None:
    result = run_cli("whitelist", "test", "echo \x1b]0;pwned\x07 ok")
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert "\\x1b" in result.stdout


@pytest.mark.skipif(not _has("expacti_cli.store.audit", "AuditLog"), reason="no audit log yet")
def test_rule_changes_are_audited(run_cli: Run) -> None:
    from expacti_cli.store.audit import AuditLog

    added = add(run_cli, "--kind", "prefix", "git log")
    assert run_cli("whitelist", "rm", str(added["id"])).returncode == 0
    records = [r for r in AuditLog.open().iter_records() if r.get("rule_id") == added["id"]]
    assert [r["kind"] for r in records] == ["rule_added", "rule_removed"]
    assert records[0]["rule"]["pattern"] == "git log"
    assert records[0]["reviewer"] == added["creator"]
    assert AuditLog.open().verify().ok


@pytest.mark.skipif(not _has("expacti_cli.store.audit", "AuditLog"), reason="no audit log yet")
def test_rule_that_cannot_be_audited_is_not_kept(run_cli: Run) -> None:
    audit = paths.audit_dir()
    audit.parent.mkdir(parents=True, exist_ok=True)
    audit.write_text("not a directory")  # the audit log cannot be written
    result = run_cli("whitelist", "add", "npm test")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert listed(run_cli) == []


@needs_engine
def test_exact_rule_for_an_unparsable_command_warns(run_cli: Run) -> None:
    result = run_cli("whitelist", "add", "make ((")
    assert result.returncode == 0
    assert "cannot be parsed" in result.stderr
    assert "cannot be parsed" not in run_cli("whitelist", "add", "make all").stderr
