"""The gate a shell integration calls on Enter: `python -IS .../line_gate.py <<<"$LINE"`.

Exit 0: the line may run exactly as given. Anything else: it must not (1 denied or timed out,
2 no broker or a refused request, 130 interrupted while waiting). The shell fails closed on any
non-zero status, so a crash here blocks the line rather than letting it through.

It runs on every Enter in a gated shell, so it starts like the shell shim does: `-IS` (no
site-packages scan, no environment hooks) and only the shim's C-level broker client.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

ALLOWED, DENIED, ERROR, INTERRUPTED = 0, 1, 2, 130

# Set by the zsh and fish integrations when they call us from a key binding: the cursor is
# still at the end of the typed line, so the first message starts on a line of its own.
_at_line_end = [os.environ.get("EXPACTI_GATE_AT_LINE_END") == "1"]


def _say(text: str) -> None:
    # The terminal is in the line editor's mode: end lines with CR LF ourselves.
    lead = "\r\n" if _at_line_end[0] else ""
    _at_line_end[0] = False
    sys.stderr.write(lead + text.replace("\n", "\r\n") + "\r\n")
    sys.stderr.flush()


def shown(text: object) -> str:
    """Control characters (C0, DEL, C1) as visible `\\xNN` text: a reason or a command
    echoed to the terminal must not be able to drive it."""
    out = []
    for ch in str(text or ""):
        code = ord(ch)
        if code < 0x20 or code == 0x7F or 0x80 <= code < 0xA0:
            out.append(f"\\x{code:02x}")
        else:
            out.append(ch)
    return "".join(out)


def is_blank(line: str) -> bool:
    """Nothing to run: empty, whitespace, or a one-line comment."""
    stripped = line.strip()
    return not stripped or (stripped.startswith("#") and "\n" not in stripped)


def _on_queued(queued: dict[str, Any]) -> None:
    request = queued["request"]
    _say(
        f"expacti: waiting for approval ({shown(request.get('level', '?'))} "
        f"{shown(request.get('score', '?'))}) [request {shown(str(request.get('id', ''))[:8])}]"
        " — run `expacti approve` elsewhere; Ctrl-C cancels"
    )


def gate(line: str, *, cwd: str, session: str, context: str, source: str) -> int:
    if is_blank(line):
        return ALLOWED
    from expacti_cli.shim import decide

    verdict = decide.submit(
        line, cwd=cwd, session=session, source=source, context=context, on_queued=_on_queued
    )
    if verdict.allowed:
        if verdict.decision == "approved":
            _say(f"expacti: {shown(verdict.reason)}")
        # For the shell's output mark: `expacti run` reports the line's exit status with it.
        sys.stdout.write(verdict.request_id + "\n")
        return ALLOWED
    if verdict.decision == "error":
        _say(f"expacti: {shown(verdict.reason)}")
        return ERROR
    what = "timed out" if verdict.decision == "timed_out" else "denied"
    _say(f"expacti: {what}: {shown(verdict.reason)}")
    return DENIED


def read_line(argv: list[str]) -> str | None:
    """The line: the one argument, or stdin (a shell here-string: its one added newline is
    dropped). Undecodable bytes survive as surrogate escapes, as in argv."""
    if len(argv) == 1:
        return argv[0]
    if argv:
        return None
    data = sys.stdin.buffer.read()
    if data.endswith(b"\n"):
        data = data[:-1]
    return data.decode("utf-8", "surrogateescape")


def main(argv: list[str]) -> int:
    line = read_line(argv)
    if line is None:
        _say("usage: line_gate.py [LINE]   (without LINE: the line on stdin)")
        return ERROR
    try:
        return gate(
            line,
            cwd=os.getcwd(),
            session=os.environ.get("EXPACTI_SESSION", ""),
            context=os.environ.get("EXPACTI_CONTEXT", ""),
            source="pty",
        )
    except KeyboardInterrupt:
        _say("expacti: cancelled; the line did not run")
        return INTERRUPTED
    except Exception as exc:  # noqa: BLE001 - fail closed with a reason, never a traceback
        _say(f"expacti: cannot gate the line ({type(exc).__name__}: {shown(exc)}); it did not run")
        return ERROR


if __name__ == "__main__":
    # Run as a file with -I: the package root is not on sys.path by itself.
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    sys.exit(main(sys.argv[1:]))
