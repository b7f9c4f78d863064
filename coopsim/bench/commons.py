"""Agent-steps per second of the batched commons, against the same world one at a time, and
of PPO training on it (``coopsim bench commons``).

**World rows** step B worlds of the ``commons`` scenario (5 agents, the 23 x 17 map of five
13-apple patches, tagging on, no mechanism) with actions drawn uniformly at random on the
world's device inside the timed loop, as a policy's sampler would. The baseline is the same
scenario as separate ``CommonsWorld``\\ s of batch size 1 stepped one after another in a Python
loop: what running the substrate one environment at a time costs. A B=1 world does the same
work whatever B is, so the loop is measured at ``min(B, LOOP_MAX)`` worlds and the table says
so; both columns are measured in the same run, so the ratio holds on a busy machine.

**The training row** is agent-steps per second of whole PPO iterations of the ``commons``
scenario (:meth:`coopsim.train.Trainer.train_iteration`: the rollout with the policy's forward
pass, then the update), the median over timed iterations after one warm-up iteration.

Each world figure is the median over timed repeats after a warm-up
(:func:`coopsim.bench.throughput.median_rate`).
"""

from __future__ import annotations

import os
import statistics
import time
from dataclasses import dataclass

import torch
from tqdm import tqdm

from coopsim import builder
from coopsim import scenario as sc
from coopsim.bench.throughput import FULL, QUICK, Timing, batched_rate, cpu_name, median_rate
from coopsim.train import Trainer

SCENARIO = "commons"
BATCH_SIZES = (1, 64, 1024, 8192)
LOOP_MAX = 64  # most B=1 worlds the loop steps: its rate per world does not depend on B


@dataclass
class WorldRow:
    device: str
    batch: int  # worlds B stepped together
    batched: float  # agent-steps/s of the B worlds as one batch
    looped: float  # agent-steps/s of B=1 worlds stepped one after another
    looped_worlds: int  # how many B=1 worlds the loop stepped (min(B, LOOP_MAX))

    @property
    def ratio(self) -> float:
        return self.batched / self.looped


@dataclass
class TrainingRow:
    device: str
    batch: int  # worlds per training iteration
    steps_per_s: float  # agent-steps per second, the PPO update included
    iteration_s: float  # median seconds per training iteration


def looped_rate(scenario: sc.Scenario, worlds: int, timing: Timing) -> float:
    """Agent-steps/s of ``worlds`` separate B=1 commons stepped one after another on the CPU."""
    singles = [builder.make_world(scenario, 1, "cpu") for _ in range(worlds)]
    for k, world in enumerate(singles):
        world.reset(seed=k)
    spec = singles[0].spec
    gen = torch.Generator().manual_seed(0)
    shape = (worlds, spec.num_agents, 1)

    def run(calls: int) -> None:
        with torch.inference_mode():
            for _ in range(calls):
                joint = torch.randint(0, spec.action_nvec[0], shape, generator=gen)  # [B, N, 1]
                for b, world in enumerate(singles):
                    world.step(joint[b : b + 1])
                    if world.t >= spec.horizon:
                        world.reset()

    return median_rate(run, worlds * spec.num_agents, timing, lambda: None)


def training_rate(scenario: sc.Scenario, device: torch.device, iterations: int) -> TrainingRow:
    """Median agent-steps/s over ``iterations`` timed PPO iterations after one warm-up."""
    trainer = Trainer(scenario, seed=0, device=str(device), iterations=10_000)
    trainer.train_iteration()  # builds the optimiser and imports what the update needs
    rates, times = [], []
    for _ in range(iterations):
        steps0, t0 = trainer.agent_steps, time.perf_counter()
        trainer.train_iteration()  # ends in float() reads: the device is synchronised
        dt = time.perf_counter() - t0
        rates.append((trainer.agent_steps - steps0) / dt)
        times.append(dt)
    return TrainingRow(
        device.type,
        scenario.training.num_worlds,
        statistics.median(rates),
        statistics.median(times),
    )


