"""The toy mixture of :mod:`coopsim.stress.toy` at several seeds: the rate the mean and the
worst-case planners settle on (expected 0 and 2), and the seconds each training took.

Run: ``python bench/robust_objective.py [--seeds 0,1,2] [--iterations 40]``.
"""

from __future__ import annotations

import argparse
import time

import torch

from coopsim.stress.toy import BEST_RATE, chosen_rate

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--iterations", type=int, default=40)
    args = parser.parse_args()
    torch.set_num_threads(1)
    for seed in (int(s) for s in args.seeds.split(",")):
        for kind in BEST_RATE:
            start = time.perf_counter()
            rate = chosen_rate(kind, seed, iterations=args.iterations)
            seconds = time.perf_counter() - start
            print(
                f"{kind:5s} seed {seed}: rate {rate:.2f} (best {BEST_RATE[kind]}) {seconds:.0f} s",
                flush=True,
            )
