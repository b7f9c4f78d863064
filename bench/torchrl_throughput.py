"""Env-steps/s of the native batched TorchRL environment against TorchRL's PettingZooWrapper.

The wrapper steps the B = 1 PettingZoo adapter (numpy and per-agent dicts at every step); the
native environment steps B worlds as one tensor step. An env-step is one step of one world, so
the native figure at B counts B of them per call. Random actions, auto-reset at episode end.

Usage: ``python bench/torchrl_throughput.py [--seconds S]`` (needs the ``torchrl`` extra).
"""

from __future__ import annotations

import argparse
import time
import warnings

SCENARIOS = ("public_goods_learning", "economy_free_market")
BATCHES = (1, 64, 1024)


def steps_per_second(env, seconds: float) -> float:
    """World-steps per second of random play for about ``seconds`` (after one warm-up step)."""
    td = env.step_mdp(env.rand_step(env.reset()))
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        td = env.step_mdp(env.rand_step(td))
        if bool(td["done"].any()):
            td = env.reset()
        steps += env.batch_size.numel() if env.batch_size else 1
    return steps / (time.perf_counter() - start)


def main(seconds: float = 2.0) -> None:
    from torchrl.envs import PettingZooWrapper

    from coopsim.adapters.pettingzoo import parallel_env
    from coopsim.adapters.torchrl import torchrl_env

    print(f"{'scenario':<24}{'env':<28}{'env-steps/s':>14}{'x wrapper':>11}")
    for name in SCENARIOS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the wrapper's version notice
            # the wrapper's info spec cannot hold per-head mask tuples: one flat Discrete
            wrapped = PettingZooWrapper(
                env=parallel_env(name, seed=0, actions="discrete"), categorical_actions=True
            )
        base = steps_per_second(wrapped, seconds)
        print(f"{name:<24}{'PettingZooWrapper (B=1)':<28}{base:>14,.0f}{1.0:>11.1f}")
        for b in BATCHES:
            native = steps_per_second(torchrl_env(name, num_worlds=b, seed=0), seconds)
            label = f"native (B={b})"
            print(f"{name:<24}{label:<28}{native:>14,.0f}{native / base:>11.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="timing per configuration")
    args = parser.parse_args()
    main(seconds=args.seconds)
