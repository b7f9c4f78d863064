"""The AI Economist's comparison: four tax regimes in the gather-trade-build economy.

Trains PPO agents under the free market, the 2018 US federal schedule, the Saez formula and a
learned planner, evaluates each, and prints equality, productivity, their product (the
planner's objective) and utilitarian welfare with 95% confidence intervals, as Zheng et al.
(2022) report them. The protocol is theirs, shrunk to a CPU budget:

1. **Phase 1, shared.** The planner scenario's trainer runs its curriculum's first phase: the
   agents learn with every rate at zero while the cost of labour is warmed up from 0 to 1.
2. **Phase 2, per regime.** Every regime starts from those agents (weights and optimiser
   state) and trains the same number of iterations under its own taxes: zero rates, the US
   schedule, the Saez schedule (which adapts to the incomes it observes), or the planner, which
   now acts every tax period with its top rate annealed from 10% to 100% (the same trainer
   simply continues).
3. **Evaluation.** Each regime's agents play ``episodes`` fresh worlds (new maps, skills and
   start positions: one seed each) under the rules training ended with
   (:func:`coopsim.train.evaluate_trained` when it exists: the planner's learned schedule,
   the Saez mechanism's estimates).

The training worlds of every regime draw the same episode seeds, so regimes differ by their
taxes, not by their luck. Every regime gets the same agent budget: phase 1 plus phase 2.

The scenario files make two concessions to a budget of minutes instead of days: 200-step
episodes (the paper: 1000) and labour at 0.05 utility per unit (the paper: 0.21). At 0.05
agents keep working after the warm-up and a high tax can still make work not worth its
labour; at the paper's cost agents this briefly trained learn to stay idle once the warm-up
ends (``--labour-cost 0.21``), leaving next to nothing to tax. The printout says what the
agents did (houses, gathers, moves, orders and trades per agent and episode) and which
schedule each regime ended with, and compares the planner with each regime world by world
(every regime is evaluated on the same seeds), so the table is read for what it is.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from coopsim import scenario as sc
from coopsim.evaluate import Evaluation

#: Regime label -> scenario name, in table order.
REGIMES = {
    "free market": "economy_free_market",
    "US federal": "economy_us_federal",
    "Saez": "economy_saez",
    "AI planner": "economy_ai_planner",
}
PLANNER = "AI planner"
BASELINE = "free market"
TABLE_METRICS = ("equality", "productivity", "equality_times_productivity", "utilitarian_welfare")
SWEEP_METRIC = "equality_times_productivity"  # the planner's objective, compared across seeds


@dataclass(frozen=True)
class Budget:
    """What the comparison trains and evaluates; the defaults take ~9 min on 2 CPU cores."""

    phase1: int = 100  # shared iterations, no tax, labour cost warmed up over the first half
    phase2: int = 100  # iterations per regime after phase 1
    num_worlds: int = 16  # worlds B per training iteration
    episode_length: int = 200  # steps per episode (the paper: 1000)
    episodes: int = 64  # evaluation episodes (fresh worlds, one seed each) per regime
    seed: int = 0  # training seed (evaluation uses the scenario's evaluation seed)
    device: str = "cpu"
    labour_cost: float | None = None  # utility per unit of labour; None: the scenario's

    def agent_steps(self, num_agents: int = 4) -> int:
        """Agent-steps one regime's agents train for (phase 1 counted once per regime)."""
        per_iteration = self.num_worlds * self.episode_length * num_agents
        return (self.phase1 + self.phase2) * per_iteration


DEFAULT = Budget()
QUICK = Budget(phase1=1, phase2=1, num_worlds=2, episode_length=20, episodes=5)


@dataclass
class RegimeResult:
    """One regime's evaluation and what training took."""

    label: str
    scenario: str
    evaluation: Evaluation
    rates: list[float]  # the schedule evaluated, one rate per bracket
    train_seconds: float
    rows: list[dict[str, float]] = field(default_factory=list)  # phase-2 training rows

    def metric(self, name: str) -> dict[str, float]:
        return self.evaluation.summary[name]


