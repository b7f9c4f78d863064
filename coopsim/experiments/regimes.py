"""The AI Economist's comparison: four tax regimes in the gather-trade-build economy, as a sweep.

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

The experiment is a sweep (:mod:`coopsim.sweeps`) whose one field is ``regime`` and whose
seeds are the training seeds: every regime x training seed is a cell, phase 1 is the
:class:`~coopsim.sweeps.starts.SharedStart` the cells of one seed fork, and
``out/sweep.parquet`` is the table (one row per regime x training seed, every metric with its
interval) that :func:`coopsim.analysis.regimes.load_experiment` reads. Phase 2 and the
evaluation of each regime are one ordinary learning run
(:func:`coopsim.runner.run_scenario` with a fork), published as a run directory in
``out/seed_<s>/``, so ``coopsim report``, ``coopsim compare`` and
:func:`coopsim.record.load_runs` read them; its metrics start with phase 1's rows. The run is
named after the scenario's evaluation seed (``-s0``); its training seed is in
``summary.json``'s ``training.seed``. Like any sweep it runs in this process, a local process
pool (``workers``) or as Ray tasks (``backend="ray"``), and an interrupted experiment resumes
when run again: finished runs are kept, phase 1 and unfinished regimes go on from their last
checkpoints. Seeds run in several batches into one folder share its table.

The training worlds of every regime draw the same episode seeds, so regimes differ by their
taxes, not by their luck. Every regime gets the same agent budget: phase 1 plus phase 2.

Two families of scenarios run it (``Budget.family``). The fast ``economy_*`` files make two
concessions to a budget of minutes instead of days: 200-step episodes (the paper: 1000) and
labour at 0.05 utility per unit (the paper: 0.21). At 0.05 agents keep working after the
warm-up and a high tax can still make work not worth its labour; at the paper's cost agents
this briefly trained learn to stay idle once the warm-up ends (``--labour-cost 0.21``),
leaving next to nothing to tax. The ``economy_paper_*`` files are the AI Economist's own
setting (its map, skills, labour, order book, taxable income and 1000-step episodes). A
budget's sizes left unset are the family's planner scenario's.

Imports of torch and the engine are deferred to the functions that train, so the command
line can build its parser from :class:`Budget` without loading them.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coopsim.paths import inside

if TYPE_CHECKING:
    from coopsim.scenario import Scenario
    from coopsim.sweeps.cells import CellTask
    from coopsim.sweeps.starts import SharedStart

#: Regime label -> its cell's name in the table, in table order; a family's scenario of the
#: regime is ``<family>_<cell>``.
CELLS = {
    "free market": "free_market",
    "US federal": "us_federal",
    "Saez": "saez",
    "AI planner": "ai_planner",
}
#: Families of economy scenarios with the four regimes: the fast variant (200-step episodes) and
#: the paper-faithful one (the AI Economist's map, skills, labour and 1000-step episodes).
FAMILIES = ("economy", "economy_paper")


def family_regimes(family: str) -> dict[str, str]:
    """Regime label -> the family's scenario name, in table order."""
    if family not in FAMILIES:
        raise ValueError(f"family: got {family!r}, need one of {', '.join(FAMILIES)}")
    return {label: f"{family}_{cell}" for label, cell in CELLS.items()}


#: Regime label -> scenario name of the fast economy, in table order.
REGIMES = family_regimes("economy")
PLANNER = "AI planner"
BASELINE = "free market"
PHASE1 = ".phase1"  # in each seed folder; hidden, so that seed_<s>/* lists only runs
FIELD = "regime"  # the sweep's one field: the regime's label
MANIFEST = "sweep.json"  # the budget the folder's runs trained with

Log = Callable[[str], None]


