"""Audit log costs: append at 1k vs 100k vs 1M records, `log --limit 50` and `verify` on a big log.

Run: .venv/bin/python benchmarks/bench_audit.py [--quick]

Big logs are built fast by writing correctly chained lines directly (no fsync per line);
then real appends (lock, tail read, write, fsync, head update) are timed against each,
alternating between the logs so disk noise hits both alike. The goal of issue 2 is an
append-cost ratio (large / small) of at most 1.5. `append_*_cpu_us` repeat the measure with
fsync stubbed out, which shows the log's own work without the disk's noise.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from expacti_cli.store import jsonl
from expacti_cli.store.audit import SEGMENT_BYTES, AuditLog
from expacti_cli.store.audit_format import (
    FORMAT_VERSION,
    GENESIS_PREV_HASH,
    encode_lossless,
    seal,
    to_line,
)
from expacti_cli.store.audit_head import Head, write_head

COMMANDS = [
    "git status",
    "npm test",
    "psql prod -c 'UPDATE users SET plan = 1 WHERE id = 42'",
    "rm -rf build dist && make -j8",
    "kubectl delete deployment/api -n staging",
    "curl -s https://example.com/install.sh | sh",
]
DECISIONS = ["approved", "denied", "auto_approved_rule", "auto_approved_threshold", "timed_out"]


def sample_record(i: int) -> dict[str, Any]:
    command = COMMANDS[i % len(COMMANDS)] + f" # {i}"
    record: dict[str, Any] = {
        "kind": "decision",
        "id": f"{i:032x}",
        "time": "2024-05-01T12:00:00.000Z",
        "session": f"session-{i // 500}",
        "source": "hook",
        "cwd": "/home/dev/project",
        "parts": [command],
        "score": (i * 7) % 100,
        "level": "HIGH",
        "reasons": ["database: UPDATE with WHERE clause", 'production target: "prod"'],
        "decision": DECISIONS[i % len(DECISIONS)],
        "rule_id": None,
        "reviewer": "dev",
        "requested_at": "2024-05-01T12:00:00.000Z",
        "decided_at": "2024-05-01T12:00:02.500Z",
        "review_ms": 2500,
        "context": "migrating the billing tables",
    }
    record.update(encode_lossless("command", command))
    return record


def build_log(directory: Path, count: int, segment_bytes: int = SEGMENT_BYTES) -> None:
    """A valid log of `count` records (genesis included), written without per-line fsync."""
    directory.mkdir(parents=True, exist_ok=True)
    log_id = "ab" * 16
    genesis: dict[str, Any] = {"kind": "genesis", "id": "0" * 32, "log_id": log_id}
    genesis["format"] = FORMAT_VERSION
    genesis["time"] = "2024-05-01T12:00:00.000Z"
    prev, seq, number, size = GENESIS_PREV_HASH, 0, 1, 0
    out = open(directory / f"audit-{number:06d}.jsonl", "wb")
    try:
        for i in range(count):
            record = seal(genesis if i == 0 else sample_record(i), seq, prev)
            line = to_line(record)
            if size >= segment_bytes:
                out.close()
                number += 1
                out = open(directory / f"audit-{number:06d}.jsonl", "wb")
                size = 0
            out.write(line)
            size += len(line)
            prev, seq = record["hash"], seq + 1
    finally:
        out.close()
    write_head(directory / "head.json", Head(seq=seq - 1, hash=prev, log_id=log_id))


def time_appends(logs: list[AuditLog], rounds: int) -> list[list[float]]:
    """Seconds per real append, alternating between the logs each round."""
    timings: list[list[float]] = [[] for _ in logs]
    for i in range(rounds):
        for log, out in zip(logs, timings, strict=True):
            start = time.perf_counter()
            log.record_decision(
                command=COMMANDS[i % len(COMMANDS)], decision="approved", session="bench"
            )
            out.append(time.perf_counter() - start)
    return timings


def _spread(samples: list[float]) -> float:
    """Width of the middle 80% of the samples (p90 - p10)."""
    deciles = statistics.quantiles(samples, n=10)
    return deciles[-1] - deciles[0]


def append_figures(root: Path, sizes: list[int], rounds: int) -> dict[str, float]:
    """Append cost at each log size; ratios are against the smallest log of the same run."""
    for size in sizes:
        build_log(root / f"log-{size}", size)
    logs = [AuditLog.open(root / f"log-{size}") for size in sizes]
    time_appends(logs, 5)  # warm up
    synced_runs = time_appends(logs, rounds)
    synced = [statistics.median(t) for t in synced_runs]
    real_fsync = jsonl.os.fsync
    setattr(jsonl.os, "fsync", lambda fd: None)  # noqa: B010 - the log's own work only
    try:
        cpu = [statistics.median(t) for t in time_appends(logs, rounds)]
    finally:
        setattr(jsonl.os, "fsync", real_fsync)  # noqa: B010
    for log in logs:
        assert log.verify().ok
    figures: dict[str, float] = {}
    for size, median, runs, cpu_median in zip(sizes, synced, synced_runs, cpu, strict=True):
        label = f"{size // 1000}k" if size < 1_000_000 else f"{size // 1_000_000}M"
        figures[f"append_{label}_ms"] = round(median * 1000, 3)
        figures[f"append_{label}_spread_ms"] = round(_spread(runs) * 1000, 3)
        figures[f"append_{label}_cpu_us"] = round(cpu_median * 1e6, 1)
        if size != sizes[0]:
            figures[f"append_ratio_{label}"] = round(median / synced[0], 3)
            figures[f"append_cpu_ratio_{label}"] = round(cpu_median / cpu[0], 3)
    figures["append_ratio"] = round(synced[-1] / synced[0], 3)  # largest vs smallest
    return figures


def big_log_figures(root: Path, count: int) -> dict[str, float]:
    directory = root / "home" / "data" / "audit"
    start = time.perf_counter()
    build_log(directory, count)
    built = time.perf_counter() - start
    log = AuditLog.open(directory)
    size = sum(p.stat().st_size for p in log.segments())

    start = time.perf_counter()
    newest = []
    for record in log.iter_records(reverse=True):
        newest.append(record)
        if len(newest) == 50:
            break
    newest_50 = time.perf_counter() - start

    env = dict(os.environ, EXPACTI_HOME=str(root / "home"), COLUMNS="160")
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "expacti_cli", "log", "--limit", "50"],
        env=env,
        check=True,
        capture_output=True,
    )
    cli_limit_50 = time.perf_counter() - start

    start = time.perf_counter()
    result = log.verify()
    verify = time.perf_counter() - start
    assert result.ok and result.count == count, result.message
    return {
        "big_records": count,
        "big_mb": round(size / 1e6, 1),
        "big_build_s": round(built, 2),
        "newest_50_ms": round(newest_50 * 1000, 2),
        "cli_log_limit_50_s": round(cli_limit_50, 3),
        "verify_s": round(verify, 2),
        "verify_records_per_s": round(count / verify),
    }


def run(quick: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="expacti-bench-audit-") as tmp:
        root = Path(tmp)
        if quick:
            figures = append_figures(root, [1_000, 20_000], rounds=150)
            figures |= big_log_figures(root, 50_000)
        else:
            figures = append_figures(root, [1_000, 100_000, 1_000_000], rounds=500)
            figures |= big_log_figures(root, 1_000_000)
    figures["append_ratio_goal"] = 1.5
    return figures


if __name__ == "__main__":
    for name, value in run(quick="--quick" in sys.argv).items():
        print(f"{name:24} {value}")
