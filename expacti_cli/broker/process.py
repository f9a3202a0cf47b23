"""The broker process: take the lock, listen on the socket, serve until stopped or idle."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import socket
import time

from expacti_cli.broker import sockets
from expacti_cli.broker.server import Broker, log


def _take_lock(fd: int, deadline: float) -> bool:
    """Become the one broker: hold the lock. False when another live broker already serves."""
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            # Held: a broker is serving, starting up, or shutting down. Only the first
            # case means we are not needed; otherwise wait for the lock.
            if sockets.broker_alive() or time.monotonic() > deadline:
                return False
            time.sleep(0.05)


def _listen() -> socket.socket:
    path = sockets.socket_path()
    # We hold the lock, so no broker uses this path: a socket file here is stale.
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)  # the socket is created 0600: only our user may connect
    try:
        with sockets.addressable(path) as name:
            listener.bind(name)
    finally:
        os.umask(old)
    os.chmod(path, 0o600)
    listener.listen(64)
    listener.setblocking(False)
    return listener


def main() -> int:
    """Run one broker until it is stopped or idle. Exit 0 also when another one already runs."""
    directory = sockets.runtime_dir()
    fd = os.open(sockets.lock_path(), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if not _take_lock(fd, time.monotonic() + 5.0):
            return 0
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        listener = _listen()
        os.chdir("/")  # do not keep the starting client's directory busy
        log(f"listening on {directory / sockets.SOCKET_NAME}")
        try:
            asyncio.run(Broker().run(listener))
        finally:
            with contextlib.suppress(FileNotFoundError):
                sockets.socket_path().unlink()
            listener.close()
        log("stopped")
        return 0
    finally:
        os.close(fd)  # releases the lock, after the socket is gone
