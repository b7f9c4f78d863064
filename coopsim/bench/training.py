"""Training benchmarks: PPO throughput by batch size, and seconds of training to a result.

**Throughput** is agent-steps per second of whole training iterations of the
``public_goods_learning`` scenario: the rollout of B worlds x T steps with the policy's forward
pass, generalised advantage estimation and the PPO update (4 epochs of 4 minibatches), as
:meth:`coopsim.train.Trainer.train_iteration` does them. Each figure is the median over timed
repeats of whole iterations after warm-up iterations (the first builds the optimiser and
imports what it needs); the ratio compares each B with the smallest B measured on the same
device in the same run.

**Time to result** trains ``public_goods_learning_matching`` (4:1 matching funds, where
contributing everything is each agent's best reply) and, after every iteration, evaluates the
learners on 64 fresh episodes with *sampled* actions (the policy as it was trained, as
``coopsim run`` evaluates it). The clock counts training iterations only, not those
evaluations; the result is the training time until the learners' mean contribution rate first
passes 90%.

**The economy** (:mod:`coopsim.bench.economy_training`): agent-steps per second per thread of
PPO on ``economy_free_market``, with the shares of time in the world, inference and the update,
for the scenario's training hyperparameters and, interleaved in the same run, the settings it
trained with before; then the same for the paper family (``economy_paper_free_market``, 1000-step
episodes, its scenarios' 128 worlds and one pass) against the settings its scenarios trained
with before (16 worlds, two passes), with the first candidate (64 worlds, two passes) beside
them.
"""

from __future__ import annotations

import os
import statistics
import time
from dataclasses import dataclass

import torch

from coopsim import builder
from coopsim import scenario as sc
from coopsim.bench import economy_training
from coopsim.bench.throughput import cpu_name
from coopsim.evaluate import evaluate
from coopsim.train import Trainer

THROUGHPUT_SCENARIO = "public_goods_learning"
RESULT_SCENARIO = "public_goods_learning_matching"
BATCH_SIZES = (16, 64, 256, 1024)
TARGET = 0.90  # contribution rate the learners must pass
EVAL_EPISODES = 64


@dataclass
class Plan:
    """How long to measure: warm-up iterations, repeats, seconds per repeat; result seeds."""

    warmup_iterations: int
    repeats: int
    repeat_s: float
    seeds: tuple[int, ...]
    max_iterations: int
    batch_sizes: tuple[int, ...]
    economy_repeats: int = 3  # timed iterations of each economy configuration (0: none)
    paper_repeats: int = 0  # the same for the paper family's two configurations (0: none)


FULL = Plan(
    warmup_iterations=2,
    repeats=5,
    repeat_s=1.0,
    seeds=(0, 1, 2),
    max_iterations=100,
    batch_sizes=BATCH_SIZES,
    economy_repeats=5,
    paper_repeats=3,
)
QUICK = Plan(
    warmup_iterations=1,
    repeats=3,
    repeat_s=0.3,
    seeds=(0,),
    max_iterations=60,
    batch_sizes=(16, 256),
    economy_repeats=2,
)


@dataclass
class ThroughputRow:
    device: str
    batch: int
    steps_per_s: float  # agent-steps per second, PPO update included
    iteration_ms: float  # median milliseconds per training iteration
    ratio: float  # steps_per_s / that of the smallest B on the same device


@dataclass
class ResultRow:
    device: str
    batch: int
    seed: int
    iterations: int | None  # training iterations until the target was passed; None: never
    seconds: float  # training seconds spent (until the target, or in all when never)
    agent_steps: int
    rate: float  # contribution rate at the end


def _trainer(name: str, batch: int, device: torch.device, seed: int) -> Trainer:
    scenario = sc.load(name)
    scenario.training.num_worlds = batch
    # A long nominal budget so the entropy schedule stays where the scenario starts it.
    return Trainer(scenario, seed=seed, device=str(device), iterations=10_000)


def training_rate(batch: int, device: torch.device, plan: Plan) -> ThroughputRow:
    """Median agent-steps/s over repeats of whole training iterations at batch size B."""
    trainer = _trainer(THROUGHPUT_SCENARIO, batch, device, seed=0)
    for _ in range(plan.warmup_iterations):
        trainer.train_iteration()
    # Iterations per repeat so that one repeat lasts about repeat_s.
    t0 = time.perf_counter()
    trainer.train_iteration()
    per_iteration = time.perf_counter() - t0
    calls = max(1, round(plan.repeat_s / max(per_iteration, 1e-6)))
    rates, times = [], []
    for _ in range(plan.repeats):
        steps0 = trainer.agent_steps
        t0 = time.perf_counter()
        for _ in range(calls):
            trainer.train_iteration()  # ends in float() reads: the device is synchronised
        dt = time.perf_counter() - t0
        rates.append((trainer.agent_steps - steps0) / dt)
        times.append(dt / calls)
    return ThroughputRow(
        str(device), batch, statistics.median(rates), 1e3 * statistics.median(times), 0.0
    )


