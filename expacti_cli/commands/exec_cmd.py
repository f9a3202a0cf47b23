"""`expacti exec -- COMMAND...`: gate one command through the broker, then run it as approved."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

import click

from expacti_cli.broker import client, gate, protocol
from expacti_cli.errors import ExitStatus, ExpactiError

COMMAND_NOT_FOUND = 127
# How long past its time to live the client waits before it stops trusting the broker.
_GRACE = 15.0
_FIRST_ANSWER = 30.0  # scoring and one audit write: far less, unless the broker is stuck

EPILOG = f"""\b
Exit status:
  N      the command ran and exited with N (0-255)
  128+N  the command was killed by signal N
  {int(ExitStatus.NOT_EXECUTED)}    nothing ran: denied by a rule or a reviewer, timed out, the broker
         was unreachable or went away, or the decision could not be audited
         (also: the approved command exists but cannot be executed)
  {COMMAND_NOT_FOUND}    the command was approved but not found
  {int(ExitStatus.INTERRUPTED)}    interrupted while waiting (the request is withdrawn, nothing ran)
  {int(ExitStatus.USAGE)}      bad usage of `expacti exec` itself
"""


class NotRun(ExpactiError):
    """The command did not run (denied, timed out, no broker...)."""

    exit_code = ExitStatus.NOT_EXECUTED


@dataclass(frozen=True)
class Gated:
    """The command as submitted, and how it will be run if allowed."""

    text: str  # what is scored, shown, audited and hashed
    argv: list[str]  # what is executed: exactly `text`, with no second interpretation
    cwd: str


def gated_command(words: tuple[str, ...]) -> Gated:
    """One word is a shell command line (run with `bash -c`); several are an argv."""
    cwd = os.getcwd()
    if len(words) == 1:
        return Gated(words[0], ["bash", "-c", words[0]], cwd)
    # shlex.join quotes every word, so bash would read the text back as exactly this argv.
    return Gated(shlex.join(words), list(words), cwd)


def _check_timeout(ctx: click.Context, param: click.Parameter, value: int | None) -> int | None:
    if value is None:
        return None
    low = gate.min_timeout()
    if not low <= value <= gate.MAX_TIMEOUT:
        raise click.BadParameter(f"must be from {low} to {gate.MAX_TIMEOUT} seconds")
    return value


class Reporter:
    """expacti's own messages on stderr (stdout belongs to the command): text or JSON lines."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json

    def say(self, event: str, text: str, **fields: Any) -> None:
        if self.as_json:
            click.echo(json.dumps({"event": event, **fields}, sort_keys=True), err=True)
        elif text:
            click.echo(text, err=True)


def _show(text: object) -> str:
    from expacti_cli.ui.escape import escape_for_display

    return escape_for_display(str(text or ""))


def _wait_for_decision(conn: client.Connection, say: Reporter) -> dict[str, Any]:
    # The first answer (a decision, or `queued`) comes once the broker has scored the command;
    # after `queued` we wait as long as the broker said the request lives.
    deadline = time.monotonic() + _FIRST_ANSWER
    while True:
        try:
            message = conn.receive(timeout=max(0.1, deadline - time.monotonic()))
        except TimeoutError:
            raise NotRun("no answer from the broker in time; nothing ran") from None
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
            ttl = ttl if isinstance(ttl, int | float) else gate.MAX_TIMEOUT
            deadline = time.monotonic() + min(float(ttl), gate.MAX_TIMEOUT) + _GRACE
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
        child = subprocess.Popen(argv, env=env)
    except FileNotFoundError:
        click.echo(f"expacti: {_show(argv[0])}: command not found", err=True)
        return COMMAND_NOT_FOUND
    except OSError as exc:
        click.echo(f"expacti: {_show(argv[0])}: {exc.strerror}", err=True)
        return int(ExitStatus.NOT_EXECUTED)

    # Like a shell: Ctrl-C goes to the foreground child (same process group); we wait for it.
    # TERM and HUP sent to us alone are passed on, so the command does not outlive its gate.
    def forward(signum: int, frame: object) -> None:
        child.send_signal(signum)

    previous = {
        signal.SIGINT: signal.signal(signal.SIGINT, signal.SIG_IGN),
        signal.SIGTERM: signal.signal(signal.SIGTERM, forward),
        signal.SIGHUP: signal.signal(signal.SIGHUP, forward),
    }
    try:
        code = child.wait()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return 128 - code if code < 0 else code


