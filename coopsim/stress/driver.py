"""``coopsim stress``: every rule of some runs against every population, resumable.

For each run (a rule at one training seed: its mechanisms, and its planner replayed as in
evaluation) the stress test plays, in **one batch of worlds**, the populations it meets:

* ``in-distribution``: the run's own trained seats;
* ``cross-seed``: the trained seats of the same rule's other training seeds;
* ``cross-rule``: the trained seats of runs of the other rules given (agents trained under
  another rule; only where their seats, observations and actions fit this rule's world);
* each population file (:mod:`coopsim.stress.populations`): scripted mixes, mixtures;

and then, one run each, **exploiters** (:mod:`coopsim.stress.exploiter`): one seat, and a
coalition of k seats, trained against the frozen rule and others, started fresh or from the
policies of the seats they replace (``exploiter_start``), each start a population of its own.

Each (run, what) is one cell, saved as ``DIR/cells/<cell>.parquet`` (one row per episode and
measure) when it finishes; a rerun with the same inputs skips finished cells, as a sweep does,
and inputs that differ are refused (``stress.json`` records them). When every cell is done
``DIR/stress.parquet`` is written atomically: one row per (rule, population, measure) with its
mean, interval and units (:func:`aggregate`).
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from coopsim.agents.mixture import SeatTable, as_population, draw_table
from coopsim.agents.population import Population
from coopsim.builder import make_world
from coopsim.evaluate import Evaluation, evaluate
from coopsim.intervals import t_interval
from coopsim.measures import MEASURES, income_cv_by_agent, late_income_share_by_agent
from coopsim.paths import slug
from coopsim.record import atomic_write_parquet, atomic_write_text
from coopsim.schema import ConfigError, to_dict
from coopsim.staging import first_difference
from coopsim.stress.exploiter import Exploited, train_exploiter, warm_start_problem
from coopsim.stress.members import member_seats
from coopsim.stress.populations import TRAINED_UNDER, PopulationConfig
from coopsim.stress.runs import TrainedRun, load_trained_run, same_seats

STRESS = "stress.parquet"
MANIFEST = "stress.json"
CELLS = "cells"
IN_DISTRIBUTION = "in-distribution"
#: What each population is, in the order tables show them.
KINDS = ("in-distribution", "cross-seed", "cross-rule", "population", "exploiter")
#: The measures an exploiter adds, with their units.
EXPLOITER_MEASURES = {
    "exploiter_gain": "payoff per replaced seat over an episode (its own, minus the seat's "
    "in-distribution)",
    "objective_change": "the objective's units (under the exploiter, minus in-distribution)",
    # the budget travels with the result: a gain not above zero says "none found at N"
    "exploiter_iterations": "PPO iterations the exploiter trained (its budget)",
}
#: ``exploiter_start``: fresh weights, the replaced seats' own policies, or both (each
#: a population of its own).
EXPLOITER_STARTS = ("fresh", "replaced", "both")
#: Where taxes settle over several rounds (the economy), when the exploiter earns its taxable
#: income within each tax period, beside the seats it replaced in the same worlds: the AI
#: Economist's agents learned to shift income across tax periods.
TIMING_MEASURES = {
    "exploiter_late_income_share": "share of its taxable income earned in the last tenth of "
    "each tax period (0-1; 0.1 is even)",
    "replaced_late_income_share": "the same for the seats it replaced (in-distribution)",
    "exploiter_income_cv": "coefficient of variation of its taxable income across tax periods",
    "replaced_income_cv": "the same for the seats it replaced (in-distribution)",
    # paired in the same evaluation worlds: the shift's interval is tighter than the two apart
    "late_income_share_shift": "exploiter's late_income_share minus the replaced seats', "
    "episode by episode (share points, -1 to 1)",
    "income_cv_shift": "exploiter's income_cv minus the replaced seats', episode by episode",
}
COLUMNS = (
    "rule",
    "population",
    "kind",
    "measure",
    "mean",
    "ci_low",
    "ci_high",
    "n",
    "over",
    "units",
)


@dataclass
class StressConfig:
    """How hard to stress: evaluation size and the exploiters' sizes and training."""

    episodes: int = 32  # evaluation episodes per (run, population)
    seed: int = 0  # evaluation seed (worlds, mixtures' draws) and the exploiters' seed
    coalitions: tuple[int, ...] = (1,)  # exploiters' sizes: 1 is one seat; () for none
    exploiter_iterations: int = 30  # PPO iterations each exploiter trains
    cross_seeds: int | None = None  # most other seeds' learners per run (None: all)
    # Training seeds whose runs get exploiters (None: every run). An exploiter trains for
    # minutes where a play cell takes seconds; a slow world's exploiters at one seed still
    # measure each rule's exploitability (over episodes).
    exploit_seeds: tuple[int, ...] | None = None
    # How exploiters start (:mod:`coopsim.stress.exploiter`): "fresh" weights, the "replaced"
    # seats' own policies (warm), or "both". A fresh one trained for minutes rarely beats
    # agents trained longer, so alone it mostly reads "nothing found"; the warm one starts
    # where those agents are and asks what deviating from there pays.
    exploiter_start: str = "both"

    def __post_init__(self) -> None:
        if self.exploiter_start not in EXPLOITER_STARTS:
            raise ConfigError(
                None,
                "exploiter_start",
                f"expected one of {', '.join(EXPLOITER_STARTS)}; got {self.exploiter_start!r}",
            )

    def starts(self) -> tuple[str, ...]:
        """The exploiters' starts, fresh first: ('fresh',), ('replaced',) or both."""
        return ("fresh", "replaced") if self.exploiter_start == "both" else (self.exploiter_start,)


