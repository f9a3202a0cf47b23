"""An agent reaching expacti's own controls scores CRITICAL however it names the program."""

from __future__ import annotations

import pytest

from expacti_cli.risk import score_command
from expacti_cli.risk.model import Level


@pytest.mark.parametrize(
    "command",
    [
        "expacti approve 7f3a",
        "expacti deny 7f3a --reason ok",
        "python -m expacti_cli approve 7f3a",
        "python3 -m expacti_cli deny 7f3a",
        "/srv/app/.venv/bin/python -m expacti_cli whitelist add --kind prefix rm",
        "python3.11 -m expacti_cli.__main__ config set auto_approve_below 100",
        "sudo python3 -m expacti_cli approve 7f3a",
    ],
)
def test_reaching_expacti_controls_is_critical(command: str) -> None:
    score = score_command(command)
    assert score.level is Level.CRITICAL, score
    assert any(r.code == "mod:expacti_tamper" for r in score.reasons)


@pytest.mark.parametrize(
    "command",
    ["python3 -m expacti_cli whitelist list", "python -m pytest -q", "expacti score 'ls'"],
)
def test_reading_expacti_state_is_not_tampering(command: str) -> None:
    score = score_command(command)
    assert not any(r.code == "mod:expacti_tamper" for r in score.reasons)


def test_a_rule_or_the_threshold_never_lets_expacti_changes_through() -> None:
    from datetime import UTC, datetime

    from expacti_cli.analysis import analyze
    from expacti_cli.matching import Rule, RuleAction, RuleKind
    from expacti_cli.policy import Action, decide

    command = "expacti whitelist add --kind prefix rm"
    analysis = analyze(command)
    rule = Rule(id="r1", pattern=command, kind=RuleKind.EXACT, action=RuleAction.ALLOW)
    decision = decide(
        analysis,
        score_command(command),
        [rule],
        cwd="/srv",
        now=datetime.now(UTC),
        auto_approve_below=100,
    )
    assert decision.action is Action.ASK
    assert "changes expacti itself" in decision.reason


@pytest.mark.parametrize(
    ("command", "hidden"), [("fc -s", True), ("fc -s git=rm", True), ("fc", True), ("fc -l", False)]
)
def test_history_reruns_are_treated_as_hidden_code(command: str, hidden: bool) -> None:
    # `fc -s` re-runs an earlier command: the reviewer never sees what would run.
    score = score_command(command)
    assert (score.level in (Level.HIGH, Level.CRITICAL)) is hidden, score
