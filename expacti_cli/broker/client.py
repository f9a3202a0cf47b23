"""Talking to the broker from the CLI, starting it first when nobody listens.

Blocking sockets only: the CLI does one thing at a time, and importing asyncio here would
only slow down every gated command.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from expacti_cli.broker import protocol, sockets
from expacti_cli.errors import ExpactiError

if TYPE_CHECKING:
    import subprocess

EVENTS = frozenset({"pending", "resolved"})  # sent to subscribers at any time
START_TIMEOUT = 10.0  # seconds to wait for a freshly started broker to listen


class BrokerUnavailable(ExpactiError):
    """The broker cannot be reached (or started)."""


class BrokerRefused(ExpactiError):
    """The broker answered with an error (the message is its explanation)."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


class Connection:
    """One connection to the broker: send messages, read messages (JSON lines)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._buffer = b""
        # Events a subscribed connection received while `call` waited for its reply.
        self._events: list[dict[str, Any]] = []

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.sock.close()

    def send(self, message: dict[str, Any]) -> None:
        try:
            self.sock.sendall(protocol.encode(message))
        except OSError as exc:
            raise BrokerUnavailable(f"lost the connection to the broker: {exc}") from None

    def receive(self, timeout: float | None = None) -> dict[str, Any] | None:
        """The next message; None when the broker closed the connection.

        Raises TimeoutError when `timeout` passes first."""
        if self._events:
            return self._events.pop(0)
        deadline = None if timeout is None else time.monotonic() + timeout
        while b"\n" not in self._buffer:
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("no answer from the broker")
                self.sock.settimeout(left)
            else:
                self.sock.settimeout(None)
            try:
                chunk = self.sock.recv(65536)
            except TimeoutError:
                raise
            except OSError:
                return None
            if not chunk:
                return None
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        try:
            message = json.loads(line)
        except ValueError:
            return None  # a broker that sends garbage is as good as gone
        return message if isinstance(message, dict) else None

    def call(self, message: dict[str, Any], timeout: float | None = 30.0) -> dict[str, Any]:
        """Send one request and return its answer (raises BrokerRefused on an error reply)."""
        self.send(message)
        held = self._events
        self._events = []
        try:
            while (answer := self.receive(timeout)) is not None and answer.get("op") in EVENTS:
                held.append(answer)
        finally:
            self._events = held + self._events
        if answer is None:
            raise BrokerUnavailable("the broker closed the connection without answering")
        if answer.get("op") == "error":
            raise BrokerRefused(str(answer.get("error")), str(answer.get("code")))
        return answer

    def events(self) -> Iterator[dict[str, Any]]:
        """Messages until the broker closes the connection."""
        while (message := self.receive()) is not None:
            yield message


def start_broker() -> subprocess.Popen[bytes]:
    """Start a detached broker (it exits 0 at once if another one holds the lock)."""
    import subprocess  # only here: most clients find a broker already running

    directory = sockets.runtime_dir()
    log = os.open(directory / sockets.LOG_NAME, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "expacti_cli.broker"],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,  # not killed with the terminal or the client's group
            close_fds=True,
            cwd="/",
        )
    except OSError as exc:
        raise BrokerUnavailable(f"cannot start the broker: {exc}") from None
    finally:
        os.close(log)


def connect(autostart: bool = True, timeout: float = START_TIMEOUT) -> Connection:
    """A connection to the running broker, starting one first if `autostart`."""
    path = sockets.socket_file()
    try:
        return Connection(sockets.connect_unix(path))
    except OSError as exc:
        if not autostart:
            raise BrokerUnavailable(f"no broker is running ({path}: {exc.strerror})") from None
    started = start_broker()
    deadline = time.monotonic() + timeout
    delay = 0.005
    while True:
        try:
            return Connection(sockets.connect_unix(path))
        except OSError as exc:
            failed = started.poll() not in (None, 0)  # 0: another broker won the lock
            if failed or time.monotonic() > deadline:
                why = (
                    f"exited with status {started.returncode}"
                    if failed
                    else f"did not start within {timeout:g} s ({exc.strerror})"
                )
                raise BrokerUnavailable(f"the broker {why}; see {sockets.log_path()}") from None
        time.sleep(delay)
        delay = min(delay * 2, 0.1)


def call(op: str, *, autostart: bool = False, **fields: Any) -> dict[str, Any]:
    """One request on a fresh connection."""
    with connect(autostart=autostart) as conn:
        return conn.call({"op": op, **fields})


def pid_alive(pid: int) -> bool:
    """True while `pid` runs (a zombie waiting to be reaped counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            state = fh.read().rsplit(b")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in (b"Z", b"X")
