"""Training benchmarks: PPO throughput by batch size, and seconds of training to a result.

Usage: ``python bench/training.py [--quick] [--device cpu|cuda|auto] [--threads N]`` (the same
as ``coopsim bench training``).
"""

from __future__ import annotations

import argparse

from coopsim.bench.training import main

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer batch sizes and seeds")
    parser.add_argument("--device", default="auto", choices=("cpu", "cuda", "auto"))
    parser.add_argument("--threads", type=int, default=None, help="torch threads on the CPU")
    args = parser.parse_args()
    main(quick=args.quick, device=args.device, threads=args.threads)
