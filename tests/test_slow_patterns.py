"""User regexes (rules and risk patterns) that backtrack catastrophically must not stall the gate.

A rule is refused when its pattern is slow on probe texts; a stored slow pattern that gets past
that (an older rules file, a hand edit) times out per match, and a timeout counts against the
command: a deny rule denies, an allow rule does not allow, a risk pattern adds its score.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rules_helpers import NOW, rule, simple

from expacti_cli.analysis import analyze
from expacti_cli.matching import (
    RuleKind,
    RulePatternError,
    match_command,
    validate_pattern,
)
from expacti_cli.risk import score_analysis
from expacti_cli.risk.model import CustomPattern, RiskSettings

EVIL = r"echo (a|aa)+"  # slow on "echo aaaa…!" (the `regex` module defuses `(a+)+`)
# Slow on this text: a run of a's that does not end the way the pattern wants.
SLOW_TEXT = "echo " + "a" * 40 + "!"


def test_a_slow_regex_rule_is_refused_when_added() -> None:
    with pytest.raises(RulePatternError, match="too long"):
        validate_pattern(RuleKind.REGEX, EVIL)


def test_ordinary_regexes_are_accepted() -> None:
    for pattern in (r"git (status|log)( .*)?", r"npm (test|run lint)", r"ls( -[a-z]+)*( \S+)*"):
        validate_pattern(RuleKind.REGEX, pattern)


def test_a_stored_slow_allow_regex_does_not_allow_and_returns_quickly() -> None:
    rules = [rule(EVIL, "regex")]
    start = time.monotonic()
    m = match_command(simple(SLOW_TEXT), rules, cwd=None, now=NOW)
    assert not m.allowed
    assert time.monotonic() - start < 5  # without the timeout this takes hours


def test_a_stored_slow_deny_regex_denies() -> None:
    rules = [rule(EVIL, "regex", action="deny"), rule(SLOW_TEXT)]
    m = match_command(simple(SLOW_TEXT), rules, cwd=None, now=NOW)
    assert m.denied


def test_a_slow_risk_pattern_counts_as_a_match() -> None:
    settings = RiskSettings(patterns=(CustomPattern("slow", r"(a|aa)+$", 90, "slow pattern"),))
    start = time.monotonic()
    score = score_analysis(analyze(SLOW_TEXT), settings)
    assert time.monotonic() - start < 5
    assert score.score >= 90
    assert any(r.code == "custom:slow" for r in score.reasons)


def test_whitelist_add_refuses_a_slow_regex(run_cli: Callable[..., Any]) -> None:
    result = run_cli("whitelist", "add", "--kind", "regex", EVIL)
    assert result.returncode == 1, result.stderr
    assert "too long" in result.stderr
    listed = run_cli("whitelist", "list", "--json")
    assert "(a|aa)" not in listed.stdout


def test_config_refuses_a_slow_risk_pattern(run_cli: Callable[..., Any], expacti_home: Any) -> None:
    config = Path(run_cli("config", "path").stdout.strip())
    config.parent.mkdir(parents=True, exist_ok=True)
    with config.open("w") as fh:
        fh.write('[[risk.patterns]]\nname = "slow"\nregex = "(a|aa)+$"\nscore = 50\n')
    result = run_cli("score", "echo hi")
    assert result.returncode == 1
    assert "risk.patterns" in result.stderr and "too long" in result.stderr
