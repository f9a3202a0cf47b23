"""Checks of the broker: its private directory, its socket, and whether it answers."""

from __future__ import annotations

import fcntl
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from expacti_cli import paths
from expacti_cli.doctor.files import shown
from expacti_cli.doctor.model import Check, fail, ok, warn
from expacti_cli.ui.escape import escape_for_display


def runtime_directory() -> Iterator[Check]:
    """The socket directory is ours and private (0700): others must not reach the broker."""
    directory = paths.runtime_dir()
    try:
        info = directory.lstat()
    except FileNotFoundError:
        yield ok("runtime-dir", f"{shown(directory)} does not exist yet (created 0700 on demand)")
        return
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
        yield fail(
            "runtime-dir",
            f"{shown(directory)} is not a directory (a symlink or a file)",
            f"remove {shown(directory)}; expacti creates it again, private",
        )
        return
    if info.st_uid != os.getuid():
        yield fail(
            "runtime-dir",
            f"{shown(directory)} belongs to uid {info.st_uid}, not to you",
            f"remove {shown(directory)} (as its owner) or set EXPACTI_HOME to a directory you own",
        )
        return
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o077:
        yield fail(
            "runtime-dir",
            f"{shown(directory)} has mode {mode:04o}: other users can look into the broker's directory",
            f"chmod 700 {shown(directory)}",
        )
        return
    yield ok("runtime-dir", f"{shown(directory)} is private (mode {mode:04o})")


def _lock_is_free(lock: Path) -> bool | None:
    """True when no broker holds the lock file, False when one does, None without a file."""
    try:
        fd = os.open(lock, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # closing releases a lock we took
    return True


def _socket_problem(path: Path) -> str | None:
    try:
        info = path.lstat()
    except FileNotFoundError:
        return None
    mode = stat.S_IMODE(info.st_mode)
    if not stat.S_ISSOCK(info.st_mode):
        return f"{shown(path)} is not a socket"
    if info.st_uid != os.getuid():
        return f"{shown(path)} belongs to uid {info.st_uid}, not to you"
    if mode & 0o077:
        return f"{shown(path)} has mode {mode:04o} (expected 0600)"
    return None


def broker(start: bool) -> Iterator[Check]:
    """The broker answers (started first when `start`), and its socket is private."""
    from expacti_cli import __version__
    from expacti_cli.broker import client, protocol, sockets

    socket = sockets.socket_path()
    log = sockets.log_path()
    problem = _socket_problem(socket)
    if problem:
        yield fail(
            "socket", problem, "run `expacti daemon stop`; the broker makes a new one at start"
        )
        return
    running = sockets.broker_alive()
    if not running and socket.exists() and _lock_is_free(sockets.lock_path()) is not False:
        yield warn(
            "socket",
            f"{shown(socket)} is left over from a broker that is gone (stale)",
            "nothing to do: the next broker replaces it (or remove the file)",
        )
    if not running and not start:
        yield warn(
            "broker",
            "not running (not started: --no-start, or the runtime directory is not private)",
            "`expacti daemon start`, or let the next gated command start it",
        )
        return
    try:
        with client.connect(autostart=start) as conn:
            status = conn.call({"op": "status"}, timeout=10.0)
    except client.BrokerUnavailable as exc:
        yield fail("broker", f"cannot reach or start the broker: {exc}", f"read {shown(log)}")
        return
    except client.BrokerRefused as exc:
        yield fail(
            "broker",
            f"the broker refused a status request: {exc}",
            "`expacti daemon stop`, then try again",
        )
        return
    started = "" if running else " (started now; it exits when idle)"
    version = status.get("version")
    summary = escape_for_display(
        f"pid {status.get('pid')}{started}, protocol {status.get('protocol')}"
        + (f", version {version}" if version else "")
        + f", {status.get('pending', 0)} pending, {status.get('reviewers', 0)} reviewer(s)"
    )
    if status.get("protocol") != protocol.VERSION:
        yield fail(
            "broker",
            f"{summary}: speaks protocol {status.get('protocol')}, this CLI {protocol.VERSION}",
            "`expacti daemon stop` (the next command starts the current broker)",
        )
    elif version and version != __version__:
        yield warn(
            "broker",
            f"{summary}: an older or newer expacti than this CLI ({__version__})",
            "`expacti daemon stop` (the next command starts the current broker)",
        )
    else:
        yield ok("broker", summary)
    problem = _socket_problem(socket)
    if problem:
        yield fail(
            "socket", problem, "run `expacti daemon stop`; the broker makes a new one at start"
        )
    else:
        yield ok("socket", f"{shown(socket)} (mode 0600)")
