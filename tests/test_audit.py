"""The audit log store: appends, reading both ways, torn tails, the head witness, segments."""

from __future__ import annotations

import base64
import errno
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from expacti_cli.errors import InputError, StoreError
from expacti_cli.risk.model import Level
from expacti_cli.store import jsonl
from expacti_cli.store.audit import AuditLog, command_bytes, command_str
from expacti_cli.store.audit_format import GENESIS_PREV_HASH, canonical, chain_hash


@pytest.fixture
def log(tmp_path: Path) -> AuditLog:
    return AuditLog.open(tmp_path / "audit")


def segment(log: AuditLog, n: int = 1) -> Path:
    return log.directory / f"audit-{n:06d}.jsonl"


def fill(log: AuditLog, count: int) -> list[dict[str, Any]]:
    return [log.append({"kind": "config_set", "key": "k", "value": i}) for i in range(count)]


def lines_of(path: Path) -> list[bytes]:
    return path.read_bytes().split(b"\n")[:-1]


# --- the basics ------------------------------------------------------------------------------


def test_default_directory_is_the_audit_dir(expacti_home: Path) -> None:
    assert AuditLog.open().directory == expacti_home / "data" / "audit"


def test_open_creates_nothing(log: AuditLog) -> None:
    assert not log.exists()
    assert list(log.iter_records()) == []
    assert not log.directory.exists()


def test_first_append_writes_genesis_then_the_record(log: AuditLog) -> None:
    stored = log.append({"kind": "config_set", "key": "auto_approve_below", "value": 20})
    genesis, record = list(log.iter_records())
    assert genesis["kind"] == "genesis" and genesis["seq"] == 0
    assert genesis["prev_hash"] == GENESIS_PREV_HASH
    assert len(genesis["log_id"]) == 32
    assert record == stored
    assert record["seq"] == 1 and record["prev_hash"] == genesis["hash"]
    assert record["hash"] == chain_hash(genesis["hash"], record)
    assert len(record["id"]) == 32
    assert record["time"].endswith("Z") and len(record["time"]) == len("2024-05-01T12:00:00.123Z")


def test_each_line_is_the_canonical_record(log: AuditLog) -> None:
    fill(log, 3)
    for line, record in zip(lines_of(segment(log)), log.iter_records(), strict=True):
        assert line == canonical(record).encode("ascii")


def test_two_logs_get_different_ids(tmp_path: Path) -> None:
    ids = set()
    for name in ("a", "b"):
        AuditLog.open(tmp_path / name).append({"kind": "x"})
        ids.add(next(AuditLog.open(tmp_path / name).iter_records())["log_id"])
    assert len(ids) == 2


def test_files_are_private(log: AuditLog) -> None:
    fill(log, 1)
    assert log.directory.stat().st_mode & 0o777 == 0o700
    for path in log.directory.iterdir():
        assert path.stat().st_mode & 0o077 == 0, path


