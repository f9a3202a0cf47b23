"""`expacti run` answering its own commands: the real CLI in a real terminal (tmux), a real
broker, real bash. The inline overlay, the exact restore of the screen after it, keys that
never reach the program, and the status row when a reviewer elsewhere decides.

Each test runs its own tmux server (private socket, no user config) and kills it at the end.
Synchronisation is on markers the shell computes (`$((6*7))`) and on the overlay's footer,
which it shows once it takes keys.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from polling import until

from expacti_cli.broker import client

Tmux = Callable[..., str]

pytest_plugins = ("broker_support", "tmux_support")
pytestmark = [
    pytest.mark.usefixtures("broker_env"),
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]

PY = sys.executable
READY = "keys typed here go to expacti, never to the program"  # the overlay takes keys now
RULE = r"echo (ok|held)-\$\(\(\d\*\d\)\)"  # echo ok-$((6*7)) and the like run without asking


def _screen(tmux: Tmux, target: str = "main") -> str:
    return tmux("capture-pane", "-p", "-t", target)


def _configure(home: Path, ui: str) -> None:
    config = home / "config.toml"
    config.write_text(config.read_text() + f'approval_ui = "{ui}"\n')


def _start(tmux: Tmux, cwd: Path, *program: str, rows: int = 30) -> None:
    run = [PY, "-m", "expacti_cli", "run", "--no-split", "--", *program]
    pane = f"cd {shlex.quote(str(cwd))} && {shlex.join(run)}; echo EXIT=$?; sleep 60"
    env = ["-e", f"EXPACTI_HOME={os.environ['EXPACTI_HOME']}", "-e", "PS1=$ "]
    tmux("new-session", "-d", "-s", "main", "-x", "100", "-y", str(rows), *env, pane)


def _type(tmux: Tmux, text: str, *keys: str, target: str = "main") -> None:
    if text:
        tmux("send-keys", "-t", target, "-l", text)
    if keys:
        tmux("send-keys", "-t", target, *keys)


@pytest.fixture
def inline_bash(tmux: Tmux, broker_env: Path, run_cli, tmp_path: Path) -> Tmux:  # type: ignore[no-untyped-def]
    """`expacti run -- bash --norc` with approval_ui = inline, at a prompt."""
    _configure(broker_env, "inline")
    assert run_cli("whitelist", "add", "--kind", "regex", RULE).returncode == 0
    _start(tmux, tmp_path, "bash", "--norc")
    _type(tmux, "echo ok-$((6*7))", "Enter")
    until("the shell", lambda: "ok-42" in _screen(tmux))
    return tmux


def test_inline_approve_runs_the_command_once_and_typed_keys_never_reach_it(
    inline_bash: Tmux, broker, tmp_path: Path
) -> None:
    tmux = inline_bash
    target = tmp_path / "ran.txt"
    _type(tmux, f"echo x >> {target} && echo made-$((2*3))", "Enter")
    until("the overlay", lambda: READY in _screen(tmux))
    screen = _screen(tmux)
    assert "a command of this session waits for your decision" in screen
    assert "│ echo x >> /" in screen and "ran.txt && echo made-$" in screen
    # Keys that are no command of the overlay: none of them may reach bash.
    _type(tmux, "xyz; true", "Enter", "Up", "C-u")
    _type(tmux, "a")
    until("the command", lambda: "made-6" in _screen(tmux))
    assert READY not in _screen(tmux)
    _type(tmux, "echo ok-$((3*3))", "Enter")  # had "xyz" reached bash, this would fail
    until("the next command", lambda: "ok-9" in _screen(tmux))
    assert target.read_text() == "x\n"
    [decision] = [d for d in broker.audit_records("decision") if d["decision"] == "approved"]
    assert decision["via"] == "inline" and decision["reviewer"] == "reviewer@example.com"


def test_inline_deny_with_a_reason_does_not_run_it(
    inline_bash: Tmux, broker, tmp_path: Path
) -> None:
    tmux = inline_bash
    target = tmp_path / "denied.txt"
    _type(tmux, f"touch {target}", "Enter")
    until("the overlay", lambda: READY in _screen(tmux))
    _type(tmux, "d")
    until("the reason field", lambda: "reason>" in _screen(tmux))
    _type(tmux, "use staging", "Enter")
    until("the denial", lambda: "denied: use staging" in _screen(tmux))
    _type(tmux, "echo ok-$((8*8))", "Enter")
    until("the shell", lambda: "ok-64" in _screen(tmux))
    assert not target.exists()
    [decision] = [d for d in broker.audit_records("decision") if d["decision"] == "denied"]
    assert decision["reason"] == "use staging" and decision["via"] == "inline"


_PRINT_THEN_GATE = """
printf '\\033[1mfirst line\\033[0m\\n  second: %s\\n' "$((6*7))"
printf 'third \\033[32mgreen\\033[0m'
"$SHELL" -c "touch {target}" 2>/dev/null
printf '\\nrc=%s END-%s\\n' "$?" "$((5*5))"
read x
"""


def test_the_screen_is_exactly_as_before_after_the_overlay(
    tmux: Tmux, broker_env: Path, tmp_path: Path
) -> None:
    _configure(broker_env, "auto")  # and no reviewer is connected
    target = tmp_path / "t.txt"
    _start(tmux, tmp_path, "sh", "-c", _PRINT_THEN_GATE.format(target=target))
    until("the program's output", lambda: "third green" in _screen(tmux))
    until("the overlay", lambda: READY in _screen(tmux))
    [request] = client.call("list")["requests"]
    assert request["command"] == f"touch {target}"
    _type(tmux, "d")
    until("the reason field", lambda: "reason>" in _screen(tmux))
    _type(tmux, "no", "Enter")
    until("the program to go on", lambda: "END-25" in _screen(tmux))
    after = _screen(tmux).splitlines()
    # Every line the program had drawn is back, colours included, and nothing of the overlay.
    top = after.index("first line")
    assert after[top : top + 3] == ["first line", "  second: 42", "third green"]
    assert after[top + 3] == "rc=126 END-25"
    assert all("expacti ·" not in line for line in after)
    colours = tmux("capture-pane", "-p", "-e", "-t", "main")
    assert "\x1b[1mfirst line" in colours and "\x1b[32mgreen" in colours
    assert not target.exists()


def test_capture_before_and_after_the_overlay_match(
    tmux: Tmux, broker_env: Path, tmp_path: Path
) -> None:
    # The program prints, then waits on a gated command without printing anything: what the
    # pane shows before the overlay and after it closes must be identical.
    _configure(broker_env, "inline")
    flag = tmp_path / "go"
    script = (
        "printf 'row one\\n  row two\\n\\033[7mreversed\\033[0m tail'; "
        f"while [ ! -e {flag} ]; do sleep 0.05; done; "
        f'"$SHELL" -c "touch {tmp_path / "t"}" 2>/dev/null; read x'
    )
    _start(tmux, tmp_path, "sh", "-c", script)
    until("the program's output", lambda: "reversed tail" in _screen(tmux))
    before = tmux("capture-pane", "-p", "-e", "-t", "main")
    cursor_before = tmux("display", "-p", "-t", "main", "#{cursor_x},#{cursor_y}")
    flag.touch()
    until("the overlay", lambda: READY in _screen(tmux))
    _type(tmux, "d")
    until("the reason field", lambda: "reason>" in _screen(tmux))
    _type(tmux, "", "Enter")
    until("the overlay to close", lambda: READY not in _screen(tmux))
    until("the request to end", lambda: not client.call("list")["requests"])
    assert tmux("capture-pane", "-p", "-e", "-t", "main") == before
    assert tmux("display", "-p", "-t", "main", "#{cursor_x},#{cursor_y}") == cursor_before


_FULL_SCREEN = """
import os, subprocess, sys
out = sys.stdout
out.write("\\x1b[?1049h\\x1b[H\\x1b[2J")
for i in range(1, 6):
    out.write(f"\\x1b[{i};{i * 3}H\\x1b[3{i}mrow {i} of the full-screen program\\x1b[0m")
