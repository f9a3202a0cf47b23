"""Rule suggestions from synthetic histories written through the real audit log.

Each check re-derives what a user would verify with the real matcher (`match_command`), not
with the suggester's own bookkeeping: which approvals the rules cover, and that no denied or
riskier command from history passes.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from suggest_support import BYPASSES, DENIED, record, routine_history, write_history

from expacti_cli.analysis import analyze
from expacti_cli.learn.history import DecisionRecord, iter_decisions, level_rank
from expacti_cli.learn.suggest import (
    SuggestReport,
    eligibility,
    glob_word,
    suggest_rules,
    word_shape,
)
from expacti_cli.matching import Rule, RuleAction, RuleKind, match_command
from expacti_cli.risk import score_command
from expacti_cli.store.audit import AuditLog

NOW = datetime.now(UTC)


def _risk_of(command: str) -> tuple[int, str]:
    score = score_command(command)
    return score.score, score.level.value


def suggest(log: AuditLog, **kwargs: object) -> SuggestReport:
    kwargs.setdefault("risk_of", _risk_of)
    return suggest_rules(iter_decisions(log), now=datetime.now(UTC), **kwargs)  # type: ignore[arg-type]


def rules_of(report: SuggestReport) -> list[Rule]:
    return [
        Rule(id=f"r{n}", pattern=s.rule.pattern, kind=s.rule.kind)
        for n, s in enumerate(report.suggestions)
    ]


def allowed(command: str, rules: list[Rule]) -> bool:
    return match_command(analyze(command), rules, cwd="/home/dev/project", now=NOW).allowed


def described(report: SuggestReport) -> set[tuple[str, str]]:
    return {(s.rule.kind.value, s.rule.pattern) for s in report.suggestions}


# ---------------------------------------------------------------------------------------------
# The acceptance test


def test_300_approvals_of_12_families_are_covered_without_allowing_anything_denied() -> None:
    log = AuditLog.open()
    write_history(log, routine_history(approvals=300), fsync=False)
    history = list(iter_decisions(log))
    report = suggest(log)
    rules = rules_of(report)

    approvals = [d for d in history if d.decision == "approved"]
    assert len(approvals) == 300
    covered = sum(allowed(d.command, rules) for d in approvals)
    assert covered / len(approvals) >= 0.8, (covered, described(report))
    assert report.covered == covered

    for d in history:
        if d.decision == "denied":
            assert not allowed(d.command, rules), d.command
    for s, rule in zip(report.suggestions, rules, strict=True):
        for d in history:
            if d.level_rank > level_rank(s.level):
                assert not allowed(d.command, [rule]), (s.rule.pattern, d.command)
        assert s.rule.action is RuleAction.ALLOW
        assert s.rule.source == "suggestion"
        assert s.approvals >= 3
        assert 1 <= len(s.examples) <= 3
        assert all(allowed(e, [rule]) for e in s.examples)


def test_generalises_only_what_varies() -> None:
    log = AuditLog.open()
    write_history(log, routine_history(approvals=300)[:300], fsync=False)
    found = described(suggest(log))
    assert ("prefix", "docker logs") in found
    assert ("glob", "kubectl get pods -n *") in found
    assert ("glob", "git checkout feature/*") in found
    assert ("glob", "pytest tests/test_*.py") in found
    assert ("glob", "cat logs/app-*.log") in found
    assert ("exact", "git status") in found
    assert ("exact", "npm test") in found


def test_several_free_arguments_become_one_glob_but_a_few_choices_split() -> None:
    log = AuditLog.open()
    entries = [(f"git diff HEAD~{n} -- src/m{n * 7 % 11}.py", "approved") for n in range(1, 9)]
    entries += [
        (f"kubectl get {kind} -n team-{n}", "approved")
        for kind in ("pods", "svc")
        for n in range(6)
    ]
    write_history(log, entries, fsync=False)
    found = described(suggest(log))
    assert ("glob", "git diff HEAD~* -- src/m*.py") in found
    assert ("glob", "kubectl get pods -n team-*") in found
    assert ("glob", "kubectl get svc -n team-*") in found
    assert not any("get *" in pattern for _, pattern in found)


def test_each_suggestion_lists_what_it_must_not_match() -> None:
    log = AuditLog.open()
    write_history(log, routine_history(approvals=120), fsync=False)
    report = suggest(log)
    status = next(s for s in report.suggestions if s.rule.pattern == "git status")
    shown = {f.command for f in status.must_not_match}
    assert "git status; rm -rf /" in shown  # denied, and starts like the rule
    assert all(
        f.denied or level_rank(f.level) > level_rank(status.level) for f in status.must_not_match
    )
    assert status.forbidden_checked >= len(DENIED)
    assert status.examples == ("git status",)
    assert len(status.record_ids) == status.approvals == 10
    stored = {r["id"] for r in log.iter_records() if r.get("command") == "git status"}
    assert set(status.record_ids) == stored


# ---------------------------------------------------------------------------------------------
# What gets dropped


def test_a_denied_command_drops_the_wider_rule_and_keeps_narrower_ones() -> None:
    log = AuditLog.open()
    entries = [(f"kubectl get pods -n {ns}", "approved") for ns in ("dev", "qa") * 5]
    entries.append(("kubectl get pods -n prod", "denied"))
    write_history(log, entries, fsync=False)
    report = suggest(log)
    assert described(report) == {
        ("exact", "kubectl get pods -n dev"),
        ("exact", "kubectl get pods -n qa"),
    }
    dropped = {(d.rule.pattern, d.reason) for d in report.dropped}
    assert any(p == "kubectl get pods -n *" and "prod" in why for p, why in dropped)
    assert not allowed("kubectl get pods -n prod", rules_of(report))


def test_a_riskier_command_in_history_drops_a_rule_that_would_allow_it() -> None:
    log = AuditLog.open()
    with_history = [(f"docker logs web-{n}", "approved") for n in range(6)]
    write_history(log, with_history, fsync=False)
    # Approved once, but scored MEDIUM: a LOW rule must not let it through.
    record(log, "docker logs billing-db", "approved", score=45, level="MEDIUM")
    report = suggest(log, risk_of=None)
    rules = rules_of(report)
    assert not allowed("docker logs billing-db", rules)
    assert ("prefix", "docker logs") not in described(report)
    assert ("glob", "docker logs web-*") in described(report)  # narrower, still useful


def test_a_probe_that_scores_higher_drops_the_rule() -> None:
    log = AuditLog.open()
    write_history(log, [(f"npm run {s}", "approved") for s in ("test", "lint", "build") * 4])
    report = suggest(log)
    assert ("prefix", "npm run") not in described(report)
    assert any("npm run prod" in d.reason for d in report.dropped)
    assert described(report) == {
        ("exact", "npm run test"),
        ("exact", "npm run lint"),
        ("exact", "npm run build"),
    }


def test_rules_never_let_through_denied_compounds_built_from_two_suggestions() -> None:
    log = AuditLog.open()
    entries = [("git status", "approved")] * 5 + [("npm test", "approved")] * 5
    entries.append(("git status && npm test", "denied"))
    write_history(log, entries, fsync=False)
    report = suggest(log)
    rules = rules_of(report)
    assert not allowed("git status && npm test", rules)
    assert len(report.suggestions) == 1  # the second rule would complete the denied line


def test_scoped_rules_in_force_count_in_their_directory() -> None:
    log = AuditLog.open()
    write_history(log, [("npm test", "approved")] * 5, fsync=False)
    record(log, "git status && npm test", "denied", cwd="/srv/app")
    existing = [Rule(id="have", pattern="git status", scope="/srv/app")]
    report = suggest(log, existing=existing)
    assert report.suggestions == ()
    assert any("in /srv/app" in d.reason for d in report.dropped)


# ---------------------------------------------------------------------------------------------
# What never gets a rule


@pytest.mark.parametrize("command", BYPASSES)
def test_bypass_commands_approved_again_and_again_never_get_a_rule(command: str) -> None:
    log = AuditLog.open()
    write_history(log, [(command, "approved")] * 6, fsync=False)
    report = suggest(log, min_count=1)
    assert report.suggestions == ()
    assert sum(report.skipped.values()) + report.already_allowed == 6


@pytest.mark.parametrize(
    ("command", "why"),
    [
        ("bash deploy.sh", "a shell"),
        ("python3 manage.py migrate", "an interpreter"),
        ("sudo apt update", "wrapper"),
        ("xargs -n1 echo", "wrapper"),
        ("npx prettier --write .", "a package runner"),
        ("npm exec prettier", "a package runner"),
        ("eval echo hi", "evaluates code"),
        ("python3 -c 'print(1)'", "evaluates code"),
        ("git status && git diff", "compound"),
        ("expacti whitelist add --kind prefix rm", "expacti itself"),
    ],
)
def test_eligibility_says_why(command: str, why: str) -> None:
    part, reason, _ = eligibility(analyze(command))
    assert part is None
    assert why in reason


def test_writes_and_sql_changes_get_exact_rules_only() -> None:
    log = AuditLog.open()
    entries = [(f"echo {n} > out-{n}.txt", "approved") for n in range(5)] * 2
    entries += [("psql dev -c 'UPDATE jobs SET state = 1 WHERE id = 2'", "approved")] * 4
    write_history(log, entries, fsync=False)
    report = suggest(log)
    assert {s.rule.kind for s in report.suggestions} == {RuleKind.EXACT}
    assert ("exact", "psql dev -c 'UPDATE jobs SET state = 1 WHERE id = 2'") in described(report)


# ---------------------------------------------------------------------------------------------
# Options


def test_min_count_and_since() -> None:
    log = AuditLog.open()
    write_history(log, [("make lint", "approved")] * 4, fsync=False)
    middle = datetime.now(UTC)
    time.sleep(0.01)  # the log keeps milliseconds: nothing below may share one with `middle`
    write_history(log, [("make docs", "approved")] * 2, fsync=False)
    assert described(suggest(log)) == {("exact", "make lint")}
    assert described(suggest(log, min_count=2)) == {("exact", "make lint"), ("exact", "make docs")}
    assert described(suggest(log, min_count=2, since=middle)) == {("exact", "make docs")}
    assert suggest(log, since=middle + timedelta(hours=1)).approvals == 0


def test_commands_the_rules_already_allow_are_not_suggested_again() -> None:
    log = AuditLog.open()
    write_history(log, [("git status", "approved")] * 5 + [("npm test", "approved")] * 5)
    existing = [Rule(id="have", pattern="git status")]
    report = suggest(log, existing=existing)
    assert described(report) == {("exact", "npm test")}
    assert report.already_allowed == 5
    assert report.coverage == 1.0


def test_an_existing_allow_rule_counts_when_checking_compounds() -> None:
    log = AuditLog.open()
    entries = [("npm test", "approved")] * 5 + [("git status && npm test", "denied")]
    write_history(log, entries, fsync=False)
    existing = [Rule(id="have", pattern="git status")]
    report = suggest(log, existing=existing)
    assert report.suggestions == ()  # with the rule in force it would allow the denied line


# ---------------------------------------------------------------------------------------------
# Pieces


@pytest.mark.parametrize(
    ("values", "word"),
    [
        (["api-7d9f", "web-1a2b"], "*"),
        (["feature/login", "feature/pay"], "feature/*"),
        (["tests/test_a.py", "tests/test_b.py"], "tests/test_*.py"),
        (["team-a-staging", "team-b-staging"], "team-*-staging"),
        (["a/b", "c"], None),  # a `*` never spans a `/`
        (["-f", "x"], None),  # options are never a wildcard's
        (["x*", "y"], None),
        (["../a", "../b"], None),
    ],
)
def test_glob_word(values: list[str], word: str | None) -> None:
    assert glob_word(values) == word


@pytest.mark.parametrize(
    ("word", "shape"),
    [
        ("api-7d9f", "api-#"),
        ("HEAD~12", "HEAD~0"),
        ("feature/00a047", "feature/#"),
        ("added", "added"),
    ],
)
def test_word_shape_blanks_ids_and_numbers(word: str, shape: str) -> None:
    assert word_shape(word) == shape


def test_history_reader_gives_every_field() -> None:
    log = AuditLog.open()
    log.append({"kind": "config_set", "key": "x"})
    stored = log.record_decision(
        command=b"ls \xff",
        decision="approved",
        session="s9",
        source="exec",
        cwd="/srv/app",
        score=12,
        level="LOW",
        reviewer="ann",
        requested_at="2024-05-01T12:00:00.000Z",
        decided_at="2024-05-01T12:00:02.500Z",
    )
    log.record_decision(command="x", decision="approved", extra={"carried_from": stored["id"]})
    seen: list[tuple[int, int]] = []
    decisions = list(iter_decisions(log, progress=lambda done, total: seen.append((done, total))))
    assert [d.command for d in decisions] == ["ls \udcff", "x"]
    d = decisions[0]
    assert isinstance(d, DecisionRecord)
    assert (d.id, d.session, d.source, d.cwd, d.score, d.level) == (
        stored["id"],
        "s9",
        "exec",
        "/srv/app",
        12,
        "LOW",
    )
    assert d.reviewer == "ann" and d.review_ms == 2500 and d.human_approved
    assert d.time is not None and d.time.tzinfo is not None
    assert decisions[1].carried and not decisions[1].human_approved
    assert decisions[1].level == "" and decisions[1].level_rank == -1
    assert seen[-1] == (4, 4)  # genesis, config_set and two decisions
    newest = list(iter_decisions(log, reverse=True, since=d.time))
    assert [x.command for x in newest] == ["x", "ls \udcff"]
