"""PPO on the gather-trade-build economy: agent-steps per second per thread, and where they go.

Each figure is whole training iterations of ``economy_free_market`` past its labour warm-up
(:meth:`coopsim.train.Trainer.train_iteration`: the rollout with the policy's forward pass, then
the PPO update), the median over timed repeats after a warm-up iteration. A stopwatch around
the world's methods, the learners' acting and the update splits each iteration's time into

* **env**: the world's step, action masks, resets and re-observations (observations included);
* **inference**: the policies' forward pass and sampling while collecting;
* **update**: advantages and the PPO update of every learner;
* **other**: what is left: storage writes, the iteration's tally, curriculum, bookkeeping.

Two configurations run side by side in one process, so their ratio holds on a machine other
work keeps busy: ``EARLIER``, the settings the economy scenarios trained with before (16
worlds, 4 epochs of 8 minibatches of 1,600 samples, two 16-channel conv layers over the map),
and the scenario as shipped: 64 worlds, 2 epochs of 64 minibatches of 800 (the same minibatch
steps per agent-step, each sample seen twice instead of four times) and one dense layer over
the map, five times cheaper than the conv layers. The shipped setting runs ~4x the
agent-steps per second per thread; at an equal budget of agent-steps its agents learn less (a
quarter of the iterations, and an iteration's policy improvement is what a budget buys), at an
equal wall time more (docs/benchmarks.md, "Economy training"), which is why the scenarios run it.

The paper family (:func:`compare_paper`, 1000-step episodes) compares the same way: the
settings its scenarios trained with before (``PAPER_EARLIER``: 16 worlds, 2 passes of 16
minibatches of 4,000), the scenario as shipped (``PAPER_FAST``: 128 worlds, one pass of 128
minibatches of 4,000, the map layer's products in bfloat16) and ``PAPER_WIDE`` (64 worlds, 2
passes of 64), the first candidate. At an equal budget of agent-steps the shipped setting
learned more than the earlier one on every seed compared (docs/benchmarks.md).
"""

from __future__ import annotations

import copy
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from coopsim import scenario as sc
from coopsim.config.training import TrainingConfig
from coopsim.train import Trainer

SCENARIO = "economy_free_market"
SHARES = ("env", "inference", "update", "other")
# What the economy scenarios trained with before the shipped setting: a quarter of the worlds
# per iteration, twice the passes over each sample, and conv layers over the map.
EARLIER = {
    "num_worlds": 16,
    "update_epochs": 4,
    "num_minibatches": 8,
    "map_encoder": "conv",
}
START_ITERATION = 60  # past the labour warm-up (25 iterations): agents work, build and trade

# The paper family (``economy_paper_*``: 1000-step episodes on the AI Economist's map) against
# the settings its scenarios trained with before: 16 worlds, 2 passes of 16 minibatches of
# 4,000 samples, one dense layer of 64 over the map.
PAPER_SCENARIO = "economy_paper_free_market"
PAPER_EARLIER = {
    "num_worlds": 16,
    "update_epochs": 2,
    "num_minibatches": 16,
    "map_encoder": "linear",
    "map_embedding": 64,
    "map_precision": "float32",
}
# A first candidate measured beside them: four times the worlds per iteration with minibatches
# of the same size (2 passes of 64 minibatches of 4,000), so each sample gets the same gradient
# steps: 2.15x per CPU-second, and more learned per agent-step on three seeds.
PAPER_WIDE = PAPER_EARLIER | {"num_worlds": 64, "num_minibatches": 64}
# What the paper scenarios train with now ("fast"): eight times the earlier worlds, one pass
# over each sample in 128 minibatches of 4,000, and the map layer's products in bfloat16. At
# wide half an iteration was the update, whose cost is per pass over a sample; one pass halves
# it, 128 worlds spread the world's and acting's per-step kernels over twice the agents again,
# and bfloat16 halves the map layer, the largest of the update's matrix products.
PAPER_FAST = PAPER_EARLIER | {
    "num_worlds": 128,
    "update_epochs": 1,
    "num_minibatches": 128,
    "map_precision": "bfloat16",
}


@dataclass
class EconomyRow:
    label: str
    batch: int  # worlds B
    epochs: int
    minibatches: int
    encoder: str  # the map encoder, e.g. "conv 16" or "linear 64"
    steps_per_s: float  # agent-steps per second, update included
    threads: int  # torch intra-op threads during the measurement
    shares: dict[str, float] = field(default_factory=dict)  # of each iteration's time
    ratio: float = 1.0  # steps_per_s / that of the first row
    # Agent-steps per second of the process's CPU time: on a machine other work keeps busy a
    # process waits for a core at random moments, which wall time counts and CPU time does not.
    cpu_steps_per_s: float = 0.0
    cpu_ratio: float = 1.0  # cpu_steps_per_s / that of the first row

    @property
    def per_thread(self) -> float:
        return self.steps_per_s / self.threads


