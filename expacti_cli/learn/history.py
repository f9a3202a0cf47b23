"""Decisions out of the audit log, as plain values: the one reader for everything that learns
from history (rule suggestions, anomaly detection, statistics).

    from expacti_cli.learn.history import iter_decisions

    for d in iter_decisions(since=week_ago):
        if d.human_approved:
            print(d.command, d.cwd, d.level, d.time)

`iter_decisions` walks the log oldest first (or newest first with `reverse=True`), skips every
record that is not a `decision`, and turns the rest into frozen `DecisionRecord`s. It does not
check hashes (`expacti log verify` does). A line that is not a record raises StoreError, like
`AuditLog.iter_records`.

What a decision record says (written by the broker, see `AuditLog.record_decision`):
`decision` is one of `approved`, `denied`, `auto_approved_rule`, `auto_approved_threshold`,
`timed_out` (`on_timeout` says what happened then) or `withdrawn`; an `approved` record with
`carried_from` repeats a hook approval for the same command's shell gate (the human decided
once); an `auto_approved_rule` record with `plumbing` is the agent's own plumbing, passed
without scoring.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from expacti_cli.store.audit import AuditLog

LEVELS = ("LOW", "MEDIUM", "HIGH", "CRITICAL")
_LEVEL_RANK = {name: rank for rank, name in enumerate(LEVELS)}
PROGRESS_EVERY = 2048  # records between progress callbacks

Progress = Callable[[int, int], None]  # (records read, records in the log)


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    """One decision about one command, as the audit log recorded it."""

    id: str  # the audit record id (uuid hex); what rule provenance refers to
    seq: int
    time: datetime | None  # when it was written (aware UTC); None if unreadable
    command: str  # the exact command (undecodable bytes surrogate-escaped)
    cwd: str
    decision: str  # approved, denied, auto_approved_rule, auto_approved_threshold, ...
    score: int | None  # risk 0-100 when it was decided; None when not scored
    level: str  # LOW, MEDIUM, HIGH, CRITICAL; "" when not scored
    session: str = ""
    source: str = ""  # which gate asked: shim, hook, exec, pty, ...
    rule_id: str = ""  # the rule that decided, for rule decisions
    reviewer: str = ""  # who decided, for human decisions
    requested_at: datetime | None = None
    decided_at: datetime | None = None
    review_ms: int | None = None
    carried: bool = False  # an approval repeated from the agent's hook (not a new decision)
    plumbing: bool = False  # the agent's own plumbing, passed without scoring
    on_timeout: str = ""  # for timed_out: "deny" or "approve"

    @property
    def level_rank(self) -> int:
        """0 (LOW) to 3 (CRITICAL); -1 when the command was not scored."""
        return _LEVEL_RANK.get(self.level, -1)

    @property
    def human_approved(self) -> bool:
        """A human said yes to this command here (not a repeat of an earlier yes)."""
        return self.decision == "approved" and not self.carried

    @property
    def denied(self) -> bool:
        """Refused, by a human or by a rule."""
        return self.decision == "denied"


def level_rank(level: str) -> int:
    """0 (LOW) to 3 (CRITICAL); -1 for anything else."""
    return _LEVEL_RANK.get(level, -1)


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)  # Python 3.11 reads the trailing "Z"
    except ValueError:
        return None


def _text(value: Any) -> str:
    return value if type(value) is str else ""


def _level(record: Mapping[str, Any], score: int | None) -> str:
    level = record.get("level")
    if isinstance(level, str) and level.upper() in _LEVEL_RANK:
        return level.upper()
    if score is None:
        return ""
    from expacti_cli.risk.model import Level

    return Level.of(score).value


def decision_from_record(record: Mapping[str, Any]) -> DecisionRecord | None:
    """The DecisionRecord of one audit record (None for records that are not decisions)."""
    get = record.get
    decision = get("decision")
    seq = get("seq")
    if get("kind") != "decision" or type(decision) is not str or type(seq) is not int:
        return None
    command = get("command")
    if type(command) is not str or "command_b64" in record:
        from expacti_cli.store.audit_format import command_str

        command = command_str(dict(record))
    cwd = get("cwd")
    if type(cwd) is not str or "cwd_b64" in record:
        from expacti_cli.store.audit_format import decode_lossless

        raw = decode_lossless(dict(record), "cwd")
        cwd = raw.decode("utf-8", "surrogateescape") if raw is not None else ""
    score = get("score")
    if type(score) is not int:
        score = None
    review_ms = get("review_ms")
    return DecisionRecord(
        _text(get("id")),
        seq,
        _time(get("time")),
        command,
        cwd,
        decision,
        score,
        _level(record, score),
        _text(get("session")),
        _text(get("source")),
        _text(get("rule_id")),
        _text(get("reviewer")),
        _time(get("requested_at")),
        _time(get("decided_at")),
        review_ms if type(review_ms) is int else None,
        "carried_from" in record,
        "plumbing" in record,
        _text(get("on_timeout")),
    )


def record_count(log: AuditLog) -> int:
    """How many records the log holds (cheap: the newest record's seq + 1)."""
    newest = next(log.iter_records(reverse=True), None)
    seq = newest.get("seq") if newest else None
    return seq + 1 if isinstance(seq, int) else 0


def iter_decisions(
    log: AuditLog | None = None,
    *,
    since: datetime | None = None,
    reverse: bool = False,
    select: Callable[[str, str], bool] | None = None,
    progress: Progress | None = None,
) -> Iterator[DecisionRecord]:
    """Every decision in the log (default: the one under EXPACTI_HOME), oldest first.

    `since` (aware) leaves out decisions written before it; newest first (`reverse=True`)
    the walk stops soon after it. `select(decision, level)` is a cheap filter applied before
    a record is built (level as in `DecisionRecord.level`). `progress(done, total)` is called
    every few thousand records and once at the end, `total` being the number of records in
    the log.
    """
    if log is None:
        from expacti_cli.store.audit import AuditLog

        log = AuditLog.open()
    total = record_count(log) if progress is not None else 0
    done = 0
    from expacti_cli.store.audit_query import CLOCK_SLACK

    stop_before = since - CLOCK_SLACK if since is not None and reverse else None
    for record in log.iter_records(reverse=reverse):
        done += 1
        if progress is not None and done % PROGRESS_EVERY == 0:
            progress(done, max(total, done))
        if select is not None:
            decision, score = record.get("decision"), record.get("score")
            level = _level(record, score if type(score) is int else None)
            if type(decision) is not str or not select(decision, level):
                continue
        item = decision_from_record(record)
        if item is None:
            continue
        if since is not None and (item.time is None or item.time < since):
            if stop_before is not None and item.time is not None and item.time < stop_before:
                break
            continue
        yield item
    if progress is not None:
        progress(total or done, max(total, done))
