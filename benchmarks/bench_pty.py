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
    """Seconds from spawn until the process's output has all been read (EOF on the terminal).

    The terminal is read with plain 64 KiB reads, so the reader is never the bottleneck."""
    start = time.perf_counter()
    child = pexpect.spawn(argv[0], argv[1:], env=env, timeout=120)
    child.delayafterclose = child.delayafterterminate = 0  # no fixed sleeps in the timing
    tail = b""
    try:
        while True:
            try:
                chunk = os.read(child.child_fd, 65536)
            except OSError:  # EIO: every writer of the terminal is gone
                break
            if not chunk:
                break
            tail = (tail + chunk)[-64:]
        elapsed = time.perf_counter() - start
    finally:
        child.close(force=True)
    if marker not in tail:
        raise RuntimeError(f"{argv[0]}: output ended early: {tail!r}")
    return elapsed


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
    size_mb = 2 if quick else 20
    rounds = 3 if quick else 9
    env = dict(os.environ, TERM="xterm")
    env.pop("TMUX", None)
    with tempfile.TemporaryDirectory() as tmp:
        env["EXPACTI_HOME"] = tmp
        big = Path(tmp) / "big.txt"
        line = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ+/!?\n"
        big.write_bytes(line * (size_mb * MB // len(line)) + b"THE-END-MARKER\n")
        ours = [sys.executable, "-m", "expacti_cli", "run", "--no-split", "--", "cat", str(big)]
        small = Path(tmp) / "small.txt"
        small.write_bytes(b"THE-END-MARKER\n")
        figures: dict[str, Any] = {"file_mb": size_mb, "rounds": rounds}
        script = shutil.which("script")
        scripted = [script, "-qc", f"cat {big}", "/dev/null"] if script else []
        scripted_small = [script, "-qc", f"cat {small}", "/dev/null"] if script else []
        ours_small = [*ours[:-1], str(small)]
        # Rounds alternate between the two so machine noise hits both alike; each round gives
        # a ratio, and the figures are the median ratio and its spread (min..max).
        whole, copy, t_ours_all, t_script_all = [], [], [], []
        for _ in range(rounds):
            t_ours = _drain_time(ours, env, b"THE-END-MARKER")
            start_ours = _drain_time(ours_small, env, b"THE-END-MARKER")
            t_ours_all.append(t_ours)
            if not script:
                continue
            t_script = _drain_time(scripted, env, b"THE-END-MARKER")
            start_script = _drain_time(scripted_small, env, b"THE-END-MARKER")
            t_script_all.append(t_script)
            whole.append(t_script / t_ours)
            copy.append((t_script - start_script) / max(t_ours - start_ours, 1e-6))
        figures["expacti_run_s_median"] = round(statistics.median(t_ours_all), 3)
        if script:
            figures["script_s_median"] = round(statistics.median(t_script_all), 3)
            # > 1: we are faster than script(1); goal >= 1.0 (issue 4)
            figures["ratio_script_over_ours_median"] = round(statistics.median(whole), 2)
            figures["ratio_script_over_ours_range"] = f"{min(whole):.2f}..{max(whole):.2f}"
            figures["ratio_copy_only_median"] = round(statistics.median(copy), 2)
            figures["ratio_copy_only_range"] = f"{min(copy):.2f}..{max(copy):.2f}"
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
        figures["echo_added_goal_ms"] = 1.0
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
