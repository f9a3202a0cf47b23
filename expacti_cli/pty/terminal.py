"""The user's terminal: raw mode that is always undone, and its size."""

from __future__ import annotations

import contextlib
import fcntl
import os
import struct
import termios
import tty
from collections.abc import Iterator

DEFAULT_SIZE = (24, 80)


@contextlib.contextmanager
def raw_mode(fd: int) -> Iterator[None]:
    """Put `fd` in raw mode for the block and restore its exact settings on every exit path.

    Not a terminal (a pipe, a file): nothing to change."""
    try:
        saved = termios.tcgetattr(fd)
    except (termios.error, OSError):
        yield
        return
    try:
        # TCSADRAIN, not TCSAFLUSH: keys typed before the program started are kept.
        tty.setraw(fd, termios.TCSADRAIN)
        yield
    finally:
        # TCSADRAIN: let what we wrote reach the screen before the settings change back.
        with contextlib.suppress(termios.error, OSError):
            termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def get_size(fd: int) -> tuple[int, int]:
    """(rows, cols) of the terminal on `fd`; DEFAULT_SIZE when it is not a terminal."""
    try:
        packed = fcntl.ioctl(fd, termios.TIOCGWINSZ, b"\0" * 8)
    except OSError:
        return DEFAULT_SIZE
    rows, cols = struct.unpack("HHHH", packed)[:2]
    return (rows, cols) if rows and cols else DEFAULT_SIZE


def set_size(fd: int, rows: int, cols: int) -> None:
    """Tell the PTY behind `fd` its new size (the kernel sends SIGWINCH to its foreground group)."""
    with contextlib.suppress(OSError):
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def copy_attrs(src: int, dst: int) -> None:
    """Start the child's PTY with the user's terminal settings (erase key, flow control, ...)."""
    with contextlib.suppress(termios.error, OSError):
        termios.tcsetattr(dst, termios.TCSANOW, termios.tcgetattr(src))


def set_nonblocking(fd: int) -> bool:
    """Make `fd` non-blocking; return its previous blocking state (for `restore_blocking`)."""
    flags = fcntl.fcntl(fd, fcntl.F_GETFL)
    fcntl.fcntl(fd, fcntl.F_SETFL, flags | os.O_NONBLOCK)
    return not flags & os.O_NONBLOCK


def restore_blocking(fd: int, was_blocking: bool) -> None:
    if was_blocking:
        with contextlib.suppress(OSError):
            flags = fcntl.fcntl(fd, fcntl.F_GETFL)
            fcntl.fcntl(fd, fcntl.F_SETFL, flags & ~os.O_NONBLOCK)