def configure(name: str, budget: Budget) -> sc.Scenario:
    """The regime's scenario with the budget's world size and training length installed.

    The curriculum keeps the scenario's proportions: labour warm-up as a share of phase 1,
    rate annealing as a share of phase 2.
    """
    scen = sc.load(name)
    world = {"episode_length": budget.episode_length}
    if budget.labour_cost is not None:
        world["labour_cost"] = budget.labour_cost
    scen.world = dataclasses.replace(scen.world, **world)
    total = budget.phase1 + budget.phase2
    # every regime's file states the planner's curriculum: its phase 1 sets the proportions
    p1 = max(1, sc.load(REGIMES[PLANNER]).planner.phase1_iterations)
    scen.training = dataclasses.replace(
        scen.training,
        iterations=total,
        num_worlds=budget.num_worlds,
        seed=budget.seed,
        labour_warmup=round(budget.phase1 * scen.training.labour_warmup / p1),
    )
    scen.evaluation = dataclasses.replace(scen.evaluation, episodes=budget.episodes)
    if scen.planner is not None:
        pc = scen.planner
        p2 = max(1, sc.load(name).training.iterations - pc.phase1_iterations)
        scen.planner = dataclasses.replace(
            pc,
            phase1_iterations=budget.phase1,
            anneal_iterations=round(budget.phase2 * pc.anneal_iterations / p2),
        )
    return scen


def _evaluate(trainer, episodes: int) -> tuple[Evaluation, list[float]]:
    """Evaluate a trained regime under the rules its training ended with; also the rates."""
    from coopsim import train

    scen = trainer.scenario
    seed = scen.evaluation.seed
    fn = getattr(train, "evaluate_trained", None)
    schedule_of = getattr(train, "planner_schedule", None)
    if fn is not None:
        evaluation = fn(trainer, seed=seed, episodes=episodes, device=str(trainer.device))
        rates = schedule_of(trainer) if schedule_of is not None else None
        if rates is None:
            rates = train.find_mechanism(trainer.world, "tax").rates.mean(0)
        return evaluation, [float(r) for r in rates]
    # Without it: install the planner's most likely schedule (shown last period's incomes as
    # none and the rates it last set) in a copy of the scenario, and evaluate that.
    from coopsim.evaluate import evaluate

    tax = train.find_mechanism(trainer.world, "tax")
    rates = tax.rates.mean(0)
    if trainer.planner is not None:
        incomes = torch.zeros(1, trainer.world.spec.num_agents, device=trainer.device)
        rates = trainer.planner.greedy_rates(incomes, tax.rates[:1])[0]
        scen = copy.deepcopy(scen)
        for mech in scen.mechanisms:
            if mech.kind == trainer.planner.config.mechanism:
                mech.params.schedule = "custom"
                mech.params.rates = [float(r) for r in rates]
                break
    evaluation = evaluate(
        scen, seed=seed, episodes=episodes, device=str(trainer.device),
        population=trainer.population,
    )  # fmt: skip
    return evaluation, [float(r) for r in rates]


def phase1(budget: Budget, name: str, log: Callable[[str], None] = print) -> tuple[Any, dict]:
    """Run the planner scenario ``name``'s curriculum phase 1 (agents only, no tax).

    Returns its trainer and the state every fixed-rule regime starts from: the iteration
    reached and the agents' weights and optimiser (the planner continues from the trainer's
    whole state, its untrained planner included).
    """
    from coopsim.train import Trainer

    shared = Trainer(configure(name, budget), seed=budget.seed, device=budget.device)
    if shared.planner is None:
        raise ValueError(f"{name}: phase 1 is a planner's curriculum; the scenario has none")
    while shared.iteration < budget.phase1:
        log(_progress("phase 1", shared.train_iteration()))
    start = {
        "iteration": shared.iteration,
        "agent_steps": shared.agent_steps,
        "learners": copy.deepcopy([p.state_dict() for p, _ in shared.learners]),
        "planner": None,
        "rates": None,
    }
    return shared, start


