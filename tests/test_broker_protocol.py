"""The wire format and the broker's queue logic, in process (no sockets, no subprocesses)."""

from __future__ import annotations

import asyncio
import os
import subprocess
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
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
    monkeypatch.setattr(gate, "evaluate", lambda command, cwd, session="": holder[0])
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


class MemoryLog:
    """An audit log that keeps records in memory (the property test makes thousands)."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []

    def record_decision(self, **fields: Any) -> None:
        self.records.append({"kind": "decision", **fields})

    def append(self, entry: dict[str, Any]) -> None:
        self.records.append(dict(entry))

    def record_exit(self, decision_id: str, exit_code: int, session: str | None = None) -> None:
        self.records.append({"kind": "exit", "decision_id": decision_id})


ACTIONS = st.lists(
    st.tuples(
        st.sampled_from(["submit", "approve_outside", "approve_inside", "deny", "disconnect"]),
        st.integers(0, 3),  # which submitter / which request
    ),
    max_size=25,
)


@settings(max_examples=150, deadline=None)
@given(ACTIONS)
def test_broker_never_allows_without_one_outside_approval(actions: list[tuple[str, int]]) -> None:
    """Whatever the order of submits, decisions and disconnects: a client is told `allowed`
    only for a request that a reviewer outside the gated session approved, once, while it was
    still pending; a reviewer inside the session never gets a decision through."""
    me = peers.process_id(os.getpid())
    assert me is not None
    log = MemoryLog()
    approved: set[str] = set()

    async def scenario() -> list[FakeClient]:
        broker = Broker(idle=60)
        # every submitter is this process, so a reviewer with our pid is inside the session
        submitters = [FakeClient(pid=me.pid, start=me.start) for _ in range(4)]
        inside = FakeClient(pid=me.pid, start=me.start)
        outside = FakeClient(pid=1, start=peers.process_id(1).start if peers.process_id(1) else 0)
        broker.clients.update({*submitters, inside, outside})
        ids: list[str] = []
        for action, n in actions:
            client = submitters[n]
            if action == "submit" and not client.closed:
                broker.submit(client, {"command": f"rm -rf /tmp/x{n}", "cwd": "/"})
                if client.sent and client.sent[-1]["op"] == "queued":
                    ids.append(client.sent[-1]["request"]["id"])
            elif action == "disconnect":
                broker.disconnect(client)
            elif ids:
                request_id = ids[n % len(ids)]
                reviewer = inside if action == "approve_inside" else outside
                verdict = "deny" if action == "deny" else "approve"
                try:
                    broker.decide(reviewer, {"id": request_id, "decision": verdict})
                except ProtocolError:
                    continue
                assert reviewer is outside, "a reviewer inside the gated session decided"
                if verdict == "approve":
                    assert request_id not in approved, "decided twice"
                    approved.add(request_id)
        return submitters

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(gate, "evaluate", lambda command, cwd, session="": ASK)
        mp.setattr(Broker, "_audit", lambda self: log)
        submitters = asyncio.run(scenario())

    answers = [m for c in submitters for m in c.sent if m["op"] == "decision"]
    assert len({m["id"] for m in answers}) == len(answers), "a request answered twice"
    assert {m["id"] for m in answers if m["allowed"]} == approved
    audited = [r for r in log.records if r["kind"] == "decision"]
    assert len({r["id"] for r in audited}) == len(audited), "a request audited twice"
    assert {r["id"] for r in audited if r["decision"] == "approved"} == approved


def test_session_makes_its_process_tree_gated_and_names_its_requests(evaluation) -> None:  # type: ignore[no-untyped-def]
    me = peers.process_id(os.getpid())
    assert me is not None
    # A real child of this process: a job inside the session this process opens.
    job = subprocess.Popen(["sleep", "30"])
    inside = peers.process_id(job.pid)
    assert inside is not None

    async def scenario() -> tuple[FakeClient, FakeClient, FakeClient, Broker]:
        broker = Broker(idle=60)
        run = FakeClient(pid=me.pid, start=me.start)  # `expacti run`, an ancestor of...
        reviewer_inside = FakeClient(pid=inside.pid, start=inside.start)  # ...a job inside it
        agent = _submitter()
        broker.clients.update({run, reviewer_inside, agent})
        broker.open_session(run, {"session": "s1", "name": "refactor", "context": "tidy up"})
        broker.submit(agent, {"command": "rm -rf x", "cwd": "/", "session": "s1"})
        request_id = agent.sent[0]["request"]["id"]
        with pytest.raises(ProtocolError) as refused:
            broker.decide(reviewer_inside, {"id": request_id, "decision": "approve"})
        assert refused.value.code == "self_approval"
        with pytest.raises(ProtocolError):  # another connection cannot take the session over
            broker.open_session(agent, {"session": "s1"})
        broker.disconnect(run)
        broker.decide(reviewer_inside, {"id": request_id, "decision": "approve"})
        return run, agent, reviewer_inside, broker

    try:
        run, agent, _, broker = asyncio.run(scenario())
    finally:
        job.kill()
        job.wait()
    assert run.sent[0] == {"op": "session", "session": "s1", "reviewers": 0}
    request = agent.sent[0]["request"]
    assert (request["session_name"], request["context"]) == ("refactor", "tidy up")
    assert agent.sent[-1]["allowed"] is True  # once the session ended, that process may decide
    assert broker.sessions == {}


def test_record_plumbing_writes_one_audited_record(evaluation, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    log = MemoryLog()
    monkeypatch.setattr(Broker, "_audit", lambda self: log)

    async def scenario() -> FakeClient:
        client = _submitter()
        Broker(idle=60).record_plumbing(
            client, {"command": "env", "cwd": "/", "session": "s1", "kind": "claude-env"}
        )
        return client

    client = asyncio.run(scenario())
    assert client.sent == [{"op": "ok"}]
    [record] = log.records
    assert (record["decision"], record["rule_id"], record["extra"]) == (
        "auto_approved_rule",
        "agent-plumbing",
        {"plumbing": "claude-env"},
    )


@pytest.mark.parametrize(
    ("first_source", "second", "carried"),
    [
        ("claude-hook", {"session": "s1", "cwd": "/", "source": "shim"}, True),
        ("claude-hook", {"session": "s2", "cwd": "/", "source": "shim"}, False),  # other session
        ("claude-hook", {"session": "s1", "cwd": "/tmp", "source": "shim"}, False),  # other cwd
        ("claude-hook", {"session": "s1", "cwd": "/", "source": "claude-hook"}, False),
        ("exec", {"session": "s1", "cwd": "/", "source": "shim"}, False),  # not a hook approval
    ],
)
def test_hook_approval_covers_one_resubmission_by_the_shell_gate(
    evaluation,  # type: ignore[no-untyped-def]
    monkeypatch,
    first_source: str,
    second: dict[str, str],
    carried: bool,
) -> None:
    monkeypatch.setattr(Broker, "_audit", lambda self: MemoryLog())

    async def scenario() -> list[dict[str, Any]]:
        broker, hook, shim, reviewer = Broker(idle=60), _submitter(), _submitter(), _reviewer()
        broker.clients.update({hook, shim, reviewer})
        command = {"command": "rm -rf x", "cwd": "/", "session": "s1", "source": first_source}
        broker.submit(hook, command)
        broker.decide(reviewer, {"id": hook.sent[0]["request"]["id"], "decision": "approve"})
        broker.submit(shim, {"command": "rm -rf x", **second})
        broker.submit(shim, {"command": "rm -rf x", **second})  # the carry is used up
        return shim.sent

    first, again = asyncio.run(scenario())
    if carried:
        assert (first["op"], first["decision"], first["allowed"]) == ("decision", "approved", True)
        assert "through the agent's hook" in first["reason"]
    else:
        assert first["op"] == "queued"
    assert again["op"] == "queued"


def test_a_gated_process_cannot_stop_the_broker(evaluation) -> None:  # type: ignore[no-untyped-def]
    me = peers.process_id(os.getpid())
    assert me is not None

    async def scenario() -> Broker:
        broker = Broker(idle=60)
        broker.stopping = asyncio.Event()
        agent = FakeClient(pid=me.pid, start=me.start)
        broker.clients.add(agent)
        broker.submit(agent, {"command": "rm -rf x", "cwd": "/"})
        with pytest.raises(ProtocolError) as refused:
            broker.dispatch(FakeClient(pid=me.pid, start=me.start), {"op": "stop"})
        assert refused.value.code == "self_approval"
        return broker

    broker = asyncio.run(scenario())
    assert broker.stopping is not None and not broker.stopping.is_set()
    assert len(broker.pending) == 1


@pytest.mark.parametrize(
    ("home", "xdg"),
    [
        ("/srv/expacti", ""),
        ("relative/dir", ""),
        ("~/x", ""),
        ("/a/../b", ""),
        ("", "/run/user/1000"),
        ("", ""),
    ],
)
def test_socket_file_agrees_with_paths(
    monkeypatch: pytest.MonkeyPatch, tmp_path, home: str, xdg: str
) -> None:
    from expacti_cli.broker import sockets

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("EXPACTI_HOME", home)
    monkeypatch.setenv("XDG_RUNTIME_DIR", xdg)
    assert sockets.socket_file() == str(sockets.socket_path())


def test_exec_core_does_not_import_pathlib_or_click() -> None:
    import subprocess
    import sys

    # (an editable install's site hook imports pathlib by itself: count only what we add)
    code = (
        "import sys\n"
        "before = set(sys.modules)\n"
        "import expacti_cli.commands.exec_run\n"
        "from expacti_cli.broker import sockets\n"
        "sockets.socket_file()\n"
        "new = set(sys.modules) - before\n"
        "print(sorted(m for m in ('pathlib', 'click', 'subprocess') if m in new))\n"
    )
    env = {**os.environ, "EXPACTI_HOME": "/tmp/expacti-x"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.stdout.strip() == "[]", out.stderr
