"""`expacti stats` over synthetic histories written through the real AuditLog and RulesStore.

The audit log stamps each record with the time it is written; the tests move that clock (the
log's `utc_now_iso`) to lay records out over past days, then run the real CLI with the
hidden `--now` and a fixed TZ, and check the numbers a user would check.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from expacti_cli.matching import Rule, RuleAction, RuleKind
from expacti_cli.store import audit as audit_module
from expacti_cli.store.audit import AuditLog
from expacti_cli.store.audit_format import iso
from expacti_cli.store.rules import RulesStore

NOW = datetime(2030, 3, 15, 18, 0, tzinfo=UTC)
TZ_ENV = {"TZ": "UTC"}


class History:
    """Writes decision records through the real AuditLog at chosen times (oldest first)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.log = AuditLog.open()
        self.at = NOW - timedelta(days=1)
        monkeypatch.setattr(audit_module, "utc_now_iso", lambda: iso(self.at))

    def add(
        self,
        decision: str,
        *,
        at: datetime | None = None,
        command: str = "make test",
        **fields: Any,
    ) -> dict[str, Any]:
        if at is not None:
            self.at = at
        extra = fields.pop("extra", None)
        return self.log.record_decision(
            command=command, decision=decision, extra=extra, **{"session": "s1", **fields}
        )

    def human(self, decision: str, review_s: float, **fields: Any) -> dict[str, Any]:
        decided = self.at
        requested = decided - timedelta(seconds=review_s)
        return self.add(
            decision,
            reviewer="alice@example.com",
            requested_at=requested,
            decided_at=decided,
            **fields,
        )


@pytest.fixture
def history(monkeypatch: pytest.MonkeyPatch) -> History:
    return History(monkeypatch)


@pytest.fixture
def stats_json(run_cli) -> Callable[..., dict[str, Any]]:  # type: ignore[no-untyped-def]
    def run(*args: str, now: datetime = NOW, env: dict[str, str] | None = None) -> dict[str, Any]:
        result = run_cli("stats", "--json", "--now", iso(now), *args, env=env or TZ_ENV)
        assert result.returncode == 0, result.stderr
        return dict(json.loads(result.stdout))

    return run


def _stats_text(run_cli, *args: str, now: datetime = NOW) -> str:  # type: ignore[no-untyped-def]
    result = run_cli("stats", "--now", iso(now), *args, env=TZ_ENV)
    assert result.returncode == 0, result.stderr
    return str(result.stdout)


def _mixed_history(history: History) -> None:
    """100 commands: 80 auto (70 by two rules, 10 threshold), 10 asked and let run, 10 denied;
    plus 2 plumbing calls and 1 carried approval that are not commands of their own."""
    for i in range(70):
        rule = "aaaa1111" if i < 50 else "bbbb2222"
        history.add("auto_approved_rule", rule_id=rule, extra={"rule_ids": [rule]})
    for _ in range(10):
        history.add("auto_approved_threshold", score=12)
    for seconds in (5, 10, 20, 30, 40, 50, 60, 600):  # 8 approvals
        history.human("approved", seconds)
    for seconds in (15, 25):  # 2 denials by a human
        history.human("denied", seconds)
    for _ in range(3):
        history.add("timed_out", extra={"on_timeout": "deny"})
    history.add("timed_out", extra={"on_timeout": "approve"})
    history.add("withdrawn")
    for _ in range(4):
        history.add("denied", rule_id="cccc3333")
    history.add("denied")  # e.g. the broker stopped while it waited
    history.add("auto_approved_rule", rule_id="agent-plumbing", extra={"plumbing": "snapshot"})
    history.add("auto_approved_rule", rule_id="agent-plumbing", extra={"plumbing": "snapshot"})
    history.add("approved", reviewer="alice@example.com", extra={"carried_from": "f" * 32})


