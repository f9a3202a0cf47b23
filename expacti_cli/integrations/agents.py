"""What each agent's pre-tool-use hook receives and how it must answer (pure, no I/O).

Claude Code (design-notes §2): a `PreToolUse` hook gets JSON on stdin (`session_id`, `cwd`,
`tool_name`, `tool_input.command`, ...) and answers on stdout with
`{"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision": "allow"|"deny",
"permissionDecisionReason": ...}}`, exit 0. Exit 1 does NOT block, so errors must still
produce a deny answer.

Codex CLI (design-notes §2): the same input shape (`tool_name` "Bash", `tool_input.command`,
`cwd`, `session_id`); exit 2 with the reason on stderr blocks (the model reads "Command
blocked by PreToolUse hook: <stderr>"), exit 0 allows.

Cursor `beforeShellExecution`: input `{"hook_event_name": "beforeShellExecution", "command",
"cwd", "conversation_id", "generation_id", "workspace_roots", ...}`; output
`{"permission": "allow"|"deny"|"ask", "user_message", "agent_message"}`. Sources: Cursor's
hook docs (https://cursor.com/docs/agent/hooks) as mirrored by the `cursor-hooks` npm
package's type definitions (BeforeShellExecutionPayload / HookPermissionResponse, which
spell the messages `userMessage`/`agentMessage`) and hook scripts in the wild that use
`user_message`/`agent_message`; we write both spellings, unknown keys are ignored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

AGENTS = ("claude", "codex", "cursor")


@dataclass(frozen=True)
class HookRequest:
    """A command an agent is about to run, or `command=None` when the hook has no opinion
    (another tool). `problem` is set when the input could not be read: answer deny."""

    command: str | None
    cwd: str = ""
    session: str = ""
    context: str = ""
    problem: str = ""


@dataclass(frozen=True)
class HookAnswer:
    """What the hook process writes and how it exits."""

    stdout: str
    stderr: str
    exit_code: int


def _load(raw: str) -> dict[str, Any] | None:
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def read_request(agent: str, raw: str) -> HookRequest:
    """Parse the agent's stdin into a request."""
    data = _load(raw)
    if data is None:
        return HookRequest(None, problem="the hook input is not a JSON object")
    if agent == "cursor":
        event = data.get("hook_event_name")
        if event not in (None, "beforeShellExecution"):
            return HookRequest(None)  # registered for another event: no opinion
        command = data.get("command")
        session = _text(data.get("conversation_id"))
        context = ""
    else:
        if data.get("tool_name") != "Bash":
            return HookRequest(None)
        tool_input = data.get("tool_input")
        command = tool_input.get("command") if isinstance(tool_input, dict) else None
        session = _text(data.get("session_id"))
        context = _text(tool_input.get("description")) if isinstance(tool_input, dict) else ""
    if not isinstance(command, str) or not command.strip():
        return HookRequest(None, problem="the hook input has no command string")
    return HookRequest(
        command,
        cwd=_text(data.get("cwd")),
        session=f"{agent}:{session}" if session else "",
        context=context,
    )


def answer(agent: str, allowed: bool | None, reason: str) -> HookAnswer:
    """The agent-format answer. `allowed=None`: no opinion (the agent decides as usual)."""
    if allowed is None:
        if agent == "cursor":
            return HookAnswer(json.dumps({"permission": "allow"}) + "\n", "", 0)
        return HookAnswer("", "", 0)
    verdict = "allow" if allowed else "deny"
    message = f"expacti: {reason}" if reason else "expacti"
    if agent == "claude":
        body = {
            "hookSpecificOutput": {
                "hookEventName": "PreToolUse",
                "permissionDecision": verdict,
                "permissionDecisionReason": message,
            }
        }
        return HookAnswer(json.dumps(body) + "\n", "", 0)
    if agent == "codex":
        return HookAnswer("", "" if allowed else message + "\n", 0 if allowed else 2)
    if agent == "cursor":
        fields = {
            "permission": verdict,
            "user_message": message,
            "agent_message": message,
            "userMessage": message,
            "agentMessage": message,
        }
        return HookAnswer(json.dumps(fields) + "\n", "", 0)
    raise ValueError(f"unknown agent {agent!r} (known: {', '.join(AGENTS)})")
