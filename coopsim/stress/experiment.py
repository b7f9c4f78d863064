"""Does a planner trained for unseen agents hold up better against them?

For each planner scenario, a robust twin is made that differs only in its name and
``[planner] populations`` (:data:`TRAINING_MIX`, half the training worlds). Both are trained at
each seed; then every run's rule is stressed against a **held-out** suite
(:data:`HELD_OUT`: scripted mixes the robust planner never met, the learners of the other
seeds, and learners trained under the twin rule) with one exploiter. The verdict per run gives
the worst case and in-distribution objective; the comparison is over training seeds.

Run: ``python -m coopsim.stress.experiment OUT [--seeds 0,1,2] [--iterations N]``.
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
from coopsim.intervals import t_interval
from coopsim.runner import run_scenario

PLANNERS = (
    "public_goods_matching_planner",
    "public_goods_institution_planner",
    "democratic_ai_planner",
)
#: What the robust planner trains against (besides its own learners).
TRAINING_MIX = ["altruists_and_free_riders", "conditional_cooperators"]
#: The scripted part of the held-out stress suite: none of it is in the training mix.
HELD_OUT = ["fgf2001", "hump_shaped"]


def robust_twin(scenario: sc.Scenario) -> sc.Scenario:
    """The same scenario, its planner trained against :data:`TRAINING_MIX` too."""
    twin = copy.deepcopy(scenario)
    twin.name = f"{scenario.name}_robust"
    twin.planner.populations = list(TRAINING_MIX)
    twin.planner.own_share = 0.5
    sc.check_planner_fits(
        twin.planner, twin.world.kind, twin.mechanisms, twin.training, twin.source
    )
    return twin


def per_run_verdicts(stress_dir: Path) -> pd.DataFrame:
    """One row per (rule, training seed): in-distribution objective, worst case over the
    held-out populations (the scripted ones, cross-seed and cross-rule learners), exploiter's
    gain; read from the stress folder's cells (per-run means over episodes)."""
    from coopsim.stress.driver import CELLS

    cells = pd.concat(pd.read_parquet(p) for p in sorted((stress_dir / CELLS).glob("*.parquet")))
    objective = cells[cells["measure"] == "objective"]
    means = objective.groupby(["rule", "seed", "population", "kind"])["value"].mean().reset_index()
    rows = []
    for (rule, seed), group in means.groupby(["rule", "seed"]):
        home = group[group["kind"] == "in-distribution"]["value"].item()
        unseen = group[group["kind"].isin(["cross-seed", "cross-rule", "population"])]
        worst = unseen.loc[unseen["value"].idxmin()]
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
                "exploiter_gain": gain,
            }
        )
    return pd.DataFrame(rows)


def summarise(per_run: pd.DataFrame) -> pd.DataFrame:
    """Mean and 95% t interval over seeds of each column, per rule; and the robust minus
    plain paired difference per planner (paired by training seed)."""
    rows = []
    for rule, group in per_run.groupby("rule"):
        for column in ("in_distribution", "worst_case", "exploiter_gain"):
            est = t_interval(group[column].to_numpy())
            rows.append((rule, column, est.mean, est.ci_low, est.ci_high, est.n))
    for rule in sorted(r for r in per_run["rule"].unique() if not r.endswith("_robust")):
        plain = per_run[per_run["rule"] == rule].set_index("seed")
        robust = per_run[per_run["rule"] == f"{rule}_robust"].set_index("seed")
        seeds = plain.index.intersection(robust.index)
        for column in ("in_distribution", "worst_case"):
            diff = robust.loc[seeds, column].to_numpy() - plain.loc[seeds, column].to_numpy()
            est = t_interval(diff)
            rows.append(
                (f"{rule}: robust - plain", column, est.mean, est.ci_low, est.ci_high, est.n)
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
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    out = Path(args.out)
    seeds = [int(s) for s in args.seeds.split(",")]
    held_out = [load_population(p) for p in HELD_OUT]
    summaries = []
    for name in args.planners.split(","):
        plain = sc.load(name)
        variants = [plain, robust_twin(plain)]
        runs = []
        for scenario in variants:
            for seed in seeds:
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
        config = StressConfig(episodes=32, coalitions=(1,), exploiter_iterations=30)
        stress_dir = out / f"stress-{name}"
        start = time.perf_counter()
        Stress(runs, held_out, stress_dir, config).run(progress=False)
        print(f"stressed {name}: {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
        per_run = per_run_verdicts(stress_dir)
        per_run.to_csv(out / f"per_run-{name}.csv", index=False)
        summary = summarise(per_run)
        summaries.append(summary)
        print(summary.to_string(index=False, float_format=lambda v: f"{v:.4g}"), flush=True)
    table = pd.concat(summaries, ignore_index=True)
    table.to_csv(out / "summary.csv", index=False)
    (out / "settings.json").write_text(
        json.dumps({"seeds": seeds, "training_mix": TRAINING_MIX, "held_out": HELD_OUT}, indent=2)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
