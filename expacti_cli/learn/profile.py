"""What this user's history looks like, for the anomaly engine (issue 5).

`Profile` folds audit decision records in one at a time and keeps only small aggregates:
an hour-of-week histogram of activity, the programs and production targets of commands that
ran, the distinct shapes of those commands (normalised tokens, per program, bounded), and
recent activity per session. Nothing here needs a training step: a profile of ten records is
as valid as one of ten thousand, it just knows less (`Profile.decisions` says how much).

`ProfileCache.current()` is the only part that reads the disk. It builds the profile once from
the newest `MAX_RECORDS` decisions, then on each call reads only the records appended since
(newest first, down to the last seq it saw), so the broker never re-reads the log per command.
"""

from __future__ import annotations

import bisect
import os
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

from expacti_cli.analysis.model import Analysis

ENV_TEST_NOW = "EXPACTI_TEST_NOW"  # tests only: the clock the gate judges "now" by (ISO 8601)

MAX_RECORDS = 20_000  # newest decisions read when a profile is first built
MAX_SHAPES_PER_PROGRAM = 2_000  # distinct command shapes kept per program (oldest dropped)
MAX_SHAPE_TOKENS = 24
MAX_TOKEN_CHARS = 64
MAX_ANALYSED_CHARS = 16_384  # longer commands count as activity but are not analysed
RECENT_PER_SESSION = 256  # newest request times kept per session
SESSION_KEEP_SECONDS = 24 * 3600  # sessions idle longer than this are forgotten
MINUTE_KEEP = 10  # minutes of per-minute counts kept open before they are final

RAN = frozenset({"approved", "auto_approved_rule", "auto_approved_threshold"})
_PRODUCTION = re.compile(r'production target: "(.+)"')
# A run of hex-ish characters holding a digit: ids, hashes, counters, versions, pod suffixes.
_VOLATILE = re.compile(r"[0-9a-fA-F]*[0-9][0-9a-fA-F]*")


def test_now() -> datetime | None:
    """The clock injected through EXPACTI_TEST_NOW, or None (naive times are UTC)."""
    value = os.environ.get(ENV_TEST_NOW, "").strip()
    if not value:
        return None
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def current_time() -> datetime:
    return test_now() or datetime.now(UTC)


def production_targets(reasons: Iterable[str]) -> set[str]:
    """The production targets named by risk reasons (`production target: "db-prod"`)."""
    found = set()
    for text in reasons:
        match = _PRODUCTION.fullmatch(text) if isinstance(text, str) else None
        if match:
            found.add(match.group(1).lower())
    return found


def shape_tokens(argv: Iterable[str], program: str) -> tuple[str, ...]:
    """A command's shape: the program and its arguments with ids and numbers folded to `#`.

    `docker logs api-7d9f` and `docker logs web-1a2b` have the same shape; so have `git log -20`
    and `git log -5`. Long commands keep their first MAX_SHAPE_TOKENS words."""
    words = list(argv)[1:MAX_SHAPE_TOKENS]
    return (program, *(_VOLATILE.sub("#", word)[:MAX_TOKEN_CHARS] for word in words))


@dataclass(frozen=True)
class PartShape:
    """What the profile remembers of one simple command."""

    program: str
    shape: tuple[str, ...]
    top: bool  # a depth-0 part (what a rule would match)


def part_shapes(analysis: Analysis) -> list[PartShape]:
    """The parts of an analysed command that have a literal program."""
    return [
        PartShape(p.program, shape_tokens(p.argv, p.program), p.depth == 0)
        for p in analysis.parts
        if p.program and not p.dynamic_program
    ]


def record_time(record: Mapping[str, Any]) -> float | None:
    """When the command of a record was asked for (epoch seconds)."""
    for name in ("requested_at", "time"):
        value = record.get(name)
        if isinstance(value, str):
            try:
                moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                continue
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            return moment.timestamp()
    return None


def counts_as_command(record: Mapping[str, Any]) -> bool:
    """A decision about a command the agent chose to run (not plumbing, not a carried copy)."""
    return (
        record.get("kind") == "decision"
        and "plumbing" not in record
        and "carried_from" not in record
        and isinstance(record.get("command"), str)
    )


def ran(record: Mapping[str, Any]) -> bool:
    decision = record.get("decision")
    if not isinstance(decision, str):
        return False
    return decision in RAN or (decision == "timed_out" and record.get("on_timeout") == "approve")


