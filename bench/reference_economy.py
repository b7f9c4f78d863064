"""World-steps per second of the economy at B = 1, 64, 1024 against the AI Economist's env.

Usage: ``PYTHONPATH=<ai-economist checkout> python bench/reference_economy.py [--rounds 5]
[--paper] [--batch 1 64 1024] [--torch-path]``. The reference is ``ai_economist.foundation`` (github.com/salesforce/ai-economist)
on its ``simple_wood_and_stone`` scenario with the paper's four components, fixed-four skills,
four agents and the planner (which always chooses 0), actions drawn uniformly from each agent's
action mask; ours is ``economy_us_federal`` at each batch size B with uniform random actions, or with
``--paper`` ``economy_paper_us_federal`` (the same setting as the reference's) against the
reference configured as in the paper's ``tutorials/rllib/phase2/config.yaml`` with US federal
taxes. The reference steps one world at a time; coopsim steps B worlds at once, so both rates
are world-steps per second (a world-step moves all four agents of one world once). Both are
timed in turns, in one process on one torch thread, and the medians compared. coopsim steps on
its native kernels where they are built (:mod:`coopsim.envs.economy.native`; the first line
says so, with the compile time); ``--torch-path`` times the torch path too, in the same turns.

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
from coopsim.envs.economy import native

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


def coopsim_stepper(scenario: str = "economy_us_federal", batch: int = 1, kernels: bool = True):
    """A function stepping B coopsim worlds n times with uniform random actions, on the
    native kernels or (``kernels=False``) on the torch path they stand in for."""
    native.set_enabled(kernels)
    world = builder.make_world(sc.load(scenario), batch, "cpu")
    spec = world.spec
    nvec = torch.tensor(spec.action_nvec)  # [H]
    gen = torch.Generator().manual_seed(0)

    def run(steps: int) -> None:
        native.set_enabled(kernels)
        with torch.inference_mode():
            for _ in range(steps):
                u = torch.rand(batch, spec.num_agents, len(nvec), generator=gen)  # [B, N, H]
                world.step((u * nvec).long())
                if world.t >= spec.horizon:
                    world.reset()

    return run


def main(
    rounds: int = 5,
    steps: int = 200,
    paper: bool = False,
    batches: tuple[int, ...] = (1,),
    torch_path: bool = False,
) -> dict[int, tuple[float, float]]:
    """World-steps per second of the reference and of coopsim at each B (medians over turns),
    printed with world-steps per CPU-second: on a busy machine a process waits for a core at
    random moments, which wall time counts and CPU time does not, so the second ratio is the
    steadier one. Each turn runs the reference for ``steps`` steps and then each coopsim batch
    for about as many world-steps (at least 5 batched steps). With ``torch_path`` each B is
    also timed on the torch path in the same turns (the A/B of the native kernels). Returns
    {B: (reference, coopsim)} world-steps per second."""
    torch.set_num_threads(1)
    name = "economy_paper_us_federal" if paper else "economy_us_federal"
    start = time.perf_counter()
    built = native.library() is not None
    setup_s = time.perf_counter() - start
    if built:
        how = f"compiled in {native.compile_seconds():.2f} s" if native.compile_seconds() else ""
        print(f"coopsim kernels: native ({how or 'loaded from the cache'}, {setup_s:.2f} s)")
    else:
        print(f"coopsim kernels: the torch path ({native.note()})")
    runners = {"reference": (reference_stepper(paper), steps, 1)}
    for b in batches:
        runners[f"B = {b}"] = (coopsim_stepper(name, b), max(5, steps // b), b)
        if torch_path:
            runners[f"B = {b} torch"] = (coopsim_stepper(name, b, False), max(5, steps // b), b)
    for run, _, _ in runners.values():
        run(20)
    wall: dict[str, list[float]] = {k: [] for k in runners}
    cpu: dict[str, list[float]] = {k: [] for k in runners}
    for _ in range(rounds):
        for key, (run, calls, b) in runners.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            run(calls)
            wall[key].append(calls * b / (time.perf_counter() - start))
            cpu[key].append(calls * b / max(time.process_time() - start_cpu, 1e-9))
    a, ca = statistics.median(wall["reference"]), statistics.median(cpu["reference"])
    print("setting:", f"the paper's ({name})" if paper else name)
    print(f"{'env':>12}  {'world-steps/s (4 agents)':>26}  {'world-steps per CPU-second':>28}")
    print(f"{'reference':>12}  {a:>26,.0f}  {ca:>28,.0f}")
    out = {}
    for key, (_, _, b) in runners.items():
        if key == "reference":
            continue
        w, c = statistics.median(wall[key]), statistics.median(cpu[key])
        print(
            f"{'coopsim ' + key:>12}  {w:>17,.0f} ({w / a:>5.2f}x)  {c:>19,.0f} ({c / ca:>5.2f}x)"
        )
        if not key.endswith("torch"):
            out[b] = (a, w)
    native.set_enabled(True)
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="timed turns of each env")
    parser.add_argument(
        "--paper",
        action="store_true",
        help="time economy_paper_us_federal against the reference in the paper's settings",
    )
    parser.add_argument(
        "--batch", type=int, nargs="+", default=[1, 64, 1024], help="coopsim's batch sizes B"
    )
    parser.add_argument(
        "--torch-path",
        action="store_true",
        help="also time coopsim's torch path at each B (without the native kernels)",
    )
    args = parser.parse_args()
    main(args.rounds, paper=args.paper, batches=tuple(args.batch), torch_path=args.torch_path)
