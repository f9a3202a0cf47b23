"""What the anomaly engine adds to the broker's evaluation of a command (issue 5).

Run: .venv/bin/python benchmarks/bench_anomaly.py [--quick]

A 10,000-record history (varied commands, sessions and hours over 60 days) is written as a
correctly chained log without per-line fsync; then `gate.evaluate` is timed with the anomaly
engine and without it (`anomalies=False`, the reference), alternating command by command so
noise hits both alike:

- `cold_build_ms`: the first evaluation in a fresh process, which builds the profile;
- `steady_*_us`: evaluations with nothing appended in between (the profile is reused after one
  stat of the newest segment);
- `after_append_*_us`: a real decision record is appended (untimed) before each evaluation,
  as in the broker, so each evaluation folds in that one record;
- `*_ratio`: with / without (goal: at most 1.5 on the steady path).
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

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

NOW = datetime(2025, 3, 12, 14, 30, tzinfo=UTC)
FAMILIES = [
    "git status",
    "git log --oneline -{n}",
    "git diff HEAD~{n}",
    "npm test",
    "npm run lint",
    "pytest -q tests/test_{n}.py",
    "ls -la src/{n}",
    "docker logs api-{h}",
    "kubectl get pods -n team-{n}",
    "psql prod-db -c 'select count(*) from t{n}'",
    "cat docs/{n}.md",
    "make build-{n}",
    "rg -n 'TODO' src/mod{n}",
    "cargo test -p crate{n}",
]
PROBES = [
    "git status",  # routine
    "git log --oneline -5",  # routine shape
    "terraform apply",  # first-ever program
    "git push --force origin main",  # unlike history
    "psql prod-db-2 -c 'delete from t'",  # first-ever production target
    "npm test && ls -la src/x",  # routine, two parts
]


def history_record(i: int, rnd: random.Random) -> dict[str, Any]:
    day = NOW - timedelta(days=60 - i * 60 // 10_000)
    at = day.replace(hour=rnd.randint(9, 18), minute=rnd.randint(0, 59))
    command = rnd.choice(FAMILIES).format(n=rnd.randint(1, 40), h=f"{rnd.getrandbits(16):04x}")
    record: dict[str, Any] = {
        "kind": "decision",
        "id": f"{i:032x}",
        "time": iso(at),
        "session": f"session-{i // 50}",
        "source": "hook",
        "cwd": "/home/dev/project",
        "parts": [command],
        "score": 5,
        "level": "LOW",
        "reasons": ['production target: "prod-db"'] if "prod" in command else [],
        "decision": rnd.choice(["approved", "auto_approved_rule", "auto_approved_threshold"]),
        "requested_at": iso(at),
        "decided_at": iso(at),
    }
    record.update(encode_lossless("command", command))
    return record


def build_history(directory: Path, count: int) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    rnd = random.Random(3)
    log_id = "cd" * 16
    genesis = {"kind": "genesis", "id": "0" * 32, "log_id": log_id, "format": FORMAT_VERSION}
    genesis["time"] = iso(NOW - timedelta(days=61))
    prev, seq = GENESIS_PREV_HASH, 0
    with open(directory / "audit-000001.jsonl", "wb") as out:
        for i in range(count + 1):
            record = seal(genesis if i == 0 else history_record(i, rnd), seq, prev)
            out.write(to_line(record))
            prev, seq = record["hash"], seq + 1
    write_head(directory / "head.json", Head(seq=seq - 1, hash=prev, log_id=log_id))


def _median_us(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1e6, 1)


def measure(rounds: int, *, append: bool) -> tuple[list[float], list[float]]:
    from expacti_cli.broker import gate

    log = AuditLog.open()
    with_engine: list[float] = []
    without: list[float] = []
    for i in range(rounds):
        command = PROBES[i % len(PROBES)]
        for anomalies, out in ((True, with_engine), (False, without)):
            if append:
                log.record_decision(
                    command=command, decision="approved", session="bench", requested_at=NOW
                )
            start = time.perf_counter()
            ev = gate.evaluate(command, "/home/dev/project", now=NOW, anomalies=anomalies)
            out.append(time.perf_counter() - start)
            assert ev.via != "error", ev.reason
    return with_engine, without


def run(quick: bool) -> dict[str, Any]:
    from expacti_cli.broker import gate

    saved = os.environ.get("EXPACTI_HOME")
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="expacti-bench-anomaly-") as tmp:
        os.environ["EXPACTI_HOME"] = tmp
        try:
            from expacti_cli import paths

            build_history(paths.audit_dir(), 10_000)
            gate.evaluate("true", "/", now=NOW, anomalies=False)  # imports, config, rules
            gate._profiles = None
            start = time.perf_counter()
            ev = gate.evaluate("terraform apply", "/home/dev/project", now=NOW)
            figures["cold_build_ms"] = round((time.perf_counter() - start) * 1000, 1)
            assert ev.anomalies, "the history should make terraform a first-ever program"
            rounds = 60 if quick else 600
            on, off = measure(rounds, append=False)
            figures["steady_with_us"] = _median_us(on)
            figures["steady_without_us"] = _median_us(off)
            figures["steady_ratio"] = round(statistics.median(on) / statistics.median(off), 2)
            on, off = measure(rounds // 2, append=True)
            figures["after_append_with_us"] = _median_us(on)
            figures["after_append_without_us"] = _median_us(off)
            figures["after_append_ratio"] = round(statistics.median(on) / statistics.median(off), 2)
        finally:
            gate._profiles = None
            if saved is None:
                os.environ.pop("EXPACTI_HOME", None)
            else:
                os.environ["EXPACTI_HOME"] = saved
    figures["history_records"] = 10_000
    figures["steady_ratio_goal"] = 1.5
    return figures


if __name__ == "__main__":
    for name, value in run(quick="--quick" in sys.argv).items():
        print(f"{name:28} {value}")
