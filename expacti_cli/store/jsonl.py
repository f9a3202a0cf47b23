"""Append-only JSON-lines files: a lock, durable whole-line appends, reading lines both ways.

Knows nothing about what the lines mean. Writers hold an exclusive `flock` on a separate lock
file while they append; readers take a shared lock just long enough to note where the file
ends, so they never see half of a line that is being written and never hold writers up.
"""

from __future__ import annotations

import errno
import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

BLOCK = 64 * 1024
FIRST_BLOCK = 4 * 1024
FILE_MODE = 0o600


@dataclass(frozen=True)
class Line:
    """One line of a file: where it starts, its bytes without the newline, and whether it had one."""

    offset: int
    data: bytes
    complete: bool  # False only for a last line without its newline (a torn tail)


@contextmanager
def locked(lock_path: Path, *, shared: bool = False) -> Iterator[None]:
    """Hold an flock on `lock_path` (created if needed). Shared for readers, exclusive for writers."""
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, FILE_MODE)
    except OSError:
        if not shared:
            raise
        # A reader of a log it may not write (read-only copy): appends cannot race it anyway.
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def fsync_dir(directory: Path) -> None:
    """Make a newly created file's directory entry durable."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def append_durably(path: Path, data: bytes) -> int:
    """Append `data` to `path` and fsync it; return the offset it starts at.

    The caller holds the writers' lock, so the bytes land as one contiguous run even if the
    kernel takes them in several writes. If writing fails part way (disk full), the partial
    bytes, which nobody was told about, are cut off again so no torn line is left behind.
    """
    created = not path.exists()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, FILE_MODE)
    try:
        start = os.fstat(fd).st_size
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                if written <= 0:
                    raise OSError(errno.EIO, "write returned no progress")
                view = view[written:]
        except OSError:
            _cut_back(fd, start)
            raise
        os.fsync(fd)
    finally:
        os.close(fd)
    if created:
        fsync_dir(path.parent)
    return start


def _cut_back(fd: int, size: int) -> None:
    try:
        if os.fstat(fd).st_size > size:
            os.ftruncate(fd, size)
    except OSError:
        pass  # the torn tail stays; the next append finds it and marks it


def file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def lines_forward(path: Path, start: int = 0, end: int | None = None) -> Iterator[Line]:
    """The lines of `path` from byte `start` up to byte `end` (default: the current end)."""
    with open(path, "rb") as handle:
        if end is None:
            end = os.fstat(handle.fileno()).st_size
        handle.seek(start)
        offset = start
        while offset < end:
            raw = handle.readline(end - offset)
            if not raw:
                break
            complete = raw.endswith(b"\n")
            yield Line(offset, raw[:-1] if complete else raw, complete)
            offset += len(raw)


def lines_backward(path: Path, end: int | None = None) -> Iterator[Line]:
    """The lines of `path` before byte `end`, last first, reading the file in blocks from the end.

    Cost is proportional to what is read, not to the file size: the newest records of a
    huge log come back at once.
    """
    with open(path, "rb") as handle:
        if end is None:
            end = os.fstat(handle.fileno()).st_size
        pos = end
        pending = b""  # bytes after the last newline seen so far, i.e. the line being assembled
        last = True
        block_size = FIRST_BLOCK  # most callers want only the newest line or few
        while pos > 0:
            size = min(block_size, pos)
            block_size = min(block_size * 4, BLOCK)
            pos -= size
            handle.seek(pos)
            block = handle.read(size) + pending
            # Every newline in `block` ends a line; the bytes before the first one may belong
            # to a line that continues into the previous block.
            parts = block.split(b"\n")
            pending = parts[0]
            line_end = pos + len(block)
            for chunk in reversed(parts[1:]):
                line_start = line_end - len(chunk)
                if last:
                    last = False
                    if chunk:  # bytes after the final newline: a torn tail
                        yield Line(line_start, chunk, False)
                else:
                    yield Line(line_start, chunk, True)
                line_end = line_start - 1
        if pending or (not last and end > 0):
            yield Line(0, pending, not last)
