"""`expacti run` inside tmux: the reviewer pane opens beside the program and closes with it.

Each test runs its own tmux server (private socket, no user config) and kills it at the end.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from expacti_cli.broker import client

pytest_plugins = ("broker_support",)
pytestmark = [
    pytest.mark.usefixtures("broker_env"),
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]

Tmux = Callable[..., str]


@pytest.fixture
def tmux() -> Iterator[Tmux]:
    # A short private path for the socket (sun_path holds ~100 bytes), removed with the dir.
    socket = Path(tempfile.mkdtemp(prefix="expacti-tmux-")) / "s"

    def run(*args: str) -> str:
        done = subprocess.run(
            ["tmux", "-S", str(socket), "-f", "/dev/null", *args],
            capture_output=True,
            text=True,
            timeout=10,
        )
        return done.stdout

    yield run
    run("kill-server")
    shutil.rmtree(socket.parent, ignore_errors=True)


def _until(what: str, check: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _start(tmux: Tmux, *run_args: str) -> None:
    program = "echo STARTED-$((6*7)); read x; echo BYE-$((6*7))"
    run = [sys.executable, "-m", "expacti_cli", "run", *run_args, "--", "sh", "-c", program]
    # The pane stays after `expacti run` ends, so its exit status can be read.
    pane = f"{shlex.join(run)}; echo EXIT=$?; sleep 60"
    env = ["-e", f"EXPACTI_HOME={os.environ['EXPACTI_HOME']}"]
    tmux("new-session", "-d", "-s", "main", "-x", "200", "-y", "50", *env, pane)


def _panes(tmux: Tmux) -> list[str]:
    return tmux("list-panes", "-t", "main", "-F", "#{pane_id} #{pane_start_command}").splitlines()


def _screen(tmux: Tmux, pane: str) -> str:
    return tmux("capture-pane", "-p", "-t", pane)


def test_a_reviewer_pane_opens_beside_the_program_and_closes_with_it(tmux: Tmux) -> None:
    _start(tmux)
    _until("two panes", lambda: len(_panes(tmux)) == 2)
    first, second = _panes(tmux)
    assert "expacti_cli approve" in second
    main_pane = first.split()[0]
    _until("the program", lambda: "STARTED-42" in _screen(tmux, main_pane))
    _until("the reviewer", lambda: client.call("status").get("reviewers") == 1)
    tmux("send-keys", "-t", main_pane, "x", "Enter")
    _until("the exit", lambda: "EXIT=0" in _screen(tmux, main_pane))
    assert "BYE-42" in _screen(tmux, main_pane)
    _until("the reviewer pane to close", lambda: len(_panes(tmux)) == 1)


def test_no_split_opens_no_pane(tmux: Tmux) -> None:
    _start(tmux, "--no-split")
    _until("the program", lambda: "STARTED-42" in _screen(tmux, "main"))
    assert len(_panes(tmux)) == 1
    assert "run `expacti approve` in another terminal" in _screen(tmux, "main")
    tmux("send-keys", "-t", "main", "x", "Enter")
    _until("the exit", lambda: "EXIT=0" in _screen(tmux, "main"))
