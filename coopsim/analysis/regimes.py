"""The regimes experiment's statistics, read from its sweep table and run directories.

:mod:`coopsim.experiments.regimes` is a sweep: it leaves one run directory per regime and
training seed under ``out/seed_<s>/`` and the table ``out/sweep.parquet`` listing them (one
row per regime x training seed). Everything here reads that table and those runs through
:mod:`coopsim.record`, so a folder filled in several batches, or by Ray tasks on several
machines, tables as one experiment.

Two kinds of interval, for two kinds of luck. Every regime is evaluated on the same seeds, so
evaluation world k has the same map, skills and start positions under each: the planner's
gain over a regime at one training seed comes with the 95% interval of their difference world
by world, which removes the luck of the draw (a world of high-skilled agents is productive
under any tax) but not the luck of training. Across training seeds, which are independent
trainings, the mean gain comes with a t interval over the seeds, and "ahead in k of n" says in
how many seeds the planner's mean was the higher.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from coopsim.analysis.economy import ACTIVITIES, INCOME_SOURCES, labour_weights, roles
from coopsim.analysis.training import tax_schedules
from coopsim.experiments.regimes import BASELINE, FIELD, PLANNER, REGIMES
from coopsim.intervals import paired_difference, t_interval
from coopsim.measures import MEASURES
from coopsim.record import SWEEP_TABLE, RunData, load_run, load_sweep

#: Measures of the registry in each seed's table, in column order.
TABLE_METRICS = ("equality", "productivity", "equality_times_productivity", "utilitarian_welfare")
SWEEP_METRIC = "equality_times_productivity"  # the planner's objective, compared across seeds
_SWEEP_LABEL = MEASURES[SWEEP_METRIC].label
REFERENCES = (BASELINE, "US federal", "Saez")  # what the planner is compared with, in order

#: regime label -> its run at one training seed, in table order
SeedRuns = Mapping[str, RunData]


def load_experiment(out: str | os.PathLike, partial: bool = False) -> dict[int, dict[str, RunData]]:
    """{training seed: {regime label: run}} for every training seed in ``out/sweep.parquet``.

    Each training seed needs one finished run of every regime (``partial``: of some regime,
    for a folder that trained a subset); anything else is an error naming the folder (a seed
    still training, a regime that failed) and the command that finishes it.
    """
    out = Path(out)
    if not (out / SWEEP_TABLE).is_file():
        raise FileNotFoundError(
            f"{out}: no regime runs here to table (no {SWEEP_TABLE}; "
            f"`coopsim experiment regimes --out {out}` trains and tables them)"
        )
    table = load_sweep(out)
    if table.attrs["fields"] != [FIELD]:
        raise ValueError(
            f"{out}: a sweep of {', '.join(table.attrs['fields']) or 'nothing'}, "
            "not the regimes experiment"
        )
    found: dict[int, dict[str, RunData]] = {}
    for _, row in table.iterrows():
        by = found.setdefault(int(row["seed"]), {})
        if row["status"] == "ok":
            by[row[FIELD]] = load_run(out / row["run"])
    if not found:
        raise FileNotFoundError(f"{out}: no regime runs here to table ({SWEEP_TABLE} is empty)")
    for seed, by in found.items():
        missing = [label for label in REGIMES if label not in by]
        if missing and not (partial and by):
            raise ValueError(
                f"{out}: no finished run of {', '.join(missing)} at training seed {seed}; "
                f"`coopsim experiment regimes --seeds {seed} --out {out}` finishes it"
            )
    return {
        seed: {label: found[seed][label] for label in REGIMES if label in found[seed]}
        for seed in sorted(found)
    }


def with_reference(
    variant: Mapping[int, SeedRuns], reference: Mapping[int, SeedRuns]
) -> dict[int, dict[str, RunData]]:
    """A folder that trained some regimes (a planner variant, say) completed with another
    experiment's runs of the rest, seed by seed, in table order.

    The per-world pairing means something only if both were evaluated on the same worlds:
    every seed of ``variant`` needs the reference's, and each of its runs must have drawn the
    same worlds as the reference's runs (:func:`same_worlds`); an error names the run that
    did not.
    """
    out: dict[int, dict[str, RunData]] = {}
    for seed, runs in variant.items():
        if seed not in reference:
            raise ValueError(f"training seed {seed}: the reference experiment has none")
        ref = reference[seed]
        theirs = next(iter(ref.values()))
        for run in runs.values():
            if not same_worlds(run, theirs):
                raise ValueError(
                    f"{run.path} and {theirs.path} were evaluated on different worlds; "
                    "pair a variant with the experiment whose phase 1 it forked"
                )
        out[seed] = {lb: runs.get(lb, ref.get(lb)) for lb in REGIMES if lb in runs or lb in ref}
    return out


def same_worlds(a: RunData, b: RunData) -> bool:
    """Whether two runs were evaluated on the same worlds: the same evaluation seed and
    episodes, and (where both recorded it) the same build skill for every agent of every
    episode, which each world draws when it is reset."""
    if (a.summary.get("seed"), a.summary.get("episodes")) != (
        b.summary.get("seed"),
        b.summary.get("episodes"),
    ):
        return False
    fa, fb = _skills(a), _skills(b)
    return fa is None or fb is None or (fa.shape == fb.shape and bool(np.array_equal(fa, fb)))


def _skills(run: RunData) -> np.ndarray | None:
    """Build skill per evaluation episode and agent at the first round, or None."""
    eps = run.episodes
    if eps is None or "build_skill" not in eps.columns:
        return None
    first = eps[eps["round"] == eps["round"].min()].sort_values(["episode", "agent"])
    return first["build_skill"].to_numpy(dtype=float)


def per_world(run: RunData, metric: str = SWEEP_METRIC) -> np.ndarray:
    """The metric per evaluation world [E]; a run without per-episode metrics gives its mean
    alone (one value), and comparisons with it show no paired interval."""
    if run.episode_metrics is not None and metric in run.episode_metrics:
        return run.episode_metrics[metric].to_numpy(dtype=float)
    return np.asarray([run.summary["metrics"][metric]["mean"]], dtype=float)


def gain_over(a: np.ndarray, b: np.ndarray) -> tuple[float | None, dict[str, float] | None]:
    """Relative gain of values ``a`` over ``b`` (None if b's mean is not positive), and the 95%
    interval of their difference world by world (None unless both cover the same worlds)."""
    mean_ref = float(b.mean())
    gain = float(a.mean()) / mean_ref - 1 if mean_ref > 0 else None
    return gain, paired_difference(a, b).as_dict() if a.shape == b.shape else None


def paired_gain(
    run: RunData, ref: RunData, metric: str = SWEEP_METRIC
) -> tuple[float | None, dict[str, float]]:
    """Relative gain of ``run`` over ``ref`` and the 95% interval of their paired difference."""
    a, b = per_world(run, metric), per_world(ref, metric)
    if a.shape != b.shape:
        raise ValueError(f"{run.path} and {ref.path} were evaluated on different episodes")
    gain, diff = gain_over(a, b)
    return gain, diff


def format_table(runs: SeedRuns) -> str:
    """Mean [95% CI] per metric and regime, and the planner's paired gain over the others."""
    head = f"{'regime':<12}" + "".join(f"{MEASURES[m].label:>26}" for m in TABLE_METRICS)
    lines = [head, "-" * len(head)]
    for label, run in runs.items():
        cells = []
        for m in TABLE_METRICS:
            s = run.summary["metrics"][m]
            cells.append(f"{s['mean']:>9.3f} [{s['ci_low']:>6.2f},{s['ci_high']:>6.2f}]")
        lines.append(f"{label:<12}" + "".join(f"{c:>26}" for c in cells))
    lines.append("")
    for ref in REFERENCES:
        if PLANNER not in runs or ref not in runs:
            continue
        gain, diff = paired_gain(runs[PLANNER], runs[ref])
        shown = f"{gain:+.1%}" if gain is not None else "(no ratio: it produced nothing)"
        lines.append(
            f"AI planner vs {ref + ':':<11} {_SWEEP_LABEL} {shown:>7}; paired "
            f"difference per world {diff['mean']:+.2f} [{diff['ci_low']:+.2f}, "
            f"{diff['ci_high']:+.2f}]"
        )
    if PLANNER in runs:
        lines.append(
            "(the paired intervals cover the evaluation worlds, not the luck of training: a "
            "regime's result moves by 6-8% from one training seed to the next; --seeds "
            "0,1,2,... compares over several)"
        )
    return "\n".join(lines)


def evaluated_rates(run: RunData) -> list[float]:
    """The schedule a regime was evaluated under, one rate per bracket.

    The planner's learned schedule as the run recorded it; a schedule that learned on its own
    (Saez) as training last logged it; otherwise the scenario's.
    """
    learned = run.summary.get("training", {}).get("planner_schedule")
    if learned is not None:
        return [float(r) for r in learned]
    schedules = tax_schedules(run).dropna(subset=["rate"])
    trained = schedules[schedules["source"] == "training"]
    if not trained.empty:
        last = trained[trained["iteration"] == trained["iteration"].max()]
        return last.sort_values("bracket")["rate"].tolist()
    return schedules[schedules["source"] == "config"]["rate"].tolist()


def format_details(runs: SeedRuns) -> str:
    """What each regime's agents did and the schedule they were evaluated under.

    Per agent and evaluation episode: income earned (houses and sales, before tax), houses
    built, gather acts, moves, orders posted and units bought.
    """
    lines = [f"{'regime':<12}{'income':>11}{'houses':>8}{'gathers':>9}{'moves':>8}"
             f"{'orders':>8}{'trades':>8}  rates (per US bracket)"]  # fmt: skip
    for label, run in runs.items():
        eps = run.episodes
        per = eps.groupby(["episode", "agent"], observed=True).sum(numeric_only=True).mean()
        rates = " ".join(f"{x:.2f}" for x in evaluated_rates(run))
        lines.append(
            f"{label:<12}{per.get('income', 0.0):>11.2f}{per.get('built', 0.0):>8.2f}"
            f"{per.get('gathers', 0.0):>9.2f}{per.get('moved', 0.0):>8.1f}"
            f"{per.get('orders', 0.0):>8.1f}{per.get('bought', 0.0):>8.2f}  {rates}"
        )
    return "\n".join(lines)


def format_seed(runs: SeedRuns) -> str:
    """One training seed's comparison: the table, then what the agents did."""
    return f"{format_table(runs)}\n\n{format_details(runs)}"


def sweep_values(by_seed: Mapping[int, SeedRuns]) -> dict[int, dict[str, np.ndarray]]:
    """{seed: {regime: run}} -> {seed: {regime: equality x productivity per evaluation world}}."""
    return {
        seed: {label: per_world(run) for label, run in runs.items()}
        for seed, runs in by_seed.items()
    }


def across_seeds(
    values: Mapping[int, Mapping[str, np.ndarray]], label: str, ref: str
) -> tuple[dict[str, float] | None, int, int]:
    """Regime ``label``'s gain over ``ref`` across training seeds: the mean gain with its t
    interval over the seeds (None where ``ref`` never produced anything to compare with), the
    seeds in which ``label``'s mean was the higher, and the seeds counted."""
    gains = []
    wins = 0
    for by in values.values():
        gain, _ = gain_over(by[label], by[ref])
        if gain is not None:
            gains.append(gain)
        wins += bool(by[label].mean() > by[ref].mean())
    # the seeds are independent trainings: a t interval over them
    return (t_interval(np.asarray(gains)).as_dict() if gains else None), wins, len(values)


def _gain_line(values: Mapping[int, Mapping[str, np.ndarray]], label: str, ref: str) -> str:
    ci, wins, n = across_seeds(values, label, ref)
    if ci is None:
        mean = f"n/a over {n}"
    else:
        spread = f" [{ci['ci_low']:+.1%}, {ci['ci_high']:+.1%}]" if ci["n"] > 1 else ""
        mean = f"{ci['mean']:+.1%}{spread} over {ci['n']}"
    who = f"{label + ' vs':<13} {ref + ':':<12}"
    return f"{who} mean gain {mean} training seeds; ahead in {wins} of {n}"


def format_sweep(values: Mapping[int, Mapping[str, np.ndarray]]) -> str:
    """Equality x productivity per training seed and regime, and the planner's gain on each.

    A planner's edge at one training seed can be luck of that seed's learning; the sweep says
    in how many seeds it holds, with each seed's paired interval, and the mean gain with a t
    interval over the seeds; then each fixed schedule's gain over the free market the same
    way. Takes :func:`sweep_values`.
    """
    labels = list(next(iter(values.values())))
    refs = [ref for ref in REFERENCES if ref in labels]
    width = 38
    head = f"{'seed':<6}" + "".join(f"{lb:>13}" for lb in labels)
    head += "".join(f"{'planner vs ' + ref:>{width}}" for ref in refs)
    lines = [
        f"across training seeds: {_SWEEP_LABEL}; the planner's edge, its paired difference "
        "per world [95% CI] in the measure's own unit, then the same as a share (gain)",
        head,
        "-" * len(head),
    ]
    for seed, by in values.items():
        cells = "".join(f"{by[lb].mean():>13.1f}" for lb in labels)
        for ref in refs:
            gain, diff = gain_over(by[PLANNER], by[ref])
            shown = f"({gain:+.1%})" if gain is not None else "(gain n/a)"
            if diff is not None and diff["n"] > 1:
                # the interval beside the estimate it bounds: both a difference per world
                cell = (
                    f"{diff['mean']:>+7.1f} [{diff['ci_low']:>+7.1f},{diff['ci_high']:>+7.1f}] "
                    f"{shown}"
                )
            else:  # a run without per-world values: no paired interval to give
                cell = f"{shown} no paired interval"
            cells += cell.rjust(width)
        lines.append(f"{seed:<6}" + cells)
    means = "".join(f"{np.mean([by[lb].mean() for by in values.values()]):>13.1f}" for lb in labels)
    lines.append(f"{'mean':<6}" + means)
    lines += [_gain_line(values, PLANNER, ref) for ref in refs]
    fixed = [lb for lb in labels if lb not in (PLANNER, BASELINE)]
    if BASELINE in labels:
        lines += [_gain_line(values, label, BASELINE) for label in fixed]
    return "\n".join(lines)


#: Regimes whose division of labour the experiment's table shows.
ROLE_REGIMES = (BASELINE, PLANNER)


def pooled_roles(by_seed: Mapping[int, SeedRuns], label: str) -> pd.DataFrame:
    """:func:`coopsim.analysis.economy.roles` of regime ``label``, every training seed's
    evaluation episodes pooled: per skill rank within an episode, the labour shares, income by
    source and units bought and sold. The paper's roles show as ``labour_share_building``
    rising and ``net_sold`` falling with rank; one seed's 64 worlds are a small sample of
    that seed's learning, the pool is the regime's."""
    frames = []
    offset = 0
    for runs in by_seed.values():
        eps = runs[label].episodes.copy()
        eps["episode"] = eps["episode"].astype(int) + offset  # the seeds share episode numbers
        offset = int(eps["episode"].max()) + 1
        frames.append(eps)
    first = next(iter(by_seed.values()))[label]
    return roles(pd.concat(frames, ignore_index=True), labour_weights(first.scenario["world"]))


def format_roles(by_seed: Mapping[int, SeedRuns]) -> str:
    """Who does what under the free market and the planner, by skill rank, seeds pooled."""
    seeds = len(by_seed)
    lines = [
        f"who does what, by skill rank within an episode (0 = least skilled), evaluation "
        f"episodes of {seeds} training seed{'s' if seeds > 1 else ''} pooled: share of labour "
        "per activity; units sold less bought; coin per episode from houses and from sales",
        f"{'regime':<12}{'rank':>5}{'skill':>7}"
        + "".join(f"{a:>10}" for a in ACTIVITIES)
        + f"{'net sold':>10}{'coin build':>12}{'coin sell':>11}",
    ]
    lines.append("-" * len(lines[-1]))
    for label in ROLE_REGIMES:
        table = pooled_roles(by_seed, label)
        for _, row in table.iterrows():
            shares = "".join(f"{row[f'labour_share_{a}']:>10.0%}" for a in ACTIVITIES)
            lines.append(
                f"{label:<12}{int(row['skill_rank']):>5}{row['build_skill']:>7.2f}{shares}"
                f"{row['net_sold']:>+10.1f}{row['income_building']:>12.1f}"
                f"{row['income_selling']:>11.1f}"
            )
    return "\n".join(lines)


def format_experiment(by_seed: Mapping[int, SeedRuns]) -> str:
    """What ``coopsim experiment regimes --table`` prints: one seed's comparison, or the
    table across seeds when there are several; then who does what."""
    if len(by_seed) == 1:
        body = format_seed(next(iter(by_seed.values())))
    else:
        body = format_sweep(sweep_values(by_seed))
    return f"{body}\n\n{format_roles(by_seed)}" if has_roles(by_seed) else body


def has_roles(by_seed: Mapping[int, SeedRuns]) -> bool:
    """Whether every run :func:`format_roles` reads kept the economy's per-agent counters."""
    need = {"episode", "agent", "build_skill", *ACTIVITIES.values(), *INCOME_SOURCES.values()}
    need |= {"bought", "sold"}
    return all(
        label in runs and need <= set(runs[label].episodes.columns)
        for runs in by_seed.values()
        for label in ROLE_REGIMES
    )
