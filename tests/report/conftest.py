"""Runs and rendered reports shared by the report tests: built once per session."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from coopsim import scenario
from coopsim.cli import main
from coopsim.runner import run_scenario


def _training_copy(run_dir: Path, dest: Path) -> Path:
    """A copy of an evaluated tax run with a training log, as a planner run would have."""
    shutil.copytree(run_dir, dest)
    iters = np.arange(20)
    log = pd.DataFrame(
        {
            "iteration": iters,
            "equality_times_productivity": 600 + 10 * iters,
            "productivity": 900 + 5.0 * iters,
            "rate_0": np.linspace(0.0, 0.05, 20),
            "rate_1": np.linspace(0.2, 0.35, 20),
            "rate_2": np.linspace(0.5, 0.4, 20),
        }
    )
    log.to_parquet(dest / "metrics.parquet", index=False)
    return dest


@pytest.fixture(scope="session")
def run_dirs(tmp_path_factory) -> list[Path]:
    """A tax run with a training log and a peer-punishment run, 8 evaluation episodes each."""
    out = tmp_path_factory.mktemp("runs")
    tax = run_scenario(scenario.load("public_goods_tax"), out=out, episodes=8)
    punish = run_scenario(scenario.load("public_goods_punishment"), out=out, episodes=8)
    trained = _training_copy(tax, out / "public_goods_tax-trained-s0")
    return [trained, punish]


@pytest.fixture(scope="session")
def html_report(run_dirs, tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("report") / "report.html"
    assert main(["report", *map(str, run_dirs), "-o", str(out)]) == 0
    return out.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def pdf_report(run_dirs, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("pdf") / "report.pdf"
    assert main(["report", *map(str, run_dirs), "-o", str(out)]) == 0
    return out
