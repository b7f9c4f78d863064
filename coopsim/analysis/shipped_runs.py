"""Run folders shipped with the notebooks, so a notebook shows trained agents in seconds.

The commons and tax notebooks train agents; on two busy cores that took minutes (3.5 and 6.1),
longer than a reader waits. They ship the runs their full settings make, small (each run's
checkpoints left out: kilobytes, not megabytes), under ``notebooks/data/<notebook>/``, and load
them; ``scripts/notebook_data.py <notebook>`` makes them again by executing the notebook with
``COOPSIM_NOTEBOOK_TRAIN=1``. The test suite's small settings still train, so the code that
made the shipped runs keeps running.
"""

from __future__ import annotations

import os
from pathlib import Path

#: Set to 1: a notebook trains its runs instead of loading the shipped ones.
TRAIN_ENV = "COOPSIM_NOTEBOOK_TRAIN"
#: Where a notebook that trains writes its runs (the regeneration script's staging folder).
DATA_ENV = "COOPSIM_NOTEBOOK_DATA"
#: What a run folder keeps when shipped: all a notebook reads, no checkpoints.
SHIPPED_FILES = (
    "scenario.toml",
    "summary.json",
    "episodes.parquet",
    "episode_metrics.parquet",
    "training_log.parquet",
    "replay.npz",
)


def data_dir(notebook: str) -> Path:
    """``notebooks/data/<notebook>`` of this source tree."""
    return Path(__file__).resolve().parents[2] / "notebooks" / "data" / notebook


def training() -> bool:
    """Whether the notebook should train rather than load (``COOPSIM_NOTEBOOK_TRAIN=1``)."""
    return os.environ.get(TRAIN_ENV) == "1"


def shipped_run(notebook: str, scenario: str, seed: int | None = None) -> Path:
    """The shipped run of ``scenario`` at ``seed`` (any seed where None) for ``notebook``, the
    newest should there be two; a one-line error naming the folder and the command that makes
    the runs where there is none."""
    folder = data_dir(notebook)
    pattern = f"{scenario}-*-s{'*' if seed is None else seed}"
    found = sorted(
        (p for p in folder.glob(pattern) if (p / "summary.json").is_file()),
        key=lambda p: p.name.rsplit("-s", 1)[0],
    )
    if not found:
        at = "" if seed is None else f" at seed {seed}"
        raise FileNotFoundError(
            f"{folder}: no shipped run of {scenario}{at}; make them with "
            f"`python scripts/notebook_data.py {notebook}`"
        )
    return found[-1]
