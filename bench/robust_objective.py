"""The toy mixtures of :mod:`coopsim.stress.toy` at several seeds, and the seconds each
training took.

``--toy matching`` (default): the rate the mean and the worst-case planners settle on
(expected 0 and 2). ``--toy movable``: the fine and threshold the worst-case institution
planner settles on against the populations its rule moves (``quantal_noisy``; expected 2 and
1) and against a mix that keeps rule-blind free riders too (a flat minimum: no expectation).

Run: ``python bench/robust_objective.py [--toy matching|movable] [--seeds 0,1,2]
[--iterations N]``.
"""

from __future__ import annotations

import argparse
import time

import torch

from coopsim.stress.toy import BEST_RATE, MOVABLE_BEST, chosen_rate, chosen_rule

#: The second toy's two training mixes: what the grid keeps, and with the rule-blind free riders.
MIXES = {"movable": ["quantal_noisy"], "with free riders": ["free_riders", "quantal_noisy"]}

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--toy", default="matching", choices=("matching", "movable"))
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--iterations", type=int, default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)
    for seed in (int(s) for s in args.seeds.split(",")):
        if args.toy == "matching":
            for kind in BEST_RATE:
                start = time.perf_counter()
                rate = chosen_rate(kind, seed, iterations=args.iterations or 40)
                seconds = time.perf_counter() - start
                print(
                    f"{kind:5s} seed {seed}: rate {rate:.2f} (best {BEST_RATE[kind]}) "
                    f"{seconds:.0f} s",
                    flush=True,
                )
            continue
        for label, mix in MIXES.items():
            start = time.perf_counter()
            fine, threshold = chosen_rule(mix, seed, iterations=args.iterations or 80)
            seconds = time.perf_counter() - start
            print(
                f"{label:16s} seed {seed}: fine {fine:.2f}, threshold {threshold:.2f} "
                f"(max-min {MOVABLE_BEST[0]}, {MOVABLE_BEST[1]}) {seconds:.0f} s",
                flush=True,
            )
