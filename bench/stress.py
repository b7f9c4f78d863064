"""Seconds a stress test of one public-goods rule takes (see :mod:`coopsim.bench.stress`).

Run: ``python bench/stress.py [--runs GLOB] [--quick]``.
"""

from __future__ import annotations

import argparse

from coopsim.bench.stress import bench_stress

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", default=None, help="glob of three trained runs of the rule")
    parser.add_argument("--quick", action="store_true", help="train the runs for 10 iterations")
    args = parser.parse_args()
    bench_stress(args.runs, args.quick)
