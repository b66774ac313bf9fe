"""Benchmarks that need Home Assistant (run by scripts/bench; never collected as tests)."""
