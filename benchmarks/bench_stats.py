"""`expacti stats` over 100,000 audit records vs a plain `json.loads` pass over the same lines.

Run: .venv/bin/python benchmarks/bench_stats.py [--quick]

The log is built fast by writing correctly chained lines directly (as bench_audit does), with
records spread evenly over 60 days. `stats_all` reports on every day of it (`--days 60`), so it
reads every record like the reference does: the ratio is what counting costs on top of parsing
(reading the files newest first, skipping torn lines, outcome and day buckets). `stats_14d`
is the default `expacti stats`: it reads only as far back as it needs (30 days, for unused
rules), so about half of this log. `cli_stats_s` is the whole command in a fresh process.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from expacti_cli.commands.stats import _read
from expacti_cli.learn.stats import StatsBuilder, Window
from expacti_cli.store.audit import AuditLog
from expacti_cli.store.audit_format import (
    FORMAT_VERSION,
    GENESIS_PREV_HASH,
    encode_lossless,
    iso,
    seal,
    to_line,
)
from expacti_cli.store.audit_head import Head, write_head

RECORDS = 100_000
SPAN_DAYS = 60
NOW = datetime(2030, 3, 15, 18, 0, tzinfo=UTC)
COMMANDS = [
    "git status",
    "npm test",
    "kubectl get pods -n staging",
    "psql prod -c 'UPDATE users SET plan = 1 WHERE id = 42'",
    "docker logs api-7d9f",
    "rm -rf build dist && make -j8",
]
# decision, extra fields; weighted roughly like a week-two user (most commands pass).
MIX: list[tuple[str, dict[str, Any]]] = (
    [("auto_approved_rule", {"rule_id": "aaaa1111", "rule_ids": ["aaaa1111"]})] * 12
    + [("auto_approved_rule", {"rule_id": "bbbb2222", "rule_ids": ["bbbb2222"]})] * 4
    + [("auto_approved_threshold", {})] * 2
    + [("approved", {"reviewer": "dev", "review_ms": 12_000})]
    + [("denied", {"reviewer": "dev", "review_ms": 30_000})]
)


def sample_record(i: int, moment: datetime) -> dict[str, Any]:
    command = COMMANDS[i % len(COMMANDS)] + f" # {i}"
    decision, extra = MIX[i % len(MIX)]
    record: dict[str, Any] = {
        "kind": "decision",
        "id": f"{i:032x}",
        "time": iso(moment),
        "session": f"session-{i // 500}",
        "source": "hook",
        "cwd": "/home/dev/project",
        "parts": [command],
        "score": (i * 7) % 100,
        "level": "MEDIUM",
        "reasons": ["network: talks to a production host"],
        "decision": decision,
        "rule_id": None,
        "reviewer": None,
        "requested_at": iso(moment),
        "decided_at": iso(moment),
        "review_ms": None,
        "context": "migrating the billing tables",
        **extra,
    }
    record.update(encode_lossless("command", command))
    return record


def build_log(directory: Path, count: int) -> None:
    """A valid log of `count` records spread evenly over the SPAN_DAYS before NOW."""
    directory.mkdir(parents=True, exist_ok=True)
    log_id = "ab" * 16
    start = NOW - timedelta(days=SPAN_DAYS)
    step = timedelta(days=SPAN_DAYS) / count
    genesis: dict[str, Any] = {"kind": "genesis", "id": "0" * 32, "log_id": log_id}
    genesis |= {"format": FORMAT_VERSION, "time": iso(start)}
    prev, seq = GENESIS_PREV_HASH, 0
    with open(directory / "audit-000001.jsonl", "wb") as out:
        for i in range(count):
            body = genesis if i == 0 else sample_record(i, start + step * i)
            record = seal(body, seq, prev)
            out.write(to_line(record))
            prev, seq = record["hash"], seq + 1
    write_head(directory / "head.json", Head(seq=seq - 1, hash=prev, log_id=log_id))


def reference_pass(log: AuditLog) -> int:
    """The floor: read the files and json.loads every line, nothing else."""
    count = 0
    for path in log.segments():
        with open(path, "rb") as handle:
            for line in handle:
                json.loads(line)
                count += 1
    return count


def stats_pass(log: AuditLog, days: int) -> dict[str, Any]:
    builder = StatsBuilder(Window(now=NOW, days=days))
    _read(log, builder, progress=False)
    return builder.result().to_json()


def _best(fn: Any, repeats: int) -> tuple[float, Any]:
    times, value = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - start)
    return min(times), value


def run(quick: bool) -> dict[str, Any]:
    repeats = 2 if quick else 5
    with tempfile.TemporaryDirectory(prefix="expacti-bench-stats-") as tmp:
        home = Path(tmp) / "home"
        directory = home / "data" / "audit"
        start = time.perf_counter()
        build_log(directory, RECORDS)
        built = time.perf_counter() - start
        log = AuditLog.open(directory)

        # Alternate the two so that machine noise hits both alike.
        reference, mine = [], []
        total = 0
        for _ in range(repeats):
            seconds, read = _best(lambda: reference_pass(log), 1)
            reference.append(seconds)
            seconds, data = _best(lambda: stats_pass(log, SPAN_DAYS + 1), 1)
            mine.append(seconds)
            total = data["total"]
        assert read == RECORDS and total == RECORDS - 1, (read, total)
        window_s, window = _best(lambda: stats_pass(log, 14), repeats)

        env = dict(os.environ, EXPACTI_HOME=str(home), TZ="UTC")
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "expacti_cli", "stats", "--json", "--now", iso(NOW)],
            env=env,
            check=True,
            capture_output=True,
        )
        cli = time.perf_counter() - start

    best_ref, best_mine = min(reference), min(mine)
    return {
        "records": RECORDS,
        "build_s": round(built, 2),
        "reference_json_loads_s": round(best_ref, 3),
        "stats_all_s": round(best_mine, 3),
        "stats_all_records_per_s": round(RECORDS / best_mine),
        "stats_vs_json_loads_ratio": round(best_mine / best_ref, 2),
        "stats_vs_json_loads_ratio_median": round(
            statistics.median(m / r for m, r in zip(mine, reference, strict=True)), 2
        ),
        "stats_14d_s": round(window_s, 3),
        "stats_14d_records": window["total"],
        "cli_stats_s": round(cli, 3),
    }


if __name__ == "__main__":
    for name, value in run(quick="--quick" in sys.argv).items():
        print(f"{name:36} {value}")
