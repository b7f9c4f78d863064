"""The AI Economist's comparison: four tax regimes in the gather-trade-build economy, as runs.

PPO agents train under the free market, the 2018 US federal schedule, the Saez formula and a
learned planner, and each regime is evaluated; :mod:`coopsim.analysis.regimes` tables
equality, productivity, their product (the planner's objective) and utilitarian welfare with
95% confidence intervals, as Zheng et al. (2022) report them. The protocol is theirs, shrunk to
a CPU budget:

1. **Phase 1, shared.** The planner scenario's trainer runs its curriculum's first phase: the
   agents learn with every rate at zero while the cost of labour is warmed up from 0 to 1.
   It trains once per training seed, in ``out/seed_<s>/.phase1/`` (checkpoints and metrics).
2. **Phase 2, per regime.** Every regime forks from phase 1's last checkpoint (the agents'
   weights, optimisers and generators) and trains the same number of iterations under its own
   taxes: zero rates, the US schedule, the Saez schedule (which adapts to the incomes it
   observes), or the planner, whose trainer simply continues: it now acts every tax period
   with its top rate annealed from 10% to 100%.
3. **Evaluation.** Each regime's agents play ``episodes`` fresh worlds (new maps, skills and
   start positions: one seed each, the same seeds for every regime and training seed) under
   the rules training ended with: the planner's learned schedule, the Saez mechanism's
   estimates.

Phase 2 and the evaluation of each regime are one ordinary learning run
(:func:`coopsim.runner.run_scenario` with a fork), published as a run directory in
``out/seed_<s>/``, so ``coopsim report``, ``coopsim compare`` and
:func:`coopsim.record.load_runs` read them; its metrics start with phase 1's rows. The run is
named after the scenario's evaluation seed (``-s0``); its training seed is in
``summary.json``'s ``training.seed``. An interrupted experiment resumes when run again:
finished runs are kept, phase 1 and unfinished regimes go on from their last checkpoints.

The training worlds of every regime draw the same episode seeds, so regimes differ by their
taxes, not by their luck. Every regime gets the same agent budget: phase 1 plus phase 2.

The scenario files make two concessions to a budget of minutes instead of days: 200-step
episodes (the paper: 1000) and labour at 0.05 utility per unit (the paper: 0.21). At 0.05
agents keep working after the warm-up and a high tax can still make work not worth its
labour; at the paper's cost agents this briefly trained learn to stay idle once the warm-up
ends (``--labour-cost 0.21``), leaving next to nothing to tax.

Imports of torch and the engine are deferred to the functions that train, so the command
line can build its parser from :class:`Budget` without loading them.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from coopsim.paths import inside

if TYPE_CHECKING:
    from coopsim.scenario import Scenario

#: Regime label -> scenario name, in table order.
REGIMES = {
    "free market": "economy_free_market",
    "US federal": "economy_us_federal",
    "Saez": "economy_saez",
    "AI planner": "economy_ai_planner",
}
PLANNER = "AI planner"
BASELINE = "free market"
PHASE1 = ".phase1"  # in each seed folder; hidden, so that seed_<s>/* lists only runs

Log = Callable[[str], None]


@dataclass(frozen=True)
class Budget:
    """What the comparison trains and evaluates; the defaults take ~9 min a seed on 2 CPU cores."""

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


def seed_folder(out: str | os.PathLike, seed: int) -> Path:
    """Where training seed ``seed``'s phase 1 and regime runs live under ``out``."""
    return inside(out, f"seed_{seed}")


def configure(name: str, budget: Budget) -> Scenario:
    """The regime's scenario with the budget's world size and training length installed.

    The curriculum keeps the scenario's proportions: labour warm-up as a share of phase 1,
    rate annealing as a share of phase 2.
    """
    from coopsim import scenario as sc

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


def _progress(label: str, row: dict[str, float]) -> str:
    keys = ("agents_return", "agents_entropy", "objective", "max_rate", "seconds")
    shown = "  ".join(f"{k} {row[k]:.3g}" for k in keys if k in row)
    return f"  {label:>11} it {int(row['iteration']):>3}  {shown}"


def _elsewhere(folder: Path) -> str:
    return f"delete {folder} or use another --out to train these settings"


def train_phase1(budget: Budget, folder: Path, log: Log = print) -> Path:
    """Train (or resume, or find done) the planner scenario's phase 1 in ``folder``.

    The trainer is the planner scenario's with its whole budget (phase 1 + phase 2), stopped
    after phase 1, so that what depends on the budget (the entropy schedule) is what the
    planner's own run continues with. Returns the folder, with a checkpoint after phase 1.
    """
    from coopsim.run_store import Recorder, begin, locked, resume, training_setup
    from coopsim.scenario import resolve_device
    from coopsim.train import Trainer

    scenario = configure(REGIMES[PLANNER], budget)
    if scenario.planner is None:
        raise ValueError(f"{scenario.name}: phase 1 is a planner's curriculum; it has none")
    device = str(resolve_device(budget.device))
    setup = training_setup(scenario, budget.seed, device)
    with locked(folder):
        trainer = Trainer(scenario, seed=budget.seed, device=device)
        done, rows = resume(folder, trainer, setup, hint=_elsewhere(folder))
        if done is None:
            begin(folder, scenario, setup, budget.phase1)
            log(f"phase 1: {budget.phase1} iterations, no tax, labour cost warmed up (shared)")
        elif done < budget.phase1:
            log(f"phase 1: resuming from iteration {done} of {budget.phase1}: {folder}")
        else:
            log(f"phase 1: done, in {folder}")
        record = Recorder(
            folder,
            rows,
            scenario.training.checkpoint_every,
            last=budget.phase1,
            progress=lambda _done, _total, row: log(_progress("phase 1", row)),
        )
        while trainer.iteration < budget.phase1:
            record(trainer, trainer.train_iteration())
    return folder


