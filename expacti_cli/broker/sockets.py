"""Where the broker listens, and the lock that makes sure only one broker runs at a time.

`socket_file()` finds the socket without importing pathlib (paths.py) in the common cases,
because `expacti exec` pays for every import on an agent's hot path.
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

SOCKET_NAME = "broker.sock"
LOCK_NAME = "broker.lock"  # held (flock) by the running broker for its whole life; holds its pid
LOG_NAME = "broker.log"
# sun_path holds 108 bytes on Linux; longer paths go through the directory's file descriptor.
_MAX_SUN_PATH = 100


def runtime_dir() -> Path:
    """The private (0700) directory holding the socket, lock and log."""
    from expacti_cli import paths

    directory = paths.ensure_private_dir(paths.runtime_dir())
    if directory.stat().st_mode & 0o077:
        os.chmod(directory, 0o700)
    return directory


def _runtime_dir() -> Path:
    from expacti_cli import paths

    return paths.runtime_dir()


def socket_path() -> Path:
    return _runtime_dir() / SOCKET_NAME


def socket_file() -> str:
    """str(socket_path()), computed like paths.runtime_dir() but without pathlib when
    EXPACTI_HOME or XDG_RUNTIME_DIR decides (tests/test_broker_protocol.py checks they agree)."""
    home = os.environ.get("EXPACTI_HOME", "").strip()
    if home:
        home = os.path.expanduser(home)
        if not os.path.isabs(home):
            home = os.path.join(os.getcwd(), home)  # like Path.absolute(): no normalisation
        return os.path.join(home, "run", SOCKET_NAME)
    xdg = os.environ.get("XDG_RUNTIME_DIR", "").strip()
    if xdg:
        return os.path.join(xdg, "expacti", SOCKET_NAME)
    return str(socket_path())


def lock_path() -> Path:
    return _runtime_dir() / LOCK_NAME


def log_path() -> Path:
    return _runtime_dir() / LOG_NAME


@contextlib.contextmanager
def addressable(path: str | os.PathLike[str]) -> Iterator[str]:
    """A name for `path` that fits in sun_path (a /proc/self/fd alias when it is too long)."""
    text = os.fspath(path)
    if len(os.fsencode(text)) < _MAX_SUN_PATH:
        yield text
        return
    fd = os.open(os.path.dirname(text), os.O_RDONLY | os.O_DIRECTORY)
    try:
        yield f"/proc/self/fd/{fd}/{os.path.basename(text)}"
    finally:
        os.close(fd)


def connect_unix(path: str | os.PathLike[str], timeout: float | None = None) -> socket.socket:
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


def broker_alive(path: str | os.PathLike[str] | None = None) -> bool:
    """True when a broker accepts connections on the socket."""
    try:
        connect_unix(path or socket_file(), timeout=1.0).close()
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