def _record_exit(conn: client.Connection, request_id: str, code: int, session: str) -> None:
    """Tell the broker how the command ended (it writes the record; we do not wait for the
    fsync). If the broker is gone, write the record ourselves."""
    try:
        conn.send({"op": "exit", "id": request_id, "exit_code": code, "session": session})
        return
    except ExpactiError:
        pass
    try:
        from expacti_cli.store.audit import AuditLog

        AuditLog.open().record_exit(request_id, code, session=session)
    except ExpactiError as exc:
        click.echo(f"expacti: warning: exit code not recorded: {exc}", err=True)


@click.command(
    "exec",
    epilog=EPILOG,
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
)
@click.option("--context", default="", help="Why the command is needed (shown to the reviewer).")
@click.option(
    "--timeout",
    type=int,
    callback=_check_timeout,
    help="Seconds to wait for a decision (30-600; default: config approval_timeout).",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Write expacti's own messages as JSON lines on stderr."
)
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
@click.pass_context
def exec_command(
    ctx: click.Context, context: str, timeout: int | None, as_json: bool, command: tuple[str, ...]
) -> None:
    """Gate COMMAND: run it only once a rule, the threshold or a human allows it.

    Several words after `--` are run as that argv, without a shell. A single word is a shell
    command line and runs with `bash -c`, so quote the whole line to use pipes, `&&` or
    redirects. Either way, what the reviewer sees is exactly what runs, in this directory.

    Whitelisted (and, with auto_approve_below, low-risk) commands run at once. Others wait
    for `expacti approve` in another terminal, up to the timeout; a denied or timed-out
    command never runs and the reason goes to stderr. The decision and the exit code are
    recorded in the audit log.

    \b
    Examples:
      expacti exec -- npm test
      expacti exec --context "clean up old sessions" -- psql -c "DELETE FROM sessions"
      expacti exec -- 'git status && git diff --stat'
      expacti exec --timeout 120 --json -- terraform apply
    """
    say = Reporter(as_json)
    gated = gated_command(command)
    session = os.environ.get("EXPACTI_SESSION", "").strip() or os.urandom(4).hex()
    try:
        conn = client.connect()
    except client.BrokerUnavailable as exc:
        raise NotRun(f"{exc}; nothing ran") from None
    with conn:
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
        except client.BrokerUnavailable as exc:
            raise NotRun(f"{exc}; nothing ran") from None
        answer = _wait_for_decision(conn, say)
        decision = str(answer.get("decision"))
        if not answer.get("allowed"):
            what = "timed out" if decision == "timed_out" else "denied"
            say.say("denied", f"expacti: {what}: {_show(answer.get('reason'))}", decision=answer)
            ctx.exit(int(ExitStatus.NOT_EXECUTED))
        if answer.get("command_hash") != protocol.command_hash(gated.text, gated.cwd):
            raise NotRun("the broker approved a different command or directory; nothing ran")
        if decision == "approved":
            waited = (answer.get("waited_ms") or 0) / 1000
            say.say(
                "approved",
                f"✓ approved by {_show(answer.get('reviewer'))} after {waited:.1f} s",
                decision=answer,
            )
        elif decision == "timed_out":
            say.say("approved", f"expacti: warning: {_show(answer.get('reason'))}", decision=answer)
        else:
            say.say("approved", "", decision=answer)
        sys.stderr.flush()
        code = _run(gated.argv, session)
        _record_exit(conn, str(answer.get("id")), code, session)
    ctx.exit(code)