out.write("\\x1b[8;1HREADY-%d" % (6 * 7))
out.flush()
rc = subprocess.run([os.environ["SHELL"], "-c", "touch " + sys.argv[1]],
                    stderr=subprocess.DEVNULL).returncode
out.write(f"\\x1b[9;1Hrc={rc} DONE-%d" % (6 * 7))
out.flush()
sys.stdin.readline()
out.write("\\x1b[?1049l")
"""


def test_a_full_screen_program_is_repainted_after_the_overlay(
    tmux: Tmux, broker_env: Path, tmp_path: Path
) -> None:
    _configure(broker_env, "inline")
    script = tmp_path / "tui.py"
    script.write_text(_FULL_SCREEN)
    target = tmp_path / "made.txt"
    _start(tmux, tmp_path, PY, str(script), str(target), rows=20)
    until("the overlay", lambda: READY in _screen(tmux))
    _type(tmux, "a")
    until("the program to go on", lambda: "DONE-42" in _screen(tmux))
    lines = _screen(tmux).splitlines()
    for i in range(1, 6):
        assert lines[i - 1] == " " * (i * 3 - 1) + f"row {i} of the full-screen program"
    assert lines[7] == "READY-42" and lines[8] == "rc=0 DONE-42"
    assert target.exists()
    _type(tmux, "", "Enter")
    until("the exit", lambda: "EXIT=0" in _screen(tmux))


_READS_WHILE_WAITING = """
echo START-$((6*7))
read go
"$SHELL" -c "touch late.txt" 2>/dev/null &
read line
echo "got=$line-$((1+1))"
wait
stty size
read x
"""


def test_with_a_reviewer_elsewhere_the_status_row_shows_and_keys_wait(
    tmux: Tmux, broker_env: Path, run_cli, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    # The program reads the keyboard while its command waits in the background: whatever
    # is typed meanwhile must reach it only after the decision.
    _start(tmux, tmp_path, "sh", "-c", _READS_WHILE_WAITING, rows=20)
    until("the program", lambda: "START-42" in _screen(tmux))
    reviewer = shlex.join([PY, "-m", "expacti_cli", "approve"])
    env = f"EXPACTI_HOME={shlex.quote(os.environ['EXPACTI_HOME'])}"
    tmux("new-window", "-d", "-t", "main:1", f"env {env} {reviewer}")
    until("the reviewer", lambda: client.call("status").get("reviewers") == 1)
    _type(tmux, "go", "Enter")
    until("the status row", lambda: "waiting for approval" in _screen(tmux).splitlines()[-1])
    last = _screen(tmux).splitlines()[-1]
    assert "expacti: waiting for approval (LOW" in last
    assert "touch late.txt" in last and "1 reviewer connected" in last
    assert READY not in _screen(tmux)  # no overlay: the reviewer decides
    _type(tmux, "hello", "Enter")
    time.sleep(0.5)  # a key that got through would be read, and printed, at once
    assert "got=" not in _screen(tmux) and "hello" not in _screen(tmux)
    [request] = client.call("list")["requests"]
    assert run_cli("approve", request["id"]).returncode == 0
    until("the held line", lambda: "got=hello-2" in _screen(tmux))
    until("the program's full size back", lambda: "20 100" in _screen(tmux))
    assert (tmp_path / "late.txt").exists()
    assert "waiting for approval" not in _screen(tmux).splitlines()[-1]
