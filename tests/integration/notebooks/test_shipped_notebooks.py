"""The commons and tax notebooks as a reader runs them: at their full settings, loading the
runs they ship (notebooks/data/, kilobytes) instead of training for minutes, and saying what
those runs hold."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbclient import NotebookClient

from coopsim.analysis.shipped_runs import DATA_ENV, TRAIN_ENV, data_dir
from coopsim.measures import interval
from tests.integration.notebooks.kernel import notebook_kernel

ROOT = Path(__file__).resolve().parents[3]
KERNEL = "coopsim-shipped-notebook-test"
SHIPPING = ("commons", "tax_design")


@pytest.mark.parametrize("name", SHIPPING)
def test_shipped_runs_are_small_and_hold_what_the_notebook_reads(name):
    folder = data_dir(name)
    runs = sorted(p.parent for p in folder.rglob("summary.json"))
    assert runs, f"{folder}: no shipped runs"
    for run in runs:
        assert not (run / "checkpoints").exists(), run
        assert {"scenario.toml", "summary.json", "episodes.parquet"} <= {
            p.name for p in run.iterdir()
        }
        size = sum(f.stat().st_size for f in run.rglob("*") if f.is_file())
        assert size < 100_000, (run.name, size)  # kilobytes, not megabytes


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    """The full settings, as a reader opens the notebook: no small-settings or data overrides."""
    unset = dict.fromkeys(("COOPSIM_NOTEBOOK_SMALL", TRAIN_ENV, DATA_ENV))
    with notebook_kernel(tmp_path_factory.mktemp("jupyter"), KERNEL, unset):
        yield


def _execute(name: str, folder: Path) -> tuple[str, float]:
    nb = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
    start = time.perf_counter()
    NotebookClient(
        nb, kernel_name=KERNEL, timeout=240, resources={"metadata": {"path": str(folder)}}
    ).execute()
    wall = time.perf_counter() - start
    text = "".join(
        out.get("text", "")
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if out.get("output_type") == "stream"
    )
    return text, wall


def test_commons_reads_its_shipped_runs_and_says_what_they_hold(kernel, tmp_path):
    text, wall = _execute("commons", tmp_path)
    print(f"commons at full settings, shipped runs: {wall:.0f} s")
    assert not list(tmp_path.rglob("summary.json")), "trained instead of loading"
    assert "6 runs, shipped" in text
    per_seed = {}
    for file in data_dir("commons").rglob("summary.json"):
        summary = json.loads(file.read_text())
        per_seed.setdefault(summary["scenario"], []).append(
            summary["metrics"]["harvest_per_step"]["mean"]
        )
    for name, words in (("commons", "no rule"), ("commons_quota", "quota")):
        ci = interval("harvest_per_step", pd.Series(per_seed[name]).to_numpy())
        said = f"{words} {ci.mean:.2f} [{ci.ci_low:.2f}, {ci.ci_high:.2f}]"
        assert re.search(r"Trained agents, harvest_per_step: .*" + re.escape(said), text), text


def test_tax_design_reads_its_shipped_runs_and_names_the_best_from_them(kernel, tmp_path):
    from tests.integration.notebooks.test_notebooks import check_tax

    text, wall = _execute("tax_design", tmp_path)
    print(f"tax_design at full settings, shipped runs: {wall:.0f} s")
    assert not list(tmp_path.rglob("summary.json")), "trained instead of loading"
    assert "shipped runs" in text
    (tmp_path / "shipped").mkdir()
    (tmp_path / "shipped" / "tax").symlink_to(data_dir("tax_design"))
    check_tax(text, tmp_path / "shipped")
