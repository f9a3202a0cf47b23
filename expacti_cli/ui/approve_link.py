"""The reviewer's connection to the broker: subscribe, read events on a thread, send decisions.

Kept apart from the app so the app can be driven by a fake connection in tests. Events go to
`on_event` from the reader thread (the app hands them to its event loop). When the broker goes
away the link reports `{"op": "link", "up": False}`, reconnects through the factory (which
starts a new broker on demand) and subscribes again; the broker's fresh `requests` list then
replaces the old one.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable
from typing import Any, Protocol

from expacti_cli.errors import ExpactiError

SUBSCRIBE_TIMEOUT = 10.0
LINK = "link"  # op of the link's own events about the connection: {"op": "link", "up": bool}


class EventConnection(Protocol):
    """What the link needs of a connection (client.Connection, or a fake in tests)."""

    def send(self, message: dict[str, Any]) -> None: ...

    def receive(self, timeout: float | None = None) -> dict[str, Any] | None: ...

    def close(self) -> None: ...


ConnectionFactory = Callable[[], EventConnection]


class BrokerLink:
    """One subscribed connection at a time, re-made when it drops, until `stop()`.

    `hello` is the first message on each connection and `first_op` the answer expected to
    it: a reviewer subscribes to everything; `expacti run` watches its own session."""

    def __init__(
        self,
        factory: ConnectionFactory,
        on_event: Callable[[dict[str, Any]], None],
        *,
        retry_delay: float = 1.0,
        hello: dict[str, Any] | None = None,
        first_op: str = "requests",
    ) -> None:
        self._factory = factory
        self._on_event = on_event
        self._retry_delay = retry_delay
        self._hello = hello or {"op": "subscribe"}
        self._first_op = first_op
        self._conn: EventConnection | None = None
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def subscribe(self) -> dict[str, Any]:
        """Connect and subscribe now; return the broker's first answer (the `requests` list).

        Raises what the factory raises, or ExpactiError when the broker refuses."""
        conn = self._factory()
        try:
            conn.send(self._hello)
            first = conn.receive(SUBSCRIBE_TIMEOUT)
        except TimeoutError:
            conn.close()
            raise ExpactiError(
                f"the broker did not answer within {SUBSCRIBE_TIMEOUT:g} s"
            ) from None
        except BaseException:
            conn.close()
            raise
        if first is None or first.get("op") != self._first_op:
            conn.close()
            why = first.get("error") if first else "the broker closed the connection"
            raise ExpactiError(f"cannot subscribe to the broker: {why}")
        with self._lock:
            self._conn = conn
        return first

    def start(self) -> None:
        """Read events on a daemon thread (a stuck socket must not keep the process alive)."""
        self._thread = threading.Thread(target=self._run, name="expacti-approve-link", daemon=True)
        self._thread.start()

    def send(self, message: dict[str, Any]) -> bool:
        """Write one message; False when there is no connection to write it to."""
        with self._lock:
            conn = self._conn
        if conn is None:
            return False
        try:
            conn.send(message)
        except (ExpactiError, OSError):
            return False
        return True

    def stop(self) -> None:
        self._stopped.set()
        with self._lock:
            conn, self._conn = self._conn, None
        if conn is not None:
            _hang_up(conn)
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=2)

    def _run(self) -> None:
        while not self._stopped.is_set():
            with self._lock:
                conn = self._conn
            if conn is None:
                self._reconnect()
                continue
            detail = ""
            try:
                while (event := conn.receive()) is not None:
                    self._on_event(event)
            except (ExpactiError, OSError) as exc:
                detail = str(exc)
            with self._lock:
                if self._conn is conn:
                    self._conn = None
            with contextlib.suppress(Exception):
                conn.close()
            if not self._stopped.is_set():
                self._on_event({"op": LINK, "up": False, "detail": detail})

    def _reconnect(self) -> bool:
        if self._stopped.wait(self._retry_delay):
            return False
        try:
            conn = self._factory()
            conn.send(self._hello)
        except (ExpactiError, OSError):
            return False
        with self._lock:
            if self._stopped.is_set():
                _hang_up(conn)
                return False
            self._conn = conn
        self._on_event({"op": LINK, "up": True})
        return True


def _hang_up(conn: EventConnection) -> None:
    """Close `conn`, waking a thread blocked reading it (close alone does not, on Linux)."""
    sock = getattr(conn, "sock", None)
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(Exception):
        conn.close()
