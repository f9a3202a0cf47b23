"""Benchmarks. Each `bench_*.py` module has `run(quick: bool) -> dict` of named figures.

Run them all with `python -m benchmarks [--quick] [NAME...]` from the repository root.
"""

import statistics


def spread(samples: list[float]) -> float:
    """Width of the middle 80% of `samples` (p90 - p10); 0 for fewer than two samples."""
    if len(samples) < 2:
        return 0.0
    deciles = statistics.quantiles(samples, n=10, method="inclusive")
    return deciles[-1] - deciles[0]
