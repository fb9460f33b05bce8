"""Benchmarks: ``python -m bench NAME [--json]`` (see ../shared/BENCH.md and BENCHMARKS.md)."""