@dataclass
class Activity:
    """Request times of one session (or of everything): how many, since when, the newest."""

    first: float = 0.0
    last: float = 0.0
    count: int = 0
    recent: list[float] = field(default_factory=list)  # sorted, at most RECENT_PER_SESSION

    def add(self, moment: float) -> None:
        if self.count == 0 or moment < self.first:
            self.first = moment
        self.last = max(self.last, moment)
        self.count += 1
        bisect.insort(self.recent, moment)
        if len(self.recent) > RECENT_PER_SESSION:
            del self.recent[0]

    def between(self, start: float, end: float) -> int:
        """Requests with start < time <= end (only the newest RECENT_PER_SESSION are known)."""
        return bisect.bisect_right(self.recent, end) - bisect.bisect_right(self.recent, start)

    def before(self, moment: float) -> int:
        """Requests at or before `moment`."""
        return self.count - (len(self.recent) - bisect.bisect_right(self.recent, moment))


@dataclass
class Profile:
    """Aggregates of one user's past decisions, updated one record at a time (pure)."""

    tz: tzinfo | None = None  # None: the system's local time (DST-aware)
    decisions: int = 0  # commands decided (any outcome)
    commands_run: int = 0  # of which ran
    first: float = 0.0
    last: float = 0.0
    hours: list[int] = field(default_factory=lambda: [0] * 168)  # by weekday * 24 + hour
    days: set[int] = field(default_factory=set)  # local day ordinals with activity
    programs: dict[str, int] = field(default_factory=dict)  # program -> times it ran
    # program -> the shapes of its commands that ran (an ordered set, newest last)
    shapes: dict[str, dict[tuple[str, ...], None]] = field(default_factory=dict)
    targets: set[str] = field(default_factory=set)  # production targets commands ran against
    sessions: dict[str, Activity] = field(default_factory=dict)
    overall: Activity = field(default_factory=Activity)
    # per-minute activity: open minutes (still counting) and how many minutes had N requests
    open_minutes: dict[int, int] = field(default_factory=dict)
    per_minute: dict[int, int] = field(default_factory=dict)
    _analysed: dict[str, list[PartShape]] = field(default_factory=dict, repr=False)

    def hour_slot(self, moment: float) -> tuple[int, int, int]:
        """(weekday 0=Monday, hour, local day ordinal) of an epoch time."""
        if self.tz is None:
            local = time.localtime(moment)
            day = datetime(local.tm_year, local.tm_mon, local.tm_mday).toordinal()
            return local.tm_wday, local.tm_hour, day
        when = datetime.fromtimestamp(moment, self.tz)
        return when.weekday(), when.hour, when.toordinal()

    def clock(self, moment: float) -> str:
        """The local time of day of an epoch time, as HH:MM."""
        if self.tz is None:
            return time.strftime("%H:%M", time.localtime(moment))
        return datetime.fromtimestamp(moment, self.tz).strftime("%H:%M")

    def add(self, record: Mapping[str, Any]) -> None:
        """Fold one audit record in (anything that is not a command decision is ignored)."""
        if not counts_as_command(record):
            return
        moment = record_time(record)
        if moment is None:
            return
        self.decisions += 1
        self.first = moment if self.decisions == 1 else min(self.first, moment)
        self.last = max(self.last, moment)
        weekday, hour, day = self.hour_slot(moment)
        self.hours[weekday * 24 + hour] += 1
        self.days.add(day)
        self._count_minute(moment)
        self.overall.add(moment)
        session = record.get("session")
        if isinstance(session, str) and session:
            self.sessions.setdefault(session, Activity()).add(moment)
            if self.decisions % 1024 == 0:
                self._forget_sessions()
        if not ran(record):
            return
        self.commands_run += 1
        reasons = record.get("reasons")
        if isinstance(reasons, list):
            self.targets |= production_targets(reasons)
        for part in self._shapes_of(str(record["command"])):
            self.programs[part.program] = self.programs.get(part.program, 0) + 1
            if part.top:
                known = self.shapes.setdefault(part.program, {})
                known.pop(part.shape, None)  # re-inserted as the newest
                known[part.shape] = None
                if len(known) > MAX_SHAPES_PER_PROGRAM:
                    del known[next(iter(known))]

    def _shapes_of(self, command: str) -> list[PartShape]:
        if len(command) > MAX_ANALYSED_CHARS:
            return []
        cached = self._analysed.get(command)
        if cached is None:
            from expacti_cli.analysis import analyze

            cached = part_shapes(analyze(command))
            if len(self._analysed) >= 4096:
                self._analysed.clear()
            self._analysed[command] = cached
        return cached

    def _count_minute(self, moment: float) -> None:
        minute = int(moment // 60)
        before = self.open_minutes.get(minute, 0)
        if before:
            self.per_minute[before] -= 1
        self.open_minutes[minute] = before + 1
        self.per_minute[before + 1] = self.per_minute.get(before + 1, 0) + 1
        if len(self.open_minutes) > MINUTE_KEEP:
            del self.open_minutes[min(self.open_minutes)]

    def _forget_sessions(self) -> None:
        cutoff = self.last - SESSION_KEEP_SECONDS
        for name in [n for n, a in self.sessions.items() if a.last < cutoff]:
            del self.sessions[name]

    # --- questions the anomaly engine asks ----------------------------------------------------

    def busy_minute(self, share: float = 0.95) -> int:
        """Requests in a busy minute: `share` of the active minutes had at most this many."""
        total = sum(self.per_minute.values())
        if not total:
            return 0
        seen = 0
        for count in sorted(self.per_minute):
            seen += self.per_minute[count]
            if seen >= share * total:
                return count
        return max(self.per_minute)


MAX_CACHED = 4  # audit directories whose profile is kept
PATH_CHECK_SECONDS = 1.0  # how often the newest segment's path is checked for a replaced file


@dataclass
class _Entry:
    profile: Profile
    seq: int  # the newest record folded in (-1: none)
    segment: str  # the newest segment read (path), "" when there was none
    offset: int  # bytes of it already read
    inode: int
    fd: int = -1  # the segment, held open: a check is one fstat, a read one pread
    checked: float = 0.0  # monotonic time of the last stat of the path

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class ProfileCache:
    """Profiles per audit directory, kept up to date by reading only what was appended.

    The newest segment stays open: the check before each command is one fstat (unchanged
    size: nothing to read), and new lines are read with one pread from where the last read
    stopped. A record already folded in (seq) is skipped; a segment that shrank or whose path
    now names another file (a repaired or rewritten log, checked at most once a second) makes
    the profile be built again.
    """

    def __init__(self, max_records: int = MAX_RECORDS, tz: tzinfo | None = None) -> None:
        self.max_records = max_records
        self.tz = tz
        self._entries: dict[Path, _Entry] = {}

    def current(self, log: Any = None) -> Profile:
        """The profile of `log` (default: the user's audit log) as of now."""
        if log is None:
            from expacti_cli.store.audit import AuditLog

            log = AuditLog.open()
        entry = self._entries.get(log.directory)
        if entry is None or not self._catch_up(entry, log):
            if entry is not None:
                entry.close()
            entry = self._build(log)
            for other in [d for d in self._entries if d != log.directory][
                : -MAX_CACHED + 1 or None
            ]:
                self._entries.pop(other).close()  # a broker has one log; tests have many
            self._entries[log.directory] = entry
        return entry.profile

    def close(self) -> None:
        for entry in self._entries.values():
            entry.close()
        self._entries.clear()

    def _build(self, log: Any) -> _Entry:
        # Where the log ends is noted first: records appended while we read are read again
        # by the next catch-up and skipped there by their seq.
        entry = _Entry(Profile(tz=self.tz), -1, "", 0, 0)
        segments = log.segments()
        if segments:
            _open(entry, str(segments[-1]))
        newest: list[dict[str, Any]] = []
        decisions = 0
        for record in log.iter_records(reverse=True):
            newest.append(record)
            decisions += counts_as_command(record)
            if decisions >= self.max_records:
                break
        for record in reversed(newest):
            entry.profile.add(record)
        entry.seq = int(newest[0]["seq"]) if newest else -1
        return entry

    def _catch_up(self, entry: _Entry, log: Any) -> bool:
        """Fold in what was appended since; False when the profile must be built again."""
        if entry.fd < 0:
            return not log.segments()
        now = time.monotonic()
        if now - entry.checked >= PATH_CHECK_SECONDS:
            try:
                if os.stat(entry.segment).st_ino != entry.inode:
                    return False
            except FileNotFoundError:
                return False
            entry.checked = now
        while True:
            size = os.fstat(entry.fd).st_size
            if size < entry.offset:
                return False
            if size > entry.offset:
                _read(entry, size)
            if size < log.segment_bytes:
                return True
            later = [str(p) for p in log.segments() if str(p) > entry.segment]
            if not later:
                return True
            entry.close()
            _open(entry, later[0])  # the log moved on to a new segment (at 64 MiB)


def _open(entry: _Entry, segment: str) -> None:
    entry.fd = os.open(segment, os.O_RDONLY | os.O_CLOEXEC)
    stat = os.fstat(entry.fd)
    entry.segment, entry.offset, entry.inode = segment, stat.st_size, stat.st_ino
    entry.checked = time.monotonic()


def _read(entry: _Entry, end: int) -> None:
    """Fold in the complete lines between entry.offset and `end`."""
    import json

    data = os.pread(entry.fd, end - entry.offset, entry.offset)
    complete = data[: data.rfind(b"\n") + 1]  # a line still being written is read next time
    entry.offset += len(complete)
    for line in complete.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue  # a torn line kept by the log; `expacti log verify` reports it
        if isinstance(record, dict) and isinstance(record.get("seq"), int):
            if record["seq"] > entry.seq:
                entry.profile.add(record)
                entry.seq = record["seq"]
