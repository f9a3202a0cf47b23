"""The PTY proxy loop: user terminal <-> child's PTY, one poll loop, nothing that blocks.

Everything the loop talks to comes in as an argument (fds, output tap, size getter, input
gate, child status), so tests drive it with pipes and a real child and no real terminal.
"""

from __future__ import annotations

import contextlib
import errno
import os
import select
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

READ_SIZE = 64 * 1024
# Bounded buffers: when one is full we stop reading its source, so a child that floods a slow
# terminal is slowed down by the kernel (its PTY buffer fills) instead of growing our memory.
MAX_TO_CHILD = 64 * 1024
MAX_TO_USER = 256 * 1024
# After the child exits: keep copying output until EOF, but stop after this long without any
# output, and after DRAIN_MAX in all (a grandchild may hold the slave open forever).
DRAIN_QUIET = 0.05
DRAIN_MAX = 1.0
FORWARDED_SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)
EOF_CHAR = b"\x04"
READS_PER_TURN = 16


def _pass_through(data: bytes) -> bytes:
    return data


@dataclass
class Endpoints:
    """The fds the loop copies between. `stdin` may be None (nothing to read)."""

    master: int
    stdin: int | None
    stdout: int
    stdin_is_tty: bool = True


@dataclass
class Hooks:
    """What the loop calls out to; every default does nothing."""

    # Each chunk of the child's output, as read (the recorder); must not block.
    on_output: Callable[[bytes], None] = lambda data: None
    # The user's input on its way to the child: returns what to forward now. A gate that
    # holds input (a command waiting for approval) returns b"" and keeps the bytes itself.
    input_gate: Callable[[bytes], bytes] = _pass_through
    # The user's terminal size (rows, cols), asked on start and on every SIGWINCH.
    get_size: Callable[[], tuple[int, int]] | None = None
    set_size: Callable[[int, int, int], None] | None = None  # (master fd, rows, cols)
    on_resize: Callable[[int, int], None] = lambda rows, cols: None
    # The child's output on its way to the screen, after `on_output`: returns what to show
    # now (an overlay covering the screen shows nothing and repaints when it closes).
    output_gate: Callable[[bytes], bytes] = _pass_through
    # Called once with the running proxy, before the first turn: what needs `post` keeps it.
    on_start: Callable[[Proxy], None] = lambda proxy: None
    # True while the child's output must not be read at all (an overlay holding back more
    # output than it keeps): the child then blocks on its full PTY, as with a slow terminal.
    output_held: Callable[[], bool] = lambda: False
    # The size the child is given for the user's (rows, cols): a status row takes one.
    child_size: Callable[[int, int], tuple[int, int]] = lambda rows, cols: (rows, cols)


@dataclass
class _Buffers:
    to_child: bytearray = field(default_factory=bytearray)
    to_user: bytearray = field(default_factory=bytearray)


def _write_some(fd: int, buffer: bytearray) -> bool:
    """Write what `fd` takes now; False when `fd` is gone (EIO/EPIPE/EBADF)."""
    try:
        written = os.write(fd, buffer)
    except BlockingIOError:
        return True
    except InterruptedError:
        return True
    except OSError as exc:
        if exc.errno in (errno.EIO, errno.EPIPE, errno.EBADF):
            return False
        raise
    del buffer[:written]
    return True


def _read(fd: int) -> bytes | None:
    """Up to READ_SIZE bytes; b"" when nothing is ready; None at EOF (EIO on a PTY master)."""
    try:
        data = os.read(fd, READ_SIZE)
    except (BlockingIOError, InterruptedError):
        return b""
    except OSError as exc:
        if exc.errno in (errno.EIO, errno.EBADF):
            return None  # Linux reports the slave side closing as EIO, not as EOF
        raise
    return data or None


