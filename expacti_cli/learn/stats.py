"""What the audit log says about friction: how many commands passed without a human (issue 5).

Pure: records in, numbers out; no I/O. `expacti stats` streams the audit log newest first
into a `StatsBuilder`, which keeps counters per outcome and per day, the review times of
human decisions and rule hits, never the records themselves, so a log of any size fits.

Every decision record counts under exactly one outcome (`OUTCOMES`), and every outcome under
exactly one group: `auto` (passed without a human), `asked` (a human was asked and nothing
denied it) or `denied` (did not run because something said no). So
`total == auto + asked + denied`, and the product's promise is `auto / total`.

Two kinds of decision records are not commands an agent chose to run, and are counted apart
(`excluded`): the agent's own plumbing that the shim passes without scoring, and a hook
approval carried over to the same command's shell gate (the human decision is already counted
once, under the hook's record).
"""

from __future__ import annotations

import math
import statistics
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import cached_property
from typing import Any

from expacti_cli.matching import Rule, RuleAction

# outcome -> group. The order is the order `expacti stats` lists them in.
OUTCOMES: dict[str, str] = {
    "auto_rule": "auto",
    "auto_threshold": "auto",
    "approved_human": "asked",
    "timed_out_approved": "asked",
    "withdrawn": "asked",
    "denied_human": "denied",
    "timed_out_denied": "denied",
    "denied_rule": "denied",
    "denied_other": "denied",
}
GROUPS = ("auto", "asked", "denied")
# Outcomes where the request waited in front of a human (whatever came of it).
REACHED_HUMAN = frozenset(
    {"approved_human", "denied_human", "timed_out_approved", "timed_out_denied", "withdrawn"}
)
HUMAN_DECIDED = frozenset({"approved_human", "denied_human"})
EXCLUDED = ("plumbing", "carried")
UNUSED_DAYS = 30
JSON_VERSION = 1


def parse_time(value: Any) -> datetime | None:
    """A stored ISO 8601 time (aware), or None when absent or unreadable."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def outcome_of(record: Mapping[str, Any]) -> str | None:
    """The outcome a decision record counts under (an OUTCOMES or EXCLUDED key); None otherwise."""
    if record.get("kind") != "decision":
        return None
    decision = record.get("decision")
    human = bool(record.get("reviewer"))
    if decision == "auto_approved_rule":
        return "plumbing" if "plumbing" in record else "auto_rule"
    if decision == "auto_approved_threshold":
        return "auto_threshold"
    if decision == "approved":
        return "carried" if "carried_from" in record else "approved_human"
    if decision == "denied":
        if human:
            return "denied_human"
        return "denied_rule" if record.get("rule_id") else "denied_other"
    if decision == "timed_out":
        return "timed_out_approved" if record.get("on_timeout") == "approve" else "timed_out_denied"
    if decision == "withdrawn":
        return "withdrawn"
    return None


def rule_hits_of(record: Mapping[str, Any], outcome: str | None) -> list[str]:
    """The rules that decided a record: every matching allow rule, or the deny rule."""
    if outcome == "auto_rule":
        ids = record.get("rule_ids")
        if isinstance(ids, list) and ids:
            return [i for i in ids if isinstance(i, str) and i]
    if outcome in ("auto_rule", "denied_rule"):
        rule_id = record.get("rule_id")
        return [rule_id] if isinstance(rule_id, str) and rule_id else []
    return []


def review_ms_of(record: Mapping[str, Any]) -> int | None:
    """How long a human took (request to decision), in milliseconds, if the record says."""
    value = record.get("review_ms")
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    start, end = parse_time(record.get("requested_at")), parse_time(record.get("decided_at"))
    if start is None or end is None or end < start:
        return None
    return int((end - start).total_seconds() * 1000)


@dataclass(frozen=True)
class Window:
    """The last `days` calendar days up to `now`, in the user's time zone (None: the system's)."""

    now: datetime
    days: int
    tz: tzinfo | None = None

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.tz)

    @cached_property
    def last_day(self) -> date:
        return self.local(self.now).date()

    @cached_property
    def first_day(self) -> date:
        return self.last_day - timedelta(days=self.days - 1)

    def midnight(self, day: date) -> datetime:
        """Local midnight at the start of `day` (DST-aware for the system zone)."""
        naive = datetime.combine(day, time())
        return naive.astimezone() if self.tz is None else naive.replace(tzinfo=self.tz)

    @cached_property
    def start(self) -> datetime:
        return self.midnight(self.first_day)

    @cached_property
    def unused_cutoff(self) -> datetime:
        return self.now - timedelta(days=UNUSED_DAYS)

    @cached_property
    def scan_since(self) -> datetime:
        """How far back the log must be read: the window, and the rules' unused period."""
        return min(self.start, self.unused_cutoff)

    @cached_property
    def day_list(self) -> tuple[date, ...]:
        return tuple(self.first_day + timedelta(days=i) for i in range(self.days))

    @cached_property
    def _midnights(self) -> tuple[float, ...]:
        return tuple(self.midnight(day).timestamp() for day in self.day_list)

    def day_of(self, moment: datetime) -> date:
        """The local day of a moment inside the window (a search, not a time zone conversion
        per record: those are most of the cost on a big log)."""
        index = bisect_right(self._midnights, moment.timestamp()) - 1
        return self.day_list[max(index, 0)]


