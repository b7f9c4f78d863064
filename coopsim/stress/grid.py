"""Fixed rules against populations: which populations can a planner's rule move at all?

A planner trained against a mixture of populations is paid for what its rule does to each of
them. A population whose objective is the same under every rule the planner can set (scripted
contributors that read contributions only, under a fine or a match) gives it nothing to learn
from: under a worst-case objective it is a flat minimum, under the mean a constant. Whether a
population is such is a question of data, not of its name: Democratic AI's vote, for one,
moves with the redistribution even where contributions do not (the payoffs do).

:func:`rule_grid` plays a grid of *fixed* rules (every combination of each control's values)
against every population in **one batch of worlds**, rules x populations x episodes (x 2 for
a paired objective's twins), the rule installed by a planner that always decides it, so the
objective is measured exactly as a trained planner's is in evaluation. Each population's seats
are drawn once and reused under every rule (common random numbers), so a rule-blind
population scores the same under every rule up to its members' own randomness.
:func:`movable` reads the table: the populations whose best and worst rule differ by more
than chance allows. :func:`max_min_rule` gives the rule that does best for the population it
serves worst, by hand.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from statistics import NormalDist

import pandas as pd
import torch
from torch import Tensor

from coopsim.agents.mixture import SeatTable, as_population, draw_table
from coopsim.agents.population import Population
from coopsim.builder import build, make_world
from coopsim.evaluate import PlannerPlay, evaluate
from coopsim.scenario import Scenario
from coopsim.stress.members import member_seats
from coopsim.stress.populations import PopulationConfig

#: Family-wise false-positive rate of :func:`movable` over all pairs of rules.
MOVABLE_ALPHA = 0.01


def control_grid(scenario: Scenario, levels: int | None = None) -> tuple[list[str], Tensor]:
    """(control names, [R, K] every combination of each control's values): ``levels`` even
    steps from each control's low to its high (default the planner's ``rate_levels``)."""
    if scenario.planner is None:
        raise ValueError(f"scenario {scenario.name!r} has no [planner]: it sets no rule to grid")
    levers = build(scenario, 1, "cpu", population=False).levers
    levels = scenario.planner.rate_levels if levels is None else levels
    if levels < 2:
        raise ValueError(f"levels: got {levels}, need at least 2 (each control's low and high)")
    axes = [torch.linspace(float(lo), float(hi), levels) for lo, hi in zip(levers.low, levers.high)]
    rules = torch.tensor(list(itertools.product(*[a.tolist() for a in axes])))
    return levers.names, rules.reshape(-1, levers.width)


def rule_grid(
    scenario: Scenario,
    populations: Sequence[PopulationConfig],
    rules: Tensor | None = None,
    *,
    levels: int | None = None,
    episodes: int = 16,
    seed: int = 0,
) -> pd.DataFrame:
    """Every rule of ``rules`` [R, K] (default :func:`control_grid`) against every population,
    one batch of R x P x ``episodes`` worlds on the CPU.

    One row per (rule, population): ``rule`` (its index), one column per control, ``population``,
    ``objective`` (mean over episodes of the scenario's objective), ``se`` (its standard
    error), ``n`` (episodes)."""
    names, grid = control_grid(scenario, levels)
    if rules is not None:
        rules = torch.as_tensor(rules, dtype=torch.float32).reshape(-1, grid.shape[1])
        grid = rules
    if not populations:
        raise ValueError("give at least one population to play the rules against")
    if episodes < 2:
        raise ValueError(f"episodes: got {episodes}, need 2 or more for a standard error")
    wrong = [p.name for p in populations if p.world != scenario.world.kind]
    if wrong:
        raise ValueError(
            f"populations {wrong} are for another world than {scenario.name!r}'s "
            f"{scenario.world.kind!r}"
        )
    r, p, e = grid.shape[0], len(populations), episodes
    worlds = r * p * e
    probe = make_world(scenario, 1)
    n, heads = probe.spec.num_agents, len(probe.spec.action_nvec)
    gen = torch.Generator().manual_seed(seed * 7_919 + 17)
    members: list[Population] = []
    tables = []
    for config in populations:
        drawn = draw_table([m.share for m in config.members], e, n, gen)  # [E, N]
        tables.append(drawn.repeat(r, 1) + len(members))  # the same seats under every rule
        members += member_seats(config, probe)
    table = torch.cat(tables)  # [P * R * E, N], world (p, r, e) at (p * R + r) * E + e
    built = build(scenario, worlds, "cpu", population=False)
    paired = built.baseline is not None
    if paired:
        built = build(scenario, 2 * worlds, "cpu", population=False)
        table = table.repeat_interleave(2, 0)  # each world and its baseline twin
    fixed = grid.repeat_interleave(e, 0).repeat(p, 1)  # [P * R * E, K]

    def decide(income: Tensor, controls: Tensor) -> Tensor:
        return fixed.to(controls)

    play = PlannerPlay(
        config=scenario.planner,
        targets=built.levers.targets,
        decide=decide,
        mode="replay",
        baseline=built.baseline,
    )
    seats = as_population(SeatTable(members, table), n, heads)
    result = evaluate(
        scenario, seed=seed, episodes=worlds, population=seats, planner=play, built=built
    )
    values = torch.tensor(result.episode_metrics["objective"].to_numpy()).reshape(p, r, e)
    mean, se = values.mean(-1), values.std(-1) / e**0.5  # [P, R]
    rows = []
    for i, config in enumerate(populations):
        for j in range(r):
            row = {"rule": j}
            row.update({name: float(v) for name, v in zip(names, grid[j])})
            row.update(population=config.name, objective=float(mean[i, j]), se=float(se[i, j]), n=e)
            rows.append(row)
    return pd.DataFrame(rows)


def sensitivity(frame: pd.DataFrame, alpha: float = MOVABLE_ALPHA) -> pd.DataFrame:
    """Per population of a :func:`rule_grid` table: ``low`` and ``high`` (its worst and best
    rule's mean objective), ``range`` (high - low), ``z`` (the largest difference between two
    rules' means in standard errors of that difference) and ``movable``: some pair of rules
    differs beyond chance, a two-sided normal test at family-wise ``alpha`` over the R(R-1)/2
    pairs (Bonferroni). A population whose episodes all score alike under two rules (a
    standard error of 0) differs by any difference above float rounding."""
    rows = []
    for name, group in frame.groupby("population", sort=False):
        mean = torch.tensor(group["objective"].to_numpy(), dtype=torch.float64)  # [R]
        se = torch.tensor(group["se"].to_numpy(), dtype=torch.float64)
        r = mean.numel()
        pairs = max(r * (r - 1) // 2, 1)
        bound = NormalDist().inv_cdf(1 - alpha / (2 * pairs))
        gap = (mean[:, None] - mean[None, :]).abs()  # [R, R]
        spread = (se[:, None] ** 2 + se[None, :] ** 2).sqrt()
        tiny = 1e-9 * max(1.0, float(mean.abs().max()))
        z = torch.where(
            spread > 0, gap / spread.clamp(min=1e-300), torch.where(gap > tiny, torch.inf, 0.0)
        )
        rows.append(
            {
                "population": name,
                "low": float(mean.min()),
                "high": float(mean.max()),
                "range": float(mean.max() - mean.min()),
                "z": float(z.max()),
                "movable": bool(z.max() > bound),
            }
        )
    return pd.DataFrame(rows)


def movable(frame: pd.DataFrame, alpha: float = MOVABLE_ALPHA) -> list[str]:
    """The populations of a :func:`rule_grid` table whose objective the rules move (more than
    chance allows: :func:`sensitivity`), in the table's order."""
    table = sensitivity(frame, alpha)
    return table.loc[table["movable"], "population"].tolist()


def max_min_rule(frame: pd.DataFrame, populations: Sequence[str] | None = None) -> pd.Series:
    """The rule of a :func:`rule_grid` table whose lowest objective over ``populations`` (all
    of the table's by default) is highest: one row of the rules' worst cases, with
    ``worst`` its value and ``worst_population`` where it falls (ties: the first rule)."""
    if populations is not None:
        unknown = set(populations) - set(frame["population"])
        if unknown:
            raise ValueError(f"populations {sorted(unknown)} are not in the table")
        frame = frame[frame["population"].isin(populations)]
    if frame.empty:
        raise ValueError("no population to take the worst case over")
    lowest = frame.loc[frame.groupby("rule", sort=True)["objective"].idxmin()]
    best = lowest.loc[lowest["objective"].idxmax()]
    controls = [c for c in frame.columns if c not in ("rule", "population", "objective", "se", "n")]
    out = best[["rule", *controls]].copy()
    out["worst"] = best["objective"]
    out["worst_population"] = best["population"]
    return out
