"""Benchmarks. Each `bench_*.py` module has `run(quick: bool) -> dict` of named figures.

Run them all with `python -m benchmarks [--quick] [NAME...]` from the repository root.
"""

import contextlib
import os
import statistics
import tempfile
from collections.abc import Iterator
from pathlib import Path


def spread(samples: list[float]) -> float:
    """Width of the middle 80% of `samples` (p90 - p10); 0 for fewer than two samples."""
    if len(samples) < 2:
        return 0.0
    deciles = statistics.quantiles(samples, n=10, method="inclusive")
    return deciles[-1] - deciles[0]


@contextlib.contextmanager
def broker_home(prefix: str) -> Iterator[Path]:
    """A temporary EXPACTI_HOME with a running broker (idle exit 60 s); on the way out the
    broker is stopped and the environment put back."""
    from expacti_cli.broker import client, sockets

    saved = {k: os.environ.get(k) for k in ("EXPACTI_HOME", "EXPACTI_BROKER_IDLE")}
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        os.environ["EXPACTI_HOME"] = tmp
        os.environ["EXPACTI_BROKER_IDLE"] = "60"
        try:
            client.call("status", autostart=True)
            yield Path(tmp)
        finally:
            pid = sockets.recorded_pid() or 0
            if pid and client.pid_alive(pid):
                try:
                    client.call("stop")
                except client.BrokerUnavailable:
                    os.kill(pid, 9)
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
