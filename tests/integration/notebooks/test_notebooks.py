"""Every notebook in notebooks/ runs top to bottom on small settings, and is committed clean."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbclient import NotebookClient

from tests.integration.notebooks.kernel import notebook_kernel

NOTEBOOKS = sorted((Path(__file__).resolve().parents[3] / "notebooks").glob("*.ipynb"))
KERNEL = "coopsim-notebook-test"


def test_the_notebooks_are_there():
    names = {p.stem for p in NOTEBOOKS}
    assert {"quickstart", "public_goods_mechanisms", "tax_design"} <= names


@pytest.fixture(scope="module")
def kernel_env(tmp_path_factory):
    """The notebooks on their small settings."""
    with notebook_kernel(
        tmp_path_factory.mktemp("jupyter"), KERNEL, {"COOPSIM_NOTEBOOK_SMALL": "1"}
    ):
        yield


# Notebooks executed and checked by a test file of their own (its name, in this folder).
OWN_TEST = {"commons": "test_commons_notebook.py"}
CHECKED_HERE = [p for p in NOTEBOOKS if p.stem not in OWN_TEST]


@pytest.mark.parametrize("path", CHECKED_HERE, ids=[p.stem for p in CHECKED_HERE])
def test_notebook_runs(path, kernel_env, tmp_path):
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        kernel_name=KERNEL,
        timeout=240,
        allow_errors=False,
        resources={"metadata": {"path": str(tmp_path)}},  # each runs in its own folder
    )
    client.execute()  # raises CellExecutionError on the first failing cell
    images = sum(
        1
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if "image/png" in out.get("data", {})
    )
    assert images >= 3, f"{path.name} drew {images} figures"
    assert list((tmp_path / "runs").rglob("summary.json")), "the notebook wrote no run"
    CLAIMS[path.stem](printed(nb), tmp_path / "runs")
    last = nb.cells[-1]
    assert last.cell_type == "code" or not re.search(
        r"\d|higher|lower|more|less|both", last.source
    ), f"{path.name} ends on a sentence that no cell computes: {last.source!r}"


def printed(nb) -> str:
    """Everything the notebook's cells printed."""
    return "".join(
        out.get("text", "")
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if out.get("output_type") == "stream"
    )


def summaries(folder: Path) -> dict[str, list[dict]]:
    """Scenario name -> the summary.json of each of its runs under ``folder``."""
    found: dict[str, list[dict]] = {}
    for file in sorted(folder.rglob("summary.json")):
        summary = json.loads(file.read_text())
        found.setdefault(summary["scenario"], []).append(summary)
    return found


def check_mechanisms(text: str, runs: Path) -> None:
    """Each 'rule: contribution rate m [lo, hi], above/below/level with none's b' line holds."""
    means = {
        name: sum(s["metrics"]["contribution_rate"]["mean"] for s in ss) / len(ss)
        for name, ss in summaries(runs / "mechanisms").items()
    }
    lines = re.findall(
        r"^(\w+): contribution rate, all seats, ([\d.]+) \[([\d.]+), ([\d.]+)\], "
        r"(above|below|level with) "
        r"none's ([\d.]+)$",
        text,
        re.M,
    )
    assert len(lines) == 3, text
    labels = {"punishment": "public_goods_punishment", "matching": "public_goods_matching"}
    labels["institution"] = "public_goods_institution"
    assert float(lines[0][5]) == pytest.approx(means["public_goods"], abs=1e-3)
    none = means["public_goods"]
    for label, shown, low, high, verdict, _ in lines:
        mean = means[labels[label]]
        assert float(shown) == pytest.approx(mean, abs=1e-3), label
        assert float(low) <= float(shown) <= float(high)
        # an interval wholly above (below) none's has a higher (lower) mean; equal means are level
        expected = {"above": mean > none, "below": mean < none, "level with": True}[verdict]
        assert expected and (verdict == "level with" or mean != none), (label, verdict)
    highest = re.search(
        r"^highest contribution rate \(all seats\): (.+); lowest: (.+)$", text, re.M
    )
    if highest:
        top = max(means.values())
        assert set(highest.group(1).split(", ")) == {n for n, m in means.items() if m == top}
    else:
        assert len(set(means.values())) == 1 and "every scenario has the same" in text


def check_quickstart(text: str, runs: Path) -> None:
    """The cooperators' first- and last-round contributions and their trend are the data's."""
    (run,) = [p.parent for p in (runs / "quickstart").rglob("summary.json")]
    episodes = pd.read_parquet(run / "episodes.parquet")
    coop = episodes[episodes["policy"] == "conditional_cooperator"]
    by_round = coop.groupby("round")["contribution"].mean()
    first, last = by_round.iloc[0], by_round.iloc[-1]
    trend = "fell" if last < first else "rose" if last > first else "stayed"
    expected = (
        f"conditional cooperators' mean contribution {trend} from {first:.2f} in the first round "
        f"to {last:.2f} in the last"
    )
    assert expected in text, text


def check_tax(text: str, runs: Path) -> None:
    """The design named best has the highest equality x productivity of the runs."""
    found = re.search(r"^highest equality x productivity: (.+) \((\w+), ([-\d.]+)\)$", text, re.M)
    assert found, text
    values = {
        name: ss[-1]["metrics"]["equality_times_productivity"]["mean"]
        for name, ss in summaries(runs / "tax").items()
    }
    best = max(values, key=values.get)
    assert values[found.group(2)] == pytest.approx(values[best])
    assert float(found.group(3)) == pytest.approx(values[best], abs=0.05)
    # whether the best is separated from the next is read from the two intervals
    stats = {n: ss[-1]["metrics"]["equality_times_productivity"] for n, ss in summaries(
        runs / "tax").items()}  # fmt: skip
    second = sorted(values, key=values.get)[-2]
    apart = stats[best]["ci_low"] > stats[second]["ci_high"]
    said = re.search(r"^its 95% interval (lies above|overlaps) that of", text, re.M)
    assert said and (said.group(1) == "lies above") == apart, text


CLAIMS = {
    "public_goods_mechanisms": check_mechanisms,
    "quickstart": check_quickstart,
    "tax_design": check_tax,
}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, path.name


def test_every_notebook_is_executed_and_its_claims_checked():
    here = Path(__file__).resolve().parent
    for path in NOTEBOOKS:
        assert path.stem in CLAIMS or (here / OWN_TEST.get(path.stem, "-")).is_file(), path.name