@dataclass(frozen=True)
class DayCounts:
    day: date
    auto: int
    asked: int
    denied: int

    @property
    def total(self) -> int:
        return self.auto + self.asked + self.denied


@dataclass(frozen=True)
class RuleUse:
    """A rule and how much it was used: in the window (from the log) and ever (rules store)."""

    id: str
    hits: int  # decisions in the window that this rule decided
    rule: Rule | None  # None: the rule is no longer in the rules store


@dataclass(frozen=True)
class Stats:
    window: Window
    session: str | None
    counts: Mapping[str, int]
    excluded: Mapping[str, int]
    review_times_ms: tuple[int, ...]  # sorted
    per_day: tuple[DayCounts, ...]
    top_rules: tuple[RuleUse, ...]
    unused_rules: tuple[Rule, ...]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def group(self, name: str) -> int:
        return sum(n for outcome, n in self.counts.items() if OUTCOMES[outcome] == name)

    @property
    def reached_human(self) -> int:
        return sum(self.counts[o] for o in REACHED_HUMAN)

    def share(self, count: int) -> float:
        """`count` as a fraction of all commands (0.0 when there are none)."""
        return count / self.total if self.total else 0.0

    @property
    def median_review_ms(self) -> int | None:
        times = self.review_times_ms
        return round(statistics.median(times)) if times else None

    @property
    def p90_review_ms(self) -> int | None:
        """Nearest-rank 90th percentile: the review time 9 in 10 decisions stayed within."""
        times = self.review_times_ms
        return times[math.ceil(0.9 * len(times)) - 1] if times else None

    def to_json(self) -> dict[str, Any]:
        """The `--json` form. Keys are stable; see `expacti stats --help` (JSON_VERSION)."""
        total = self.total
        denied_by = {
            "rule": self.counts["denied_rule"],
            "human": self.counts["denied_human"],
            "timeout": self.counts["timed_out_denied"],
            "other": self.counts["denied_other"],
        }
        return {
            "version": JSON_VERSION,
            "now": _iso(self.window.now),
            "since": _iso(self.window.start),
            "days": self.window.days,
            "session": self.session,
            "total": total,
            "passed_without_human": {
                "count": self.group("auto"),
                "share": _round(self.share(self.group("auto"))),
            },
            "groups": {name: self.group(name) for name in GROUPS},
            "shares": {name: _round(self.share(self.group(name))) for name in GROUPS},
            "outcomes": dict(self.counts),
            "outcome_shares": {k: _round(self.share(v)) for k, v in self.counts.items()},
            "asked": {"count": self.reached_human, "share": _round(self.share(self.reached_human))},
            "denied_by": denied_by,
            "review": {
                "decisions": len(self.review_times_ms),
                "median_ms": self.median_review_ms,
                "p90_ms": self.p90_review_ms,
            },
            "top_rules": [_rule_use_json(use) for use in self.top_rules],
            "unused_rules": {
                "days": UNUSED_DAYS,
                "rules": [_rule_json(rule) for rule in self.unused_rules],
            },
            "per_day": [
                {
                    "date": d.day.isoformat(),
                    "auto": d.auto,
                    "asked": d.asked,
                    "denied": d.denied,
                    "total": d.total,
                }
                for d in self.per_day
            ],
            "excluded": dict(self.excluded),
        }