@dataclass(frozen=True)
class Budget:
    """What the comparison trains and evaluates. A size left None is the family's scenario
    files' (:meth:`resolved`): the planner scenario's phase 1, the rest of its iterations as
    phase 2, its worlds, episode length and evaluation episodes."""

    family: str = "economy"  # which scenarios: economy_* (fast) or economy_paper_*
    phase1: int | None = None  # shared iterations, no tax, labour cost warmed up
    phase2: int | None = None  # iterations per regime after phase 1
    num_worlds: int | None = None  # worlds B per training iteration
    episode_length: int | None = None  # steps per episode
    episodes: int | None = None  # evaluation episodes (fresh worlds, one seed each) per regime
    seed: int = 0  # training seed (evaluation uses the scenario's evaluation seed)
    device: str = "cpu"
    labour_cost: float | None = None  # utility per unit of labour; None: the scenario's

    def resolved(self) -> Budget:
        """This budget with every size the files set filled in from the family's planner
        scenario."""
        from coopsim import scenario as sc

        planner = sc.load(family_regimes(self.family)[PLANNER])
        pc = planner.planner
        if pc is None:
            raise ValueError(f"{planner.name}: the planner regime's scenario has no planner")
        files = {
            "phase1": pc.phase1_iterations,
            "phase2": planner.training.iterations - pc.phase1_iterations,
            "num_worlds": planner.training.num_worlds,
            "episode_length": planner.world.episode_length,
            "episodes": planner.evaluation.episodes,
        }
        return dataclasses.replace(
            self, **{k: v for k, v in files.items() if getattr(self, k) is None}
        )

    def agent_steps(self, num_agents: int = 4) -> int:
        """Agent-steps one regime's agents train for (phase 1 counted once per regime)."""
        b = self.resolved()
        per_iteration = b.num_worlds * b.episode_length * num_agents
        return (b.phase1 + b.phase2) * per_iteration


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

    budget = budget.resolved()
    scen = sc.load(name)
    world = {"episode_length": budget.episode_length}
    if budget.labour_cost is not None:
        world["labour_cost"] = budget.labour_cost
    scen.world = dataclasses.replace(scen.world, **world)
    total = budget.phase1 + budget.phase2
    # every regime's file states the planner's curriculum: its phase 1 sets the proportions
    p1 = max(1, sc.load(family_regimes(budget.family)[PLANNER]).planner.phase1_iterations)
    scen.training = dataclasses.replace(
        scen.training,
        iterations=total,
        num_worlds=budget.num_worlds,
        seed=budget.seed,
        labour_warmup=round(budget.phase1 * scen.training.labour_warmup / p1),
    )
    scen.evaluation = dataclasses.replace(scen.evaluation, episodes=budget.episodes)
    # A tax whose file anneals its top rate (the paper family's US federal and Saez, as the
    # reference anneals every tax model) anneals over the same share of phase 2 as the
    # planner's cap: counted from the fork, where the regime's tax starts afresh.
    planner_file = sc.load(family_regimes(budget.family)[PLANNER])
    file_p2 = max(1, planner_file.training.iterations - planner_file.planner.phase1_iterations)
    for i, mech in enumerate(scen.mechanisms):
        episodes = getattr(mech.params, "anneal_episodes", 0)  # per world, over the file's p2
        if mech.kind == "tax" and episodes:
            scaled = max(1, round(budget.phase2 * episodes / file_p2))
            params = dataclasses.replace(mech.params, anneal_episodes=scaled)
            scen.mechanisms[i] = dataclasses.replace(mech, params=params)
    if scen.planner is not None:
        pc = scen.planner
        p2 = max(1, sc.load(name).training.iterations - pc.phase1_iterations)
        scen.planner = dataclasses.replace(
            pc,
            phase1_iterations=budget.phase1,
            anneal_iterations=round(budget.phase2 * pc.anneal_iterations / p2),
        )
    return scen


def phase1(budget: Budget) -> SharedStart:
    """Phase 1 at ``budget.seed``: the planner scenario's trainer with its whole budget (phase 1
    + phase 2), stopped after phase 1, so that what depends on the budget (the entropy
    schedule) is what the planner's own run continues with."""
    from coopsim.sweeps.starts import SharedStart

    budget = budget.resolved()
    scenario = configure(family_regimes(budget.family)[PLANNER], budget)
    if scenario.planner is None:
        raise ValueError(f"{scenario.name}: phase 1 is a planner's curriculum; it has none")
    return SharedStart(
        folder=f"seed_{budget.seed}/{PHASE1}",
        scenario=scenario.to_dict(),
        source=scenario.source,
        seed=budget.seed,
        iterations=budget.phase1,
        device=budget.device,
    )


def chosen_regimes(regimes: list[str] | None) -> list[str]:
    """The regime labels to train, in table order: all of them for None; each given as its
    label ("AI planner") or its cell's name ("ai_planner")."""
    if regimes is None:
        return list(CELLS)
    by_name = {**{cell: label for label, cell in CELLS.items()}, **{lb: lb for lb in CELLS}}
    unknown = [r for r in regimes if r not in by_name]
    if unknown or not regimes:
        raise ValueError(
            f"regimes: got {unknown[0] if unknown else regimes!r}, need some of "
            f"{', '.join(CELLS.values())}"
        )
    wanted = {by_name[r] for r in regimes}
    return [label for label in CELLS if label in wanted]


