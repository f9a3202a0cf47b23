"""`expacti exec` end to end: real CLI processes, a real broker per test."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import pytest

pytest_plugins = ("broker_support",)
pytestmark = pytest.mark.usefixtures("broker_env")

PY = sys.executable


def _writer(target: Path, code: int = 0) -> tuple[str, ...]:
    """An argv that appends one line to `target` (so a double run shows) and exits `code`."""
    script = f"open({str(target)!r}, 'a').write('ran\\n'); raise SystemExit({code})"
    return (PY, "-c", script)


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (("true",), 0),
        (("sh", "-c", "exit 3"), 3),
        (("echo hi && exit 7",), 7),  # one word: a bash command line
    ],
)
def test_whitelisted_command_runs_at_once_with_its_exit_code(
    broker, run_cli, command, expected
) -> None:  # type: ignore[no-untyped-def]
    text = command[0] if len(command) == 1 else shlex.join(command)
    assert run_cli("whitelist", "add", text).returncode == 0
    result = run_cli("exec", "--", *command, timeout=20)
    assert result.returncode == expected, result.stderr
    assert "waiting" not in result.stderr
    decisions = broker.audit_records("decision")
    assert [d["decision"] for d in decisions] == ["auto_approved_rule"]
    exits = broker.audit_records("exit")
    assert [(e["decision_id"], e["exit_code"]) for e in exits] == [(decisions[0]["id"], expected)]


def test_single_word_runs_in_bash_several_words_without_a_shell(run_cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    shell_line = "echo $((6*7))"
    argv = ("echo", "$((6*7))")
    for text in (shell_line, shlex.join(argv)):
        assert run_cli("whitelist", "add", text).returncode == 0
    assert run_cli("exec", "--", shell_line).stdout == "42\n"
    assert run_cli("exec", "--", *argv).stdout == "$((6*7))\n"


def test_risky_command_waits_and_runs_once_after_approve(broker, run_cli, spawn, tmp_path) -> None:  # type: ignore[no-untyped-def]
    marker = tmp_path / "ran.txt"
    proc = spawn("exec", "--context", "clean up", "--", *_writer(marker, 5))
    [request] = broker.wait_pending()
    assert request["context"] == "clean up"
    assert not marker.exists()
    approved = run_cli("approve", request["id"][:8], "--note", "fine")
    assert approved.returncode == 0, approved.stderr
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 5, err
    assert marker.read_text() == "ran\n"
    assert "waiting for approval" in err
    assert "approved by reviewer@example.com" in err
    [decision] = broker.audit_records("decision")
    assert (decision["decision"], decision["reviewer"]) == ("approved", "reviewer@example.com")
    assert [e["exit_code"] for e in broker.audit_records("exit")] == [5]


def test_denied_command_never_runs(broker, run_cli, spawn, tmp_path) -> None:  # type: ignore[no-untyped-def]
    marker = tmp_path / "ran.txt"
    proc = spawn("exec", "--", *_writer(marker))
    [request] = broker.wait_pending()
    denied = run_cli("deny", request["id"], "--reason", "use staging")
    assert denied.returncode == 0, denied.stderr
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 126
    assert "use staging" in err
    assert not marker.exists()
    assert broker.audit_records("exit") == []


def test_timeout_runs_nothing(broker, run_cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    marker = tmp_path / "ran.txt"
    result = run_cli("exec", "--timeout", "1", "--", *_writer(marker), timeout=20)
    assert result.returncode == 126
    assert "timed out" in result.stderr
    assert not marker.exists()
    [decision] = broker.audit_records("decision")
    assert decision["decision"] == "timed_out"


def test_timeout_below_the_minimum_is_a_usage_error(run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("exec", "--timeout", "5", "--", "true", env={"EXPACTI_TEST_MIN_TIMEOUT": ""})
    assert result.returncode == 2
    assert "30" in result.stderr


def test_approve_with_whitelist_lets_the_next_identical_command_pass(
    broker, run_cli, spawn, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    marker = tmp_path / "ran.txt"
    proc = spawn("exec", "--", *_writer(marker))
    [request] = broker.wait_pending()
    assert run_cli("approve", request["id"], "--whitelist").returncode == 0
    proc.communicate(timeout=20)
    assert proc.returncode == 0
    again = run_cli("exec", "--", *_writer(marker), timeout=20)
    assert again.returncode == 0, again.stderr
    assert "waiting" not in again.stderr
    assert marker.read_text() == "ran\nran\n"
    kinds = [r.get("decision") or r["kind"] for r in broker.audit_records() if r["kind"] != "exit"]
    assert kinds == ["genesis", "rule_added", "approved", "auto_approved_rule"]


def test_deny_rule_refuses_at_once(run_cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    marker = tmp_path / "ran.txt"
    argv = _writer(marker)
    assert run_cli("whitelist", "add", "--deny", "--kind", "prefix", PY).returncode == 0
    result = run_cli("exec", "--", *argv, timeout=20)
    assert result.returncode == 126
    assert "denied" in result.stderr
    assert not marker.exists()


def test_approved_command_not_found_exits_127(broker, run_cli) -> None:  # type: ignore[no-untyped-def]
    assert run_cli("whitelist", "add", "no-such-program-xyz --flag").returncode == 0
    result = run_cli("exec", "--", "no-such-program-xyz", "--flag", timeout=20)
    assert result.returncode == 127
    assert "command not found" in result.stderr
    assert [e["exit_code"] for e in broker.audit_records("exit")] == [127]


def test_help_documents_every_exit_code(run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("exec", "--help")
    assert result.returncode == 0
    for code in ("126", "127", "128+N", "130", "bash -c"):
        assert code in result.stdout


def test_json_reports_events_on_stderr(run_cli) -> None:  # type: ignore[no-untyped-def]
    import json

    assert run_cli("whitelist", "add", "echo ok").returncode == 0
    result = run_cli("exec", "--json", "--", "echo", "ok", timeout=20)
    assert result.stdout == "ok\n"
    [event] = [json.loads(line) for line in result.stderr.splitlines()]
    assert event["event"] == "approved"
    assert event["decision"]["decision"] == "auto_approved_rule"


def test_session_is_recorded_and_passed_to_the_command(broker, run_cli) -> None:  # type: ignore[no-untyped-def]
    assert run_cli("whitelist", "add", "printenv EXPACTI_SESSION").returncode == 0
    fresh = run_cli("exec", "--", "printenv", "EXPACTI_SESSION", timeout=20)
    given = run_cli(
        "exec", "--", "printenv", "EXPACTI_SESSION", env={"EXPACTI_SESSION": "s-42"}, timeout=20
    )
    assert given.stdout == "s-42\n"
    assert fresh.stdout.strip() and fresh.stdout != given.stdout
    sessions = [d["session"] for d in broker.audit_records("decision")]
    assert sessions == [fresh.stdout.strip(), "s-42"]


@pytest.mark.parametrize("how", ["rule", "threshold"])
def test_commands_that_change_expacti_are_never_auto_approved(broker, run_cli, how: str) -> None:  # type: ignore[no-untyped-def]
    command = f"{broker.expacti_script()} whitelist add 'rm -rf /'"
    if how == "rule":
        assert run_cli("whitelist", "add", command).returncode == 0
    else:
        assert run_cli("config", "set", "auto_approve_below", "100").returncode == 0
    result = run_cli("exec", "--timeout", "1", "--", command, timeout=20)
    assert result.returncode == 126
    assert "waiting for approval (CRITICAL" in result.stderr
    patterns = [r["pattern"] for r in json.loads(run_cli("whitelist", "list", "--json").stdout)]
    assert "rm -rf /" not in patterns  # the gated command did not run


def test_command_gets_default_sigpipe(run_cli) -> None:  # type: ignore[no-untyped-def]
    # Python ignores SIGPIPE; a command that inherited that would fail with EPIPE instead.
    assert run_cli("whitelist", "add", "yes | head -n 1").returncode == 0
    result = run_cli("exec", "--", "yes | head -n 1", timeout=20)
    assert (result.returncode, result.stdout) == (0, "y\n")
    assert "Broken pipe" not in result.stderr


FAST = (
    "import sys\n"
    "from expacti_cli.commands.exec_run import fast_main\n"
    "code = fast_main(sys.argv[1:])\n"
    "print('click' in sys.modules, file=sys.stderr)\n"
    "sys.exit(3 if code is None else code)\n"
)


def test_fast_path_serves_the_plain_form_without_click(run_cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import subprocess

    marker = tmp_path / "ran.txt"
    argv = _writer(marker, 4)
    assert run_cli("whitelist", "add", shlex.join(argv)).returncode == 0
    fast = subprocess.run([PY, "-c", FAST, "--", *argv], capture_output=True, text=True, timeout=20)
    assert fast.returncode == 4, fast.stderr
    assert fast.stderr.strip().endswith("False")  # click was never imported
    assert marker.read_text() == "ran\n"
    other = subprocess.run(
        [PY, "-c", FAST, "--timeout", "40", "--", "true"], capture_output=True, text=True
    )
    assert other.returncode == 3  # not the plain form: left to the click command


def test_exit_code_is_recorded_even_if_the_broker_died_meanwhile(broker, run_cli) -> None:  # type: ignore[no-untyped-def]
    # The approved command kills the broker, then exits 7: the client records the exit itself.
    script = (
        "import os, signal, time\n"
        "pid = int(open(os.environ['EXPACTI_HOME'] + '/run/broker.lock').read())\n"
        "os.kill(pid, signal.SIGKILL)\n"
        "def gone():\n"  # its sockets are closed once it is a zombie or reaped
        "    try:\n"
        "        return open(f'/proc/{pid}/stat').read().rsplit(')', 1)[1].split()[0] in 'ZX'\n"
        "    except OSError:\n"
        "        return True\n"
        "while not gone():\n"
        "    time.sleep(0.01)\n"
        "raise SystemExit(7)\n"
    )
    argv = (PY, "-c", script)
    assert run_cli("whitelist", "add", shlex.join(argv)).returncode == 0
    result = run_cli("exec", "--", *argv, timeout=20)
    assert result.returncode == 7, result.stderr
    [decision] = broker.audit_records("decision")
    assert [(e["decision_id"], e["exit_code"]) for e in broker.audit_records("exit")] == [
        (decision["id"], 7)
    ]


def test_exec_client_limits_agree_with_the_broker() -> None:
    from expacti_cli.broker import protocol
    from expacti_cli.shim import decide

    assert decide.MAX_TTL == protocol.MAX_TIMEOUT
