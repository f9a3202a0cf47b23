"""Waiting for a condition in tests: poll it, fail with what was awaited at the deadline."""

from __future__ import annotations

import time
from collections.abc import Callable


def until(what: str, check: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
