"""`expacti run -- PROGRAM ARGS...`: run an agent (or a shell) in a PTY whose commands are gated."""

from __future__ import annotations

import contextlib
import os
import secrets
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from expacti_cli.errors import ExpactiError

COMMAND_NOT_FOUND = 127
CANNOT_EXECUTE = 126

EPILOG = """\b
Exit status:
  N      the program exited with N
  128+N  the program was killed by signal N
  126    the program could not be executed
  127    the program was not found
  2      bad usage of `expacti run` itself

\b
Environment given to the program:
  EXPACTI_SESSION  this session's id (gated commands are grouped by it)
  EXPACTI_CONTEXT  the --context text
"""


class CannotRun(ExpactiError):
    """The program could not be started."""


def _shown(text: str) -> str:
    from expacti_cli.ui.escape import escape_for_display

    return escape_for_display(text)


def _approve_command() -> list[str]:
    """How to start the reviewer from another process: this very installation."""
    return [sys.executable, "-m", "expacti_cli", "approve"]


def _broker_session(session: str, name: str, context: str, program: str) -> Any | None:
    """Connect to the broker (starting it) and register the session when it knows how.

    Returns the open connection (kept for the session's life: while it is open, every
    process of the session counts as gated and cannot decide) and the reviewer count."""
    from expacti_cli.broker import client, protocol

    try:
        conn = client.connect()
    except client.BrokerUnavailable as exc:
        click.echo(f"expacti: warning: {exc}; gated commands will not run", err=True)
        return None
    if "session" in protocol.OPS:
        try:
            conn.call(
                {
                    "op": "session",
                    "session": session,
                    "name": name,
                    "context": context,
                    "program": program,
                    "pid": os.getpid(),
                }
            )
        except (client.BrokerRefused, client.BrokerUnavailable, TimeoutError) as exc:
            click.echo(f"expacti: warning: session not registered: {exc}", err=True)
    return conn


def _reviewers(conn: Any | None) -> int | None:
    """Reviewers connected now (None when unknown)."""
    if conn is None:
        return None
    try:
        answer = conn.call({"op": "status"}, timeout=5)
    except Exception:  # noqa: BLE001 - only decides whether to show a hint
        return None
    value = answer.get("reviewers")
    return value if isinstance(value, int) else None


def _open_split() -> str | None:
    """A tmux pane beside this one running the reviewer; its pane id (None if it failed)."""
    tmux = shutil.which("tmux")
    if tmux is None:
        return None
    env_args: list[str] = []
    for key in ("EXPACTI_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_RUNTIME_DIR"):
        if key in os.environ:
            env_args += ["-e", f"{key}={os.environ[key]}"]
    argv = [tmux, "split-window", "-d", "-h", "-l", "40%", "-P", "-F", "#{pane_id}"]
    argv += [*env_args, shlex.join(_approve_command())]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return None
    pane = done.stdout.strip()
    return pane if done.returncode == 0 and pane.startswith("%") else None


def _close_split(pane: str) -> None:
    tmux = shutil.which("tmux")
    if tmux:
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
            subprocess.run([tmux, "kill-pane", "-t", pane], capture_output=True, timeout=5)


@contextlib.contextmanager
def _recorder(path: Path | None, title: str, env: dict[str, str]) -> Iterator[Any]:
    if path is None:
        yield None
        return
    from expacti_cli.pty import terminal
    from expacti_cli.pty.asciicast import AsciicastWriter

    fd = sys.stdin.fileno() if os.isatty(sys.stdin.fileno()) else sys.stdout.fileno()
    rows, cols = terminal.get_size(fd)
    try:
        writer = AsciicastWriter(path, cols, rows, env, title)
    except OSError as exc:
        raise CannotRun(f"cannot record to {path}: {exc.strerror}") from None
    try:
        yield writer
    finally:
        writer.close()
        if writer.error is not None:
            click.echo(f"expacti: warning: recording incomplete: {writer.error}", err=True)


def child_environment(session: str, name: str, context: str) -> dict[str, str]:
    env = dict(os.environ)
    env["EXPACTI_SESSION"] = session
    env["EXPACTI_CONTEXT"] = context
    if name:
        env["EXPACTI_SESSION_NAME"] = name
    return env


@click.command(
    "run",
    epilog=EPILOG,
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
)
@click.option("--name", default="", help="A name for this session (shown to the reviewer).")
@click.option("--context", default="", help="What the session is for (shown to the reviewer).")
@click.option(
    "--record",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the session to FILE as an asciicast v2 recording.",
)
@click.option(
    "--no-split", is_flag=True, help="Inside tmux, do not open a pane running `expacti approve`."
)
@click.argument("program", nargs=-1, required=True, type=click.UNPROCESSED)
@click.pass_context
def run(
    ctx: click.Context,
    name: str,
    context: str,
    record: Path | None,
    no_split: bool,
    program: tuple[str, ...],
) -> None:
    """Run PROGRAM in a terminal of its own whose commands are gated.

    The program behaves as if run directly (colours, resize, Ctrl-C, full-screen
    programs, exit status). It gets EXPACTI_SESSION and EXPACTI_CONTEXT in its environment.
    An interactive bash gets a shell integration: each line typed at its prompt is sent to
    the approval broker on Enter, and runs only once allowed; a denied line is cleared and
    the reason printed.

    Inside tmux, when no reviewer is connected, a pane running `expacti approve` opens
    beside the program (closed again when the program ends); `--no-split` stops that.
    Elsewhere, run `expacti approve` in another terminal.

    \b
    Examples:
      expacti run -- bash
      expacti run --name refactor --context "rename the billing module" -- claude
      expacti run --record session.cast -- bash
      expacti run --no-split -- codex
    """
    from expacti_cli.pty.integration import launch_for
    from expacti_cli.pty.session import Streams, run_program

    session = secrets.token_hex(8)
    launch = launch_for(list(program), secrets.token_hex(8))
    env = child_environment(session, name, context)
    env.update(launch.env)

    conn = _broker_session(session, name, context, program[0])
    pane = None
    reviewers = _reviewers(conn)
    if not reviewers:
        if os.environ.get("TMUX") and not no_split:
            pane = _open_split()
        if pane is None:
            click.echo(
                "expacti: run `expacti approve` in another terminal to review commands "
                "of this session",
                err=True,
            )
    try:
        with _recorder(record, name or shlex.join(program), env) as writer:
            try:
                code = run_program(
                    launch.argv,
                    env,
                    Streams.standard(),
                    on_output=writer.output if writer else None,
                    on_resize=writer.resize if writer else None,
                )
            except FileNotFoundError:
                click.echo(f"expacti: {_shown(program[0])}: command not found", err=True)
                code = COMMAND_NOT_FOUND
            except PermissionError as exc:
                click.echo(f"expacti: {_shown(program[0])}: {exc.strerror}", err=True)
                code = CANNOT_EXECUTE
    finally:
        if pane is not None:
            _close_split(pane)
        if conn is not None:
            conn.close()
    ctx.exit(code)
