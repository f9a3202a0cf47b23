"""Shells started from inside an `expacti run` session are gated too (fish's side).

A fish, zsh or bash typed at the gated fish prompt gets the integration (fish wraps those
names), and so does a fish that any program of the session execs by path (its vendor
configuration directory is first in XDG_DATA_DIRS).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytest_plugins = ("broker_support", "pty_shell_support")
pytestmark = [
    pytest.mark.usefixtures("broker_env"),
    pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed"),
]

MARKER_RULE = r"^printf 'ok-%s\\n' \w+$"
CONFIG = "set -g fish_greeting ''\nfunction fish_prompt; printf '> '; end\n"


def _denied_inside(child, broker, run_cli, shells, target: Path) -> None:  # type: ignore[no-untyped-def]
    """A risky line typed in the (nested) shell waits, is denied, and does not run."""
    child.sendline(f"touch {target}")
    child.expect("waiting for approval")
    [request] = broker.wait_pending(1)
    assert request["command"] == f"touch {target}"
    assert request["source"] == "pty"  # the shell's own integration asked, not the prompt reader
    shells.decide(run_cli, "deny", request["id"])
    child.expect("denied")
    child.sendline("printf 'ok-%s\\n' 25x")
    child.expect("ok-25x")
    assert not target.exists()


@pytest.fixture
def fish_home(shell_home: Path) -> Path:
    config = shell_home / ".config" / "fish"
    config.mkdir(parents=True)
    (config / "config.fish").write_text(CONFIG)
    (shell_home / ".zshrc").write_text("PS1='%% '\n")
    return shell_home


@pytest.mark.parametrize("inner", ["fish", "zsh", "bash --norc"])
def test_a_shell_typed_at_the_gated_prompt_is_gated(
    broker, run_term, run_cli, shells, fish_home: Path, tmp_path: Path, inner: str
) -> None:  # type: ignore[no-untyped-def]
    shells.whitelist(run_cli, MARKER_RULE, "^exit$")
    child = run_term("fish")
    child.sendline("printf 'ok-%s\\n' 42x")
    child.expect("ok-42x")
    child.sendline(inner)
    child.expect("waiting for approval")
    [request] = broker.wait_pending(1)
    shells.decide(run_cli, "approve", request["id"])
    _denied_inside(child, broker, run_cli, shells, tmp_path / "inner.txt")
    child.sendline("exit")  # back in the outer fish, still gated
    _denied_inside(child, broker, run_cli, shells, tmp_path / "outer.txt")


def test_a_fish_a_program_execs_by_path_is_gated(
    broker, run_term, run_cli, shells, fish_home: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    # As an agent would open an interactive shell: not typed at a gated prompt, no wrapper.
    shells.whitelist(run_cli, MARKER_RULE)
    fish = shutil.which("fish")
    assert fish is not None
    child = run_term("sh", "-c", f"exec {fish} -i")
    child.sendline("printf 'ok-%s\\n' 42x")
    child.expect("ok-42x")
    _denied_inside(child, broker, run_cli, shells, tmp_path / "agent.txt")
