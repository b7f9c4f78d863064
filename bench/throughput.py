"""Throughput of the batched public-goods world against a loop of PettingZoo envs.

Usage: ``python bench/throughput.py [--quick]`` (the same as ``coopsim bench``).
"""

from __future__ import annotations

import argparse

from coopsim.bench.throughput import main

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter repeats")
    parser.add_argument("--device", default="auto", choices=("cpu", "cuda", "auto"))
    args = parser.parse_args()
    main(quick=args.quick, device=args.device)