class Stopwatch:
    """Seconds spent in named parts of a trainer, by wrapping the methods that do them."""

    def __init__(self) -> None:
        self.seconds = dict.fromkeys(SHARES, 0.0)

    def wrap(self, owner: object, method: str, part: str) -> None:
        inner: Callable = getattr(owner, method)

        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                self.seconds[part] += time.perf_counter() - start

        setattr(owner, method, timed)

    def attach(self, trainer: Trainer) -> None:
        for method in ("step", "action_mask", "reset", "observe", "replicate"):
            self.wrap(trainer.world, method, "env")
        for policy, _ in trainer.learners:
            self.wrap(policy, "step", "inference")
        self.wrap(trainer, "update_learners", "update")

    def reset(self) -> None:
        self.seconds = dict.fromkeys(SHARES, 0.0)

    def shares(self, total: float) -> dict[str, float]:
        out = {k: v / total for k, v in self.seconds.items() if k != "other"}
        out["other"] = max(0.0, 1.0 - sum(out.values()))
        return out


class Probe:
    """One configuration's trainer with its stopwatch, timed an iteration at a time."""

    def __init__(self, label: str, overrides: dict[str, int], scenario: sc.Scenario):
        scen = copy.deepcopy(scenario)
        for name, value in overrides.items():
            setattr(scen.training, name, value)
        self.label, self.config = label, scen.training
        self.trainer = Trainer(scen, seed=0, device="cpu", iterations=10_000)
        self.trainer.iteration = START_ITERATION  # the curriculum of a trained run's middle
        self.watch = Stopwatch()
        self.watch.attach(self.trainer)
        self.rates: list[float] = []
        self.cpu_rates: list[float] = []
        self.total = 0.0

    def iterate(self, timed: bool = True) -> None:
        trainer = self.trainer
        steps0, start, start_cpu = trainer.agent_steps, time.perf_counter(), time.process_time()
        trainer.train_iteration()
        dt, cpu = time.perf_counter() - start, time.process_time() - start_cpu
        if timed:
            self.rates.append((trainer.agent_steps - steps0) / dt)
            self.cpu_rates.append((trainer.agent_steps - steps0) / max(cpu, 1e-9))
            self.total += dt
        else:
            self.watch.reset()

    def row(self) -> EconomyRow:
        c = self.config
        return EconomyRow(
            self.label,
            c.num_worlds,
            c.update_epochs,
            c.num_minibatches,
            encoder_label(c),
            statistics.median(self.rates),
            torch.get_num_threads(),
            self.watch.shares(self.total),
            cpu_steps_per_s=statistics.median(self.cpu_rates),
        )


def encoder_label(config: TrainingConfig) -> str:
    """The map encoder in a few characters: its kind and its width."""
    if config.map_encoder == "linear":
        low = " bf16" if config.map_precision == "bfloat16" else ""
        return f"linear {config.map_embedding}{low}"
    return f"conv {config.conv_channels}"


def compare(
    repeats: int,
    scenario: sc.Scenario | None = None,
    earlier: dict | None = None,
    more: dict[str, dict] | None = None,
) -> list[EconomyRow]:
    """``earlier`` (``EARLIER`` unless given), the scenario's hyperparameters
    (``economy_free_market`` unless given) and any ``more`` ({label: overrides}), their
    iterations interleaved so that all see the same load; the median of ``repeats`` iterations
    each."""
    base = scenario or sc.load(SCENARIO)
    probes = [Probe("earlier", EARLIER if earlier is None else earlier, base)]
    probes.append(Probe("scenario", {}, base))
    probes += [Probe(label, overrides, base) for label, overrides in (more or {}).items()]
    for probe in probes:
        probe.iterate(timed=False)  # the first iteration builds what the others reuse
    for _ in range(repeats):
        for probe in probes:
            probe.iterate()
    rows = [probe.row() for probe in probes]
    for r in rows:
        r.ratio = r.steps_per_s / rows[0].steps_per_s
        r.cpu_ratio = r.cpu_steps_per_s / rows[0].cpu_steps_per_s
    return rows


def compare_paper(repeats: int) -> list[EconomyRow]:
    """The paper family's rows: ``PAPER_EARLIER``, ``economy_paper_free_market`` as shipped
    (``PAPER_FAST``) and the ``PAPER_WIDE`` candidate ("wide"), interleaved as :func:`compare`
    does."""
    return compare(repeats, sc.load(PAPER_SCENARIO), PAPER_EARLIER, {"wide": PAPER_WIDE})


def format_table(rows: list[EconomyRow]) -> str:
    head = (
        f"{'config':>8}  {'B':>4}  {'epochs x mb':>11}  {'map encoder':>16}  "
        f"{'agent-steps/s/thread':>20}  "
        + "  ".join(f"{s:>9}" for s in SHARES)
        + f"  {'vs earlier':>11}  {'per CPU-second':>14}  {'vs earlier':>11}"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        shares = "  ".join(f"{r.shares[s]:>9.0%}" for s in SHARES)
        lines.append(
            f"{r.label:>8}  {r.batch:>4}  {f'{r.epochs} x {r.minibatches}':>11}  "
            f"{r.encoder:>16}  {r.per_thread:>20,.0f}  {shares}  {r.ratio:>10.2f}x"
            f"  {r.cpu_steps_per_s:>14,.0f}  {r.cpu_ratio:>10.2f}x"
        )
    return "\n".join(lines)
