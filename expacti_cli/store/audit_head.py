"""The head file: a witness of the newest record (seq, hash), written after every append.

The hash chain cannot show that records were cut off the end of the log. The head can, as
long as whoever cut them did not also rewrite the head: an append or verify that finds the
log shorter than the head, or the head naming a hash the log does not have, refuses to go
on. It is a witness, never a source of truth: verify recomputes everything from the log and
only compares. It is not fsync'd (that would double the cost of an append), so after a
power loss it may lag behind the log; it can never run ahead, because it is written only
after the records it names are durable.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from expacti_cli.store.jsonl import FILE_MODE, fsync_dir

HEAD_SIZE = 256  # fixed size, rewritten in place with one pwrite


@dataclass(frozen=True)
class Head:
    seq: int  # -1: created, nothing recorded yet
    hash: str
    log_id: str


class HeadError(Exception):
    """The head file exists but cannot be read as a head."""


def read_head(path: Path) -> Head | None:
    """The head, or None when there is no head file. Raises HeadError on garbage."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        data = json.loads(raw.decode("ascii"))
        head = Head(seq=data["seq"], hash=data["hash"], log_id=data["log_id"])
    except (ValueError, KeyError, TypeError) as exc:
        raise HeadError(f"{path} is not a head file ({exc})") from None
    if not (
        isinstance(head.seq, int) and isinstance(head.hash, str) and isinstance(head.log_id, str)
    ):
        raise HeadError(f"{path} is not a head file (wrong field types)")
    return head


def head_bytes(head: Head) -> bytes:
    text = json.dumps(
        {"seq": head.seq, "hash": head.hash, "log_id": head.log_id},
        sort_keys=True,
        separators=(",", ":"),
    )
    return text.encode("ascii").ljust(HEAD_SIZE - 1) + b"\n"


def create_head(path: Path) -> None:
    """Create an empty head (seq -1) durably, before the first record is written."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, FILE_MODE)
    try:
        os.write(fd, head_bytes(Head(seq=-1, hash="", log_id="")))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    fsync_dir(path.parent)


def write_head(path: Path, head: Head) -> None:
    """Overwrite the head in place (one pwrite of a fixed-size block; no fsync, see module doc)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, FILE_MODE)
    try:
        os.pwrite(fd, head_bytes(head), 0)
    finally:
        os.close(fd)
