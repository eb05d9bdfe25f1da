"""Benchmark suite of the emulator: ``python -m benchmarks`` (see docs/performance.md)."""
