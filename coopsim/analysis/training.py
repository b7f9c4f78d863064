"""Training logs as the trainer writes them (``training_log.parquet``): the log itself, metrics over
training, and the bracket rates a planner or a learning schedule set.

A log is read in the one shape the trainer writes (:data:`ITERATION`, ``rate_<k>``); a log in
any other shape is an error that names its file.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from coopsim.analysis.tables import KEYS, RunLike, as_runs, run_keys
from coopsim.record import TRAINING_LOG, RunData

#: The column of ``training_log.parquet`` that counts training iterations (``Trainer.train_iteration``
#: starts every row with it).
ITERATION = "iteration"

# Bracket rates in a training log: a planner's, or a schedule that learns on its own (Saez),
# logged per bracket k as ``rate_<k>`` (``Trainer.update_planner``, ``BracketTax.training_log``).
_RATE_COLUMN = re.compile(r"^rate_(\d+)$")


def training_log(run: RunData) -> pd.DataFrame | None:
    """The run's ``training_log.parquet`` as the trainer wrote it, or None for a run that was only
    evaluated (or whose log has no rows yet). A log without the ``iteration`` column that
    every trainer row starts with was not written by coopsim: an error names its file rather
    than a guess at which other column might count iterations.
    """
    log = run.training_log
    if log is None or log.empty:
        return None
    if ITERATION not in log.columns:
        has = ", ".join(c for c in log.columns if c not in KEYS)
        raise ValueError(
            f"{run.path / TRAINING_LOG}: no {ITERATION!r} column (it has: {has}); a training log "
            "is one row per iteration as coopsim's trainer writes it"
        )
    return log


def training_curves(
    runs: RunLike, metrics: Sequence[str] | None = None, *, window: int = 1
) -> pd.DataFrame:
    """Metrics over training from ``training_log.parquet``, long: one row per iteration x metric.

    Columns: run, scenario, mechanism, seed, iteration, metric, value. ``window`` > 1 smooths
    each curve with a trailing rolling mean (as training curves usually are shown). Runs that
    were only evaluated have no ``training_log.parquet`` and contribute no rows; the result then is
    an empty frame with these columns. A log without the trainer's ``iteration`` column is an
    error naming its file (:func:`training_log`).

    >>> from pathlib import Path
    >>> from coopsim.record import RunData
    >>> log = pd.DataFrame({"iteration": [0, 1, 2, 3], "reward": [0.0, 1.0, 2.0, 3.0]})
    >>> run = RunData(Path("r"), {"scenario": "s", "seed": 0}, {}, pd.DataFrame(), training_log=log)
    >>> training_curves(run, window=2)[["iteration", "metric", "value"]]
       iteration  metric  value
    0          0  reward    0.0
    1          1  reward    0.5
    2          2  reward    1.5
    3          3  reward    2.5
    """
    if window < 1:
        raise ValueError(f"window must be at least 1, got {window}")
    columns = [*KEYS, ITERATION, "metric", "value"]
    frames = []
    for run in as_runs(runs):
        log = training_log(run)
        if log is None:
            continue
        skip = {*KEYS, ITERATION}
        numeric = [
            c for c in log.columns if c not in skip and pd.api.types.is_numeric_dtype(log[c])
        ]
        names = [m for m in metrics if m in log.columns] if metrics is not None else numeric
        if not names:
            continue
        wide = log[names].astype(float)
        if window > 1:
            wide = wide.rolling(window, min_periods=1).mean()
        wide.insert(0, ITERATION, log[ITERATION].to_numpy())
        long = wide.melt(id_vars=ITERATION, var_name="metric", value_name="value")
        for i, (k, v) in enumerate(run_keys(run).items()):
            long.insert(i, k, v)
        frames.append(long)
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True)[columns]


def tax_schedules(run: RunData) -> pd.DataFrame:
    """The run's tax schedule(s): marginal rate per bracket, as configured and as learned.

    Rows from the scenario's ``tax`` mechanisms have ``source = "config"``. Where training
    logged bracket rates (``training_log.parquet`` columns ``rate_0`` ... ``rate_<K-1>``: the
    planner's, or a Saez schedule's), the schedule at each logged iteration follows with
    ``source = "training"`` and ``iteration`` set. Cutoffs are in coins (bracket cutoffs times the mechanism's ``scale``).
    Columns: source, iteration, bracket, cutoff, rate. Empty if the run has no tax.

    >>> from pathlib import Path
    >>> from coopsim.record import RunData
    >>> cfg = {"mechanisms": [{"kind": "tax", "brackets": [0.0, 10.0], "rates": [0.1, 0.3],
    ...                        "scale": 1.0}]}
    >>> tax_schedules(RunData(Path("r"), {}, cfg, pd.DataFrame()))
       source  iteration  bracket  cutoff  rate
    0  config        NaN        0     0.0   0.1
    1  config        NaN        1    10.0   0.3
    """
    columns = ["source", "iteration", "bracket", "cutoff", "rate"]
    rows: list[dict[str, Any]] = []
    cutoffs: list[float] = []
    for mech in run.scenario.get("mechanisms", []):
        if mech.get("kind") != "tax":
            continue
        scale = float(mech.get("scale", 1.0))
        cutoffs = [float(b) * scale for b in mech.get("brackets", [])]
        for k, (cut, rate) in enumerate(zip(cutoffs, mech.get("rates", []))):
            rows.append(
                {"source": "config", "iteration": np.nan, "bracket": k, "cutoff": cut,
                 "rate": float(rate)}
            )  # fmt: skip
    frames = [pd.DataFrame(rows, columns=columns)]
    log = training_log(run) if _logs_bracket_rates(run) else None
    if log is not None:
        rate_cols = {int(m.group(1)): c for c in log.columns if (m := _RATE_COLUMN.match(c))}
        if rate_cols:
            iteration = log[ITERATION].to_numpy()
            ks = sorted(rate_cols)
            if ks != list(range(len(ks))):
                raise ValueError(
                    f"{run.path / TRAINING_LOG}: bracket rates {', '.join(rate_cols[k] for k in ks)}; "
                    f"the trainer logs every bracket, rate_0 to rate_{len(ks) - 1}"
                )
            rates = log[[rate_cols[k] for k in ks]].to_numpy(dtype=float)  # [T, K]
            cut = [cutoffs[k] if k < len(cutoffs) else np.nan for k in ks]
            learned = pd.DataFrame(
                {
                    "source": "training",
                    "iteration": np.repeat(iteration, len(ks)).astype(float),
                    "bracket": np.tile(ks, len(iteration)),
                    "cutoff": np.tile(cut, len(iteration)),
                    "rate": rates.reshape(-1),
                }
            )
            frames.append(learned)
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True)[columns]


def _logs_bracket_rates(run: RunData) -> bool:
    """Whether the log's ``rate_<k>`` are a tax's bracket rates: a planner that sets other
    controls (a matching rate, a fine) logs its choices under the same names."""
    planner = run.scenario.get("planner")
    if planner is None:
        return True
    controls = planner.get("controls") or [planner.get("mechanism") or "tax"]
    return controls in (["tax"], ["tax.rates"])
