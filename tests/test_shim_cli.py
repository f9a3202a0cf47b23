"""The shell shim end to end: real shim processes, a real broker per test, real bash."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from expacti_cli.shim import claude
from expacti_cli.shim.launcher import write_launcher

pytest_plugins = ("broker_support",)
pytestmark = pytest.mark.usefixtures("broker_env")


@pytest.fixture
def shim(tmp_path: Path) -> Path:
    """A `bash` launcher in a shim directory, as `expacti run` would put first."""
    return write_launcher(tmp_path / "shims")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A HOME for Claude Code's paths (no `[` or spaces: Claude would quote those)."""
    path = tmp_path / "home"
    (path / ".claude" / "shell-snapshots").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(path))
    monkeypatch.delenv("CLAUDE_CONFIG_DIR", raising=False)
    return path


@pytest.fixture
def start(shim: Path) -> Iterator[Callable[..., subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []

    def run(
        *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
    ) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [str(shim), *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=dict(os.environ, **(env or {})),
            cwd=cwd,
        )
        started.append(proc)
        return proc

    yield run
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


def finish(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=30)
    return proc.returncode, out, err


def test_whitelisted_command_runs_with_its_output_and_exit_code(broker, run_cli, start) -> None:  # type: ignore[no-untyped-def]
    command = 'echo "out $0 $1"; echo err >&2; exit 7'
    assert run_cli("whitelist", "add", command).returncode == 0
    code, out, err = finish(start("-c", command, "zero", "one"))
    assert (code, out, err) == (7, "out zero one\n", "err\n")
    [decision] = broker.audit_records("decision")
    assert (decision["decision"], decision["source"], decision["command"]) == (
        "auto_approved_rule",
        "shim",
        command,
    )


def test_login_flag_forms_are_gated_and_passed_through(broker, run_cli, start) -> None:  # type: ignore[no-untyped-def]
    assert run_cli("whitelist", "add", "shopt -q login_shell && echo login").returncode == 0
    for args in (["-lc"], ["-c", "-l"], ["--login", "-c"]):
        code, out, _ = finish(start(*args, "shopt -q login_shell && echo login"))
        assert (code, out) == (0, "login\n"), args


def test_risky_command_waits_then_runs_once_after_approve(broker, run_cli, start, tmp_path) -> None:  # type: ignore[no-untyped-def]
    marker = tmp_path / "ran.txt"
    command = f"echo ran >> {marker}"
    proc = start("-c", command, env={"EXPACTI_SESSION": "agent-1", "EXPACTI_CONTEXT": "tidy up"})
    [request] = broker.wait_pending()
    assert (request["command"], request["source"], request["session"], request["context"]) == (
        command,
        "shim",
        "agent-1",
        "tidy up",
    )
    assert not marker.exists()
    assert run_cli("approve", request["id"][:8]).returncode == 0
    code, _, err = finish(proc)
    assert code == 0, err
    assert marker.read_text() == "ran\n"


def test_denied_command_exits_126_and_nothing_runs(broker, run_cli, start, tmp_path) -> None:  # type: ignore[no-untyped-def]
    marker = tmp_path / "ran.txt"
    proc = start("-c", f"touch {marker}")
    [request] = broker.wait_pending()
    assert run_cli("deny", request["id"], "--reason", "not today").returncode == 0
    code, out, err = finish(proc)
    assert code == 126
    assert "not today" in err and out == ""
    assert not marker.exists()


def test_no_broker_means_no_run(start, tmp_path) -> None:  # type: ignore[no-untyped-def]
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    marker = tmp_path / "ran.txt"
    code, _, err = finish(start("-c", f"touch {marker}", env={"EXPACTI_HOME": str(blocker)}))
    assert code == 126 and "nothing ran" in err
    assert not marker.exists()


def test_claude_wrapper_is_gated_as_its_command_and_runs_whole(
    broker, run_cli, start, home, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    marker = tmp_path / "ran.txt"
    command = f"echo 'it'\"'\"'s' > {marker}"
    cwd_file = tmp_path / "claude-ab12-cwd"
    snapshot = home / ".claude" / "shell-snapshots" / "snapshot-bash-1-abc.sh"
    snapshot.write_text("export FROM_SNAPSHOT=1\n")
    script = (
        f"source {snapshot} 2>/dev/null || true && shopt -u extglob 2>/dev/null || true && "
        f"eval {claude.quote(command)} < /dev/null && pwd -P >| {cwd_file}"
    )
    assert run_cli("whitelist", "add", command).returncode == 0
    code, _, err = finish(start("-c", script, cwd=tmp_path))
    assert code == 0, err
    assert marker.read_text() == "it's\n"
    assert cwd_file.read_text().strip() == str(tmp_path.resolve())  # the whole script ran
    [decision] = broker.audit_records("decision")
    assert decision["command"] == command


def test_wrapper_with_anything_appended_is_gated_whole(
    broker, run_cli, start, home, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    marker = tmp_path / "ran.txt"
    inner = "echo hi"
    script = (
        f"shopt -u extglob 2>/dev/null || true && eval {claude.quote(inner)} < /dev/null && "
        f"pwd -P >| {tmp_path}/claude-1-cwd; touch {marker}"
    )
    assert run_cli("whitelist", "add", inner).returncode == 0  # must not cover the script
    proc = start("-c", script)
    [request] = broker.wait_pending()
    assert request["command"] == script
    assert run_cli("deny", request["id"]).returncode == 0
    assert finish(proc)[0] == 126
    assert not marker.exists()


def test_env_probe_passes_as_audited_plumbing(broker, start, home) -> None:  # type: ignore[no-untyped-def]
    code, out, err = finish(start("-c", "env", env={"PROBE_MARK": "42"}))
    assert code == 0, err
    assert "PROBE_MARK=42" in out
    [decision] = broker.audit_records("decision")
    assert (decision["decision"], decision["rule_id"], decision["plumbing"]) == (
        "auto_approved_rule",
        "agent-plumbing",
        "claude-env",
    )


def test_snapshot_call_passes_as_audited_plumbing(broker, start, home, tmp_path) -> None:  # type: ignore[no-untyped-def]
    data = Path(__file__).parent / "shim_data" / "claude-2.1.197-snapshot-bashrc.sh"
    script = data.read_text().replace("/tmp/cc/home", str(home))
    (home / ".bashrc").write_text("alias ll='ls -l'\n")
    code, _, err = finish(start("-c", "-l", script))
    assert code == 0, err
    [snapshot] = (home / ".claude" / "shell-snapshots").iterdir()
    assert "alias -- ll='ls -l'" in snapshot.read_text()
    [decision] = broker.audit_records("decision")
    assert (decision["rule_id"], decision["plumbing"]) == ("agent-plumbing", "claude-snapshot")
    assert broker.wait_pending(0) == []


def test_a_changed_snapshot_call_is_not_plumbing(broker, run_cli, start, home) -> None:  # type: ignore[no-untyped-def]
    data = Path(__file__).parent / "shim_data" / "claude-2.1.197-snapshot-bashrc.sh"
    script = data.read_text().replace("/tmp/cc/home", str(home)) + "\necho extra"
    proc = start("-c", "-l", script)
    [request] = broker.wait_pending()
    assert request["command"] == script
    assert run_cli("deny", request["id"]).returncode == 0
    assert finish(proc)[0] == 126


def test_script_file_is_gated_as_the_invocation(broker, run_cli, start, tmp_path) -> None:  # type: ignore[no-untyped-def]
    script = tmp_path / "job.sh"
    script.write_text("echo from-script\n")
    proc = start(str(script))
    [request] = broker.wait_pending()
    assert request["command"] == f"bash {script}"
    assert run_cli("approve", request["id"]).returncode == 0
    assert finish(proc)[:2] == (0, "from-script\n")


def test_real_shell_pointing_at_the_shim_is_refused(start, shim, tmp_path) -> None:  # type: ignore[no-untyped-def]
    marker = tmp_path / "ran.txt"
    for target in (str(shim), "bash"):
        code, _, err = finish(start("-c", f"touch {marker}", env={"EXPACTI_REAL_SHELL": target}))
        assert code == 126, err
    assert not marker.exists()


def test_a_second_shim_as_real_shell_is_caught_as_a_loop(run_cli, start, tmp_path) -> None:  # type: ignore[no-untyped-def]
    other = write_launcher(tmp_path / "other-shims")
    assert run_cli("whitelist", "add", "echo loop").returncode == 0
    code, out, err = finish(start("-c", "echo loop", env={"EXPACTI_REAL_SHELL": str(other)}))
    assert code == 126 and out == ""
    assert "loop" in err


def test_nested_shell_inside_an_approved_command_is_gated_again(
    broker, run_cli, start, shim
) -> None:  # type: ignore[no-untyped-def]
    outer = f"{shim} -c 'echo inner'"
    assert run_cli("whitelist", "add", outer).returncode == 0
    assert run_cli("whitelist", "add", "echo inner").returncode == 0
    code, out, err = finish(start("-c", outer))
    assert (code, out) == (0, "inner\n"), err
    assert [d["command"] for d in broker.audit_records("decision")] == [outer, "echo inner"]


def test_expacti_shell_command_and_console_script(broker, run_cli) -> None:  # type: ignore[no-untyped-def]
    assert run_cli("whitelist", "add", "echo via-cli").returncode == 0
    result = run_cli("shell", "-c", "echo via-cli")
    assert (result.returncode, result.stdout) == (0, "via-cli\n"), result.stderr
    script = Path(sys.executable).with_name("expacti-sh")
    done = subprocess.run(
        [str(script), "-c", "echo via-cli"], capture_output=True, text=True, timeout=30
    )
    assert (done.returncode, done.stdout) == (0, "via-cli\n"), done.stderr


def _interactive(shim: Path, cwd: Path, typed: bytes, env: dict[str, str]) -> tuple[int, str]:
    """Run the shim with a terminal on stdin, type `typed`, return (status, screen text)."""
    import pty

    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [str(shim), "--norc", "--noprofile"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=dict(os.environ, PS1="$ ", TERM="dumb", **env),
        cwd=cwd,
        start_new_session=True,
    )
    os.close(slave)
    import select
    import time

    try:
        os.write(master, typed)
        seen = b""
        deadline = time.monotonic() + 30  # never hang a test run on a stuck shell
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if not ready:
                continue
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the shell closed the terminal
                break
            if not chunk:
                break
            seen += chunk
        code = proc.wait(timeout=5)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    return code, seen.decode(errors="replace")


def test_interactive_shell_outside_a_session_is_plain_bash(broker, shim, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A terminal on stdin and no -c: the shim execs bash at once and says typed lines are
    not gated here."""
    code, text = _interactive(shim, tmp_path, b"echo INTERACTIVE_$((40+2)); exit 3\n", {})
    assert code == 3
    assert "INTERACTIVE_42" in text
    assert "not gated here" in text
    assert broker.audit_records("decision") == []


def test_interactive_shell_inside_a_session_gates_typed_lines(
    broker, run_cli, shim, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    for line in ("echo TYPED_$((1+1))", "exit 5"):  # `exit` is a typed line too
        assert run_cli("whitelist", "add", line).returncode == 0
    code, text = _interactive(
        shim, tmp_path, b"echo TYPED_$((1+1))\nexit 5\n", {"EXPACTI_SESSION": "run-1"}
    )
    assert code == 5, text
    assert "TYPED_2" in text
    assert "not gated here" not in text
    commands = [r["command"] for r in broker.audit_records("decision")]
    assert "echo TYPED_$((1+1))" in commands


def test_piped_commands_are_gated_as_themselves_and_replayed_exactly(
    broker, run_cli, shim, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    script = 'echo piped-one\nread line\nDATA LINE\necho "got: $line"\nexit 4\n'
    plain = subprocess.run(["bash", "-s"], input=script, capture_output=True, text=True, timeout=30)
    proc = subprocess.Popen(
        [str(shim), "-s"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, EXPACTI_CONTEXT="setup"),
    )
    try:
        assert proc.stdin is not None
        proc.stdin.write(script)
        proc.stdin.close()
        proc.stdin = None
        [request] = broker.wait_pending()
        assert request["command"] == script
        assert request["context"] == "setup (commands piped into `bash -s`)"
        assert run_cli("approve", request["id"]).returncode == 0
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    # `read` consumes the next line of the script, as when bash reads the pipe itself.
    assert "got: DATA LINE" in out
    assert (proc.returncode, out) == (plain.returncode, plain.stdout), err


def test_piped_commands_denied_never_run(broker, run_cli, start, shim, tmp_path) -> None:  # type: ignore[no-untyped-def]
    marker = tmp_path / "ran.txt"
    proc = subprocess.Popen(
        [str(shim)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdin is not None
        proc.stdin.write(f"touch {marker}\n")
        proc.stdin.close()
        proc.stdin = None
        [request] = broker.wait_pending()
        assert run_cli("deny", request["id"]).returncode == 0
        assert proc.wait(timeout=30) == 126
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
    assert not marker.exists()


def test_an_approved_command_cannot_approve_other_requests(broker, run_cli, start, gater) -> None:  # type: ignore[no-untyped-def]
    """The shim hands its broker connection to the real shell, so the broker still sees the
    running command's process tree as a gated session: no self-approval from inside it."""
    other = gater("rm -rf /tmp/expacti-test-victim")
    assert other.next_message()["op"] == "queued"
    [target] = broker.wait_pending()
    sneaky = f"{broker.expacti_script()} approve {target['id']}"
    proc = start("-c", sneaky)
    pending = broker.wait_pending(2)
    [request] = [p for p in pending if p["command"] == sneaky]
    assert run_cli("approve", request["id"]).returncode == 0
    code, _, err = finish(proc)
    assert code != 0
    assert "gated session" in err
    assert [p["id"] for p in broker.wait_pending(1)] == [target["id"]]
