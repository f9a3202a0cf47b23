"""Run every `benchmarks/bench_*.py`, print one table and write benchmarks/results.json.

Usage: python -m benchmarks [--quick] [NAME...]   (NAME: "scoring" for bench_scoring.py)
"""

from __future__ import annotations

import importlib
import json
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
RESULTS = HERE / "results.json"


def discover(names: list[str]) -> list[str]:
    found = sorted(p.stem for p in HERE.glob("bench_*.py"))
    if not names:
        return found
    wanted = [n if n.startswith("bench_") else f"bench_{n}" for n in names]
    unknown = sorted(set(wanted) - set(found))
    if unknown:
        raise SystemExit(f"unknown benchmark(s): {', '.join(unknown)} (have: {', '.join(found)})")
    return wanted


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    names = discover([a for a in argv if not a.startswith("-")])
    results: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": quick,
        "python": platform.python_version(),
        "machine": f"{platform.system()} {platform.machine()}",
        "benchmarks": {},
    }
    rows: list[tuple[str, str, str]] = []
    for name in names:
        module = importlib.import_module(f"benchmarks.{name}")
        print(f"running {name}...", file=sys.stderr, flush=True)
        start = time.perf_counter()
        figures = module.run(quick)
        figures["elapsed_s"] = round(time.perf_counter() - start, 2)
        results["benchmarks"][name] = figures
        rows.extend((name, key, str(value)) for key, value in figures.items())
    width = [max(len(r[i]) for r in rows) for i in range(3)] if rows else [0, 0, 0]
    for bench, key, value in rows:
        print(f"{bench:<{width[0]}}  {key:<{width[1]}}  {value:>{width[2]}}")
    RESULTS.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    print(
        f"\nwritten: {RESULTS.relative_to(Path.cwd()) if RESULTS.is_relative_to(Path.cwd()) else RESULTS}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