def test_counts_shares_and_the_headline(history: History, stats_json, run_cli) -> None:  # type: ignore[no-untyped-def]
    _mixed_history(history)
    data = stats_json()
    assert data["total"] == 100
    assert data["passed_without_human"] == {"count": 80, "share": 0.8}
    assert data["groups"] == {"auto": 80, "asked": 10, "denied": 10}
    assert data["outcomes"] == {
        "auto_rule": 70,
        "auto_threshold": 10,
        "approved_human": 8,
        "timed_out_approved": 1,
        "withdrawn": 1,
        "denied_human": 2,
        "timed_out_denied": 3,
        "denied_rule": 4,
        "denied_other": 1,
    }
    assert data["asked"] == {"count": 15, "share": 0.15}  # everything that waited for a human
    assert data["denied_by"] == {"rule": 4, "human": 2, "timeout": 3, "other": 1}
    assert data["excluded"] == {"plumbing": 2, "carried": 1}
    assert sum(day["total"] for day in data["per_day"]) == 100

    text = _stats_text(run_cli)
    assert "80.0% of commands passed without a human  (80 of 100)" in text
    assert "auto-approved by a rule" in text and "70.0%" in text
    assert "asked a human" in text and "15.0%" in text
    assert "(rule 4, human 2, timeout 3, other 1)" in text
    assert "2 agent plumbing calls" in text and "1 hook approval carried" in text


def test_median_review_time_counts_only_human_decisions(
    history: History, stats_json, run_cli
) -> None:  # type: ignore[no-untyped-def]
    _mixed_history(history)
    review = stats_json()["review"]
    # 5 10 15 20 25 30 40 50 60 600 s: median of the 10 human decisions is (25 + 30) / 2
    assert review == {"decisions": 10, "median_ms": 27_500, "p90_ms": 60_000}
    assert "median review time" in _stats_text(run_cli)
    assert "28 s" in _stats_text(run_cli)


def test_top_rules_rank_by_hits_and_name_the_rule(history: History, stats_json, run_cli) -> None:  # type: ignore[no-untyped-def]
    store = RulesStore()
    kept, _ = store.add(Rule(id="", pattern="make test", kind=RuleKind.EXACT))
    for _ in range(3):
        history.add("auto_approved_rule", rule_id=kept.id, extra={"rule_ids": [kept.id]})
    for _ in range(5):  # a rule removed since: still counted, shown as removed
        history.add("auto_approved_rule", rule_id="deadbeef", extra={"rule_ids": ["deadbeef"]})
    history.add("denied", rule_id=kept.id)  # a rule that denied also did work
    top = stats_json()["top_rules"]
    assert [(r["id"], r["hits"], r["exists"]) for r in top] == [
        ("deadbeef", 5, False),
        (kept.id, 4, True),
    ]
    assert top[1]["pattern"] == "make test" and top[1]["kind"] == "exact"
    assert [r["id"] for r in stats_json("--top", "1")["top_rules"]] == ["deadbeef"]
    text = _stats_text(run_cli)
    assert "(rule removed since)" in text
    assert "allow exact 'make test'" in text


def test_rules_unused_for_30_days_are_candidates_to_remove(
    history: History, stats_json, run_cli
) -> None:  # type: ignore[no-untyped-def]
    store = RulesStore()
    old = NOW - timedelta(days=90)

    def rule(pattern: str, **fields: Any) -> Rule:
        return store.add(Rule(id="", pattern=pattern, kind=RuleKind.PREFIX, **fields))[0]

    never = rule("terraform plan", created_at=old)
    stale = rule("docker ps", created_at=old)
    store.record_hit([stale.id], now=NOW - timedelta(days=40))
    recent = rule("git status", created_at=old)
    store.record_hit([recent.id], now=NOW - timedelta(days=10))
    in_log = rule("ls", created_at=old)  # no hit counted in the store, but the log has one
    history.add("auto_approved_rule", at=NOW - timedelta(days=20), rule_id=in_log.id)
    rule("npm ci", created_at=NOW - timedelta(days=5))  # too young to judge
    rule("rm -rf", created_at=old, action=RuleAction.DENY)  # a guard, not friction
    rule("make", created_at=old, expires_at=NOW - timedelta(days=1))  # allows nothing anyway

    unused = stats_json()["unused_rules"]
    assert unused["days"] == 30
    assert [r["id"] for r in unused["rules"]] == [never.id, stale.id]  # never used first
    assert unused["rules"][1]["last_used"] == iso(NOW - timedelta(days=40)).replace(".000", "")
    text = _stats_text(run_cli)
    assert "unused for 30 days" in text
    assert "allow prefix 'terraform plan'" in text and "allow prefix 'docker ps'" in text
    assert "'git status'" not in text.split("unused for 30 days")[1]


