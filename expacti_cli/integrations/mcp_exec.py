"""One `exec` call of `expacti mcp`: gate the command through the broker, run it once allowed,
and keep its output within a cap.

The gate is the one every other way in uses: decide.submit, which checks that an approval is
bound to sha256(command, cwd). Its connection stays open while the command runs (the process
tree counts as gated) and carries the `exit` report. A call the MCP client cancels hangs that
connection up, so the broker withdraws the request and nothing runs. Nothing here imports the
MCP SDK; anyio is the SDK's event loop.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import anyio
from anyio.abc import ByteReceiveStream, Process

from expacti_cli.shim import decide, wire

DEFAULT_COMMAND_TIMEOUT = 120  # seconds a command may run once allowed (exec's timeout_s)
MAX_COMMAND_TIMEOUT = 3600
KILL_GRACE = 2.0  # seconds between TERM and KILL for a command past its timeout
DRAIN_GRACE = 0.5  # seconds to read output a background child keeps writing after the exit
SOURCE = "mcp"
NOT_EXECUTED = 126  # exit codes recorded like `expacti exec` does (errors.ExitStatus)
INTERRUPTED = 130


class CannotStart(Exception):
    """The command was allowed but could not be started (the message says why)."""


class BrokerRequest:
    """One command submitted on its own broker connection; `withdraw` works from any thread."""

    def __init__(
        self,
        command: str,
        cwd: str,
        *,
        session: str,
        context: str,
        ttl: int | None = None,
        on_queued: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.command = command
        self.cwd = cwd
        self.session = session
        self.context = context
        self.ttl = ttl
        self.on_queued = on_queued
        self._lock = threading.Lock()
        self._conn: wire.Connection | None = None
        self._withdrawn = False

    def wait(self) -> decide.Verdict:
        """Submit and block until the broker's verified verdict (run it in a worker thread)."""
        return decide.submit(
            self.command,
            cwd=self.cwd,
            session=self.session,
            source=SOURCE,
            context=self.context,
            ttl=self.ttl,
            on_queued=self.on_queued,
            keep_open=True,  # an allowed command runs, and reports its exit, on it
            on_connect=self._connected,
        )

    def _connected(self, conn: wire.Connection) -> None:
        with self._lock:
            self._conn = conn
            withdrawn = self._withdrawn
        if withdrawn:
            conn.withdraw()

    def withdraw(self) -> None:
        """From any thread: hang up under a blocked `wait`, so the broker withdraws the
        request and the verdict is a refusal."""
        with self._lock:
            self._withdrawn = True
            conn = self._conn
        if conn is not None:
            conn.withdraw()

    def report_exit(self, request_id: str, code: int) -> None:
        """Send the command's exit status on the connection that was allowed to run it."""
        if self._conn is not None and request_id:
            from expacti_cli.commands.exec_run import record_exit

            record_exit(self._conn, request_id, code, self.session)

    def close(self) -> None:
        with self._lock:
            conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()


async def gate(request: BrokerRequest) -> decide.Verdict:
    """The broker's verdict; a cancelled caller withdraws the request before re-raising."""
    try:
        return await anyio.to_thread.run_sync(request.wait, abandon_on_cancel=True)
    except anyio.get_cancelled_exc_class():
        request.withdraw()
        raise


class Capture:
    """The first and last bytes of a stream, at most `limit` in all; the middle is counted."""

    def __init__(self, limit: int) -> None:
        self.limit = max(2, limit)
        self._head_cap = self.limit - self.limit // 2
        self._tail_cap = self.limit // 2
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0

    def feed(self, data: bytes) -> None:
        self.total += len(data)
        room = self._head_cap - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        if data:
            self.tail += data
            del self.tail[: max(0, len(self.tail) - self._tail_cap)]

    @property
    def omitted(self) -> int:
        return self.total - len(self.head) - len(self.tail)

    def text(self) -> str:
        """The output as text (invalid UTF-8 replaced); a cut is marked where bytes were left out."""
        head = self.head.decode("utf-8", "replace")
        if not self.omitted:
            return (self.head + self.tail).decode("utf-8", "replace")
        tail = self.tail.decode("utf-8", "replace")
        return f"{head}\n[... expacti: {self.omitted:,} bytes of output left out ...]\n{tail}"


