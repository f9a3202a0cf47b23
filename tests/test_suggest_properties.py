"""Property tests: for random histories, no suggestion ever allows what it must not.

Histories mix routine commands with random arguments, the bypass cases of design-notes §5
and commands that were denied or scored higher. Whatever the mix, accepting every
suggestion must never allow a denied command, a command scored above the level of the rule
that allows it, or a bypass command; and no suggested pattern may hold a bypass construct.
"""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from suggest_support import BYPASSES, no_fsync, record

from expacti_cli.analysis import analyze
from expacti_cli.commands.whitelist_suggest import accept
from expacti_cli.learn.history import DecisionRecord, iter_decisions, level_rank
from expacti_cli.learn.suggest import suggest_rules
from expacti_cli.matching import Rule, RuleKind, match_command, pattern_words
from expacti_cli.risk import score_command
from expacti_cli.store.audit import AuditLog
from expacti_cli.store.rules import RulesStore

NOW = datetime.now(UTC)
LEVELS = ("LOW", "MEDIUM", "HIGH", "CRITICAL")

_word = st.sampled_from(["api", "web", "prod", "dev", "x1", "main", "feature/a", "-f", "--all"])
_routine = st.one_of(
    st.builds(lambda w: f"docker logs {w}", _word),
    st.builds(lambda a, b: f"docker logs {a} {b}", _word, _word),
    st.builds(lambda w: f"kubectl get pods -n {w}", _word),
    st.builds(lambda w: f"git checkout {w}", _word),
    st.builds(lambda w: f"git push origin {w}", _word),
    st.builds(lambda w: f"cat logs/{w}.log", _word),
    st.builds(lambda w: f"rm -rf {w}", _word),
    st.builds(lambda w: f"npm run {w}", _word),
    st.sampled_from(["git status", "npm test", "make check", "ls -la"]),
)
_command = st.one_of(_routine, _routine, st.sampled_from(BYPASSES))
_decision = st.sampled_from(["approved", "approved", "approved", "denied", "auto_approved_rule"])
_level = st.one_of(st.none(), st.sampled_from(LEVELS))  # None: what the real scorer says
# A few distinct commands, each decided many times, the way an agent's history looks.
_history = st.lists(_command, min_size=1, max_size=10, unique=True).flatmap(
    lambda pool: st.lists(
        st.tuples(st.sampled_from(pool), _decision, _level), min_size=1, max_size=60
    )
)

BYPASS_MARKS = (";", "&&", "||", "|", "$(", "`", "<(", "$", "\n")
NEVER_PROGRAMS = {"sudo", "bash", "sh", "eval", "xargs", "npx", "env", "python3", "node", "timeout"}


def _decisions(entries: list[tuple[str, str, str | None]]) -> list[DecisionRecord]:
    out = []
    for n, (command, decision, level) in enumerate(entries):
        score = score_command(command)
        lvl = level or score.level.value
        out.append(
            DecisionRecord(
                id=f"{n:032x}",
                seq=n + 1,
                time=NOW,
                command=command,
                cwd="/w",
                decision=decision,
                score={"LOW": 10, "MEDIUM": 40, "HIGH": 70, "CRITICAL": 90}[lvl]
                if level
                else score.score,
                level=lvl,
            )
        )
    return out


def _allowed(command: str, rules: list[Rule]) -> bool:
    return match_command(analyze(command), rules, cwd="/w", now=NOW).allowed


def _check(decisions: list[DecisionRecord], rules: list[tuple[Rule, str]]) -> None:
    together = [r for r, _ in rules]
    for d in decisions:
        if d.denied:
            assert not _allowed(d.command, together), (d.command, together)
    for rule, level in rules:
        assert rule.kind is RuleKind.EXACT or not (
            set(pattern_words(rule.pattern)[:1]) & NEVER_PROGRAMS
        ), rule
        for d in decisions:
            if d.level_rank > level_rank(level):
                assert not _allowed(d.command, [rule]), (rule, d.command, d.level)
    for bypass in BYPASSES:
        assert not _allowed(bypass, together), (bypass, together)
    for rule, _ in rules:
        if rule.kind is not RuleKind.EXACT:
            assert not any(mark in rule.pattern for mark in BYPASS_MARKS), rule
        else:
            assert rule.pattern not in BYPASSES, rule


def _risk_of(command: str) -> tuple[int, str]:
    score = score_command(command)
    return score.score, score.level.value


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_history, st.integers(min_value=1, max_value=3), st.booleans())
def test_suggestions_never_allow_what_history_refused(
    entries: list[tuple[str, str, str | None]], min_count: int, probes: bool
) -> None:
    decisions = _decisions(entries)
    report = suggest_rules(
        decisions, now=NOW, min_count=min_count, risk_of=_risk_of if probes else None
    )
    rules = [
        (Rule(id=f"r{n}", pattern=s.rule.pattern, kind=s.rule.kind), s.level)
        for n, s in enumerate(report.suggestions)
    ]
    _check(decisions, rules)
    assert report.covered <= report.approvals
    for s in report.suggestions:
        assert s.approvals >= min_count
        assert len(s.record_ids) == s.approvals


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_history)
def test_accepted_suggestions_never_allow_what_the_log_refused(
    entries: list[tuple[str, str, str | None]],
) -> None:
    """The whole path: records written by the real AuditLog, rules added by `accept`."""
    saved = os.environ.get("EXPACTI_HOME")
    with tempfile.TemporaryDirectory() as home, no_fsync():
        os.environ["EXPACTI_HOME"] = home
        try:
            log = AuditLog.open(Path(home) / "audit")
            for command, decision, level in entries:
                if level is None:
                    record(log, command, decision)
                else:
                    score = {"LOW": 10, "MEDIUM": 40, "HIGH": 70, "CRITICAL": 90}[level]
                    record(log, command, decision, score=score, level=level)
            decisions = list(iter_decisions(log))
            report = suggest_rules(decisions, now=NOW, min_count=2, risk_of=_risk_of)
            added = accept(list(report.suggestions))
            stored = {r.id: r for r in RulesStore().list()}
            rules = [
                (stored[r.id], s.level) for (r, _), s in zip(added, report.suggestions, strict=True)
            ]
            assert len(stored) == len(report.suggestions)
            _check(decisions, rules)
        finally:
            if saved is None:
                os.environ.pop("EXPACTI_HOME", None)
            else:
                os.environ["EXPACTI_HOME"] = saved
