"""The on-disk form of an audit record: canonical JSON, the hash chain, lossless commands.

Pure functions, no I/O. A record is one JSON object on one line, serialised canonically
(sorted keys, compact separators, ASCII only) so that the same record always has the same
bytes; `hash = sha256(prev_hash + canonical(record without "hash"))`. ASCII-only output also
means the file itself holds no raw control, bidi or zero-width character: `cat` and `less`
show it safely.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime
from typing import Any

FORMAT_VERSION = 1
GENESIS_PREV_HASH = "0" * 64

# Every decision a gate can record (issue 2 item 8).
DECISIONS = (
    "approved",
    "denied",
    "auto_approved_rule",
    "auto_approved_threshold",
    "timed_out",
    "withdrawn",
)
# Fields the log sets itself; an entry passed to `append` must not carry them.
CHAIN_FIELDS = frozenset({"seq", "prev_hash", "hash"})


_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=True)
_DECODER = json.JSONDecoder()


def canonical(record: dict[str, Any]) -> str:
    """The one serialisation of `record` that is stored and hashed."""
    return _ENCODER.encode(record)


def parse_line(text: str) -> Any:
    """json.loads without its per-call overhead (verify parses every line of the log)."""
    return _DECODER.decode(text)


def chain_hash(prev_hash: str, record: dict[str, Any]) -> str:
    """sha256(prev_hash + canonical(record without "hash")), hex."""
    body = {k: v for k, v in record.items() if k != "hash"}
    return hashlib.sha256((prev_hash + canonical(body)).encode("ascii")).hexdigest()


def chain_hash_of_line(prev_hash: str, line: str, stored_hash: str) -> str:
    """chain_hash for a record already known to be stored canonically as `line`.

    The canonical body is the line without its top-level `"hash":"..."` member, so it is cut
    out of the text instead of serialising the record again (verify's hot loop). Should a
    nested value repeat the member verbatim, the wrong one is cut and the record fails to
    verify: this can only err towards reporting damage, never towards hiding it.
    """
    member = '"hash":' + _ENCODER.encode(stored_hash)
    at = line.find("," + member)
    if at >= 0:
        body = line[:at] + line[at + 1 + len(member) :]
    elif line.startswith("{" + member + ","):
        body = "{" + line[len(member) + 2 :]
    elif line == "{" + member + "}":
        body = "{}"
    else:
        return ""
    return hashlib.sha256((prev_hash + body).encode("ascii")).hexdigest()


def seal(record: dict[str, Any], seq: int, prev_hash: str) -> dict[str, Any]:
    """Return `record` with seq, prev_hash and hash set: ready to be written."""
    sealed = {k: v for k, v in record.items() if k not in CHAIN_FIELDS}
    sealed["seq"] = seq
    sealed["prev_hash"] = prev_hash
    sealed["hash"] = chain_hash(prev_hash, sealed)
    return sealed


def to_line(record: dict[str, Any]) -> bytes:
    return canonical(record).encode("ascii") + b"\n"


def utc_now_iso() -> str:
    """UTC time in ISO 8601 with milliseconds: 2024-05-01T12:00:00.123Z."""
    return iso(datetime.now(UTC))


def iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.astimezone()  # a naive time is local time
    text = moment.astimezone(UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    """Parse a stored time back (raises ValueError on garbage)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# --- lossless text ---------------------------------------------------------------------------


def to_bytes(text: str | bytes) -> bytes:
    """The exact bytes of a command given as bytes or as str.

    A str that came from the OS (argv, a file name) carries undecodable bytes as lone
    surrogates (surrogateescape): those turn back into the original bytes. Other lone
    surrogates (from JSON `\\ud800` escapes) cannot be executed as they are; they are kept
    with surrogatepass so that nothing is lost.
    """
    if isinstance(text, bytes):
        return text
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


def is_clean(data: bytes) -> bool:
    """True when `data` is valid UTF-8 without NUL: plain JSON text represents it as is."""
    if b"\0" in data:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def encode_lossless(name: str, value: str | bytes) -> dict[str, str]:
    """Fields for a value that must be kept exactly: `name` (text) and maybe `name_b64`.

    Clean text is stored as text only. Anything else is stored as text with U+FFFD for
    display and search, plus the exact bytes in base64: the `_b64` field is authoritative.
    """
    data = to_bytes(value)
    if is_clean(data):
        return {name: data.decode("utf-8")}
    return {
        name: data.decode("utf-8", "replace"),
        f"{name}_b64": base64.b64encode(data).decode("ascii"),
    }


def decode_lossless(record: dict[str, Any], name: str) -> bytes | None:
    """The exact bytes of field `name` of a stored record (None when absent)."""
    b64 = record.get(f"{name}_b64")
    if isinstance(b64, str):
        return base64.b64decode(b64, validate=True)
    value = record.get(name)
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    return None


def command_bytes(record: dict[str, Any]) -> bytes:
    """The exact bytes of a record's command (b"" for records without one)."""
    return decode_lossless(record, "command") or b""


def command_str(record: dict[str, Any]) -> str:
    """The exact command as str; undecodable bytes come back surrogate-escaped (os.fsdecode)."""
    return command_bytes(record).decode("utf-8", "surrogateescape")


def clean_text(value: Any) -> Any:
    """Replace lone surrogates in every str of a JSON-like value (other fields are not lossless)."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return to_bytes(value).decode("utf-8", "replace")
        return value
    if isinstance(value, dict):
        return {str(clean_text(k)): clean_text(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean_text(v) for v in value]
    return value
