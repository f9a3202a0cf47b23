"""Fixtures for the zsh and fish PTY tests: the real `expacti run` on a pexpect terminal.

Each test gets a private HOME (the shells' own startup files live there), a broker that is
killed afterwards, and `approval_ui = "external"`, so the gate's own messages are what the
terminal shows while a line waits (the test decides from a second process).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pexpect
import pytest

PY = sys.executable
TIMEOUT = 20


@pytest.fixture
def shell_home(broker_env: Path, tmp_path: Path) -> Path:
    """HOME for the shells under test (empty until a test writes startup files into it)."""
    (broker_env / "config.toml").write_text(
        'reviewer = "reviewer@example.com"\napproval_ui = "external"\n'
    )
    home = tmp_path / "home"
    home.mkdir()
    return home


@pytest.fixture
def run_term(shell_home: Path, tmp_path: Path) -> Iterator[Callable[..., pexpect.spawn]]:
    """Spawn `expacti run --no-split -- PROGRAM...`; every one is terminated at the end."""
    started: list[pexpect.spawn] = []

    def spawn(*program: str, env: dict[str, str] | None = None) -> pexpect.spawn:
        full_env = dict(os.environ, TERM="xterm", HOME=str(shell_home))
        for key in ("TMUX", "ZDOTDIR", "XDG_CONFIG_HOME", "XDG_DATA_DIRS", "EXPACTI_USER_ZDOTDIR"):
            full_env.pop(key, None)
        full_env.update(env or {})
        child = pexpect.spawn(
            PY,
            ["-m", "expacti_cli", "run", "--no-split", "--", *program],
            env=full_env,
            cwd=str(tmp_path),
            dimensions=(24, 160),
            timeout=TIMEOUT,
        )
        started.append(child)
        return child

    yield spawn
    for child in started:
        if child.isalive():
            child.terminate(force=True)
        child.close(force=True)


ZSH_MARKER_RULE = r"echo ok-\$\(\(\d\*\d\)\)"  # echo ok-$((6*7)) and the like


@pytest.fixture
def gated_zsh(
    broker: Any, run_term: Any, run_cli: Any, shells: Any, shell_home: Path
) -> pexpect.spawn:
    """`expacti run -- zsh` at its first prompt (HOME holds a .zshrc), markers whitelisted."""
    (shell_home / ".zshrc").write_text("PS1='%% '\nalias hi='echo hi-from-rc-$((20+1))'\n")
    shells.whitelist(run_cli, ZSH_MARKER_RULE, "^hi$")
    child = run_term("zsh")
    child.sendline("echo ok-$((6*7))")
    child.expect("ok-42")
    return child


class ShellTools:
    """Helpers for the shell tests, handed out as the `shells` fixture."""

    @staticmethod
    def exit_code(child: pexpect.spawn) -> int:
        child.expect(pexpect.EOF)
        child.close()
        assert child.exitstatus is not None, f"killed by signal {child.signalstatus}"
        return int(child.exitstatus)

    @staticmethod
    def decide(run_cli: Callable[..., Any], verb: str, request_id: str, *args: str) -> None:
        done = run_cli(verb, request_id, *args)
        assert done.returncode == 0, done.stderr

    @staticmethod
    def logged_exit(run_cli: Callable[..., Any], request_id: str, timeout: float = 10) -> Any:
        """The exit code `expacti log --json` shows for a decision (None if it never shows)."""
        deadline = time.monotonic() + timeout
        while True:
            done = run_cli("log", "--json", "--limit", "0")
            for line in done.stdout.splitlines():
                record = json.loads(line)
                if record.get("id") == request_id and record.get("exit_code") is not None:
                    return record["exit_code"]
            if time.monotonic() > deadline:
                return None
            time.sleep(0.1)

    @staticmethod
    def whitelist(run_cli: Callable[..., Any], *rules: str) -> None:
        """Add regex allow rules."""
        for rule in rules:
            done = run_cli("whitelist", "add", "--kind", "regex", rule)
            assert done.returncode == 0, done.stderr


@pytest.fixture
def shells() -> type[ShellTools]:
    return ShellTools
