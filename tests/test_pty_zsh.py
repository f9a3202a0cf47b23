"""zsh inside the real `expacti run`, on a real terminal (pexpect): typed lines are gated.

Synchronisation is on markers the shell computes (`echo ok-$((6*7))` prints ok-42), so a
marker never matches the echo of what was typed. Decisions come from a second process
(`expacti approve` / `expacti deny`), as a reviewer's would.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pty_retype import retype_until, wait_until_nothing_pends

pytest_plugins = ("broker_support", "pty_shell_support")
pytestmark = [
    pytest.mark.usefixtures("broker_env"),
    pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed"),
]

MARKER_RULE = r"echo ok-\$\(\(\d\*\d\)\)"  # echo ok-$((6*7)) and the like


def test_a_whitelisted_line_runs_and_the_users_zshrc_is_read(gated_zsh, shells, broker) -> None:  # type: ignore[no-untyped-def]
    gated_zsh.send("echo ok-$((7*7))\r")  # Enter
    gated_zsh.expect("ok-49")
    gated_zsh.sendline("hi")  # an alias from ~/.zshrc
    gated_zsh.expect("hi-from-rc-21")
    decisions = broker.audit_records("decision")
    assert [d["command"] for d in decisions] == ["echo ok-$((6*7))", "echo ok-$((7*7))", "hi"]
    assert {d["decision"] for d in decisions} == {"auto_approved_rule"}
    assert {d["source"] for d in decisions} == {"pty"}


def test_a_risky_line_waits_is_approved_and_runs_once(
    shells, gated_zsh, broker, run_cli, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "ran.txt"
    gated_zsh.sendline(f"echo x >> {target} && echo made-$((2*3))")
    gated_zsh.expect("waiting for approval")
    [request] = broker.wait_pending(1)
    assert request["command"] == f"echo x >> {target} && echo made-$((2*3))"
    assert request["source"] == "pty"
    assert not target.exists()
    shells.decide(run_cli, "approve", request["id"])
    gated_zsh.expect(f"133;C;expacti-request={request['id']};expacti=[0-9a-f]+\x07")
    gated_zsh.expect("made-6")
    gated_zsh.sendline("echo ok-$((8*8))")
    gated_zsh.expect("ok-64")
    assert target.read_text() == "x\n"
    assert shells.logged_exit(run_cli, request["id"]) == 0


def test_a_denied_line_does_not_run_and_the_shell_stays_usable(
    shells, gated_zsh, broker, run_cli, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "denied.txt"
    gated_zsh.sendline(f"touch {target}")
    gated_zsh.expect("waiting for approval")
    [request] = broker.wait_pending(1)
    shells.decide(run_cli, "deny", request["id"], "--reason", "not-today")
    gated_zsh.expect("denied: not-today")
    gated_zsh.sendline("echo ok-$((9*9))")
    gated_zsh.expect("ok-81")
    assert not target.exists()
    shells.whitelist(run_cli, "^exit 4$")
    gated_zsh.sendline("exit 4")
    assert shells.exit_code(gated_zsh) == 4


def test_the_exit_status_of_an_approved_line_reaches_the_audit_log(
    shells, gated_zsh, broker, run_cli
) -> None:  # type: ignore[no-untyped-def]
    gated_zsh.sendline("sh -c 'exit 3'")
    gated_zsh.expect("waiting for approval")
    [request] = broker.wait_pending(1)
    shells.decide(run_cli, "approve", request["id"])
    gated_zsh.sendline("echo ok-$((7*8))")  # the next prompt carries the status
    gated_zsh.expect("ok-56")
    assert shells.logged_exit(run_cli, request["id"]) == 3


def test_the_users_own_zdotdir_is_read_and_kept(
    shells, broker, run_term, run_cli, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    zdotdir = tmp_path / "zdot"
    zdotdir.mkdir()
    (zdotdir / ".zshenv").write_text("export FROM_ZSHENV=env-$((40+2))\n")
    (zdotdir / ".zshrc").write_text("PS1='%% '\nalias greet='echo greet-$((2*21))-$FROM_ZSHENV'\n")
    shells.whitelist(run_cli, MARKER_RULE, "^greet$", r"^echo zd=\$ZDOTDIR$")
    child = run_term("zsh", env={"ZDOTDIR": str(zdotdir)})
    child.sendline("greet")
    child.expect("greet-42-env-42")
    child.sendline("echo zd=$ZDOTDIR")
    child.expect(f"zd={zdotdir}\r\n")  # the user's value, not expacti's stub directory


def test_ctrl_c_while_waiting_cancels_the_line(gated_zsh, broker, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "cancelled.txt"
    gated_zsh.sendline(f"touch {target}")
    gated_zsh.expect("waiting for approval")
    broker.wait_pending(1)
    gated_zsh.sendintr()
    wait_until_nothing_pends()  # the request was withdrawn
    retype_until(gated_zsh, "echo ok-$((4*5))", "ok-20")
    assert not target.exists()
