"""Fixed rules against every population of the robust planners' training candidates and of the
held-out suite: which populations a rule can move, and the max-min rule by hand.

For each planner (the institution's fine and threshold, Democratic AI's w and v by default),
every rule of a grid (``--levels`` values per control) is played against every population in
one batch of worlds (:func:`coopsim.stress.grid.rule_grid`); it prints the table rule x
population -> objective, the test of which populations the rule moves, the max-min rule over
several sets of populations, and the seconds the batch took.

``--suite crowding`` plays the crowding suite (:data:`coopsim.stress.experiment.SUITES`): the
candidates and held-out populations each with crowding-out contributors of their own degree;
``--suite fairness`` each with inequity-averse voters of their own degree (for Democratic AI);
``--suite givers`` each with contributors who give under any rule, more as it pays more.

Run: ``python bench/robust_grid.py [--planners a,b] [--levels 6] [--episodes 16]
[--suite first|crowding|fairness|givers]``.
"""

from __future__ import annotations

import argparse
import time

import pandas as pd
import torch

from coopsim import scenario as sc
from coopsim.stress.experiment import SUITES, answers_rule
from coopsim.stress.grid import max_min_rule, rule_grid, sensitivity
from coopsim.stress.populations import load_population

PLANNERS = "public_goods_institution_planner,democratic_ai_planner"

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--planners", default=PLANNERS)
    parser.add_argument("--levels", type=int, default=6, help="values per control")
    parser.add_argument("--episodes", type=int, default=16, help="episodes per (rule, population)")
    parser.add_argument("--suite", default="first", choices=tuple(SUITES))
    args = parser.parse_args()
    torch.set_num_threads(1)
    pd.set_option("display.width", 250)
    pd.set_option("display.max_rows", 500)
    pd.set_option("display.max_columns", 20)
    training, held_out, candidates = SUITES[args.suite]
    names = [*candidates, *held_out]
    populations = [load_population(n) for n in names]
    for planner in args.planners.split(","):
        scenario = sc.load(planner)
        start = time.perf_counter()
        frame = rule_grid(scenario, populations, levels=args.levels, episodes=args.episodes)
        seconds = time.perf_counter() - start
        controls = [c for c in frame.columns if c not in ("rule", "population", "objective", "se")]
        controls.remove("n")
        table = frame.pivot_table(
            index=controls, columns="population", values="objective", sort=False
        )[names]
        table.columns = [n.replace("_", " ") for n in names]
        print(f"\n== {planner}: {scenario.planner.objective}, {args.episodes} episodes each ==")
        print(table.round(2).to_string())
        print(sensitivity(frame).round(3).to_string(index=False))
        test = sensitivity(frame).set_index("population")["movable"]
        sets = {
            "training candidates the rule moves": [n for n in candidates if test[n]],
            "training mix": training,
            "training mix, answering the rule": [n for n in training if answers_rule(n)],
            "held out, answering the rule": [n for n in held_out if answers_rule(n)],
            "held out, all": held_out,
        }
        for label, chosen in sets.items():
            best = max_min_rule(frame, chosen)
            rule = ", ".join(f"{c} {best[c]:.2f}" for c in controls)
            print(
                f"max-min over {label}: {rule} -> {best['worst']:.3f} ({best['worst_population']})"
            )
        worlds = len(frame) * args.episodes * (2 if scenario.planner.baseline else 1)
        print(f"{len(frame)} (rule, population) cells, {worlds} worlds: {seconds:.1f} s")