def regime_trainer(name: str, budget: Budget, start: dict) -> Any:
    """A trainer for regime ``name`` whose agents (and planner, if any) start from ``start``."""
    from coopsim.train import Trainer

    trainer = Trainer(configure(name, budget), seed=budget.seed, device=budget.device)
    trainer.load_state_dict(copy.deepcopy(start))
    return trainer


def train_regime(
    label: str,
    name: str,
    budget: Budget,
    start: dict,
    log: Callable[[str], None] | None = print,
    threads: int | None = None,
) -> RegimeResult:
    """Phase 2 of one regime from ``start``, then its evaluation; runs in a worker process
    as well as in this one (everything it needs is in its arguments)."""
    if threads:
        torch.set_num_threads(threads)
    log = log or (lambda _: None)
    t0 = time.perf_counter()
    trainer = regime_trainer(name, budget, start)
    log(f"phase 2: {label} ({name}), {budget.phase2} iterations")
    rows = []
    while trainer.iteration < trainer.iterations:
        rows.append(trainer.train_iteration())
        log(_progress(label, rows[-1]))
    seconds = time.perf_counter() - t0
    evaluation, rates = _evaluate(trainer, budget.episodes)
    return RegimeResult(label, name, evaluation, rates, seconds, rows)


def run(
    budget: Budget = DEFAULT,
    regimes: dict[str, str] = REGIMES,
    log: Callable[[str], None] = print,
    workers: int = 1,
) -> tuple[list[RegimeResult], dict[str, float]]:
    """Train and evaluate every regime; returns results in table order and wall-clock times.

    With ``workers`` > 1 the regimes' phase 2 run in that many processes (one torch thread
    each): on a CPU the networks are too small for several threads to help one regime, but
    separate regimes scale with the cores.
    """
    if PLANNER not in regimes:
        raise ValueError(f"the comparison needs the {PLANNER!r} regime: phase 1 is its curriculum")
    clock = {"start": time.perf_counter()}
    log(f"phase 1: {budget.phase1} iterations, no tax, labour cost warmed up (shared)")
    shared, start = phase1(budget, regimes[PLANNER], log)
    starts = {label: start for label in regimes}
    starts[PLANNER] = shared.state_dict()  # the planner's curriculum simply continues
    del shared
    clock["phase1"] = time.perf_counter() - clock["start"]
    t0 = time.perf_counter()
    if workers <= 1:
        results = [train_regime(k, v, budget, starts[k], log) for k, v in regimes.items()]
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        ctx = multiprocessing.get_context("spawn")  # no forked torch state in the workers
        shown = print if log is print else None  # workers print their progress, or nothing
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            jobs = [
                pool.submit(train_regime, k, v, budget, starts[k], shown, 1)
                for k, v in regimes.items()
            ]
            results = [job.result() for job in jobs]
    for r in results:
        clock[r.label] = r.train_seconds
    clock["phase2 and evaluation"] = time.perf_counter() - t0
    clock["total"] = time.perf_counter() - clock.pop("start")
    return results, clock


def _progress(label: str, row: dict[str, float]) -> str:
    keys = ("agents_return", "agents_entropy", "objective", "max_rate", "seconds")
    shown = "  ".join(f"{k} {row[k]:.3g}" for k in keys if k in row)
    return f"  {label:>11} it {int(row['iteration']):>3}  {shown}"


