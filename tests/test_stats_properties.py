"""Properties of the stats aggregation over arbitrary (even malformed) audit records."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from expacti_cli.learn.stats import GROUPS, OUTCOMES, StatsBuilder, Window
from expacti_cli.matching import Rule, RuleKind

NOW = datetime(2030, 3, 15, 18, 0, tzinfo=UTC)
JUNK = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8), st.lists(st.none()))
TIMES = st.one_of(
    st.integers(min_value=-40 * 86400, max_value=3600).map(
        lambda s: (NOW + timedelta(seconds=s)).isoformat().replace("+00:00", "Z")
    ),
    st.just("2030-03-15T12:00:00"),  # no zone
    st.text(max_size=12),
    JUNK,
)
RULE_IDS = st.sampled_from(["aaaa1111", "bbbb2222", "", "agent-plumbing"])


@st.composite
def records(draw: st.DrawFn) -> dict[str, Any]:
    record: dict[str, Any] = {
        "kind": draw(st.sampled_from(["decision", "decision", "exit", "rule_added", 3])),
        "decision": draw(
            st.one_of(
                st.sampled_from(
                    [
                        "approved",
                        "denied",
                        "auto_approved_rule",
                        "auto_approved_threshold",
                        "timed_out",
                        "withdrawn",
                        "bogus",
                    ]
                ),
                JUNK,
            )
        ),
        "time": draw(TIMES),
    }
    optional = {
        "reviewer": st.one_of(st.just("alice"), JUNK),
        "rule_id": st.one_of(RULE_IDS, JUNK),
        "rule_ids": st.one_of(st.lists(st.one_of(RULE_IDS, JUNK), max_size=3), JUNK),
        "session": st.sampled_from(["s1", "s2", None]),
        "review_ms": st.one_of(st.integers(min_value=-5, max_value=10**7), JUNK),
        "requested_at": TIMES,
        "decided_at": TIMES,
        "on_timeout": st.sampled_from(["approve", "deny", None]),
        "plumbing": st.just("snapshot"),
        "carried_from": st.just("f" * 32),
    }
    for key, strategy in optional.items():
        if draw(st.booleans()):
            record[key] = draw(strategy)
    return record


RULES = [
    Rule(id="aaaa1111", pattern="git status", kind=RuleKind.PREFIX, created_at=NOW),
    Rule(id="cccc3333", pattern="ls", created_at=NOW - timedelta(days=90)),
]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(records(), max_size=40),
    st.integers(min_value=1, max_value=40),
    st.sampled_from([None, "s1"]),
)
def test_aggregation_never_crashes_and_adds_up(
    batch: list[dict[str, Any]], days: int, session: str | None
) -> None:
    builder = StatsBuilder(Window(now=NOW, days=days, tz=UTC), session=session)
    for record in batch:
        builder.add(record)
    stats = builder.result(RULES, top=5)
    data = json.loads(json.dumps(stats.to_json()))

    assert data["total"] == sum(data["groups"].values()) == sum(data["outcomes"].values())
    assert sum(day["total"] for day in data["per_day"]) == data["total"]
    assert len(data["per_day"]) == days
    assert set(data["outcomes"]) == set(OUTCOMES) and set(data["groups"]) == set(GROUPS)
    for share in [*data["shares"].values(), *data["outcome_shares"].values()]:
        assert 0.0 <= share <= 1.0
    assert data["asked"]["count"] <= data["total"]
    review = data["review"]
    assert (
        review["decisions"] <= data["outcomes"]["approved_human"] + data["outcomes"]["denied_human"]
    )
    if review["decisions"]:
        times = stats.review_times_ms
        assert times[0] <= review["median_ms"] <= review["p90_ms"] <= times[-1]
    assert len(data["top_rules"]) <= 5
    # The young rule is never a removal candidate; the old one only when nothing used it.
    assert "aaaa1111" not in [r["id"] for r in data["unused_rules"]["rules"]]


@settings(max_examples=100, deadline=None)
@given(st.lists(records(), max_size=30), st.randoms(use_true_random=False))
def test_order_of_records_does_not_matter(batch: list[dict[str, Any]], rnd: Any) -> None:
    def run(items: list[dict[str, Any]]) -> dict[str, Any]:
        builder = StatsBuilder(Window(now=NOW, days=14, tz=UTC))
        for record in items:
            builder.add(record)
        return builder.result(RULES).to_json()

    shuffled = list(batch)
    rnd.shuffle(shuffled)
    first, second = run(batch), run(shuffled)
    # Rules with equal hits are ranked by id, so even the top list is the same.
    assert first == second
