"""The broker's wire format: one JSON object per line, each with `"v": 1` and an `"op"`.

Client -> broker:
    submit     {command, cwd, session, source, context, ttl}  gate a command, wait for the answer
    exit       {id, exit_code}                                 how an allowed command ended
    session    {session, name, context, program}               `expacti run`: this connection's
                                                               process tree is a gated session
    watch      {session}                                       `expacti run`: events of that
                                                               session only (not a reviewer)
    context    {session, context?}                             set (or read) the context the
                                                               reviewer sees for the session's
                                                               next requests (audited)
    record_plumbing {command, cwd, session, kind}              audit an agent's own plumbing
                                                               call that a gate let through
    subscribe  {}                                              reviewer: stream of events
    list       {}                                              reviewer: pending requests now
    decide     {id, decision: approve|deny, reviewer, reason, note, whitelist, command_hash,
                via?}                                          via: where it was decided
                                                               ("inline": in the session's own
                                                               terminal), kept in the audit
    status     {}                                              `expacti daemon status`
    stop       {}                                              `expacti daemon stop`

Broker -> client:
    queued     {request}               the request waits for a human (submit)
    decision   {id, outcome, allowed, decision, reason, reviewer, command_hash, ...} (submit)
    pending    {request}               a new request (subscribers)
    resolved   {id, decision, reviewer} a request left the queue (subscribers)
    requests   {requests: [...]}       (list, subscribe)
    decided    {id, decision}          (decide)
    session    {reviewers}             (session)
    watching   {session, requests: [...], reviewers, context, context_set_by}   (watch)
    reviewers  {reviewers}             how many reviewers are connected, on every change (watchers)
    context    {session, context, context_set_by}   (context; and to the session's watchers)
    status     {pid, started, pending, clients, ...}
    ok         {}
    error      {error, code}           the request was refused; the connection stays usable
                                       unless the line itself could not be read

A watcher gets `pending` and `resolved` only for requests of its session. Requests carry
`context_set_by`: "" (given at the start or with the command), "session" (changed from inside
the session: a claim of the agent, not the human's word) or "user" (changed from outside).
Brokers older than `watch`/`context` answer them with a `bad_op` error; `expacti run` then
works without the in-terminal status and overlay.

A line longer than MAX_LINE_BYTES is refused and that connection closed.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

VERSION = 1
MAX_LINE_BYTES = 2 * 1024 * 1024
MAX_TIMEOUT = 600  # seconds: the longest a request may wait for a human

OPS = frozenset(
    {
        "submit",
        "exit",
        "session",
        "watch",
        "context",
        "record_plumbing",
        "subscribe",
        "list",
        "decide",
        "status",
        "stop",
    }
)
PLUMBING_RULE = "agent-plumbing"  # rule_id of records written by `record_plumbing`
MAX_CONTEXT = 2000  # characters of a session's context


class ProtocolError(ValueError):
    """A message that is not a valid request (the text goes back in an `error` reply)."""

    def __init__(self, message: str, code: str = "bad_request") -> None:
        super().__init__(message)
        self.code = code


def encode(message: dict[str, Any]) -> bytes:
    """One message as a line. Non-UTF-8 bytes of a command (surrogate escapes) survive as
    `\\udcXX` JSON escapes, which `decode` turns back into the same Python string."""
    body = {"v": VERSION, **message}
    return json.dumps(body, ensure_ascii=True, separators=(",", ":")).encode("ascii") + b"\n"


def decode(line: bytes) -> dict[str, Any]:
    """Parse one line into a message with a known op (raises ProtocolError)."""
    if len(line) > MAX_LINE_BYTES:
        raise ProtocolError(f"message over {MAX_LINE_BYTES} bytes", "too_large")
    try:
        message = json.loads(line)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProtocolError(f"not a JSON object: {exc}") from None
    if not isinstance(message, dict):
        raise ProtocolError("not a JSON object")
    if message.get("v") != VERSION:
        raise ProtocolError(
            f"unsupported protocol version {message.get('v')!r} (this broker speaks {VERSION})",
            "bad_version",
        )
    return message


def require_op(message: dict[str, Any]) -> str:
    op = message.get("op")
    if not isinstance(op, str) or op not in OPS:
        raise ProtocolError(f"unknown op {op!r} (known: {', '.join(sorted(OPS))})", "bad_op")
    return op


def text_field(message: dict[str, Any], name: str, *, required: bool = False) -> str:
    value = message.get(name)
    if value is None:
        if required:
            raise ProtocolError(f"{name!r} is required")
        return ""
    if not isinstance(value, str):
        raise ProtocolError(f"{name!r} must be a string")
    return value


def _raw(text: str) -> bytes:
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a lone surrogate that is not an escaped byte
        return text.encode("utf-8", "surrogatepass")


def command_hash(command: str, cwd: str) -> str:
    """What a decision is bound to: sha256 of the exact command, a NUL, and the cwd."""
    return hashlib.sha256(_raw(command) + b"\0" + _raw(cwd)).hexdigest()