def format_table(results: list[RegimeResult]) -> str:
    """Mean [95% CI] per metric and regime, and equality x productivity against the others."""
    names = {
        "equality": "equality",
        "productivity": "productivity",
        "equality_times_productivity": "equality x prod.",
        "utilitarian_welfare": "utilitarian welfare",
    }
    head = f"{'regime':<12}" + "".join(f"{names[m]:>26}" for m in TABLE_METRICS)
    lines = [head, "-" * len(head)]
    for r in results:
        cells = []
        for m in TABLE_METRICS:
            s = r.metric(m)
            cells.append(f"{s['mean']:>9.3f} [{s['ci_low']:>6.2f},{s['ci_high']:>6.2f}]")
        lines.append(f"{r.label:<12}" + "".join(f"{c:>26}" for c in cells))
    by = {r.label: r for r in results}
    lines.append("")
    for ref in (BASELINE, "US federal", "Saez"):
        if PLANNER not in by or ref not in by:
            continue
        gain, diff = paired_gain(by[PLANNER], by[ref])
        shown = f"{gain:+.1%}" if gain is not None else "(no ratio: it produced nothing)"
        lines.append(
            f"AI planner vs {ref + ':':<11} equality x productivity {shown:>7}; paired "
            f"difference per world {diff['mean']:+.2f} [{diff['ci_low']:+.2f}, "
            f"{diff['ci_high']:+.2f}]"
        )
    if PLANNER in by:
        lines.append(
            "(the paired intervals cover the evaluation worlds, not the luck of training: a "
            "regime's result moves by ~8% from one training seed to the next; --seeds "
            "0,1,2,... compares over several)"
        )
    return "\n".join(lines)


def paired_gain(
    result: RegimeResult, ref: RegimeResult, metric: str = "equality_times_productivity"
) -> tuple[float | None, dict[str, float]]:
    """Relative gain of ``result`` over ``ref`` and the 95% interval of their paired difference.

    Every regime is evaluated on the same seeds, so evaluation world k has the same map, skills
    and start positions under each: differences taken world by world remove the luck of the
    draw (a world of high-skilled agents is productive under any tax) from the comparison.
    """
    a = result.evaluation.episode_metrics[metric].to_numpy()
    b = ref.evaluation.episode_metrics[metric].to_numpy()
    if a.shape != b.shape:
        raise ValueError(f"{result.label} and {ref.label} were evaluated on different episodes")
    return gain_over(a, b)


def gain_over(a: np.ndarray, b: np.ndarray) -> tuple[float | None, dict[str, float] | None]:
    """Relative gain of values ``a`` over ``b`` (None if b's mean is not positive), and the 95%
    interval of their difference world by world (None unless both cover the same worlds)."""
    from coopsim.evaluate import confidence_interval

    mean_ref = float(b.mean())
    gain = float(a.mean()) / mean_ref - 1 if mean_ref > 0 else None
    return gain, confidence_interval(a - b) if a.shape == b.shape else None


def format_details(results: list[RegimeResult]) -> str:
    """What each regime's agents did and the schedule they were evaluated under.

    Per agent and evaluation episode: income earned (houses and sales, before tax), houses
    built, gather acts, moves, orders posted and units bought.
    """
    lines = [f"{'regime':<12}{'income':>11}{'houses':>8}{'gathers':>9}{'moves':>8}"
             f"{'orders':>8}{'trades':>8}  rates (per US bracket)"]  # fmt: skip
    for r in results:
        eps = r.evaluation.episodes
        per = eps.groupby(["episode", "agent"], observed=True).sum(numeric_only=True).mean()
        rates = " ".join(f"{x:.2f}" for x in r.rates)
        lines.append(
            f"{r.label:<12}{per.get('income', 0.0):>11.2f}{per.get('built', 0.0):>8.2f}"
            f"{per.get('gathers', 0.0):>9.2f}{per.get('moved', 0.0):>8.1f}"
            f"{per.get('orders', 0.0):>8.1f}{per.get('bought', 0.0):>8.2f}  {rates}"
        )
    return "\n".join(lines)