def with_planner(scen: Scenario, overrides: Mapping[str, Any] | None) -> Scenario:
    """The planner regime's scenario with some of its ``[planner]`` fields replaced, for its
    phase 2 only: phase 1 trains the agents with the planner off, so one phase 1 serves every
    planner variant and each is compared with the same agents' start (and, evaluated on the
    same worlds, with the other regimes' runs of that phase 1). Values are in the budget's
    iterations (``anneal_iterations = 39`` anneals over a phase 2 of 39); the phase-1 length
    is the budget's own, not a planner setting."""
    from coopsim.config.planner import PlannerConfig
    from coopsim.scenario import from_dict

    if not overrides:
        return scen
    if scen.planner is None:
        raise ValueError(f"{scen.name}: planner settings given, but it has no planner")
    known = {f.name for f in dataclasses.fields(PlannerConfig)}
    for field in overrides:
        if field not in known:
            raise ValueError(f"planner.{field}: unknown; the [planner] fields: {', '.join(known)}")
        if field == "phase1_iterations":
            raise ValueError("planner.phase1_iterations: phase 1 is the budget's (--phase1)")
    plain = scen.to_dict()
    plain["planner"] = {**plain["planner"], **overrides}
    return from_dict(plain, source=scen.source)


def cell_tasks(
    budget: Budget,
    out: str | os.PathLike,
    seeds: list[int],
    regimes: list[str] | None = None,
    planner: Mapping[str, Any] | None = None,
) -> list[CellTask]:
    """Every regime (of ``regimes``, default all) x training seed as a cell of the sweep, in
    table order (regime, then seed).

    A cell trains its regime's scenario at the budget, forked from its seed's phase 1 (the
    planner's trainer continues whole; the other regimes take its agents), and is evaluated on
    the scenario's evaluation seed: every regime and training seed on the same worlds.
    ``planner`` replaces fields of the planner regime's ``[planner]`` (:func:`with_planner`).
    """
    from coopsim.sweeps.cells import CellTask, StartFork

    tasks = []
    labels = chosen_regimes(regimes)
    for label, name in family_regimes(budget.family).items():
        if label not in labels:
            continue
        for seed in seeds:
            at_seed = dataclasses.replace(budget, seed=seed)
            scenario = configure(name, at_seed)
            if label == PLANNER:
                scenario = with_planner(scenario, planner)
            tasks.append(
                CellTask(
                    sweep_dir=str(out),
                    cell_name=cell_name(label),
                    values={FIELD: label},
                    scenario=scenario.to_dict(),
                    source=scenario.source,
                    seed=seed,
                    evaluation_seed=scenario.evaluation.seed,
                    fork=StartFork(phase1(at_seed), learners_only=label != PLANNER),
                    device=budget.device,
                    folder_name=seed_folder(out, seed).name,
                )
            )
    return tasks


def cell_name(label: str) -> str:
    """The cell's name in the table: ``free_market``, ``us_federal``, ``saez``, ``ai_planner``."""
    return CELLS[label]


def _elsewhere(folder: Path) -> str:
    return f"delete {folder} or use another --out to train these settings"


def claim(
    out: Path, budget: Budget, tasks: list[CellTask], planner: Mapping[str, Any] | None = None
) -> None:
    """Check, then write ``out/sweep.json``: one budget (and one set of planner settings) per
    experiment folder, so that seeds and regimes run in batches into it are comparable.
    Another budget is refused, naming the field, as is a finished run of the tasks trained
    otherwise (:func:`check_kept`)."""
    import json

    from coopsim.record import atomic_write_text
    from coopsim.schema import ConfigError
    from coopsim.staging import first_difference

    manifest = inside(out, MANIFEST)
    # what the runs compute: the seed varies by design, the device only says where
    wanted = {k: v for k, v in dataclasses.asdict(budget).items() if k not in ("seed", "device")}
    if planner:  # absent when none: folders from before planner settings still match
        wanted["planner"] = dict(sorted(planner.items()))
    stored: dict = {}
    if manifest.exists():
        stored = json.loads(manifest.read_text())
        if isinstance(stored.get("budget"), dict):  # folders from before families were fast
            stored["budget"].setdefault("family", "economy")
        diff = first_difference({"budget": stored.get("budget")}, {"budget": wanted})
        if diff is not None:
            field, was, now = diff
            raise ConfigError(
                str(manifest),
                field,
                f"this experiment folder was trained with {was!r}, this experiment asks for "
                f"{now!r}; use another --out to train these settings",
            )
    for task in tasks:
        check_kept(task)
    known = sorted({*stored.get("seeds", []), *(task.seed for task in tasks)})
    record = {"experiment": "regimes", "budget": wanted, "fields": [FIELD], "seeds": known}
    atomic_write_text(manifest, json.dumps(record, indent=2) + "\n")


