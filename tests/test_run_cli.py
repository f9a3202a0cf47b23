"""`expacti run` end to end: the real CLI on a real terminal (pexpect), a real broker per test.

Synchronisation is on unique markers the shell computes (`$((6*7))`), so a marker never
matches the echo of what was typed.
"""

from __future__ import annotations

import io
import json
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pexpect
import pytest

pytest_plugins = ("broker_support",)
pytestmark = pytest.mark.usefixtures("broker_env")  # the broker each run starts is killed

PY = sys.executable
TIMEOUT = 20


@pytest.fixture
def term(tmp_path: Path) -> Iterator[Callable[..., pexpect.spawn]]:
    """Spawn `expacti ARGS` on a pseudo-terminal; every one is terminated at the end."""
    started: list[pexpect.spawn] = []
    # These tests approve and deny from the CLI: keep the inline overlay (tested on its own in
    # test_run_overlay_e2e.py) from opening over the terminal they read.
    config = Path(os.environ["EXPACTI_HOME"]) / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('approval_ui = "external"\n')

    def spawn(
        *args: str, rows: int = 24, cols: int = 100, cwd: Path | None = None
    ) -> pexpect.spawn:
        env = dict(os.environ, TERM="xterm", PS1="$ ", HOME=str(tmp_path))
        env.pop("TMUX", None)  # never split the developer's tmux window
        child = pexpect.spawn(
            PY,
            ["-m", "expacti_cli", *args],
            env=env,
            cwd=str(cwd or tmp_path),
            dimensions=(rows, cols),
            timeout=TIMEOUT,
        )
        started.append(child)
        return child

    yield spawn
    for child in started:
        if child.isalive():
            child.terminate(force=True)
        child.close(force=True)


def _exit_code(child: pexpect.spawn) -> int:
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus is not None, f"killed by signal {child.signalstatus}"
    return int(child.exitstatus)


def test_output_and_exit_code_pass_through(term) -> None:  # type: ignore[no-untyped-def]
    child = term("run", "--no-split", "--", "sh", "-c", "printf 'hi-%s' $((6*7)); exit 3")
    child.expect("hi-42")
    assert _exit_code(child) == 3


def test_a_missing_program_exits_127(term) -> None:  # type: ignore[no-untyped-def]
    child = term("run", "--no-split", "--", "no-such-program-xyz")
    child.expect("command not found")
    assert _exit_code(child) == 127


def test_resize_reaches_the_child(term) -> None:  # type: ignore[no-untyped-def]
    child = term(
        "run",
        "--no-split",
        "--",
        "sh",
        "-c",
        "stty size; echo READY-$((6*7)); read x; stty size",
        rows=30,
        cols=90,
    )
    child.expect("30 90")
    child.expect("READY-42")
    child.setwinsize(41, 101)
    child.sendline("go")
    child.expect("41 101")
    assert _exit_code(child) == 0


def test_ctrl_c_reaches_the_child(term) -> None:  # type: ignore[no-untyped-def]
    script = 'trap "echo GOT-INT-$((6*7)); exit 7" INT; echo READY-$((6*7)); while :; do sleep 0.05; done'
    child = term("run", "--no-split", "--", "sh", "-c", script)
    child.expect("READY-42")
    child.sendintr()
    child.expect("GOT-INT-42")
    assert _exit_code(child) == 7


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_term_and_hup_are_forwarded_to_the_child(term, signum: int) -> None:  # type: ignore[no-untyped-def]
    name = signal.Signals(signum).name[3:]
    script = f'trap "echo GOT-{name}-$((6*7)); exit 9" {name}; echo READY-$((6*7)); while :; do sleep 0.05; done'
    child = term("run", "--no-split", "--", "sh", "-c", script)
    child.expect("READY-42")
    child.kill(signum)
    child.expect(f"GOT-{name}-42")
    assert _exit_code(child) == 9


def test_environment_carries_the_session(term) -> None:  # type: ignore[no-untyped-def]
    child = term(
        "run",
        "--no-split",
        "--context",
        "fix the build",
        "--",
        "sh",
        "-c",
        'echo "S=<$EXPACTI_SESSION> C=<$EXPACTI_CONTEXT>"',
    )
    child.expect(r"S=<([0-9a-f]{16})> C=<fix the build>")
    assert _exit_code(child) == 0


def test_outside_tmux_it_says_once_how_to_review(term) -> None:  # type: ignore[no-untyped-def]
    child = term("run", "--", "sh", "-c", "echo DONE-$((6*7))")
    log = io.BytesIO()
    child.logfile_read = log
    child.expect("DONE-42")
    assert _exit_code(child) == 0
    assert log.getvalue().count(b"run `expacti approve` in another terminal") == 1