def test_per_day_buckets_follow_the_local_calendar(history: History, stats_json) -> None:  # type: ignore[no-untyped-def]
    day = timedelta(days=1)
    history.add("auto_approved_rule", at=NOW - 20 * day, rule_id="r")  # before the window
    history.add("auto_approved_rule", at=datetime(2030, 3, 9, 0, 30, tzinfo=UTC), rule_id="r")
    history.add("auto_approved_rule", at=datetime(2030, 3, 12, 23, 30, tzinfo=UTC), rule_id="r")
    history.human("approved", 30)
    history.add("denied", at=datetime(2030, 3, 15, 9, 0, tzinfo=UTC), rule_id="x")
    history.add("auto_approved_threshold", at=datetime(2030, 3, 15, 17, 0, tzinfo=UTC))
    history.add("auto_approved_threshold", at=NOW + timedelta(hours=1))  # after --now

    data = stats_json("--days", "7")
    assert data["days"] == 7 and data["since"] == "2030-03-09T00:00:00Z"
    rows = {d["date"]: (d["auto"], d["asked"], d["denied"]) for d in data["per_day"]}
    assert list(rows) == [f"2030-03-{n:02d}" for n in range(9, 16)]
    assert rows["2030-03-09"] == (1, 0, 0)
    assert rows["2030-03-12"] == (1, 1, 0)
    assert rows["2030-03-15"] == (1, 0, 1)
    assert sum(map(sum, rows.values())) == data["total"] == 5

    # Tokyo is 9 hours ahead: 23:30 UTC on the 12th is the morning of the 13th there, and the
    # 00:30 UTC record of the 9th falls on the 9th, still inside a window starting at its midnight.
    tokyo = stats_json("--days", "7", env={"TZ": "Asia/Tokyo"})
    rows = {d["date"]: d["total"] for d in tokyo["per_day"]}
    assert list(rows)[-1] == "2030-03-16"
    assert rows["2030-03-13"] == 2 and rows["2030-03-12"] == 0
    assert tokyo["since"] == "2030-03-09T15:00:00Z"
    assert tokyo["total"] == 4  # the 9th, 00:30 UTC is before that window


def test_session_option_counts_one_session(history: History, stats_json) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):
        history.add("auto_approved_rule", session="agent-a", rule_id="r")
    history.add("denied", session="agent-b", rule_id="r")
    history.human("approved", 12, session="agent-b")
    data = stats_json("--session", "agent-b")
    assert data["session"] == "agent-b"
    assert data["groups"] == {"auto": 0, "asked": 1, "denied": 1}
    assert data["review"]["median_ms"] == 12_000


def test_json_shape_is_stable(history: History, stats_json) -> None:  # type: ignore[no-untyped-def]
    history.add("auto_approved_rule", rule_id="r")
    data = stats_json()
    assert set(data) == {
        "version",
        "now",
        "since",
        "days",
        "session",
        "total",
        "passed_without_human",
        "groups",
        "shares",
        "outcomes",
        "outcome_shares",
        "asked",
        "denied_by",
        "review",
        "top_rules",
        "unused_rules",
        "per_day",
        "excluded",
    }
    assert data["version"] == 1 and data["now"] == "2030-03-15T18:00:00Z"
    assert data["shares"] == {"auto": 1.0, "asked": 0.0, "denied": 0.0}
    assert set(data["top_rules"][0]) == {
        "id",
        "hits",
        "exists",
        "action",
        "kind",
        "pattern",
        "scope",
        "hits_total",
        "last_used",
        "created_at",
    }
    assert len(data["per_day"]) == 14
    assert set(data["per_day"][0]) == {"date", "auto", "asked", "denied", "total"}


