"""Helpers for the broker tests: a per-test broker that is always killed, and gated processes."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from expacti_cli.broker import client, sockets


def kill_broker() -> None:
    """Stop the broker of the current EXPACTI_HOME, if one runs (TERM, then KILL)."""
    pid = sockets.recorded_pid()
    if pid is None or not client.pid_alive(pid):
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 3
    while client.pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    if client.pid_alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture
def broker_env(expacti_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private EXPACTI_HOME whose broker is killed after the test; short test timeouts."""
    monkeypatch.setenv("EXPACTI_BROKER_IDLE", "30")
    monkeypatch.setenv("EXPACTI_TEST_MIN_TIMEOUT", "1")
    monkeypatch.delenv("EXPACTI_SESSION", raising=False)
    expacti_home.mkdir(parents=True, exist_ok=True)
    (expacti_home / "config.toml").write_text('reviewer = "reviewer@example.com"\n')
    yield expacti_home
    kill_broker()


def cli_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "expacti_cli", *args]


def expacti_script() -> str:
    """The installed `expacti` console script (what an agent would type)."""
    return str(Path(sys.executable).with_name("expacti"))


@pytest.fixture
def spawn() -> Iterator[Callable[..., subprocess.Popen[str]]]:
    """Start `expacti ARGS...` in the background; every process is killed at the end."""
    started: list[subprocess.Popen[str]] = []

    def start(*args: str, cwd: Path | None = None) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            cli_argv(*args),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=cwd,
        )
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


def wait_pending(count: int = 1, timeout: float = 15.0) -> list[dict[str, Any]]:
    """Poll the broker until `count` requests are pending; return them (oldest first)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            requests = client.call("list")["requests"]
        except client.BrokerUnavailable:
            requests = []
        if len(requests) >= count:
            return list(requests)
        if time.monotonic() > deadline:
            raise AssertionError(f"expected {count} pending request(s), have {len(requests)}")
        time.sleep(0.05)


def audit_records(kind: str | None = None) -> list[dict[str, Any]]:
    from expacti_cli.store.audit import AuditLog

    log = AuditLog.open()
    if not log.exists():
        return []
    return [r for r in log.iter_records() if kind is None or r.get("kind") == kind]


_GATER = """
import json, sys
from expacti_cli.broker import client
conn = client.connect()
conn.send(json.loads(sys.argv[1]))
for message in conn.events():
    print(json.dumps(message), flush=True)
    if message.get("op") == "decision":
        break
sys.stdin.read()  # keep the connection until the test closes our stdin
"""


class Gater:
    """A separate process that submits one request and reports the broker's messages.

    The test process itself stays outside the gated session, so it may decide."""

    def __init__(self, command: str, cwd: str = "/tmp", **fields: Any) -> None:
        message = {"op": "submit", "command": command, "cwd": cwd, "session": "t1", **fields}
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _GATER, json.dumps(message)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def next_message(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line, "the gating process ended without a message"
        return dict(json.loads(line))

    def close(self) -> None:
        """End the process (its connection closes: a pending request is withdrawn)."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                stream.close()


@pytest.fixture
def gater() -> Iterator[Callable[..., Gater]]:
    started: list[Gater] = []

    def start(command: str, cwd: str = "/tmp", **fields: Any) -> Gater:
        g = Gater(command, cwd, **fields)
        started.append(g)
        return g

    yield start
    for g in started:
        g.close()


class BrokerTools:
    """The helpers above, handed to tests as the `broker` fixture (no module import needed)."""

    kill = staticmethod(kill_broker)
    wait_pending = staticmethod(wait_pending)
    audit_records = staticmethod(audit_records)
    expacti_script = staticmethod(expacti_script)
    Gater = Gater


@pytest.fixture
def broker(broker_env: Path) -> BrokerTools:
    return BrokerTools()