@pytest.mark.parametrize(
    "entry, message",
    [
        ({}, "kind"),
        ({"kind": ""}, "kind"),
        ({"kind": "genesis"}, "genesis"),
        ({"kind": "x", "seq": 4}, "seq"),
        ({"kind": "x", "hash": "00"}, "hash"),
        ({"kind": "x", "prev_hash": "00"}, "prev_hash"),
        ({"kind": "x", "command_b64": "AA=="}, "command_b64"),
        ({"kind": "x", "context": b"bytes"}, "bytes"),
        ({"kind": "x", "value": object()}, "JSON"),
    ],
)
def test_append_rejects_bad_entries(log: AuditLog, entry: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        log.append(entry)
    assert not log.exists()


def test_record_decision_stores_every_field(log: AuditLog) -> None:
    asked = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
    record = log.record_decision(
        command="psql prod -c 'DROP TABLE x'",
        decision="approved",
        session="sess-1",
        source="hook",
        cwd="/srv/app",
        parts=["psql prod -c 'DROP TABLE x'"],
        score=95,
        level=Level.CRITICAL,
        reasons=["database: DROP", "production target"],
        rule_id=None,
        reviewer="alice",
        requested_at=asked,
        decided_at=asked + timedelta(seconds=4, milliseconds=250),
        context="cleaning up",
    )
    stored = log.get(record["id"])
    assert stored == record
    assert stored["level"] == "CRITICAL"
    assert stored["review_ms"] == 4250
    assert stored["requested_at"] == "2024-05-01T12:00:00.000Z"
    assert stored["reasons"] == ["database: DROP", "production target"]
    assert command_str(stored) == "psql prod -c 'DROP TABLE x'"
    assert "command_b64" not in stored


def test_record_decision_refuses_unknown_decision(log: AuditLog) -> None:
    with pytest.raises(ValueError, match="unknown decision"):
        log.record_decision(command="ls", decision="maybe")


@pytest.mark.parametrize(
    "command",
    [b"ls \xff\xfe", b"echo a\x00b", b"\x00", "caf\udce9".encode("utf-8", "surrogateescape")],
)
def test_unclean_commands_are_stored_exactly(log: AuditLog, command: bytes) -> None:
    record = log.record_decision(command=command, decision="denied")
    stored = log.get(record["id"])
    assert stored is not None
    assert "command_b64" in stored
    assert command_bytes(stored) == command
    assert "\ufffd" in stored["command"] or "\x00" in stored["command"]


def test_surrogate_escaped_str_comes_back_as_the_same_str(log: AuditLog) -> None:
    text = os.fsdecode(b"rm caf\xe9")
    record = log.record_decision(command=text, decision="denied", cwd=os.fsdecode(b"/tmp/\xff"))
    stored = log.get(record["id"])
    assert stored is not None
    assert command_str(stored) == text
    assert base64.b64decode(stored["cwd_b64"]) == b"/tmp/\xff"


def test_exit_records_are_joined_by_decision_id(log: AuditLog) -> None:
    decision = log.record_decision(command="make", decision="approved")
    other = log.record_decision(command="make test", decision="approved")
    log.record_exit(decision["id"], 2)
    found = log.exit_for(decision["id"])
    assert found is not None and found["exit_code"] == 2 and found["kind"] == "exit"
    assert log.exit_for(other["id"]) is None


def test_get_by_prefix(log: AuditLog) -> None:
    records = [log.append({"kind": "x", "id": f"ab{i}0"}) for i in range(3)]
    assert log.get("ab10") == records[1]
    assert log.get("AB2") == records[2]
    assert log.get("ffff") is None
    with pytest.raises(InputError, match="matches 3 records"):
        log.get("ab")
    with pytest.raises(InputError, match="not a record id"):
        log.get("xyz!")


def test_reverse_iteration_is_newest_first(log: AuditLog) -> None:
    fill(log, 50)
    seqs = [r["seq"] for r in log.iter_records(reverse=True)]
    assert seqs == list(range(50, -1, -1))


def test_reverse_iteration_across_block_boundaries(log: AuditLog) -> None:
    # Records bigger than a read block, and lines that straddle blocks.
    big = [log.append({"kind": "x", "blob": "y" * size}) for size in (10, 70_000, 5, 130_000, 1)]
    back = [r for r in log.iter_records(reverse=True) if r["kind"] == "x"]
    assert back == big[::-1]


def test_follow_yields_records_appended_later(log: AuditLog) -> None:
    fill(log, 2)
    pending = [{"kind": "x", "n": 1}, {"kind": "x", "n": 2}]

    def sleep(_: float) -> None:
        if pending:
            log.append(pending.pop(0))

    stream = log.follow(sleep=sleep)
    assert [next(stream)["n"], next(stream)["n"]] == [1, 2]


# --- verify ----------------------------------------------------------------------------------


def test_verify_missing_log(log: AuditLog) -> None:
    result = log.verify()
    assert result.ok and result.count == 0 and "no audit log yet" in result.message


def test_verify_intact_log_and_progress(log: AuditLog) -> None:
    fill(log, 10)
    calls: list[tuple[int, int]] = []
    result = log.verify(progress=lambda done, total: calls.append((done, total)))
    assert result.ok, result.message
    assert result.count == 11
    assert result.message == "hash chain intact: 11 records"
    total = segment(log).stat().st_size
    assert calls[-1] == (total, total)


def rewrite(path: Path, lines: list[bytes]) -> None:
    path.write_bytes(b"".join(line + b"\n" for line in lines))


def test_verify_names_an_edited_line(log: AuditLog) -> None:
    fill(log, 5)
    lines = lines_of(segment(log))
    lines[3] = lines[3].replace(b'"value":2', b'"value":7')
    rewrite(segment(log), lines)
    result = log.verify()
    assert not result.ok
    assert result.first_bad_line == 4
    assert result.path == segment(log)
    assert "hash does not match" in result.message


def test_verify_catches_a_rehashed_record(log: AuditLog) -> None:
    # Recomputing the edited record's own hash breaks the link to the next one.
    fill(log, 5)
    records = list(log.iter_records())
    edited = dict(records[2], value=99)
    edited["hash"] = chain_hash(edited["prev_hash"], edited)
    lines = lines_of(segment(log))
    lines[2] = canonical(edited).encode()
    rewrite(segment(log), lines)
    result = log.verify()
    assert not result.ok and result.first_bad_line == 4
    assert "prev_hash" in result.message


def test_verify_catches_non_canonical_whitespace(log: AuditLog) -> None:
    fill(log, 2)
    lines = lines_of(segment(log))
    lines[1] = json.dumps(json.loads(lines[1]), sort_keys=True).encode()  # ", " separators
    rewrite(segment(log), lines)
    result = log.verify()
    assert not result.ok and result.first_bad_line == 2 and "canonical" in result.message


def test_verify_catches_a_removed_last_line_through_the_head(log: AuditLog) -> None:
    fill(log, 4)
    rewrite(segment(log), lines_of(segment(log))[:-1])
    result = log.verify()
    assert not result.ok
    assert "records were removed from the end" in result.message
    with pytest.raises(StoreError, match="removed from the end"):
        log.append({"kind": "x"})


@pytest.mark.parametrize(
    "edit",
    [
        lambda head: head | {"seq": head["seq"] - 1},
        lambda head: head | {"seq": 0},
        lambda head: head | {"hash": "f" * 64},
        lambda head: head | {"log_id": "0" * 32},
    ],
)
def test_verify_catches_an_edited_head(log: AuditLog, edit: Any) -> None:
    fill(log, 4)
    head_path = log.directory / "head.json"
    head_path.write_text(json.dumps(edit(json.loads(head_path.read_text()))))
    assert not log.verify().ok


def test_garbage_head_and_missing_head_block_appends_until_repair(log: AuditLog) -> None:
    fill(log, 3)
    head_path = log.directory / "head.json"
    for damage in (lambda: head_path.write_text("garbage"), head_path.unlink):
        damage()
        assert not log.verify().ok
        with pytest.raises(StoreError, match="expacti log repair"):
            log.append({"kind": "x"})
        done = log.repair()
        assert any("reset the head file" in line for line in done)
        newest = next(log.iter_records(reverse=True))
        assert newest["kind"] == "head_reset"
        assert log.verify().ok
        log.append({"kind": "x"})
        assert log.verify().ok


def test_a_lagging_head_is_accepted(log: AuditLog) -> None:
    # After a power loss the head (never fsync'd) may name an older record; never a newer one.
    fill(log, 3)
    head_path = log.directory / "head.json"
    before = head_path.read_bytes()
    fill(log, 2)
    head_path.write_bytes(before)
    assert log.verify().ok
    log.append({"kind": "x"})
    assert log.verify().ok


def test_iteration_names_file_and_line_of_garbage(log: AuditLog) -> None:
    fill(log, 3)
    lines = lines_of(segment(log))
    lines.insert(2, b"hello, I edited this")
    rewrite(segment(log), lines)
    for reverse in (False, True):
        with pytest.raises(StoreError, match=r"audit-000001\.jsonl: line 3: not valid JSON"):
            list(log.iter_records(reverse=reverse))
    assert log.verify().first_bad_line == 3


def test_append_refuses_when_the_newest_line_is_garbage(log: AuditLog) -> None:
    fill(log, 2)
    with open(segment(log), "ab") as handle:
        handle.write(b"{}\n")
    with pytest.raises(StoreError, match="line 4"):
        log.append({"kind": "x"})


# --- torn tails ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fragment",
    [b'{"command":"rm -rf /tmp/x","ki', b"\x00\x00\x00\x00", b"{", b"\xff"],
)
def test_torn_tail_is_reported_then_kept_and_marked(log: AuditLog, fragment: bytes) -> None:
    fill(log, 3)
    with open(segment(log), "ab") as handle:
        handle.write(fragment)

    result = log.verify()
    assert not result.ok and result.torn_tail and result.first_bad_line == 5
    torn = log.torn_tail()
    assert torn is not None and torn.data == fragment and torn.line == 5
    assert [r["seq"] for r in log.iter_records()] == [0, 1, 2, 3]

    record = log.append({"kind": "x"})
    assert record["seq"] == 5  # the marker took seq 4
    lines = lines_of(segment(log))
    assert lines[4] == fragment  # kept byte for byte, on its own line
    marker = json.loads(lines[5])
    assert marker["kind"] == "torn_tail" and marker["seq"] == 4
    assert base64.b64decode(marker["torn_b64"]) == fragment
    assert log.torn_tail() is None

    result = log.verify()
    assert result.ok and result.recovered == 1, result.message
    assert [r["kind"] for r in log.iter_records()][-2:] == ["torn_tail", "x"]
    assert [r["kind"] for r in log.iter_records(reverse=True)][:2] == ["x", "torn_tail"]


