"""policy.decide: deny rule > allow rule > threshold > ask."""

from __future__ import annotations

import pytest
from rules_helpers import NOW, analysis, part, rule, simple

from expacti_cli.analysis.model import Analysis
from expacti_cli.policy import Action, Via, decide
from expacti_cli.risk.model import Level, Score


def score(n: int, *, anomalies: tuple[str, ...] = (), unparsed: bool = False) -> Score:
    return Score(
        command="x",
        score=n,
        level=Level.of(n),
        summary="test",
        reasons=(),
        unparsed=unparsed,
        anomalies=anomalies,
    )


RULES = [
    rule("npm test", rid="T"),
    rule("git log", "prefix", rid="L"),
    rule("rm", "prefix", "deny", rid="D"),
]

# (command analysis, score, auto_approve_below, action, via)
CASES = [
    (simple("npm test"), 10, 0, Action.ALLOW, Via.RULE),
    (simple("npm test && git log -3"), 10, 0, Action.ALLOW, Via.RULE),
    (simple("npm test && rm -rf ~"), 97, 0, Action.DENY, Via.RULE),
    (simple("npm test && ls"), 5, 0, Action.ASK, Via.DEFAULT),  # threshold off by default
    (simple("npm test && ls"), 5, 20, Action.ALLOW, Via.THRESHOLD),
    (simple("ls"), 20, 20, Action.ASK, Via.DEFAULT),  # strictly below
    (simple("ls"), 19, 20, Action.ALLOW, Via.THRESHOLD),
    (simple("rm x"), 5, 50, Action.DENY, Via.RULE),  # deny beats threshold
    (simple("git log"), 99, 0, Action.ALLOW, Via.RULE),  # a rule allows whatever the score
]


@pytest.mark.parametrize(("a", "n", "below", "action", "via"), CASES)
def test_decide(a: Analysis, n: int, below: int, action: Action, via: Via) -> None:
    d = decide(a, score(n), RULES, cwd="/", now=NOW, auto_approve_below=below)
    assert (d.action, d.via) == (action, via)
    assert d.score == n and d.level == Level.of(n).value


BLOCKED_FROM_THRESHOLD = [
    ("unparsed", Analysis(source="ls ((", parts=(part("ls"),), unparsed=True), score(3)),
    ("unparsed score", simple("ls"), score(3, unparsed=True)),
    ("obfuscated", analysis(part("echo aGk= | base64 -d", obfuscated=True)), score(3)),
    ("anomalies", simple("ls"), score(3, anomalies=("first command of the session at 3am",))),
    ("no command", Analysis(source=""), score(0)),
]


@pytest.mark.parametrize(
    ("why", "a", "s"), BLOCKED_FROM_THRESHOLD, ids=[c[0] for c in BLOCKED_FROM_THRESHOLD]
)
def test_threshold_never_passes(why: str, a: Analysis, s: Score) -> None:
    d = decide(a, s, [], cwd="/", now=NOW, auto_approve_below=50)
    assert d.action is Action.ASK
    assert "not auto-approved" in d.reason


def test_decision_explains_parts_and_rule_ids() -> None:
    d = decide(simple("npm test && rm -rf ~"), score(97), RULES[:2], cwd="/", now=NOW)
    assert d.action is Action.ASK
    assert d.reason == "ask (CRITICAL 97): part 2 not covered by any rule"
    assert d.part_rule_ids == ("T", "")
    assert d.rule_ids == ()
    js = d.to_json()
    assert js["action"] == "ask"
    parts = js["parts"]
    assert isinstance(parts, list)
    assert [p["rule_id"] for p in parts] == ["T", None]

    d = decide(simple("npm test && rm -rf ~"), score(97), RULES, cwd="/", now=NOW)
    assert d.rule_ids == ("D",)
    assert d.reason.startswith("part 2 is denied by rule D")

    d = decide(simple("npm test && git log"), score(10), RULES, cwd="/", now=NOW)
    assert d.rule_ids == ("T", "L")


def test_whole_line_deny_reason() -> None:
    a = Analysis(source="echo ((", unparsed=True)
    d = decide(
        a, score(50, unparsed=True), [rule("echo ((", action="deny", rid="W")], cwd="/", now=NOW
    )
    assert d.action is Action.DENY
    assert "whole command" in d.reason and "W" in d.reason
