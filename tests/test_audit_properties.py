"""Property tests: no tampering verifies, and commands come back byte for byte."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from expacti_cli.store.audit import AuditLog, command_bytes, command_str
from expacti_cli.store.audit_format import decode_lossless, encode_lossless

RECORDS = 6  # genesis + 6 records in the pristine log


@pytest.fixture(scope="module")
def pristine() -> Iterator[Path]:
    """A small log with varied records, built once; each example works on a copy."""
    with tempfile.TemporaryDirectory() as tmp:
        log = AuditLog.open(Path(tmp) / "audit")
        decision = log.record_decision(
            command=b"rm -rf \xff\x00 build", decision="approved", score=70, level="HIGH"
        )
        log.record_exit(decision["id"], 0)
        log.record_decision(command="git status", decision="auto_approved_rule", rule_id="r1")
        log.append({"kind": "rule_added", "rule": {"pattern": "npm test", "kind": "exact"}})
        log.append({"kind": "config_set", "key": "auto_approve_below", "value": 20})
        log.record_decision(command="psql prod", decision="denied", context="é \u202e")
        yield log.directory


def tampered_copy(pristine: Path, data: bytes) -> AuditLog:
    target = Path(tempfile.mkdtemp())
    shutil.copytree(pristine, target / "audit")
    (target / "audit" / "audit-000001.jsonl").write_bytes(data)
    return AuditLog.open(target / "audit")


def pristine_bytes(pristine: Path) -> bytes:
    return (pristine / "audit-000001.jsonl").read_bytes()


def test_pristine_log_verifies(pristine: Path) -> None:
    result = AuditLog.open(pristine).verify()
    assert result.ok and result.count == RECORDS + 1


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(position=st.integers(min_value=0), value=st.integers(min_value=0, max_value=255))
def test_any_single_byte_change_fails_verification(
    pristine: Path, position: int, value: int
) -> None:
    data = bytearray(pristine_bytes(pristine))
    position %= len(data)
    assume(data[position] != value)
    data[position] = value
    log = tampered_copy(pristine, bytes(data))
    try:
        assert not log.verify().ok
    finally:
        shutil.rmtree(log.directory.parent)


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_deleting_swapping_or_duplicating_lines_fails(pristine: Path, data: st.DataObject) -> None:
    lines = pristine_bytes(pristine).split(b"\n")[:-1]
    action = data.draw(st.sampled_from(["delete", "swap", "duplicate"]))
    i = data.draw(st.integers(0, len(lines) - 1))
    if action == "delete":
        del lines[i]
    elif action == "swap":
        j = data.draw(st.integers(0, len(lines) - 1).filter(lambda j: j != i))
        lines[i], lines[j] = lines[j], lines[i]
    else:
        lines.insert(i, lines[i])
    log = tampered_copy(pristine, b"".join(line + b"\n" for line in lines))
    try:
        assert not log.verify().ok
    finally:
        shutil.rmtree(log.directory.parent)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    field=st.sampled_from(["command", "decision", "score", "time", "session", "id", "seq", "kind"]),
    line_index=st.integers(min_value=0, max_value=RECORDS),
    replacement=st.one_of(st.text(max_size=20), st.integers(), st.none(), st.booleans()),
)
def test_changing_any_field_fails_even_when_the_line_stays_canonical(
    pristine: Path, field: str, line_index: int, replacement: object
) -> None:
    lines = pristine_bytes(pristine).split(b"\n")[:-1]
    record = json.loads(lines[line_index])
    assume(record.get(field, object()) != replacement)
    record[field] = replacement
    lines[line_index] = json.dumps(
        record, sort_keys=True, separators=(",", ":"), ensure_ascii=True
    ).encode()
    log = tampered_copy(pristine, b"".join(line + b"\n" for line in lines))
    try:
        assert not log.verify().ok
    finally:
        shutil.rmtree(log.directory.parent)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(head_seq=st.integers(-5, 50), head_hash=st.text("0123456789abcdef", min_size=0, max_size=64))
def test_an_edited_head_fails(pristine: Path, head_seq: int, head_hash: str) -> None:
    head = json.loads((pristine / "head.json").read_text())
    assume((head_seq, head_hash) != (head["seq"], head["hash"]))
    assume(head_seq >= 0)  # seq -1 means "nothing recorded yet", a state that may lag
    target = Path(tempfile.mkdtemp())
    shutil.copytree(pristine, target / "audit")
    (target / "audit" / "head.json").write_text(
        json.dumps(head | {"seq": head_seq, "hash": head_hash})
    )
    try:
        assert not AuditLog.open(target / "audit").verify().ok
    finally:
        shutil.rmtree(target)


@given(st.binary(max_size=300))
def test_lossless_encoding_round_trips_any_bytes(data: bytes) -> None:
    fields = encode_lossless("command", data)
    json_text = json.dumps(fields, ensure_ascii=True)
    assert decode_lossless(json.loads(json_text), "command") == data


@given(st.binary(max_size=200))
def test_os_decoded_str_round_trips(data: bytes) -> None:
    text = data.decode("utf-8", "surrogateescape")  # what argv looks like in Python
    fields = encode_lossless("command", text)
    assert command_str(json.loads(json.dumps(fields))) == text


@pytest.fixture(scope="module")
def shared_log() -> Iterator[AuditLog]:
    with tempfile.TemporaryDirectory() as tmp:
        yield AuditLog.open(Path(tmp) / "audit")


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(command=st.binary(max_size=200), cwd=st.binary(min_size=1, max_size=40))
def test_stored_commands_read_back_exactly(
    shared_log: AuditLog, command: bytes, cwd: bytes
) -> None:
    record = shared_log.record_decision(command=command, decision="denied", cwd=cwd)
    stored = next(shared_log.iter_records(reverse=True))
    assert stored["id"] == record["id"]
    assert command_bytes(stored) == command
    assert decode_lossless(stored, "cwd") == cwd
    raw = (shared_log.segments()[-1]).read_bytes()
    assert raw.isascii()  # no raw control or bidi character lands in the file


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=10,
)


@given(
    body=st.dictionaries(st.text(max_size=8), json_values, max_size=6),
    prev=st.text("0123456789abcdef", min_size=64, max_size=64),
)
def test_hash_from_the_line_equals_the_hash_of_the_record(
    body: dict[str, object], prev: str
) -> None:
    from expacti_cli.store.audit_format import canonical, chain_hash, chain_hash_of_line, seal

    record = seal(body, 1, prev)
    assert chain_hash_of_line(prev, canonical(record), record["hash"]) == chain_hash(prev, record)
