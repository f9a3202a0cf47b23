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
import time

from expacti_cli.shim import wire

TYPE_CHECKING = False  # typing costs milliseconds on this hot path; annotations are strings
if TYPE_CHECKING:
    from typing import Any

NOT_EXECUTED = 126  # errors.ExitStatus.NOT_EXECUTED (kept literal: errors imports enum)
COMMAND_NOT_FOUND = 127
INTERRUPTED = 130
# How long past its time to live the client waits before it stops trusting the broker.
_GRACE = 15.0
_MAX_TIMEOUT = 600  # broker.protocol.MAX_TIMEOUT (tests check they agree)
_FIRST_ANSWER = 30.0  # scoring and one audit write: far less, unless the broker is stuck


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


def _wait_for_decision(conn: wire.Connection, say: Reporter) -> dict[str, Any]:
    # The first answer (a decision, or `queued`) comes once the broker has scored the command;
    # after `queued` we wait as long as the broker said the request lives.
    deadline = time.monotonic() + _FIRST_ANSWER
    while True:
        try:
            message = conn.receive(timeout=max(0.1, deadline - time.monotonic()))
        except TimeoutError:
            raise NotRun("no answer from the broker in time; nothing ran") from None
        except wire.WireError as exc:
            raise NotRun(f"{exc}; nothing ran") from None
        if message is None:
            raise NotRun("lost the connection to the broker before a decision; nothing ran")
        op = message.get("op")
        if op == "decision":
            return message
        if op == "error":
            raise NotRun(f"the broker refused the request: {_show(message.get('error'))}")
        if op == "queued":
            request = message.get("request") or {}
            ttl = request.get("ttl")
            ttl = ttl if isinstance(ttl, int | float) else _MAX_TIMEOUT
            deadline = time.monotonic() + min(float(ttl), _MAX_TIMEOUT) + _GRACE
            level, score = request.get("level", "?"), request.get("score", "?")
            short = str(request.get("id", ""))[:8]
            hint = (
                "run `expacti approve` in another terminal"
                if message.get("reviewers")
                else "run `expacti approve` in another terminal (no reviewer is connected yet)"
            )
            say.say(
                "waiting",
                f"expacti: waiting for approval ({level} {score}) — {hint} [request {short}]",
                request=request,
            )


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


def _record_exit(conn: wire.Connection, request_id: str, code: int, session: str) -> None:
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
    try:
        conn = wire.connect()
    except wire.WireError as exc:
        raise NotRun(f"{exc}; nothing ran") from None
    try:
        request: dict[str, Any] = {
            "op": "submit",
            "command": gated.text,
            "cwd": gated.cwd,
            "session": session,
            "source": "exec",
            "context": context,
        }
        if timeout is not None:
            request["ttl"] = timeout
        try:
            conn.send(request)
        except wire.WireError as exc:
            raise NotRun(f"{exc}; nothing ran") from None
        answer = _wait_for_decision(conn, say)
        decision = str(answer.get("decision"))
        if not answer.get("allowed"):
            what = "timed out" if decision == "timed_out" else "denied"
            say.say("denied", f"expacti: {what}: {_show(answer.get('reason'))}", decision=answer)
            return NOT_EXECUTED
        if answer.get("command_hash") != wire.command_hash(gated.text, gated.cwd):
            raise NotRun("the broker approved a different command or directory; nothing ran")
        if decision == "approved":
            waited = (answer.get("waited_ms") or 0) / 1000
            who = _show(answer.get("reviewer"))
            say.say("approved", f"✓ approved by {who} after {waited:.1f} s", decision=answer)
        elif decision == "timed_out":
            say.say("approved", f"expacti: warning: {_show(answer.get('reason'))}", decision=answer)
        else:
            say.say("approved", "", decision=answer)
        code = _run(gated.argv, session)
        _record_exit(conn, str(answer.get("id")), code, session)
    finally:
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
