"""`expacti exec -- COMMAND...`: gate one command through the broker, then run it as approved.

The click command only parses and validates; the work is in exec_run.gate_and_run.
"""

from __future__ import annotations

import click

from expacti_cli.broker import gate
from expacti_cli.commands.exec_run import COMMAND_NOT_FOUND, NotRun, gate_and_run
from expacti_cli.errors import ExitStatus, ExpactiError

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


def _check_timeout(ctx: click.Context, param: click.Parameter, value: int | None) -> int | None:
    if value is None:
        return None
    low = gate.min_timeout()
    if not low <= value <= gate.MAX_TIMEOUT:
        raise click.BadParameter(f"must be from {low} to {gate.MAX_TIMEOUT} seconds")
    return value


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
    recorded in the audit log. The command sees EXPACTI_SESSION (the session it was
    recorded under), so commands it gates in turn join the same session.

    \b
    Examples:
      expacti exec -- npm test
      expacti exec --context "clean up old sessions" -- psql -c "DELETE FROM sessions"
      expacti exec -- 'git status && git diff --stat'
      expacti exec --timeout 120 --json -- terraform apply
    """
    try:
        code = gate_and_run(command, context=context, timeout=timeout, as_json=as_json)
    except NotRun as exc:
        raise ExpactiError(str(exc), exit_code=ExitStatus.NOT_EXECUTED) from None
    ctx.exit(code)
