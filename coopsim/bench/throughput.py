"""Agent-steps per second: the batched public-goods world against its earlier step and against a
loop of PettingZoo envs.

The batched world steps B worlds as tensors with actions drawn uniformly at random on the
world's device inside the timed loop, as a policy's sampler would. Beside it, in the same run
with their timed repeats taken in turn (so both see the same load), the same world with the
step it had before its observation was rebuilt (:mod:`coopsim.bench.public_goods_earlier`,
identical outputs): the ratio between them is the speed-up, measured under one load. Where the
native observation kernel is built (:mod:`coopsim.envs.public_goods_native`), today's world is
also timed with it turned off (the torch path), in turn with the other two. All are
given per CPU-second of the process as well as per wall-clock second: on a shared machine the
wall clock counts the time other jobs held the core.

The other baseline is the same game as B PettingZoo ``ParallelEnv`` instances stepped in a
Python loop, each fed a dict of actions. The loop's throughput is flat in B (it does the same
work per env), so it is measured at B=1 and B=64 only and never extrapolated; bigger batched
rows are compared with the B=64 loop.

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
from coopsim.bench.public_goods_earlier import make_earlier_world
from coopsim.envs import public_goods_native
from coopsim.envs.base import World

SCENARIO = "public_goods"
BATCH_SIZES = (1, 64, 1024, 16384, 65536, 262144)
LOOP_BATCH_SIZES = (1, 64)


@dataclass
class Timing:
    """Timing plan: warm-up seconds, repeats, and seconds each repeat runs at least."""

    warmup_s: float
    repeats: int
    repeat_s: float


FULL = Timing(warmup_s=0.5, repeats=7, repeat_s=1.0)
QUICK = Timing(warmup_s=0.1, repeats=3, repeat_s=0.2)


def _calls_per_repeat(run: Callable[[int], None], timing: Timing, sync) -> int:
    """Warm ``run`` up and return how many calls make one repeat last about repeat_s."""
    calls = 1
    deadline = time.perf_counter() + timing.warmup_s
    while True:
        t0 = time.perf_counter()
        run(calls)
        sync()
        dt = time.perf_counter() - t0
        if time.perf_counter() >= deadline and dt >= timing.repeat_s / 4:
            break
        if dt < timing.repeat_s / 4:
            calls *= 2
    return max(1, int(calls * timing.repeat_s / max(dt, 1e-9)))


def median_rate(run: Callable[[int], None], work_per_call: int, timing: Timing, sync) -> float:
    """Median of ``repeats`` rates (work units per second); ``run(k)`` does k calls."""
    calls = _calls_per_repeat(run, timing, sync)
    rates = []
    for _ in range(timing.repeats):
        t0 = time.perf_counter()
        run(calls)
        sync()
        rates.append(calls * work_per_call / (time.perf_counter() - t0))
    return statistics.median(rates)


@dataclass
class Rate:
    """Work units per wall-clock second and per CPU-second of this process (medians)."""

    wall: float
    cpu: float


def interleaved_rates(
    runs: dict[str, Callable[[int], None]], work_per_call: int, timing: Timing, sync
) -> dict[str, Rate]:
    """Median rates of several runs whose timed repeats are taken in turn, so a change of the
    machine's load falls on all of them alike."""
    calls = {name: _calls_per_repeat(run, timing, sync) for name, run in runs.items()}
    wall: dict[str, list[float]] = {name: [] for name in runs}
    cpu: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(timing.repeats):
        for name, run in runs.items():
            t0, c0 = time.perf_counter(), time.process_time()
            run(calls[name])
            sync()
            work = calls[name] * work_per_call
            wall[name].append(work / (time.perf_counter() - t0))
            cpu[name].append(work / max(time.process_time() - c0, 1e-9))
    return {n: Rate(statistics.median(wall[n]), statistics.median(cpu[n])) for n in runs}


def stepper(world: World, device: torch.device) -> Callable[[int], None]:
    """``run(k)``: k steps of ``world`` with uniform random actions drawn on ``device``."""
    spec, batch = world.spec, world.batch_size
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

    return run


def device_sync(device: torch.device) -> Callable[[], None]:
    """Waits for the device's queued work (CUDA); nothing to wait for on the CPU."""

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    return sync


