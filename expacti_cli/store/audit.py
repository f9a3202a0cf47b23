"""The tamper-evident audit log: every decision, hash-chained, one JSON object a line.

Layout of the audit directory (default `paths.audit_dir()`):

    audit-000001.jsonl   segments, oldest first; one canonical JSON record per line.
    audit-000002.jsonl   A new segment starts once the newest one reaches `segment_bytes`;
                         the chain runs on across segments.
    head.json            (seq, hash, log_id) of the newest record: a witness against a
                         truncated tail, see audit_head.py.
    audit.lock           writers hold an exclusive flock on it while they append.

Records (see docs/architecture.md, "Audit log"): `seq` counts from 0 without gaps, record 0
is a genesis record with a random `log_id`, every record carries `prev_hash` and
`hash = sha256(prev_hash + canonical(record without hash))`. An append reads only the end of
the newest segment, so its cost does not grow with the log; it returns only once the record
is fsync'd, because the record is what authorises a command.

A crash can leave a torn last line. It is never dropped or overwritten: `verify`, `log` and
`torn_tail()` report it, and the next append (or `repair()`) ends it with a newline and writes
a record that quotes its exact bytes (`torn_b64`) before going on, so the gap is part of the
chain.

Public API (used by the gates, rules and config commands; keep it stable):
    AuditLog.open(directory=None) -> AuditLog
    log.append(entry) -> record            entry needs "kind"; raises StoreError if not written
    log.record_decision(command=..., decision=..., ...) -> record
    log.record_exit(decision_id, exit_code) -> record
    log.iter_records(reverse=False)        newest first is cheap at any size
    log.get(id_or_prefix) -> record | None
    log.exit_for(decision_id) -> record | None
    log.verify(progress=None) -> VerifyResult
    log.follow() -> iterator of new records (polls)
    log.torn_tail() -> TornTail | None
    log.repair() -> list[str]
    command_bytes(record) / command_str(record)   the exact command of a record
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any

from expacti_cli.errors import InputError, StoreError
from expacti_cli.store.audit_format import (
    CHAIN_FIELDS,
    DECISIONS,
    FORMAT_VERSION,
    GENESIS_PREV_HASH,
    canonical,
    chain_hash,
    chain_hash_of_line,
    clean_text,
    command_bytes,
    command_str,
    encode_lossless,
    iso,
    parse_iso,
    parse_line,
    seal,
    to_line,
    utc_now_iso,
)
from expacti_cli.store.audit_head import Head, HeadError, create_head, read_head, write_head
from expacti_cli.store.jsonl import (
    Line,
    append_durably,
    file_size,
    lines_backward,
    lines_forward,
    locked,
)

__all__ = [
    "DECISIONS",
    "AuditLog",
    "TornTail",
    "VerifyResult",
    "command_bytes",
    "command_str",
]

SEGMENT_BYTES = 64 * 1024 * 1024
LOCK_NAME = "audit.lock"
HEAD_NAME = "head.json"
_SEGMENT = re.compile(r"audit-(\d{6,})\.jsonl")
_PROGRESS_EVERY = 2048  # lines between progress callbacks
REPAIR_HINT = "run `expacti log verify` to see the damage, then `expacti log repair`"
RESET_HINT = "`expacti log repair` resets it and records the reset in the log"


@dataclass(frozen=True)
class VerifyResult:
    """The outcome of recomputing the whole chain."""

    ok: bool
    count: int  # records that verified, genesis included
    first_bad_line: int | None = None  # 1-based line in `path`
    message: str = ""
    torn_tail: bool = False  # the log ends in an incomplete line (a crash while writing)
    path: Path | None = None  # the file holding the first bad line
    recovered: int = 0  # torn lines from earlier crashes, kept and marked in the chain


@dataclass(frozen=True)
class TornTail:
    """An incomplete last line: what a crash in the middle of a write leaves behind."""

    path: Path
    line: int  # 1-based
    offset: int
    data: bytes


@dataclass(frozen=True)
class _Tail:
    record: dict[str, Any] | None  # the newest complete record
    segment: Path | None  # the newest segment (where the next line goes)
    torn: Line | None  # an incomplete last line in that segment


class _Bad(Exception):
    """A line that does not verify (message for humans)."""


class AuditLog:
    """An append-only, hash-chained log of decisions in one directory."""

    def __init__(self, directory: Path, *, segment_bytes: int = SEGMENT_BYTES) -> None:
        self.directory = directory
        self.segment_bytes = segment_bytes
        self._lock_path = directory / LOCK_NAME
        self._head_path = directory / HEAD_NAME

    @classmethod
    def open(cls, directory: Path | None = None, *, segment_bytes: int = SEGMENT_BYTES) -> AuditLog:
        """The log in `directory` (default: the audit dir under EXPACTI_HOME). Creates nothing yet."""
        if directory is None:
            from expacti_cli import paths

            directory = paths.audit_dir()
        return cls(directory, segment_bytes=segment_bytes)

    # --- writing ---------------------------------------------------------------------------

    def append(self, entry: Mapping[str, Any]) -> dict[str, Any]:
        """Append one record and fsync it; return it as stored (id, seq, time, hash, ...).

        `entry` needs a "kind"; "id" is generated unless given; "time" is set to now;
        "command" and "cwd" may be str or bytes and are stored losslessly. Raises StoreError
        when the record cannot be written durably: a caller must then not run the command.
        """
        record = _prepare(entry)
        return self._write_locked([record])[-1]

    def record_decision(
        self,
        *,
        command: str | bytes,
        decision: str,
        session: str | None = None,
        source: str | None = None,
        cwd: str | bytes | None = None,
        parts: Iterable[str] = (),
        score: int | None = None,
        level: str | None = None,
        reasons: Iterable[str] = (),
        rule_id: str | None = None,
        reviewer: str | None = None,
        requested_at: datetime | str | None = None,
        decided_at: datetime | str | None = None,
        review_ms: int | None = None,
        context: str | None = None,
        id: str | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Record a decision about a command (see DECISIONS); fsync'd before it returns."""
        if decision not in DECISIONS:
            raise ValueError(
                f"unknown decision {decision!r}; expected one of {', '.join(DECISIONS)}"
            )
        if review_ms is None and requested_at is not None and decided_at is not None:
            review_ms = _millis_between(requested_at, decided_at)
        entry: dict[str, Any] = dict(extra or {})
        entry.update(
            kind="decision",
            command=command,
            decision=decision,
            session=session,
            source=source,
            cwd=cwd,
            parts=[_text(p) for p in parts],
            score=score,
            level=_text(level) if level is not None else None,
            reasons=[_text(r) for r in reasons],
            rule_id=rule_id,
            reviewer=reviewer,
            requested_at=requested_at,
            decided_at=decided_at,
            review_ms=review_ms,
            context=context,
        )
        if id is not None:
            entry["id"] = id
        return self.append(entry)

    def record_exit(
        self, decision_id: str, exit_code: int, *, session: str | None = None
    ) -> dict[str, Any]:
        """Record how a command that a decision let through ended (joined by `log`, `log show`)."""
        return self.append(
            {"kind": "exit", "decision_id": decision_id, "exit_code": exit_code, "session": session}
        )

    def repair(self) -> list[str]:
        """Make the log appendable again without losing anything; return what was done.

        A torn last line is ended and quoted in a `torn_tail` record; a head file that is
        missing, unreadable or disagrees with the log is reset and the old head is quoted in a
        `head_reset` record, so the repair itself stays in the chain. A record that was edited
        or removed is not repaired: that is what `verify` is for.
        """
        done: list[str] = []

        def plan(tail: _Tail) -> list[dict[str, Any]]:
            problem = self._head_problem(tail)
            if tail.torn is not None:
                done.append(f"kept the torn last line ({len(tail.torn.data)} bytes) and marked it")
            if problem is None:
                return []
            done.append(f"reset the head file ({problem})")
            return [
                _prepare({"kind": "head_reset", "reason": problem, "old_head": self._raw_head()})
            ]

        self._write_locked([], plan=plan)
        return done

    def _write_locked(
        self,
        records: list[dict[str, Any]],
        plan: Callable[[_Tail], list[dict[str, Any]]] | None = None,
    ) -> list[dict[str, Any]]:
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            with locked(self._lock_path):
                tail = self._tail()
                if plan is not None:
                    records = plan(tail) + records
                    head = None
                else:
                    head, problem = self._check_head(tail)
                    if problem is not None:
                        raise StoreError(f"audit log in {self.directory}: {problem}; {REPAIR_HINT}")
                if not records and tail.torn is None:
                    return []
                return self._write(tail, records, head)
        except OSError as exc:
            raise StoreError(
                f"cannot write the audit log in {self.directory}: {exc.strerror or exc}"
            ) from exc

    def _write(
        self, tail: _Tail, records: list[dict[str, Any]], head: Head | None
    ) -> list[dict[str, Any]]:
        now = utc_now_iso()
        torn = tail.torn
        new: list[dict[str, Any]] = []
        if tail.record is None:
            genesis = {
                "kind": "genesis",
                "id": uuid.uuid4().hex,
                "log_id": secrets.token_hex(16),
                "format": FORMAT_VERSION,
            }
            new.append(genesis | (_torn_fields(torn, tail.segment) if torn else {}))
            if not self._head_path.exists():
                create_head(self._head_path)  # before the first record: see audit_head.py
        elif torn is not None:
            new.append(_prepare({"kind": "torn_tail"}) | _torn_fields(torn, tail.segment))
        new.extend(records)

        seq = tail.record["seq"] + 1 if tail.record else 0
        prev = tail.record["hash"] if tail.record else GENESIS_PREV_HASH
        sealed = []
        for record in new:
            record["time"] = now
            record = seal(record, seq, prev)
            sealed.append(record)
            seq, prev = seq + 1, record["hash"]

        target = tail.segment
        if target is None:
            target = self.directory / _segment_name(1)
        elif torn is None and file_size(target) >= self.segment_bytes:
            target = self.directory / _segment_name(_segment_number(target) + 1)
        # The newline ends a torn line so the new records never glue onto it.
        data = (b"\n" if torn is not None else b"") + b"".join(to_line(r) for r in sealed)
        append_durably(target, data)

        if tail.record is None:
            log_id = sealed[0]["log_id"]
        elif head is not None and head.log_id:
            log_id = head.log_id
        else:
            log_id = self._log_id()
        try:
            write_head(self._head_path, Head(seq=seq - 1, hash=prev, log_id=log_id))
        except OSError:
            pass  # the records are durable; a lagging head is accepted and caught up next time
        return sealed

    # --- the end of the log ------------------------------------------------------------------

    def _tail(self) -> _Tail:
        """The newest record and any torn line after it, reading only the end of the log."""
        segments = self.segments()
        newest = segments[-1] if segments else None
        torn: Line | None = None
        for path in reversed(segments):
            for line in lines_backward(path):
                if not line.complete:
                    if path != newest:
                        raise self._damaged(
                            path, line, "an older segment ends in an incomplete line"
                        )
                    torn = line
                    continue
                record = self._parse(path, line)
                if canonical(record).encode("ascii") != line.data or record.get(
                    "hash"
                ) != chain_hash(str(record.get("prev_hash")), record):
                    raise self._damaged(path, line, "the newest record does not match its hash")
                return _Tail(record, newest, torn)
        return _Tail(None, newest, torn)

    def _head_problem(self, tail: _Tail) -> str | None:
        return self._check_head(tail)[1]

    def _check_head(self, tail: _Tail) -> tuple[Head | None, str | None]:
        """The head, and why it disagrees with the log (None when it agrees or only lags)."""
        try:
            head = read_head(self._head_path)
        except HeadError as exc:
            return None, str(exc)
        last_seq = tail.record["seq"] if tail.record else -1
        if head is None:
            if tail.record is None:
                return None, None
            return None, f"the head file {self._head_path} is missing (deleted?)"
        if head.seq > last_seq:
            return head, (
                f"the head file names record {head.seq} but the log ends at record {last_seq}: "
                "records were removed from the end, or the head file was edited"
            )
        if head.seq < 0:
            return head, None  # created before the first record; the write after it was lost
        record = tail.record if head.seq == last_seq else self._find_seq(head.seq)
        if record is None or record.get("hash") != head.hash:
            return head, f"the head file does not match record {head.seq}: it or the log was edited"
        return head, None

    def _find_seq(self, seq: int) -> dict[str, Any] | None:
        for record in self._records_backward(self._snapshot(lock=False)):
            if record.get("seq") == seq:
                return record
            if isinstance(record.get("seq"), int) and record["seq"] < seq:
                return None
        return None

    def _log_id(self) -> str:
        try:
            head = read_head(self._head_path)
        except HeadError:
            head = None
        if head is not None and head.log_id:
            return head.log_id
        for record in self._records_forward(self._snapshot(lock=False)):
            return str(record.get("log_id", ""))
        return ""

    def _raw_head(self) -> str:
        try:
            return self._head_path.read_bytes().decode("utf-8", "replace").strip()
        except OSError:
            return ""

    # --- reading -----------------------------------------------------------------------------

    def segments(self) -> list[Path]:
        """The segment files, oldest first."""
        try:
            names = [p for p in self.directory.iterdir() if _SEGMENT.fullmatch(p.name)]
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise StoreError(
                f"cannot read the audit log in {self.directory}: {exc.strerror}"
            ) from exc
        return sorted(names, key=_segment_number)

    def _snapshot(self, *, lock: bool = True) -> list[tuple[Path, int]]:
        """Each segment with the size it has now: readers stop there, never mid-append.

        `lock=False` is for a writer that already holds the exclusive lock (flock locks
        belong to open files, so taking the shared one as well would deadlock).
        """
        if not self.directory.is_dir():
            return []
        if not lock:
            return [(path, file_size(path)) for path in self.segments()]
        return self._snapshot_with_head()[0]

    def _snapshot_with_head(
        self,
    ) -> tuple[list[tuple[Path, int]], Head | None, str | None]:
        """The snapshot plus the head as it was at that moment (and why it is unreadable)."""
        if not self.directory.is_dir():
            return [], None, None
        try:
            with locked(self._lock_path, shared=True):
                snapshot = [(path, file_size(path)) for path in self.segments()]
                try:
                    return snapshot, read_head(self._head_path), None
                except HeadError as exc:
                    return snapshot, None, str(exc)
        except OSError as exc:
            raise StoreError(
                f"cannot read the audit log in {self.directory}: {exc.strerror}"
            ) from exc

    def exists(self) -> bool:
        """True when at least one record has been written."""
        return any(size > 0 for _, size in self._snapshot())

    def iter_records(self, reverse: bool = False) -> Iterator[dict[str, Any]]:
        """Every record, oldest first, or newest first (cheap: reads the files from the end).

        Does not check hashes (that is `verify`); a torn last line is skipped (see
        `torn_tail`); any other line that is not a record raises StoreError naming the file
        and line.
        """
        snapshot = self._snapshot()
        if reverse:
            yield from self._records_backward(snapshot)
        else:
            yield from self._records_forward(snapshot)

    def _records_forward(self, snapshot: list[tuple[Path, int]]) -> Iterator[dict[str, Any]]:
        return self._records_of(_numbered_lines(snapshot))

    def _records_of(
        self, lines: Iterator[tuple[Path, int | None, Line]]
    ) -> Iterator[dict[str, Any]]:
        """The records among `lines` (in file order), leaving out torn lines."""
        current = next(lines, None)
        while current is not None:
            following = next(lines, None)
            path, number, line = current
            if not (following and _quotes(following, path, line)) and line.complete:
                yield self._parse(path, line, number)
            current = following

    def _records_backward(self, snapshot: list[tuple[Path, int]]) -> Iterator[dict[str, Any]]:
        quoted: tuple[str, int, bytes] | None = None
        for path, end in reversed(snapshot):
            for line in lines_backward(path, end):
                if not line.complete:
                    continue
                if quoted == (path.name, line.offset, line.data):
                    quoted = None
                    continue
                record = self._parse(path, line)
                quoted = _quoted_line(record)
                yield record

    def follow(
        self, interval: float = 0.5, sleep: Callable[[float], None] = time.sleep
    ) -> Iterator[dict[str, Any]]:
        """Yield the records appended after this call, as they arrive; never returns by itself.

        Where the log ends is noted now, not at the first `next()`, so a caller can list
        recent records afterwards and skip duplicates by `seq` without missing any.
        """
        position = {path.name: size for path, size in self._snapshot()}
        return self._follow(position, interval, sleep)

    def _follow(
        self, position: dict[str, int], interval: float, sleep: Callable[[float], None]
    ) -> Iterator[dict[str, Any]]:
        while True:
            for path, end in self._snapshot():
                start = position.get(path.name, 0)
                if end <= start:
                    continue
                complete: list[tuple[Path, int | None, Line]] = []
                for line in lines_forward(path, start, end):
                    if not line.complete:
                        break  # the rest of it is still being written, or it is torn
                    complete.append((path, None, line))
                    position[path.name] = line.offset + len(line.data) + 1
                yield from self._records_of(iter(complete))
            sleep(interval)

    def _parse(self, path: Path, line: Line, number: int | None = None) -> dict[str, Any]:
        try:
            record = json.loads(line.data)
        except ValueError as exc:
            raise self._damaged(path, line, f"not valid JSON ({exc})", number) from None
        if not isinstance(record, dict) or not isinstance(record.get("seq"), int):
            raise self._damaged(path, line, "not an audit record", number)
        return record

    def _damaged(self, path: Path, line: Line, why: str, number: int | None = None) -> StoreError:
        number = number or _line_number(path, line.offset)
        return StoreError(
            f"{path}: line {number}: {why}. The audit log was damaged or edited by hand; "
            "run `expacti log verify`."
        )

    def get(self, id_or_prefix: str) -> dict[str, Any] | None:
        """The record whose id is or starts with `id_or_prefix`; None if none; InputError if several."""
        prefix = id_or_prefix.strip().lower()
        if not re.fullmatch(r"[0-9a-f]{1,64}", prefix):
            raise InputError(f"not a record id: {id_or_prefix!r} (ids are hexadecimal)")
        needle = b'"id":"' + prefix.encode("ascii")
        found: dict[str, dict[str, Any]] = {}
        for path, end in self._snapshot():
            for line in lines_forward(path, 0, end):
                if needle in line.data and line.complete:
                    record = self._parse(path, line)
                    if str(record.get("id", "")).startswith(prefix):
                        found[record["id"]] = record
        if len(found) > 1:
            raise InputError(
                f"record id prefix {prefix!r} matches {len(found)} records; give more characters"
            )
        return next(iter(found.values()), None)

    def exit_for(self, decision_id: str) -> dict[str, Any] | None:
        """The newest `exit` record of a decision, if the command's end was recorded."""
        needle = b'"decision_id":' + json.dumps(decision_id).encode("ascii")
        for path, end in reversed(self._snapshot()):
            for line in lines_backward(path, end):
                if line.complete and needle in line.data:
                    record = self._parse(path, line)
                    if record.get("kind") == "exit" and record.get("decision_id") == decision_id:
                        return record
        return None

    def torn_tail(self) -> TornTail | None:
        """The incomplete last line a crash left behind, if there is one right now."""
        snapshot = self._snapshot()
        if not snapshot:
            return None
        path, end = snapshot[-1]
        for line in lines_backward(path, end):
            if line.complete:
                return None
            return TornTail(path, _line_number(path, line.offset), line.offset, line.data)
        return None

    # --- verifying ---------------------------------------------------------------------------

    def verify(self, progress: Callable[[int, int], None] | None = None) -> VerifyResult:
        """Recompute the whole chain from the files; trust nothing (not the head, not seq).

        Checks that every line is a record in canonical form, that `seq` runs from 0 without
        gaps, that record 0 is the genesis record, that each `prev_hash` is the hash before it
        and each `hash` matches the record, and that the head file agrees with the end of the
        log. `progress(done_bytes, total_bytes)` is called along the way.
        """
        # The head is read under the same lock as the sizes: an append landing during a long
        # verify must not look like a head that runs ahead of the log.
        snapshot, head, head_error = self._snapshot_with_head()
        total = sum(size for _, size in snapshot)
        if total == 0:
            if head is not None and head.seq >= 0:
                return VerifyResult(
                    False, 0, None, f"the log is empty but its head file names record {head.seq}"
                )
            return VerifyResult(True, 0, None, "no audit log yet")

        checker = _ChainChecker(watch_seq=head.seq if head is not None else None)
        recovered = 0
        lines = _numbered_lines(snapshot)
        current = next(lines, None)
        done = 0
        while current is not None:
            following = next(lines, None)
            path, number, line = current
            done += len(line.data) + 1
            if progress is not None and number % _PROGRESS_EVERY == 0:
                progress(min(done, total), total)
            try:
                if following is not None and _quotes(following, path, line):
                    recovered += 1
                    checker.expect_marker()
                elif not line.complete:
                    return VerifyResult(
                        False,
                        checker.count,
                        number,
                        f"{path.name} line {number}: the last line is incomplete ({len(line.data)} "
                        "bytes; a crash while writing?). It is kept and will be marked by the next "
                        "append or by `expacti log repair`.",
                        torn_tail=True,
                        path=path,
                    )
                else:
                    checker.check(line.data)
            except _Bad as exc:
                return VerifyResult(
                    False, checker.count, number, f"{path.name} line {number}: {exc}", path=path
                )
            current = following
        if progress is not None:
            progress(total, total)

        problem = checker.head_problem(head, head_error, self._head_path)
        if problem is not None:
            return VerifyResult(False, checker.count, None, problem, path=self._head_path)
        message = f"hash chain intact: {checker.count:,} records"
        if recovered:
            message += f" ({recovered} torn line(s) from earlier crashes kept and marked)"
        return VerifyResult(True, checker.count, None, message, recovered=recovered)


