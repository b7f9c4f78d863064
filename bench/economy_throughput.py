"""Throughput of the batched gather-trade-build economy against a loop of single worlds.

Usage: ``python bench/economy_throughput.py [--quick] [--device cpu|cuda|auto]``.
"""

from __future__ import annotations

import argparse

from coopsim.bench.economy import BATCH_SIZES, main

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter repeats")
    parser.add_argument("--device", default="auto", choices=("cpu", "cuda", "auto"))
    parser.add_argument(
        "--batch", type=int, nargs="+", default=list(BATCH_SIZES), help="batch sizes B"
    )
    args = parser.parse_args()
    main(quick=args.quick, device=args.device, batch_sizes=tuple(args.batch))
