"""A private tmux server for tests that drive `expacti run` through real panes (a pytest plugin:
the `tmux` fixture)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest


@pytest.fixture
def tmux() -> Iterator[Callable[..., str]]:
    """`tmux(*args)` on a server of this test's own; killed, with its socket, at the end."""
    # A short private path for the socket (sun_path holds ~100 bytes), removed with the dir.
    socket = Path(tempfile.mkdtemp(prefix="expacti-tmux-")) / "s"

    def run(*args: str) -> str:
        done = subprocess.run(
            ["tmux", "-S", str(socket), "-f", "/dev/null", *args],
            capture_output=True,
            text=True,
            timeout=10,
        )
        return done.stdout

    yield run
    run("kill-server")
    shutil.rmtree(socket.parent, ignore_errors=True)