class _ChainChecker:
    """Checks records one after the other, remembering only what the next one needs."""

    def __init__(self, watch_seq: int | None = None) -> None:
        self.count = 0
        self.prev = GENESIS_PREV_HASH
        self.log_id: str | None = None
        self.watch_seq = watch_seq  # the record the head file names: its hash is kept
        self.watched_hash: str | None = None
        self._marker_due = False

    def expect_marker(self) -> None:
        self._marker_due = True

    def check(self, data: bytes) -> None:
        try:
            text = data.decode("ascii")  # canonical lines are pure ASCII
            record = parse_line(text)
        except ValueError:
            raise _Bad("not valid JSON (edited by hand or damaged)") from None
        if not isinstance(record, dict):
            raise _Bad("not a JSON object")
        if canonical(record) != text:
            raise _Bad("not in canonical form (the line was edited)")
        seq = record.get("seq")
        if type(seq) is not int or seq != self.count:
            raise _Bad(
                f"seq is {seq!r}, expected {self.count}: a record was removed, added or moved"
            )
        if record.get("prev_hash") != self.prev:
            raise _Bad("prev_hash does not match the record before: a record was removed or moved")
        stored = record.get("hash")
        if not isinstance(stored, str) or stored != chain_hash_of_line(self.prev, text, stored):
            raise _Bad("hash does not match the record: the record was changed")
        if (seq == 0) != (record.get("kind") == "genesis"):
            raise _Bad("the first record must be the only genesis record")
        if seq == 0:
            self.log_id = record.get("log_id") if isinstance(record.get("log_id"), str) else None
            if not self.log_id:
                raise _Bad("the genesis record has no log_id")
        marks_torn = "torn_b64" in record
        if marks_torn != self._marker_due:
            raise _Bad(
                "marks a torn line that is not there"
                if marks_torn
                else "a torn line is not marked by the record after it"
            )
        self._marker_due = False
        self.prev = stored
        self.count += 1
        if seq == self.watch_seq:
            self.watched_hash = stored

    def head_problem(self, head: Head | None, error: str | None, path: Path) -> str | None:
        last = self.count - 1
        if error is not None:
            return f"{error}; {RESET_HINT}"
        if head is None:
            return f"the head file {path} is missing (deleted?); {RESET_HINT}"
        if head.seq > last:
            return (
                f"the head file names record {head.seq} but the log ends at record {last}: "
                f"records were removed from the end, or the head file was edited; {RESET_HINT}"
            )
        if head.seq >= 0 and self.watched_hash != head.hash:
            return (
                f"the head file does not match record {head.seq}: it or the log was edited; "
                + RESET_HINT
            )
        if head.log_id and head.log_id != self.log_id:
            return "the head file belongs to another log (log_id differs)"
        return None


