"""The broker: one local process that owns the queue of commands waiting for a human.

It is the single writer of decision records: every answer it gives is in the audit log
(fsync'd) before it is sent, and an answer whose record cannot be written is a deny. A gating
client waits on its connection; if the connection drops first, the request is withdrawn; if
the broker dies, the client sees the connection close and runs nothing.

Run it with `python -m expacti_cli.broker` (clients start it on demand, see client.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import socket
import sys
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from expacti_cli import __version__
from expacti_cli.broker import gate, peers, protocol, sockets
from expacti_cli.broker.model import Client, Pending
from expacti_cli.broker.protocol import ProtocolError

ENV_IDLE = "EXPACTI_BROKER_IDLE"  # seconds without clients or requests before the broker exits
DEFAULT_IDLE = 600
MIN_ID_PREFIX = 4
# An approval given through an agent's hook also covers the one resubmission of the same
# command, cwd and session by the shell gate behind it (the agent runs what the hook let
# through), if it comes this soon. Used once, then gone.
CARRY_SECONDS = 120.0
_RECENT = 1024  # decided ids remembered, so a second decision gets a precise refusal


def idle_seconds() -> float:
    value = os.environ.get(ENV_IDLE, "").strip()
    try:
        return max(0.2, float(value)) if value else DEFAULT_IDLE
    except ValueError:
        return DEFAULT_IDLE


def _now() -> datetime:
    return datetime.now(UTC)


def log(message: str) -> None:
    """One line to the broker log (stderr is redirected there when started on demand)."""
    stamp = _now().isoformat(timespec="seconds")
    print(f"{stamp} [{os.getpid()}] {message}", file=sys.stderr, flush=True)


@dataclass
class Broker:
    """The queue, its clients, and the audit log it writes."""

    idle: float = field(default_factory=idle_seconds)
    pending: dict[str, Pending] = field(default_factory=dict)
    clients: set[Client] = field(default_factory=set)
    # session id -> {"name", "context", "program", "initial_context", "context_set_by"} from
    # `session` (while its connection is open)
    sessions: dict[str, dict[str, str]] = field(default_factory=dict)
    # connections that `watch` a session -> that session id (`expacti run`'s status and overlay)
    watchers: dict[Client, str] = field(default_factory=dict)
    # request id -> who set the context it carries ("session", "user"), while it waits
    context_set_by: dict[str, str] = field(default_factory=dict)
    # id -> the connection allowed to report that command's exit code
    running: dict[str, Client] = field(default_factory=dict)
    decided: OrderedDict[str, str] = field(default_factory=OrderedDict)
    # (session, command_hash) -> (expires at, monotonic; approved request id; reviewer)
    carried: dict[tuple[str, str], tuple[float, str, str]] = field(default_factory=dict)
    started: datetime = field(default_factory=_now)
    stopping: asyncio.Event | None = None
    last_active: float = field(default_factory=time.monotonic)

    # --- audit -----------------------------------------------------------------------------

    def _audit(self) -> Any:
        from expacti_cli.store.audit import AuditLog

        return AuditLog.open()

    def _record(self, p: Pending, decision: str, reason: str, **more: Any) -> str | None:
        """Write the decision record; return None when written, else why it could not be."""
        ev = p.evaluation
        extra = {"reason": reason, "ttl": p.ttl, **more.pop("extra", {})}
        try:
            self._audit().record_decision(
                id=p.id,
                command=p.command,
                decision=decision,
                session=p.session or None,
                source=p.source or None,
                cwd=p.cwd,
                parts=ev.parts,
                score=ev.score,
                level=ev.level,
                reasons=ev.reasons,
                requested_at=p.requested_at,
                decided_at=_now(),
                context=p.context or None,
                extra=extra,
                **more,
            )
        except Exception as exc:  # noqa: BLE001 - StoreError or worse: the answer is deny
            log(f"audit write failed for {p.id}: {exc}")
            return f"the audit log cannot be written ({exc}); nothing may run unrecorded"
        return None

    # --- resolving requests ----------------------------------------------------------------

    def _resolve(
        self,
        p: Pending,
        decision: str,
        *,
        allowed: bool,
        reason: str,
        reviewer: str | None = None,
        rule_id: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> tuple[bool, str]:
        """Take `p` out of the queue, audit the decision, answer its client, tell reviewers.

        Returns (allowed, reason) as finally sent (a failed audit write turns allow into deny)."""
        was_pending = self.pending.pop(p.id, None) is not None
        self.context_set_by.pop(p.id, None)
        if p.timer is not None:
            p.timer.cancel()
        failure = self._record(
            p, decision, reason, reviewer=reviewer, rule_id=rule_id, extra=extra or {}
        )
        if failure is not None:
            allowed, reason = False, failure
        self.decided[p.id] = f"{decision} by {reviewer}" if reviewer else decision
        while len(self.decided) > _RECENT:
            self.decided.popitem(last=False)
        if allowed:
            self.running[p.id] = p.client
        p.client.send(
            {
                "op": "decision",
                "id": p.id,
                "decision": decision,
                "allowed": allowed,
                "reason": reason,
                "reviewer": reviewer,
                "rule_id": rule_id,
                "command_hash": p.command_hash,
                "score": p.evaluation.score,
                "level": p.evaluation.level,
                "waited_ms": int((_now() - p.requested_at).total_seconds() * 1000),
                **({"on_timeout": p.evaluation.on_timeout} if decision == "timed_out" else {}),
            }
        )
        resolved = {
            "op": "resolved",
            "id": p.id,
            "decision": decision,
            "allowed": allowed,
            "reviewer": reviewer,
            "reason": reason,
        }
        self._broadcast(resolved)
        if was_pending:
            self._tell_watchers(p.session, resolved)
        return allowed, reason

    def _broadcast(self, message: dict[str, Any]) -> None:
        for client in list(self.clients):
            if client.subscribed:
                client.send(message)

    def _tell_watchers(self, session: str, message: dict[str, Any]) -> None:
        if not session:
            return
        for client, watched in list(self.watchers.items()):
            if watched == session:
                client.send(message)

    def _reviewer_count(self) -> int:
        return sum(1 for c in self.clients if c.subscribed)

    def _reviewers_changed(self) -> None:
        """Watching sessions show a prompt of their own only while no reviewer is connected."""
        message = {"op": "reviewers", "reviewers": self._reviewer_count()}
        for client in list(self.watchers):
            client.send(message)

    def _request_json(self, p: Pending) -> dict[str, Any]:
        return {**p.to_json(), "context_set_by": self.context_set_by.get(p.id, "")}

    def _timed_out(self, request_id: str) -> None:
        p = self.pending.get(request_id)
        if p is None:
            return
        approve = p.evaluation.on_timeout == "approve"
        reason = (
            f"no decision within {p.ttl} s; on_timeout = approve lets it run"
            if approve
            else f"no decision within {p.ttl} s (on_timeout = deny)"
        )
        self._resolve(
            p,
            "timed_out",
            allowed=approve,
            reason=reason,
            extra={"on_timeout": p.evaluation.on_timeout},
        )

    # --- ops -------------------------------------------------------------------------------

    def submit(self, client: Client, msg: dict[str, Any]) -> None:
        command = protocol.text_field(msg, "command", required=True)
        cwd = protocol.text_field(msg, "cwd")
        if "\0" in cwd:  # the hash joins command and cwd with a NUL: keep the pair unambiguous
            raise ProtocolError("'cwd' must not contain a NUL character")
        ttl_value = msg.get("ttl")
        if ttl_value is not None and (
            isinstance(ttl_value, bool) or not isinstance(ttl_value, int | float)
        ):
            raise ProtocolError("'ttl' must be a number of seconds")
        session = protocol.text_field(msg, "session")
        source = protocol.text_field(msg, "source") or "exec"
        context = protocol.text_field(msg, "context")
        known = self.sessions.get(session, {}) if session else {}
        if known and (not context or context == known.get("initial_context")):
            # The context the session has now (`expacti context` may have changed it since the
            # program read EXPACTI_CONTEXT); a context given with this one command stays.
            context, set_by = known.get("context", ""), known.get("context_set_by", "")
        else:
            set_by = ""
        client.gating = True
        ev = gate.evaluate(command, cwd, session=session)
        configured = gate.clamp_timeout(ev.approval_timeout)
        ttl = gate.clamp_timeout(ttl_value) if ttl_value is not None else configured
        if ev.on_timeout == "approve":
            # A shorter window would only let the agent reach the automatic approval sooner.
            ttl = max(ttl, configured)
        p = Pending(
            id=secrets.token_hex(16),
            command=command,
            cwd=cwd,
            session=session,
            source=source,
            context=context,
            session_name=known.get("name", ""),
            evaluation=ev,
            requested_at=_now(),
            ttl=ttl,
            command_hash=protocol.command_hash(command, cwd),
            client=client,
        )
        if ev.action == "allow":
            decision = "auto_approved_rule" if ev.via == "rule" else "auto_approved_threshold"
            rule_id = ev.rule_ids[0] if ev.rule_ids else None
            extra = {"rule_ids": list(ev.rule_ids)} if ev.rule_ids else {}
            allowed, _ = self._resolve(
                p, decision, allowed=True, reason=ev.reason, rule_id=rule_id, extra=extra
            )
            if allowed:
                gate.record_rule_hits(ev.rule_ids)
            return
        if ev.action == "deny":
            rule_id = ev.rule_ids[0] if ev.rule_ids else None
            self._resolve(p, "denied", allowed=False, reason=ev.reason, rule_id=rule_id)
            return
        if self._carry_over(p):
            return
        p.expires_at = time.time() + ttl
        p.timer = asyncio.get_running_loop().call_later(ttl, self._timed_out, p.id)
        self.pending[p.id] = p
        if set_by:
            self.context_set_by[p.id] = set_by
        reviewers = self._reviewer_count()
        request = self._request_json(p)
        client.send({"op": "queued", "request": request, "reviewers": reviewers})
        self._broadcast({"op": "pending", "request": request})
        self._tell_watchers(p.session, {"op": "pending", "request": request})

    def _carry_over(self, p: Pending) -> bool:
        """Answer `p` with a fresh hook approval of the same command, if there is one."""
        if not p.session or p.source.endswith("-hook"):
            return False
        entry = self.carried.pop((p.session, p.command_hash), None)
        if entry is None or entry[0] < time.monotonic():
            return False
        _, original, reviewer = entry
        self._resolve(
            p,
            "approved",
            allowed=True,
            reviewer=reviewer,
            reason=f"approved by {reviewer} through the agent's hook (request {original[:8]})",
            extra={"carried_from": original},
        )
        return True

    def _gated_ancestor(self, pid: int) -> tuple[peers.ProcessId, Client] | None:
        """The nearest process in `pid`'s ancestry (itself included) that makes it gated.

        A process that submitted a command is gated itself, and so is everything below it.
        An `expacti run` process (it opened a session) is the human's own terminal: only the
        processes below it are gated, so the run process may answer its inline prompt (even
        for a line it submitted itself, typed at a prompt it watches) while the program it
        runs may not."""
        gated: dict[peers.ProcessId, Client] = {}
        owners: set[peers.ProcessId] = set()
        for c in self.clients:
            if c.process is None:
                continue
            if c.sessions:
                owners.add(c.process)
            if c.gating or c.sessions:
                gated.setdefault(c.process, c)
        for depth, ancestor in enumerate(peers.ancestry(pid)):
            if depth == 0 and ancestor in owners:
                continue  # the session's own run process
            if ancestor in gated:
                return ancestor, gated[ancestor]
        return None

    def _self_approval(self, client: Client, what: str, request_id: str = "") -> str | None:
        """Why `client` may not decide (None when it may). Refusals are audited."""
        why = None
        if client.peer is None:
            why = "the broker cannot tell which process is asking (no SO_PEERCRED)"
        elif client.peer.uid != os.getuid():
            why = f"uid {client.peer.uid} is not the broker's user"
        elif (found := self._gated_ancestor(client.peer.pid)) is not None:
            ancestor = found[0]
            why = (
                f"this process (pid {client.peer.pid}) runs inside a gated session "
                f"(pid {ancestor.pid} is waiting on or running an approved command); "
                "a gated command cannot approve or deny anything: decide from "
                "another terminal"
            )
        if why is None:
            return None
        try:
            self._audit().append(
                {
                    "kind": "decision_refused",
                    "source": "broker",
                    "request_id": request_id or None,
                    "op": what,
                    "peer_pid": client.peer.pid if client.peer else None,
                    "reason": why,
                }
            )
        except Exception as exc:  # noqa: BLE001 - the refusal stands either way
            log(f"audit write failed for a refused {what}: {exc}")
        return why

    def _find(self, wanted: str) -> Pending:
        wanted = wanted.strip().lower()
        if wanted in self.pending:
            return self.pending[wanted]
        if len(wanted) >= MIN_ID_PREFIX:
            matches = [p for i, p in self.pending.items() if i.startswith(wanted)]
            if len(matches) == 1:
                return matches[0]
            if len(matches) > 1:
                raise ProtocolError(
                    f"id {wanted!r} is ambiguous: give more characters", "ambiguous"
                )
            done = [i for i in self.decided if i.startswith(wanted)]
            if len(done) == 1:
                raise ProtocolError(
                    f"request {done[0][:12]} was already decided ({self.decided[done[0]]})",
                    "already_decided",
                )
        raise ProtocolError(
            f"no pending request {wanted!r}: it was never made, expired, or was withdrawn",
            "unknown_id",
        )

    def decide(self, client: Client, msg: dict[str, Any]) -> None:
        request_id = protocol.text_field(msg, "id", required=True)
        verdict = protocol.text_field(msg, "decision", required=True)
        if verdict not in ("approve", "deny"):
            raise ProtocolError("'decision' must be 'approve' or 'deny'")
        p = self._find(request_id)
        refused = self._self_approval(client, "decide", p.id)
        if refused is not None:
            raise ProtocolError(f"refused: {refused}", "self_approval")
        expected = protocol.text_field(msg, "command_hash")
        if expected and expected != p.command_hash:
            raise ProtocolError(
                "the command or cwd differs from what you reviewed: decision refused",
                "hash_mismatch",
            )
        reviewer = protocol.text_field(msg, "reviewer") or "unknown"
        note = protocol.text_field(msg, "note")
        reason = protocol.text_field(msg, "reason")
        via = protocol.text_field(msg, "via")
        if len(via) > 32:
            raise ProtocolError("'via' is at most 32 characters")
        extra: dict[str, Any] = {"note": note} if note else {}
        if via:
            extra["via"] = via
        if verdict == "deny":
            self._resolve(
                p,
                "denied",
                allowed=False,
                reviewer=reviewer,
                reason=reason or f"denied by {reviewer}",
                extra=extra,
            )
            client.send({"op": "decided", "id": p.id, "decision": "denied", "command": p.command})
            return
        rule_id = None
        whitelist = msg.get("whitelist")
        if whitelist:
            rule_id = self._add_rule(p, whitelist, reviewer, note)
        allowed, why = self._resolve(
            p,
            "approved",
            allowed=True,
            reviewer=reviewer,
            rule_id=rule_id,
            reason=note or f"approved by {reviewer}",
            extra=extra,
        )
        if allowed and p.session and p.source.endswith("-hook"):
            now = time.monotonic()
            self.carried = {k: v for k, v in self.carried.items() if v[0] >= now}
            self.carried[(p.session, p.command_hash)] = (now + CARRY_SECONDS, p.id, reviewer)
        reply: dict[str, Any] = {
            "op": "decided",
            "id": p.id,
            "decision": "approved",
            "rule_id": rule_id,
            "command": p.command,
        }
        if not allowed:
            reply.update(decision="denied", error=why)
        client.send(reply)

    def _add_rule(self, p: Pending, spec: Any, reviewer: str, note: str) -> str:
        """Save the allow rule of an approve-and-whitelist; return its id."""
        from expacti_cli.broker.approval_rule import save_approval_rule

        return save_approval_rule(p, spec, reviewer, note, self._audit())

    def record_exit(self, client: Client, msg: dict[str, Any]) -> None:
        request_id = protocol.text_field(msg, "id", required=True)
        code = msg.get("exit_code")
        if isinstance(code, bool) or not isinstance(code, int):
            raise ProtocolError("'exit_code' must be an integer")
        if self.running.get(request_id) is not client:
            raise ProtocolError(
                f"no command {request_id!r} running for this connection", "unknown_id"
            )
        del self.running[request_id]
        try:
            self._audit().record_exit(request_id, code, session=msg.get("session") or None)
        except Exception as exc:  # noqa: BLE001
            raise ProtocolError(f"cannot record the exit code: {exc}", "audit") from None
        client.send({"op": "ok"})

    def open_session(self, client: Client, msg: dict[str, Any]) -> None:
        """`expacti run` keeps this connection open for the whole session: until it closes,
        every process below the peer counts as gated (the claimed pid is not trusted)."""
        session = protocol.text_field(msg, "session", required=True)
        info = {
            "name": protocol.text_field(msg, "name"),
            "context": protocol.text_field(msg, "context"),
            "program": protocol.text_field(msg, "program"),
        }
        owner = next((c for c in self.clients if session in c.sessions), None)
        if owner is not None and owner is not client:
            raise ProtocolError(f"session {session!r} belongs to another connection", "session")
        # Not `gating`: the run process itself is the human's terminal (see _gated_ancestor).
        client.sessions.add(session)
        info.update(initial_context=info["context"], context_set_by="")
        self.sessions[session] = info
        client.send({"op": "session", "session": session, "reviewers": self._reviewer_count()})

    def watch(self, client: Client, msg: dict[str, Any]) -> None:
        """Send this connection the events of one session (its pending and resolved requests,
        and the reviewer count whenever it changes). A watcher is not a reviewer."""
        session = protocol.text_field(msg, "session", required=True)
        if not session:
            raise ProtocolError("'session' must not be empty")
        self.watchers[client] = session
        info = self.sessions.get(session, {})
        waiting = sorted(
            (p for p in self.pending.values() if p.session == session),
            key=lambda p: p.requested_at,
        )
        client.send(
            {
                "op": "watching",
                "session": session,
                "requests": [self._request_json(p) for p in waiting],
                "reviewers": self._reviewer_count(),
                "context": info.get("context", ""),
                "context_set_by": info.get("context_set_by", ""),
            }
        )

    def set_context(self, client: Client, msg: dict[str, Any]) -> None:
        """`expacti context`: change what the reviewer sees as the session's context.

        From inside the session it is the agent's claim: allowed, audited, and shown to the
        reviewer as set by the session. A process inside another gated session may not
        change this one's."""
        session = protocol.text_field(msg, "session", required=True)
        info = self.sessions.get(session)
        if info is None:
            raise ProtocolError(
                f"no session {session!r} is running (it ended, or never registered)", "unknown_id"
            )
        if "context" not in msg:
            client.send({"op": "context", "session": session, **_context_fields(info)})
            return
        context = protocol.text_field(msg, "context")
        if len(context) > protocol.MAX_CONTEXT:
            raise ProtocolError(f"'context' is at most {protocol.MAX_CONTEXT} characters")
        if client.peer is None or client.peer.uid != os.getuid():
            raise ProtocolError("refused: the broker cannot tell who is asking", "refused")
        gated = self._gated_ancestor(client.peer.pid) is not None
        owner = next((c for c in self.clients if session in c.sessions), None)
        inside = owner is not None and owner.process in peers.ancestry(client.peer.pid)[1:]
        if gated and not inside:
            raise ProtocolError(
                "refused: a process inside another gated session cannot change this "
                "session's context",
                "refused",
            )
        set_by = "session" if gated else "user"
        previous = info.get("context", "")
        try:
            self._audit().append(
                {
                    "kind": "context",
                    "source": "broker",
                    "session": session,
                    "context": context,
                    "previous": previous,
                    "set_by": set_by,
                    "peer_pid": client.peer.pid,
                }
            )
        except Exception as exc:  # noqa: BLE001 - an unaudited change is not made
            raise ProtocolError(f"cannot write the audit log: {exc}", "audit") from None
        info.update(context=context, context_set_by=set_by)
        answer = {"op": "context", "session": session, **_context_fields(info)}
        client.send(answer)
        self._tell_watchers(session, answer)

    def record_plumbing(self, client: Client, msg: dict[str, Any]) -> None:
        """Audit a call a gate passed without asking because it is the agent's own plumbing."""
        command = protocol.text_field(msg, "command", required=True)
        kind = protocol.text_field(msg, "kind", required=True)
        if len(kind) > 64:
            raise ProtocolError("'kind' is at most 64 characters")
        client.gating = True
        try:
            self._audit().record_decision(
                command=command,
                decision="auto_approved_rule",
                session=protocol.text_field(msg, "session") or None,
                source=protocol.text_field(msg, "source") or "shim",
                cwd=protocol.text_field(msg, "cwd"),
                rule_id=protocol.PLUMBING_RULE,
                decided_at=_now(),
                extra={"plumbing": kind},
            )
        except Exception as exc:  # noqa: BLE001 - the caller must not run it unrecorded
            raise ProtocolError(f"cannot write the audit log: {exc}", "audit") from None
        client.send({"op": "ok"})

    def status(self) -> dict[str, Any]:
        return {
            "op": "status",
            "pid": os.getpid(),
            "started": self.started.isoformat(timespec="seconds"),
            "uptime_s": round((_now() - self.started).total_seconds(), 1),
            "pending": len(self.pending),
            "clients": len(self.clients),
            "reviewers": self._reviewer_count(),
            "sessions": sum(1 for c in self.clients if c.gating or c.sessions),
            "idle_exit_s": self.idle,
            "socket": str(sockets.socket_path()),
            "protocol": protocol.VERSION,
            "version": __version__,
        }

    def stop(self, reason: str) -> None:
        """Deny everything still waiting, then let `run` return."""
        for p in list(self.pending.values()):
            self._resolve(p, "denied", allowed=False, reason=reason)
        if self.stopping is not None:
            self.stopping.set()

    def dispatch(self, client: Client, msg: dict[str, Any]) -> None:
        op = protocol.require_op(msg)
        if op == "submit":
            self.submit(client, msg)
        elif op == "decide":
            self.decide(client, msg)
        elif op == "exit":
            self.record_exit(client, msg)
        elif op == "session":
            self.open_session(client, msg)
        elif op == "watch":
            self.watch(client, msg)
        elif op == "context":
            self.set_context(client, msg)
        elif op == "record_plumbing":
            self.record_plumbing(client, msg)
        elif op == "subscribe":
            was_subscribed, client.subscribed = client.subscribed, True
            client.send({"op": "requests", "requests": self._pending_json()})
            if not was_subscribed:
                self._reviewers_changed()
        elif op == "list":
            client.send({"op": "requests", "requests": self._pending_json()})
        elif op == "status":
            client.send(self.status())
        elif op == "stop":
            refused = self._self_approval(client, "stop")
            if refused is not None:
                raise ProtocolError(f"refused: {refused}", "self_approval")
            client.send({"op": "ok"})
            self.stop("the broker was stopped (`expacti daemon stop`)")

    def _pending_json(self) -> list[dict[str, Any]]:
        ordered = sorted(self.pending.values(), key=lambda p: p.requested_at)
        return [self._request_json(p) for p in ordered]

    # --- connections -----------------------------------------------------------------------

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        peer = peers.peer_credentials(sock) if sock is not None else None
        client = Client(writer, peer, peers.process_id(peer.pid) if peer else None)
        self.clients.add(client)
        try:
            await self._serve(client, reader)
        finally:
            self.disconnect(client)
            with contextlib.suppress(Exception):
                writer.close()

    def disconnect(self, client: Client) -> None:
        """A connection is gone: withdraw what it was waiting for (audited)."""
        client.closed = True
        self.clients.discard(client)
        self.watchers.pop(client, None)
        self.last_active = time.monotonic()
        if client.subscribed:
            self._reviewers_changed()
        for p in [p for p in self.pending.values() if p.client is client]:
            self._resolve(
                p, "withdrawn", allowed=False, reason="the requesting process disconnected"
            )
        for request_id in [i for i, c in self.running.items() if c is client]:
            del self.running[request_id]
        for session in client.sessions:
            self.sessions.pop(session, None)

    async def _serve(self, client: Client, reader: asyncio.StreamReader) -> None:
        while not client.closed:
            try:
                line = await reader.readuntil(b"\n")
            except asyncio.IncompleteReadError:
                return  # EOF (a partial last line is dropped: the client is gone)
            except asyncio.LimitOverrunError:
                client.send(
                    {
                        "op": "error",
                        "code": "too_large",
                        "error": f"message over {protocol.MAX_LINE_BYTES} bytes",
                    }
                )
                with contextlib.suppress(Exception):
                    await client.writer.drain()
                return  # the rest of that line cannot be told apart from the next message
            except (ConnectionError, OSError):
                return
            self.last_active = time.monotonic()
            try:
                self.dispatch(client, protocol.decode(line))
            except ProtocolError as exc:
                client.send({"op": "error", "code": exc.code, "error": str(exc)})
            except Exception as exc:  # noqa: BLE001 - a bug in one request must not end the broker
                log(f"internal error: {type(exc).__name__}: {exc}")
                client.send({"op": "error", "code": "internal", "error": f"internal error ({exc})"})
            try:
                await client.writer.drain()
            except (ConnectionError, OSError):
                return

    async def run(self, listener: socket.socket) -> None:
        self.stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.add_signal_handler(sig, self.stop, f"the broker was stopped (signal {sig.name})")
        server = await asyncio.start_unix_server(
            self.handle, sock=listener, limit=protocol.MAX_LINE_BYTES
        )
        watcher = asyncio.create_task(self._idle_watch())
        # The history profile (anomaly checks) is built off the loop, so the first command
        # does not wait for it.
        loop.run_in_executor(None, gate.warm_history)
        try:
            await self.stopping.wait()
        finally:
            watcher.cancel()
            server.close()
            for client in list(self.clients):
                with contextlib.suppress(Exception):
                    await client.writer.drain()
                client.writer.close()

    async def _idle_watch(self) -> None:
        assert self.stopping is not None
        tick = min(1.0, self.idle / 4)
        while True:
            await asyncio.sleep(tick)
            quiet = not self.clients and not self.pending
            if quiet and time.monotonic() - self.last_active >= self.idle:
                log(f"idle for {self.idle:g} s: exiting")
                self.stopping.set()
                return


def _context_fields(info: dict[str, str]) -> dict[str, str]:
    return {"context": info.get("context", ""), "context_set_by": info.get("context_set_by", "")}
