"""The broker side of the inline overlay, with a real broker and real processes.

The test process plays `expacti run`: it opens a session, watches it, and starts the
session's programs as its own children (so the broker's ancestry check sees the real tree).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from expacti_cli.broker import client

pytest_plugins = ("broker_support",)
pytestmark = pytest.mark.usefixtures("broker_env")

SESSION = "0123456789abcdef"


@pytest.fixture
def run_process() -> Iterator[tuple[client.Connection, client.Connection]]:
    """This process as `expacti run`: its session connection and its watch connection."""
    session = client.connect()
    session.call(
        {"op": "session", "session": SESSION, "name": "t", "context": "start", "program": "sh"}
    )
    watch = client.connect()
    yield session, watch
    watch.close()
    session.close()


def _next(conn: client.Connection, op: str) -> dict[str, Any]:
    while True:
        message = conn.receive(timeout=10)
        assert message is not None, "the broker closed the watch connection"
        if message.get("op") == op:
            return message
        assert message.get("op") != "error", message


def _decide_from_child(request_id: str) -> subprocess.CompletedProcess[str]:
    """`expacti approve ID` run by a program of the session (a child of this process)."""
    return subprocess.run(
        [sys.executable, "-m", "expacti_cli", "approve", request_id],
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_the_run_process_may_decide_but_the_program_below_it_may_not(run_process, broker) -> None:  # type: ignore[no-untyped-def]
    session, watch = run_process
    first = watch.call({"op": "watch", "session": SESSION})
    assert (first["op"], first["requests"], first["context"]) == ("watching", [], "start")
    waiting = broker.Gater("touch /tmp/expacti-never", session=SESSION)
    assert waiting.next_message()["op"] == "queued"
    request = _next(watch, "pending")["request"]
    refused = _decide_from_child(request["id"])
    assert refused.returncode != 0 and "gated session" in refused.stderr
    watch.send(
        {
            "op": "decide",
            "id": request["id"],
            "decision": "deny",
            "reviewer": "me@example.com",
            "command_hash": request["command_hash"],
            "reason": "not now",
            "via": "inline",
        }
    )
    assert _next(watch, "resolved")["id"] == request["id"]  # (the broker tells watchers first)
    assert _next(watch, "decided")["decision"] == "denied"
    assert waiting.next_message()["allowed"] is False
    [record] = [r for r in broker.audit_records("decision") if r["id"] == request["id"]]
    assert (record["reviewer"], record["via"], record["reason"]) == (
        "me@example.com",
        "inline",
        "not now",
    )
    [refusal] = broker.audit_records("decision_refused")
    assert refusal["request_id"] == request["id"]


def test_a_watch_sees_only_its_session_and_the_reviewer_count_live(
    run_process, broker, spawn
) -> None:  # type: ignore[no-untyped-def]
    _, watch = run_process
    assert watch.call({"op": "watch", "session": SESSION})["reviewers"] == 0
    other = broker.Gater("touch /tmp/expacti-other", session="another-session")
    assert other.next_message()["op"] == "queued"
    mine = broker.Gater("touch /tmp/expacti-mine", session=SESSION)
    assert mine.next_message()["op"] == "queued"
    assert _next(watch, "pending")["request"]["command"] == "touch /tmp/expacti-mine"
    reviewer = client.connect()
    reviewer.call({"op": "subscribe"})
    assert _next(watch, "reviewers")["reviewers"] == 1
    reviewer.close()
    assert _next(watch, "reviewers")["reviewers"] == 0
    other.close()  # withdrawn: not this session's business
    mine.close()
    resolved = _next(watch, "resolved")
    assert resolved["decision"] == "withdrawn"
    [waited] = [r for r in broker.audit_records("decision") if r["command"].endswith("mine")]
    assert resolved["id"] == waited["id"]


_SET_CONTEXT = """
import json, sys
from expacti_cli.broker import client
with client.connect() as conn:
    try:
        print(json.dumps(conn.call({"op": "context", "session": sys.argv[1], "context": sys.argv[2]})))
    except client.BrokerRefused as exc:
        print(json.dumps({"op": "error", "code": exc.code, "error": str(exc)}))
"""


def _context_from_child(session: str, text: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", _SET_CONTEXT, session, text],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return dict(json.loads(done.stdout))


def test_context_set_inside_the_session_is_marked_and_audited(run_process, broker) -> None:  # type: ignore[no-untyped-def]
    _, watch = run_process
    watch.call({"op": "watch", "session": SESSION})
    answer = _context_from_child(SESSION, "only the staging database")
    assert (answer["context"], answer["context_set_by"]) == ("only the staging database", "session")
    assert _next(watch, "context")["context"] == "only the staging database"
    # The next request of the session carries it, even when the program still sends the
    # EXPACTI_CONTEXT it was started with.
    gated = broker.Gater("touch /tmp/expacti-x", session=SESSION, context="start")
    request = gated.next_message()["request"]
    assert (request["context"], request["context_set_by"]) == (
        "only the staging database",
        "session",
    )
    # A context given with one command stays that command's.
    explicit = broker.Gater("touch /tmp/expacti-y", session=SESSION, context="just this one")
    assert explicit.next_message()["request"]["context"] == "just this one"
    [record] = broker.audit_records("context")
    assert (record["session"], record["context"], record["previous"], record["set_by"]) == (
        SESSION,
        "only the staging database",
        "start",
        "session",
    )


def test_outside_the_session_it_is_the_users_and_another_session_is_refused(
    run_process, broker
) -> None:  # type: ignore[no-untyped-def]
    session, _ = run_process
    answer = session.call({"op": "context", "session": SESSION, "context": "from my terminal"})
    assert answer["context_set_by"] == "user"  # the run process: the human's own terminal
    # A program of another session may not. That session's run process must not be one of
    # ours (then it would be nested in this session): it forks and leaves our tree first.
    intruder = subprocess.run(
        [
            sys.executable,
            "-c",
            "import os, subprocess, sys, time\n"
            "parent = os.getpid()\n"
            "if os.fork():\n"
            "    os._exit(0)\n"
            "while os.getppid() == parent:\n"
            "    time.sleep(0.01)\n"
            "from expacti_cli.broker import client\n"
            "conn = client.connect()\n"
            "conn.call({'op': 'session', 'session': 'other'})\n"
            "out = subprocess.run([sys.executable, '-c', sys.argv[1], sys.argv[2], 'hijack'],"
            " capture_output=True, text=True).stdout\n"
            "print(out)\n",
            _SET_CONTEXT,
            SESSION,
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    refused = json.loads(intruder.stdout)
    assert refused["op"] == "error" and "another gated session" in refused["error"]
    assert session.call({"op": "context", "session": SESSION})["context"] == "from my terminal"


def test_a_line_the_run_process_submitted_itself_may_be_answered_inline(
    run_process, broker
) -> None:  # type: ignore[no-untyped-def]
    # The prompt detector of `expacti run` submits lines typed at a database prompt from the
    # run process itself; its own overlay must still be able to answer them.
    _, watch = run_process
    watch.call({"op": "watch", "session": SESSION})
    with client.connect() as submitter:
        submitter.send({"op": "submit", "command": "DELETE FROM t", "cwd": "/", "session": SESSION})
        request = _next(submitter, "queued")["request"]
        answer = watch.call(
            {
                "op": "decide",
                "id": request["id"],
                "decision": "approve",
                "reviewer": "me@example.com",
                "command_hash": request["command_hash"],
            }
        )
        assert answer["decision"] == "approved"
        assert _next(submitter, "decision")["allowed"] is True
    assert broker.audit_records("decision_refused") == []