def finished_run(folder: Path, scenario: Scenario) -> Path | None:
    """The run directory of ``scenario`` already published in ``folder``, or None.

    A finished run trained under other settings is not silently kept: that is an error naming
    the run and the first field that differs.
    """
    import json

    from coopsim.record import SCENARIO, SUMMARY
    from coopsim.run_store import first_difference, read_toml
    from coopsim.schema import ConfigError

    if not folder.is_dir():
        return None
    for path in sorted(folder.iterdir()):
        if not (path / SUMMARY).is_file():
            continue
        if json.loads((path / SUMMARY).read_text()).get("scenario") != scenario.name:
            continue
        diff = first_difference(read_toml(path / SCENARIO), scenario.to_dict())
        if diff is not None:
            field, was, now = diff
            raise ConfigError(
                str(path),
                field,
                f"this finished run was trained with {was!r}, this experiment asks for "
                f"{now!r}; {_elsewhere(path)}",
            )
        return path
    return None


def run_regime(
    label: str, budget: Budget, folder: Path, verbose: bool = True, threads: int | None = None
) -> Path:
    """Phase 2 of one regime, forked from ``folder``'s phase 1, then its evaluation, published
    in ``folder``; runs in a worker process as well as in this one (all it needs is in its
    arguments). Returns the run directory."""
    from coopsim.run_store import Fork
    from coopsim.runner import run_scenario

    if threads:
        import torch

        torch.set_num_threads(threads)
    name = REGIMES[label]
    # the planner's trainer continues phase 1 whole; the other regimes take its agents
    fork = Fork(folder / PHASE1, budget.phase1, learners_only=label != PLANNER)
    if verbose:
        print(f"phase 2: {label} ({name}), {budget.phase2} iterations", flush=True)
    return run_scenario(
        configure(name, budget),
        out=folder,
        device=budget.device,
        fork=fork,
        progress=(lambda _d, _t, row: print(_progress(label, row), flush=True))
        if verbose
        else None,
    )


def run_seed(budget: Budget, out: str | os.PathLike, workers: int = 1, verbose: bool = True):
    """Every regime at ``budget.seed``: phase 1 once, then each unfinished regime's run.

    With ``workers`` > 1 the regimes' phase 2 run in that many processes (one torch thread
    each): on a CPU the networks are too small for several threads to help one regime, but
    separate regimes scale with the cores. Returns {regime label: run directory}, in table order.
    """
    log: Log = print if verbose else (lambda _: None)
    folder = seed_folder(out, budget.seed)
    runs = {label: finished_run(folder, configure(name, budget)) for label, name in REGIMES.items()}
    pending = [label for label, path in runs.items() if path is None]
    for label, path in runs.items():
        if path is not None:
            log(f"{label}: finished, kept: {path}")
    if not pending:
        return runs
    train_phase1(budget, folder / PHASE1, log)
    if workers <= 1:
        for label in pending:
            runs[label] = run_regime(label, budget, folder, verbose)
        return runs
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    ctx = multiprocessing.get_context("spawn")  # no forked torch state in the workers
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        jobs = {
            label: pool.submit(run_regime, label, budget, folder, verbose, 1) for label in pending
        }
        for label, job in jobs.items():
            runs[label] = job.result()
    return runs


def describe(budget: Budget) -> str:
    """Two lines on what a comparison at ``budget`` trains, in what world."""
    import torch

    base = configure(REGIMES[BASELINE], budget)
    world = base.world
    period = next(m.params.period for m in base.mechanisms if m.kind == "tax")
    return (
        f"budget    phase 1 {budget.phase1} + phase 2 {budget.phase2} iterations x "
        f"{budget.num_worlds} worlds x {budget.episode_length} steps = "
        f"{budget.agent_steps():,} agent-steps per regime; {budget.episodes} evaluation "
        f"episodes; torch {torch.get_num_threads()} threads on {budget.device}\n"
        f"world     {world.height}x{world.width} {world.layout}, {world.num_agents} agents, "
        f"labour cost {world.labour_cost:g} per unit, taxes every {period} steps"
    )


def run(
    budget: Budget = DEFAULT,
    out: str | os.PathLike = "runs/economy_regimes",
    seeds: list[int] | None = None,
    workers: int = 1,
    verbose: bool = True,
    on_seed: Callable[[int, dict[str, Path]], None] | None = None,
) -> dict[int, dict[str, Path]]:
    """The comparison at every training seed (``budget.seed`` alone without ``seeds``), each
    into ``out/seed_<s>/``; ``on_seed`` sees each seed's runs as soon as they are done.

    Returns {training seed: {regime label: run directory}}.
    """
    seeds = [budget.seed] if seeds is None else list(seeds)
    if not seeds or len(set(seeds)) < len(seeds) or min(seeds) < 0:
        raise ValueError(f"seeds: got {seeds}, need distinct training seeds >= 0")
    log: Log = print if verbose else (lambda _: None)
    done: dict[int, dict[str, Path]] = {}
    for seed in seeds:
        if len(seeds) > 1:
            log(f"\n=== training seed {seed} ===")
        start = time.perf_counter()
        done[seed] = run_seed(dataclasses.replace(budget, seed=seed), out, workers, verbose)
        log(f"wall-clock  {time.perf_counter() - start:.0f}s for training seed {seed}")
        if on_seed is not None:
            on_seed(seed, done[seed])
    return done
