"""What the broker holds: connections and the requests waiting on them."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from expacti_cli.broker import gate, peers, protocol

_MAX_BACKLOG = 8 * 1024 * 1024  # bytes queued to a client that does not read: drop it


@dataclass(eq=False)
class Client:
    """One connection to the broker."""

    writer: asyncio.StreamWriter
    peer: peers.Peer | None
    process: peers.ProcessId | None
    # It submitted a command or opened a session: its process tree is a gated session.
    gating: bool = False
    sessions: set[str] = field(default_factory=set)  # session ids it registered
    subscribed: bool = False
    closed: bool = False

    def send(self, message: dict[str, Any]) -> None:
        if self.closed:
            return
        transport = self.writer.transport
        if transport.is_closing() or transport.get_write_buffer_size() > _MAX_BACKLOG:
            self.closed = True
            transport.abort()
            return
        self.writer.write(protocol.encode(message))


@dataclass(eq=False)
class Pending:
    """A command waiting for a human decision."""

    id: str
    command: str
    cwd: str
    session: str
    source: str
    context: str
    session_name: str
    evaluation: gate.Evaluation
    requested_at: datetime
    ttl: int
    command_hash: str
    client: Client
    timer: asyncio.TimerHandle | None = None
    expires_at: float = 0.0  # time.time()

    def to_json(self) -> dict[str, Any]:
        ev = self.evaluation
        return {
            "id": self.id,
            "command": self.command,
            "cwd": self.cwd,
            "session": self.session,
            "session_name": self.session_name,
            "source": self.source,
            "context": self.context,
            "score": ev.score,
            "level": ev.level,
            "summary": ev.summary,
            "reasons": list(ev.reasons),
            "anomalies": list(ev.anomalies),
            "policy": ev.reason,
            "requested_at": self.requested_at.isoformat(),
            "expires_at": datetime.fromtimestamp(self.expires_at, UTC).isoformat(),
            "ttl": self.ttl,
            "on_timeout": ev.on_timeout,
            "command_hash": self.command_hash,
            "pid": self.client.peer.pid if self.client.peer else None,
        }
