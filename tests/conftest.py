"""Shared fixtures: every test runs with EXPACTI_HOME in a fresh temp dir."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# Broker fixtures (broker_env, spawn, ...) for every test module.
pytest_plugins = ("broker_support",)

# A suite started in the background (`cmd &`, nohup) inherits SIGINT/SIGHUP ignored, and exec
# passes "ignored" on to every child: the Ctrl-C and hang-up tests would then test nothing real.
# A handler (unlike SIG_IGN) is reset to the default in children at exec.
for _signum, _handler in (
    (signal.SIGINT, signal.default_int_handler),
    (signal.SIGHUP, signal.SIG_DFL),
):
    if signal.getsignal(_signum) == signal.SIG_IGN:
        signal.signal(_signum, _handler)


@pytest.fixture(autouse=True)
def expacti_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path / "expacti-home"
    monkeypatch.setenv("EXPACTI_HOME", str(home))
    yield home
    # Any test may start a broker on demand (exec, shim, hooks, approve): never leave one behind.
    from broker_support import kill_broker

    kill_broker()


@pytest.fixture
def run_cli(expacti_home: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run the real `expacti` CLI in a subprocess (python -m expacti_cli)."""

    def run(
        *args: str, input: str | None = None, env: dict[str, str] | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        full_env = dict(os.environ, EXPACTI_HOME=str(expacti_home), COLUMNS="120")
        if env:
            full_env.update(env)
        return subprocess.run(
            [sys.executable, "-m", "expacti_cli", *args],
            input=input,
            capture_output=True,
            text=True,
            env=full_env,
            timeout=timeout,
        )

    return run