def time_to_result(batch: int, device: torch.device, seed: int, plan: Plan) -> ResultRow:
    """Train until the evaluated learners pass TARGET contribution (or max_iterations)."""
    trainer = _trainer(RESULT_SCENARIO, batch, device, seed=seed)
    scenario = trainer.scenario
    endowment = float(scenario.world.endowment)
    seconds, rate = 0.0, 0.0
    for k in range(1, plan.max_iterations + 1):
        row = trainer.train_iteration()
        seconds += row["seconds"]
        result = evaluate(
            scenario,
            seed=10_000 + k,
            episodes=EVAL_EPISODES,
            device=str(device),
            population=trainer.population,
        )
        frame = result.episodes
        rate = float((frame["contribution"] / endowment).mean())
        if rate > TARGET:
            return ResultRow(str(device), batch, seed, k, seconds, trainer.agent_steps, rate)
    return ResultRow(str(device), batch, seed, None, seconds, trainer.agent_steps, rate)


def format_throughput(rows: list[ThroughputRow]) -> str:
    head = (
        f"{'device':>6}  {'B':>6}  {'agent-steps/s (with update)':>28}  "
        f"{'ms/iteration':>12}  {'vs smallest B':>13}"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{r.device:>6}  {r.batch:>6}  {r.steps_per_s:>28,.0f}  {r.iteration_ms:>12.1f}  "
            f"{r.ratio:>12.1f}x"
        )
    return "\n".join(lines)


def format_results(rows: list[ResultRow]) -> str:
    head = (
        f"{'device':>6}  {'B':>6}  {'seed':>4}  {'iterations':>10}  {'train s':>8}  "
        f"{'agent-steps':>12}  {'contribution':>12}"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        its = str(r.iterations) if r.iterations is not None else "not reached"
        lines.append(
            f"{r.device:>6}  {r.batch:>6}  {r.seed:>4}  {its:>10}  {r.seconds:>8.2f}  "
            f"{r.agent_steps:>12,}  {r.rate:>12.3f}"
        )
    return "\n".join(lines)


def devices(device: str) -> list[torch.device]:
    """'auto' measures the CPU and, where there is one, CUDA; otherwise the one asked for."""
    if device == "auto":
        return [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    return [builder.resolve_device(device)]


def main(
    quick: bool = False, device: str = "auto", threads: int | None = None
) -> tuple[list[ThroughputRow], list[ResultRow]]:
    """Measure and print the tables (the economy's on the CPU); returns the first two's rows."""
    plan = QUICK if quick else FULL
    if threads is not None:
        torch.set_num_threads(threads)
    devs = devices(device)
    scenario = sc.load(THROUGHPUT_SCENARIO)
    spec = scenario.world
    print(
        f"scenario  {THROUGHPUT_SCENARIO} (N={spec.num_agents}, T={spec.rounds}), PPO "
        f"{scenario.training.update_epochs} epochs x {scenario.training.num_minibatches} "
        "minibatches per iteration"
    )
    for dev in devs:
        name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else cpu_name()
        print(f"device    {dev} {name or ''} ({os.cpu_count()} CPUs)".rstrip())
    print(f"torch     {torch.__version__}, {torch.get_num_threads()} threads")
    print(
        f"timing    {plan.warmup_iterations} warm-up iterations, then {plan.repeats} repeats "
        f"of >= {plan.repeat_s}s of whole iterations, median\n"
    )
    throughput: list[ThroughputRow] = []
    for dev in devs:
        rows = [training_rate(b, dev, plan) for b in plan.batch_sizes]
        for r in rows:
            r.ratio = r.steps_per_s / rows[0].steps_per_s
        throughput += rows
    print(format_throughput(throughput))

    print(
        f"\ntime to result: {RESULT_SCENARIO}, training seconds until the learners' "
        f"contribution rate passes {TARGET:.0%}"
    )
    print(
        f"(evaluated after every iteration on {EVAL_EPISODES} episodes, sampled actions; "
        f"evaluation time not counted; at most {plan.max_iterations} iterations)\n"
    )
    batch = sc.load(RESULT_SCENARIO).training.num_worlds
    results = [time_to_result(batch, dev, seed, plan) for dev in devs for seed in plan.seeds]
    print(format_results(results))
    if plan.economy_repeats:
        print(
            f"\neconomy: PPO on {economy_training.SCENARIO} from iteration "
            f"{economy_training.START_ITERATION}, CPU, {torch.get_num_threads()} threads; "
            "the earlier and the scenario's training hyperparameters interleaved, median of "
            f"{plan.economy_repeats} iterations each; shares of each iteration's time\n"
        )
        print(economy_training.format_table(economy_training.compare(plan.economy_repeats)))
    if plan.paper_repeats:
        print(
            f"\npaper family: PPO on {economy_training.PAPER_SCENARIO} from iteration "
            f"{economy_training.START_ITERATION}, CPU, {torch.get_num_threads()} threads; "
            "the earlier and the scenario's training hyperparameters interleaved, median of "
            f"{plan.paper_repeats} iterations each; shares of each iteration's time\n"
        )
        rows = economy_training.compare_paper(plan.paper_repeats)
        print(economy_training.format_table(rows))
    return throughput, results
