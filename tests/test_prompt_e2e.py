"""Statements typed at prompts without shell hooks, under the real `expacti run` (pexpect).

sqlite3 on a temp database, the python REPL, dash; a second process approves or denies.
Synchronisation is on results the program computes (`SELECT 6*7` -> 42), never on sleeps,
except where a test shows that something does NOT happen (then it waits on a later marker).
"""

from __future__ import annotations

import os
import shlex
import sqlite3
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pexpect
import pytest

pytest_plugins = ("broker_support",)
pytestmark = pytest.mark.usefixtures("broker_env")

TIMEOUT = 20


@pytest.fixture
def term(tmp_path: Path, broker_env: Path) -> Iterator[Callable[..., pexpect.spawn]]:
    """`expacti run --no-split -- ARGS` on a pseudo-terminal; low scores pass by threshold,
    approvals are given from another process (no inline overlay)."""
    config = broker_env / "config.toml"
    config.write_text(config.read_text() + 'auto_approve_below = 30\napproval_ui = "external"\n')
    started: list[pexpect.spawn] = []

    def spawn(*args: str, rows: int = 24, cols: int = 100) -> pexpect.spawn:
        env = dict(os.environ, TERM="xterm", PS1="$ ", HOME=str(tmp_path))
        env.pop("TMUX", None)
        child = pexpect.spawn(
            sys.executable,
            ["-m", "expacti_cli", "run", "--no-split", "--", *args],
            env=env,
            cwd=str(tmp_path),
            dimensions=(rows, cols),
            timeout=TIMEOUT,
            encoding="utf-8",
        )
        started.append(child)
        return child

    yield spawn
    for child in started:
        if child.isalive():
            child.terminate(force=True)
        child.close(force=True)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (x)")
        conn.execute("INSERT INTO t VALUES (1)")
    return path


def tables(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]


@pytest.fixture
def sqlite_session(term, db: Path) -> pexpect.spawn:  # type: ignore[no-untyped-def]
    child = term("sqlite3", str(db))
    child.expect("sqlite> ")
    return child


def test_a_low_risk_select_runs_without_a_human(sqlite_session, broker, db: Path) -> None:  # type: ignore[no-untyped-def]
    sqlite_session.send("SELECT 6*7;\r")
    sqlite_session.expect("42")
    [record] = broker.audit_records("decision")
    assert record["decision"] == "auto_approved_threshold"
    assert record["source"] == "sqlite3"
    assert record["command"] == f"sqlite3 {db} 'SELECT 6*7;'"


def test_a_drop_waits_is_approved_from_elsewhere_and_runs_once(
    sqlite_session, broker, run_cli, db: Path
) -> None:  # type: ignore[no-untyped-def]
    sqlite_session.send("DROP TABLE t;\r")
    sqlite_session.expect("waiting for approval")
    [request] = broker.wait_pending(1)
    assert request["command"] == f"sqlite3 {db} 'DROP TABLE t;'"
    assert tables(db) == ["t"]  # held: nothing ran yet
    assert run_cli("approve", request["id"]).returncode == 0
    sqlite_session.expect("approved")
    sqlite_session.send("SELECT 'left-' || count(*) FROM sqlite_master WHERE name = 't';\r")
    sqlite_session.expect("left-0")
    assert tables(db) == []
    decisions = [r["decision"] for r in broker.audit_records("decision")]
    assert decisions.count("approved") == 1


def test_a_denied_drop_does_not_run_and_the_prompt_stays_usable(
    sqlite_session, broker, run_cli, db: Path
) -> None:  # type: ignore[no-untyped-def]
    sqlite_session.send("DROP TABLE t;\r")
    sqlite_session.expect("waiting for approval")
    [request] = broker.wait_pending(1)
    assert run_cli("deny", request["id"], "--reason", "not-today").returncode == 0
    sqlite_session.expect("denied: not-today")
    sqlite_session.send("SELECT 6*7;\r")
    sqlite_session.expect("42")
    assert tables(db) == ["t"]


def test_denied_in_the_inline_overlay_the_reason_shows_after_it_closes(
    term, broker_env: Path, db: Path
) -> None:  # type: ignore[no-untyped-def]
    config = broker_env / "config.toml"
    config.write_text(config.read_text().replace('"external"', '"inline"'))
    child = term("sqlite3", str(db))
    child.expect("sqlite> ")
    child.send("DROP TABLE t;\r")
    child.expect("keys typed here go to expacti")  # the overlay, over the screen
    child.send("d")
    child.expect("why")
    child.send("not-now\r")
    child.expect_exact("\x1b[?1049l")  # the overlay is gone ...
    child.expect("denied: not-now")  # ... and then the reason is printed
    child.expect("sqlite> ")
    child.send("SELECT 6*7;\r")
    child.expect("42")
    assert tables(db) == ["t"]