def test_record_writes_a_valid_asciicast(term, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cast = tmp_path / "session.cast"
    child = term(
        "run",
        "--no-split",
        "--record",
        str(cast),
        "--",
        "sh",
        "-c",
        "printf '\\033[1mbold\\033[0m REC-%s\\n' $((6*7))",
    )
    child.expect("REC-42")
    assert _exit_code(child) == 0
    lines = cast.read_text(encoding="utf-8").splitlines()
    head = json.loads(lines[0])
    assert head["version"] == 2 and head["width"] == 100 and head["height"] == 24
    events = [json.loads(line) for line in lines[1:]]
    assert all(len(e) == 3 and isinstance(e[0], float) and e[1] in ("o", "r") for e in events)
    output = "".join(e[2] for e in events if e[1] == "o")
    assert "\x1b[1mbold\x1b[0m REC-42" in output


# --- bash inside `expacti run`: lines typed at the prompt are gated ---------------------------


@pytest.fixture
def gated_bash(broker, term, run_cli, tmp_path: Path):  # type: ignore[no-untyped-def]
    """`expacti run -- bash --norc` at its first prompt, and a whitelisted marker command."""
    rule = r"echo ok-\$\(\(\d\*\d\)\)"  # echo ok-$((6*7)) and the like
    assert run_cli("whitelist", "add", "--kind", "regex", rule).returncode == 0
    child = term("run", "--no-split", "--", "bash", "--norc")
    child.sendline("echo ok-$((6*7))")
    child.expect("ok-42")
    return child


def test_typed_whitelisted_command_runs(gated_bash, broker) -> None:  # type: ignore[no-untyped-def]
    gated_bash.sendline("echo ok-$((7*7))")
    gated_bash.expect("ok-49")
    decisions = [d["decision"] for d in broker.audit_records("decision")]
    assert decisions == ["auto_approved_rule", "auto_approved_rule"]
    assert {d["source"] for d in broker.audit_records("decision")} == {"pty"}


def test_typed_risky_command_waits_is_approved_and_runs_once(
    gated_bash, broker, run_cli, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "ran.txt"
    gated_bash.sendline(f"echo x >> {target} && echo made-$((2*3))")
    gated_bash.expect("waiting for approval")
    [request] = broker.wait_pending(1)
    assert request["command"] == f"echo x >> {target} && echo made-$((2*3))"
    assert request["source"] == "pty"
    assert not target.exists()
    assert run_cli("approve", request["id"]).returncode == 0
    # The output mark names the request (`expacti run` reports the exit status with it).
    gated_bash.expect(f"133;C;expacti-request={request['id']};expacti=[0-9a-f]+\x07")
    gated_bash.expect("made-6")
    gated_bash.sendline("echo ok-$((8*8))")
    gated_bash.expect("ok-64")
    assert target.read_text() == "x\n"


def test_typed_denied_command_does_not_run_and_the_shell_stays_usable(
    gated_bash, broker, run_cli, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "denied.txt"
    gated_bash.sendline(f"touch {target}")
    gated_bash.expect("waiting for approval")
    [request] = broker.wait_pending(1)
    assert run_cli("deny", request["id"], "--reason", "not-today").returncode == 0
    gated_bash.expect("denied: not-today")
    gated_bash.sendline("echo ok-$((9*9))")
    gated_bash.expect("ok-81")
    assert not target.exists()
    assert run_cli("whitelist", "add", "exit 4").returncode == 0
    gated_bash.sendline("exit 4")
    assert _exit_code(gated_bash) == 4


def test_a_multi_line_command_is_gated_whole_and_a_denial_blocks_all_of_it(
    gated_bash, broker, run_cli, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "loop.txt"
    gated_bash.sendline("for i in 1 2; do")
    gated_bash.sendline(f"echo $i >> {target}")
    gated_bash.sendline("done")
    gated_bash.expect("waiting for approval")
    [request] = broker.wait_pending(1)
    assert request["command"] == f"for i in 1 2; do\necho $i >> {target}\ndone"
    assert run_cli("deny", request["id"]).returncode == 0
    gated_bash.expect("press Ctrl-C to abandon it")
    gated_bash.sendline("done")  # refused too: the denied command cannot be completed
    gated_bash.expect("press Ctrl-C to abandon it")
    gated_bash.sendintr()
    gated_bash.sendline("echo ok-$((5*5))")
    gated_bash.expect("ok-25")
    assert not target.exists()


def test_a_line_that_skips_the_gate_is_blocked_by_the_backstop(gated_bash, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "sneaky.txt"
    # Ctrl-O (operate-and-get-next) accepts the line without going through our Enter binding.
    gated_bash.send(f"touch {target}\x0f")
    gated_bash.expect("skipped")
    gated_bash.sendline("echo ok-$((3*3))")
    gated_bash.expect("ok-9")
    assert not target.exists()


def test_history_expansion_is_refused_not_run(gated_bash, broker) -> None:  # type: ignore[no-untyped-def]
    gated_bash.sendline("echo ok-$((4*4))")
    gated_bash.expect("ok-16")
    gated_bash.sendline("!!")
    gated_bash.expect("history expansion cannot be gated")
    gated_bash.sendline("echo ok-$((2*2))")
    gated_bash.expect("ok-4")
    commands = [d["command"] for d in broker.audit_records("decision")]
    assert len(commands) == 3 and all("!" not in c for c in commands)


# --- the session as a whole ---------------------------------------------------------------


def test_a_process_inside_the_session_cannot_approve(term, broker, gater) -> None:  # type: ignore[no-untyped-def]
    waiting = gater("touch /tmp/expacti-never-made")
    assert waiting.next_message()["op"] == "queued"
    [request] = broker.wait_pending(1)
    child = term("run", "--no-split", "--", PY, "-m", "expacti_cli", "approve", request["id"])
    child.expect("gated session")
    assert _exit_code(child) != 0
    assert [r["id"] for r in broker.wait_pending(1)] == [request["id"]]  # still waiting


def test_shell_commands_of_the_agent_go_through_the_shim(term, broker, run_cli) -> None:  # type: ignore[no-untyped-def]
    assert run_cli("whitelist", "add", "echo via-shim").returncode == 0
    assert run_cli("whitelist", "add", "--deny", "echo refused-by-rule").returncode == 0
    script = (
        '"$SHELL" -c "echo via-shim"; echo "rc1=$?"; '
        '"$SHELL" -c "echo refused-by-rule"; echo "rc2=$?"; '
        'echo "real=$EXPACTI_REAL_SHELL same=$([ "$SHELL" = "$CLAUDE_CODE_SHELL" ] && echo yes)"'
    )
    child = term("run", "--no-split", "--", "sh", "-c", script)
    child.expect(r"via-shim\r\nrc1=0")
    child.expect("rc2=126")
    child.expect(r"real=(/\S+) same=yes")
    assert os.path.basename(child.match.group(1).decode()).startswith("bash")
    assert _exit_code(child) == 0
    decisions = {d["command"]: d["decision"] for d in broker.audit_records("decision")}
    assert decisions == {"echo via-shim": "auto_approved_rule", "echo refused-by-rule": "denied"}


def test_a_debug_trap_of_the_users_setup_still_runs(broker, term, run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    seen = tmp_path / "seen.txt"
    rc = tmp_path / "rc.bash"
    rc.write_text(f"trap 'echo \"$BASH_COMMAND\" >> {seen}' DEBUG\n")
    rule = r"echo ok-\$\(\(\d\*\d\)\)"
    assert run_cli("whitelist", "add", "--kind", "regex", rule).returncode == 0
    child = term("run", "--no-split", "--", "bash", "--rcfile", str(rc))
    child.sendline("echo ok-$((6*7))")
    child.expect("ok-42")
    child.send(f"touch {tmp_path / 'sneaky'}\x0f")  # Ctrl-O: past the gate, caught by the trap
    child.expect("skipped")
    child.sendline("echo ok-$((2*2))")
    child.expect("ok-4")
    assert "echo ok-$((6*7))" in seen.read_text()
    assert not (tmp_path / "sneaky").exists()


def test_the_users_bashrc_is_read_and_vi_mode_enter_is_gated(
    broker, term, run_cli, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / ".bashrc").write_text("set -o vi\nexport FROM_RC=rc-$((20+1))\n")
    rule = r"echo ok-\$\(\(\d\*\d\)\)"
    assert run_cli("whitelist", "add", "--kind", "regex", rule).returncode == 0
    child = term("run", "--no-split", "--", "bash")  # HOME is tmp_path: our .bashrc
    child.sendline("echo ok-$((6*7))")
    child.expect("ok-42")
    target = tmp_path / "vi.txt"
    child.sendline(f"echo $FROM_RC > {target}")
    child.expect("waiting for approval")
    [request] = broker.wait_pending(1)
    assert request["command"] == f"echo $FROM_RC > {target}"
    assert run_cli("approve", request["id"]).returncode == 0
    child.sendline("echo ok-$((3*4))")
    child.expect("ok-12")
    assert target.read_text() == "rc-21\n"


def test_the_exit_status_of_an_approved_line_is_audited(gated_bash, broker, run_cli) -> None:  # type: ignore[no-untyped-def]
    gated_bash.sendline("sh -c 'exit 3'")
    gated_bash.expect("waiting for approval")
    [request] = broker.wait_pending(1)
    assert run_cli("approve", request["id"]).returncode == 0
    gated_bash.sendline("echo ok-$((7*8))")  # the next prompt carries the status
    gated_bash.expect("ok-56")
    deadline = time.monotonic() + 10
    while True:
        exits = {e["decision_id"]: e["exit_code"] for e in broker.audit_records("exit")}
        if request["id"] in exits or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert exits[request["id"]] == 3
    decisions = {d["id"] for d in broker.audit_records("decision")}
    assert set(exits) <= decisions  # the whitelisted lines' statuses too, each with its decision


def test_a_long_line_is_gated_whole(gated_bash, broker, run_cli) -> None:  # type: ignore[no-untyped-def]
    # Over the 128 KiB a single argv word may have: the line reaches the gate on stdin.
    payload = "x" * 200_000
    # Pasted (bracketed paste), as a line this long would be: readline takes it in one go.
    gated_bash.send(f"\x1b[200~: {payload}; echo long-$((6*6))\x1b[201~")
    gated_bash.send("\r")
    gated_bash.expect("waiting for approval", timeout=60)
    [request] = broker.wait_pending(1)
    assert request["command"] == f": {payload}; echo long-$((6*6))"
    assert run_cli("approve", request["id"]).returncode == 0
    gated_bash.expect("long-36", timeout=60)


def test_readline_commands_that_execute_cannot_pass_the_gate(
    broker, term, run_cli, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    rule = r"echo ok-\$\(\(\d\*\d\)\)"
    assert run_cli("whitelist", "add", "--kind", "regex", rule).returncode == 0
    rc = tmp_path / "rc.bash"
    rc.write_text("export VISUAL=true EDITOR=true\n")  # the editor exits at once: fc runs the line
    child = term("run", "--no-split", "--", "bash", "--rcfile", str(rc))
    child.sendline("echo ok-$((6*7))")
    child.expect("ok-42")
    target = tmp_path / "edited.txt"
    child.send(f"touch {target}\x18\x05")  # Ctrl-X Ctrl-E: edit-and-execute-command
    child.send("\x15")  # Ctrl-U: drop whatever is left on the line
    expanded = tmp_path / "expanded.txt"
    child.send(f": $(touch {expanded})\x1b\x05")  # Meta-Ctrl-E: shell-expand-line
    child.send("\x15")
    child.sendline("echo ok-$((5*6))")
    child.expect("ok-30")
    assert not target.exists()
    assert not expanded.exists()


@pytest.mark.parametrize(
    "sneaky",
    [
        "__expacti_gate; touch {target}",  # calling the gate to approve the line itself
        "__expacti_prompt; touch {target}",  # resetting the phase from inside the line
        "__expacti_prompt() {{ touch {target}; }}",  # replacing the prompt hook
        "__expacti_phase=2; touch {target}",
        "> {target}",
        "( touch {target} )",
        "{{ touch {target}; }}",
        "for x in $(touch {target}); do :; done",
        "x=$(touch {target})",
        "[[ $(touch {target}) ]]",
        "time touch {target}",
        "touch {target} &",
    ],
)
def test_the_backstop_cannot_be_talked_out_of(gated_bash, tmp_path: Path, sneaky: str) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "sneaky.txt"
    gated_bash.send(sneaky.format(target=target) + "\x0f")  # Ctrl-O: past the Enter gate
    gated_bash.send("\x15")
    gated_bash.sendline("echo ok-$((3*3))")
    gated_bash.expect("ok-9")
    gated_bash.sendline("echo ok-$((2*3))")
    gated_bash.expect("ok-6")
    assert not target.exists()


def test_a_bash_started_at_the_gated_prompt_is_gated_too(
    gated_bash, broker, run_cli, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    assert run_cli("whitelist", "add", "bash --norc").returncode == 0
    gated_bash.sendline("bash --norc")
    gated_bash.sendline("echo ok-$((5*5))")
    gated_bash.expect("ok-25")
    target = tmp_path / "nested.txt"
    gated_bash.sendline(f"touch {target}")
    gated_bash.expect("waiting for approval")
    [request] = broker.wait_pending(1)
    assert request["command"] == f"touch {target}"
    assert run_cli("deny", request["id"], "--reason", "nested-no").returncode == 0
    gated_bash.expect("denied: nested-no")
    gated_bash.sendline("echo ok-$((3*3))")
    gated_bash.expect("ok-9")
    assert not target.exists()
    # `bash -c` and `bash FILE` run as given (not interactive: no integration to add).
    script = tmp_path / "s.sh"
    script.write_text("echo script-$((4*4))\n")
    assert run_cli("whitelist", "add", f"bash {script}").returncode == 0
    gated_bash.sendline(f"bash {script}")
    gated_bash.expect("script-16")
    assert run_cli("whitelist", "add", "exit 5").returncode == 0
    gated_bash.sendline("exit 5")  # leaves the nested bash: the outer one is still gated
    gated_bash.sendline("echo ok-$((2*2))")
    gated_bash.expect("ok-4")
