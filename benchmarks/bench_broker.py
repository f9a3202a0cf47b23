"""Approval round trips through the broker, and what `expacti exec` adds to a command.

Run: .venv/bin/python benchmarks/bench_broker.py [--quick]

- submit -> visible: a separate process submits a command that needs a human; the time until a
  subscribed reviewer (this process) sees the `pending` event. The submit time travels in the
  request's context field (CLOCK_MONOTONIC is shared by every process on the machine).
- decision -> resumed: from the reviewer sending `decide` to the waiting client reading its
  answer; this includes the fsync'd audit record written before the answer.
- exec overhead: whole-process time of `expacti exec -- true` (whitelisted, broker already
  running) against `bash -c true`; plus one cold run that has to start the broker, and the
  same through `exec_run.fast_main` (what an entry point that skips click would cost).
Goals (issue 3): each round trip <= 20 ms median; exec adds <= 40 ms.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks import broker_home, spread

GOAL_ROUND_TRIP_MS = 20
GOAL_EXEC_ADDED_MS = 40

_SUBMITTER = """
import json, sys, time
from expacti_cli.broker import client
for i in range(int(sys.argv[1])):
    with client.connect() as conn:
        conn.send({"op": "submit", "command": f"rm -rf /tmp/expacti-bench-{i}",
                   "cwd": "/tmp", "session": "bench", "context": str(time.monotonic_ns())})
        while (message := conn.receive(30)) is not None and message["op"] != "decision":
            pass
        print(message["id"], time.monotonic_ns(), flush=True)
"""


# exec_run.fast_main, as an entry point that skips click would call it
_FAST = (
    "import sys\n"
    "from expacti_cli.commands.exec_run import fast_main\n"
    "sys.exit(fast_main(sys.argv[1:]))\n"
)


def _ms(ns: float) -> float:
    return round(ns / 1e6, 2)


def round_trips(count: int) -> dict[str, Any]:
    from expacti_cli.broker import client

    visible: list[int] = []
    sent_at: dict[str, int] = {}
    with client.connect() as reviewer:
        reviewer.call({"op": "subscribe"})
        submitter = subprocess.Popen(
            [sys.executable, "-c", _SUBMITTER, str(count)], stdout=subprocess.PIPE, text=True
        )
        for _ in range(count):
            event = reviewer.receive(30)
            while event is not None and event["op"] != "pending":
                event = reviewer.receive(30)
            assert event is not None, "the broker went away"
            seen = time.monotonic_ns()
            request = event["request"]
            visible.append(seen - int(request["context"]))
            sent_at[request["id"]] = time.monotonic_ns()
            reviewer.call({"op": "decide", "id": request["id"], "decision": "approve"})
        out, _ = submitter.communicate(timeout=60)
    resumed = []
    for line in out.splitlines():
        request_id, at = line.split()
        resumed.append(int(at) - sent_at[request_id])
    assert len(resumed) == count, "some requests got no decision"
    return {
        "requests": count,
        "submit_to_visible_median_ms": _ms(statistics.median(visible)),
        "submit_to_visible_spread_ms": _ms(spread(visible)),
        "submit_to_visible_p95_ms": _ms(sorted(visible)[int(count * 0.95) - 1]),
        "decision_to_resume_median_ms": _ms(statistics.median(resumed)),
        "decision_to_resume_spread_ms": _ms(spread(resumed)),
        "decision_to_resume_p95_ms": _ms(sorted(resumed)[int(count * 0.95) - 1]),
        "round_trip_goal_ms": GOAL_ROUND_TRIP_MS,
    }


def _timed(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def exec_overhead(runs: int) -> dict[str, Any]:
    from expacti_cli.broker import client

    expacti = str(Path(sys.executable).with_name("expacti"))
    subprocess.run([expacti, "whitelist", "add", "true"], check=True, capture_output=True)
    client.call("stop")  # time one cold start, then the warm path
    while client.pid_alive(_broker_pid()):
        time.sleep(0.01)
    cold = _timed([expacti, "exec", "--", "true"])
    fast_argv = [sys.executable, "-c", _FAST, "--", "true"]
    gated, fast, plain, python = [], [], [], []
    for _ in range(runs):  # alternate so machine noise hits all alike
        gated.append(_timed([expacti, "exec", "--", "true"]))
        fast.append(_timed(fast_argv))
        plain.append(_timed(["bash", "-c", "true"]))
        python.append(_timed([sys.executable, "-c", "pass"]))
    version = [_timed([expacti, "--version"]) for _ in range(max(5, runs // 4))]
    g, p = statistics.median(gated), statistics.median(plain)
    return {
        "exec_runs": runs,
        "exec_true_median_ms": round(g * 1000, 1),
        "exec_true_spread_ms": round(spread(gated) * 1000, 1),
        "bash_c_true_median_ms": round(p * 1000, 1),
        "bash_c_true_spread_ms": round(spread(plain) * 1000, 1),
        "exec_added_ms": round((g - p) * 1000, 1),
        "exec_ratio": round(g / p, 1),
        "exec_fast_path_median_ms": round(statistics.median(fast) * 1000, 1),
        "exec_fast_path_added_ms": round((statistics.median(fast) - p) * 1000, 1),
        "expacti_version_median_ms": round(statistics.median(version) * 1000, 1),
        # the floor for any Python entry point on this machine and install
        "python_c_pass_median_ms": round(statistics.median(python) * 1000, 1),
        "exec_cold_start_ms": round(cold * 1000, 1),
        "exec_added_goal_ms": GOAL_EXEC_ADDED_MS,
    }


def _broker_pid() -> int:
    from expacti_cli.broker import sockets

    return sockets.recorded_pid() or 0


def run(quick: bool) -> dict[str, Any]:
    with broker_home("expacti-bench-broker-"):
        figures = round_trips(50 if quick else 200)
        figures |= exec_overhead(20 if quick else 50)
    return figures


if __name__ == "__main__":
    for name, value in run(quick="--quick" in sys.argv).items():
        print(f"{name:30} {value}")
