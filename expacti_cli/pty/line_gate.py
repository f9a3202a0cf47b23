"""The gate a shell integration calls on Enter: `python -m expacti_cli.pty.line_gate LINE`.

Exit 0: the line may run exactly as given. Anything else: it must not (1 denied or timed out,
2 no broker or a refused request, 130 interrupted while waiting). The shell fails closed on any
non-zero status, so a crash here blocks the line rather than letting it through.

Kept small (no click, no rich): it runs on every Enter in a gated shell.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

ALLOWED, DENIED, ERROR, INTERRUPTED = 0, 1, 2, 130
_GRACE = 15.0  # seconds past the time to live before the broker is no longer trusted


def _say(text: str) -> None:
    # The shell's terminal is in readline's mode: end lines with CR LF ourselves.
    sys.stderr.write(text.replace("\n", "\r\n") + "\r\n")
    sys.stderr.flush()


def _shown(text: object) -> str:
    """Control characters from the broker (a reason quoting the command) as visible text."""
    out = []
    for ch in str(text or ""):
        code = ord(ch)
        if code < 0x20 or code == 0x7F or 0x80 <= code < 0xA0:
            out.append(f"\\x{code:02x}")
        else:
            out.append(ch)
    return "".join(out)


def is_blank(line: str) -> bool:
    """Nothing to run: empty, spaces, or only a comment."""
    stripped = line.strip()
    return not stripped or (stripped.startswith("#") and "\n" not in stripped)


def gate(line: str, *, cwd: str, session: str, context: str, source: str) -> int:
    if is_blank(line):
        return ALLOWED
    from expacti_cli.broker import client, protocol

    try:
        conn = client.connect()
    except client.BrokerUnavailable as exc:
        _say(f"expacti: {_shown(exc)}; the line did not run")
        return ERROR
    with conn:
        conn.send(
            {
                "op": "submit",
                "command": line,
                "cwd": cwd,
                "session": session,
                "source": source,
                "context": context,
            }
        )
        answer = _wait(conn)
    if answer is None:
        return ERROR
    if not answer.get("allowed"):
        what = "timed out" if answer.get("decision") == "timed_out" else "denied"
        _say(f"expacti: {what}: {_shown(answer.get('reason'))}")
        return DENIED
    if answer.get("command_hash") != protocol.command_hash(line, cwd):
        _say("expacti: the broker approved a different command or directory; the line did not run")
        return ERROR
    if answer.get("decision") == "approved":
        waited = (answer.get("waited_ms") or 0) / 1000
        _say(f"expacti: approved by {_shown(answer.get('reviewer'))} after {waited:.1f} s")
    return ALLOWED


def _wait(conn: Any) -> dict[str, Any] | None:
    deadline = time.monotonic() + 600 + _GRACE
    while True:
        try:
            message = conn.receive(timeout=max(0.1, deadline - time.monotonic()))
        except TimeoutError:
            _say("expacti: no answer from the broker in time; the line did not run")
            return None
        if message is None:
            _say("expacti: lost the connection to the broker; the line did not run")
            return None
        op = message.get("op")
        if op == "decision":
            return dict(message)
        if op == "error":
            _say(f"expacti: the broker refused the line: {_shown(message.get('error'))}")
            return None
        if op == "queued":
            request = message.get("request") or {}
            deadline = time.monotonic() + float(request.get("ttl") or 600) + _GRACE
            where = (
                ""
                if message.get("reviewers")
                else " (no reviewer connected: run `expacti approve`)"
            )
            _say(
                f"expacti: waiting for approval ({request.get('level', '?')} "
                f"{request.get('score', '?')}) [request {str(request.get('id', ''))[:8]}]{where}"
                " — Ctrl-C cancels"
            )


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        _say("usage: python -m expacti_cli.pty.line_gate LINE")
        return ERROR
    try:
        return gate(
            argv[0],
            cwd=os.getcwd(),
            session=os.environ.get("EXPACTI_SESSION", ""),
            context=os.environ.get("EXPACTI_CONTEXT", ""),
            source=os.environ.get("EXPACTI_GATE_SOURCE", "pty"),
        )
    except KeyboardInterrupt:
        _say("expacti: cancelled; the line did not run")
        return INTERRUPTED
    except Exception as exc:  # noqa: BLE001 - fail closed with a reason, never a traceback
        _say(f"expacti: cannot gate the line ({type(exc).__name__}: {_shown(exc)}); it did not run")
        return ERROR


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
