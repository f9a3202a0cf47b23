"""Benchmarks. Each `bench_*.py` module has `run(quick: bool) -> dict` of named figures.

Run them all with `python -m benchmarks [--quick] [NAME...]` from the repository root.
"""
