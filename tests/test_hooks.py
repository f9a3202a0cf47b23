"""Agent hooks: each agent's JSON in, the broker's decision, the agent's format out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from expacti_cli.integrations.agents import HookRequest, answer, read_request

pytest_plugins = ("broker_support",)


def claude_input(command: str, tool: str = "Bash", cwd: str = "/tmp") -> str:
    return json.dumps(
        {
            "session_id": "s-123",
            "cwd": cwd,
            "hook_event_name": "PreToolUse",
            "tool_name": tool,
            "tool_input": {"command": command, "description": "list files"},
            "permission_mode": "default",
        }
    )


def cursor_input(command: str, cwd: str = "/tmp") -> str:
    return json.dumps(
        {
            "hook_event_name": "beforeShellExecution",
            "conversation_id": "c-9",
            "generation_id": "g-1",
            "workspace_roots": [cwd],
            "command": command,
            "cwd": cwd,
        }
    )


# --- reading and answering (pure) ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("agent", "raw", "expected"),
    [
        ("claude", claude_input("ls"), HookRequest("ls", "/tmp", "claude:s-123", "list files")),
        ("codex", claude_input("ls"), HookRequest("ls", "/tmp", "codex:s-123", "list files")),
        ("claude", claude_input("x", tool="Read"), HookRequest(None)),
        ("codex", claude_input("x", tool="apply_patch"), HookRequest(None)),
        ("cursor", cursor_input("ls"), HookRequest("ls", "/tmp", "cursor:c-9", "")),
        ("cursor", json.dumps({"hook_event_name": "afterFileEdit"}), HookRequest(None)),
        ("claude", "not json", HookRequest(None, problem="the hook input is not a JSON object")),
        ("cursor", "[1, 2]", HookRequest(None, problem="the hook input is not a JSON object")),
        (
            "claude",
            json.dumps({"tool_name": "Bash", "tool_input": {"command": 5}}),
            HookRequest(None, problem="the hook input has no command string"),
        ),
        (
            "cursor",
            json.dumps({"command": "   "}),
            HookRequest(None, problem="the hook input has no command string"),
        ),
    ],
)
def test_read_request(agent: str, raw: str, expected: HookRequest) -> None:
    assert read_request(agent, raw) == expected


def test_answers_in_each_agents_format() -> None:
    allow = json.loads(answer("claude", True, "fine").stdout)["hookSpecificOutput"]
    deny = json.loads(answer("claude", False, "no").stdout)["hookSpecificOutput"]
    assert (allow["hookEventName"], allow["permissionDecision"]) == ("PreToolUse", "allow")
    assert (deny["permissionDecision"], deny["permissionDecisionReason"]) == ("deny", "expacti: no")
    assert answer("claude", True, "x").exit_code == answer("claude", False, "x").exit_code == 0
    assert answer("claude", None, "").stdout == ""
    codex_deny = answer("codex", False, "no")
    assert (codex_deny.exit_code, codex_deny.stdout, codex_deny.stderr) == (2, "", "expacti: no\n")
    assert (answer("codex", True, "ok").exit_code, answer("codex", True, "ok").stderr) == (0, "")
    cursor = json.loads(answer("cursor", False, "no").stdout)
    assert cursor["permission"] == "deny" and cursor["agent_message"] == "expacti: no"
    assert json.loads(answer("cursor", True, "ok").stdout)["permission"] == "allow"


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["claude", "codex", "cursor"]), st.text(max_size=200))
def test_reading_any_input_never_raises(agent: str, raw: str) -> None:
    request = read_request(agent, raw)
    assert request.command is None or isinstance(request.command, str)


# --- real hook processes against a real broker ------------------------------------------------


@pytest.fixture
def hook(broker_env: Path) -> Iterator[Callable[..., subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []

    def run(agent: str, raw: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [sys.executable, "-m", "expacti_cli", "hook", agent],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=dict(os.environ, **(env or {})),
        )
        assert proc.stdin is not None
        proc.stdin.write(raw)
        proc.stdin.close()
        proc.stdin = None  # communicate() must not touch the closed pipe
        started.append(proc)
        return proc

    yield run
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


def result(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=30)
    return proc.returncode, out, err


def decision_of(stdout: str) -> tuple[str, str]:
    body = json.loads(stdout)["hookSpecificOutput"]
    return body["permissionDecision"], body["permissionDecisionReason"]


def test_claude_hook_allows_a_whitelisted_command(broker, run_cli, hook) -> None:  # type: ignore[no-untyped-def]
    assert run_cli("whitelist", "add", "ls -la").returncode == 0
    code, out, _ = result(hook("claude", claude_input("ls -la")))
    assert code == 0 and decision_of(out)[0] == "allow"
    [record] = broker.audit_records("decision")
    assert (record["source"], record["session"], record["cwd"]) == (
        "claude-hook",
        "claude:s-123",
        "/tmp",
    )


def test_claude_hook_waits_for_a_human_and_denies_with_the_reason(broker, run_cli, hook) -> None:  # type: ignore[no-untyped-def]
    proc = hook("claude", claude_input("rm -rf build"))
    [request] = broker.wait_pending()
    assert (request["command"], request["context"]) == ("rm -rf build", "list files")
    assert run_cli("deny", request["id"], "--reason", "keep the build").returncode == 0
    code, out, _ = result(proc)
    verdict, reason = decision_of(out)
    assert (code, verdict) == (0, "deny") and "keep the build" in reason


def test_claude_hook_approved_by_a_human(broker, run_cli, hook) -> None:  # type: ignore[no-untyped-def]
    proc = hook("claude", claude_input("rm -rf build"))
    [request] = broker.wait_pending()
    assert run_cli("approve", request["id"]).returncode == 0
    assert decision_of(result(proc)[1])[0] == "allow"


def test_claude_hook_has_no_opinion_on_other_tools(broker, hook) -> None:  # type: ignore[no-untyped-def]
    assert result(hook("claude", claude_input("x", tool="Edit"))) == (0, "", "")
    assert broker.audit_records("decision") == []


def test_codex_hook_blocks_with_exit_2_and_allows_with_0(broker, run_cli, hook) -> None:  # type: ignore[no-untyped-def]
    assert run_cli("whitelist", "add", "git status").returncode == 0
    assert result(hook("codex", claude_input("git status"))) == (0, "", "")
    proc = hook("codex", claude_input("git push --force"))
    [request] = broker.wait_pending()
    assert run_cli("deny", request["id"], "--reason", "no force pushes").returncode == 0
    code, out, err = result(proc)
    assert (code, out) == (2, "") and "no force pushes" in err


def test_cursor_hook_answers_permission_json(broker, run_cli, hook) -> None:  # type: ignore[no-untyped-def]
    assert run_cli("whitelist", "add", "npm test").returncode == 0
    code, out, _ = result(hook("cursor", cursor_input("npm test")))
    assert code == 0 and json.loads(out)["permission"] == "allow"
    proc = hook("cursor", cursor_input("npm publish"))
    [request] = broker.wait_pending()
    assert run_cli("deny", request["id"]).returncode == 0
    body = json.loads(result(proc)[1])
    assert body["permission"] == "deny" and body["user_message"].startswith("expacti: denied")


@pytest.mark.parametrize("agent", ["claude", "codex", "cursor"])
def test_hooks_fail_closed_without_a_broker(agent: str, hook, tmp_path) -> None:  # type: ignore[no-untyped-def]
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    raw = cursor_input("ls") if agent == "cursor" else claude_input("ls")
    code, out, err = result(hook(agent, raw, env={"EXPACTI_HOME": str(blocker)}))
    if agent == "claude":
        assert code == 0 and decision_of(out)[0] == "deny"
    elif agent == "codex":
        assert code == 2 and "nothing ran" in err
    else:
        assert code == 0 and json.loads(out)["permission"] == "deny"


@pytest.mark.parametrize("agent", ["claude", "codex", "cursor"])
def test_hooks_deny_garbage_input(agent: str, hook) -> None:  # type: ignore[no-untyped-def]
    code, out, err = result(hook(agent, "{not json"))
    assert "not a JSON object" in out + err
    assert code == (2 if agent == "codex" else 0)
    if agent == "claude":
        assert decision_of(out)[0] == "deny"
