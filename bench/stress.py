"""Seconds a stress test of one rule takes (see :mod:`coopsim.bench.stress`).

Run: ``python bench/stress.py [--world public_goods|economy|commons|all] [--runs GLOB]
[--quick]``.
"""

from __future__ import annotations

import argparse

from coopsim.bench.stress import BENCHES, bench_stress

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--world", default="public_goods", choices=[*BENCHES, "all"], help="default: public_goods"
    )
    parser.add_argument(
        "--runs", default=None, help="glob of the trained runs (the rule's and the others')"
    )
    parser.add_argument("--quick", action="store_true", help="tiny training and stress budgets")
    args = parser.parse_args()
    for world in BENCHES if args.world == "all" else [args.world]:
        bench_stress(args.runs, args.quick, world)
