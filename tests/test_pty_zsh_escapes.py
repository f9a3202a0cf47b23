"""zsh inside the real `expacti run`: the ways a line can reach execution other than a plain
Enter (a multi-line command, a trailing backslash, a paste, history expansion, accept-and-hold,
a key bound to the builtin accept-line, `zsh -f`) all go through the gate or its backstop.
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

MARKER_RULE = r"echo ok-\$\(\(\d\*\d\)\)"  # echo ok-$((6*7)) and the like


def test_a_multi_line_command_is_gated_whole(
    gated_zsh, shells, broker, run_cli, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "loop.txt"
    gated_zsh.sendline("for i in 1 2; do")
    gated_zsh.sendline(f"echo $i >> {target}")
    gated_zsh.sendline("done")
    gated_zsh.expect("waiting for approval")
    [request] = broker.wait_pending(1)
    assert request["command"] == f"for i in 1 2; do\necho $i >> {target}\ndone"
    shells.decide(run_cli, "deny", request["id"])
    gated_zsh.expect("denied")
    gated_zsh.sendline("echo ok-$((5*5))")
    gated_zsh.expect("ok-25")
    assert not target.exists()


def test_a_line_ending_in_a_backslash_is_gated_with_its_continuation(
    shells, gated_zsh, broker, run_cli, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "joined.txt"
    gated_zsh.send("echo a \\\r")
    gated_zsh.send(f"b > {target}\r")
    gated_zsh.expect("waiting for approval")
    [request] = broker.wait_pending(1)
    assert request["command"] == f"echo a \\\nb > {target}"
    shells.decide(run_cli, "approve", request["id"])
    gated_zsh.sendline("echo ok-$((3*3))")
    gated_zsh.expect("ok-9")
    assert target.read_text() == "a b\n"


def test_pasted_lines_are_gated_together(
    gated_zsh, shells, broker, run_cli, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    first, second = tmp_path / "p1", tmp_path / "p2"
    gated_zsh.send(f"\x1b[200~touch {first}\ntouch {second}\x1b[201~")  # bracketed paste
    gated_zsh.send("\r")
    gated_zsh.expect("waiting for approval")
    [request] = broker.wait_pending(1)
    assert request["command"] == f"touch {first}\ntouch {second}"
    shells.decide(run_cli, "deny", request["id"])
    gated_zsh.expect("denied")
    gated_zsh.sendline("echo ok-$((2*2))")
    gated_zsh.expect("ok-4")
    assert not first.exists() and not second.exists()


def test_history_expansion_is_gated_as_the_text_that_runs(
    shells, gated_zsh, broker, run_cli, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "again.txt"
    gated_zsh.sendline(f"echo x >> {target}")
    gated_zsh.expect("waiting for approval")
    [request] = broker.wait_pending(1)
    shells.decide(run_cli, "approve", request["id"])
    gated_zsh.sendline("echo ok-$((4*4))")
    gated_zsh.expect("ok-16")
    gated_zsh.sendline("!-2")  # zsh expands it after Enter: preexec gates what it became
    gated_zsh.expect("waiting for approval")
    [again] = broker.wait_pending(1)
    assert again["command"] == f"echo x >> {target}"
    shells.decide(run_cli, "deny", again["id"])
    gated_zsh.expect("did not run")
    gated_zsh.sendline("echo ok-$((2*3))")
    gated_zsh.expect("ok-6")
    assert target.read_text() == "x\n"


def test_a_line_that_skips_the_gate_widget_is_held_by_the_backstop(
    shells, broker, run_term, run_cli, shell_home: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    # Ctrl-O runs zsh's builtin accept-line directly, past our widget.
    (shell_home / ".zshrc").write_text("PS1='%% '\nbindkey '^O' .accept-line\n")
    shells.whitelist(run_cli, MARKER_RULE)
    child = run_term("zsh")
    child.sendline("echo ok-$((6*7))")
    child.expect("ok-42")
    target = tmp_path / "sneaky.txt"
    child.send(f"touch {target}; echo after-$((3*5))\x0f")
    child.expect("waiting for approval")
    [request] = broker.wait_pending(1)
    assert request["command"] == f"touch {target}; echo after-$((3*5))"
    shells.decide(run_cli, "deny", request["id"])
    child.expect("did not run")
    child.sendline("echo ok-$((3*3))")
    child.expect("ok-9")
    assert not target.exists()
    assert b"after-15" not in child.before


def test_zsh_f_is_still_gated(shells, broker, run_term, run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    shells.whitelist(run_cli, MARKER_RULE)
    child = run_term("zsh", "-f")
    child.sendline("echo ok-$((6*7))")
    child.expect("ok-42")
    target = tmp_path / "f.txt"
    child.sendline(f"touch {target}")
    child.expect("waiting for approval")
    [request] = broker.wait_pending(1)
    shells.decide(run_cli, "deny", request["id"])
    child.sendline("echo ok-$((3*3))")
    child.expect("ok-9")
    assert not target.exists()


def test_accept_and_hold_goes_through_the_gate(
    gated_zsh, shells, broker, run_cli, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "held.txt"
    gated_zsh.send(f"touch {target}\x1ba")  # Meta-A: accept-and-hold
    gated_zsh.expect("waiting for approval")
    [request] = broker.wait_pending(1)
    assert request["command"] == f"touch {target}"
    shells.decide(run_cli, "deny", request["id"])
    gated_zsh.expect("denied")
    gated_zsh.send("\x15")  # Ctrl-U
    gated_zsh.sendline("echo ok-$((3*7))")
    gated_zsh.expect("ok-21")
    assert not target.exists()
