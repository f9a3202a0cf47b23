"""Typing at a gated shell after an interrupt: wait for the broker, then type until taken."""

from __future__ import annotations

from typing import Any


def wait_until_nothing_pends(timeout: float = 15) -> None:
    """Poll the broker until no request is pending (e.g. after Ctrl-C withdrew one)."""
    from polling import until

    from expacti_cli.broker import client

    until("the request to be withdrawn", lambda: not client.call("list")["requests"], timeout)


def retype_until(child: Any, line: str, marker: str, attempts: int = 3) -> None:
    """Type `line` until `marker` shows. A shell drops what was typed while it handled an
    interrupt (as a user would, type it again)."""
    import pexpect

    for _ in range(attempts):
        child.sendline(line)
        if child.expect([marker, pexpect.TIMEOUT], timeout=5) == 0:
            return
    raise AssertionError(f"the shell did not take {line!r} after the interrupt")
