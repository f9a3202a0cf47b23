"""Scoring throughput: analyze + score over the command corpus, in-process.

Run: .venv/bin/python benchmarks/bench_scoring.py [--quick]   (or: python -m benchmarks)

Goal (issue 2): >= 20,000 commands/s. Absolute figures depend on the machine, so every run
also times a reference loop in the same process (`shlex.split` over the same corpus) and
reports scoring cost as a multiple of it. Each figure is the median of several runs, with the
spread (min-max) so one noisy run does not decide.
"""

from __future__ import annotations

import shlex
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

CORPUS = Path(__file__).with_name("corpus_commands.txt")
GOAL_PER_S = 20_000


def load_corpus() -> list[str]:
    return [line for line in CORPUS.read_text().splitlines() if line.strip()]


def _shlex(command: str) -> object:
    try:
        return shlex.split(command)
    except ValueError:  # unbalanced quotes: still a fair amount of work done
        return None


def _time_passes(fn: Callable[[str], object], corpus: list[str], passes: int) -> float:
    start = time.perf_counter()
    for _ in range(passes):
        for command in corpus:
            fn(command)
    return time.perf_counter() - start


def run(quick: bool) -> dict[str, Any]:
    from expacti_cli.analysis import analyze
    from expacti_cli.risk import score_analysis, score_command

    corpus = load_corpus()
    runs, passes = (3, 3) if quick else (7, 20)
    for command in corpus:  # warm caches (regexes, settings context, parser)
        score_command(command)

    def analyze_only(command: str) -> object:
        return analyze(command)

    def analyze_and_score(command: str) -> object:
        return score_analysis(analyze(command))

    total = len(corpus) * passes
    full, parse, reference = [], [], []
    for _ in range(runs):
        # Interleaved so drift in machine load hits all three alike.
        full.append(total / _time_passes(analyze_and_score, corpus, passes))
        parse.append(total / _time_passes(analyze_only, corpus, passes))
        reference.append(total / _time_passes(_shlex, corpus, passes))

    ratios = [r / f for r, f in zip(reference, full, strict=True)]
    median_full = statistics.median(full)
    median_parse = statistics.median(parse)
    # Scoring's own cost per command: total time minus analysis time.
    score_us = max(0.0, 1e6 / median_full - 1e6 / median_parse)
    return {
        "corpus_commands": len(corpus),
        "runs": runs,
        "commands_per_run": total,
        "score_per_s_median": round(median_full),
        "score_per_s_min": round(min(full)),
        "score_per_s_max": round(max(full)),
        "analyze_only_per_s_median": round(median_parse),
        "scoring_us_per_command": round(score_us, 1),
        "shlex_split_per_s_median": round(statistics.median(reference)),
        "slowdown_vs_shlex_median": round(statistics.median(ratios), 2),
        "slowdown_vs_shlex_min": round(min(ratios), 2),
        "slowdown_vs_shlex_max": round(max(ratios), 2),
        "goal_per_s": GOAL_PER_S,
        "goal_met": median_full >= GOAL_PER_S,
    }


if __name__ == "__main__":
    for name, value in run(quick="--quick" in sys.argv).items():
        print(f"{name:28} {value}")
