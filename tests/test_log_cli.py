"""`expacti log`, `log show`, `log verify`, `log repair` end to end (the real CLI)."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from expacti_cli.store.audit import AuditLog

RunCli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def audit() -> AuditLog:
    return AuditLog.open()  # EXPACTI_HOME points at the test's temp dir


@pytest.fixture
def populated(audit: AuditLog) -> dict[str, dict[str, Any]]:
    records = {
        "build": audit.record_decision(
            command="npm test",
            decision="auto_approved_rule",
            session="s1",
            source="shim",
            score=10,
            level="LOW",
            rule_id="r-npm",
        ),
        "drop": audit.record_decision(
            command="psql prod -c 'DROP TABLE sessions'",
            decision="denied",
            session="s2",
            source="hook",
            score=95,
            level="CRITICAL",
            reasons=["database: DROP"],
            reviewer="alice",
            context="tidy up",
        ),
        "evil": audit.record_decision(
            command=b"echo \x1b[2Kok\xff \xe2\x80\xae",
            decision="approved",
            session="s1",
            source="pty",
            score=40,
            level="MEDIUM",
        ),
    }
    audit.record_exit(records["evil"]["id"], 3)
    return records


def test_empty_log(run_cli: RunCli) -> None:
    listing = run_cli("log")
    assert listing.returncode == 0
    assert "no audit records yet" in listing.stdout
    verify = run_cli("log", "verify")
    assert verify.returncode == 0
    assert "no audit log yet" in verify.stdout


def test_listing_is_newest_first_and_escaped(run_cli: RunCli, populated: dict[str, Any]) -> None:
    result = run_cli("log")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "\x1b" not in out and "\u202e" not in out
    assert r"echo \x1b[2Kok\xff <U+202E>" in out
    assert out.index("echo") < out.index("DROP TABLE") < out.index("npm test")
    assert "CRITICAL 95" in out and "denied" in out and "auto:rule" in out
    evil_row = next(line for line in out.splitlines() if "echo" in line)
    assert " 3 " in evil_row  # the exit code joined from the exit record


def test_json_output_carries_exact_records(run_cli: RunCli, populated: dict[str, Any]) -> None:
    result = run_cli("log", "--json", "--limit", "2")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["id"] for r in rows] == [populated["evil"]["id"], populated["drop"]["id"]]
    assert rows[0]["exit_code"] == 3
    assert rows[0]["command_b64"] == populated["evil"]["command_b64"]


def test_csv_output(run_cli: RunCli, populated: dict[str, Any]) -> None:
    result = run_cli("log", "--csv", "--decision", "denied")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 1
    assert rows[0]["id"] == populated["drop"]["id"]
    assert rows[0]["command"] == "psql prod -c 'DROP TABLE sessions'"
    assert rows[0]["score"] == "95"


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--session", "s1"], {"build", "evil"}),
        (["--min-risk", "HIGH"], {"drop"}),
        (["--min-risk", "30"], {"drop", "evil"}),
        (["--grep", "NPM"], {"build"}),
        (["--decision", "approved", "--decision", "denied"], {"drop", "evil"}),
        (["--since", "1h", "--session", "s2"], {"drop"}),
        (["--until", "2000-01-01"], set()),
    ],
)
def test_filters(
    run_cli: RunCli, populated: dict[str, Any], args: list[str], expected: set[str]
) -> None:
    result = run_cli("log", "--json", *args)
    assert result.returncode == 0, result.stderr
    ids = {json.loads(line)["id"] for line in result.stdout.splitlines()}
    assert ids == {populated[name]["id"] for name in expected}


def test_limit_and_bad_options(run_cli: RunCli, populated: dict[str, Any]) -> None:
    assert len(run_cli("log", "--json", "-n", "1").stdout.splitlines()) == 1
    for args in (["--since", "yesterday"], ["--min-risk", "severe"], ["--grep", "("]):
        result = run_cli("log", *args)
        assert result.returncode == 2, args
        assert "not a" in result.stderr


def test_show_by_prefix(run_cli: RunCli, populated: dict[str, Any]) -> None:
    evil = populated["evil"]
    result = run_cli("log", "show", evil["id"][:8])
    assert result.returncode == 0, result.stderr
    assert r"echo \x1b[2Kok\xff <U+202E>" in result.stdout
    assert "not plain UTF-8" in result.stdout
    assert "exit_code:    3" in result.stdout
    assert "\x1b" not in result.stdout

    as_json = json.loads(run_cli("log", "show", "--json", evil["id"]).stdout)
    assert as_json["exit_code"] == 3 and as_json["hash"] == evil["hash"]

    drop = run_cli("log", "show", populated["drop"]["id"])
    assert "exit_code:    not recorded" in drop.stdout
    assert "reviewer:     alice" in drop.stdout

    missing = run_cli("log", "show", "0123456789")
    assert missing.returncode == 1
    assert "no audit record" in missing.stderr


def test_verify_good_and_tampered(
    run_cli: RunCli, audit: AuditLog, populated: dict[str, Any]
) -> None:
    good = run_cli("log", "verify")
    assert good.returncode == 0, good.stderr
    assert good.stdout.strip() == "hash chain intact: 5 records"

    path = audit.segments()[0]
    lines = path.read_bytes().split(b"\n")
    lines[2] = lines[2].replace(b"DROP TABLE", b"SELECT  1 ")
    path.write_bytes(b"\n".join(lines))
    bad = run_cli("log", "verify")
    assert bad.returncode == 1
    assert "line 3" in bad.stderr and str(path) in bad.stderr

    as_json = json.loads(run_cli("log", "verify", "--json").stdout)
    assert as_json["ok"] is False and as_json["first_bad_line"] == 3


def test_garbage_line_is_a_clear_error(run_cli: RunCli, audit: AuditLog, populated: Any) -> None:
    path = audit.segments()[0]
    lines = path.read_bytes().split(b"\n")
    lines.insert(1, b"<<<<<<< merge conflict")
    path.write_bytes(b"\n".join(lines))
    result = run_cli("log")
    assert result.returncode == 1
    assert f"{path}: line 2: not valid JSON" in result.stderr
    assert "Traceback" not in result.stderr


def test_torn_tail_warned_then_repaired(run_cli: RunCli, audit: AuditLog, populated: Any) -> None:
    with open(audit.segments()[0], "ab") as handle:
        handle.write(b'{"command":"rm -')
    listing = run_cli("log")
    assert listing.returncode == 0
    assert "line 6 is incomplete" in listing.stderr
    verify = run_cli("log", "verify")
    assert verify.returncode == 1 and "incomplete" in verify.stderr

    repair = run_cli("log", "repair")
    assert repair.returncode == 0 and "torn" in repair.stdout
    verify = run_cli("log", "verify")
    assert verify.returncode == 0
    assert "1 torn line(s)" in verify.stdout
    assert run_cli("log", "repair").stdout.strip() == "nothing to repair"


def test_follow_prints_new_records(expacti_home: Path, audit: AuditLog, populated: Any) -> None:
    env = dict(os.environ, EXPACTI_HOME=str(expacti_home))
    proc = subprocess.Popen(
        [sys.executable, "-m", "expacti_cli", "log", "--follow", "--json", "-n", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        first = json.loads(proc.stdout.readline())
        assert first["id"] == populated["evil"]["id"]
        new = audit.record_decision(command="ls -la", decision="approved")
        deadline = time.monotonic() + 20
        line = proc.stdout.readline()
        assert time.monotonic() < deadline
        assert json.loads(line)["id"] == new["id"]
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0


def test_verify_progress_bar_on_a_terminal(
    monkeypatch: pytest.MonkeyPatch, audit: AuditLog, populated: Any
) -> None:
    from rich.console import Console

    import expacti_cli.ui.escape as escape
    from expacti_cli.commands import log as log_command

    screen = io.StringIO()
    monkeypatch.setattr(log_command, "PROGRESS_MIN_BYTES", 0)
    monkeypatch.setattr(
        escape, "console", lambda stderr=False: Console(file=screen, force_terminal=True)
    )
    result = log_command._verify_with_progress(audit, show_bar=True)
    assert result.ok and result.count == 5
    assert "verifying" in screen.getvalue()