@dataclass
class Block:
    """One population of a run's batch: its label, kind, partner run, and members with shares."""

    label: str
    kind: str
    partner: str  # the run whose seats play, as its rule and seed ("" for a population file's)
    members: list[Population]
    shares: list[float] = field(default_factory=lambda: [1.0])


class Stress:
    """The plan and state of one stress test in ``out``."""

    def __init__(
        self,
        run_paths: Sequence[str | Path],
        populations: Sequence[PopulationConfig],
        out: str | Path,
        config: StressConfig | None = None,
        partners: Sequence[str | Path] = (),
    ):
        if not run_paths:
            raise ConfigError(None, "RUNS", "give at least one run directory to stress")
        self.config = config or StressConfig()
        self.out = Path(out)
        self.populations = list(populations)
        self._loaded: dict[Path, TrainedRun] = {}
        self.runs = [self.load(p) for p in run_paths]
        # runs whose trained seats play as cross-play populations, their own rules unstressed
        stressed = {r.path.resolve() for r in self.runs}
        self.partners = [self.load(p) for p in partners if Path(p).resolve() not in stressed]
        seen: dict[tuple[str, int], Path] = {}
        for run in self.runs:
            key = (run.rule, run.seed)
            if key in seen:
                raise ConfigError(
                    str(run.path), "(run)", f"{run.rule!r} seed {run.seed} is also {seen[key]}"
                )
            seen[key] = run.path
        self.notes: list[str] = []
        self.timings: dict[str, float] = {}  # cell -> seconds it took (computed cells only)
        self.batches: dict[str, int] = {}  # play cell -> populations in its one batch

    def load(self, path: str | Path) -> TrainedRun:
        key = Path(path).resolve()
        if key not in self._loaded:
            self._loaded[key] = load_trained_run(key)
        return self._loaded[key]

    # -- the plan -----------------------------------------------------------------------------
    def manifest(self) -> dict:
        return {
            "runs": sorted(str(r.path.resolve()) for r in self.runs),
            "partners": sorted(str(r.path.resolve()) for r in self.partners),
            "populations": [
                {k: v for k, v in to_dict(p).items() if k != "source"} for p in self.populations
            ],
            "config": {
                k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self.config).items()
            },
        }

    def cells(self) -> list[tuple[TrainedRun, str]]:
        """(run, what) for every cell: 'play' (all populations in one batch), 'exploit-k' (a
        fresh exploiter of k seats), 'warm-k' (one started from the replaced seats).

        A run whose replaced seats are not all learners has no warm exploiter: with
        ``exploiter_start = "both"`` a note says so, with ``"replaced"`` alone it is an error."""
        out = []
        seeds = self.config.exploit_seeds
        for run in self.runs:
            out.append((run, "play"))
            if seeds is not None and run.seed not in seeds:
                continue
            for k in self.config.coalitions:
                for start in self.config.starts():
                    if start == "fresh":
                        out.append((run, f"exploit-{k}"))
                        continue
                    why = warm_start_problem(run, k)
                    if why is None:
                        out.append((run, f"warm-{k}"))
                    elif self.config.exploiter_start == "replaced":
                        raise ConfigError(
                            str(run.path),
                            "exploiter_start",
                            f"{run.rule} s{run.seed} has no warm exploiter of {k}: {why}",
                        )
                    else:
                        self.notes.append(
                            f"{run.rule}: no warm exploiter of {k} seat(s), only a fresh one "
                            f"({why})"
                        )
        return out

    def cell_path(self, run: TrainedRun, what: str) -> Path:
        return self.out / CELLS / f"{slug(f'{run.rule}-s{run.seed}-{what}')}.parquet"

    def blocks(self, run: TrainedRun, world) -> list[Block]:
        """The populations ``run``'s rule meets in its play cell."""
        blocks = [Block(IN_DISTRIBUTION, "in-distribution", _who(run), [run.seats(world)])]
        probe = {}
        others = sorted(
            (r for r in [*self.runs, *self.partners] if r is not run),
            key=lambda r: (r.rule != run.rule, r.rule, r.seed),
        )
        cross = 0
        for other in others:
            kind = "cross-seed" if other.rule == run.rule else "cross-rule"
            if kind == "cross-seed":
                if self.config.cross_seeds is not None and cross >= self.config.cross_seeds:
                    continue
                cross += 1
            if other.rule not in probe:
                probe[other.rule] = make_world(other.scenario, 1)
            why = same_seats(world, probe[other.rule])
            if why is not None:
                self.notes.append(  # one line per pair of rules, whatever their seeds
                    f"{run.rule}: the agents of {other.rule} skipped, they cannot sit in this "
                    f"rule's world ({why})"
                )
                continue
            label = "cross-seed" if kind == "cross-seed" else f"{TRAINED_UNDER}{other.rule}"
            blocks.append(Block(label, kind, _who(other), [other.seats(world)]))
        for config in self.populations:
            if config.world != world.kind:
                continue
            members = member_seats(config, world, self.load)
            shares = [m.share for m in config.members]
            blocks.append(Block(config.name, "population", "", members, shares))
        return blocks

    # -- the cells ----------------------------------------------------------------------------
    def play_cell(self, run: TrainedRun) -> pd.DataFrame:
        """Every population of ``run``'s rule, as blocks of one batch of worlds."""
        episodes = self.config.episodes
        world = make_world(run.scenario, 1)
        blocks = self.blocks(run, world)
        self.batches[f"{run.rule} s{run.seed}"] = len(blocks)
        gen = torch.Generator().manual_seed(self.config.seed * 7_919 + run.seed)
        members: list[Population] = []
        tables = []
        for block in blocks:
            drawn = draw_table(block.shares, episodes, world.spec.num_agents, gen)
            tables.append(drawn + len(members))
            members += block.members
        table = torch.cat(tables)  # [E * blocks, N]
        if run.play is not None and run.play.paired:  # each world and its baseline twin
            table = table.repeat_interleave(2, 0)
        seats = as_population(
            SeatTable(members, table), world.spec.num_agents, len(world.spec.action_nvec)
        )
        result = self._evaluate(run, seats, episodes * len(blocks))
        frames = []
        for j, block in enumerate(blocks):
            rows = result.episode_metrics.iloc[j * episodes : (j + 1) * episodes]
            frames.append(_long(rows, run, block.label, block.kind, block.partner))
        return pd.concat(frames, ignore_index=True)

    def exploit_cell(self, run: TrainedRun, k: int, start: str = "fresh") -> pd.DataFrame:
        """An exploiter of ``k`` seats started ``start`` ('fresh' or 'replaced'): trained,
        then evaluated beside the in-distribution seats in the same worlds."""
        world = make_world(run.scenario, 1)
        iterations = self.config.exploiter_iterations
        seed = self.config.seed * 101 + run.seed + k + (0 if start == "fresh" else 50_021)
        exploiter = train_exploiter(run, k, iterations, seed=seed, start=start)
        base = self._evaluate(run, run.seats(world), self.config.episodes)
        hit = self._evaluate(
            run, Exploited(run.seats(world), exploiter).population(), self.config.episodes
        )
        frame = hit.episode_metrics.copy()
        frame["exploiter_gain"] = (_payoff(hit)[:, :k] - _payoff(base)[:, :k]).mean(1)
        frame["objective_change"] = (
            hit.episode_metrics["objective"].to_numpy()
            - base.episode_metrics["objective"].to_numpy()
        )
        frame["exploiter_iterations"] = float(iterations)
        label = exploiter_label(k, start)
        period = world.pipeline.period
        if period is not None and period > 1 and "income" in hit.episodes:
            for who, result in (("exploiter", hit), ("replaced", base)):
                for name, value in tax_timing(result, k, period).items():
                    frame[f"{who}_{name}"] = value
            for name in ("late_income_share", "income_cv"):
                if f"exploiter_{name}" in frame:  # NaN where either earned nothing
                    frame[f"{name}_shift"] = frame[f"exploiter_{name}"] - frame[f"replaced_{name}"]
        return _long(frame, run, label, "exploiter", _who(run))

    def _evaluate(self, run: TrainedRun, seats: Population, episodes: int) -> Evaluation:
        return evaluate(
            run.scenario,
            seed=self.config.seed,
            episodes=episodes,
            device="cpu",
            population=seats,
            setup=run.setup,
            planner=run.play,
        )

    # -- running ------------------------------------------------------------------------------
    def run(self, *, progress: bool = True, fresh: bool = False) -> Path:
        """Compute every missing cell, then write ``stress.parquet``; returns its path."""
        self.out.mkdir(parents=True, exist_ok=True)
        manifest = self.out / MANIFEST
        wanted = self.manifest()
        if manifest.exists() and fresh:
            shutil.rmtree(self.out / CELLS, ignore_errors=True)
            (self.out / STRESS).unlink(missing_ok=True)
        elif manifest.exists():
            try:
                found = json.loads(manifest.read_text())
            except json.JSONDecodeError:
                found = {}
            if isinstance(found.get("config"), dict):  # folders from before starts were chosen
                found["config"].setdefault("exploiter_start", "fresh")
            diff = first_difference(found, wanted)
            if diff is not None:
                raise ConfigError(
                    str(manifest),
                    diff[0],
                    f"this folder holds a stress test of other inputs ({diff[1]!r} there, "
                    f"{diff[2]!r} asked); give another --out, or --fresh to start over",
                )
        atomic_write_text(manifest, json.dumps(wanted, indent=2))
        frames = []
        todo = self.cells()
        bar = tqdm(todo, desc="stress", unit="cell", disable=not progress)
        for run, what in bar:
            path = self.cell_path(run, what)
            bar.set_postfix_str(f"{run.rule} s{run.seed} {what}")
            if not path.exists():
                start = time.perf_counter()
                kind, _, k = what.partition("-")
                cell = (
                    self.play_cell(run)
                    if what == "play"
                    else self.exploit_cell(
                        run, int(k), "fresh" if kind == "exploit" else "replaced"
                    )
                )
                atomic_write_parquet(path, cell)
                self.timings[f"{run.rule} s{run.seed} {what}"] = time.perf_counter() - start
            frames.append(pd.read_parquet(path))
        stress = aggregate(pd.concat(frames, ignore_index=True))
        atomic_write_parquet(self.out / STRESS, stress)
        return self.out / STRESS


