"""Benchmarks of ks-engine against the raw libraries it is built on, measured in one run."""
