"""`expacti run`'s second broker connection: it watches the session's own requests.

All socket I/O happens on threads of its own (a reader, a writer and a ticker), so
the PTY loop never waits on the broker: events reach `deliver` from those threads (run.py
hands them to the loop with `Proxy.call_soon`), and `send` only queues.

    watch = SessionWatch(session, client.connect)
    first = watch.connect()            # the `watching` answer: requests, reviewers, context
    watch.start(deliver)               # then every event, plus {"op": "tick"} 4 times a second
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

from expacti_cli.ui.approve_link import BrokerLink, ConnectionFactory

TICK = {"op": "tick"}
TICK_SECONDS = 0.25  # the overlay's clock: arming its keys, ageing "57 s left"
SEND_FAILED = "send_failed"  # op of the event for a message that could not be written


class SessionWatch:
    """Events of one session from the broker; decisions back to it."""

    def __init__(
        self,
        session: str,
        factory: ConnectionFactory,
        *,
        reviewer: Callable[[], str] = lambda: "",
        retry_delay: float = 1.0,
    ) -> None:
        # Who decides here, asked the first time a decision goes out (it may run `git
        # config`): decisions made without a reviewer name get it on this thread.
        self._reviewer = reviewer
        self._reviewer_name: str | None = None
        self._deliver: Callable[[dict[str, Any]], None] = lambda event: None
        self._link = BrokerLink(
            factory,
            self._event,
            retry_delay=retry_delay,
            hello={"op": "watch", "session": session},
            first_op="watching",
        )
        self._outbox: queue.SimpleQueue[dict[str, Any] | None] = queue.SimpleQueue()
        self._stopped = threading.Event()
        self._threads: list[threading.Thread] = []

    def connect(self) -> dict[str, Any]:
        """Connect and watch now (blocking, before the PTY loop starts); the first answer.

        Raises ExpactiError (a broker that does not know `watch`) or BrokerUnavailable."""
        return self._link.subscribe()

    def start(self, deliver: Callable[[dict[str, Any]], None]) -> None:
        self._deliver = deliver
        self._link.start()
        for name, target in (("expacti-watch-send", self._send), ("expacti-tick", self._tick)):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def send(self, message: dict[str, Any]) -> None:
        """Queue `message` for the broker (never blocks)."""
        self._outbox.put(message)

    def stop(self) -> None:
        self._stopped.set()
        self._outbox.put(None)
        self._link.stop()
        for thread in self._threads:
            thread.join(timeout=2)

    def _event(self, event: dict[str, Any]) -> None:
        if not self._stopped.is_set():
            self._deliver(event)

    def _send(self) -> None:
        while (message := self._outbox.get()) is not None:
            if message.get("op") == "decide" and not message.get("reviewer"):
                if self._reviewer_name is None:
                    try:
                        self._reviewer_name = self._reviewer() or "unknown"
                    except Exception:  # noqa: BLE001 - a name is not worth a lost decision
                        self._reviewer_name = "unknown"
                message = {**message, "reviewer": self._reviewer_name}
            if not self._link.send(message):
                self._event({"op": SEND_FAILED, "message": message})

    def _tick(self) -> None:
        while not self._stopped.wait(TICK_SECONDS):
            self._event(dict(TICK))