def exploiter_label(k: int, start: str) -> str:
    """An exploiter's population label: 'exploiter (1 seat)', 'coalition (2 seats)', and
    'warm ...' for one started from the replaced seats."""
    label = "exploiter (1 seat)" if k == 1 else f"coalition ({k} seats)"
    return label if start == "fresh" else f"warm {label}"


def _who(run: TrainedRun) -> str:
    """A run as a partner: its rule and training seed. Not its folder's name: the regimes
    experiment names every training seed's run of a regime alike (``-s0``, the evaluation
    seed), in folders of their own."""
    return f"{run.rule} s{run.seed}"


def _payoff(result: Evaluation) -> np.ndarray:
    """[E, N] each agent's payoff over each episode: its final utility where the world keeps
    one (labour counted), else its summed net income."""
    frame = result.episodes
    if "utility" in frame:
        last = frame[frame["round"] == frame["round"].max()]
        values = last.pivot(index="episode", columns="agent", values="utility")
    else:
        values = frame.groupby(["episode", "agent"])["net"].sum().unstack("agent")
    return values.sort_index().to_numpy(dtype=float)


def tax_timing(result: Evaluation, k: int, period: int) -> dict[str, np.ndarray]:
    """[E] each episode's mean over seats 0..k-1 of when they earned taxable income within
    the tax periods (:func:`~coopsim.measures.late_income_share_by_agent`,
    :func:`~coopsim.measures.income_cv_by_agent`); NaN where those seats earned nothing."""
    frame = result.episodes
    income = frame.pivot_table(index=["round", "episode"], columns="agent", values="income")
    rounds = frame["round"].nunique()
    per_round = torch.tensor(income.sort_index().to_numpy(dtype=float)).reshape(
        rounds, -1, income.shape[1]
    )[..., :k]  # [T, E, k]
    out = {"late_income_share": late_income_share_by_agent(per_round, period)}
    if rounds // period >= 2:
        out["income_cv"] = income_cv_by_agent(per_round, period)
    return {name: _nan_mean(v).numpy() for name, v in out.items()}