@dataclass(frozen=True)
class Outcome:
    """How an allowed command ended."""

    exit_code: int  # 128+N when killed by signal N (like a shell)
    stdout: Capture
    stderr: Capture
    timed_out: bool
    duration_ms: int


def _exit_code(returncode: int | None) -> int:
    if returncode is None:
        return 128 + signal.SIGKILL
    return 128 - returncode if returncode < 0 else returncode


async def _drain(stream: ByteReceiveStream | None, capture: Capture, done: anyio.Event) -> None:
    try:
        if stream is None:
            return
        with contextlib.suppress(anyio.EndOfStream, anyio.ClosedResourceError):
            while True:
                capture.feed(await stream.receive(65536))
    finally:
        done.set()


def _signal_group(process: Process, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signum)


async def _stop(process: Process) -> None:
    """TERM the command's process group, KILL it if it is still there after a grace."""
    _signal_group(process, signal.SIGTERM)
    with anyio.move_on_after(KILL_GRACE):
        await process.wait()
        return
    _signal_group(process, signal.SIGKILL)
    await process.wait()


async def run_command(
    command: str, cwd: str, env: dict[str, str], *, timeout_s: float, limit: int
) -> Outcome:
    """Run `bash -c command` in `cwd` with no stdin; stop its process group after `timeout_s`.

    A cancelled caller stops the command too (the group is killed before re-raising)."""
    out, err = Capture(limit), Capture(limit)
    started = time.monotonic()
    process = await anyio.open_process(
        ["bash", "-c", command],
        stdin=subprocess.DEVNULL,
        cwd=cwd,
        env=env,
        start_new_session=True,  # its own group: a timeout stops everything it started
    )
    timed_out = False
    try:
        done = (anyio.Event(), anyio.Event())
        async with anyio.create_task_group() as readers:
            readers.start_soon(_drain, process.stdout, out, done[0])
            readers.start_soon(_drain, process.stderr, err, done[1])
            with anyio.move_on_after(timeout_s) as deadline:
                await process.wait()
            if deadline.cancelled_caught:
                timed_out = True
                await _stop(process)
            # A background child may keep the pipes open: read what is there, then stop reading.
            with anyio.move_on_after(DRAIN_GRACE):
                for event in done:
                    await event.wait()
            readers.cancel_scope.cancel()
    except BaseException:
        with anyio.CancelScope(shield=True):
            if process.returncode is None:
                await _stop(process)
        raise
    finally:
        with anyio.CancelScope(shield=True):
            await process.aclose()
    return Outcome(
        exit_code=_exit_code(process.returncode),
        stdout=out,
        stderr=err,
        timed_out=timed_out,
        duration_ms=int((time.monotonic() - started) * 1000),
    )


async def run_and_report(
    request: BrokerRequest,
    request_id: str,
    env: dict[str, str],
    *,
    timeout_s: float,
    limit: int,
) -> Outcome:
    """Run the allowed command and report how it ended on the request's connection: its exit
    status, 126 when it could not start (raises CannotStart), 130 when the caller cancelled it
    (the command is stopped first)."""

    async def report(code: int) -> None:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(request.report_exit, request_id, code)

    try:
        outcome = await run_command(
            request.command, request.cwd, env, timeout_s=timeout_s, limit=limit
        )
    except OSError as exc:
        await report(NOT_EXECUTED)
        why = exc.strerror or str(exc)
        raise CannotStart(f"the command was allowed but could not be started: {why}") from None
    except anyio.get_cancelled_exc_class():
        await report(INTERRUPTED)
        raise
    await report(outcome.exit_code)
    return outcome
