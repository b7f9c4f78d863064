"""Analysis helpers for runs: tables, curves and the optimal-tax yardstick."""
