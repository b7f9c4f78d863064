"""The tables analysts build from every run: summaries with intervals, Lorenz curves,
per-agent outcomes, metrics over training and side-by-side comparisons.

Every function takes one loaded run or a list of them (``coopsim.record.load_run`` /
``load_runs``) and returns a tidy :class:`pandas.DataFrame` whose first columns are ``run``,
``scenario``, ``mechanism`` and ``seed``, so tables from several runs concatenate and group
without further work. The measures are the registry's (:data:`coopsim.measures.MEASURES`) and
every interval is the house's (:mod:`coopsim.intervals`: Student-t over independent units).
Training logs are read by :mod:`coopsim.analysis.training`.

>>> import tempfile
>>> from coopsim import scenario
>>> from coopsim.record import load_run
>>> from coopsim.runner import run_scenario
>>> out = tempfile.mkdtemp()
>>> run = load_run(run_scenario(scenario.load("public_goods_tax"), out=out, episodes=8))
>>> summary(run, metrics=["productivity", "gini"])[["metric", "mean", "n"]]
         metric         mean  n
0  productivity  1040.000000  8
1          gini     0.144231  8
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from coopsim.intervals import LEVEL, t_interval, t_interval_columns, zero_width_reason
from coopsim.measures import MEASURES, bounds_of
from coopsim.record import RunData

RunLike = RunData | Sequence[RunData]

#: Columns that identify a run in every table.
KEYS = ("run", "scenario", "mechanism", "seed")

#: Metrics shown by default: every registered measure, in the registry's order (those a run
#: lacks are left out).
DEFAULT_METRICS = tuple(MEASURES)


def as_runs(runs: RunLike) -> list[RunData]:
    """One run or a sequence of runs -> a list of runs (a bare RunData is wrapped)."""
    if isinstance(runs, RunData):
        return [runs]
    runs = list(runs)
    bad = [type(r).__name__ for r in runs if not isinstance(r, RunData)]
    if bad:
        raise TypeError(
            f"expected runs loaded with coopsim.record.load_run/load_runs, got {', '.join(bad)}"
        )
    return runs


def run_keys(run: RunData) -> dict[str, Any]:
    """The identifying columns of ``run``: run, scenario, mechanism, seed."""
    return {
        "run": run.name,
        "scenario": run.summary.get("scenario"),
        "mechanism": run.summary.get("mechanism"),
        "seed": run.summary.get("seed"),
    }


def run_labels(runs: RunLike) -> list[str]:
    """Short legend labels: the scenario name, with the seed added where names repeat.

    >>> from pathlib import Path
    >>> from coopsim.record import RunData
    >>> mk = lambda s, seed: RunData(Path(f"{s}-{seed}"), {"scenario": s, "seed": seed}, {},
    ...                              pd.DataFrame())
    >>> run_labels([mk("a", 0), mk("a", 1), mk("b", 0)])
    ['a (seed 0)', 'a (seed 1)', 'b']
    """
    runs = as_runs(runs)
    names = [str(r.summary.get("scenario") or r.name) for r in runs]
    with_seed = [f"{n} (seed {r.summary.get('seed')})" for n, r in zip(names, runs)]
    labels = []
    for name, seeded, run in zip(names, with_seed, runs):
        if names.count(name) == 1:
            labels.append(name)
        elif with_seed.count(seeded) == 1:
            labels.append(seeded)
        else:
            labels.append(f"{name} ({run.name})")
    return labels


def _metric_names(runs: list[RunData], metrics: Sequence[str] | None) -> list[str]:
    if metrics is not None:
        return list(metrics)
    present: set[str] = set()
    for run in runs:
        present |= set(run.summary.get("metrics", {}))
        if run.episode_metrics is not None:
            present |= set(run.episode_metrics.columns)
    return [m for m in DEFAULT_METRICS if m in present]


def summary(
    runs: RunLike, metrics: Sequence[str] | None = None, *, level: float = LEVEL
) -> pd.DataFrame:
    """One row per run x metric: the mean over evaluation episodes with a Student-t interval.

    Columns: run, scenario, mechanism, seed, metric, mean, ci_low, ci_high, std, n. The
    episodes are the units (:mod:`coopsim.intervals`), read from ``episode_metrics.parquet``
    so that any ``level`` can be asked for; a run recorded before that file existed gives the
    95% intervals of its ``summary.json``, which the same policy computed from the same
    episodes. The means always equal those in ``summary.json``.

    >>> import tempfile
    >>> from coopsim import scenario
    >>> from coopsim.record import load_run
    >>> from coopsim.runner import run_scenario
    >>> run = load_run(run_scenario(scenario.load("public_goods"), out=tempfile.mkdtemp(),
    ...                             episodes=16))
    >>> row = summary(run, metrics=["contribution_rate"]).iloc[0]
    >>> bool(row.ci_low <= row["mean"] <= row.ci_high), int(row.n)
    (True, 16)
    """
    runs = as_runs(runs)
    names = _metric_names(runs, metrics)
    rows: list[dict[str, Any]] = []
    for run in runs:
        keys = run_keys(run)
        stored = run.summary.get("metrics", {})
        per_episode = run.episode_metrics
        for metric in names:
            if per_episode is not None and metric in per_episode:
                values = per_episode[metric].to_numpy(dtype=float)  # [episodes]
                bounds = bounds_of(metric)
                rows.append(
                    {**keys, "metric": metric, **t_interval(values, level, bounds).as_dict()}
                )
            elif metric in stored:
                if level != LEVEL:
                    raise ValueError(
                        f"{run.path}: no episode_metrics.parquet, so only summary.json's "
                        f"{LEVEL:.0%} intervals are known; got level={level}"
                    )
                s = stored[metric]
                rows.append(
                    {**keys, "metric": metric, "mean": s["mean"], "ci_low": s["ci_low"],
                     "ci_high": s["ci_high"], "std": s["std"], "n": int(s["n"])}
                )  # fmt: skip
    columns = [*KEYS, "metric", "mean", "ci_low", "ci_high", "std", "n"]
    return pd.DataFrame(rows, columns=columns)


def final_wealth(run: RunData) -> pd.DataFrame:
    """Wealth each agent ends each evaluation episode with, as a wide table [episodes, agents].

    Wealth is the sum of an agent's net payoffs over the episode (what ``wealth`` holds in
    the last round).
    """
    eps = run.episodes
    if eps.empty or "net" not in eps:
        raise ValueError(f"{run.path}: episodes.parquet has no 'net' column to measure wealth")
    return eps.pivot_table(index="episode", columns="agent", values="net", aggfunc="sum")


def lorenz(runs: RunLike, *, floor: float | None = 0.0) -> pd.DataFrame:
    """Lorenz curve of final wealth for each run, averaged over evaluation episodes.

    Each episode's N agents are sorted by wealth; the curve gives the cumulative share of
    wealth held by the poorest ``population_share`` of agents (N + 1 points from (0, 0) to
    (1, 1)). Wealth is floored at ``floor`` (0 by default, as the inequality indices are)
    because sanctions can push it negative. An episode in which nobody has anything counts as
    perfectly equal. Columns: run, scenario, mechanism, seed, population_share, wealth_share.

    >>> import tempfile
    >>> from coopsim import scenario
    >>> from coopsim.record import load_run
    >>> from coopsim.runner import run_scenario
    >>> run = load_run(run_scenario(scenario.load("public_goods_tax"), out=tempfile.mkdtemp(),
    ...                             episodes=4))
    >>> lorenz(run)[["population_share", "wealth_share"]].round(4)
       population_share  wealth_share
    0              0.00        0.0000
    1              0.25        0.1779
    2              0.50        0.3558
    3              0.75        0.6779
    4              1.00        1.0000
    """
    frames = []
    for run in as_runs(runs):
        wealth = final_wealth(run).to_numpy(dtype=float)  # [E, N]
        if floor is not None:
            wealth = np.maximum(wealth, floor)
        e, n = wealth.shape
        ordered = np.sort(wealth, axis=1)  # [E, N]
        total = ordered.sum(axis=1, keepdims=True)  # [E, 1]
        equal = np.broadcast_to(np.arange(1, n + 1) / n, (e, n))  # [E, N]
        with np.errstate(invalid="ignore", divide="ignore"):
            shares = np.where(total > 0, np.cumsum(ordered, axis=1) / total, equal)  # [E, N]
        curve = np.concatenate([[0.0], shares.mean(axis=0)])  # [N + 1]
        frame = pd.DataFrame({"population_share": np.arange(n + 1) / n, "wealth_share": curve})
        for i, (k, v) in enumerate(run_keys(run).items()):
            frame.insert(i, k, v)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def agent_outcomes(runs: RunLike, *, level: float = LEVEL) -> pd.DataFrame:
    """One row per run x agent: what each agent put in, received and ended with.

    Columns: run, scenario, mechanism, seed, agent, policy, wealth (mean final wealth over
    episodes), wealth_ci_low, wealth_ci_high (its Student-t interval over the episodes),
    wealth_share (of the group's total), contribution (mean per round), gross (payoff before
    mechanisms, summed over the episode), one ``transfer_<mechanism>`` column per mechanism
    (summed over the episode; negative means the agent paid) and net (= wealth).

    >>> import tempfile
    >>> from coopsim import scenario
    >>> from coopsim.record import load_run
    >>> from coopsim.runner import run_scenario
    >>> run = load_run(run_scenario(scenario.load("public_goods_tax"), out=tempfile.mkdtemp(),
    ...                             episodes=4))

    Free riders earn 20 + 1.6 * 40 / 4 = 36 a round and pay 0.2 * 10 + 0.5 * 6 = 5 tax;
    contributors earn 16, below the first taxed bracket; the 10 collected is rebated as 2.5
    each, so over 10 rounds:

    >>> agent_outcomes(run)[["agent", "policy", "wealth", "transfer_tax", "transfer_lump_sum"]]
       agent             policy  wealth  transfer_tax  transfer_lump_sum
    0      0  always_contribute   185.0           0.0               25.0
    1      1  always_contribute   185.0           0.0               25.0
    2      2         free_rider   335.0         -50.0               25.0
    3      3         free_rider   335.0         -50.0               25.0
    """
    frames = []
    for run in as_runs(runs):
        eps = run.episodes
        wealth = final_wealth(run)  # [E, N]
        mean, lo, hi = t_interval_columns(wealth.to_numpy(dtype=float), level)  # [N] each
        per_episode = [c for c in eps.columns if c == "gross" or c.startswith("transfer_")]
        sums = eps.groupby(["episode", "agent"], observed=True)[per_episode + ["net"]].sum()
        totals = sums.groupby(level="agent").mean()  # [N, columns]
        frame = pd.DataFrame({"agent": wealth.columns.to_numpy()})
        if "policy" in eps:
            policy = eps.groupby("agent", observed=True)["policy"].first()
            frame["policy"] = policy.reindex(frame["agent"]).astype(str).to_numpy()
        frame["wealth"] = mean
        frame["wealth_ci_low"] = lo
        frame["wealth_ci_high"] = hi
        total = mean.sum()
        frame["wealth_share"] = mean / total if total != 0 else np.nan
        if "contribution" in eps:
            contrib = eps.groupby("agent", observed=True)["contribution"].mean()
            frame["contribution"] = contrib.reindex(frame["agent"]).to_numpy()
        for col in per_episode + ["net"]:
            frame[col] = totals[col].reindex(frame["agent"]).to_numpy()
        for i, (k, v) in enumerate(run_keys(run).items()):
            frame.insert(i, k, v)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def compare(
    runs: RunLike,
    metrics: Sequence[str] | None = None,
    *,
    by: str = "run",
    level: float = LEVEL,
) -> pd.DataFrame:
    """Side-by-side table: one row per run (or per scenario), ``<metric>`` mean and interval.

    ``by="run"`` gives one row per run, its units the evaluation episodes. ``by="scenario"``
    groups the runs of one scenario and mechanism (different training seeds): their units are
    the runs, so the mean is the mean of the runs' means and the Student-t interval over them
    covers the luck of training, the uncertainty that matters for learned policies; a
    scenario run at one seed has no spread to measure and a zero-width interval. Columns: the
    group keys, ``runs``, then per metric ``<metric>``, ``<metric>_ci_low``,
    ``<metric>_ci_high``, ``<metric>_std`` and ``<metric>_n`` (the units counted).
    :func:`format_compare` turns it into ``mean [lo, hi]`` strings.

    >>> from pathlib import Path
    >>> from coopsim.record import RunData
    >>> def mk(name, seed, eff):
    ...     em = pd.DataFrame({"efficiency": eff})
    ...     s = {"scenario": name, "mechanism": "none", "seed": seed}
    ...     return RunData(Path(f"{name}-{seed}"), s, {}, pd.DataFrame(), episode_metrics=em)
    >>> runs = [mk("a", 0, [0.5, 0.5]), mk("a", 1, [0.7, 0.7]), mk("b", 0, [1.0, 1.0])]
    >>> table = compare(runs, by="scenario")
    >>> table[["scenario", "runs", "efficiency", "efficiency_ci_low", "efficiency_ci_high"]]
      scenario  runs  efficiency  efficiency_ci_low  efficiency_ci_high
    0        a     2         0.6           -0.67062             1.87062
    1        b     1         1.0            1.00000             1.00000

    Two seeds give a t interval with one degree of freedom, as wide as honesty requires.
    """
    runs = as_runs(runs)
    if by not in ("run", "scenario"):
        raise ValueError(f"by must be 'run' or 'scenario', got {by!r}")
    table = summary(runs, metrics, level=level)
    names = list(dict.fromkeys(table["metric"]))
    if by == "run":
        group_keys = list(KEYS)
        groups = [[r] for r in runs]
    else:
        group_keys = ["scenario", "mechanism"]
        order: dict[tuple, list[RunData]] = {}
        for r in runs:
            order.setdefault((r.summary.get("scenario"), r.summary.get("mechanism")), []).append(r)
        groups = list(order.values())
    rows = []
    for group in groups:
        keys = run_keys(group[0])
        row: dict[str, Any] = {k: keys[k] for k in group_keys}
        row["runs"] = len(group)
        sub = table[table["run"].isin([r.name for r in group])]
        for metric in names:
            m = sub[sub["metric"] == metric]
            if by == "run" and len(m) == 1:
                stats = m.iloc[0][["mean", "ci_low", "ci_high", "std", "n"]].to_dict()
            else:  # the runs are the units (none: every column is missing)
                values = m["mean"].to_numpy(dtype=float)
                stats = t_interval(values, level, bounds_of(metric)).as_dict()
            row[metric] = stats["mean"]
            for part in ("ci_low", "ci_high", "std", "n"):
                row[f"{metric}_{part}"] = stats[part]
        rows.append(row)
    return pd.DataFrame(rows)


def _zero_width_reasons(table: pd.DataFrame) -> dict[tuple[int, str], str]:
    """(row position, metric) -> why that cell of a :func:`compare` table has an interval of
    zero width, for the cells that have one."""
    reasons = {}
    for metric in _compared_metrics(table):
        n_col, std_col = f"{metric}_n", f"{metric}_std"
        if n_col not in table or std_col not in table:
            continue
        for i, (mean, n, std) in enumerate(zip(table[metric], table[n_col], table[std_col])):
            reason = zero_width_reason(int(n), float(std)) if pd.notna(mean) else None
            if reason is not None:
                reasons[(i, metric)] = reason
    return reasons


def _compared_metrics(table: pd.DataFrame) -> list[str]:
    columns = set(table.columns)
    return [c for c in table.columns if {f"{c}_ci_low", f"{c}_ci_high"} <= columns]


def _note_marks(reasons: dict[tuple[int, str], str]) -> dict[str, str]:
    """Reason -> its mark (``*``, ``**``), in order of first appearance."""
    marks: dict[str, str] = {}
    for reason in reasons.values():
        marks.setdefault(reason, "*" * (len(marks) + 1))
    return marks


def format_compare(table: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
    """A :func:`compare` table as text: rows are metrics, columns runs, cells ``mean [lo, hi]``.

    A zero-width interval is marked (``*``, ``**``) with the reason that
    :func:`zero_width_notes` spells out, so that no table passes off a lone seed or a
    deterministic outcome as certainty.

    >>> t = pd.DataFrame({"scenario": ["a", "b"], "runs": [2, 1], "gini": [0.25, 0.5],
    ...                   "gini_ci_low": [0.2, 0.5], "gini_ci_high": [0.3, 0.5],
    ...                   "gini_std": [0.01, 0.0], "gini_n": [2, 1]})
    >>> format_compare(t)
                             a                         b
    gini  0.250 [0.200, 0.300]  0.500 [0.500, 0.500] *
    >>> zero_width_notes(t)
    ['* one unit only: no spread to measure']
    """
    label_col = "run" if "run" in table else "scenario"
    metrics = _compared_metrics(table)
    reasons = _zero_width_reasons(table)
    marks = _note_marks(reasons)
    columns = []
    for i, (_, row) in enumerate(table.iterrows()):
        cells = {}
        for m in metrics:
            if pd.isna(row[m]):
                cells[m] = ""
                continue
            cells[m] = (
                f"{row[m]:.{digits}f} [{row[f'{m}_ci_low']:.{digits}f}, "
                f"{row[f'{m}_ci_high']:.{digits}f}]"
            )
            if (i, m) in reasons:
                cells[m] += f" {marks[reasons[(i, m)]]}"
        columns.append(pd.Series(cells, index=metrics, dtype=object))
    frame = pd.concat(columns, axis=1) if columns else pd.DataFrame(index=metrics)
    frame.columns = [str(label) for label in table[label_col]]
    return frame


def zero_width_notes(table: pd.DataFrame) -> list[str]:
    """The notes for :func:`format_compare`'s marks: ``"* <why>"``, one line per reason."""
    return [f"{mark} {reason}" for reason, mark in _note_marks(_zero_width_reasons(table)).items()]


