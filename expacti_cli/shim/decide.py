"""Submit one command to the broker and wait for its verdict (shim and agent hooks).

Every failure is a deny with a reason: no broker, a lost connection, a garbled answer, an
approval bound to another command or directory. Nothing here imports more than wire.py does.
"""

from __future__ import annotations

import os
import time

from expacti_cli.shim import wire

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

MAX_TTL = 600  # broker.gate.MAX_TIMEOUT: the broker always answers within the request's ttl
GRACE = 15.0  # how long past the ttl we wait before we stop trusting the broker


class Verdict:
    """The broker's answer about one command (immutable once made)."""

    __slots__ = ("allowed", "decision", "reason", "request_id", "connection", "answer")
    allowed: bool
    decision: str
    reason: str
    request_id: str
    connection: wire.Connection | None
    answer: dict[str, Any]

    def __init__(
        self,
        allowed: bool,
        decision: str,
        reason: str,
        request_id: str = "",
        connection: wire.Connection | None = None,
        answer: dict[str, Any] | None = None,
    ) -> None:
        object.__setattr__(self, "allowed", allowed)
        object.__setattr__(self, "decision", decision)  # a broker decision, or "error"
        object.__setattr__(self, "reason", reason)
        object.__setattr__(self, "request_id", request_id)
        # Open while an allowed command runs: the broker then treats its process tree as a
        # gated session (no self-approval from inside it). Closing it ends that.
        object.__setattr__(self, "connection", connection)
        # The broker's whole `decision` message (reviewer, waited_ms...); {} when there was none.
        object.__setattr__(self, "answer", answer or {})

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Verdict is immutable")

    def __repr__(self) -> str:
        return (
            f"Verdict(allowed={self.allowed!r}, decision={self.decision!r}, reason={self.reason!r})"
        )


def refused(reason: str) -> Verdict:
    return Verdict(False, "error", reason)


def submit(
    command: str,
    *,
    cwd: str | None = None,
    session: str = "",
    source: str = "shim",
    context: str = "",
    ttl: int | None = None,
    on_queued: Callable[[dict[str, Any]], None] | None = None,
    keep_open: bool = False,
    on_connect: Callable[[wire.Connection], None] | None = None,
) -> Verdict:
    """Gate `command` run in `cwd`: wait for the broker's decision and check it is bound to
    exactly this command and directory. With `keep_open`, an allowed verdict carries the
    open connection (the caller closes it, or lets exec hand it to the command).
    `on_queued` gets the broker's `queued` message (its `request` is always a dict) when the
    command waits for a human. `on_connect` gets the connection before the request is sent:
    another thread may `withdraw()` it to cancel the request (nothing runs)."""
    cwd = os.getcwd() if cwd is None else cwd
    try:
        conn = wire.connect()
    except wire.WireError as exc:
        return refused(f"{exc}; nothing ran")
    except OSError as exc:
        return refused(f"cannot reach the broker ({exc}); nothing ran")
    keep = False
    try:
        if on_connect is not None:
            on_connect(conn)
        request: dict[str, object] = {
            "op": "submit",
            "command": command,
            "cwd": cwd,
            "session": session,
            "source": source,
            "context": context,
        }
        if ttl is not None:
            request["ttl"] = ttl
        conn.send(request)
        verdict = _wait(conn, command, cwd, on_queued)
        keep = keep_open and verdict.allowed
        if keep:
            return Verdict(
                True, verdict.decision, verdict.reason, verdict.request_id, conn, verdict.answer
            )
        return verdict
    except wire.WireError as exc:
        return refused(f"{exc}; nothing ran")
    finally:
        if not keep:
            conn.close()


def _wait(
    conn: wire.Connection,
    command: str,
    cwd: str,
    on_queued: Callable[[dict[str, Any]], None] | None,
) -> Verdict:
    deadline = time.monotonic() + MAX_TTL + GRACE
    while True:
        try:
            message = conn.receive(timeout=max(0.1, deadline - time.monotonic()))
        except TimeoutError:
            return refused("no answer from the broker in time; nothing ran")
        if message is None:
            return refused("lost the connection to the broker before a decision; nothing ran")
        op = message.get("op")
        if op == "error":
            return refused(f"the broker refused the request: {message.get('error')}")
        if op == "queued":
            request = message.get("request")
            request = request if isinstance(request, dict) else {}
            ttl = request.get("ttl")
            ttl = ttl if isinstance(ttl, int | float) and not isinstance(ttl, bool) else MAX_TTL
            deadline = time.monotonic() + min(float(ttl), MAX_TTL) + GRACE
            if on_queued is not None:
                on_queued({**message, "request": request})
            continue
        if op != "decision":
            continue  # events a newer broker may add
        decision = str(message.get("decision") or "")
        reason = str(message.get("reason") or decision or "no reason given")
        request_id = str(message.get("id") or "")
        if message.get("allowed") is not True:
            return Verdict(False, decision or "denied", reason, request_id, None, message)
        if message.get("command_hash") != wire.command_hash(command, cwd):
            return refused("the broker approved a different command or directory; nothing ran")
        return Verdict(True, decision, reason, request_id, None, message)


def record_plumbing(
    command: str,
    kind: str,
    *,
    cwd: str,
    session: str = "",
    source: str = "shim",
    keep_open: bool = False,
) -> Verdict:
    """Have the broker audit agent plumbing that passes without a human (op
    `record_plumbing`). Allowed only once the record is written: unrecorded means not run."""
    try:
        conn = wire.connect()
    except wire.WireError as exc:
        return refused(f"{exc}; nothing ran")
    except OSError as exc:
        return refused(f"cannot reach the broker ({exc}); nothing ran")
    keep = False
    try:
        conn.send(
            {
                "op": "record_plumbing",
                "command": command,
                "cwd": cwd,
                "session": session,
                "source": source,
                "kind": kind,
            }
        )
        try:
            answer = conn.receive(timeout=30.0)
        except TimeoutError:
            return refused("the broker did not record the agent plumbing in time; nothing ran")
        if answer is None or answer.get("op") != "ok":
            why = answer.get("error") if answer else "the broker closed the connection"
            return refused(f"agent plumbing not recorded ({why}); nothing ran")
        keep = keep_open
        return Verdict(
            True, "auto_approved_rule", f"agent plumbing ({kind})", "", conn if keep else None
        )
    except wire.WireError as exc:
        return refused(f"{exc}; nothing ran")
    finally:
        if not keep:
            conn.close()
