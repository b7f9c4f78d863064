"""Steps per second at B = 1: the economy against the AI Economist's reference env, one process.

Usage: ``PYTHONPATH=<ai-economist checkout> python bench/reference_economy.py [--rounds 5]``.
The reference is ``ai_economist.foundation`` (github.com/salesforce/ai-economist) on its
``simple_wood_and_stone`` scenario with the paper's four components, fixed-four skills, four
agents and the planner (which always chooses 0), actions drawn uniformly from each agent's
action mask; ours is ``economy_us_federal`` at B = 1 with uniform random actions. Both are timed
in turns, in one process on one torch thread, and the medians compared.

The reference pins numpy 1.21 and imports lz4, pycryptodome and GPUtil only to save logs and
look for GPUs; where they are missing they are stubbed, and numpy 2's removed ``np.int`` and
``np.float`` aliases are restored, so its source runs unchanged beside ours.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import types

import numpy as np
import torch

from coopsim import scenario as sc

REFERENCE = dict(
    scenario_name="layout_from_file/simple_wood_and_stone",
    components=[
        ("Build", {"skill_dist": "pareto", "payment_max_skill_multiplier": 3, "build_labor": 10}),
        (
            "ContinuousDoubleAuction",
            {"max_bid_ask": 10, "order_labor": 0.25, "max_num_orders": 5, "order_duration": 50},
        ),
        ("Gather", {"move_labor": 1, "collect_labor": 1, "skill_dist": "pareto"}),
        (
            "PeriodicBracketTax",
            {"period": 100, "bracket_spacing": "us-federal", "usd_scaling": 1000},
        ),
    ],
    env_layout_file="quadrant_25x25_20each_30clump.txt",
    starting_agent_coin=10,
    fixed_four_skill_and_loc=True,
    n_agents=4,
    world_size=[25, 25],
    episode_length=1000,
    multi_action_mode_agents=False,
    multi_action_mode_planner=True,
    flatten_observations=True,
    flatten_masks=True,
)


def reference_stepper():
    """A function stepping the reference env n times with masked random actions."""
    np.int, np.float = int, float  # removed in numpy 2, used by the reference
    stubs = {"lz4": {}, "lz4.frame": {}, "Crypto": {}, "Crypto.PublicKey": {"RSA": None}}
    stubs["GPUtil"] = {"getGPUs": lambda: [], "getAvailable": lambda *a, **k: []}
    for name, attrs in stubs.items():
        try:
            __import__(name)
        except ImportError:
            sys.modules[name] = types.SimpleNamespace(**attrs)
    from ai_economist import foundation

    env = foundation.make_env_instance(**REFERENCE)
    rng = np.random.default_rng(0)
    state = {"obs": env.reset()}

    def run(steps: int) -> None:
        for _ in range(steps):
            obs = state["obs"]
            acts = {k: int(rng.choice(np.flatnonzero(o["action_mask"]))) for k, o in obs.items()}
            acts["p"] = [0] * 7
            state["obs"], _, done, _ = env.step(acts)
            if done["__all__"]:
                state["obs"] = env.reset()

    return run


def coopsim_stepper():
    world = sc.make_world(sc.load("economy_us_federal"), 1, "cpu")
    spec = world.spec
    nvec = torch.tensor(spec.action_nvec)  # [H]
    gen = torch.Generator().manual_seed(0)

    def run(steps: int) -> None:
        with torch.inference_mode():
            for _ in range(steps):
                u = torch.rand(1, spec.num_agents, len(nvec), generator=gen)  # [1, N, H]
                world.step((u * nvec).long())
                if world.t >= spec.horizon:
                    world.reset()

    return run


def main(rounds: int = 5, steps: int = 200) -> tuple[float, float]:
    torch.set_num_threads(1)
    ours, theirs = coopsim_stepper(), reference_stepper()
    ours(20), theirs(20)
    rates: dict[str, list[float]] = {"coopsim": [], "reference": []}
    for _ in range(rounds):
        for name, run in (("reference", theirs), ("coopsim", ours)):
            start = time.perf_counter()
            run(steps)
            rates[name].append(steps / (time.perf_counter() - start))
    a, b = statistics.median(rates["reference"]), statistics.median(rates["coopsim"])
    print(f"{'env':>12}  {'steps/s (B = 1, 4 agents)':>26}")
    print(f"{'reference':>12}  {a:>26,.0f}\n{'coopsim':>12}  {b:>26,.0f}  ({b / a:.2f}x)")
    return a, b


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="timed turns of each env")
    args = parser.parse_args()
    main(args.rounds)
