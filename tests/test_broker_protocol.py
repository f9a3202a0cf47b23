"""The wire format and the broker's queue logic, in process (no sockets, no subprocesses)."""

from __future__ import annotations

import asyncio
import os
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from expacti_cli.broker import gate, peers, protocol
from expacti_cli.broker.protocol import ProtocolError
from expacti_cli.broker.server import Broker, Client
from expacti_cli.errors import StoreError

# --- protocol ------------------------------------------------------------------------------


@given(st.binary(max_size=512))
def test_decode_never_crashes_on_arbitrary_bytes(line: bytes) -> None:
    try:
        message = protocol.decode(line)
    except ProtocolError:
        return
    assert isinstance(message, dict) and message["v"] == protocol.VERSION


@given(st.text(), st.text())
def test_encode_decode_round_trips_any_text(command: str, context: str) -> None:
    # including lone surrogates (non-UTF-8 bytes of a command, surrogate-escaped)
    line = protocol.encode({"op": "submit", "command": command, "context": context})
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    message = protocol.decode(line)
    assert (message["command"], message["context"]) == (command, context)


@given(st.text(), st.text().filter(lambda s: "\0" not in s), st.text(), st.text())
def test_command_hash_binds_command_and_cwd(c1: str, d1: str, c2: str, d2: str) -> None:
    # NUL never occurs in a cwd (the broker refuses it), so (command, cwd) pairs never collide
    d2 = d2.replace("\0", "")
    if (c1, d1) != (c2, d2):
        assert protocol.command_hash(c1, d1) != protocol.command_hash(c2, d2)
    assert protocol.command_hash(c1, d1) == protocol.command_hash(c1, d1)


def test_oversized_line_is_refused() -> None:
    with pytest.raises(ProtocolError) as refused:
        protocol.decode(b" " * (protocol.MAX_LINE_BYTES + 1))
    assert refused.value.code == "too_large"


# --- the queue, in process ----------------------------------------------------------------


class FakeClient(Client):
    """A connection that keeps what the broker sends it."""

    def __init__(self, pid: int = 0, start: int = 0) -> None:
        peer = peers.Peer(pid, os.getuid(), os.getgid()) if pid else None
        process = peers.ProcessId(pid, start) if pid else None
        super().__init__(writer=None, peer=peer, process=process)  # type: ignore[arg-type]
        self.sent: list[dict[str, Any]] = []

    def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)


ASK = gate.Evaluation(
    action="ask",
    via="default",
    reason="ask",
    score=50,
    level="MEDIUM",
    summary="file delete",
    reasons=("file delete",),
    parts=("rm -rf x",),
    rule_ids=(),
    approval_timeout=1,
    on_timeout="deny",
)


@pytest.fixture
def evaluation(monkeypatch: pytest.MonkeyPatch) -> list[gate.Evaluation]:
    """What gate.evaluate returns (tests replace the first item)."""
    holder = [ASK]
    monkeypatch.setattr(gate, "evaluate", lambda command, cwd: holder[0])
    monkeypatch.setenv("EXPACTI_TEST_MIN_TIMEOUT", "1")
    return holder


def _reviewer() -> FakeClient:
    # A reviewer that is this test process: not inside any gated session below.
    return FakeClient(pid=os.getpid(), start=peers.process_id(os.getpid()).start)  # type: ignore[union-attr]


def _submitter() -> FakeClient:
    return FakeClient(pid=2**22 + 7, start=1)  # a process that is nobody's ancestor


def test_on_timeout_approve_lets_it_run_and_says_so(evaluation) -> None:  # type: ignore[no-untyped-def]
    evaluation[0] = replace(ASK, on_timeout="approve")

    async def scenario() -> dict[str, Any]:
        broker, client = Broker(idle=60), _submitter()
        broker.clients.add(client)
        broker.submit(client, {"command": "rm -rf x", "cwd": "/", "ttl": 1})
        await asyncio.sleep(1.3)
        return client.sent[-1]

    decision = asyncio.run(scenario())
    assert (decision["decision"], decision["allowed"]) == ("timed_out", True)
    assert "on_timeout = approve" in decision["reason"]


def test_on_timeout_approve_ignores_a_shorter_client_timeout(evaluation) -> None:  # type: ignore[no-untyped-def]
    evaluation[0] = replace(ASK, on_timeout="approve", approval_timeout=5)

    async def scenario() -> dict[str, Any]:
        broker, client = Broker(idle=60), _submitter()
        broker.submit(client, {"command": "rm -rf x", "cwd": "/", "ttl": 1})
        return client.sent[0]

    queued = asyncio.run(scenario())
    assert queued["request"]["ttl"] == 5


def test_failed_audit_write_turns_an_approval_into_a_deny(evaluation, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    class BrokenLog:
        def record_decision(self, **kwargs: Any) -> None:
            raise StoreError("disk full")

        def append(self, entry: Any) -> None:
            raise StoreError("disk full")

    monkeypatch.setattr(Broker, "_audit", lambda self: BrokenLog())

    async def scenario() -> tuple[FakeClient, FakeClient]:
        broker, client, reviewer = Broker(idle=60), _submitter(), _reviewer()
        broker.clients.update({client, reviewer})
        broker.submit(client, {"command": "rm -rf x", "cwd": "/"})
        request_id = client.sent[0]["request"]["id"]
        broker.decide(reviewer, {"id": request_id, "decision": "approve", "reviewer": "r"})
        return client, reviewer

    client, reviewer = asyncio.run(scenario())
    decision = client.sent[-1]
    assert (decision["decision"], decision["allowed"]) == ("approved", False)
    assert "audit log" in decision["reason"]
    assert reviewer.sent[-1]["decision"] == "denied"


def test_cwd_with_nul_is_refused(evaluation) -> None:  # type: ignore[no-untyped-def]
    async def scenario() -> None:
        Broker(idle=60).submit(_submitter(), {"command": "ls", "cwd": "/tmp\0/etc"})

    with pytest.raises(ProtocolError):
        asyncio.run(scenario())


def test_peer_without_credentials_may_not_decide(evaluation) -> None:  # type: ignore[no-untyped-def]
    async def scenario() -> None:
        broker, client = Broker(idle=60), _submitter()
        broker.submit(client, {"command": "rm -rf x", "cwd": "/"})
        request_id = client.sent[0]["request"]["id"]
        broker.decide(FakeClient(), {"id": request_id, "decision": "approve"})

    with pytest.raises(ProtocolError) as refused:
        asyncio.run(scenario())
    assert refused.value.code == "self_approval"


def test_ancestry_of_a_grandchild_includes_this_process() -> None:
    import subprocess
    import sys

    code = "import subprocess, sys; subprocess.run([sys.executable, '-c', 'print(__import__(\"os\").getpid()); input()'])"
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        grandchild = int(proc.stdout.readline())
        chain = peers.ancestry(grandchild)
        assert [p.pid for p in chain[:3]] == [grandchild, proc.pid, os.getpid()]
        assert peers.process_id(os.getpid()) in chain
        assert len({p.pid for p in chain}) == len(chain)
    finally:
        proc.communicate("\n", timeout=10)


def test_a_recycled_pid_is_a_different_process() -> None:
    me = peers.process_id(os.getpid())
    assert me is not None
    assert peers.ProcessId(me.pid, me.start + 1) not in peers.ancestry(os.getpid())
