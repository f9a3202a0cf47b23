"""The PTY wrapper: throughput of `cat BIGFILE` through `expacti run` against `script -qc`,
and the keystroke echo latency it adds.

Both sides run on the same kind of pseudo-terminal (pexpect), whose reader drains output
as fast as it can. Ratio = script's time / ours (>= 1.0: we are at least as fast).
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pexpect

MB = 1024 * 1024


def _drain_time(argv: list[str], env: dict[str, str], marker: bytes) -> float:
    """Seconds from spawn until `marker` shows and the process ends, reading in big chunks."""
    start = time.perf_counter()
    child = pexpect.spawn(argv[0], argv[1:], env=env, timeout=120, maxread=65536)
    try:
        child.expect(marker, searchwindowsize=len(marker) * 4)
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    return time.perf_counter() - start


def _echo_latency(argv: list[str], env: dict[str, str], rounds: int) -> float:
    """Median ms from sending one key to seeing its echo (the program is `cat` in raw mode)."""
    child = pexpect.spawn(argv[0], argv[1:], env=env, timeout=20)
    child.delaybeforesend = None  # pexpect sleeps 50 ms before each send by default
    samples: list[float] = []
    try:
        child.expect("READY")
        for i in range(rounds):
            key = "abcdefghij"[i % 10]
            start = time.perf_counter()
            child.send(key)
            child.expect_exact(key)
            samples.append((time.perf_counter() - start) * 1000)
    finally:
        child.close(force=True)
    return statistics.median(samples)


def run(quick: bool) -> dict[str, Any]:
    size_mb = 5 if quick else 20
    rounds = 1 if quick else 3
    env = dict(os.environ, TERM="xterm")
    env.pop("TMUX", None)
    with tempfile.TemporaryDirectory() as tmp:
        env["EXPACTI_HOME"] = tmp
        big = Path(tmp) / "big.txt"
        line = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ+/!?\n"
        big.write_bytes(line * (size_mb * MB // len(line)) + b"THE-END-MARKER\n")
        ours = [sys.executable, "-m", "expacti_cli", "run", "--no-split", "--", "cat", str(big)]
        figures: dict[str, Any] = {"file_mb": size_mb}
        t_ours = min(_drain_time(ours, env, b"THE-END-MARKER") for _ in range(rounds))
        figures["expacti_run_s"] = round(t_ours, 3)
        figures["expacti_run_mb_s"] = round(size_mb / t_ours, 1)
        script = shutil.which("script")
        if script:
            theirs = [script, "-qc", f"cat {big}", "/dev/null"]
            t_script = min(_drain_time(theirs, env, b"THE-END-MARKER") for _ in range(rounds))
            figures["script_s"] = round(t_script, 3)
            figures["ratio_script_over_ours"] = round(t_script / t_ours, 2)
        # Echo latency: a raw-mode cat echoes each key; measured through us and directly.
        raw_cat = "stty raw -echo; echo READY; exec cat"
        n = 20 if quick else 200
        direct = _echo_latency(["sh", "-c", raw_cat], env, n)
        wrapped = _echo_latency(
            [sys.executable, "-m", "expacti_cli", "run", "--no-split", "--", "sh", "-c", raw_cat],
            env,
            n,
        )
        figures["echo_direct_ms_median"] = round(direct, 3)
        figures["echo_wrapped_ms_median"] = round(wrapped, 3)
        figures["echo_added_ms_median"] = round(wrapped - direct, 3)
        _stop_broker(env)
    return figures


def _stop_broker(env: dict[str, str]) -> None:
    """`expacti run` started a broker for this EXPACTI_HOME: stop it."""
    import subprocess

    subprocess.run(
        [sys.executable, "-m", "expacti_cli", "daemon", "stop"],
        env=env,
        capture_output=True,
        timeout=20,
    )


if __name__ == "__main__":
    print(run("--quick" in sys.argv))