def mechanism_flows(runs: RunLike) -> pd.DataFrame:
    """What each mechanism collected and paid out per round, summed over agents.

    Means over evaluation episodes of the ``transfer_<mechanism>`` columns: ``collected`` is
    the total that agents paid in (taxes, fines, fees), ``paid`` the total they received
    (rebates, matching funds), ``net`` = paid - collected (0 for a balanced mechanism, negative
    where money leaves the economy, positive where an outside sponsor adds it). Columns: run,
    scenario, mechanism, seed, round, source (the mechanism), collected, paid, net.

    >>> import tempfile
    >>> from coopsim import scenario
    >>> from coopsim.record import load_run
    >>> from coopsim.runner import run_scenario
    >>> run = load_run(run_scenario(scenario.load("public_goods_tax"), out=tempfile.mkdtemp(),
    ...                             episodes=4))
    >>> flows = mechanism_flows(run)
    >>> flows[flows["round"] == 0][["source", "collected", "paid", "net"]]
         source  collected  paid   net
    0       tax       10.0   0.0 -10.0
    1  lump_sum        0.0  10.0  10.0
    """
    columns = [*KEYS, "round", "source", "collected", "paid", "net"]
    frames = []
    for run in as_runs(runs):
        eps = run.episodes
        cols = [c for c in eps.columns if c.startswith("transfer_")]
        if not cols:
            continue
        values = eps[["episode", "round", *cols]].copy()
        paid = values[cols].clip(lower=0).groupby([values["episode"], values["round"]]).sum()
        taken = (-values[cols]).clip(lower=0).groupby([values["episode"], values["round"]]).sum()
        paid = paid.groupby(level="round").mean()  # [R, M]
        taken = taken.groupby(level="round").mean()  # [R, M]
        for col in cols:
            frame = pd.DataFrame(
                {
                    "round": paid.index.to_numpy(),
                    "source": col.removeprefix("transfer_"),
                    "collected": taken[col].to_numpy(dtype=float),
                    "paid": paid[col].to_numpy(dtype=float),
                }
            )
            frame["net"] = frame["paid"] - frame["collected"]
            for i, (k, v) in enumerate(run_keys(run).items()):
                frame.insert(i, k, v)
            frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=columns)
    out = pd.concat(frames, ignore_index=True)
    order = {s: i for i, s in enumerate(dict.fromkeys(out["source"]))}
    out = out.sort_values(
        ["run", "round", "source"], key=lambda s: s.map(order) if s.name == "source" else s
    )
    return out.reset_index(drop=True)[columns]
