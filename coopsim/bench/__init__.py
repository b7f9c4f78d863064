"""Benchmarks of the batched worlds, printed as tables (``coopsim bench``)."""