def write_outputs(results: list[RegimeResult], clock: dict, budget: Budget, out: Path) -> dict:
    """Specialisation figures (one per regime) and a JSON summary under ``out``."""
    from coopsim import figures
    from coopsim.analysis.economy import labour_weights

    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for r in results:
        world = sc.load(r.scenario).world
        fig = figures.specialisation(
            r.evaluation.episodes,
            labour=labour_weights(world),
            title=f"Specialisation under {r.label}",
        )
        path = out / f"specialisation_{r.scenario.removeprefix('economy_')}.png"
        fig.savefig(path, dpi=110)
        paths[r.label] = str(path)
    summary: dict[str, Any] = {
        "budget": dataclasses.asdict(budget),
        "agent_steps_per_regime": budget.agent_steps(),
        "seconds": clock,
        "regimes": {
            r.label: {
                "scenario": r.scenario,
                "rates": r.rates,
                "metrics": {m: r.metric(m) for m in TABLE_METRICS},
                # per evaluation world, so saved seeds can be compared world by world later
                "per_world": {SWEEP_METRIC: r.evaluation.episode_metrics[SWEEP_METRIC].tolist()},
                "figure": paths[r.label],
            }
            for r in results
        },
    }
    (out / "economy_regimes.json").write_text(json.dumps(summary, indent=2))
    return summary


def sweep_values(by_seed: dict[int, list[RegimeResult]]) -> dict[int, dict[str, np.ndarray]]:
    """{seed: [results]} -> {seed: {regime: equality x productivity per evaluation world}}."""
    return {
        seed: {r.label: r.evaluation.episode_metrics[SWEEP_METRIC].to_numpy() for r in results}
        for seed, results in by_seed.items()
    }


def load_sweep(out: str | Path) -> dict[int, dict[str, np.ndarray]]:
    """The sweep's values from the ``seed_<s>/economy_regimes.json`` files under ``out``.

    Seeds run in several batches, or on several machines into one folder, table as one sweep.
    A summary written before per-world values were saved gives its regimes' means alone (one
    value each), and its row shows no paired interval.
    """
    out = Path(out)
    found = sorted(out.glob("seed_*/economy_regimes.json"))
    if not found:
        raise FileNotFoundError(f"{out}: no seed_<s>/economy_regimes.json here to table")
    values: dict[int, dict[str, np.ndarray]] = {}
    for path in found:
        summary = json.loads(path.read_text())
        seed = int(summary["budget"]["seed"])
        if seed in values:
            raise ValueError(f"{path}: training seed {seed} is in two folders under {out}")
        values[seed] = {
            label: np.asarray(
                entry.get("per_world", {}).get(SWEEP_METRIC)
                or [entry["metrics"][SWEEP_METRIC]["mean"]],
                dtype=float,
            )
            for label, entry in summary["regimes"].items()
        }
    return dict(sorted(values.items()))


