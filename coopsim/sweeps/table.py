"""The sweep table: one row per cell x seed, written atomically as ``<sweep>/sweep.parquet``.

Columns, in order: the swept fields (named by their dotted paths), ``seed``, each summary
metric's mean with ``<metric>_ci_low`` and ``<metric>_ci_high`` (the run's 95% t interval over
its evaluation episodes), then ``status`` (``ok`` or ``failed``), ``error``, ``wall_s`` (the
seconds the cell took where it ran; NaN for one finished by an earlier invocation that was
killed before noting it), ``run`` (the run directory, relative to the sweep) and ``cell`` (the
cell's folder). Rows follow the sweep's cell order, then seed, whatever order cells finished in.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from coopsim.record import SWEEP_TABLE, atomic_write_parquet

TRAILING = ("status", "error", "wall_s", "run", "cell")


def sweep_frame(rows: list[dict[str, Any]], fields: list[str], order: list[str]) -> pd.DataFrame:
    """Rows -> the tidy table; ``order`` is the cells' folder names in sweep order."""
    frame = pd.DataFrame(rows)
    if frame.empty:
        return pd.DataFrame(columns=[*fields, "seed", *TRAILING])
    rank = {name: i for i, name in enumerate(order)}
    frame = frame.assign(_rank=frame["cell"].map(rank)).sort_values(["_rank", "seed"])
    lead = [*fields, "seed"]
    metrics = [c for c in frame.columns if c not in (*lead, *TRAILING, "_rank")]
    return frame[[*lead, *metrics, *TRAILING]].reset_index(drop=True)


def write_table(folder: Path, frame: pd.DataFrame) -> Path:
    path = Path(folder) / SWEEP_TABLE
    atomic_write_parquet(path, frame)
    return path
