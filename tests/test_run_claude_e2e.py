"""`expacti run -- claude`: the real Claude Code CLI on a real terminal, against a stand-in model.

`expacti run` gives Claude both gates: the PreToolUse hook (`--settings`) and the shell shim
(SHELL). The hook decides; the shim's check of the same command is answered by that decision,
so each command reaches a reviewer once. Needs the CLI (npm @anthropic-ai/claude-code):
`claude` on PATH or EXPACTI_TEST_CLAUDE.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pexpect
import pytest
from claude_standin import StandIn, claude_binary, claude_env

pytest_plugins = ("broker_support",)

CLAUDE = claude_binary()
pytestmark = [
    pytest.mark.usefixtures("broker_env"),
    pytest.mark.skipif(
        CLAUDE is None, reason="Claude Code CLI not installed (set EXPACTI_TEST_CLAUDE)"
    ),
]


def _decide(broker, run_cli, child: pexpect.spawn, expected: str, verdict: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + 60
    while not (pending := broker.wait_pending(0)):
        assert child.isalive(), "claude exited while a decision was expected"
        assert time.monotonic() < deadline, f"no request for {expected!r}"
        time.sleep(0.1)
    [request] = pending
    assert request["command"] == expected
    assert request["source"] == "claude-hook"
    extra = ["--reason", "not on my machine"] if verdict == "deny" else []
    assert run_cli(verdict, request["id"], *extra).returncode == 0


def test_claude_under_expacti_run_is_gated_once_per_command(
    broker, run_cli, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    project, home = tmp_path / "project", tmp_path / "home"
    (project / "victim").mkdir(parents=True)
    home.mkdir()
    assert run_cli("whitelist", "add", "ls").returncode == 0
    with StandIn(["ls", "touch made.txt", "rm -rf victim"]) as model:
        argv = ["-m", "expacti_cli", "run", "--no-split", "--"]
        argv += [str(CLAUDE), "-p", "do the task", "--allowedTools", "Bash"]
        env = claude_env(model, home, "/bin/bash")
        env.pop("TMUX", None)
        child = pexpect.spawn(
            sys.executable, argv, env=env, cwd=str(project), timeout=90, dimensions=(40, 120)
        )
        try:
            _decide(broker, run_cli, child, "touch made.txt", "approve")
            _decide(broker, run_cli, child, "rm -rf victim", "deny")
            child.expect(pexpect.EOF)
            child.close()
        finally:
            if child.isalive():
                child.terminate(force=True)
    assert child.exitstatus == 0, child.before
    assert (project / "made.txt").exists()
    assert (project / "victim").is_dir()
    assert "victim" in model.tool_results[0]  # the whitelisted ls ran
    assert "not on my machine" in model.tool_results[2]
    records = broker.audit_records("decision")
    gated = [
        (r["command"], r["source"], r["decision"])
        for r in records
        if r.get("rule_id") != "agent-plumbing"
    ]
    # Each command: the hook's decision, then the shim's (from the rule, or carried over
    # from the reviewer's approval); the denied one never reaches the shell.
    assert gated == [
        ("ls", "claude-hook", "auto_approved_rule"),
        ("ls", "shim", "auto_approved_rule"),
        ("touch made.txt", "claude-hook", "approved"),
        ("touch made.txt", "shim", "approved"),
        ("rm -rf victim", "claude-hook", "denied"),
    ]
    session = {r.get("session") for r in records if r["source"] in ("shim", "claude-hook")}
    assert len(session) == 1 and None not in session  # all in the run's session
