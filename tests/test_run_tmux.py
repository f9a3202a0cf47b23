"""`expacti run` inside tmux: the reviewer pane opens beside the program and closes with it.

Each test runs its own tmux server (private socket, no user config) and kills it at the end.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from collections.abc import Callable

import pytest
from polling import until

from expacti_cli.broker import client

Tmux = Callable[..., str]

pytest_plugins = ("broker_support", "tmux_support")
pytestmark = [
    pytest.mark.usefixtures("broker_env"),
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]


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
    until("two panes", lambda: len(_panes(tmux)) == 2)
    first, second = _panes(tmux)
    assert "expacti_cli approve" in second
    main_pane = first.split()[0]
    until("the program", lambda: "STARTED-42" in _screen(tmux, main_pane))
    until("the reviewer", lambda: client.call("status").get("reviewers") == 1)
    tmux("send-keys", "-t", main_pane, "x", "Enter")
    until("the exit", lambda: "EXIT=0" in _screen(tmux, main_pane))
    assert "BYE-42" in _screen(tmux, main_pane)
    until("the reviewer pane to close", lambda: len(_panes(tmux)) == 1)


def test_no_split_opens_no_pane(tmux: Tmux) -> None:
    _start(tmux, "--no-split")
    until("the program", lambda: "STARTED-42" in _screen(tmux, "main"))
    assert len(_panes(tmux)) == 1
    assert "run `expacti approve` in another terminal" in _screen(tmux, "main")
    tmux("send-keys", "-t", "main", "x", "Enter")
    until("the exit", lambda: "EXIT=0" in _screen(tmux, "main"))
