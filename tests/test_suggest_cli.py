"""`expacti whitelist suggest` through the real CLI: table, JSON, --accept, the prompt on a tty."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest
from suggest_support import record, routine_history, write_history

from expacti_cli.store.audit import AuditLog
from expacti_cli.store.rules import RulesStore


@pytest.fixture
def history() -> AuditLog:
    log = AuditLog.open()
    write_history(log, routine_history(approvals=120), fsync=False)
    return log


def _suggestions(run_cli, *args: str) -> dict:  # type: ignore[no-untyped-def]
    result = run_cli("whitelist", "suggest", "--json", *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _number(payload: dict, kind: str, pattern: str) -> int:
    return next(
        s["number"]
        for s in payload["suggestions"]
        if (s["rule"]["kind"], s["rule"]["pattern"]) == (kind, pattern)
    )


def test_accept_adds_rules_that_whitelist_test_then_allows(history, run_cli) -> None:  # type: ignore[no-untyped-def]
    # A new container id, never seen before: not covered until the rule is accepted.
    assert run_cli("whitelist", "test", "docker logs api-ffff").returncode == 1
    payload = _suggestions(run_cli)
    docker = _number(payload, "prefix", "docker logs")
    pods = _number(payload, "exact", "kubectl get pods -n qa")

    result = run_cli("whitelist", "suggest", "--accept", f"{docker},{pods}")
    assert result.returncode == 0, result.stderr
    assert "added" in result.stdout and "docker logs" in result.stdout

    assert run_cli("whitelist", "test", "docker logs api-ffff").returncode == 0
    assert run_cli("whitelist", "test", "docker logs -f --tail 50 web-1").returncode == 0
    assert run_cli("whitelist", "test", "kubectl get pods -n qa").returncode == 0
    # What history denied still asks a human.
    for command in ("sudo docker logs api-1", "kubectl get pods -n prod", "git status; rm -rf /"):
        assert run_cli("whitelist", "test", command).returncode == 1, command


def test_accepted_rules_record_where_they_came_from(history, run_cli) -> None:  # type: ignore[no-untyped-def]
    payload = _suggestions(run_cli)
    number = _number(payload, "prefix", "docker logs")
    assert run_cli("whitelist", "suggest", "--accept", str(number)).returncode == 0

    store = RulesStore()
    (rule,) = store.list()
    assert (rule.kind.value, rule.pattern, rule.source) == ("prefix", "docker logs", "suggestion")
    assert rule.creator
    doc = store.details(rule.id)["suggestion"]
    approvals = {
        r["id"]: r
        for r in history.iter_records()
        if r.get("decision") == "approved" and str(r.get("command", "")).startswith("docker logs")
    }
    assert doc["approvals"] == len(approvals) == 10
    assert set(doc["record_ids"]) == set(approvals)
    assert doc["record_ids_complete"] is True

    audit = [r for r in history.iter_records() if r.get("kind") == "rule_added"]
    assert len(audit) == 1
    assert audit[0]["rule_id"] == rule.id
    assert audit[0]["rule"]["source"] == "suggestion"
    assert set(audit[0]["suggestion"]["record_ids"]) == set(approvals)
    assert history.verify().ok

    # Accepting it again adds nothing new (the same rule is already in force).
    again = run_cli("whitelist", "suggest", "--json")
    assert all(
        s["rule"]["pattern"] != "docker logs" for s in json.loads(again.stdout)["suggestions"]
    )


def test_json_shows_the_evidence_for_each_suggestion(history, run_cli) -> None:  # type: ignore[no-untyped-def]
    payload = _suggestions(run_cli)
    assert payload["approvals"] == 120
    assert payload["covered"] / payload["approvals"] >= 0.8
    assert "added" not in payload
    status = payload["suggestions"][_number(payload, "exact", "git status") - 1]
    assert status["examples"] == ["git status"]
    assert status["approvals"] == len(status["record_ids"]) == 10
    assert {
        "command": "git status; rm -rf /",
        "denied": True,
        "level": "CRITICAL",
        "score": 100,
    } in (status["must_not_match"])
    assert status["forbidden_checked"] >= 9
    assert any(d["pattern"] == "kubectl get pods -n *" for d in payload["dropped"])


def test_accept_all_with_json_reports_the_new_ids(history, run_cli) -> None:  # type: ignore[no-untyped-def]
    payload = _suggestions(run_cli, "--accept-all")
    ids = [a["id"] for a in payload["added"]]
    assert len(ids) == len(payload["suggestions"]) > 5
    assert {r.id for r in RulesStore().list()} == set(ids)
    assert all(a["created"] for a in payload["added"])


@pytest.mark.parametrize(
    ("args", "message", "code"),
    [
        (["--accept", "99"], "there is no suggestion 99", 1),
        (["--accept", "one"], "bad selection", 1),
        (["--accept", "1", "--accept-all"], "not both", 2),
        (["--since", "yesterday-ish"], "not a time", 2),
        (["--min-count", "0"], "--min-count", 2),
    ],
)
def test_bad_options_are_clear_errors(history, run_cli, args, message, code) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("whitelist", "suggest", *args)
    assert result.returncode == code
    assert message in result.stderr
    assert RulesStore().list() == []


def test_no_history_says_so(run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("whitelist", "suggest")
    assert result.returncode == 0
    assert "no human approvals yet" in result.stdout
    assert _suggestions(run_cli)["suggestions"] == []


def test_since_limits_the_approvals_learned_from(run_cli) -> None:  # type: ignore[no-untyped-def]
    log = AuditLog.open()
    write_history(log, [("make lint", "approved")] * 5, fsync=False)
    payload = _suggestions(run_cli, "--since", "1h")
    assert [s["rule"]["pattern"] for s in payload["suggestions"]] == ["make lint"]
    assert _suggestions(run_cli, "--since", "2999-01-01")["approvals"] == 0


def test_commands_are_shown_escaped(run_cli) -> None:  # type: ignore[no-untyped-def]
    log = AuditLog.open()
    write_history(log, [("cat notes-\u202e.txt", "approved")] * 3, fsync=False)
    record(log, "cat notes-\x1b[2J.txt", "denied")
    result = run_cli("whitelist", "suggest", env={"COLUMNS": "200"})
    assert result.returncode == 0
    assert "\x1b" not in result.stdout and "\u202e" not in result.stdout
    assert "<U+202E>" in result.stdout


def test_the_table_shows_rule_counts_examples_and_what_must_not_match(history, run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("whitelist", "suggest", env={"COLUMNS": "220"})
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "prefix docker logs" in out
    assert "kubectl get pods -n prod  denied" in out
    assert "120 approvals among 130 audit records" in out
    assert "(100%)" in out or "%)" in out
    assert RulesStore().list() == []  # without a tty and without --accept nothing is added


def test_on_a_terminal_it_asks_which_to_add(history, expacti_home: Path) -> None:
    env = dict(os.environ, EXPACTI_HOME=str(expacti_home), COLUMNS="200", LINES="200")
    child = pexpect.spawn(
        sys.executable,
        ["-m", "expacti_cli", "whitelist", "suggest"],
        env=env,
        encoding="utf-8",
        timeout=30,
        dimensions=(200, 200),
    )
    try:
        child.expect("Accept which rules")
        child.sendline("1,99")
        child.expect("there is no suggestion 99")
        child.expect("Accept which rules")
        child.sendline("1-2")
        child.expect("added")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0, child.before
    assert len(RulesStore().list()) == 2
    assert all(r.source == "suggestion" for r in RulesStore().list())


def test_a_progress_bar_on_the_terminal_while_a_big_history_is_read(expacti_home: Path) -> None:
    from expacti_cli.commands.whitelist_suggest import PROGRESS_MIN_RECORDS

    log = AuditLog.open()
    entries = routine_history(approvals=PROGRESS_MIN_RECORDS)
    write_history(log, entries, fsync=False)
    env = dict(os.environ, EXPACTI_HOME=str(expacti_home), COLUMNS="200", LINES="200")
    child = pexpect.spawn(
        sys.executable,
        ["-m", "expacti_cli", "whitelist", "suggest", "--accept", "1"],
        env=env,
        encoding="utf-8",
        timeout=60,
        dimensions=(200, 200),
    )
    try:
        child.expect("reading the audit log")
        child.expect("added")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0
    # Not on a terminal (or with --json): no bar, nothing on stderr.
    done = subprocess.run(
        [sys.executable, "-m", "expacti_cli", "whitelist", "suggest"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0
    assert done.stderr == ""
