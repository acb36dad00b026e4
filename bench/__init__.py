"""Benchmarks: run each as ``python -m bench.<name>``; they report ratios to a baseline."""
