"""`expacti shell ARGS...`: bash through the gate (the same program as `expacti-sh`)."""

from __future__ import annotations

import sys

import click


@click.command(
    "shell",
    context_settings={
        "ignore_unknown_options": True,
        "allow_interspersed_args": False,
    },
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def shell(ctx: click.Context, args: tuple[str, ...]) -> None:
    """Behave like bash, but gate every `-c` command through the broker first.

    Arguments are bash's own (`-c CMD`, `-lc CMD`, `-c -l CMD`, `$0 $1 ...`). Once the
    broker allows the command, the real shell ($EXPACTI_REAL_SHELL, default /bin/bash) runs
    it with exactly these arguments, so output and exit status are the command's own. A
    denied command never starts: the reason goes to stderr and the exit status is 126.

    A script file or commands piped in are gated as the invocation itself (`bash x.sh`). An
    interactive shell is not gated here: `expacti run` gates typed commands. Claude Code's
    shell plumbing is recognised exactly: its per-call wrapper is gated as the command it
    evals; its snapshot call and `bash -c env` pass and are audited as agent plumbing.

    `expacti-sh` is the same program as a standalone command (there `-h` is bash's hashall
    flag, here it shows this help): point an agent's SHELL at a file named `bash` that runs
    it (Claude Code only uses SHELL when its path contains "bash").

    \b
    Examples:
      expacti shell -c 'npm test'
      expacti shell -lc 'git status && git diff --stat'
      SHELL=/path/to/shims/bash claude

    \b
    Environment:
      EXPACTI_REAL_SHELL  the shell to run once allowed (absolute; default /bin/bash)
      EXPACTI_SESSION     session name shown to the reviewer and in the audit log
      EXPACTI_CONTEXT     why the agent runs commands (shown to the reviewer)
    """
    from expacti_cli.shim.main import run

    ctx.exit(run([sys.argv[0] if sys.argv else "expacti", *args]))