def _nan_mean(values: torch.Tensor) -> torch.Tensor:
    """[E, k] -> [E] the mean of the values that are not NaN, NaN where none is."""
    some = ~values.isnan()
    total = torch.where(some, values, 0.0).sum(-1)
    return torch.where(some.any(-1), total / some.sum(-1).clamp(min=1), torch.nan)


def _long(
    frame: pd.DataFrame, run: TrainedRun, label: str, kind: str, partner: str
) -> pd.DataFrame:
    """Per-episode metrics -> one row per (episode, measure) with the cell's labels."""
    long = frame.drop(columns=["episode"]).reset_index(drop=True)
    long.insert(0, "episode", np.arange(len(long)))
    long = long.melt(id_vars="episode", var_name="measure", value_name="value")
    long.insert(0, "partner", partner)
    long.insert(0, "kind", kind)
    long.insert(0, "population", label)
    long.insert(0, "seed", run.seed)
    long.insert(0, "rule", run.rule)
    return long


def bounds_of(measure: str) -> tuple[float | None, float | None]:
    """The values a measure can take: the registry's, a share's (0-1) for the exploiter's
    income timing, open for the rest; intervals are cut to it."""
    if measure in MEASURES:
        return MEASURES[measure].bounds
    if measure.endswith("late_income_share"):
        return (0.0, 1.0)
    if measure == "late_income_share_shift":
        return (-1.0, 1.0)
    if measure.endswith("income_cv"):
        return (0.0, None)
    return (None, None)