def check_kept(task: CellTask) -> None:
    """A finished run trained under other settings is not silently kept: that is an error
    naming the run and the first field that differs (a folder written before it had a
    ``sweep.json`` has only its runs to say what they trained)."""
    from coopsim.record import SCENARIO
    from coopsim.schema import ConfigError
    from coopsim.staging import first_difference, read_toml

    path = task.finished()
    if path is None:
        return
    diff = first_difference(read_toml(path / SCENARIO), task.scenario)
    if diff is not None:
        field, was, now = diff
        raise ConfigError(
            str(path),
            field,
            f"this finished run was trained with {was!r}, this experiment asks for "
            f"{now!r}; {_elsewhere(path)}",
        )


def _earlier_seeds(out: Path, seeds: list[int], labels: list[str] | None = None) -> list[dict]:
    """The table's rows of training seeds (or regimes) this call does not run, whose runs are
    still there: seeds and regimes run in batches into one folder share its table."""
    from coopsim.record import SWEEP_TABLE, load_sweep
    from coopsim.sweeps.cells import OK

    if not (out / SWEEP_TABLE).is_file():
        return []
    table = load_sweep(out)
    elsewhere = ~table["seed"].isin(seeds) | ~table[FIELD].isin(labels or list(CELLS))
    rows = table[elsewhere & (table["status"] == OK)].to_dict("records")
    return [row for row in rows if (out / row["run"]).is_dir()]


class ExperimentFailed(RuntimeError):
    """Some regime x seed cells failed; the message names each, and a rerun retries them."""


def describe(budget: Budget) -> str:
    """Two lines on what a comparison at ``budget`` trains, in what world."""
    import torch

    budget = budget.resolved()
    base = configure(family_regimes(budget.family)[BASELINE], budget)
    world = base.world
    period = next(m.params.period for m in base.mechanisms if m.kind == "tax")
    return (
        f"budget    {budget.family}_* scenarios; phase 1 {budget.phase1} + phase 2 "
        f"{budget.phase2} iterations x {budget.num_worlds} worlds x {budget.episode_length} "
        "steps = "
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
    backend: str = "local",
    verbose: bool = True,
    regimes: list[str] | None = None,
    planner: Mapping[str, Any] | None = None,
) -> dict[int, dict[str, Path]]:
    """The comparison at every training seed (``budget.seed`` alone without ``seeds``) as a
    sweep into ``out``: phase 1 per seed, then every regime (of ``regimes``; default all) x
    seed, with ``workers`` local processes (one torch thread each) or as Ray tasks; finished
    runs are kept. ``planner`` replaces fields of the planner regime's ``[planner]`` in its
    phase 2 (:func:`with_planner`): a planner variant trained from an experiment's phase 1
    (copied into ``out``) is compared with that experiment's other regimes world by world.

    Returns {training seed: {regime label: run directory}} for the regimes trained; raises
    :class:`ExperimentFailed` naming the cells that failed (after every other cell has run).
    """
    from coopsim.sweeps.driver import run_tasks

    budget = budget.resolved()
    seeds = [budget.seed] if seeds is None else list(seeds)
    if not seeds or len(set(seeds)) < len(seeds) or min(seeds) < 0:
        raise ValueError(f"seeds: got {seeds}, need distinct training seeds >= 0")
    log: Log = print if verbose else (lambda _: None)
    folder = Path(out)
    labels = chosen_regimes(regimes)
    # every scenario configured: bad settings stop here
    tasks = cell_tasks(budget, folder, seeds, labels, planner)
    folder.mkdir(parents=True, exist_ok=True)
    claim(folder, budget, tasks, planner)
    kept = sum(task.finished() is not None for task in tasks)
    if kept:
        log(f"{kept} of {len(tasks)} regime runs finished already, kept")
    start = time.perf_counter()
    result = run_tasks(
        folder,
        tasks,
        [FIELD],
        [cell_name(label) for label in CELLS],
        backend=backend,
        workers=workers,
        progress_bar=verbose,
        kept=_earlier_seeds(folder, seeds, labels),
    )
    log(f"wall-clock  {time.perf_counter() - start:.0f}s for {result.ran} regime runs")
    table = result.table[result.table["seed"].isin(seeds) & result.table[FIELD].isin(labels)]
    failed = table[table["status"] != "ok"]
    if len(failed):
        lines = [
            f"{r[FIELD]} at training seed {r['seed']}: {r['error']}" for _, r in failed.iterrows()
        ]
        raise ExperimentFailed(
            "\n".join([*lines, "run the same command again to retry the failed regimes"])
        )
    runs: dict[int, dict[str, Path]] = {seed: {} for seed in seeds}
    for _, row in table.iterrows():
        runs[int(row["seed"])][row[FIELD]] = folder / row["run"]
    return {seed: {label: by[label] for label in labels} for seed, by in runs.items()}