@dataclass
class StatsBuilder:
    """Counts records one at a time, in any order; `result()` turns the counts into Stats."""

    window: Window
    session: str | None = None
    counts: Counter[str] = field(default_factory=Counter)
    excluded: Counter[str] = field(default_factory=Counter)
    days: dict[date, Counter[str]] = field(default_factory=dict)
    review_times_ms: list[int] = field(default_factory=list)
    window_hits: Counter[str] = field(default_factory=Counter)
    last_hit: dict[str, datetime] = field(default_factory=dict)  # any session, last 30 days

    def past_scan(self, moment: datetime | None, slack: timedelta = timedelta(0)) -> bool:
        """True when a newest-first walk at `moment` has read everything it needs."""
        return moment is not None and moment < self.window.scan_since - slack

    def add(self, record: Mapping[str, Any], moment: datetime | None = None) -> None:
        """Count one record (`moment`: its time, when the caller parsed it already)."""
        outcome = outcome_of(record)
        if outcome is None:
            return
        moment = moment or parse_time(record.get("time"))
        if moment is None or moment > self.window.now:
            return  # after the chosen "now": not part of this report
        hits = rule_hits_of(record, outcome)
        if hits and moment >= self.window.unused_cutoff:
            for rule_id in hits:
                if rule_id not in self.last_hit or self.last_hit[rule_id] < moment:
                    self.last_hit[rule_id] = moment
        if moment < self.window.start:
            return
        if self.session is not None and record.get("session") != self.session:
            return
        if outcome in EXCLUDED:
            self.excluded[outcome] += 1
            return
        self.counts[outcome] += 1
        day = self.window.day_of(moment)
        counts = self.days.get(day)
        if counts is None:
            counts = self.days[day] = Counter()
        counts[OUTCOMES[outcome]] += 1
        self.window_hits.update(hits)
        if outcome in HUMAN_DECIDED:
            review = review_ms_of(record)
            if review is not None:
                self.review_times_ms.append(review)

    def result(self, rules: Iterable[Rule] = (), top: int = 10) -> Stats:
        """The numbers, with `rules` (the rules store now) for rule names and unused rules."""
        by_id = {rule.id: rule for rule in rules}
        ranked = sorted(
            self.window_hits.items(),
            key=lambda kv: (-kv[1], -(by_id[kv[0]].hits if kv[0] in by_id else 0), kv[0]),
        )
        per_day = tuple(
            DayCounts(day, *(self.days.get(day, Counter())[g] for g in GROUPS))
            for day in self.window.day_list
        )
        return Stats(
            window=self.window,
            session=self.session,
            counts={outcome: self.counts[outcome] for outcome in OUTCOMES},
            excluded={name: self.excluded[name] for name in EXCLUDED},
            review_times_ms=tuple(sorted(self.review_times_ms)),
            per_day=per_day,
            top_rules=tuple(RuleUse(i, n, by_id.get(i)) for i, n in ranked[:top]),
            unused_rules=tuple(unused_rules(by_id.values(), self.last_hit, self.window.now)),
        )


def unused_rules(
    rules: Iterable[Rule], audit_hits: Mapping[str, datetime], now: datetime
) -> list[Rule]:
    """Allow rules that let nothing through in the last 30 days: candidates to remove.

    Rules younger than that have not had their chance yet, and expired ones no longer allow
    anything; both are left out. Deny rules are left out too: one that never fires still
    guards against the command it names.
    """
    cutoff = now - timedelta(days=UNUSED_DAYS)
    found = []
    for rule in rules:
        if rule.action != RuleAction.ALLOW or rule.is_expired(now):
            continue
        if rule.created_at is not None and rule.created_at > cutoff:
            continue
        used = [t for t in (rule.last_used, audit_hits.get(rule.id)) if t is not None]
        if any(cutoff <= t <= now for t in used):
            continue
        found.append(rule)
    never = datetime.min.replace(tzinfo=UTC)
    found.sort(key=lambda r: (r.last_used or never, r.created_at or never, r.id))
    return found


def _round(share: float) -> float:
    return round(share, 4)


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _rule_json(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "action": rule.action.value,
        "kind": rule.kind.value,
        "pattern": rule.pattern,
        "scope": rule.scope,
        "hits_total": rule.hits,
        "last_used": _iso(rule.last_used),
        "created_at": _iso(rule.created_at),
    }


def _rule_use_json(use: RuleUse) -> dict[str, Any]:
    base: dict[str, Any] = {"id": use.id, "hits": use.hits, "exists": use.rule is not None}
    if use.rule is None:
        return base | {
            "action": None,
            "kind": None,
            "pattern": None,
            "scope": None,
            "hits_total": None,
            "last_used": None,
            "created_at": None,
        }
    return base | _rule_json(use.rule)
