"""Benchmarks: each prints its measurements and their ratio to a baseline measured in the same run."""