def test_torn_tail_that_looks_like_a_whole_record(log: AuditLog) -> None:
    fill(log, 2)
    lines = lines_of(segment(log))
    segment(log).write_bytes(b"".join(line + b"\n" for line in lines[:-1]) + lines[-1])
    assert log.verify().torn_tail
    assert log.repair()
    result = log.verify()
    assert result.ok and result.recovered == 1, result.message


def test_torn_first_line_is_marked_by_genesis(log: AuditLog) -> None:
    log.directory.mkdir(parents=True)
    segment(log).write_bytes(b'{"kind":"gen')
    log.append({"kind": "x"})
    genesis = next(log.iter_records())
    assert genesis["kind"] == "genesis" and "torn_b64" in genesis
    assert log.verify().ok


def test_a_marked_torn_line_cannot_be_edited(log: AuditLog) -> None:
    fill(log, 2)
    with open(segment(log), "ab") as handle:
        handle.write(b"partial")
    log.append({"kind": "x"})
    data = segment(log).read_bytes().replace(b"partial", b"partiaL")
    segment(log).write_bytes(data)
    assert not log.verify().ok


def test_repair_on_a_healthy_log_does_nothing(log: AuditLog) -> None:
    fill(log, 2)
    size = segment(log).stat().st_size
    assert log.repair() == []
    assert segment(log).stat().st_size == size


