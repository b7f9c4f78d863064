"""Does a planner trained for unseen agents hold up better against them?

For each planner scenario, a robust twin is made that differs only in its name and
``[planner] populations`` (:data:`TRAINING_MIX`, half the training worlds). Both are trained at
each seed; then every run's rule is stressed against a **held-out** suite
(:data:`HELD_OUT`: scripted mixes the robust planner never met, the learners of the other
seeds, and learners trained under the twin rule) with one exploiter. The verdict per run gives
the worst case and in-distribution objective; the comparison is over training seeds.

``--robust-objective worst`` (or ``cvar`` with ``--cvar-alpha A``) makes the twin maximise
that objective across its training populations (``[planner] robust_objective``), named
``<planner>_robust_worst`` (``_robust_cvar``); the plain runs are the same.

``--mix movable`` trains the twin against the populations its rule can move only: the
candidates of :data:`CANDIDATE_MIX` whose objective differs between two fixed rules of the
planner's grid beyond chance (:func:`coopsim.stress.grid.movable`, decided from a grid of fixed
rules played against each of them before training, not from their names), named
``<planner>_robust_movable`` (``_robust_movable_worst``, ...). The grid and the test are saved
as ``OUT/grid-<planner>.csv`` and ``OUT/movable-<planner>.csv``. ``--mix answering`` keeps,
of those, the populations whose every member answers the rule (:func:`answers_rule`: the rule
responders), named ``<planner>_robust_answering``: a population a rule moves only at the
grid's edges (Democratic AI's conditional cooperators vote 0.25 under almost every w and v, 0
at v = 0) is a flat minimum over most of the grid.

``--suite crowding`` adds contributors whose giving a strong incentive crowds out
(:class:`~coopsim.agents.responders.CrowdingResponder`) to both sides, each of its own degree:
``crowding_mild`` to the training mix (:data:`TRAINING_MIX_CROWDING`), ``crowding_strong`` to
the held-out suite (:data:`HELD_OUT_CROWDING`); the twin is ``<planner>_robust_crowding``.
``--suite fairness`` adds voters with social preferences
(``[[members]] vote_alpha``/``vote_beta``: a Democratic-AI vote by Fehr-Schmidt inequity-averse
utility) to both sides: ``fairness_mild`` to the training mix (:data:`TRAINING_MIX_FAIRNESS`),
``fairness_strong`` to the held-out suite (:data:`HELD_OUT_FAIRNESS`); the twin is
``<planner>_robust_fairness``. ``--suite givers`` adds contributors who give part of their
endowment under any rule and more as it raises their return per coin
(:class:`~coopsim.agents.responders.LinearResponder`): ``givers_mild`` to the training mix
(:data:`TRAINING_MIX_GIVERS`), ``givers_strong`` to the held-out suite
(:data:`HELD_OUT_GIVERS`); the twin is ``<planner>_robust_givers``. The default ``--suite first`` is the first suite, whose tables it
reproduces.

Run: ``python -m coopsim.stress.experiment OUT [--seeds 0,1,2] [--iterations N]
[--episodes E] [--exploiter-iterations X] [--robust-objective mean|worst|cvar]
[--cvar-alpha A] [--mix fixed|movable|answering] [--suite first|crowding|fairness|givers]``. Run again with the same OUT, it trains only the runs not yet published
there and the stress test resumes its cells.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from pathlib import Path

import pandas as pd

from coopsim import scenario as sc
from coopsim.config.planner import ROBUST_OBJECTIVES
from coopsim.files import atomic_write_text
from coopsim.intervals import t_interval
from coopsim.runner import run_scenario

PLANNERS = (
    "public_goods_matching_planner",
    "public_goods_institution_planner",
    "democratic_ai_planner",
)
#: What the robust planner trains against (besides its own learners): two scripted mixes that
#: ignore the rule, and two that answer it (exact best responders; hurdles on [0.8, 1.2]).
TRAINING_MIX = [
    "altruists_and_free_riders",
    "conditional_cooperators",
    "best_responders",
    "hurdle_low",
]
#: The scripted part of the held-out stress suite: none of it is in the training mix, and its
#: rule-answering part differs in kind (noisy logit responders, not exact best responders) and
#: in degree (hurdles on [1.0, 1.6], not [0.8, 1.2]).
HELD_OUT = ["fgf2001", "hump_shaped", "quantal_responders", "hurdle_high"]
#: What ``--mix movable`` chooses the training mix from: :data:`TRAINING_MIX` and noisier
#: logit responders (temperature 0.3, against the held-out suite's 0.1), whose giving rises
#: with every step of margin a rule adds; none of it is held out.
CANDIDATE_MIX = [*TRAINING_MIX, "quantal_noisy"]
#: Training mixes ``--mix`` offers.
MIXES = ("fixed", "movable", "answering")
#: ``--suite crowding``'s training mix: :data:`TRAINING_MIX` and contributors whose giving a
#: strong incentive crowds out, mildly (``crowding_mild``: tolerance 0.75, degree 0.5).
TRAINING_MIX_CROWDING = [*TRAINING_MIX, "crowding_mild"]
#: ``--suite crowding``'s held-out scripted populations: :data:`HELD_OUT` and crowding-out of
#: another degree (``crowding_strong``: tolerance 0.5, degree 1.0), never trained against.
#: Added after the first suite could not separate the institution and Democratic-AI planners:
#: every population there gives more (or the same) under a heavier rule.
HELD_OUT_CROWDING = [*HELD_OUT, "crowding_strong"]
#: ``--suite fairness``'s training mix: :data:`TRAINING_MIX` and hurdle responders who vote by
#: mild inequity aversion (``fairness_mild``: Fehr-Schmidt alpha 0.5, beta 0.25).
TRAINING_MIX_FAIRNESS = [*TRAINING_MIX, "fairness_mild"]
#: ``--suite fairness``'s held-out scripted populations: :data:`HELD_OUT` and the same hurdle
#: responders voting by the upper part of Fehr and Schmidt's distribution (``fairness_strong``:
#: alpha 1 or 4, beta 0.6), never trained against. Added after both suites above could not
#: separate the Democratic-AI planners: every population there votes on its own payoff.
HELD_OUT_FAIRNESS = [*HELD_OUT, "fairness_strong"]
#: ``--suite givers``'s training mix: :data:`TRAINING_MIX` and contributors who give part of
#: their endowment under any rule and more as the rule raises their return per coin, at the
#: level of a repeated game's average (``givers_mild``: base 0.3, slope 0.5).
TRAINING_MIX_GIVERS = [*TRAINING_MIX, "givers_mild"]
#: ``--suite givers``'s held-out scripted populations: :data:`HELD_OUT` and the same giving at
#: the level of one-shot games and first rounds, rising twice as steeply (``givers_strong``:
#: base 0.5, slope 1.0), never trained against. Added after the three suites above could not
#: separate the Democratic-AI planners: every rule responder there gives nothing under the
#: strict egalitarian baseline, so any rule that makes it give wins its every vote.
HELD_OUT_GIVERS = [*HELD_OUT, "givers_strong"]
#: ``--suite NAME`` -> (training mix, held-out scripted populations, candidates of ``--mix
#: movable``). ``first`` is the suite of the first tables, kept so that they reproduce.
SUITES: dict[str, tuple[list[str], list[str], list[str]]] = {
    "first": (TRAINING_MIX, HELD_OUT, CANDIDATE_MIX),
    "crowding": (TRAINING_MIX_CROWDING, HELD_OUT_CROWDING, [*CANDIDATE_MIX, "crowding_mild"]),
    "fairness": (TRAINING_MIX_FAIRNESS, HELD_OUT_FAIRNESS, [*CANDIDATE_MIX, "fairness_mild"]),
    "givers": (TRAINING_MIX_GIVERS, HELD_OUT_GIVERS, [*CANDIDATE_MIX, "givers_mild"]),
}


def movable_mix(
    scenario: sc.Scenario,
    candidates: list[str] | None = None,
    episodes: int = 16,
    answering: bool = False,
    held_out: list[str] | None = None,
) -> tuple[list[str], pd.DataFrame, pd.DataFrame]:
    """(the populations of ``candidates`` (default :data:`CANDIDATE_MIX`) whose objective the
    planner's rule moves, the grid of fixed rules against each, its per-population test):
    every rule of the planner's own grid (``rate_levels`` values per control) is played
    against every candidate (:func:`coopsim.stress.grid.rule_grid`), and a candidate is kept
    where two rules' objectives differ beyond chance (:func:`coopsim.stress.grid.sensitivity`).
    A population no rule moves gives a planner nothing to learn from, and under a worst-case
    objective a flat minimum. ``held_out`` (default :data:`HELD_OUT`) may not be among the
    candidates."""
    from coopsim.stress.grid import rule_grid, sensitivity
    from coopsim.stress.populations import load_population

    names = list(CANDIDATE_MIX if candidates is None else candidates)
    held = sorted(set(names) & set(HELD_OUT if held_out is None else held_out))
    if held:
        raise ValueError(f"{held} are held out: the training mix may not hold them")
    grid = rule_grid(scenario, [load_population(n) for n in names], episodes=episodes)
    test = sensitivity(grid)
    kept = test.loc[test["movable"], "population"].tolist()
    if answering:
        kept = [name for name in kept if answers_rule(name)]
    if not kept:
        raise ValueError(f"no candidate population is moved by {scenario.name!r}'s rule")
    return kept, grid, test


def robust_twin(
    scenario: sc.Scenario,
    objective: str = "mean",
    alpha: float | None = None,
    populations: list[str] | None = None,
    tag: str = "",
) -> sc.Scenario:
    """The same scenario, its planner trained against ``populations`` too (default
    :data:`TRAINING_MIX`), maximising the ``objective`` across the populations
    (``[planner] robust_objective``: named ``<name>_robust`` for the mean,
    ``<name>_robust_worst`` or ``<name>_robust_cvar``; ``tag`` goes after ``_robust``, as
    ``_robust_movable_worst``)."""
    twin = copy.deepcopy(scenario)
    twin.name = (
        f"{scenario.name}_robust"
        + (f"_{tag}" if tag else "")
        + ("" if objective == "mean" else f"_{objective}")
    )
    twin.planner.populations = list(TRAINING_MIX if populations is None else populations)
    twin.planner.own_share = 0.5
    twin.planner.robust_objective = objective
    twin.planner.cvar_alpha = alpha
    twin.planner.validate()
    sc.check_planner_fits(
        twin.planner, twin.world.kind, twin.mechanisms, twin.training, twin.source
    )
    return twin


def finished_run(runs: Path, name: str, seed: int) -> Path | None:
    """A published run of scenario ``name`` at ``seed`` under ``runs``, if one is there: the
    experiment resumes by training only what it has not trained yet."""
    found = sorted(p for p in runs.glob(f"{name}-*-s{seed}") if (p / "summary.json").is_file())
    return found[-1] if found else None


def answers_rule(population: str) -> bool:
    """Whether a shipped population's every member answers the rule in force: a rule
    responder (:mod:`coopsim.agents.responders`) or a run's learners, who see the rules. A
    mix with any member that reads contributions only is partly beyond any rule's reach."""
    from coopsim.agents.responders import RESPONDERS
    from coopsim.stress.populations import load_population

    names = {cls.name for cls in RESPONDERS}
    members = load_population(population).members
    return all(m.run or m.policy in names for m in members)


def per_run_verdicts(stress_dir: Path) -> pd.DataFrame:
    """One row per (rule, training seed): in-distribution objective, worst case over the
    held-out populations (the scripted ones, cross-seed and cross-rule learners), worst case
    over those of them that answer the rule (learners, who see it, and the scripted mixes of
    :func:`answers_rule`), exploiter's gain; read from the stress folder's cells (per-run
    means over episodes)."""
    from coopsim.stress.driver import CELLS

    cells = pd.concat(pd.read_parquet(p) for p in sorted((stress_dir / CELLS).glob("*.parquet")))
    objective = cells[cells["measure"] == "objective"]
    means = objective.groupby(["rule", "seed", "population", "kind"])["value"].mean().reset_index()
    rows = []
    for (rule, seed), group in means.groupby(["rule", "seed"]):
        home = group[group["kind"] == "in-distribution"]["value"].item()
        unseen = group[group["kind"].isin(["cross-seed", "cross-rule", "population"])]
        worst = unseen.loc[unseen["value"].idxmin()]
        scripted = unseen["kind"] == "population"
        keep = ~scripted
        keep[scripted] = unseen.loc[scripted, "population"].map(answers_rule).astype(bool)
        answering = unseen[keep]
        worst_answering = answering.loc[answering["value"].idxmin()]
        gain = cells[
            (cells["rule"] == rule)
            & (cells["seed"] == seed)
            & (cells["measure"] == "exploiter_gain")
        ]["value"].mean()
        rows.append(
            {
                "rule": rule,
                "seed": seed,
                "in_distribution": home,
                "worst_case": worst["value"],
                "worst_population": worst["population"],
                "worst_case_answering": worst_answering["value"],
                "worst_answering_population": worst_answering["population"],
                "exploiter_gain": gain,
            }
        )
    return pd.DataFrame(rows)


def chosen_controls(runs: list[Path]) -> pd.DataFrame:
    """One row per run: its rule, seed and the mean of each control its planner chose in
    evaluation (``summary.json``), as columns ``control: <name>``."""
    rows = []
    for path in runs:
        summary = json.loads((path / "summary.json").read_text())
        planner = summary.get("planner") or {}
        row = {"rule": summary["scenario"], "seed": int(summary["seed"])}
        for name, value in zip(planner.get("controls", []), planner.get("mean_controls", [])):
            row[f"control: {name}"] = float(value)
        rows.append(row)
    return pd.DataFrame(rows)


def by_population(stress_dir: Path) -> pd.DataFrame:
    """Mean objective of each rule against each population, over seeds and episodes: what
    each rule does to whom (the worst case's cause)."""
    from coopsim.stress.driver import CELLS

    cells = pd.concat(pd.read_parquet(p) for p in sorted((stress_dir / CELLS).glob("*.parquet")))
    objective = cells[cells["measure"] == "objective"]
    per_seed = objective.groupby(["rule", "kind", "population", "seed"])["value"].mean()
    return per_seed.groupby(["rule", "kind", "population"]).mean().reset_index()


def summarise(per_run: pd.DataFrame) -> pd.DataFrame:
    """Mean and 95% t interval over seeds of each column, per rule; and the robust minus
    plain paired difference per planner (paired by training seed)."""
    rows = []
    controls = [c for c in per_run.columns if c.startswith("control: ")]
    for rule, group in per_run.groupby("rule"):
        for column in (
            "in_distribution",
            "worst_case",
            "worst_case_answering",
            "exploiter_gain",
            *controls,
        ):
            est = t_interval(group[column].to_numpy())
            rows.append((rule, column, est.mean, est.ci_low, est.ci_high, est.n))
    rules = set(per_run["rule"])
    pairs = [
        (r, twin)
        for r in sorted(rules)
        if "_robust" not in r
        for twin in sorted(t for t in rules if t.startswith(f"{r}_robust"))
    ]
    for rule, twin in pairs:
        plain = per_run[per_run["rule"] == rule].set_index("seed")
        robust = per_run[per_run["rule"] == twin].set_index("seed")
        label = twin[len(rule) + 1 :].replace("_", " ")  # 'robust', 'robust worst'
        seeds = plain.index.intersection(robust.index)
        for column in ("in_distribution", "worst_case", "worst_case_answering", *controls):
            diff = robust.loc[seeds, column].to_numpy() - plain.loc[seeds, column].to_numpy()
            est = t_interval(diff)
            rows.append(
                (f"{rule}: {label} - plain", column, est.mean, est.ci_low, est.ci_high, est.n)
            )
    return pd.DataFrame(rows, columns=["rule", "measure", "mean", "ci_low", "ci_high", "n"])


def main(argv: list[str] | None = None) -> int:
    import torch

    from coopsim.stress.driver import Stress, StressConfig
    from coopsim.stress.populations import load_population

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--iterations", type=int, default=None)
    parser.add_argument("--planners", default=",".join(PLANNERS))
    parser.add_argument("--episodes", type=int, default=32, help="stress episodes per cell")
    parser.add_argument(
        "--exploiter-iterations", type=int, default=30, help="the exploiter's training budget"
    )
    parser.add_argument(
        "--robust-objective",
        default="mean",
        choices=ROBUST_OBJECTIVES,
        help="what the robust twin maximises across its training populations",
    )
    parser.add_argument(
        "--cvar-alpha", type=float, default=None, help="with --robust-objective cvar"
    )
    parser.add_argument(
        "--suite",
        default="first",
        choices=tuple(SUITES),
        help="the training mix and held-out suite: 'first' (TRAINING_MIX, HELD_OUT), "
        "'crowding' (each with crowding-out contributors of its own degree), 'fairness' "
        "(each with inequity-averse voters of its own degree) or 'givers' (each with "
        "contributors who give under any rule, more as it pays more); the twin is named "
        "<planner>_robust_<suite>...",
    )
    parser.add_argument(
        "--mix",
        default="fixed",
        choices=MIXES,
        help="the twin's training mix: TRAINING_MIX, the populations of CANDIDATE_MIX its "
        "rule moves (decided from a grid of fixed rules), or those of them that answer the rule",
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    out = Path(args.out)
    seeds = [int(s) for s in args.seeds.split(",")]
    training_mix, held_names, candidates = SUITES[args.suite]
    held_out = [load_population(p) for p in held_names]
    summaries = []
    mixes: dict[str, list[str]] = {}  # each planner's twin's training mix
    for name in args.planners.split(","):
        plain = sc.load(name)
        mix = list(training_mix)
        # the twin's name: <planner>_robust[_<suite>][_<mix>][_<objective>]
        tag = "_".join(t for t in (args.suite, args.mix) if t not in ("first", "fixed"))
        if args.mix != "fixed":
            mix, grid, test = movable_mix(
                plain, candidates, answering=args.mix == "answering", held_out=held_names
            )
            out.mkdir(parents=True, exist_ok=True)
            atomic_write_text(out / f"grid-{name}.csv", grid.to_csv(index=False))
            atomic_write_text(out / f"movable-{name}.csv", test.to_csv(index=False))
            print(f"{name}: trains against {mix}", file=sys.stderr, flush=True)
        try:
            twin = robust_twin(plain, args.robust_objective, args.cvar_alpha, mix, tag)
        except ValueError as err:
            parser.error(str(err))
        mixes[name] = list(twin.planner.populations)
        variants = [plain, twin]
        runs = []
        for scenario in variants:
            for seed in seeds:
                path = finished_run(out / "runs", scenario.name, seed)
                if path is not None:
                    runs.append(path)
                    continue
                start = time.perf_counter()
                path = run_scenario(
                    scenario, seed=seed, out=out / "runs", iterations=args.iterations
                )
                print(
                    f"trained {scenario.name} s{seed} in {time.perf_counter() - start:.0f} s",
                    file=sys.stderr,
                    flush=True,
                )
                runs.append(path)
        config = StressConfig(
            episodes=args.episodes,
            coalitions=(1,),
            exploiter_iterations=args.exploiter_iterations,
            exploiter_start="fresh",  # one exploiter per run: the gain per run is its gain
        )
        stress_dir = out / f"stress-{name}"
        start = time.perf_counter()
        Stress(runs, held_out, stress_dir, config).run(progress=False)
        print(f"stressed {name}: {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
        per_run = per_run_verdicts(stress_dir).merge(chosen_controls(runs), on=["rule", "seed"])
        atomic_write_text(
            out / f"populations-{name}.csv", by_population(stress_dir).to_csv(index=False)
        )
        atomic_write_text(out / f"per_run-{name}.csv", per_run.to_csv(index=False))
        summary = summarise(per_run)
        summaries.append(summary)
        print(summary.to_string(index=False, float_format=lambda v: f"{v:.4g}"), flush=True)
    table = pd.concat(summaries, ignore_index=True)
    atomic_write_text(out / "summary.csv", table.to_csv(index=False))
    atomic_write_text(
        out / "settings.json",
        json.dumps(
            {
                "seeds": seeds,
                "iterations": args.iterations,
                "episodes": args.episodes,
                "exploiter_iterations": args.exploiter_iterations,
                "training_mix": mixes,
                "suite": args.suite,
                "held_out": held_names,
                "robust_objective": args.robust_objective,
                "cvar_alpha": args.cvar_alpha,
                "mix": args.mix,
            },
            indent=2,
        ),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
