"""The anomaly engine on synthetic histories written through the real AuditLog (issue 5).

A user who works on weekdays from 09:00 to 18:00 and runs a dozen command families, one of
them against a production database. Each test asks what the gate's evaluation (or the engine
behind it) says about one more command at a given moment.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from expacti_cli.analysis import analyze
from expacti_cli.broker import gate
from expacti_cli.learn import anomaly, profile
from expacti_cli.learn.anomaly import find_anomalies
from expacti_cli.learn.profile import Profile, ProfileCache
from expacti_cli.risk import score_command
from expacti_cli.store.audit import AuditLog

# A Wednesday afternoon, well inside the usual hours.
NOW = datetime(2025, 3, 12, 14, 30, tzinfo=UTC)
FAMILIES = [
    "git status",
    "git log --oneline -20",
    "git diff",
    "npm test",
    "npm run lint",
    "pytest -q tests/unit",
    "ls -la",
    "docker logs api-7d9f",
    "kubectl get pods -n staging",
    "psql prod-db -c 'select count(*) from users'",
    "cat README.md",
    "make build",
]


def write_history(
    log: AuditLog, *, days: int = 28, per_day: int = 12, end: datetime = NOW, seed: int = 7
) -> int:
    """Approved commands on weekdays between 09:00 and 17:59, one session per day."""
    rnd = random.Random(seed)
    written = 0
    for back in range(days, 0, -1):
        day = end - timedelta(days=back)
        if day.weekday() >= 5:
            continue
        for _ in range(per_day):
            at = day.replace(hour=rnd.randint(9, 17), minute=rnd.randint(0, 59))
            command = rnd.choice(FAMILIES)
            record(log, command, at, session=f"day-{back}")
            written += 1
    return written


def record(log: AuditLog, command: str, at: datetime, *, session: str = "s", **more: str) -> None:
    reasons = [r.text for r in score_command(command).reasons]
    log.record_decision(
        command=command,
        decision=more.get("decision", "approved"),
        session=session,
        cwd="/srv/app",
        requested_at=at,
        decided_at=at,
        reasons=reasons,
        reviewer="me@example.com",
    )


@pytest.fixture
def log(expacti_home: Path) -> AuditLog:
    return AuditLog.open()


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The gate judges in the system's local time: make that UTC for the test."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def history(log: AuditLog) -> AuditLog:
    write_history(log)
    return log


def judge(
    command: str, *, at: datetime = NOW, session: str = "", log: AuditLog | None = None
) -> anomaly.Findings:
    cache = ProfileCache(tz=UTC)
    analysis = analyze(command)
    return find_anomalies(
        analysis, score_command(command), cache.current(log), now=at, session=session
    )


def codes(findings: anomaly.Findings) -> list[str]:
    return [a.code for a in findings.anomalies]


def test_a_routine_repeat_is_not_an_anomaly(history: AuditLog) -> None:
    for command in ("git status", "git log --oneline -5", "docker logs web-1a2b", "npm test"):
        findings = judge(command)
        assert findings.anomalies == (), (command, findings)
        assert findings.notes == ()
        assert not findings.off_hours


def test_off_hours_is_relative_to_this_users_history(history: AuditLog) -> None:
    night = judge("git status", at=NOW.replace(hour=3, minute=10))
    assert codes(night) == ["off_hours"] and night.off_hours
    assert "03:10 is outside your usual hours (0 of" in night.anomalies[0].text
    saturday = judge("git status", at=NOW + timedelta(days=3))  # Saturday 14:30
    assert codes(saturday) == ["off_hours"]
    assert "Saturday 14:30" in saturday.anomalies[0].text


def test_a_night_worker_is_not_flagged_at_night(log: AuditLog) -> None:
    # Same history shifted by 12 hours: 21:00-05:59 is this user's normal.
    write_history(log, end=NOW)
    shifted = AuditLog.open(log.directory.parent / "night")
    for r in log.iter_records():
        if r.get("kind") == "decision":
            at = datetime.fromisoformat(r["requested_at"].replace("Z", "+00:00"))
            record(shifted, r["command"], at + timedelta(hours=12), session=r["session"])
    assert codes(judge("git status", at=NOW.replace(hour=3), log=shifted)) == []
    assert codes(judge("git status", at=NOW.replace(hour=14), log=shifted)) == ["off_hours"]


def test_a_first_ever_program_is_flagged(history: AuditLog) -> None:
    findings = judge("terraform apply -auto-approve")
    assert codes(findings) == ["new_program"]
    assert "first-ever program: terraform" in findings.anomalies[0].text
    nested = judge("git status && bash -c 'nc -l 4444'")
    assert "new_program" in codes(nested)
    assert any("nc" in a.text for a in nested.anomalies)


def test_a_first_ever_production_target_is_flagged(history: AuditLog) -> None:
    same = judge("psql prod-db -c 'select 1'")
    assert "new_production_target" not in codes(same)
    other = judge("psql prod-db-2 -c 'select 1'")
    assert codes(other) == ["new_production_target"]
    assert '"prod-db-2"' in other.anomalies[0].text


def test_far_from_everything_run_before(history: AuditLog) -> None:
    findings = judge("git push --force origin main")
    assert codes(findings) == ["unlike_history"]
    assert "closest of 3 past `git` commands" in findings.anomalies[0].text
    # a namespace or pod name that varies is not "unlike"
    assert codes(judge("kubectl get pods -n web")) == []


def test_a_denied_command_does_not_make_a_program_known(history: AuditLog) -> None:
    record(history, "nmap -sS 10.0.0.0/8", NOW - timedelta(hours=1), decision="denied")
    assert codes(judge("nmap -sS 10.0.0.0/8")) == ["new_program"]


def test_burst_far_above_the_sessions_own_rate(history: AuditLog) -> None:
    # One command every 4 minutes for two hours, then 12 in the last 40 seconds.
    for i in range(30):
        record(history, "git status", NOW - timedelta(minutes=120 - 4 * i), session="agent-1")
    quiet = judge("git status", session="agent-1")
    assert codes(quiet) == []
    for i in range(12):
        record(history, "git status", NOW - timedelta(seconds=40 - 3 * i), session="agent-1")
    findings = judge("git status", session="agent-1")
    assert codes(findings) == ["burst"]
    assert "13 commands in the last minute in this session" in findings.anomalies[0].text
    assert codes(judge("git status", session="agent-2")) == []  # another session is calm


def test_a_steady_fast_session_is_not_a_burst(history: AuditLog) -> None:
    # 12 a minute for half an hour is this session's own pace.
    start = NOW - timedelta(minutes=30)
    for i in range(360):
        record(history, "npm test", start + timedelta(seconds=5 * i), session="fast")
    assert codes(judge("npm test", session="fast")) == []


def test_little_history_says_so_instead_of_flagging(log: AuditLog) -> None:
    write_history(log, days=2, per_day=3)
    findings = judge("terraform destroy", at=NOW.replace(hour=3))
    assert findings.anomalies == ()
    [note] = findings.notes
    assert note == (
        "little history (6 commands on 2 days): new programs and targets, similarity from 20; "
        "time of day from 50 over 5 days"
    )
    empty = judge("ls", log=AuditLog.open(log.directory.parent / "never-written"))
    assert empty.anomalies == () and empty.history == 0 and empty.notes


def test_anomalies_raise_the_score_with_reasons(history: AuditLog) -> None:
    command = "terraform apply"
    findings = judge(command, at=NOW.replace(hour=3))
    base = score_command(command)
    raised = anomaly.apply_findings(base, findings)
    assert raised.score == base.score + 20
    assert raised.anomalies == findings.texts and len(raised.anomalies) == 2
    assert [r.code for r in raised.reasons[-2:]] == ["anomaly:off_hours", "anomaly:new_program"]
    many = anomaly.Findings(tuple(anomaly.Anomaly("burst", f"b{i}", 15) for i in range(4)))
    assert anomaly.apply_findings(base, many).score == base.score + anomaly.MAX_ANOMALY_POINTS


@pytest.mark.parametrize(
    ("strict", "off_hours", "expected"),
    [
        (True, False, ("first-ever program: x",)),
        (False, True, ()),
        ("auto", False, ()),
        ("auto", True, ("first-ever program: x",)),  # the off-hours finding itself does not count
    ],
)
def test_strict_triggers(strict: bool | str, off_hours: bool, expected: tuple[str, ...]) -> None:
    found = [anomaly.Anomaly("new_program", "first-ever program: x", 10)]
    if off_hours:
        found.insert(0, anomaly.Anomaly("off_hours", "off-hours: 03:00", 10))
    findings = anomaly.Findings(tuple(found), off_hours=off_hours)
    if strict is True and off_hours:
        expected = ("off-hours: 03:00", *expected)
    assert anomaly.strict_triggers(findings, strict) == expected


def test_the_profile_is_updated_incrementally(
    history: AuditLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = ProfileCache(tz=UTC)
    built = cache.current(history)
    first = built.decisions
    folded: list[int] = []
    original = Profile.add

    def counting(self: Profile, r: dict[str, object]) -> None:
        folded.append(int(r["seq"]))  # type: ignore[call-overload]
        original(self, r)

    monkeypatch.setattr(Profile, "add", counting)
    assert cache.current(history) is built and folded == []  # nothing new: nothing read
    record(history, "terraform plan", NOW - timedelta(minutes=1))
    record(history, "terraform plan", NOW - timedelta(seconds=30))
    again = cache.current(history)
    assert again is built and len(folded) == 2 and again.decisions == first + 2
    assert "terraform" in again.programs


def test_a_replaced_log_is_read_again(history: AuditLog, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(profile, "PATH_CHECK_SECONDS", 0.0)  # else checked once a second
    cache = ProfileCache(tz=UTC)
    before = cache.current(history).decisions
    for path in history.segments():
        path.unlink()
    (history.directory / "head.json").unlink()
    record(history, "ls", NOW)
    assert before > 1 and cache.current(history).decisions == 1


def test_the_initial_build_reads_only_the_newest_records(history: AuditLog) -> None:
    small = ProfileCache(max_records=50, tz=UTC).current(history)
    assert small.decisions == 50


def test_the_gate_flags_and_fails_closed_on_an_unreadable_history(
    history: AuditLog, monkeypatch: pytest.MonkeyPatch, utc: None
) -> None:
    monkeypatch.setattr(gate, "_profiles", None)
    ev = gate.evaluate("terraform apply", "/srv/app", now=NOW)
    assert ev.anomalies and "first-ever program: terraform" in ev.anomalies[0]
    assert any(r.startswith("anomaly: first-ever program") for r in ev.reasons)
    segment = history.segments()[-1]
    with segment.open("ab") as fh:
        fh.write(b"not a record\n")
    monkeypatch.setattr(gate, "_profiles", None)
    broken = gate.evaluate("ls", "/srv/app", now=NOW)
    assert broken.action == "ask"  # not denied, but nothing passes by threshold
    assert "the history cannot be read" in broken.anomalies[0]


def test_the_clock_can_be_injected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(profile.ENV_TEST_NOW, "2025-03-12T03:00:00+01:00")
    assert profile.current_time() == datetime(2025, 3, 12, 2, 0, tzinfo=UTC)
    monkeypatch.delenv(profile.ENV_TEST_NOW)
    assert abs((profile.current_time() - datetime.now(UTC)).total_seconds()) < 5