# --- failing writes --------------------------------------------------------------------------


def test_unwritable_directory_raises_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    with pytest.raises(StoreError, match="cannot write the audit log"):
        AuditLog.open(blocker / "audit").append({"kind": "x"})


def test_disk_full_mid_write_leaves_no_torn_line(
    log: AuditLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(log, 2)
    size = segment(log).stat().st_size
    real_write = os.write

    def half_then_enospc(fd: int, data: Any) -> int:
        if len(data) > 20:
            return real_write(fd, bytes(data[:20]))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(jsonl.os, "write", half_then_enospc)
    with pytest.raises(StoreError, match="No space left"):
        log.append({"kind": "x", "blob": "z" * 100})
    monkeypatch.undo()
    assert segment(log).stat().st_size == size
    assert log.verify().ok


def test_append_fsyncs_the_record_before_returning(
    log: AuditLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(log, 1)
    synced: list[int] = []
    real_fsync = os.fsync

    def spy(fd: int) -> None:
        real_fsync(fd)
        synced.append(os.fstat(fd).st_size)

    monkeypatch.setattr(jsonl.os, "fsync", spy)
    log.append({"kind": "x"})
    assert segment(log).stat().st_size in synced


def test_failed_fsync_raises_store_error(log: AuditLog, monkeypatch: pytest.MonkeyPatch) -> None:
    fill(log, 1)

    def broken_fsync(fd: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(jsonl.os, "fsync", broken_fsync)
    with pytest.raises(StoreError, match="Input/output error"):
        log.append({"kind": "x"})


# --- segments --------------------------------------------------------------------------------


def test_segments_rotate_and_the_chain_runs_across(tmp_path: Path) -> None:
    log = AuditLog.open(tmp_path / "audit", segment_bytes=1500)
    records = fill(log, 40)
    assert len(log.segments()) > 3
    assert log.verify().ok
    assert [r["seq"] for r in log.iter_records(reverse=True)] == list(range(40, -1, -1))
    assert log.get(records[0]["id"]) == records[0]
    # Each segment but the first starts with a record chained to the last of the one before.
    first = json.loads(lines_of(log.segments()[1])[0])
    last = json.loads(lines_of(log.segments()[0])[-1])
    assert first["prev_hash"] == last["hash"]


def test_a_missing_middle_segment_is_caught(tmp_path: Path) -> None:
    log = AuditLog.open(tmp_path / "audit", segment_bytes=1500)
    fill(log, 40)
    middle = log.segments()[1]
    middle.unlink()
    result = log.verify()
    assert not result.ok and "seq" in result.message


def test_a_missing_last_segment_is_caught(tmp_path: Path) -> None:
    log = AuditLog.open(tmp_path / "audit", segment_bytes=1500)
    fill(log, 40)
    log.segments()[-1].unlink()
    assert not log.verify().ok
    with pytest.raises(StoreError):
        log.append({"kind": "x"})


def test_an_equivalent_escape_is_still_an_edit(log: AuditLog) -> None:
    # `\u00e9` and `\u00E9` decode to the same text: only the byte-exact canonical check sees it.
    log.record_decision(command="echo café", decision="approved")
    data = segment(log).read_bytes()
    assert b"\\u00e9" in data
    segment(log).write_bytes(data.replace(b"\\u00e9", b"\\u00E9"))
    result = log.verify()
    assert not result.ok and "canonical" in result.message
