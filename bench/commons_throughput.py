"""Throughput of the batched commons against the same world stepped one world at a time.

Usage: ``python bench/commons_throughput.py [--sizes 1,64,1024,8192] [--steps T]
[--threads K]``. Each row steps B default commons worlds (5 agents, the 23 x 17 map) with
random allowed actions drawn beforehand, so only the world is timed; the one-at-a-time column
is B times the time of one B=1 step (measured, not assumed), which is what a Python loop over
worlds would cost.
"""

from __future__ import annotations

import argparse
import time

import torch

from coopsim.envs.commons import CommonsConfig, CommonsWorld


def steps_per_second(batch: int, steps: int) -> float:
    """World-steps per second of B worlds stepped together (each step moves all B)."""
    world = CommonsWorld(CommonsConfig(), batch_size=batch)
    world.reset(seed=0)
    gen = torch.Generator().manual_seed(0)
    logits = torch.rand(steps, batch, world.spec.num_agents, 8, generator=gen)
    world.step(logits[0].argmax(-1, keepdim=True))  # warm-up
    start = time.perf_counter()
    for t in range(steps):
        mask = world.action_mask()
        world.step(torch.where(mask, logits[t], -1.0).argmax(-1, keepdim=True))
    return steps / (time.perf_counter() - start)


def main(sizes: list[int], steps: int) -> str:
    n = CommonsConfig().num_agents
    single = steps_per_second(1, steps)  # steps/s of one world alone
    rows = ["| B | agent-steps/s batched | agent-steps/s one world at a time | ratio |"]
    rows.append("|---:|---:|---:|---:|")
    for b in sizes:
        batched = steps_per_second(b, max(3, steps * 64 // max(b, 64))) * b * n
        looped = single * n  # B worlds one at a time: B times as long per step of all B
        rows.append(f"| {b} | {batched:,.0f} | {looped:,.0f} | {batched / looped:,.1f}x |")
    return "\n".join(rows)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,64,1024,8192")
    parser.add_argument("--steps", type=int, default=100, help="steps timed at B <= 64")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(main([int(s) for s in args.sizes.split(",")], args.steps))
