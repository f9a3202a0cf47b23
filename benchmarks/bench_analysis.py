"""Command analysis throughput: `analyze()` over the benchmark corpus.

Run: .venv/bin/python benchmarks/bench_analysis.py
Prints commands/s (best of 5 half-second runs) for the whole corpus and separately for the
commands that take the fast path (plain words) and those that need tree-sitter.
"""

from __future__ import annotations

import time
from pathlib import Path

from expacti_cli.analysis import analyze
from expacti_cli.analysis.walker import Walker

CORPUS = Path(__file__).with_name("corpus_commands.txt")


def load() -> list[str]:
    lines = CORPUS.read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip() and not line.startswith("#")]


def rate(commands: list[str], rounds: int = 5, seconds: float = 0.5) -> float:
    """Best commands/s over `rounds` runs of about `seconds` each."""
    best = 0.0
    for _ in range(rounds):
        done = 0
        start = time.perf_counter()
        while time.perf_counter() - start < seconds:
            for command in commands:
                analyze(command)
            done += len(commands)
        best = max(best, done / (time.perf_counter() - start))
    return best


def main() -> None:
    commands = load()
    plain = [c for c in commands if Walker(5).run_plain(c)]
    parsed = [c for c in commands if c not in plain]
    for name, subset in (("all", commands), ("fast path", plain), ("tree-sitter", parsed)):
        if subset:
            per_second = rate(subset)
            print(
                f"{name:12} {len(subset):4} commands  {per_second:9,.0f}/s  "
                f"{1e6 / per_second:6.1f} us/command"
            )


if __name__ == "__main__":
    main()
