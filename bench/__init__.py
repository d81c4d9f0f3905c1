"""Benchmarks run by ``make bench``; ``python -m bench.search`` times the header search."""
