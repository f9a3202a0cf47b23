"""`expacti run -- PROGRAM ARGS...`: run an agent (or a shell) in a PTY whose commands are gated."""

from __future__ import annotations

import contextlib
import os
import queue
import shlex
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from expacti_cli.errors import ExpactiError
from expacti_cli.pty.osc import ExitTracker

if TYPE_CHECKING:
    from expacti_cli.pty.proxy import Proxy

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
  EXPACTI_SESSION     this session's id (gated commands are grouped by it)
  EXPACTI_CONTEXT     the --context text
  SHELL               expacti's bash shim (also CLAUDE_CODE_SHELL)
  EXPACTI_REAL_SHELL  the bash the shim runs once a command is allowed
"""


class CannotRun(ExpactiError):
    """The program could not be started."""


def _chain(gates: list[Callable[[bytes], bytes]]) -> Callable[[bytes], bytes]:
    """Input gates one after the other: each gets what the one before forwarded."""

    def through(data: bytes) -> bytes:
        for gate in gates:
            if not data:
                break
            data = gate(data)
        return data

    return through


def _fan_out(taps: list[Callable[[bytes], None]]) -> Callable[[bytes], None] | None:
    if not taps:
        return None
    if len(taps) == 1:
        return taps[0]

    def each(data: bytes) -> None:
        for tap in taps:
            tap(data)

    return each


def _each(calls: list[Callable[..., None]]) -> Callable[..., None] | None:
    """One callable that calls each of `calls` with the same arguments."""
    if not calls:
        return None

    def every(*args: Any) -> None:
        for call in calls:
            call(*args)

    return every


def _deliver_to(desk: Any, watch: Any) -> Callable[[Proxy], None]:
    """Once the loop runs: the watch's events (from its threads) go to the loop's thread."""

    def start(proxy: Proxy) -> None:
        watch.start(lambda event: proxy.call_soon(lambda: desk.handle_event(event)))

    return start


class ExitReporter:
    """Sends `exit` for typed lines on the session's broker connection, off the proxy loop
    (a thread: the loop only queues), reading each answer so the socket never fills up."""

    def __init__(self, conn: Any, session: str) -> None:
        self.conn = conn
        self.session = session
        self._queue: queue.SimpleQueue[tuple[str, int] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._send, name="exits", daemon=True)
        self._thread.start()

    def report(self, request_id: str, status: int) -> None:
        self._queue.put((request_id, status))

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=5)

    def _send(self) -> None:
        from expacti_cli.broker import client

        while (item := self._queue.get()) is not None:
            request_id, status = item
            message = {"op": "exit", "id": request_id, "exit_code": status, "session": self.session}
            try:
                self.conn.call(message, timeout=5)
                continue
            except (client.BrokerRefused, client.BrokerUnavailable, TimeoutError):
                pass  # a broker that does not take it from us: write the record ourselves
            except Exception:  # noqa: BLE001 - an unrecorded exit code must not end the session
                continue
            self._record(request_id, status)

    def _record(self, request_id: str, status: int) -> None:
        try:
            from expacti_cli.store.audit import AuditLog

            AuditLog.open().record_exit(request_id, status, session=self.session)
        except Exception:  # noqa: BLE001 - best effort, like `expacti exec`'s fallback
            pass


def agent_argv(argv: list[str]) -> list[str]:
    """The program's argv with expacti's pre-tool-use hook added where the agent takes one
    on its command line (Claude Code: `--settings JSON`, merged with the user's settings).

    With the hook and the shim both active the hook decides first; the broker answers the
    shim's check of the same command from that decision, so a reviewer is asked once. A
    command line that already has --settings is left as it is (the shim still gates)."""
    if Path(argv[0]).name != "claude" or any(
        a == "--settings" or a.startswith("--settings=") for a in argv[1:]
    ):
        return argv
    try:
        from expacti_cli.integrations.settings import claude_settings_arg
    except ImportError:
        return argv
    return [argv[0], "--settings", claude_settings_arg(), *argv[1:]]


def _shown(text: str) -> str:
    from expacti_cli.ui.escape import escape_for_display

    return escape_for_display(text)


def _approve_command() -> list[str]:
    """How to start the reviewer from another process: this very installation."""
    return [sys.executable, "-m", "expacti_cli", "approve"]


def _broker_session(
    session: str, name: str, context: str, program: str
) -> tuple[Any | None, int | None]:
    """Connect to the broker (starting it) and register the session.

    Returns the open connection, kept for the session's whole life (while it is open, every
    process below this one counts as gated and cannot approve anything), and how many
    reviewers are connected now (None when unknown)."""
    from expacti_cli.broker import client, protocol

    try:
        conn = client.connect()
    except client.BrokerUnavailable as exc:
        click.echo(f"expacti: warning: {exc}; gated commands will not run", err=True)
        return None, None
    request = {"session": session, "name": name, "context": context, "program": program}
    try:
        if "session" in protocol.OPS:
            answer = conn.call({"op": "session", **request}, timeout=10)
        else:
            answer = conn.call({"op": "status"}, timeout=10)
    except (client.BrokerRefused, client.BrokerUnavailable, TimeoutError) as exc:
        click.echo(f"expacti: warning: session not registered with the broker: {exc}", err=True)
        return conn, None
    reviewers = answer.get("reviewers")
    return conn, reviewers if isinstance(reviewers, int) else None


def _approval_ui() -> str:
    """Config `approval_ui`, read straight from the file: loading the whole config imports
    the scorer (~0.2 s), which `expacti run` does not otherwise need. Anything unusual is
    left to the full loader, for its error message."""
    import tomllib

    from expacti_cli import paths
    from expacti_cli.pty.overlay import APPROVAL_UIS

    try:
        with open(paths.config_file(), "rb") as fh:
            value = tomllib.load(fh).get("approval_ui", "auto")
    except FileNotFoundError:
        return "auto"
    except (OSError, tomllib.TOMLDecodeError):
        value = None
    if value in APPROVAL_UIS:
        return str(value)
    from expacti_cli.config import load_config

    return load_config().approval_ui


def _review_hint(ui: str, reviewers: int | None, interactive: bool) -> str | None:
    """The one line said at the start when no reviewer is connected (None: nothing to say)."""
    if reviewers:
        return None
    elsewhere = "run `expacti approve` in another terminal to review commands of this session"
    if ui == "inline" and interactive:
        return "expacti: commands of this session that need a decision will ask here"
    if ui == "auto" and interactive:
        return f"expacti: {elsewhere} (or answer here when one waits)"
    return f"expacti: {elsewhere}"


def _reviewer_name() -> str:
    from expacti_cli.commands.whitelist import rule_creator

    return rule_creator()


def _session_terminal(
    session: str, ui: str, split_opened: bool
) -> tuple[Any, Any] | tuple[None, None]:
    """The status row and inline overlay of this session, and the broker connection that
    feeds them; (None, None) when the terminal is not interactive or the broker cannot
    watch a session (an older broker: the session still works, without them)."""
    if not (os.isatty(sys.stdin.fileno()) and os.isatty(sys.stdout.fileno())):
        return None, None
    from expacti_cli.broker import client
    from expacti_cli.pty.overlay import SessionTerminal
    from expacti_cli.ui.overlay_link import SessionWatch

    watch = SessionWatch(session, client.connect, reviewer=_reviewer_name)
    try:
        first = watch.connect()
    except (ExpactiError, OSError):
        return None, None
    # The reviewer's name is filled in by the watch when a decision goes out (see there).
    desk = SessionTerminal(ui=ui, reviewer="", send=watch.send, split_opened=split_opened)
    desk.handle_event(first)
    return desk, watch


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


def _real_bash(shim: Path) -> str:
    """The bash the shim execs once a command is allowed: absolute, and not a shim."""
    for candidate in (os.environ.get("EXPACTI_REAL_SHELL", ""), shutil.which("bash") or ""):
        if (
            candidate
            and os.path.isabs(candidate)
            and os.path.realpath(candidate) != os.path.realpath(shim)
            and Path(candidate).name.startswith("bash")
        ):
            return candidate
    return "/bin/bash"


def shim_environment() -> dict[str, str]:
    """SHELL and CLAUDE_CODE_SHELL pointing at a shim named `bash` (agents run `$SHELL -c`),
    the real bash in EXPACTI_REAL_SHELL; empty, with a warning, when it cannot be set up.

    PATH is left alone: a `bash` first on PATH would also gate every `#!/usr/bin/env bash`
    script the tools of the session start, not only the agent's own commands."""
    try:
        from expacti_cli.broker import sockets
        from expacti_cli.shim.launcher import write_launcher
    except ImportError:
        return {}
    try:
        shim = write_launcher(sockets.runtime_dir() / "shims", "bash")
    except (OSError, ValueError) as exc:
        click.echo(f"expacti: warning: no shell shim ({exc}); $SHELL -c is not gated", err=True)
        return {}
    return {
        "SHELL": str(shim),
        "CLAUDE_CODE_SHELL": str(shim),
        "EXPACTI_REAL_SHELL": _real_bash(shim),
    }


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
    programs, exit status). It gets EXPACTI_SESSION and EXPACTI_CONTEXT in its environment,
    and SHELL points at expacti's bash shim, so an agent that runs `$SHELL -c COMMAND`
    (Claude Code does) has each command gated before the real bash runs it.
    An interactive bash, zsh or fish (started here, or later inside the session) gets a
    shell integration: each line typed at its prompt is sent to the approval broker on
    Enter, and runs only once allowed; a denied line is cleared and the reason printed.
    Lines typed at prompts without hooks (psql, mysql, sqlite3, python, sh, a shell over
    ssh) are read off the screen and gated the same way (config `prompt_detection`).

    Inside tmux, when no reviewer is connected, a pane running `expacti approve` opens
    beside the program (closed again when the program ends); `--no-split` stops that.
    Elsewhere, run `expacti approve` in another terminal.

    While a command of the session waits, the terminal's last row says so and keys typed
    meanwhile are held (Ctrl-C cancels the wait). With no reviewer connected the approval
    prompt itself opens over the program's screen: its keys (a approve, d deny, w approve
    and whitelist, ? details) go to expacti, never to the program, and the screen is put
    back as it was. Config `approval_ui`: auto (that), inline (always ask here), split
    (tmux pane only), external (neither: only `expacti approve` elsewhere).

    \b
    Examples:
      expacti run -- bash
      expacti run --name refactor --context "rename the billing module" -- claude
      expacti run --record session.cast -- bash
      expacti run --no-split -- codex
    """
    from expacti_cli.pty.integration import launch_for
    from expacti_cli.pty.session import Streams, run_program

    session = os.urandom(8).hex()
    nonce = os.urandom(8).hex()  # tells our shell marks from ones a program prints
    launch = launch_for(agent_argv(list(program)), nonce)
    env = child_environment(session, name, context)
    env.update(shim_environment())
    env.update(launch.env)

    ui = _approval_ui()
    conn, reviewers = _broker_session(session, name, context, program[0])
    pane = None
    if not reviewers and ui in ("auto", "split") and os.environ.get("TMUX") and not no_split:
        pane = _open_split()
    desk, watch = _session_terminal(session, ui, pane is not None) if conn else (None, None)
    if pane is None and (hint := _review_hint(ui, reviewers, desk is not None)):
        click.echo(hint, err=True)
    exits = ExitReporter(conn, session) if conn is not None and launch.integration else None
    try:
        with _recorder(record, name or shlex.join(program), env) as writer:
            taps: list[Callable[[bytes], None]] = []
            if writer is not None:
                taps.append(writer.output)
            if exits is not None:
                taps.append(ExitTracker(nonce, exits.report).feed)
            resizes: list[Callable[[int, int], None]] = [writer.resize] if writer else []
            starters: list[Callable[[Proxy], None]] = []
            input_gates: list[Callable[[bytes], bytes]] = []
            if desk is not None:
                assert watch is not None
                resizes.append(desk.on_resize)
                starters += [desk.on_start, _deliver_to(desk, watch)]
                input_gates.append(desk.input_gate)
            # Input gates that come after the session terminal's go here, in order.
            from expacti_cli.pty.prompt_gate import prompt_gate_for

            if (prompts := prompt_gate_for(session, context, nonce)) is not None:
                if desk is not None:
                    prompts.covered = lambda: bool(desk.overlay_open)
                taps.append(prompts.on_output)
                resizes.append(prompts.on_resize)
                starters.append(prompts.on_start)
                input_gates.append(prompts.input_gate)
            if desk is not None:
                desk.downstream = _chain(input_gates[1:])
            try:
                code = run_program(
                    launch.argv,
                    env,
                    Streams.standard(),
                    on_output=_fan_out(taps),
                    on_resize=_each(resizes),
                    input_gate=_chain(input_gates) if input_gates else None,
                    output_gate=desk.output_gate if desk else None,
                    on_start=_each(starters),
                    output_held=desk.output_held if desk else None,
                    child_size=desk.child_size if desk else None,
                )
            except FileNotFoundError:
                click.echo(f"expacti: {_shown(program[0])}: command not found", err=True)
                code = COMMAND_NOT_FOUND
            except PermissionError as exc:
                click.echo(f"expacti: {_shown(program[0])}: {exc.strerror}", err=True)
                code = CANNOT_EXECUTE
    finally:
        if desk is not None:
            rest = desk.finish()
            if rest:
                with contextlib.suppress(OSError):
                    os.write(sys.stdout.fileno(), rest)
        if watch is not None:
            watch.stop()
        if exits is not None:
            exits.close()
        if pane is not None:
            _close_split(pane)
        if conn is not None:
            conn.close()
    ctx.exit(code)