def units_of(measure: str) -> str:
    if measure in EXPLOITER_MEASURES:
        return EXPLOITER_MEASURES[measure]
    if measure in TIMING_MEASURES:
        return TIMING_MEASURES[measure]
    return MEASURES[measure].unit if measure in MEASURES else ""


def aggregate(cells: pd.DataFrame) -> pd.DataFrame:
    """Per-episode cell rows -> one row per (rule, population, measure).

    The units of the interval are runs (each pairing of a rule's seed with a partner's seats,
    its mean over episodes) where there are two or more, as across training seeds everywhere
    in coopsim; with one, its episodes (``over`` says which)."""
    rows = []
    keys = ["rule", "population", "kind", "measure"]
    for (rule, population, kind, measure), group in cells.groupby(keys, sort=False):
        group = group.dropna(subset=["value"])  # a seat that earned nothing has no timing
        if group.empty:
            continue
        units = group.groupby(["seed", "partner"])["value"].mean().to_numpy()
        over = "runs" if len(units) > 1 else "episodes"
        values = units if len(units) > 1 else group["value"].to_numpy()
        est = t_interval(values, bounds=bounds_of(measure))
        rows.append(
            (
                rule,
                population,
                kind,
                measure,
                est.mean,
                est.ci_low,
                est.ci_high,
                est.n,
                over,
                units_of(measure),
            )
        )
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    frame["kind"] = pd.Categorical(frame["kind"], categories=list(KINDS), ordered=True)
    return (
        frame.sort_values(["rule", "kind"], kind="stable")
        .reset_index(drop=True)
        .astype({"kind": str})
    )


def stress(
    run_paths: Sequence[str | Path],
    populations: Sequence[PopulationConfig],
    out: str | Path,
    config: StressConfig | None = None,
    *,
    progress: bool = True,
    fresh: bool = False,
    partners: Sequence[str | Path] = (),
) -> Path:
    """Stress every rule of ``run_paths`` against every population (``partners``: more runs
    whose trained seats play as cross-play populations); returns ``out/stress.parquet``."""
    plan = Stress(run_paths, populations, out, config, partners)
    return plan.run(progress=progress, fresh=fresh)