def format_world_table(rows: list[WorldRow]) -> str:
    head = (
        f"{'device':>6}  {'B':>5}  {'batched agent-steps/s':>22}  "
        f"{'one world at a time':>20}  {'(worlds looped)':>15}  {'ratio':>8}"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{r.device:>6}  {r.batch:>5}  {r.batched:>22,.0f}  {r.looped:>20,.0f}  "
            f"{r.looped_worlds:>15}  {r.ratio:>7,.1f}x"
        )
    return "\n".join(lines)


def format_training_table(rows: list[TrainingRow]) -> str:
    head = f"{'device':>6}  {'B':>5}  {'PPO agent-steps/s (with update)':>32}  {'s/iteration':>11}"
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{r.device:>6}  {r.batch:>5}  {r.steps_per_s:>32,.0f}  {r.iteration_s:>11.2f}"
        )
    return "\n".join(lines)


def _devices(device: str) -> list[torch.device]:
    if device == "cuda":
        return [builder.resolve_device("cuda")]  # refuses with a clear message without a GPU
    if device == "auto" and torch.cuda.is_available():
        return [torch.device("cpu"), torch.device("cuda")]
    return [torch.device("cpu")]


def main(
    quick: bool = False,
    device: str = "auto",
    batch_sizes: tuple[int, ...] = BATCH_SIZES,
    threads: int | None = None,
    training_iterations: int | None = None,
    scenario: sc.Scenario | None = None,
) -> tuple[list[WorldRow], list[TrainingRow]]:
    """Measure and print both tables; returns their rows.

    ``device = "auto"`` measures the CPU and, where there is one, the GPU too (the loop always
    runs on the CPU, where single worlds are fastest). ``threads`` sets torch's intra-op
    threads for the measurement. ``training_iterations`` timed PPO iterations (0: no training
    row; default 2 quick, 3 full). ``scenario`` replaces ``commons`` (tests pass a tiny one).
    """
    saved = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        return _measure(quick, _devices(device), batch_sizes, training_iterations, scenario)
    finally:
        torch.set_num_threads(saved)


def _measure(
    quick: bool,
    devices: list[torch.device],
    batch_sizes: tuple[int, ...],
    training_iterations: int | None,
    scenario: sc.Scenario | None,
) -> tuple[list[WorldRow], list[TrainingRow]]:
    timing = QUICK if quick else FULL
    scen = scenario or sc.load(SCENARIO)
    iterations = training_iterations if training_iterations is not None else (2 if quick else 3)
    w = scen.world
    print(
        f"scenario  {scen.name} (N={w.num_agents}, {scen.mechanism_label}), "
        f"episodes of {w.episode_length} steps, random actions"
    )
    print(f"cpu       {cpu_name() or 'unknown'} ({os.cpu_count()} CPUs)")
    if any(d.type == "cuda" for d in devices):
        print(f"gpu       {torch.cuda.get_device_name()}")
    print(f"torch     {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"timing    {timing.repeats} repeats of >= {timing.repeat_s}s, median")
    print("baseline  B=1 worlds stepped one after another in a Python loop on the CPU\n")

    loop_sizes = sorted({min(b, LOOP_MAX) for b in batch_sizes})
    total = len(loop_sizes) + len(devices) * len(batch_sizes) + (len(devices) if iterations else 0)
    world_rows: list[WorldRow] = []
    training_rows: list[TrainingRow] = []
    with tqdm(total=total, desc="bench commons", unit="row", leave=False) as bar:
        looped = {}
        for k in loop_sizes:
            bar.set_postfix_str(f"loop of {k}")
            looped[k] = looped_rate(scen, k, timing)
            bar.update()
        for dev in devices:
            for b in batch_sizes:
                bar.set_postfix_str(f"{dev.type} B={b}")
                k = min(b, LOOP_MAX)
                rate = batched_rate(scen, b, dev, timing)
                world_rows.append(WorldRow(dev.type, b, rate, looped[k], k))
                bar.update()
        if iterations:
            for dev in devices:
                bar.set_postfix_str(f"{dev.type} training")
                training_rows.append(training_rate(scen, dev, iterations))
                bar.update()
    print(format_world_table(world_rows))
    if training_rows:
        print(f"\nPPO training, {iterations} timed iterations after one warm-up, median")
        print(format_training_table(training_rows))
    return world_rows, training_rows
