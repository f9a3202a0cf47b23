"""Shells started from inside an `expacti run` session are gated too (zsh's side).

A bash or zsh typed at the gated zsh prompt gets the integration (zsh wraps those names),
and so does a zsh that any program of the session execs by path (ZDOTDIR in the
environment points at expacti's stubs, which read the user's files first).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytest_plugins = ("broker_support", "pty_shell_support")
pytestmark = [
    pytest.mark.usefixtures("broker_env"),
    pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed"),
]

MARKER_RULE = r"echo ok-\$\(\(\d\*\d\)\)"


def _denied_inside(child, broker, run_cli, shells, target: Path) -> None:  # type: ignore[no-untyped-def]
    """A risky line typed in the (nested) shell waits, is denied, and does not run."""
    child.sendline(f"touch {target}")
    child.expect("waiting for approval")
    [request] = broker.wait_pending(1)
    assert request["command"] == f"touch {target}"
    assert request["source"] == "pty"  # the shell's own integration asked, not the prompt reader
    shells.decide(run_cli, "deny", request["id"])
    child.expect("denied")
    child.sendline("echo ok-$((5*5))")
    child.expect("ok-25")
    assert not target.exists()


@pytest.mark.parametrize("inner", ["zsh", "bash --norc"])
def test_a_shell_typed_at_the_gated_prompt_is_gated(
    broker, run_term, run_cli, shells, shell_home: Path, tmp_path: Path, inner: str
) -> None:  # type: ignore[no-untyped-def]
    (shell_home / ".zshrc").write_text("PS1='%% '\nexport FROM_RC=rc-$((30+3))\n")
    shells.whitelist(run_cli, MARKER_RULE, r"^echo in-\$FROM_RC$", "^exit$")
    child = run_term("zsh")
    child.sendline("echo ok-$((6*7))")
    child.expect("ok-42")
    child.sendline(inner)
    child.expect("waiting for approval")
    [request] = broker.wait_pending(1)
    shells.decide(run_cli, "approve", request["id"])
    child.sendline("echo in-$FROM_RC")
    child.expect("in-rc-33")
    _denied_inside(child, broker, run_cli, shells, tmp_path / "inner.txt")
    child.sendline("exit")  # back in the outer zsh, still gated
    _denied_inside(child, broker, run_cli, shells, tmp_path / "outer.txt")


def test_a_zsh_a_program_execs_by_path_is_gated(
    broker, run_term, run_cli, shells, shell_home: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    # As an agent would open an interactive shell: not typed at a gated prompt, no wrapper.
    (shell_home / ".zshrc").write_text("PS1='%% '\n")
    shells.whitelist(run_cli, MARKER_RULE)
    zsh = shutil.which("zsh")
    assert zsh is not None
    child = run_term("sh", "-c", f"exec {zsh} -i")
    child.sendline("echo ok-$((6*7))")
    child.expect("ok-42")
    _denied_inside(child, broker, run_cli, shells, tmp_path / "agent.txt")


def test_a_zsh_typed_in_a_gated_bash_is_gated(
    broker, run_term, run_cli, shells, shell_home: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    # bash defines no wrappers: the zsh finds expacti's stubs through the inherited ZDOTDIR.
    (shell_home / ".zshrc").write_text("PS1='%% '\n")
    shells.whitelist(run_cli, MARKER_RULE)
    child = run_term("bash", "--norc")
    child.sendline("echo ok-$((6*7))")
    child.expect("ok-42")
    child.sendline("zsh")
    child.expect("waiting for approval")
    [request] = broker.wait_pending(1)
    shells.decide(run_cli, "approve", request["id"])
    _denied_inside(child, broker, run_cli, shells, tmp_path / "in-zsh.txt")
