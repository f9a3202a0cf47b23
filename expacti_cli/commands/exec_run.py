"""The work of `expacti exec`, without click: gate one command, then run it as approved.

`commands/exec_cmd.py` is the click command; `fast_main` lets an entry point serve the plain
form `expacti exec -- COMMAND...` without importing click at all (it is on an agent's hot
path). Both end up in `gate_and_run`, so there is one behaviour.
"""

from __future__ import annotations

import os
import shlex
import signal
import sys

from expacti_cli.shim import decide, wire

TYPE_CHECKING = False  # typing costs milliseconds on this hot path; annotations are strings
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

NOT_EXECUTED = 126  # errors.ExitStatus.NOT_EXECUTED (kept literal: errors imports enum)
COMMAND_NOT_FOUND = 127
INTERRUPTED = 130


class NotRun(Exception):
    """The command did not run (denied, timed out, no broker...); the message says why."""


class Gated:
    """The command as submitted, and how it will be run if allowed."""

    __slots__ = ("argv", "cwd", "text")

    def __init__(self, text: str, argv: list[str], cwd: str) -> None:
        self.text = text  # what is scored, shown, audited and hashed
        self.argv = argv  # what is executed: exactly `text`, with no second interpretation
        self.cwd = cwd


def gated_command(words: tuple[str, ...] | list[str]) -> Gated:
    """One word is a shell command line (run with `bash -c`); several are an argv."""
    cwd = os.getcwd()
    if len(words) == 1:
        return Gated(words[0], ["bash", "-c", words[0]], cwd)
    # shlex.join quotes every word, so bash would read the text back as exactly this argv.
    return Gated(shlex.join(words), list(words), cwd)


def _show(text: object) -> str:
    from expacti_cli.ui.escape import escape_for_display

    return escape_for_display(str(text or ""))


class Reporter:
    """expacti's own messages on stderr (stdout belongs to the command): text or JSON lines."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json

    def say(self, event: str, text: str, **fields: Any) -> None:
        if self.as_json:
            import json

            text = json.dumps({"event": event, **fields}, sort_keys=True)
        if text:
            sys.stderr.write(text + "\n")
            sys.stderr.flush()


def _waiting(say: Reporter) -> Callable[[dict[str, Any]], None]:
    """What to print when the broker says the command waits for a human."""

    def on_queued(queued: dict[str, Any]) -> None:
        request = queued["request"]
        level, score = request.get("level", "?"), request.get("score", "?")
        short = str(request.get("id", ""))[:8]
        hint = (
            "run `expacti approve` in another terminal"
            if queued.get("reviewers")
            else "run `expacti approve` in another terminal (no reviewer is connected yet)"
        )
        say.say(
            "waiting",
            f"expacti: waiting for approval ({level} {score}) — {hint} [request {short}]",
            request=request,
        )

    return on_queued


def _run(argv: list[str], session: str) -> int:
    """Run the approved command in the foreground and return its exit status."""
    # Commands it gates in turn are recorded under the same session.
    env = {**os.environ, "EXPACTI_SESSION": session}
    try:
        # Python ignores SIGPIPE and SIGXFSZ; like subprocess's restore_signals, the command
        # gets the defaults back (`yes | head` must end `yes`).
        pid = os.posix_spawnp(argv[0], argv, env, setsigdef=(signal.SIGPIPE, signal.SIGXFSZ))
    except FileNotFoundError:
        sys.stderr.write(f"expacti: {_show(argv[0])}: command not found\n")
        return COMMAND_NOT_FOUND
    except OSError as exc:
        sys.stderr.write(f"expacti: {_show(argv[0])}: {exc.strerror}\n")
        return NOT_EXECUTED

    # Like a shell: Ctrl-C goes to the foreground child (same process group); we wait for it.
    # TERM and HUP sent to us alone are passed on, so the command does not outlive its gate.
    def forward(signum: int, frame: object) -> None:
        os.kill(pid, signum)

    previous = {
        signal.SIGINT: signal.signal(signal.SIGINT, signal.SIG_IGN),
        signal.SIGTERM: signal.signal(signal.SIGTERM, forward),
        signal.SIGHUP: signal.signal(signal.SIGHUP, forward),
    }
    try:
        while True:
            try:
                _, status = os.waitpid(pid, 0)
                break
            except InterruptedError:  # pragma: no cover - PEP 475 retries; kept for clarity
                continue
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code


def record_exit(conn: wire.Connection, request_id: str, code: int, session: str) -> None:
    """Tell the broker how the command ended (it writes the record; we do not wait for the
    fsync). If the broker is gone, write the record ourselves."""
    try:
        conn.send({"op": "exit", "id": request_id, "exit_code": code, "session": session})
        return
    except wire.WireError:
        pass
    from expacti_cli.errors import ExpactiError

    try:
        from expacti_cli.store.audit import AuditLog

        AuditLog.open().record_exit(request_id, code, session=session)
    except ExpactiError as exc:
        sys.stderr.write(f"expacti: warning: exit code not recorded: {exc}\n")


def gate_and_run(
    words: tuple[str, ...] | list[str],
    *,
    context: str = "",
    timeout: int | None = None,
    as_json: bool = False,
) -> int:
    """Submit the command, wait for the decision, run it if allowed; return the exit status.

    Raises NotRun when nothing ran (the caller reports it and exits 126)."""
    say = Reporter(as_json)
    gated = gated_command(words)
    session = os.environ.get("EXPACTI_SESSION", "").strip() or os.urandom(4).hex()
    # The same submit-and-verify path as the shim and the hooks; the connection stays open
    # while the command runs, so its process tree counts as a gated session.
    verdict = decide.submit(
        gated.text,
        cwd=gated.cwd,
        session=session,
        source="exec",
        context=context,
        ttl=timeout,
        on_queued=_waiting(say),
        keep_open=True,
    )
    answer = verdict.answer
    if not verdict.allowed:
        if verdict.decision == "error":
            raise NotRun(verdict.reason)
        what = "timed out" if verdict.decision == "timed_out" else "denied"
        say.say("denied", f"expacti: {what}: {_show(verdict.reason)}", decision=answer)
        return NOT_EXECUTED
    conn = verdict.connection
    try:
        if verdict.decision == "approved":
            waited = (answer.get("waited_ms") or 0) / 1000
            who = _show(answer.get("reviewer"))
            say.say("approved", f"✓ approved by {who} after {waited:.1f} s", decision=answer)
        elif verdict.decision == "timed_out":
            say.say("approved", f"expacti: warning: {_show(verdict.reason)}", decision=answer)
        else:
            say.say("approved", "", decision=answer)
        code = _run(gated.argv, session)
        if conn is not None:
            record_exit(conn, verdict.request_id, code, session)
    finally:
        if conn is not None:
            conn.close()
    return code


def fast_main(argv: list[str]) -> int | None:
    """`expacti exec -- WORD...` without click; None for any other form (use the full CLI).

    `argv` is what follows `exec`. Only the plain form is served here, so options, help and
    usage errors all stay with the click command."""
    if len(argv) < 2 or argv[0] != "--":
        return None
    try:
        return gate_and_run(argv[1:])
    except NotRun as exc:
        sys.stderr.write(f"expacti: error: {exc}\n")
        return NOT_EXECUTED
    except KeyboardInterrupt:
        sys.stderr.write("expacti: interrupted\n")
        return INTERRUPTED
