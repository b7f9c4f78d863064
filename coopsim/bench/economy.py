"""Agent-steps per second of the batched gather-trade-build economy against single worlds.

The batched world steps B economies as tensors, random actions drawn on its device inside the
timed loop (as a policy's sampler would). The baseline is the same economy as B separate
``EconomyWorld``s of batch size 1, stepped one after another in a Python loop: what running
the AI Economist one environment at a time costs. Single worlds are fastest on the CPU (a
B=1 step is a few hundred tiny kernels), so the loop always runs there; on a CUDA machine the
batched rows on the GPU are compared with the same CPU loop.

The world is the one the tax-regime experiments train in (``economy_us_federal``: 4 agents,
25x25 open quadrants, 11x11 views, taxes every 100 steps with a lump-sum rebate), so the
figures include the mechanism pipeline and the observation every learner sees. On the CPU the
step runs on the native kernels of :mod:`coopsim.envs.economy.native` where they are built
(the header says which, with their compile time), the torch path otherwise. Each figure is
the median over timed repeats after a warm-up (:func:`coopsim.bench.throughput.median_rate`).
"""

from __future__ import annotations

import os

import torch

from coopsim import builder
from coopsim import scenario as sc
from coopsim.bench.throughput import FULL, QUICK, Timing, batched_rate, cpu_name, median_rate
from coopsim.envs.economy import native

SCENARIO = "economy_us_federal"
BATCH_SIZES = (1, 64, 1024)


def looped_rate(scenario: sc.Scenario, batch: int, timing: Timing) -> float:
    """Agent-steps/s of B separate B=1 worlds stepped one after another on the CPU."""
    worlds = [builder.make_world(scenario, 1, "cpu") for _ in range(batch)]
    for k, world in enumerate(worlds):
        world.reset(seed=k)
    spec = worlds[0].spec
    nvec = torch.tensor(spec.action_nvec)  # [H]
    gen = torch.Generator().manual_seed(0)
    shape = (batch, spec.num_agents, len(spec.action_nvec))

    def run(calls: int) -> None:
        with torch.inference_mode():
            for _ in range(calls):
                joint = (torch.rand(shape, generator=gen) * nvec).long()  # [B, N, H]
                for b, world in enumerate(worlds):
                    world.step(joint[b : b + 1])
                    if world.t >= spec.horizon:
                        world.reset()

    return median_rate(run, batch * spec.num_agents, timing, lambda: None)


def kernels_line() -> str:
    """Which economy step runs on the CPU: the native kernels (with what building them cost
    this process) or the torch path (and why)."""
    if native.library() is None:
        return f"torch path ({native.note()})"
    spent = native.compile_seconds()
    return f"native, compiled in {spent:.2f} s" if spent else "native, loaded from the cache"


def format_table(rows: list[tuple[str, int, float, float]]) -> str:
    """Rows of (device, B, batched rate, looped rate) as an aligned text table."""
    head = (
        f"{'device':>6}  {'B':>5}  {'batched agent-steps/s':>22}  "
        f"{'B single worlds, looped':>24}  {'ratio':>8}"
    )
    lines = [head, "-" * len(head)]
    for dev, b, fast, slow in rows:
        lines.append(f"{dev:>6}  {b:>5}  {fast:>22,.0f}  {slow:>24,.0f}  {fast / slow:>7,.1f}x")
    return "\n".join(lines)


def main(
    quick: bool = False,
    device: str = "auto",
    batch_sizes: tuple[int, ...] = BATCH_SIZES,
    scenario: str = SCENARIO,
    threads: int | None = None,
) -> list[tuple[str, int, float, float]]:
    """Measure and print the table; returns its rows (device, B, batched, looped).

    ``device = "auto"`` measures the CPU and, where there is one, the GPU too. ``threads``
    sets torch's intra-op threads for the measurement: on a machine other work keeps busy,
    one thread per process is often faster than threads that wait for each other.
    """
    if threads:
        saved = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            return main(quick, device, batch_sizes, scenario)
        finally:
            torch.set_num_threads(saved)
    timing = QUICK if quick else FULL
    scen = sc.load(scenario)
    devices = [torch.device("cpu")]
    if device == "cuda":
        devices = [builder.resolve_device("cuda")]  # refuses with a clear message without a GPU
    elif device == "auto" and torch.cuda.is_available():
        devices.append(torch.device("cuda"))
    w = scen.world
    print(
        f"scenario  {scen.name} (N={w.num_agents}, {w.height}x{w.width} {w.layout}, "
        f"{scen.mechanism_label}), random actions"
    )
    print(f"cpu       {cpu_name() or 'unknown'} ({os.cpu_count()} CPUs)")
    if any(d.type == "cuda" for d in devices):
        print(f"gpu       {torch.cuda.get_device_name()}")
    print(f"torch     {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"kernels   {kernels_line()}")
    print(f"timing    {timing.repeats} repeats of >= {timing.repeat_s}s, median")
    print("baseline  B separate B=1 worlds stepped in a Python loop on the CPU\n")

    looped = {b: looped_rate(scen, b, timing) for b in batch_sizes}
    rows = []
    for dev in devices:
        for b in batch_sizes:
            rows.append((dev.type, b, batched_rate(scen, b, dev, timing), looped[b]))
    print(format_table(rows))
    return rows
