"""Agent-steps per second: the batched public-goods world against a loop of PettingZoo envs.

The batched world steps B worlds as tensors with actions drawn uniformly at random on the
world's device inside the timed loop, as a policy's sampler would. The baseline is the same game
as B PettingZoo ``ParallelEnv`` instances stepped in a Python loop, each fed a dict of actions.
The loop's throughput is flat in B (it does the same work per env), so it is measured at B=1
and B=64 only and never extrapolated; bigger batched rows are compared with the B=64 loop.

Every figure is the median over several timed repeats after a warm-up, so one stall of a busy
machine does not decide the result.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from coopsim import builder
from coopsim import scenario as sc
from coopsim.adapters.pettingzoo import parallel_env

SCENARIO = "public_goods"
BATCH_SIZES = (1, 64, 4096, 65536)
LOOP_BATCH_SIZES = (1, 64)


@dataclass
class Timing:
    """Timing plan: warm-up seconds, repeats, and seconds each repeat runs at least."""

    warmup_s: float
    repeats: int
    repeat_s: float


FULL = Timing(warmup_s=0.5, repeats=7, repeat_s=1.0)
QUICK = Timing(warmup_s=0.1, repeats=3, repeat_s=0.2)


def median_rate(run: Callable[[int], None], work_per_call: int, timing: Timing, sync) -> float:
    """Median of ``repeats`` rates (work units per second); ``run(k)`` does k calls."""
    calls = 1
    deadline = time.perf_counter() + timing.warmup_s
    # Warm up, and find how many calls make one repeat last about repeat_s.
    while True:
        t0 = time.perf_counter()
        run(calls)
        sync()
        dt = time.perf_counter() - t0
        if time.perf_counter() >= deadline and dt >= timing.repeat_s / 4:
            break
        if dt < timing.repeat_s / 4:
            calls *= 2
    calls = max(1, int(calls * timing.repeat_s / max(dt, 1e-9)))
    rates = []
    for _ in range(timing.repeats):
        t0 = time.perf_counter()
        run(calls)
        sync()
        rates.append(calls * work_per_call / (time.perf_counter() - t0))
    return statistics.median(rates)


def batched_rate(scenario: sc.Scenario, batch: int, device: torch.device, timing: Timing) -> float:
    """Agent-steps/s of the batched world at batch size B, random actions drawn on-device."""
    world = builder.make_world(scenario, batch, device)
    spec = world.spec
    nvec = torch.tensor(spec.action_nvec, device=device)  # [H]
    gen = torch.Generator(device=device)
    gen.manual_seed(0)
    world.reset(seed=0)
    shape = (batch, spec.num_agents, len(spec.action_nvec))

    def sample() -> torch.Tensor:  # [B, N, H] long, head h uniform on 0..nvec[h]-1
        if len(spec.action_nvec) == 1:
            return torch.randint(0, spec.action_nvec[0], shape, generator=gen, device=device)
        u = torch.rand(shape, generator=gen, device=device)
        return (u * nvec).long().clamp_(max=nvec - 1)

    def run(calls: int) -> None:
        with torch.inference_mode():
            for _ in range(calls):
                world.step(sample())
                if world.t >= spec.horizon:  # lock-step episodes: no device sync needed
                    world.reset()

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    return median_rate(run, batch * spec.num_agents, timing, sync)


def looped_rate(scenario: sc.Scenario, batch: int, timing: Timing) -> float:
    """Agent-steps/s of B PettingZoo envs stepped one after another in a Python loop."""
    envs = [parallel_env(scenario, seed=b, seats="all") for b in range(batch)]
    for env in envs:
        env.reset()
    agents = envs[0].possible_agents
    nvec = np.asarray(envs[0].world.spec.action_nvec)  # [H]
    single_head = len(nvec) == 1
    rng = np.random.default_rng(0)

    def run(calls: int) -> None:
        for _ in range(calls):
            joint = rng.integers(0, nvec, size=(batch, len(agents), len(nvec)))  # [B, N, H]
            for b, env in enumerate(envs):
                if single_head:
                    actions = {a: int(joint[b, i, 0]) for i, a in enumerate(agents)}
                else:
                    actions = {a: joint[b, i] for i, a in enumerate(agents)}
                env.step(actions)
                if not env.agents:
                    env.reset()

    return median_rate(run, batch * len(agents), timing, lambda: None)


def cpu_name() -> str:
    """The CPU's model name where the OS says it (Linux), else what platform knows."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def format_table(rows: list[tuple[int, float, float, str]]) -> str:
    head = f"{'B':>7}  {'batched agent-steps/s':>22}  {'looped PettingZoo':>18}  {'ratio':>9}"
    lines = [head, "-" * len(head)]
    for b, fast, slow, note in rows:
        lines.append(f"{b:>7}  {fast:>22,.0f}  {slow:>18,.0f}  {fast / slow:>8,.1f}x{note}")
    return "\n".join(lines)


def main(quick: bool = False, device: str = "auto") -> list[tuple[int, float, float, str]]:
    """Measure and print the table; returns its rows (B, batched, looped, note)."""
    timing = QUICK if quick else FULL
    dev = builder.resolve_device(device)
    scenario = sc.load(SCENARIO)
    name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else cpu_name()
    print(f"scenario  {SCENARIO} (N={scenario.num_agents}, no mechanism), random actions")
    print(f"device    {dev} {name or ''} ({os.cpu_count()} CPUs)".rstrip())
    print(f"torch     {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"timing    {timing.repeats} repeats of >= {timing.repeat_s}s, median\n")

    looped = {b: looped_rate(scenario, b, timing) for b in LOOP_BATCH_SIZES}
    rows = []
    for b in BATCH_SIZES:
        fast = batched_rate(scenario, b, dev, timing)
        ref = b if b in looped else max(looped)
        note = "" if ref == b else f"  (loop measured at B={ref})"
        rows.append((b, fast, looped[ref], note))
    print(format_table(rows))
    return rows
