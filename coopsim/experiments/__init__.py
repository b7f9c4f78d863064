"""Experiments: comparisons whose every arm and training seed is an ordinary run directory."""