def batched_rate(scenario: sc.Scenario, batch: int, device: torch.device, timing: Timing) -> float:
    """Agent-steps/s of the batched world at batch size B, random actions drawn on-device."""
    world = builder.make_world(scenario, batch, device)
    run = stepper(world, device)
    return median_rate(run, batch * world.spec.num_agents, timing, device_sync(device))


def native_switched(run: Callable[[int], None], on: bool) -> Callable[[int], None]:
    """``run`` with the public-goods kernel turned on or off for its calls (back on after)."""

    def go(calls: int) -> None:
        public_goods_native.set_enabled(on)
        try:
            run(calls)
        finally:
            public_goods_native.set_enabled(True)

    return go


def paired_rates(
    scenario: sc.Scenario, batch: int, device: torch.device, timing: Timing
) -> tuple[Rate, Rate, Rate | None]:
    """Agent-steps/s of the public-goods world now, with its earlier step and (where the
    native kernel runs) now on the torch path, interleaved."""
    now = builder.make_world(scenario, batch, device)
    earlier = make_earlier_world(scenario, batch, device)
    runs = {"now": stepper(now, device), "earlier": stepper(earlier, device)}
    if device.type == "cpu" and public_goods_native.enabled():
        plain = builder.make_world(scenario, batch, device)
        runs["torch"] = native_switched(stepper(plain, device), False)
    rates = interleaved_rates(runs, batch * now.spec.num_agents, timing, device_sync(device))
    return rates["now"], rates["earlier"], rates.get("torch")


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


@dataclass
class Row:
    """One batch size: the world now and with its earlier step, and the PettingZoo loop."""

    batch: int
    now: Rate
    earlier: Rate
    looped: float  # agent-steps per wall-clock second
    looped_batch: int  # the B the loop was measured at
    torch_path: Rate | None = None  # now with the native kernel off, where it was on

    @property
    def speedup(self) -> float:
        """Now over earlier, per CPU-second (the two were timed in turn)."""
        return self.now.cpu / self.earlier.cpu


def format_table(rows: list[Row]) -> str:
    head = (
        f"{'B':>7}  {'agent-steps/s':>13}  {'per CPU-s':>12}  {'torch path, CPU-s':>17}  "
        f"{'earlier, CPU-s':>14}  {'speed-up':>8}  {'looped PettingZoo':>17}  {'vs loop':>8}"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        note = "" if r.looped_batch == r.batch else f"  (loop measured at B={r.looped_batch})"
        plain = "-" if r.torch_path is None else f"{r.torch_path.cpu:,.0f}"
        lines.append(
            f"{r.batch:>7}  {r.now.wall:>13,.0f}  {r.now.cpu:>12,.0f}  {plain:>17}  "
            f"{r.earlier.cpu:>14,.0f}  "
            f"{r.speedup:>7.2f}x  {r.looped:>17,.0f}  {r.now.wall / r.looped:>7,.1f}x{note}"
        )
    return "\n".join(lines)


def main(
    quick: bool = False, device: str = "auto", batch_sizes: tuple[int, ...] = BATCH_SIZES
) -> list[Row]:
    """Measure and print the table; returns its rows."""
    timing = QUICK if quick else FULL
    dev = builder.resolve_device(device)
    scenario = sc.load(SCENARIO)
    name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else cpu_name()
    print(f"scenario  {SCENARIO} (N={scenario.num_agents}, no mechanism), random actions")
    print(f"device    {dev} {name or ''} ({os.cpu_count()} CPUs)".rstrip())
    print(f"torch     {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"timing    {timing.repeats} repeats of >= {timing.repeat_s}s, median")
    print("earlier   the same world with its earlier step, timed in turn with it")
    kernel = public_goods_native.note()
    spent = public_goods_native.compile_seconds()
    print(
        "native    "
        + (f"observation kernel off ({kernel})" if kernel else "observation kernel on")
        + (f", compiled in {spent:.2f} s" if spent else "")
        + "; torch path timed in turn where on\n"
    )

    looped = {b: looped_rate(scenario, b, timing) for b in LOOP_BATCH_SIZES}
    rows = []
    for b in batch_sizes:
        now, earlier, plain = paired_rates(scenario, b, dev, timing)
        ref = b if b in looped else max(looped)
        rows.append(Row(b, now, earlier, looped[ref], ref, plain))
    print(format_table(rows))
    return rows