class Proxy:
    """Copies bytes both ways until the child's output ends; see `run`."""

    def __init__(
        self,
        ends: Endpoints,
        child_status: Callable[[], int | None],
        signal_child: Callable[[int], None],
        hooks: Hooks | None = None,
    ) -> None:
        self.ends = ends
        self.child_status = child_status  # None while running, else the raw status to report
        self.signal_child = signal_child
        self.hooks = hooks or Hooks()
        self.buffers = _Buffers()
        self._stdin_open = ends.stdin is not None
        self._send_eof = False
        self._master_open = True
        self._user_open = True
        self._wake_r, self._wake_w = os.pipe()
        self._pending_signals: list[int] = []
        # waitpid only when SIGCHLD said something changed (and once at the start).
        self._check_child = True
        self._posted: list[tuple[bytes, bytes] | Callable[[], None]] = []
        self._posted_lock = threading.Lock()

    # --- from other threads ----------------------------------------------------------------

    def post(self, to_child: bytes = b"", to_user: bytes = b"") -> None:
        """Queue bytes for the child (bypassing `input_gate`) and for the screen (bypassing
        `output_gate`); safe from any thread. The loop picks them up on its next turn."""
        if not to_child and not to_user:
            return
        self._enqueue((to_child, to_user))

    def call_soon(self, callback: Callable[[], None]) -> None:
        """Run `callback` on the loop's thread on its next turn (safe from any thread), in
        order with `post`: what it does with `write_user`/`write_child` keeps its place."""
        self._enqueue(callback)

    def _enqueue(self, item: tuple[bytes, bytes] | Callable[[], None]) -> None:
        with self._posted_lock:
            if self._wake_w < 0:
                return  # the loop has ended (its wakeup fd number may belong to a new file)
            self._posted.append(item)
            with contextlib.suppress(OSError):
                os.write(self._wake_w, b"p")

    def _take_posted(self) -> None:
        with self._posted_lock:
            posted, self._posted = self._posted, []
        for item in posted:
            if callable(item):
                item()
                continue
            to_child, to_user = item
            self.write_child(to_child)
            self.write_user(to_user)

    # --- from the loop's own thread (hooks, `call_soon` callbacks) -------------------------

    def write_user(self, data: bytes) -> None:
        """Queue `data` for the screen now, after what is already queued (loop thread only)."""
        if data and self._user_open:
            self.buffers.to_user += data
            self._to_user()

    def write_child(self, data: bytes) -> None:
        """Queue `data` for the child, bypassing `input_gate` (loop thread only)."""
        if data and self._master_open:
            self.buffers.to_child += data
            self._to_child()

    # --- signals ---------------------------------------------------------------------------

    def _on_signal(self, signum: int, frame: object) -> None:
        # Runs in the main thread once it leaves poll(); the wakeup fd is what makes poll()
        # return even when the kernel delivered the signal to another thread (the recorder).
        self._pending_signals.append(signum)

    def _handle_signals(self) -> None:
        while self._pending_signals:
            signum = self._pending_signals.pop(0)
            if signum == signal.SIGWINCH:
                self.resize()
            elif signum in FORWARDED_SIGNALS:
                self.signal_child(signum)
            elif signum == signal.SIGCHLD:
                self._check_child = True

    def resize(self) -> None:
        hooks = self.hooks
        if hooks.get_size is None or hooks.set_size is None:
            return
        rows, cols = hooks.get_size()
        hooks.set_size(self.ends.master, *hooks.child_size(rows, cols))
        hooks.on_resize(rows, cols)

    # --- the loop --------------------------------------------------------------------------

    def run(self) -> int:
        """Copy until the child has exited and its output is drained; return its status."""
        wanted = (*FORWARDED_SIGNALS, signal.SIGWINCH, signal.SIGCHLD)
        for fd in (self._wake_r, self._wake_w):
            os.set_blocking(fd, False)
        previous_wakeup = signal.set_wakeup_fd(self._wake_w, warn_on_full_buffer=False)
        previous = {s: signal.signal(s, self._on_signal) for s in wanted}
        try:
            self.resize()
            self.hooks.on_start(self)
            return self._loop()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            signal.set_wakeup_fd(previous_wakeup)
            with self._posted_lock:
                wake_w, self._wake_w = self._wake_w, -1
            os.close(self._wake_r)
            os.close(wake_w)

    def _loop(self) -> int:
        ends, buffers = self.ends, self.buffers
        status: int | None = None
        # One poll object, its registrations changed only when what we wait for changes: under
        # a flood of output a turn is one poll, then a few reads and writes.
        poller = select.poll()
        registered: dict[int, int] = {}
        drain_from = 0.0  # after the child exits: the last time output (or the exit) was seen
        drain_until = 0.0
        while True:
            if status is None and self._check_child:
                self._check_child = False
                status = self.child_status()
            if status is not None and not drain_until:
                drain_from = time.monotonic()
                drain_until = drain_from + DRAIN_MAX
            if status is not None:
                now = time.monotonic()
                if not self._master_open or now >= drain_until or now - drain_from >= DRAIN_QUIET:
                    break
            wanted: dict[int, int] = {self._wake_r: select.POLLIN}
            if self._master_open:
                events = 0
                if len(buffers.to_user) < MAX_TO_USER and not self.hooks.output_held():
                    events |= select.POLLIN
                if buffers.to_child or self._send_eof:
                    events |= select.POLLOUT
                if events:
                    wanted[ends.master] = events
            if self._stdin_open and len(buffers.to_child) < MAX_TO_CHILD:
                assert ends.stdin is not None
                wanted[ends.stdin] = wanted.get(ends.stdin, 0) | select.POLLIN
            if buffers.to_user and self._user_open:
                wanted[ends.stdout] = wanted.get(ends.stdout, 0) | select.POLLOUT
            self._register(poller, registered, wanted)
            if status is not None:
                timeout_ms: int | None = int(DRAIN_QUIET * 1000)
            elif not self._master_open:
                # The child closed its terminal but runs on: SIGCHLD wakes us; poll anyway.
                timeout_ms = 200
            else:
                timeout_ms = None
            ready = poller.poll(timeout_ms)
            if not ready and not self._master_open:
                self._check_child = True
            for fd, event in ready:
                if fd == self._wake_r:
                    with contextlib.suppress(OSError):
                        os.read(self._wake_r, 4096)
                    self._handle_signals()
                    self._take_posted()
                elif fd == ends.master:
                    if event & (select.POLLIN | select.POLLHUP | select.POLLERR):
                        # Under a flood the next chunk is usually there already: read a few
                        # in a row (bounded, so keys typed meanwhile are not kept waiting).
                        for _ in range(READS_PER_TURN):
                            if not self._from_child():
                                break
                            if status is not None:
                                drain_from = time.monotonic()
                            if len(buffers.to_user) >= MAX_TO_USER:
                                break
                    if event & select.POLLOUT and self._master_open:
                        self._to_child()
                else:  # stdin and stdout may be one fd (a terminal opened once)
                    if fd == ends.stdin and event & (
                        select.POLLIN | select.POLLHUP | select.POLLERR
                    ):
                        self._from_user()
                    if fd == ends.stdout and event & select.POLLOUT and self._user_open:
                        self._to_user()
        # Whatever is still buffered for the screen is written before we return.
        self._flush_user()
        return status

    @staticmethod
    def _register(poller: select.poll, registered: dict[int, int], wanted: dict[int, int]) -> None:
        for fd in [fd for fd in registered if fd not in wanted]:
            poller.unregister(fd)
            del registered[fd]
        for fd, events in wanted.items():
            if registered.get(fd) != events:
                poller.register(fd, events)
                registered[fd] = events

    def _from_child(self) -> bool:
        data = _read(self.ends.master)
        if data is None:
            self._master_open = False
            return False
        if not data:
            return False
        self.hooks.on_output(data)
        data = self.hooks.output_gate(data)
        if not data:
            return True
        buffer = self.buffers.to_user
        buffer += data
        # Write at once: most of the time the terminal takes it all and no extra turn is spent.
        if self._user_open and not _write_some(self.ends.stdout, buffer):
            self._user_open = False
            buffer.clear()
        elif not self._user_open:
            buffer.clear()
        return True

    def _to_user(self) -> None:
        if not _write_some(self.ends.stdout, self.buffers.to_user):
            self._user_open = False
            self.buffers.to_user.clear()

    def _from_user(self) -> None:
        assert self.ends.stdin is not None
        data = _read(self.ends.stdin)
        if data is None:
            self._stdin_open = False
            # A pipe or file ended: tell the child, as if the user typed Ctrl-D. On a terminal
            # an EOF means the terminal is gone; the child gets SIGHUP from its own exit path.
            self._send_eof = not self.ends.stdin_is_tty
            return
        if not data:
            return
        forward = self.hooks.input_gate(data)
        if forward:
            self.buffers.to_child += forward
            self._to_child()

    def _to_child(self) -> None:
        buffer = self.buffers.to_child
        if buffer and not _write_some(self.ends.master, buffer):
            self._master_open = False
            buffer.clear()
            return
        if not buffer and self._send_eof:
            self._send_eof = False
            with contextlib.suppress(OSError):
                os.write(self.ends.master, EOF_CHAR)

    def _flush_user(self) -> None:
        """Best effort: write the rest of the screen output, waiting briefly if the terminal
        is slow, never forever."""
        deadline = time.monotonic() + DRAIN_MAX
        buffer = self.buffers.to_user
        while buffer and self._user_open and time.monotonic() < deadline:
            if not _write_some(self.ends.stdout, buffer):
                break
            if buffer:
                select.select([], [self.ends.stdout], [], 0.05)
