"""Steps per second at B = 1: the economy against the AI Economist's reference env, one process.

Usage: ``PYTHONPATH=<ai-economist checkout> python bench/reference_economy.py [--rounds 5]
[--paper]``. The reference is ``ai_economist.foundation`` (github.com/salesforce/ai-economist)
on its ``simple_wood_and_stone`` scenario with the paper's four components, fixed-four skills,
four agents and the planner (which always chooses 0), actions drawn uniformly from each agent's
action mask; ours is ``economy_us_federal`` at B = 1 with uniform random actions, or with
``--paper`` ``economy_paper_us_federal`` (the same setting as the reference's) against the
reference configured as in the paper's ``tutorials/rllib/phase2/config.yaml`` with US federal
taxes. Both are timed in turns, in one process on one torch thread, and the medians compared.

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

from coopsim import builder
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

# The paper's environment settings (tutorials/rllib/phase2/config.yaml) where they differ.
PAPER = dict(
    starting_agent_coin=0,
    energy_cost=0.21,
    energy_warmup_constant=0,
    isoelastic_eta=0.23,
    planner_gets_spatial_info=False,
    planner_reward_type="coin_eq_times_productivity",
)


def reference_stepper(paper: bool = False):
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

    env = foundation.make_env_instance(**(REFERENCE | PAPER if paper else REFERENCE))
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


def coopsim_stepper(scenario: str = "economy_us_federal"):
    world = builder.make_world(sc.load(scenario), 1, "cpu")
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


def main(rounds: int = 5, steps: int = 200, paper: bool = False) -> tuple[float, float]:
    """Steps per second of the reference and of coopsim (medians over turns), printed with
    steps per CPU-second: on a busy machine a process waits for a core at random moments,
    which wall time counts and CPU time does not, so the second ratio is the steadier one."""
    torch.set_num_threads(1)
    ours = coopsim_stepper("economy_paper_us_federal" if paper else "economy_us_federal")
    theirs = reference_stepper(paper)
    ours(20), theirs(20)
    wall: dict[str, list[float]] = {"coopsim": [], "reference": []}
    cpu: dict[str, list[float]] = {"coopsim": [], "reference": []}
    for _ in range(rounds):
        for name, run in (("reference", theirs), ("coopsim", ours)):
            start, start_cpu = time.perf_counter(), time.process_time()
            run(steps)
            wall[name].append(steps / (time.perf_counter() - start))
            cpu[name].append(steps / max(time.process_time() - start_cpu, 1e-9))
    a, b = statistics.median(wall["reference"]), statistics.median(wall["coopsim"])
    ca, cb = statistics.median(cpu["reference"]), statistics.median(cpu["coopsim"])
    print("setting:", "the paper's (economy_paper_us_federal)" if paper else "economy_us_federal")
    print(f"{'env':>12}  {'steps/s (B = 1, 4 agents)':>26}  {'steps per CPU-second':>22}")
    print(f"{'reference':>12}  {a:>26,.0f}  {ca:>22,.0f}")
    print(f"{'coopsim':>12}  {b:>19,.0f} ({b / a:.2f}x)  {cb:>15,.0f} ({cb / ca:.2f}x)")
    return a, b


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="timed turns of each env")
    parser.add_argument(
        "--paper",
        action="store_true",
        help="time economy_paper_us_federal against the reference in the paper's settings",
    )
    args = parser.parse_args()
    main(args.rounds, paper=args.paper)
