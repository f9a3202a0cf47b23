"""Run one agent hook: read its JSON, decide through the broker, answer in its format.

Fails closed: unreadable input, no broker, a lost connection or a bug all answer deny with
the reason, in the agent's own format (for Claude Code an error exit would let the command
through, so a deny must always be written).
"""

from __future__ import annotations

import os

from expacti_cli.integrations.agents import HookAnswer, answer, read_request
from expacti_cli.shim import decide


def source_name(agent: str) -> str:
    return f"{agent}-hook"


def run_hook(agent: str, raw_input: str) -> HookAnswer:
    """Decide about the command in `raw_input` and return the agent's answer."""
    try:
        request = read_request(agent, raw_input)
        if request.problem:
            return answer(agent, False, f"{request.problem}; denied")
        if request.command is None:
            return answer(agent, None, "")
        session = os.environ.get("EXPACTI_SESSION", "").strip() or request.session
        context = os.environ.get("EXPACTI_CONTEXT", "").strip() or request.context
        verdict = decide.submit(
            request.command,
            cwd=request.cwd or os.getcwd(),
            session=session,
            source=source_name(agent),
            context=context,
        )
        if verdict.allowed:
            return answer(agent, True, verdict.reason or "allowed")
        what = "timed out" if verdict.decision == "timed_out" else "denied"
        return answer(agent, False, f"{what}: {verdict.reason}")
    except Exception as exc:  # noqa: BLE001 - whatever broke, the command must not run
        return answer(agent, False, f"internal error ({type(exc).__name__}: {exc}); denied")
