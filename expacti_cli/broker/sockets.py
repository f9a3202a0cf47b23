"""Where the broker listens, and the lock that makes sure only one broker runs at a time."""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Iterator
from pathlib import Path

from expacti_cli import paths

SOCKET_NAME = "broker.sock"
LOCK_NAME = "broker.lock"  # held (flock) by the running broker for its whole life; holds its pid
LOG_NAME = "broker.log"
# sun_path holds 108 bytes on Linux; longer paths go through the directory's file descriptor.
_MAX_SUN_PATH = 100


def runtime_dir() -> Path:
    """The private (0700) directory holding the socket, lock and log."""
    directory = paths.ensure_private_dir(paths.runtime_dir())
    if directory.stat().st_mode & 0o077:
        os.chmod(directory, 0o700)
    return directory


def socket_path() -> Path:
    return paths.runtime_dir() / SOCKET_NAME


def lock_path() -> Path:
    return paths.runtime_dir() / LOCK_NAME


def log_path() -> Path:
    return paths.runtime_dir() / LOG_NAME


@contextlib.contextmanager
def addressable(path: Path) -> Iterator[str]:
    """A name for `path` that fits in sun_path (a /proc/self/fd alias when it is too long)."""
    if len(os.fsencode(path)) < _MAX_SUN_PATH:
        yield str(path)
        return
    fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        yield f"/proc/self/fd/{fd}/{path.name}"
    finally:
        os.close(fd)


def connect_unix(path: Path, timeout: float | None = None) -> socket.socket:
    """A connected socket to `path` (raises OSError when nothing listens there)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        with addressable(path) as name:
            sock.connect(name)
        sock.settimeout(None)
    except BaseException:
        sock.close()
        raise
    return sock


def broker_alive(path: Path | None = None) -> bool:
    """True when a broker accepts connections on the socket."""
    try:
        connect_unix(path or socket_path(), timeout=1.0).close()
    except OSError:
        return False
    return True


def recorded_pid() -> int | None:
    """The pid the running (or last) broker wrote into its lock file."""
    try:
        text = lock_path().read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None
