"""`expacti doctor` through the real CLI, in the temp EXPACTI_HOME of tests/conftest.py."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from expacti_cli.broker import sockets

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A HOME of the test's own: agents' settings files are looked for under it."""
    path = tmp_path / "user-home"
    path.mkdir()
    return path


@pytest.fixture
def bin_dir(tmp_path: Path) -> Path:
    """A directory first on PATH, for stand-in programs (an agent CLI, a missing tmux)."""
    path = tmp_path / "bin"
    path.mkdir()
    return path


@pytest.fixture
def doctor(run_cli: Run, home: Path, bin_dir: Path) -> Callable[..., tuple[int, dict[str, Any]]]:
    """Run `expacti doctor --json [ARGS]`; return the exit code and the parsed report."""

    def run(*args: str, path: str | None = None, **env: str) -> tuple[int, dict[str, Any]]:
        result = run_cli(
            "doctor",
            "--json",
            *args,
            env={
                "HOME": str(home),
                "PATH": path if path is not None else f"{bin_dir}:{os.environ['PATH']}",
                "CODEX_HOME": "",
                "CLAUDE_CONFIG_DIR": "",
                **env,
            },
        )
        assert result.returncode in (0, 1), result.stderr
        return result.returncode, json.loads(result.stdout)

    return run