def format_sweep(
    by_seed: dict[int, list[RegimeResult]] | dict[int, dict[str, np.ndarray]],
) -> str:
    """Equality x productivity per training seed and regime, and the planner's gain on each.

    A planner's edge at one training seed can be luck of that seed's learning; the sweep says
    in how many seeds it holds, with each seed's paired interval, and the mean gain. Takes the
    results of :func:`main`, or the per-world values of :func:`sweep_values` / :func:`load_sweep`.
    """
    from coopsim.evaluate import confidence_interval  # over seeds

    values = {
        seed: entry if isinstance(entry, dict) else sweep_values({seed: entry})[seed]
        for seed, entry in by_seed.items()
    }
    labels = list(next(iter(values.values())))
    refs = [ref for ref in (BASELINE, "US federal", "Saez") if ref in labels]
    head = f"{'seed':<6}" + "".join(f"{lb:>13}" for lb in labels)
    head += "".join(f"{'planner vs ' + ref:>34}" for ref in refs)
    lines = [head, "-" * len(head)]
    gains: dict[str, list[float]] = {ref: [] for ref in refs}
    wins = dict.fromkeys(refs, 0)
    for seed, by in values.items():
        cells = "".join(f"{by[lb].mean():>13.1f}" for lb in labels)
        for ref in refs:
            gain, diff = gain_over(by[PLANNER], by[ref])
            if gain is not None:
                gains[ref].append(gain)
            wins[ref] += by[PLANNER].mean() > by[ref].mean()
            shown = f"{gain:+.1%}" if gain is not None else "n/a"
            if diff is not None and diff["n"] > 1:
                spread = f"[{diff['ci_low']:>+7.1f},{diff['ci_high']:>+7.1f}]"
            else:  # a summary saved with means alone
                spread = "[paired n/a]".rjust(17)
            cells += f"{shown:>9} {spread}".rjust(34)
        lines.append(f"{seed:<6}" + cells)
    n = len(values)
    means = "".join(f"{np.mean([by[lb].mean() for by in values.values()]):>13.1f}" for lb in labels)
    lines.append(f"{'mean':<6}" + means)
    for ref in refs:
        g = gains[ref]  # seeds where the reference produced something to compare with
        if not g:
            mean = f"n/a over {n}"
        else:  # the seeds are independent trainings: a t interval over them
            ci = confidence_interval(g)
            spread = f" [{ci['ci_low']:+.1%}, {ci['ci_high']:+.1%}]" if len(g) > 1 else ""
            mean = f"{ci['mean']:+.1%}{spread} over {len(g)}"
        lines.append(
            f"AI planner vs {ref + ':':<12} mean gain {mean} training seeds; "
            f"ahead in {wins[ref]} of {n}"
        )
    return "\n".join(lines)


def main(
    budget: Budget = DEFAULT,
    out: str | Path = "runs/economy_regimes",
    quiet: bool = False,
    workers: int = 1,
    seeds: list[int] | None = None,
):
    """Train, evaluate, print the comparison table and write the figures; returns results.

    With ``seeds`` the whole comparison (phase 1 included) runs once per training seed, each
    into ``out/seed_<s>``, and a table across seeds follows; returns {seed: (results, summary)}.
    """
    if seeds:
        runs = {}
        for seed in seeds:
            print(f"\n=== training seed {seed} ===")
            one = dataclasses.replace(budget, seed=seed)
            runs[seed] = main(one, Path(out) / f"seed_{seed}", quiet, workers)
        print("\nacross training seeds: equality x productivity; the planner's gain, paired "
              "difference per world [95% CI]")  # fmt: skip
        print(format_sweep({seed: results for seed, (results, _) in runs.items()}))
        return runs
    log = (lambda *_: None) if quiet else print
    torch.manual_seed(budget.seed)
    print(
        f"budget    phase 1 {budget.phase1} + phase 2 {budget.phase2} iterations x "
        f"{budget.num_worlds} worlds x {budget.episode_length} steps = "
        f"{budget.agent_steps():,} agent-steps per regime; {budget.episodes} evaluation "
        f"episodes; torch {torch.get_num_threads()} threads on {budget.device}"
    )
    base = configure(REGIMES[BASELINE], budget)
    world = base.world
    period = next(m.params.period for m in base.mechanisms if m.kind == "tax")
    print(
        f"world     {world.height}x{world.width} {world.layout}, {world.num_agents} agents, "
        f"labour cost {world.labour_cost:g} per unit, taxes every {period} steps"
    )
    results, clock = run(budget, log=log, workers=workers)
    summary = write_outputs(results, clock, budget, Path(out))
    print()
    print(format_table(results))
    print()
    print(format_details(results))
    print()
    times = ", ".join(f"{k} {v:.0f}s" for k, v in clock.items())
    print(f"wall-clock  {times}")
    for label, entry in summary["regimes"].items():
        print(f"figure      {label}: {entry['figure']}")
    return results, summary
