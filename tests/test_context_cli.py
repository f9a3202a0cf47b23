"""`expacti context`: the real CLI, inside a real `expacti run -- bash` (pexpect) and outside it.

A context set from inside the session is the session's claim: `expacti pending --json` shows
it on the session's next request marked `context_set_by: "session"`; set from another terminal
with --session it is marked "user". Every change is audited.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pexpect
import pytest

pytest_plugins = ("broker_support",)
pytestmark = pytest.mark.usefixtures("broker_env")

RULE = r"echo ok-\$\(\(\d\*\d\)\)"


@pytest.fixture
def session(broker, broker_env: Path, run_cli, tmp_path: Path) -> Iterator[pexpect.spawn]:  # type: ignore[no-untyped-def]
    """`expacti run --context "first task" -- bash --norc` at a prompt; prompts in the
    reviewer's terminal only (approval_ui = external), so nothing covers the screen."""
    config = broker_env / "config.toml"
    config.write_text(config.read_text() + 'approval_ui = "external"\n')
    assert run_cli("whitelist", "add", "--kind", "regex", RULE).returncode == 0
    env = dict(os.environ, TERM="xterm", PS1="$ ", HOME=str(tmp_path))
    env.pop("TMUX", None)
    child = pexpect.spawn(
        sys.executable,
        ["-m", "expacti_cli", "run", "--context", "first task", "--", "bash", "--norc"],
        env=env,
        cwd=str(tmp_path),
        dimensions=(24, 200),
        timeout=20,
    )
    child.sendline("echo ok-$((6*7))")
    child.expect("ok-42")
    yield child
    if child.isalive():
        child.terminate(force=True)
    child.close(force=True)


def _pending(run_cli: Callable[..., object]) -> list[dict[str, object]]:
    done = run_cli("pending", "--json")
    return list(json.loads(done.stdout))  # type: ignore[attr-defined]


def _wait_and_deny(session: pexpect.spawn, broker, run_cli, command: str) -> dict[str, object]:  # type: ignore[no-untyped-def]
    session.sendline(command)
    [request] = broker.wait_pending(1)
    assert _pending(run_cli) == [request]
    assert run_cli("deny", str(request["id"])).returncode == 0
    session.sendline("echo ok-$((2*2))")
    session.expect("ok-4")
    return dict(request)


def test_context_from_inside_the_session_reaches_the_next_request(session, broker, run_cli) -> None:  # type: ignore[no-untyped-def]
    first = _wait_and_deny(session, broker, run_cli, "touch one.txt")
    assert (first["context"], first["context_set_by"]) == ("first task", "")
    command = f"{shlex.quote(broker.expacti_script())} context 'only the staging database'"
    assert run_cli("whitelist", "add", command).returncode == 0
    session.sendline(command)
    session.expect(r"context of session [0-9a-f]{16} is now: only the staging database")
    session.expect("set by the session itself")
    second = _wait_and_deny(session, broker, run_cli, "touch two.txt")
    assert second["context"] == "only the staging database"
    assert second["context_set_by"] == "session"
    [record] = broker.audit_records("context")
    assert (record["context"], record["previous"], record["set_by"]) == (
        "only the staging database",
        "first task",
        "session",
    )
    assert record["session"] == first["session"]


def test_context_from_another_terminal_names_the_session(session, broker, run_cli) -> None:  # type: ignore[no-untyped-def]
    first = _wait_and_deny(session, broker, run_cli, "touch one.txt")
    sid = str(first["session"])
    done = run_cli("context", "--session", sid, "--json", "review only: no deploys")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "session": sid,
        "context": "review only: no deploys",
        "context_set_by": "user",
        "changed": True,
    }
    second = _wait_and_deny(session, broker, run_cli, "touch two.txt")
    assert (second["context"], second["context_set_by"]) == ("review only: no deploys", "user")
    shown = run_cli("context", "--session", sid)
    assert shown.returncode == 0
    assert shown.stdout.splitlines() == [
        f"context of session {sid} is: review only: no deploys",
        "  set from outside the session",
    ]
    cleared = run_cli("context", "--session", sid, "--clear", "--json")
    assert json.loads(cleared.stdout)["context"] == ""


def test_a_context_is_shown_escaped(session, broker, run_cli) -> None:  # type: ignore[no-untyped-def]
    first = _wait_and_deny(session, broker, run_cli, "touch one.txt")
    done = run_cli("context", "--session", str(first["session"]), "fine\x1b[2J\x1b]0;x\x07")
    assert done.returncode == 0
    assert "fine\\x1b[2J\\x1b]0;x\\x07" in done.stdout
    assert "\x1b" not in done.stdout


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        ((), 2, "no session: run this inside `expacti run`"),
        (("--session", "0123456789abcdef", "x"), 1, "no broker is running"),
        (("--session", "s", "--clear", "x"), 2, "not both"),
    ],
)
def test_clear_errors(run_cli, args: tuple[str, ...], code: int, message: str) -> None:  # type: ignore[no-untyped-def]
    done = run_cli("context", *args)
    assert done.returncode == code
    assert message in done.stderr


def test_an_ended_session_is_refused_clearly(run_cli, broker) -> None:  # type: ignore[no-untyped-def]
    assert run_cli("daemon", "start").returncode == 0
    done = run_cli("context", "--session", "0123456789abcdef", "x")
    assert done.returncode == 1
    assert "no session '0123456789abcdef' is running" in done.stderr
