"""Start a program on a fresh PTY and proxy the user's terminal to it until it ends."""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import subprocess
import sys
import termios
from collections.abc import Callable
from dataclasses import dataclass

from expacti_cli.pty import terminal
from expacti_cli.pty.proxy import Endpoints, Hooks, Proxy


@dataclass(frozen=True)
class Streams:
    """The user's side: where input comes from and where the screen is."""

    stdin: int
    stdout: int

    @classmethod
    def standard(cls) -> Streams:
        return cls(sys.stdin.fileno(), sys.stdout.fileno())


def exit_status(returncode: int) -> int:
    """A Popen return code as a shell reports it (128+N for signal N)."""
    return 128 - returncode if returncode < 0 else returncode


def _make_controlling_terminal() -> None:
    # Runs in the child between fork and exec (after setsid): the PTY becomes its terminal,
    # so job control, Ctrl-C and SIGWINCH work as in any terminal.
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def spawn(
    argv: list[str], env: dict[str, str], size: tuple[int, int], attrs_from: int | None
) -> tuple[subprocess.Popen[bytes], int]:
    """Start `argv` on a new PTY of `size`; return the process and the master fd.

    Raises FileNotFoundError/PermissionError (from exec) before anything touches the terminal."""
    master, slave = os.openpty()
    try:
        if attrs_from is not None and os.isatty(attrs_from):
            terminal.copy_attrs(attrs_from, slave)
        terminal.set_size(slave, *size)
        child = subprocess.Popen(
            argv,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            start_new_session=True,
            preexec_fn=_make_controlling_terminal,  # noqa: PLW1509 - no threads run yet
            close_fds=True,
        )
    except BaseException:
        os.close(master)
        raise
    finally:
        # Only the child holds the slave now: when it (and its children) exit, reads on the
        # master end with EIO.
        os.close(slave)
    return child, master


def _signaller(child: subprocess.Popen[bytes], master: int) -> Callable[[int], None]:
    def send(signum: int) -> None:
        target = child.pid
        if signum == signal.SIGINT:
            # An interrupt is for the foreground job on that terminal, as Ctrl-C would be.
            with contextlib.suppress(OSError):
                target = -os.tcgetpgrp(master)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(target, signum)

    return send


def run_program(
    argv: list[str],
    env: dict[str, str],
    streams: Streams,
    *,
    on_output: Callable[[bytes], None] | None = None,
    on_resize: Callable[[int, int], None] | None = None,
    input_gate: Callable[[bytes], bytes] | None = None,
    output_gate: Callable[[bytes], bytes] | None = None,
    on_start: Callable[[Proxy], None] | None = None,
    output_held: Callable[[], bool] | None = None,
    child_size: Callable[[int, int], tuple[int, int]] | None = None,
) -> int:
    """Run `argv` on a PTY wired to `streams`; return its exit status (128+N for a signal).

    The user's terminal is put in raw mode (keys go to the program untouched, Ctrl-C too)
    and restored, with the fds' blocking mode, on every way out."""
    stdin_tty = os.isatty(streams.stdin)
    size_fd = streams.stdin if stdin_tty else streams.stdout
    size = terminal.get_size(size_fd)
    child, master = spawn(argv, env, child_size(*size) if child_size else size, streams.stdin)
    hooks = Hooks(
        get_size=lambda: terminal.get_size(size_fd),
        set_size=terminal.set_size,
    )
    if on_output is not None:
        hooks.on_output = on_output
    if on_resize is not None:
        hooks.on_resize = on_resize
    if input_gate is not None:
        hooks.input_gate = input_gate
    if output_gate is not None:
        hooks.output_gate = output_gate
    if on_start is not None:
        hooks.on_start = on_start
    if output_held is not None:
        hooks.output_held = output_held
    if child_size is not None:
        hooks.child_size = child_size

    def status() -> int | None:
        code = child.poll()
        return None if code is None else exit_status(code)

    ends = Endpoints(
        master=master, stdin=streams.stdin, stdout=streams.stdout, stdin_is_tty=stdin_tty
    )
    blocking: list[tuple[int, bool]] = []
    try:
        with terminal.raw_mode(streams.stdin):
            for fd in {master, streams.stdin, streams.stdout}:
                blocking.append((fd, terminal.set_nonblocking(fd)))
            code = Proxy(ends, status, _signaller(child, master), hooks).run()
    finally:
        for fd, was_blocking in blocking:
            terminal.restore_blocking(fd, was_blocking)
        os.close(master)
        if child.poll() is None:
            # We are leaving while it runs (an error in the loop): it must not outlive us.
            with contextlib.suppress(ProcessLookupError):
                os.kill(child.pid, signal.SIGHUP)
            try:
                child.wait(timeout=1)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
    return code
