"""A TinyDB storage that is safe with several processes and never destroys a file it can't read.

TinyDB's stock JSONStorage rewrites the file in place: a crash mid-write leaves half a file,
and two processes doing read-modify-write lose each other's updates. Here:

- every write goes to a temp file in the same directory, is fsync'd, then `os.replace`d over
  the old file (readers see the old or the new file, never a mix), and the directory is fsync'd;
- writers hold an exclusive `fcntl.flock` on a sidecar `<file>.lock`; callers wrap a whole
  read-modify-write in `with storage.lock:` so updates from other processes are not lost;
- a file that is not valid JSON, or not shaped like a TinyDB database, raises StoreError naming
  the file (with line and column for JSON errors). Nothing is reset or overwritten: TinyDB only
  writes after a successful read.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any

from tinydb.storages import Storage

from expacti_cli.errors import StoreError


class FileLock:
    """A re-entrant (within this object) exclusive flock on `path`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self._depth = 0

    @property
    def held(self) -> bool:
        return self._depth > 0

    def __enter__(self) -> FileLock:
        if self._depth == 0:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            except OSError as exc:
                raise StoreError(f"{self.path}: cannot open lock file: {exc.strerror}") from exc
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
            except BaseException:
                os.close(fd)
                raise
            self._fd = fd
        self._depth += 1
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._depth -= 1
        if self._depth == 0 and self._fd is not None:
            fd, self._fd = self._fd, None
            try:
                fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)


def read_json_file(path: Path) -> Any:
    """Load a JSON file; None when it is missing or empty. Errors name the file."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StoreError(f"{path}: cannot read: {exc.strerror}") from exc
    if not raw.strip():
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise StoreError(
            f"{path}: not valid UTF-8 (byte offset {exc.start}); fix or move the file away, "
            "expacti leaves it untouched"
        ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise StoreError(
            f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
            "fix or move the file away, expacti leaves it untouched"
        ) from None


def write_json_atomic(path: Path, data: Any) -> None:
    """Write `data` as JSON to `path` atomically and durably (temp file, fsync, replace)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    payload = json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise StoreError(f"{path}: cannot write: {exc.strerror}") from exc
        raise
    with contextlib.suppress(OSError):  # not every filesystem lets us fsync a directory
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def check_tinydb_shape(path: Path, data: Any) -> dict[str, dict[str, dict[str, Any]]]:
    """Return `data` if it looks like a TinyDB database ({table: {doc_id: {...}}})."""
    if not isinstance(data, dict):
        raise StoreError(f"{path}: expected a JSON object of tables, found {type(data).__name__}")
    for table, docs in data.items():
        if not isinstance(docs, dict):
            raise StoreError(f"{path}: table {table!r} is not a JSON object")
        for doc_id, doc in docs.items():
            if not (isinstance(doc_id, str) and doc_id.isdigit()):
                raise StoreError(f"{path}: table {table!r} has a bad document id {doc_id!r}")
            if not isinstance(doc, dict):
                raise StoreError(f"{path}: table {table!r}, document {doc_id} is not an object")
    return data


class SafeJSONStorage(Storage):
    """TinyDB storage: atomic, locked writes; loud, non-destructive errors on bad files."""

    def __init__(self, path: str | os.PathLike[str], lock: FileLock | None = None) -> None:
        super().__init__()
        self.path = Path(path)
        self.lock = lock or FileLock(self.path.with_name(self.path.name + ".lock"))

    def read(self) -> dict[str, dict[str, Any]] | None:
        data = read_json_file(self.path)
        return None if data is None else check_tinydb_shape(self.path, data)

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        with self.lock:
            write_json_atomic(self.path, data)

    def close(self) -> None:
        pass
