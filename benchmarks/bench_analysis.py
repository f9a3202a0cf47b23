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


def run(quick: bool) -> dict[str, object]:
    """Figures for the runner (`python -m benchmarks analysis`), with shlex.split as reference."""
    import shlex

    commands = load()
    plain = [c for c in commands if Walker(5).run_plain(c)]
    parsed = [c for c in commands if c not in plain]
    rounds, seconds = (3, 0.2) if quick else (5, 0.5)
    figures: dict[str, object] = {
        "corpus_commands": len(commands),
        "fast_path_commands": len(plain),
    }
    for name, subset in (("all", commands), ("fast_path", plain), ("tree_sitter", parsed)):
        if subset:
            figures[f"{name}_per_s"] = round(rate(subset, rounds, seconds))
    best = 0.0
    for _ in range(rounds):
        start = time.perf_counter()
        for command in commands:
            try:
                shlex.split(command)
            except ValueError:
                pass
        best = max(best, len(commands) / (time.perf_counter() - start))
    figures["shlex_split_per_s"] = round(best)
    figures["slowdown_vs_shlex"] = round(best / float(figures["all_per_s"]), 2)  # type: ignore[arg-type]
    return figures


def main() -> None:
    for key, value in run(quick=False).items():
        print(f"{key:24} {value}")


if __name__ == "__main__":
    main()
