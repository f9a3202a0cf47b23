"""The anomaly engine end to end: a synthetic history in the real audit log, then `expacti exec`
through the real broker, with the clock injected through EXPACTI_TEST_NOW (issue 5).

The user works on weekdays 09:00-18:00 UTC; `auto_approve_below = 30` lets routine LOW
commands through, so a command that asks is one the anomaly engine held back.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from expacti_cli.store.audit import AuditLog

NOW = datetime(2025, 3, 12, 14, 30, tzinfo=UTC)  # a Wednesday afternoon
NIGHT = NOW.replace(hour=3, minute=5)
HISTORY = 200  # 20 weekdays x 10 commands
ROUTINE = ["ls -la", "pwd", "date", "uname -a", "whoami", "id", "echo ok", "true"]


def write_history(log: AuditLog) -> int:
    rnd = random.Random(5)
    written = 0
    for back in range(28, 0, -1):
        day = NOW - timedelta(days=back)
        if day.weekday() >= 5:
            continue
        for _ in range(10):
            at = day.replace(hour=rnd.randint(9, 17), minute=rnd.randint(0, 59))
            add(log, rnd.choice(ROUTINE), at, f"day-{back}")
            written += 1
    return written


def add(log: AuditLog, command: str, at: datetime, session: str) -> None:
    log.record_decision(
        command=command,
        decision="approved",
        session=session,
        cwd="/tmp",
        requested_at=at,
        decided_at=at,
        score=2,
        level="LOW",
        reasons=["read-only: reads files or prints information"],
        reviewer="me@example.com",
    )


@pytest.fixture
def home(broker_env: Path) -> Path:
    assert write_history(AuditLog.open()) == HISTORY
    with (broker_env / "config.toml").open("a") as fh:
        fh.write("auto_approve_below = 30\n")
    return broker_env


def expacti(*args: str, at: datetime, **env: str) -> subprocess.CompletedProcess[str]:
    """`expacti ARGS` as an agent would run it, at the moment `at` (the broker's clock too)."""
    return subprocess.run(
        [str(Path(sys.executable).with_name("expacti")), *args],
        capture_output=True,
        text=True,
        env={**os.environ, "TZ": "UTC", "EXPACTI_TEST_NOW": at.isoformat(), **env},
        timeout=60,
    )


def exec_(command: str, *, at: datetime = NOW, **env: str) -> subprocess.CompletedProcess[str]:
    return expacti("exec", "--timeout", "1", "--", command, at=at, **env)


def last_decision() -> dict[str, Any]:
    records = [r for r in AuditLog.open().iter_records(reverse=True) if r.get("kind") == "decision"]
    return records[0]


def anomaly_reasons(record: dict[str, Any]) -> list[str]:
    return [r for r in record["reasons"] if r.startswith("anomaly:")]


def test_a_routine_repeat_passes_by_threshold(home: Path) -> None:
    result = exec_("uname -a")
    assert result.returncode == 0, result.stderr
    record = last_decision()
    assert record["decision"] == "auto_approved_threshold"
    assert anomaly_reasons(record) == []


def test_a_new_program_asks_with_the_reason(home: Path) -> None:
    result = exec_("hostname")
    assert result.returncode == 126 and "waiting for approval" in result.stderr
    record = last_decision()
    assert record["decision"] == "timed_out"
    assert anomaly_reasons(record) == [
        f"anomaly: first-ever program: hostname (never ran in {HISTORY} past commands)"
    ]
    assert record["score"] == 12  # LOW 2 + 10 for the anomaly


def test_an_off_hours_command_asks(home: Path) -> None:
    result = exec_("uname -a", at=NIGHT)
    assert result.returncode == 126
    [reason] = anomaly_reasons(last_decision())
    assert reason.startswith(
        f"anomaly: off-hours: 03:05 is outside your usual hours (0 of {HISTORY}"
    )


def test_a_burst_in_a_session_asks(home: Path) -> None:
    log = AuditLog.open()
    for i in range(20):  # one command every 5 minutes for 100 minutes
        add(log, "ls -la", NOW - timedelta(minutes=101 - 5 * i), "agent-7")
    calm = exec_("ls -la", EXPACTI_SESSION="agent-7")
    assert calm.returncode == 0, calm.stderr
    for i in range(12):  # then 12 in the last 36 seconds
        add(log, "ls -la", NOW - timedelta(seconds=36 - 3 * i), "agent-7")
    burst = exec_("ls -la", EXPACTI_SESSION="agent-7")
    assert burst.returncode == 126
    [reason] = anomaly_reasons(last_decision())
    # 12 + this one (the broker stamps its own records with the real clock, not the test's)
    assert reason.startswith("anomaly: burst: 13 commands in the last minute in this session")
    other = exec_("ls -la", EXPACTI_SESSION="agent-8")  # another session keeps its pace
    assert other.returncode == 0, other.stderr


def test_the_reviewer_sees_the_anomaly(home: Path) -> None:
    from expacti_cli.broker import client

    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("expacti")), "exec", "--", "hostname"],
        env={**os.environ, "TZ": "UTC", "EXPACTI_TEST_NOW": NOW.isoformat()},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        from broker_support import wait_pending

        [request] = wait_pending(1)
        assert request["anomalies"] == [
            f"first-ever program: hostname (never ran in {HISTORY} past commands)"
        ]
        answer = client.call("decide", id=request["id"], decision="approve", reviewer="me")
        assert answer["op"] == "decided", answer
        out, _ = proc.communicate(timeout=20)
        assert proc.returncode == 0 and out.strip()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


@pytest.mark.parametrize(
    ("strict", "command", "at", "asks"),
    [
        ("true", "hostname", NOW, True),  # strict: a whitelisted command with an anomaly asks
        ("false", "hostname", NOW, False),  # off: the rule decides alone
        ("auto", "hostname", NOW, False),  # auto, usual hours: the rule decides
        ("auto", "hostname", NIGHT, True),  # auto, off-hours: strict, and it is a new program
        ("auto", "uname -a", NIGHT, False),  # off-hours alone does not make a rule ask
    ],
)
def test_strict_anomalies_and_whitelisted_commands(
    home: Path, strict: str, command: str, at: datetime, asks: bool
) -> None:
    assert expacti("whitelist", "add", command, at=NOW).returncode == 0
    assert expacti("config", "set", "strict_anomalies", strict, at=NOW).returncode == 0
    result = exec_(command, at=at)
    record = last_decision()
    if asks:
        assert result.returncode == 126, result.stderr
        assert record["decision"] == "timed_out"
        assert anomaly_reasons(record)
    else:
        assert result.returncode == 0, result.stderr
        assert record["decision"] == "auto_approved_rule"


def test_score_explain_shows_anomalies_from_history(home: Path) -> None:
    shown = expacti("score", "--explain", "hostname && uname -a", at=NIGHT)
    assert shown.returncode == 0, shown.stderr
    assert "anomaly: first-ever program: hostname" in shown.stdout
    assert "anomaly: off-hours: 03:05" in shown.stdout
    assert f"history: {HISTORY} past commands; 2 anomalies" in shown.stdout
    assert "anomaly checks (against your history)" in shown.stdout
    data = json.loads(expacti("score", "--explain", "--json", "uname -a", at=NOW).stdout)
    assert data["anomalies"] == [] and data["history"]["commands"] == HISTORY
    flagged = json.loads(expacti("score", "--explain", "--json", "hostname", at=NOW).stdout)
    assert [a["code"] for a in flagged["anomalies"]] == ["new_program"]
    assert flagged["score"] == 12
