"""Which audit records a `log` query wants: time windows, session, decision, risk, text.

Pure: no I/O. `expacti log` builds a RecordFilter from its options and walks the log newest
first, stopping early once records are older than `--since`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from expacti_cli.store.audit_format import command_str, parse_iso

_RELATIVE = re.compile(r"(\d+)\s*(s|sec|m|min|h|d|w)", re.IGNORECASE)
_UNIT = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_LEVEL_FLOOR = {"LOW": 0, "MEDIUM": 30, "HIGH": 60, "CRITICAL": 85}
# Records are written in time order (the time is taken under the writers' lock); this much
# slack keeps a small clock step back from hiding records when a scan stops early.
CLOCK_SLACK = timedelta(minutes=10)


def parse_when(text: str, now: datetime | None = None) -> datetime:
    """`2h`, `30m`, `3d`, `1w` ago, or an ISO date/time (local time unless it says otherwise)."""
    now = now or datetime.now(UTC)
    value = text.strip()
    match = _RELATIVE.fullmatch(value)
    if match:
        return now - timedelta(seconds=int(match.group(1)) * _UNIT[match.group(2).lower()])
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"not a time: {text!r} (use an ISO date like 2024-05-01 or 2024-05-01T14:30, "
            "or an age like 30m, 2h, 3d, 1w)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.astimezone()  # naive: the user's local time
    return moment.astimezone(UTC)


def parse_min_risk(text: str) -> int:
    """A score 0-100 or a level name (its lower bound)."""
    value = text.strip()
    if value.upper() in _LEVEL_FLOOR:
        return _LEVEL_FLOOR[value.upper()]
    if value.isdigit() and 0 <= int(value) <= 100:
        return int(value)
    raise ValueError(f"not a risk: {text!r} (use 0-100 or LOW, MEDIUM, HIGH, CRITICAL)")


def record_time(record: Mapping[str, Any]) -> datetime | None:
    value = record.get("time")
    if not isinstance(value, str):
        return None
    try:
        return parse_iso(value)
    except ValueError:
        return None


def searchable_text(record: Mapping[str, Any]) -> str:
    """What --grep looks at: the exact command (or, for other records, their own fields)."""
    if "command" in record:
        return command_str(dict(record))
    return " ".join(f"{key}={record[key]}" for key in extra_fields(record))


def extra_fields(record: Mapping[str, Any]) -> list[str]:
    """Fields of a record beyond the common ones: what describes a non-decision record."""
    return [key for key in sorted(record) if key not in COMMON_FIELDS]


COMMON_FIELDS = frozenset(
    {
        "id",
        "seq",
        "time",
        "kind",
        "prev_hash",
        "hash",
        "session",
        "source",
        "cwd",
        "cwd_b64",
        "command",
        "command_b64",
        "parts",
        "score",
        "level",
        "reasons",
        "decision",
        "rule_id",
        "reviewer",
        "requested_at",
        "decided_at",
        "review_ms",
        "context",
        "exit_code",
        "exit_time",
    }
)


@dataclass(frozen=True)
class RecordFilter:
    """The options of `expacti log` that select records."""

    since: datetime | None = None
    until: datetime | None = None
    session: str | None = None
    decisions: frozenset[str] = frozenset()
    min_risk: int | None = None
    grep: re.Pattern[str] | None = None

    def matches(self, record: Mapping[str, Any]) -> bool:
        moment = record_time(record)
        if self.since is not None and (moment is None or moment < self.since):
            return False
        if self.until is not None and (moment is None or moment > self.until):
            return False
        if self.session is not None and record.get("session") != self.session:
            return False
        if self.decisions and record.get("decision") not in self.decisions:
            return False
        if self.min_risk is not None:
            score = record.get("score")
            if not isinstance(score, int) or score < self.min_risk:
                return False
        return self.grep is None or self.grep.search(searchable_text(record)) is not None

    def past_since(self, record: Mapping[str, Any]) -> bool:
        """True once a newest-first scan has gone far enough back to stop."""
        if self.since is None:
            return False
        moment = record_time(record)
        return moment is not None and moment < self.since - CLOCK_SLACK
