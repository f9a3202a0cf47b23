"""The real Claude Code CLI against a stand-in model: its Bash tool goes through the shim,
or through the `expacti hook claude` PreToolUse hook.

Needs the CLI (npm @anthropic-ai/claude-code): `claude` on PATH or EXPACTI_TEST_CLAUDE.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
from claude_standin import StandIn, claude_binary, claude_env

from expacti_cli.integrations.settings import claude_settings_arg
from expacti_cli.shim.launcher import write_launcher

pytest_plugins = ("broker_support",)

CLAUDE = claude_binary()
pytestmark = [
    pytest.mark.usefixtures("broker_env"),
    pytest.mark.skipif(
        CLAUDE is None, reason="Claude Code CLI not installed (set EXPACTI_TEST_CLAUDE)"
    ),
]


def decide_each(broker, run_cli, verdicts: list[tuple[str, str]], proc) -> list[str]:  # type: ignore[no-untyped-def]
    """Decide pending requests in order: (expected command, "approve"|"deny")."""
    seen = []
    for expected, verdict in verdicts:
        deadline = time.monotonic() + 60
        while True:
            pending = broker.wait_pending(0)
            if pending:
                break
            assert proc.poll() is None, "claude exited while a decision was expected"
            assert time.monotonic() < deadline, f"no request for {expected!r}"
            time.sleep(0.1)
        [request] = pending
        seen.append(request["command"])
        assert request["command"] == expected
        args = [verdict, request["id"]] + (
            ["--reason", "not on my machine"] if verdict == "deny" else []
        )
        assert run_cli(*args).returncode == 0
    return seen


def test_claude_bash_tool_through_the_shim(broker, run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    project, home = tmp_path / "project", tmp_path / "home"
    (project / "victim").mkdir(parents=True)
    home.mkdir()
    (home / ".bashrc").write_text("export FROM_BASHRC=1\n")
    shim = write_launcher(tmp_path / "shims")
    assert run_cli("whitelist", "add", "ls").returncode == 0
    commands = ["ls", "touch made.txt", "rm -rf victim"]
    with StandIn(commands) as model:
        proc = subprocess.Popen(
            [str(CLAUDE), "-p", "do the task", "--allowedTools", "Bash"],
            cwd=project,
            env=claude_env(model, home, str(shim)),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            decide_each(
                broker, run_cli, [("touch made.txt", "approve"), ("rm -rf victim", "deny")], proc
            )
            out, _ = proc.communicate(timeout=90)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert proc.returncode == 0, out
    assert (project / "made.txt").exists()
    assert (project / "victim").is_dir()
    assert "victim" in model.tool_results[0]  # ls ran and its output came back
    assert "Exit code 126" in model.tool_results[2] and "not on my machine" in model.tool_results[2]
    records = broker.audit_records("decision")
    plumbing = sorted(r["plumbing"] for r in records if r.get("rule_id") == "agent-plumbing")
    assert plumbing == ["claude-env", "claude-snapshot"]
    gated = [(r["command"], r["decision"]) for r in records if r.get("rule_id") != "agent-plumbing"]
    assert gated == [
        ("ls", "auto_approved_rule"),
        ("touch made.txt", "approved"),
        ("rm -rf victim", "denied"),
    ]


def test_claude_pre_tool_use_hook(broker, run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    project, home = tmp_path / "project", tmp_path / "home"
    (project / "victim").mkdir(parents=True)
    home.mkdir()
    assert run_cli("whitelist", "add", "ls").returncode == 0
    with StandIn(["ls", "rm -rf victim"]) as model:
        proc = subprocess.Popen(
            [
                str(CLAUDE),
                "-p",
                "do the task",
                "--allowedTools",
                "Bash",
                "--settings",
                claude_settings_arg(),
            ],
            cwd=project,
            env=claude_env(model, home, "/bin/bash"),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            decide_each(broker, run_cli, [("rm -rf victim", "deny")], proc)
            out, _ = proc.communicate(timeout=90)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert proc.returncode == 0, out
    assert (project / "victim").is_dir()
    assert "victim" in model.tool_results[0]  # the allowed `ls` ran
    assert "not on my machine" in model.tool_results[1]
    decisions = [
        (r["command"], r["source"], r["decision"]) for r in broker.audit_records("decision")
    ]
    assert decisions == [
        ("ls", "claude-hook", "auto_approved_rule"),
        ("rm -rf victim", "claude-hook", "denied"),
    ]
