"""Property tests for the anomaly engine: any history, any command, never a crash, never a
lower score, and an anomaly always keeps a command from passing by threshold (issue 5)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from expacti_cli.analysis import analyze
from expacti_cli.learn.anomaly import apply_findings, find_anomalies, strict_triggers
from expacti_cli.learn.profile import Profile
from expacti_cli.policy import Action, Via, decide
from expacti_cli.risk import score_command

START = datetime(2025, 1, 1, tzinfo=UTC)
SHELLISH = st.text(
    alphabet=st.sampled_from(list("abcdefgh rm-f/.|&;$()`'\"\\<>*0123456789\n\t") + ["\x1b", "é"]),
    max_size=60,
)
ANY_VALUE = st.one_of(
    st.none(), st.booleans(), st.integers(), st.text(max_size=20), st.lists(st.text(max_size=10))
)


@st.composite
def records(draw: st.DrawFn) -> dict[str, Any]:
    """A decision record as the log holds it, or one with any field broken."""
    at = START + timedelta(minutes=draw(st.integers(0, 60 * 24 * 60)))
    record: dict[str, Any] = {
        "kind": draw(st.sampled_from(["decision", "decision", "exit", "rule_added"])),
        "command": draw(SHELLISH),
        "decision": draw(
            st.sampled_from(["approved", "denied", "auto_approved_rule", "timed_out", "x"])
        ),
        "session": draw(st.sampled_from(["", "s1", "s2", None])),
        "requested_at": at.isoformat(),
        "reasons": draw(st.lists(st.sampled_from(['production target: "prod-a"', "x"]))),
        "seq": draw(st.integers(0, 10**6)),
    }
    for name in draw(st.lists(st.sampled_from(sorted(record)), max_size=2)):
        record[name] = draw(ANY_VALUE)
    return record


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    history=st.lists(records(), max_size=40),
    command=SHELLISH,
    minutes=st.integers(0, 60 * 24 * 60),
    session=st.sampled_from(["", "s1", "s3"]),
)
def test_never_crashes_and_never_lowers_a_score(
    history: list[dict[str, Any]], command: str, minutes: int, session: str
) -> None:
    profile = Profile(tz=UTC)
    for record in history:
        profile.add(record)
    analysis = analyze(command)
    score = score_command(command)
    findings = find_anomalies(
        analysis, score, profile, now=START + timedelta(minutes=minutes), session=session
    )
    raised = apply_findings(score, findings)
    assert score.score <= raised.score <= 100
    assert raised.anomalies == findings.texts
    assert raised.score - score.score <= 25
    for strict in (True, False, "auto"):
        assert set(strict_triggers(findings, strict)) <= set(findings.texts)
    decision = decide(analysis, raised, [], cwd="/", now=START, auto_approve_below=100)
    if findings.anomalies:
        assert not (decision.action is Action.ALLOW and decision.via is Via.THRESHOLD)


@settings(max_examples=100, deadline=None)
@given(history=st.lists(records(), min_size=1, max_size=30))
def test_the_profile_counts_only_command_decisions(history: list[dict[str, Any]]) -> None:
    profile = Profile(tz=UTC)
    for record in history:
        profile.add(record)
    assert 0 <= profile.commands_run <= profile.decisions <= len(history)
    assert sum(profile.hours) == profile.decisions
    assert sum(profile.per_minute.values()) <= profile.decisions
