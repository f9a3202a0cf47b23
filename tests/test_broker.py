"""The broker process: protocol, bad input, start-up races, crashes, self-approval."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from expacti_cli.broker import client, protocol, sockets

pytest_plugins = ("broker_support",)
pytestmark = pytest.mark.usefixtures("broker_env")

RISKY = "rm -rf /tmp/expacti-test-nothing-here"


def _submit(
    command: str = RISKY, cwd: str = "/tmp", **more: object
) -> tuple[client.Connection, dict]:
    conn = client.connect()
    conn.send({"op": "submit", "command": command, "cwd": cwd, "session": "t1", **more})
    queued = conn.receive(10)
    assert queued is not None and queued["op"] == "queued", queued
    return conn, queued["request"]


def _decide_from_child(
    request_id: str, decision: str = "approve"
) -> subprocess.CompletedProcess[str]:
    """Decide from a separate process started by the test runner (not inside a gated session)."""
    code = (
        "import json, sys\n"
        "from expacti_cli.broker import client\n"
        "try:\n"
        f"    print(json.dumps(client.call('decide', id={request_id!r}, decision={decision!r},"
        " reviewer='r@example.com')))\n"
        "except client.BrokerRefused as exc:\n"
        "    print(json.dumps({'error': str(exc), 'code': exc.code}))\n"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=20)


def _raw_exchange(payload: bytes) -> dict:
    with client.connect() as conn:
        conn.sock.sendall(payload)
        answer = conn.receive(10)
        assert answer is not None
        # the same connection still answers afterwards
        assert conn.call({"op": "status"})["op"] == "status"
    return answer


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (b"garbage\n", "bad_request"),
        (b"[1, 2]\n", "bad_request"),
        (b'{"op": "status"}\n', "bad_version"),
        (b'{"v": 2, "op": "status"}\n', "bad_version"),
        (b'{"v": 1, "op": "frobnicate"}\n', "bad_op"),
        (b'{"v": 1}\n', "bad_op"),
        (b'{"v": 1, "op": "submit"}\n', "bad_request"),
        (b'{"v": 1, "op": "submit", "command": 5}\n', "bad_request"),
        (b'{"v": 1, "op": "submit", "command": "ls", "ttl": "soon"}\n', "bad_request"),
        (b'{"v": 1, "op": "decide", "id": "abcd", "decision": "maybe"}\n', "bad_request"),
        (b'{"v": 1, "op": "decide", "id": "ffffffff", "decision": "approve"}\n', "unknown_id"),
        (b'{"v": 1, "op": "exit", "id": "ffffffff", "exit_code": 0}\n', "unknown_id"),
        (b"\xff\xfe\n", "bad_request"),
    ],
)
def test_malformed_message_gets_an_error_and_the_broker_stays_up(payload: bytes, code: str) -> None:
    answer = _raw_exchange(payload)
    assert (answer["op"], answer["code"]) == ("error", code), answer


def test_oversized_line_is_refused_and_the_broker_stays_up() -> None:
    with client.connect() as conn:
        big = b'{"v": 1, "op": "submit", "command": "' + b"a" * (3 * 1024 * 1024)
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            conn.sock.sendall(big)  # the broker hangs up once the line passes the limit
        answer = conn.receive(10)
    assert answer is not None and answer["code"] == "too_large"
    assert client.call("status")["pending"] == 0


def test_socket_and_directory_are_private() -> None:
    client.call("status", autostart=True)
    assert stat.S_IMODE(sockets.socket_path().stat().st_mode) == 0o600
    assert stat.S_IMODE(sockets.socket_path().parent.stat().st_mode) == 0o700


def _queued(g: Any) -> dict:
    message = g.next_message()
    assert message["op"] == "queued", message
    return dict(message["request"])


def test_subscriber_sees_pending_and_resolved_events(gater) -> None:  # type: ignore[no-untyped-def]
    with client.connect() as reviewer:
        assert reviewer.call({"op": "subscribe"})["requests"] == []
        g = gater(RISKY, context="why not")
        request = _queued(g)
        event = reviewer.receive(10)
        assert event is not None and event["op"] == "pending"
        assert event["request"]["id"] == request["id"]
        assert (event["request"]["command"], event["request"]["context"]) == (RISKY, "why not")
        reviewer.call({"op": "decide", "id": request["id"], "decision": "deny", "reason": "no"})
        resolved = reviewer.receive(10)
        assert resolved is not None
        assert (resolved["op"], resolved["id"], resolved["decision"], resolved["reason"]) == (
            "resolved",
            request["id"],
            "denied",
            "no",
        )
    decision = g.next_message()
    assert (decision["op"], decision["allowed"], decision["reason"]) == ("decision", False, "no")


def test_deciding_twice_is_refused_and_the_decision_is_bound_to_the_command(broker, gater) -> None:  # type: ignore[no-untyped-def]
    g = gater(RISKY, cwd="/srv/app")
    request = _queued(g)
    assert request["command_hash"] == protocol.command_hash(RISKY, "/srv/app")
    assert client.call("decide", id=request["id"], decision="approve")["decision"] == "approved"
    for verdict in ("approve", "deny"):
        with pytest.raises(client.BrokerRefused) as refused:
            client.call("decide", id=request["id"], decision=verdict)
        assert refused.value.code == "already_decided"
    decision = g.next_message()
    assert decision["allowed"] is True
    assert decision["command_hash"] == protocol.command_hash(RISKY, "/srv/app")
    assert decision["command_hash"] != protocol.command_hash(RISKY, "/srv")
    assert [d["decision"] for d in broker.audit_records("decision")] == ["approved"]


def test_decision_for_a_different_command_hash_is_refused(gater) -> None:  # type: ignore[no-untyped-def]
    request = _queued(gater(RISKY))
    with pytest.raises(client.BrokerRefused) as refused:
        client.call(
            "decide",
            id=request["id"],
            decision="approve",
            command_hash=protocol.command_hash(RISKY + " ", "/tmp"),
        )
    assert refused.value.code == "hash_mismatch"
    assert [r["id"] for r in client.call("list")["requests"]] == [request["id"]]


def test_expired_request_cannot_be_decided(gater) -> None:  # type: ignore[no-untyped-def]
    g = gater(RISKY, ttl=1)
    request = _queued(g)
    decision = g.next_message()
    assert (decision["decision"], decision["allowed"]) == ("timed_out", False)
    with pytest.raises(client.BrokerRefused) as refused:
        client.call("decide", id=request["id"], decision="approve")
    assert refused.value.code == "already_decided"


def test_disconnecting_client_withdraws_its_request(broker) -> None:
    conn, request = _submit()
    conn.close()
    deadline = time.monotonic() + 10
    while client.call("list")["requests"] and time.monotonic() < deadline:
        time.sleep(0.02)
    assert client.call("list")["requests"] == []
    [decision] = broker.audit_records("decision")
    assert (decision["id"], decision["decision"]) == (request["id"], "withdrawn")


def test_self_approval_from_inside_a_gated_process_is_refused_and_audited(broker) -> None:
    conn, request = _submit()
    # A child of the gating process (this test) is inside the gated session.
    result = _decide_from_child(request["id"])
    answer = json.loads(result.stdout)
    assert answer["code"] == "self_approval", answer
    assert "gated session" in answer["error"]
    [refusal] = broker.audit_records("decision_refused")
    assert refusal["request_id"] == request["id"]
    assert [r["id"] for r in client.call("list")["requests"]] == [request["id"]]
    conn.close()


def test_self_approval_through_exec_is_refused(broker, run_cli, spawn, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    marker = tmp_path / "ran.txt"
    victim = spawn("exec", "--", sys.executable, "-c", f"open({str(marker)!r}, 'w')")
    [request] = broker.wait_pending()
    # The agent gates `expacti approve ID`; once a human lets that run, it runs inside the
    # gated session and the broker must refuse it.
    attacker = spawn("exec", "--", broker.expacti_script(), "approve", request["id"])
    pending = broker.wait_pending(2)
    attack = next(r for r in pending if r["id"] != request["id"])
    assert attack["level"] == "CRITICAL"
    assert run_cli("approve", attack["id"]).returncode == 0
    _, err = attacker.communicate(timeout=20)
    assert attacker.returncode == 1, err
    assert "gated session" in err
    assert [r["id"] for r in broker.wait_pending(1)] == [request["id"]]
    assert not marker.exists()
    assert run_cli("deny", request["id"]).returncode == 0
    victim.communicate(timeout=20)
    assert victim.returncode == 126


def test_killing_the_broker_mid_request_runs_nothing(broker, spawn, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    marker = tmp_path / "ran.txt"
    proc = spawn("exec", "--", sys.executable, "-c", f"open({str(marker)!r}, 'w')")
    broker.wait_pending()
    pid = sockets.recorded_pid()
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 126
    assert "nothing ran" in err
    assert not marker.exists()


def test_stale_socket_is_replaced() -> None:
    path = sockets.socket_path()
    sockets.runtime_dir()
    dead = socket.socket(socket.AF_UNIX)
    dead.bind(str(path))  # a socket file nobody listens on: what a crashed broker leaves
    dead.close()
    assert path.exists() and not sockets.broker_alive()
    assert client.call("status", autostart=True)["pending"] == 0


def test_two_brokers_started_at_once_exactly_one_wins(broker) -> None:
    env = dict(os.environ)
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "expacti_cli.broker"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(4)
    ]
    try:
        deadline = time.monotonic() + 15
        while sum(p.poll() is None for p in procs) > 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        running = [p for p in procs if p.poll() is None]
        assert len(running) == 1
        assert all(p.returncode == 0 for p in procs if p not in running)
        assert client.call("status")["pid"] == running[0].pid
    finally:
        broker.kill()
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.wait()


def test_idle_broker_exits_and_removes_its_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXPACTI_BROKER_IDLE", "0.5")
    pid = client.call("status", autostart=True)["pid"]
    deadline = time.monotonic() + 10
    while client.pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not client.pid_alive(pid)
    assert not sockets.socket_path().exists()


def test_unwritable_audit_log_turns_allow_into_deny(run_cli) -> None:  # type: ignore[no-untyped-def]
    assert run_cli("whitelist", "add", "true").returncode == 0
    assert run_cli("exec", "--", "true").returncode == 0
    # A missing head file means the log may have been truncated: appends are refused.
    (Path(os.environ["EXPACTI_HOME"]) / "data" / "audit" / "head.json").unlink()
    result = run_cli("exec", "--", "true")
    assert result.returncode == 126
    assert "audit log" in result.stderr


def test_a_broker_that_cannot_start_means_nothing_runs(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    marker = tmp_path / "ran.txt"
    sockets.runtime_dir()
    sockets.lock_path().mkdir()  # the broker cannot open its lock file
    started = time.monotonic()
    result = run_cli("exec", "--", sys.executable, "-c", f"open({str(marker)!r}, 'w')")
    assert result.returncode == 126
    assert "exited with status" in result.stderr and "broker.log" in result.stderr
    assert time.monotonic() - started < 8  # told at once, not after the start timeout
    assert not marker.exists()