# --- helpers ---------------------------------------------------------------------------------


def _prepare(entry: Mapping[str, Any]) -> dict[str, Any]:
    """Validate an entry and turn it into a record body (no seq/hash/time yet)."""
    if not isinstance(entry, Mapping):
        raise ValueError("an audit entry is a mapping")
    kind = entry.get("kind")
    if not isinstance(kind, str) or not kind or kind == "genesis":
        raise ValueError("an audit entry needs a 'kind' (and only the log writes 'genesis')")
    reserved = CHAIN_FIELDS.union({"command_b64", "cwd_b64", "torn_b64"}) & entry.keys()
    if reserved:
        raise ValueError(f"fields set by the audit log itself: {', '.join(sorted(reserved))}")
    record: dict[str, Any] = {}
    for key, value in entry.items():
        if key in ("command", "cwd") and isinstance(value, (str, bytes)):
            record.update(encode_lossless(key, value))
        elif isinstance(value, (bytes, bytearray)):
            raise ValueError(f"audit field {key!r} is bytes; only command and cwd may be")
        elif isinstance(value, datetime):
            record[key] = iso(value)
        else:
            record[key] = clean_text(value.value if isinstance(value, Enum) else value)
    record["id"] = str(record.get("id") or uuid.uuid4().hex)
    try:
        canonical(record)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"audit entry is not JSON-serialisable: {exc}") from None
    return record