def test_a_multi_line_statement_is_gated_whole_and_a_denial_drops_all_of_it(
    sqlite_session, broker, run_cli, db: Path
) -> None:  # type: ignore[no-untyped-def]
    sqlite_session.send("DROP TABLE\r")  # incomplete: sqlite3 waits for more, nothing to gate
    sqlite_session.expect(r"\.\.\.> ")
    sqlite_session.send("t;\r")
    sqlite_session.expect("waiting for approval")
    [request] = broker.wait_pending(1)
    assert request["command"] == f"sqlite3 {db} 'DROP TABLE\nt;'"
    assert run_cli("deny", request["id"]).returncode == 0
    sqlite_session.expect("denied")
    sqlite_session.expect("sqlite> ")
    sqlite_session.send("SELECT 6*7;\r")
    sqlite_session.expect("42")
    assert tables(db) == ["t"]


def test_a_dot_command_that_runs_a_shell_is_gated(
    sqlite_session, broker, run_cli, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "made-by-sqlite"
    sqlite_session.send(f".system touch {target}\r")
    sqlite_session.expect("waiting for approval")
    [request] = broker.wait_pending(1)
    assert ".system touch" in request["command"]
    assert run_cli("deny", request["id"]).returncode == 0
    sqlite_session.expect("denied")
    sqlite_session.send("SELECT 6*7;\r")
    sqlite_session.expect("42")
    assert not target.exists()


def test_typing_ahead_while_a_statement_waits_is_held_then_gated_in_turn(
    sqlite_session, broker, run_cli, db: Path
) -> None:  # type: ignore[no-untyped-def]
    sqlite_session.send("DELETE FROM t;\r")
    sqlite_session.expect("waiting for approval")
    sqlite_session.send("SELECT 6*7;\r")  # typed while waiting: held, not lost
    [request] = broker.wait_pending(1)
    assert run_cli("approve", request["id"]).returncode == 0
    sqlite_session.expect("42")
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM t").fetchone() == (0,)


# --- python ------------------------------------------------------------------------------


def test_python_os_system_is_gated_and_a_denial_keeps_the_repl(
    term, broker, run_cli, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "made-by-python"
    repl = term(sys.executable, "-q")
    repl.expect(">>> ")
    repl.send("import os\r")  # low risk: runs without a human
    repl.expect(">>> ")
    repl.send(f"os.system('touch {target}')\r")
    repl.expect("waiting for approval")
    [request] = broker.wait_pending(1)
    assert request["source"] == "python"
    program, *args = shlex.split(request["command"])
    assert program == "python" and args == ["-c", f"os.system('touch {target}')"]
    assert run_cli("deny", request["id"]).returncode == 0
    repl.expect("denied")
    repl.send("print(6*7)\r")
    repl.expect("42")
    assert not target.exists()


def test_a_python_block_is_gated_once_complete(term, broker, run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "made-by-block"
    repl = term(sys.executable, "-q")
    repl.expect(">>> ")
    repl.send("import os\r")
    repl.expect(">>> ")
    repl.send("if True:\r")
    repl.expect(r"\.\.\. ")
    repl.send(f"    os.system('touch {target}')\r")
    repl.expect(r"\.\.\. ")
    assert len(broker.audit_records("decision")) == 1  # `import os`; the block is not complete
    repl.send("\r")
    repl.expect("waiting for approval")
    [request] = broker.wait_pending(1)
    assert f"if True:\n    os.system('touch {target}')\n" in request["command"]
    assert run_cli("approve", request["id"]).returncode == 0
    repl.send("print(6*7)\r")
    repl.expect("42")
    assert target.exists()


# --- where it must not fire -------------------------------------------------------------


def gated_commands(broker) -> list[str]:  # type: ignore[no-untyped-def]
    return [r["command"] for r in broker.audit_records("decision")]


def test_no_detection_inside_less_or_vim(term, broker, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    text = tmp_path / "notes.txt"
    text.write_text("".join(f"$ rm -rf /line{i}\n" for i in range(200)))
    sh = term("sh")  # dash: no hooks, so its own lines go through the detector (low risk)
    sh.expect(r"\$ ")
    sh.send(f"less {text}\r")
    sh.expect("line0")
    for _ in range(30):
        sh.send("\r")  # less: one line on each time
    sh.expect("line52")
    sh.send("q")
    sh.expect_exact("\x1b[?1049l")
    sh.expect(r"\$ ")
    sh.send(f"vim -u NONE -N {text}\r")
    sh.expect("line0")
    sh.send("O$ rm -rf /x\r$ rm -rf /y\r")  # insert mode: Enter after prompt-looking text
    sh.send("\x1b:q!\r")
    sh.expect_exact("\x1b[?1049l")  # vim has left the alternate screen
    sh.expect(r"\$ ")
    sh.send("echo done-$((6*7))\r")
    sh.expect("done-42")
    assert gated_commands(broker) == [
        f"less {text}",
        f"vim -u NONE -N {text}",
        "echo done-$((6*7))",
    ]


def test_no_detection_in_a_prompt_program_on_the_alternate_screen(term, broker) -> None:  # type: ignore[no-untyped-def]
    # A python program (a known prompt family) draws `>>> ` on the alternate screen.
    script = (
        "import sys; sys.stdout.write('\\x1b[?1049h>>> '); sys.stdout.flush(); "
        "line = input(); print('\\x1b[?1049lgot-' + str(len(line)))"
    )
    child = term(sys.executable, "-c", script)
    child.expect(">>> ")
    child.send("os.system('rm -rf /tmp/x')\r")
    child.expect("got-26")
    assert broker.audit_records("decision") == []


def test_no_detection_while_output_is_running(term, broker, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # dash itself prints a prompt-looking line again and again, the cursor after it.
    stop = tmp_path / "stop"
    loop = f"while [ ! -e {stop} ]; do printf '\\r$ rm -rf /x'; done; echo; echo ended-$((6*7))"
    child = term("sh", "-c", loop)
    child.expect(r"\$ rm -rf /x")
    for _ in range(3):
        child.send("\r")
        child.expect(r"\$ rm -rf /x")
    stop.touch()
    child.expect("ended-42")
    assert broker.audit_records("decision") == []


def test_enter_during_cat_of_a_big_file_is_not_gated(term, broker, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    big = tmp_path / "big.txt"
    big.write_text("".join(f"$ rm -rf /data/{i}\n" for i in range(300_000)))
    child = term("sh")
    child.expect(r"\$ ")
    child.send(f"cat {big}; echo cat-done-$((6*7))\r")
    child.expect(r"rm -rf /data/1000\r\n")
    for _ in range(3):
        child.send("\r")
    child.expect("cat-done-42", timeout=60)
    assert gated_commands(broker) == [f"cat {big}; echo cat-done-$((6*7))"]


# --- a shell on the other end of ssh --------------------------------------------------------

FAKE_SSH = """#!{python}
# Stands in for `ssh HOST`: a remote shell's prompt and line reading (canonical mode), and the
# commands run here. With FAKE_SSH_MARKS=1 its prompt carries OSC 133 marks, as a remote shell
# integration prints them.
import os, subprocess, sys
host = sys.argv[-1].split("@")[-1]
marks = os.environ.get("FAKE_SSH_MARKS") == "1"
while True:
    prompt = "\\x1b]133;A\\x07(remote) >> \\x1b]133;B\\x07" if marks else f"ops@{{host}}:~$ "
    try:
        line = input(prompt)
    except KeyboardInterrupt:
        print()
        continue
    except EOFError:
        break
    print("\\x1b]133;C\\x07", end="", flush=True)
    subprocess.run(line, shell=True)
"""


@pytest.fixture
def fake_ssh(tmp_path: Path) -> str:
    path = tmp_path / "bin" / "ssh"
    path.parent.mkdir()
    path.write_text(FAKE_SSH.format(python=sys.executable))
    path.chmod(0o755)
    return str(path)


@pytest.mark.parametrize("marks", ["0", "1"])
def test_a_line_typed_into_a_remote_shell_is_gated_with_its_host(
    term,
    broker,
    run_cli,
    fake_ssh: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    marks: str,
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("FAKE_SSH_MARKS", marks)
    target = tmp_path / "made-remotely"
    remote = term(fake_ssh, "-p", "2222", "ops@db1")
    remote.expect(">> " if marks == "1" else r"ops@db1:~\$ ")
    remote.send(f"rm -rf {target}-x; touch {target}\r")
    remote.expect("waiting for approval")
    [request] = broker.wait_pending(1)
    assert shlex.split(request["command"]) == [
        "ssh",
        "ops@db1",
        f"rm -rf {target}-x; touch {target}",
    ]
    assert run_cli("deny", request["id"]).returncode == 0
    remote.expect("denied")
    remote.send("echo remote-$((6*7))\r")  # low risk: runs without a human
    remote.expect("remote-42")
    assert not target.exists()


def test_inside_a_hooked_bash_its_lines_are_gated_once_and_sqlite3_by_the_detector(
    term, broker, run_cli, db: Path
) -> None:  # type: ignore[no-untyped-def]
    shell = term("bash", "--norc")
    shell.send("echo hi-$((6*7))\r")
    shell.expect("hi-42")
    shell.send(f"sqlite3 {db}\r")
    [opening] = broker.wait_pending(1)  # bash's integration asks about the line (MEDIUM)
    assert run_cli("approve", opening["id"]).returncode == 0
    shell.expect("sqlite> ")
    shell.send("DROP TABLE t;\r")
    shell.expect("waiting for approval")
    [request] = broker.wait_pending(1)
    assert request["source"] == "sqlite3"
    assert run_cli("deny", request["id"]).returncode == 0
    shell.expect("denied")
    shell.send(".quit\r")
    shell.send("echo bye-$((7*7))\r")
    shell.expect("bye-49")
    sources = [(r["source"], r["command"]) for r in broker.audit_records("decision")]
    # bash's own lines went through its integration alone ("pty"), never the detector ("sh").
    assert sources == [
        ("pty", "echo hi-$((6*7))"),
        ("pty", f"sqlite3 {db}"),
        ("sqlite3", f"sqlite3 {db} 'DROP TABLE t;'"),
        ("sqlite3", f"sqlite3 {db} .quit"),
        ("pty", "echo bye-$((7*7))"),
    ]
    assert tables(db) == ["t"]
