"""The PTY proxy loop with real children, driven through pipes (no real terminal needed)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import termios
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from expacti_cli.pty import terminal
from expacti_cli.pty.asciicast import AsciicastWriter
from expacti_cli.pty.session import Streams, exit_status, run_program


class Pipes:
    """stdin/stdout pipes for run_program; a thread drains stdout so the child never stalls."""

    def __init__(self, feed: bytes = b"", close_stdin: bool = True) -> None:
        self.in_r, self.in_w = os.pipe()
        self.out_r, self.out_w = os.pipe()
        if feed:
            os.write(self.in_w, feed)
        if close_stdin:
            os.close(self.in_w)
            self.in_w = -1
        self.chunks: list[bytes] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while chunk := os.read(self.out_r, 65536):
            self.chunks.append(chunk)

    @property
    def streams(self) -> Streams:
        return Streams(self.in_r, self.out_w)

    def output(self) -> bytes:
        os.close(self.out_w)
        self._reader.join(timeout=10)
        return b"".join(self.chunks)

    def close(self) -> None:
        for fd in (self.in_r, self.in_w, self.out_r):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)


@pytest.fixture
def pipes() -> Iterator[Callable[..., Pipes]]:
    made: list[Pipes] = []

    def make(feed: bytes = b"", close_stdin: bool = True) -> Pipes:
        p = Pipes(feed, close_stdin)
        made.append(p)
        return p

    yield make
    for p in made:
        p.close()


ENV = dict(os.environ, TERM="xterm")


@pytest.mark.parametrize(
    ("script", "status", "output"),
    [
        ("printf hi; exit 3", 3, b"hi"),
        ("printf 'a\\nb\\n'", 0, b"a\r\nb\r\n"),  # the PTY's own newline translation
        ("printf x; kill -TERM $$", 128 + signal.SIGTERM, b"x"),
        ("kill -KILL $$", 128 + signal.SIGKILL, b""),
    ],
)
def test_output_and_exit_status_pass_through(pipes, script, status, output) -> None:  # type: ignore[no-untyped-def]
    p = pipes()
    assert run_program(["sh", "-c", script], ENV, p.streams) == status
    assert p.output() == output


def test_large_output_arrives_whole_even_when_the_child_exits_at_once(pipes) -> None:  # type: ignore[no-untyped-def]
    p = pipes()
    seen: list[bytes] = []
    code = "import sys; sys.stdout.buffer.write(b'0123456789abcdef' * 200000)"
    status = run_program([sys.executable, "-c", code], ENV, p.streams, on_output=seen.append)
    assert status == 0
    out = p.output()
    assert len(out) == 16 * 200000
    assert b"".join(seen) == out  # the recorder tap sees exactly what the user sees


def test_piped_input_reaches_the_child_and_its_end_is_an_eof(pipes) -> None:  # type: ignore[no-untyped-def]
    p = pipes(feed=b"first line\nsecond\n")
    status = run_program(["sh", "-c", "cat; echo END-$((40+2))"], ENV, p.streams)
    out = p.output()
    assert status == 0
    assert b"END-42" in out
    assert out.count(b"first line") == 2  # echoed by the PTY, then printed by cat


def test_input_gate_sees_input_and_decides_what_is_forwarded(pipes) -> None:  # type: ignore[no-untyped-def]
    seen: list[bytes] = []

    def gate(data: bytes) -> bytes:
        seen.append(data)
        return data.replace(b"secret", b"public")

    p = pipes(feed=b"say secret\n")
    status = run_program(
        ["sh", "-c", "stty -echo; read x; echo got: $x"], ENV, p.streams, input_gate=gate
    )
    assert status == 0
    assert b"got: say public" in p.output()
    assert b"".join(seen) == b"say secret\n"


def test_a_grandchild_holding_the_terminal_does_not_keep_us_waiting(pipes, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pid_file = tmp_path / "pid"
    p = pipes()
    start = time.monotonic()
    script = f"sleep 30 & echo $! > {pid_file}; echo started"
    try:
        status = run_program(["sh", "-c", script], ENV, p.streams)
        elapsed = time.monotonic() - start
        assert status == 0
        assert b"started" in p.output()
        assert elapsed < 5
    finally:
        with contextlib.suppress(ValueError, OSError):
            os.kill(int(pid_file.read_text()), signal.SIGKILL)


def test_the_child_gets_the_user_terminal_size_and_later_resizes(tmp_path: Path) -> None:
    # A real terminal for the user side: the pty pair stands in for it.
    user_master, user_slave = os.openpty()
    terminal.set_size(user_slave, 33, 77)
    resizes: list[tuple[int, int]] = []
    collected = bytearray()
    answered = threading.Event()

    def drain() -> None:
        while True:
            try:
                chunk = os.read(user_master, 65536)
            except OSError:
                return
            if not chunk:
                return
            collected.extend(chunk)
            if b"READY" in collected and not answered.is_set():
                answered.set()
                terminal.set_size(user_slave, 40, 100)
                os.kill(os.getpid(), signal.SIGWINCH)
                os.write(user_master, b"go\n")

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    script = "stty size; echo READY; read x; stty size"
    try:
        status = run_program(
            ["sh", "-c", script],
            ENV,
            Streams(user_slave, user_slave),
            on_resize=lambda rows, cols: resizes.append((rows, cols)),
        )
    finally:
        os.close(user_slave)
        reader.join(timeout=5)
        os.close(user_master)
    assert status == 0
    text = bytes(collected)
    assert b"33 77" in text
    assert b"40 100" in text
    assert resizes[0] == (33, 77) and (40, 100) in resizes


def test_raw_mode_restores_the_exact_settings_even_on_error() -> None:
    master, slave = os.openpty()
    try:
        before = termios.tcgetattr(slave)
        with pytest.raises(RuntimeError), terminal.raw_mode(slave):
            assert termios.tcgetattr(slave) != before
            raise RuntimeError("boom")
        assert termios.tcgetattr(slave) == before
    finally:
        os.close(master)
        os.close(slave)


def test_raw_mode_on_a_pipe_does_nothing() -> None:
    r, w = os.pipe()
    try:
        with terminal.raw_mode(r):
            pass
    finally:
        os.close(r)
        os.close(w)


def test_terminal_is_restored_after_the_session(pipes) -> None:  # type: ignore[no-untyped-def]
    master, slave = os.openpty()
    reader = threading.Thread(target=lambda: _drain_fd(master), daemon=True)
    reader.start()
    try:
        before = termios.tcgetattr(slave)
        assert run_program(["sh", "-c", "exit 5"], ENV, Streams(slave, slave)) == 5
        assert termios.tcgetattr(slave) == before
        assert os.get_blocking(slave)
    finally:
        os.close(slave)
        reader.join(timeout=5)
        os.close(master)


def _drain_fd(fd: int) -> None:
    with contextlib.suppress(OSError):
        while os.read(fd, 65536):
            pass


@pytest.mark.parametrize(("code", "status"), [(0, 0), (3, 3), (-2, 130), (-9, 137)])
def test_exit_status_mapping(code: int, status: int) -> None:
    assert exit_status(code) == status


def test_asciicast_writer_handles_split_utf8_and_resizes(tmp_path: Path) -> None:
    path = tmp_path / "s.cast"
    writer = AsciicastWriter(path, 80, 24, {"TERM": "xterm", "HOME": "/x"}, "demo")
    snowman = "☃".encode()
    writer.output(b"a" + snowman[:1])
    writer.output(snowman[1:] + b"\x1b[1mb")
    writer.resize(30, 100)
    writer.output(b"\xff")
    writer.close()
    lines = path.read_text(encoding="utf-8").splitlines()
    head = json.loads(lines[0])
    assert head["version"] == 2 and head["width"] == 80 and head["height"] == 24
    assert head["env"] == {"TERM": "xterm"} and head["title"] == "demo"
    events = [json.loads(line) for line in lines[1:]]
    assert "".join(e[2] for e in events if e[1] == "o") == "a☃\x1b[1mb\ufffd"
    assert ["r", "100x30"] in [e[1:] for e in events]
    times = [e[0] for e in events]
    assert times == sorted(times)


# --- hooks for the prompt detector and the overlay: output gate, on_start, post -------------


def test_output_gate_decides_what_reaches_the_screen_while_on_output_sees_everything(pipes) -> None:  # type: ignore[no-untyped-def]
    seen: list[bytes] = []
    p = pipes()
    status = run_program(
        ["sh", "-c", "printf 'keep-me hide-me keep-too'"],
        ENV,
        p.streams,
        on_output=seen.append,
        output_gate=lambda data: data.replace(b"hide-me ", b""),
    )
    assert status == 0
    assert p.output() == b"keep-me keep-too"
    assert b"".join(seen) == b"keep-me hide-me keep-too"  # the recorder sees the program's output


def test_on_start_gets_the_running_proxy_and_post_reaches_both_sides(pipes) -> None:  # type: ignore[no-untyped-def]
    started: list[object] = []

    def on_start(proxy) -> None:  # type: ignore[no-untyped-def]
        started.append(proxy)
        # From another thread, as the broker link does: a line for the child (the input
        # gate is bypassed) and bytes for the screen (the output gate is bypassed).
        threading.Thread(
            target=lambda: proxy.post(to_child=b"from-post\n", to_user=b"[note]"), daemon=True
        ).start()

    p = pipes(close_stdin=False)
    status = run_program(
        ["sh", "-c", "stty -echo; read x; echo got:$x"],
        ENV,
        p.streams,
        input_gate=lambda data: b"",  # nothing typed gets through
        output_gate=lambda data: data.replace(b"[note]", b"!"),
        on_start=on_start,
    )
    out = p.output()
    assert status == 0
    assert len(started) == 1
    assert b"got:from-post" in out
    assert b"[note]" in out


def test_call_soon_runs_on_the_loop_in_order_with_what_it_writes(pipes) -> None:  # type: ignore[no-untyped-def]
    calls: list[str] = []

    def on_start(proxy) -> None:  # type: ignore[no-untyped-def]
        def first() -> None:
            calls.append(threading.current_thread().name)
            proxy.write_user(b"<one>")

        def second() -> None:
            proxy.write_user(b"<two>")
            proxy.write_child(b"go\n")

        def post_all() -> None:
            proxy.call_soon(first)
            proxy.post(to_user=b"<between>")
            proxy.call_soon(second)

        threading.Thread(target=post_all, daemon=True).start()

    p = pipes(close_stdin=False)
    status = run_program(
        ["sh", "-c", "stty -echo; read x; echo got:$x"], ENV, p.streams, on_start=on_start
    )
    out = p.output()
    assert status == 0
    assert calls == [threading.main_thread().name]  # the loop's thread, not the poster's
    assert b"<one><between><two>" in out
    assert b"got:go" in out


def test_output_held_stops_reading_the_child_until_released(pipes) -> None:  # type: ignore[no-untyped-def]
    # While held, the child cannot finish writing 2 MiB (its PTY buffer fills): its marker
    # file is written only after the hold is released.
    held = threading.Event()
    held.set()
    done_early: list[bool] = []
    p = pipes()
    marker = f"/tmp/expacti-held-{os.getpid()}"
    code = (
        "import sys, os; sys.stdout.buffer.write(b'x' * (2 << 20)); sys.stdout.flush(); "
        f"open({marker!r}, 'w').close()"
    )

    def on_start(proxy) -> None:  # type: ignore[no-untyped-def]
        def release() -> None:
            time.sleep(1.0)
            done_early.append(os.path.exists(marker))
            proxy.call_soon(held.clear)  # on the loop's thread, which wakes up for it

        threading.Thread(target=release, daemon=True).start()

    try:
        status = run_program(
            [sys.executable, "-c", code],
            ENV,
            p.streams,
            output_held=held.is_set,
            on_start=on_start,
        )
        assert status == 0
        assert done_early == [False]
        assert len(p.output()) == 2 << 20
    finally:
        with contextlib.suppress(OSError):
            os.unlink(marker)


def test_child_size_decides_the_size_the_child_gets() -> None:
    user_master, user_slave = os.openpty()
    terminal.set_size(user_slave, 30, 90)
    collected = bytearray()

    def drain() -> None:
        with contextlib.suppress(OSError):
            while chunk := os.read(user_master, 65536):
                collected.extend(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    resizes: list[tuple[int, int]] = []
    try:
        status = run_program(
            ["sh", "-c", "stty size"],
            ENV,
            Streams(user_slave, user_slave),
            child_size=lambda rows, cols: (rows - 1, cols),
            on_resize=lambda rows, cols: resizes.append((rows, cols)),
        )
    finally:
        os.close(user_slave)
        reader.join(timeout=5)
        os.close(user_master)
    assert status == 0
    assert b"29 90" in bytes(collected)  # one row less for the child...
    assert resizes[0] == (30, 90)  # ...while on_resize reports the user's terminal


def test_post_after_the_loop_ended_writes_nowhere(pipes) -> None:  # type: ignore[no-untyped-def]
    # A thread (the broker link's ticker) may post after the session ended: the loop's wakeup
    # fd is closed by then and its number may already belong to another file.
    kept: list[object] = []
    p = pipes()
    assert run_program(["true"], ENV, p.streams, on_start=kept.append) == 0
    [proxy] = kept
    r, w = os.pipe()  # likely to reuse the closed wakeup fd's number
    try:
        proxy.post(to_user=b"late")  # type: ignore[attr-defined]
        proxy.call_soon(lambda: None)  # type: ignore[attr-defined]
        os.set_blocking(r, False)
        with pytest.raises(BlockingIOError):
            os.read(r, 10)
    finally:
        os.close(r)
        os.close(w)