def _torn_fields(torn: Line, segment: Path | None) -> dict[str, Any]:
    return {
        "torn_b64": base64.b64encode(torn.data).decode("ascii"),
        "torn_bytes": len(torn.data),
        "torn_offset": torn.offset,
        "segment": segment.name if segment else "",
        "note": "a crash left this incomplete line; it is kept as it was",
    }


def _quoted_line(record: dict[str, Any]) -> tuple[str, int, bytes] | None:
    """(segment, offset, bytes) of the torn line a record marks, if it marks one."""
    b64 = record.get("torn_b64")
    if not isinstance(b64, str):
        return None
    try:
        data = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError):
        return None
    return (str(record.get("segment")), record.get("torn_offset", -1), data)


def _quotes(candidate: tuple[Path, int | None, Line], path: Path, line: Line) -> bool:
    """True when `candidate` is a record marking `line` (of `path`) as a kept torn line."""
    cpath, _, cline = candidate
    if cpath != path or b'"torn_b64"' not in cline.data:
        return False
    try:
        record = json.loads(cline.data)
    except ValueError:
        return False
    return isinstance(record, dict) and _quoted_line(record) == (path.name, line.offset, line.data)


def _numbered_lines(snapshot: list[tuple[Path, int]]) -> Iterator[tuple[Path, int, Line]]:
    for path, end in snapshot:
        for number, line in enumerate(lines_forward(path, 0, end), start=1):
            yield path, number, line


def _line_number(path: Path, offset: int) -> int:
    """1-based line number of the line starting at `offset` (reads the file up to there)."""
    count = 1
    with open(path, "rb") as handle:
        remaining = offset
        while remaining > 0:
            block = handle.read(min(1 << 20, remaining))
            if not block:
                break
            count += block.count(b"\n")
            remaining -= len(block)
    return count


def _segment_name(number: int) -> str:
    return f"audit-{number:06d}.jsonl"


def _segment_number(path: Path) -> int:
    match = _SEGMENT.fullmatch(path.name)
    return int(match.group(1)) if match else 0


def _text(value: Any) -> str:
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, str):
        return value
    return str(getattr(value, "text", value))


def _millis_between(start: datetime | str, end: datetime | str) -> int | None:
    try:
        a = parse_iso(start) if isinstance(start, str) else start
        b = parse_iso(end) if isinstance(end, str) else end
        return int((b - a).total_seconds() * 1000)
    except (ValueError, TypeError):
        return None