def test_empty_log_says_so_and_succeeds(run_cli, stats_json) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("stats")
    assert result.returncode == 0
    assert "no audit records yet" in result.stdout and "nothing to count" in result.stdout
    data = stats_json()
    assert data["total"] == 0 and data["passed_without_human"] == {"count": 0, "share": 0.0}
    assert data["review"] == {"decisions": 0, "median_ms": None, "p90_ms": None}


def test_no_commands_in_the_period(history: History, run_cli) -> None:  # type: ignore[no-untyped-def]
    history.add("auto_approved_rule", at=NOW - timedelta(days=60), rule_id="r")
    text = _stats_text(run_cli)
    assert "no gated commands in this period" in text


def test_damaged_log_is_an_error_naming_the_file(history: History, run_cli) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):
        history.add("auto_approved_rule", rule_id="r")
    [segment] = history.log.segments()
    lines = segment.read_bytes().splitlines(keepends=True)
    lines[2] = b'{"seq": 2, "broken\n'
    segment.write_bytes(b"".join(lines))
    for args in ((), ("--json",)):
        result = run_cli("stats", "--now", iso(NOW), *args, env=TZ_ENV)
        assert result.returncode == 1
        assert str(segment) in result.stderr and "line 3" in result.stderr
        assert "Traceback" not in result.stderr
        assert result.stdout == ""


def test_plain_output_without_a_terminal(history: History, run_cli) -> None:  # type: ignore[no-untyped-def]
    for _ in range(6):
        history.add("auto_approved_rule", at=NOW - timedelta(hours=2), rule_id="r")
    history.human("approved", 3)
    history.add("denied", rule_id="x")
    text = _stats_text(run_cli, "--days", "3")
    assert "\x1b" not in text  # no colour codes into a pipe
    chart = text.split("Per day")[1].splitlines()
    assert len(chart) == 1 + 3
    last = chart[-1]
    # 6 auto, 1 asked, 1 denied over a 40-cell bar: 30 / 5 / 5 cells
    assert last.count("█") == 30 and last.count("▒") == 5 and last.count("░") == 5
    assert last.rstrip().endswith("8")


def test_text_from_agents_is_escaped(history: History, run_cli) -> None:  # type: ignore[no-untyped-def]
    session = "evil\x1b]0;pwned\x07"
    history.add("auto_approved_rule", session=session, rule_id="r\x1b[2J")
    result = run_cli("stats", "--now", iso(NOW), "--session", session, env=TZ_ENV)
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert "evil\\x1b]0;pwned\\x07" in result.stdout
    assert "r\\x1b[2J" in result.stdout


def test_bad_now_and_days_are_usage_errors(run_cli) -> None:  # type: ignore[no-untyped-def]
    assert run_cli("stats", "--days", "0").returncode == 2
    assert run_cli("stats", "--now", "yesterday").returncode == 2


def test_progress_bar_on_a_terminal(history: History, monkeypatch: pytest.MonkeyPatch) -> None:
    """The bar draws on a terminal's stderr for a big log, and counting is unchanged by it."""
    import io

    from rich.console import Console

    from expacti_cli.commands import stats as stats_cmd
    from expacti_cli.learn.stats import StatsBuilder, Window
    from expacti_cli.ui import escape

    for i in range(30):
        history.add("auto_approved_rule" if i % 3 else "auto_approved_threshold", rule_id="r")
    screen = io.StringIO()
    monkeypatch.setattr(stats_cmd, "PROGRESS_MIN_BYTES", 0)
    monkeypatch.setattr(stats_cmd, "PROGRESS_EVERY", 1)
    monkeypatch.setattr(
        escape, "console", lambda stderr=False: Console(file=screen, force_terminal=True, width=80)
    )
    with_bar = StatsBuilder(Window(now=NOW, days=14))
    stats_cmd._read(history.log, with_bar, progress=True)
    assert "reading the audit log" in screen.getvalue()
    plain = StatsBuilder(Window(now=NOW, days=14))
    stats_cmd._read(history.log, plain, progress=False)
    assert with_bar.result().to_json() == plain.result().to_json()
    assert plain.result().to_json()["groups"]["auto"] == 30
