"""fish inside the real `expacti run`, on a real terminal (pexpect): typed lines are gated.

Markers: `printf 'ok-%s\\n' 42x` prints ok-42x, which the echo of the typed line never
contains. Decisions come from a second process (`expacti approve` / `expacti deny`).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pty_retype import retype_until, wait_until_nothing_pends

pytest_plugins = ("broker_support", "pty_shell_support")
pytestmark = [
    pytest.mark.usefixtures("broker_env"),
    pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed"),
]

MARKER_RULE = r"^printf 'ok-%s\\n' \w+$"
CONFIG = """\
set -g fish_greeting ''
function fish_prompt; printf '> '; end
alias hi 'printf "hi-from-config-%s\\n" 21x'
"""


def ok(n: int) -> str:
    return f"printf 'ok-%s\\n' {n}x"


def write_config(home: Path, extra: str = "") -> None:
    config = home / ".config" / "fish"
    config.mkdir(parents=True, exist_ok=True)
    (config / "config.fish").write_text(CONFIG + extra)


@pytest.fixture
def start_fish(broker, run_term, run_cli, shells, shell_home: Path):  # type: ignore[no-untyped-def]
    """Start `expacti run -- fish ARGS` with ~/.config/fish/config.fish (plus `extra`)."""

    def start(*args: str, extra: str = ""):  # type: ignore[no-untyped-def]
        write_config(shell_home, extra)
        shells.whitelist(run_cli, MARKER_RULE, "^hi$")
        child = run_term("fish", *args)
        child.sendline(ok(42))
        child.expect("ok-42x")
        return child

    return start


@pytest.fixture
def gated_fish(start_fish):  # type: ignore[no-untyped-def]
    return start_fish()


def test_a_whitelisted_line_runs_and_the_users_config_is_read(gated_fish, broker) -> None:  # type: ignore[no-untyped-def]
    gated_fish.send(ok(49) + "\r")  # Enter
    gated_fish.expect("ok-49x")
    gated_fish.sendline("hi")  # Ctrl-J, and an alias from config.fish
    gated_fish.expect("hi-from-config-21x")
    decisions = broker.audit_records("decision")
    assert [d["command"] for d in decisions] == [ok(42), ok(49), "hi"]
    assert {d["decision"] for d in decisions} == {"auto_approved_rule"}
    assert {d["source"] for d in decisions} == {"pty"}


def test_a_risky_line_waits_is_approved_and_runs_once(
    gated_fish, broker, run_cli, shells, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "ran.txt"
    gated_fish.sendline(f"echo x >> {target}; and printf 'made-%s\\n' 6x")
    gated_fish.expect("waiting for approval")
    [request] = broker.wait_pending(1)
    assert request["command"] == f"echo x >> {target}; and printf 'made-%s\\n' 6x"
    assert not target.exists()
    shells.decide(run_cli, "approve", request["id"])
    gated_fish.expect(f"133;C;expacti-request={request['id']};expacti=[0-9a-f]+\x07")
    gated_fish.expect("made-6x")
    gated_fish.sendline(ok(64))
    gated_fish.expect("ok-64x")
    assert target.read_text() == "x\n"
    assert shells.logged_exit(run_cli, request["id"]) == 0


def test_a_denied_line_does_not_run_and_the_shell_stays_usable(
    gated_fish, broker, run_cli, shells, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "denied.txt"
    gated_fish.sendline(f"touch {target}")
    gated_fish.expect("waiting for approval")
    [request] = broker.wait_pending(1)
    shells.decide(run_cli, "deny", request["id"], "--reason", "not-today")
    gated_fish.expect("denied: not-today")
    gated_fish.sendline(ok(81))
    gated_fish.expect("ok-81x")
    assert not target.exists()
    shells.whitelist(run_cli, "^exit 4$")
    gated_fish.sendline("exit 4")
    assert shells.exit_code(gated_fish) == 4


def test_the_exit_status_of_an_approved_line_reaches_the_audit_log(
    gated_fish, broker, run_cli, shells
) -> None:  # type: ignore[no-untyped-def]
    gated_fish.sendline("sh -c 'exit 3'")
    gated_fish.expect("waiting for approval")
    [request] = broker.wait_pending(1)
    shells.decide(run_cli, "approve", request["id"])
    gated_fish.sendline(ok(56))
    gated_fish.expect("ok-56x")
    assert shells.logged_exit(run_cli, request["id"]) == 3


def test_a_multi_line_command_is_gated_whole(
    gated_fish, broker, run_cli, shells, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "block.txt"
    gated_fish.send("begin\r")  # incomplete: Enter adds a line, nothing runs
    gated_fish.send(f"touch {target}\r")
    gated_fish.send("end\r")
    gated_fish.expect("waiting for approval")
    [request] = broker.wait_pending(1)
    assert request["command"].split() == ["begin", "touch", str(target), "end"]
    assert request["command"].count("\n") == 2
    shells.decide(run_cli, "deny", request["id"])
    gated_fish.expect("denied")
    gated_fish.sendline(ok(25))
    gated_fish.expect("ok-25x")
    assert not target.exists()


def test_pasted_lines_are_gated_together(
    gated_fish, broker, run_cli, shells, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    first, second = tmp_path / "p1", tmp_path / "p2"
    gated_fish.send(f"\x1b[200~touch {first}\ntouch {second}\x1b[201~")  # bracketed paste
    gated_fish.send("\r")
    gated_fish.expect("waiting for approval")
    [request] = broker.wait_pending(1)
    assert request["command"] == f"touch {first}\ntouch {second}"
    shells.decide(run_cli, "deny", request["id"])
    gated_fish.expect("denied")
    gated_fish.sendline(ok(4))
    gated_fish.expect("ok-4x")
    assert not first.exists() and not second.exists()


def test_enter_in_vi_mode_is_gated(start_fish, broker, run_cli, shells, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    child = start_fish(extra="fish_vi_key_bindings\n")
    target = tmp_path / "vi.txt"
    child.send(f"touch {target}\x1b")  # Escape: normal mode, then Enter there
    child.expect(r"\[N\]")
    child.send("\r")
    child.expect("waiting for approval")
    [request] = broker.wait_pending(1)
    assert request["command"] == f"touch {target}"
    shells.decide(run_cli, "deny", request["id"])
    child.expect("denied")
    child.expect(r"\[I\]")  # Enter in normal mode goes back to insert mode, as it does in fish
    child.send(ok(9) + "\r")
    child.expect("ok-9x")
    assert not target.exists()


def test_a_line_run_past_the_enter_binding_is_held_by_the_backstop(
    start_fish, broker, run_cli, shells, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    # Ctrl-O runs `commandline -f execute` itself: fish_preexec gates the line; when it is
    # denied, the shell is replaced by a new one before the line can run.
    child = start_fish(extra="bind \\co 'commandline -f execute'\n")
    target = tmp_path / "sneaky.txt"
    child.send(f"touch {target}\x0f")
    child.expect("waiting for approval")
    [request] = broker.wait_pending(1)
    assert request["command"] == f"touch {target}"
    shells.decide(run_cli, "deny", request["id"])
    child.expect("did not run")
    child.sendline(ok(9))
    child.expect("ok-9x")
    assert not target.exists()
    child.send(f"touch {target}\x0f")  # and an approved one runs
    child.expect("waiting for approval")
    [request] = broker.wait_pending(1)
    shells.decide(run_cli, "approve", request["id"])
    child.sendline(ok(7))
    child.expect("ok-7x")
    assert target.exists()


def test_fish_no_config_is_still_gated(start_fish, broker, run_cli, shells, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    child = start_fish("--no-config")
    target = tmp_path / "nc.txt"
    child.sendline(f"touch {target}")
    child.expect("waiting for approval")
    [request] = broker.wait_pending(1)
    shells.decide(run_cli, "deny", request["id"])
    child.sendline(ok(3))
    child.expect("ok-3x")
    assert not target.exists()


def test_a_line_ending_in_a_backslash_is_gated_with_its_continuation(
    gated_fish, broker, run_cli, shells, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "joined.txt"
    gated_fish.send("echo a \\\r")
    gated_fish.send(f"b > {target}\r")
    gated_fish.expect("waiting for approval")
    [request] = broker.wait_pending(1)
    assert request["command"] == f"echo a \\\nb > {target}"
    shells.decide(run_cli, "approve", request["id"])
    gated_fish.sendline(ok(3))
    gated_fish.expect("ok-3x")
    assert target.read_text() == "a b\n"


def test_ctrl_c_while_waiting_cancels_the_line(gated_fish, broker, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "cancelled.txt"
    gated_fish.sendline(f"touch {target}")
    gated_fish.expect("waiting for approval")
    broker.wait_pending(1)
    gated_fish.sendintr()
    wait_until_nothing_pends()  # the request was withdrawn
    retype_until(gated_fish, ok(20), "ok-20x")
    assert not target.exists()


def test_an_abbreviation_is_gated_as_what_it_expands_to(
    start_fish, broker, run_cli, shells, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "abbr.txt"
    child = start_fish(extra=f"abbr -a mk 'touch {target}'\n")
    child.send("mk\r")  # Enter right after it: expanded first, not run
    child.expect(f"touch {target}")
    child.send("\r")
    child.expect("waiting for approval")
    [request] = broker.wait_pending(1)
    assert request["command"] == f"touch {target}"
    shells.decide(run_cli, "approve", request["id"])
    child.sendline(ok(5))
    child.expect("ok-5x")
    assert target.exists()
    assert [d["command"] for d in broker.audit_records("decision")][-2:] == [
        f"touch {target}",
        ok(5),
    ]