def by_name(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {check["name"]: check for check in report["checks"]}


def failed(report: dict[str, Any]) -> list[str]:
    return [c["name"] for c in report["checks"] if c["status"] == "fail"]


def test_a_fresh_home_is_all_good_and_the_broker_starts(doctor, expacti_home: Path) -> None:  # type: ignore[no-untyped-def]
    code, report = doctor()
    assert code == 0, report
    assert report["ok"] is True and failed(report) == []
    checks = by_name(report)
    must_pass = ["config", "rules", "audit", "runtime-dir", "broker", "socket", "shell-integration"]
    if Path(sys.executable).with_name("expacti-sh").is_file():
        must_pass.append("shim")  # installed with the package's scripts
    for name in must_pass:
        assert checks[name]["status"] == "ok", checks[name]
    assert "started now" in checks["broker"]["message"]
    assert sockets.broker_alive()
    assert (expacti_home / "run").stat().st_mode & 0o777 == 0o700
    for check in report["checks"]:
        assert check["status"] in ("ok", "warn", "fail")
        assert bool(check["fix"]) == (check["status"] != "ok"), check


def test_text_output_names_each_check_and_says_all_good(run_cli: Run, home: Path) -> None:
    result = run_cli("doctor", env={"HOME": str(home)})
    assert result.returncode == 0, result.stdout + result.stderr
    for name in ("config", "rules", "audit", "broker", "shell-integration", "tmux"):
        assert f"  {name} " in result.stdout
    last = result.stdout.strip().splitlines()[-1]
    assert last == "all good" or last.endswith("warning(s)") and last.startswith("0 problem")


def test_a_broken_config_is_a_failure_with_the_file_to_fix(
    doctor, run_cli: Run, expacti_home: Path
) -> None:  # type: ignore[no-untyped-def]
    expacti_home.mkdir(parents=True, exist_ok=True)
    config = expacti_home / "config.toml"
    config.write_text('approval_timeout = "soon"\n')
    code, report = doctor("--no-start")
    assert code == 1 and report["ok"] is False
    check = by_name(report)["config"]
    assert check["status"] == "fail"
    assert "approval_timeout" in check["message"] and str(config) in check["message"]
    assert str(config) in check["fix"]
    # the text form shows the failure and its fix
    result = run_cli("doctor", "--no-start")
    assert result.returncode == 1
    assert "FAIL" in result.stdout and f"fix: edit {config}" in result.stdout
    assert "1 problem(s)" in result.stdout


def test_a_corrupt_rules_file_is_a_failure(doctor, expacti_home: Path) -> None:  # type: ignore[no-untyped-def]
    rules = expacti_home / "data" / "rules.json"
    rules.parent.mkdir(parents=True)
    rules.write_text('{"rules": {"1": {"kind": "exact", ')
    code, report = doctor("--no-start")
    assert code == 1
    check = by_name(report)["rules"]
    assert check["status"] == "fail" and str(rules) in check["message"]
    assert rules.read_text() == '{"rules": {"1": {"kind": "exact", '  # left untouched


def test_rules_added_through_the_cli_are_counted(doctor, run_cli: Run) -> None:  # type: ignore[no-untyped-def]
    assert run_cli("whitelist", "add", "npm test").returncode == 0
    code, report = doctor("--no-start")
    assert code == 0, report
    assert "1 rule(s)" in by_name(report)["rules"]["message"]
    assert "agree" in by_name(report)["audit"]["message"]


def test_a_world_readable_socket_directory_fails_and_the_broker_is_not_started(
    doctor, expacti_home: Path
) -> None:  # type: ignore[no-untyped-def]
    run_dir = expacti_home / "run"
    run_dir.mkdir(parents=True)
    run_dir.chmod(0o755)
    code, report = doctor()
    assert code == 1
    checks = by_name(report)
    assert checks["runtime-dir"]["status"] == "fail"
    assert "0755" in checks["runtime-dir"]["message"]
    assert checks["runtime-dir"]["fix"] == f"chmod 700 {run_dir}"
    assert checks["broker"]["status"] == "warn"
    assert not sockets.broker_alive()
    assert run_dir.stat().st_mode & 0o777 == 0o755  # doctor reports, it does not change


def _socket_file(path: Path) -> None:
    """Leave a socket file nobody listens on, as a crashed broker does."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.close()


def test_a_stale_socket_is_a_warning(doctor, expacti_home: Path) -> None:  # type: ignore[no-untyped-def]
    run_dir = expacti_home / "run"
    run_dir.mkdir(parents=True, mode=0o700)
    old = os.umask(0o177)
    try:
        _socket_file(run_dir / "broker.sock")
    finally:
        os.umask(old)
    code, report = doctor("--no-start")
    assert code == 0, report
    check = by_name(report)["socket"]
    assert check["status"] == "warn" and "stale" in check["message"]


def test_a_socket_others_can_open_is_a_failure(doctor, expacti_home: Path) -> None:  # type: ignore[no-untyped-def]
    run_dir = expacti_home / "run"
    run_dir.mkdir(parents=True, mode=0o700)
    _socket_file(run_dir / "broker.sock")
    (run_dir / "broker.sock").chmod(0o666)
    code, report = doctor("--no-start")
    assert code == 1
    check = by_name(report)["socket"]
    assert check["status"] == "fail" and "0666" in check["message"]


def test_a_cut_off_audit_log_is_a_failure(doctor, run_cli: Run, expacti_home: Path) -> None:  # type: ignore[no-untyped-def]
    for pattern in ("npm test", "git status", "make"):
        assert run_cli("whitelist", "add", pattern).returncode == 0
    segment = sorted((expacti_home / "data" / "audit").glob("audit-*.jsonl"))[-1]
    lines = segment.read_bytes().splitlines(keepends=True)
    segment.write_bytes(b"".join(lines[:-1]))  # the newest record removed
    code, report = doctor("--no-start")
    assert code == 1
    check = by_name(report)["audit"]
    assert check["status"] == "fail" and "removed from the end" in check["message"]
    assert "expacti log verify" in check["fix"]


def test_a_torn_audit_tail_is_a_warning(doctor, run_cli: Run, expacti_home: Path) -> None:  # type: ignore[no-untyped-def]
    assert run_cli("whitelist", "add", "npm test").returncode == 0
    segment = sorted((expacti_home / "data" / "audit").glob("audit-*.jsonl"))[-1]
    with segment.open("ab") as fh:
        fh.write(b'{"id":"half a rec')
    code, report = doctor("--no-start")
    assert code == 0, report
    check = by_name(report)["audit"]
    assert check["status"] == "warn" and "expacti log repair" in check["fix"]


def test_a_real_shell_that_is_the_shim_itself_fails(doctor) -> None:  # type: ignore[no-untyped-def]
    shim = Path(sys.executable).with_name("expacti-sh")
    if not shim.is_file():
        pytest.skip("expacti-sh is not installed beside this Python")
    code, report = doctor("--no-start", EXPACTI_REAL_SHELL=str(shim))
    assert code == 1
    check = by_name(report)["shim"]
    assert check["status"] == "fail" and "loop" in check["message"]
    assert "EXPACTI_REAL_SHELL" in check["fix"]


def test_agent_hooks_are_reported_for_agents_on_path(
    doctor, run_cli: Run, home: Path, bin_dir: Path
) -> None:  # type: ignore[no-untyped-def]
    claude = bin_dir / "claude"
    claude.write_text("#!/bin/sh\nexit 0\n")
    claude.chmod(0o755)
    path = f"{bin_dir}:/usr/bin:/bin"
    code, report = doctor("--no-start", path=path)
    checks = by_name(report)
    assert checks["agent:claude"]["status"] == "warn"
    assert "expacti hook install claude" in checks["agent:claude"]["fix"]
    assert "not on PATH" in checks["agent:codex"]["message"]
    installed = run_cli("hook", "install", "claude", "--user", env={"HOME": str(home)})
    assert installed.returncode == 0, installed.stderr
    code, report = doctor("--no-start", path=path)
    check = by_name(report)["agent:claude"]
    assert check["status"] == "ok"
    assert str(home / ".claude" / "settings.json") in check["message"]


def test_missing_tmux_is_a_warning_not_a_failure(doctor, bin_dir: Path) -> None:  # type: ignore[no-untyped-def]
    # A PATH with bash but without tmux: only the stand-in directory and bash's own.
    (bin_dir / "bash").symlink_to("/bin/bash")
    code, report = doctor("--no-start", path=str(bin_dir))
    check = by_name(report)["tmux"]
    assert check["status"] == "warn" and "expacti approve" in check["fix"]
    assert code == 0, failed(report)


def test_no_start_leaves_the_broker_alone(doctor) -> None:  # type: ignore[no-untyped-def]
    code, report = doctor("--no-start")
    assert code == 0
    assert by_name(report)["broker"]["status"] == "warn"
    assert not sockets.broker_alive()


def test_a_running_broker_is_reported_with_its_pid(doctor, run_cli: Run) -> None:  # type: ignore[no-untyped-def]
    assert run_cli("daemon", "start").returncode == 0
    pid = sockets.recorded_pid()
    code, report = doctor("--no-start")
    assert code == 0
    message = by_name(report)["broker"]["message"]
    assert f"pid {pid}" in message and "started now" not in message
