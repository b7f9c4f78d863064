"""The commons notebook: it draws what it promises and its conclusions come from its data.

tests/integration/notebooks/test_notebooks.py executes every notebook; this checks, on the executed
notebook, what is particular to this one.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.integration.notebooks.kernel import notebook_kernel

NOTEBOOK = Path(__file__).resolve().parents[3] / "notebooks" / "commons.ipynb"
KERNEL = "coopsim-commons-notebook-test"


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """The notebook run top to bottom on its small settings, in a folder of its own."""
    small = {"COOPSIM_NOTEBOOK_SMALL": "1"}
    with notebook_kernel(tmp_path_factory.mktemp("jupyter"), KERNEL, small):
        nb = nbformat.read(NOTEBOOK, as_version=4)
        workdir = tmp_path_factory.mktemp("run")
        NotebookClient(
            nb, kernel_name=KERNEL, timeout=240, resources={"metadata": {"path": str(workdir)}}
        ).execute()
    return nb, workdir


def _text(cell) -> str:
    return "".join(
        out.get("text", "") for out in cell.get("outputs", []) if out.get("name") == "stdout"
    )


def test_draws_the_schelling_diagram_and_the_frame_strip(executed):
    nb, _ = executed
    drawn = [
        cell.source
        for cell in nb.cells
        if cell.cell_type == "code"
        and any("image/png" in out.get("data", {}) for out in cell.outputs)
    ]
    assert any("schelling_figure(diagram)" in source for source in drawn)
    assert any("frame(replay, k)" in source for source in drawn)  # the library's renderer
    assert len(drawn) >= 4


def test_closing_sentences_are_computed_and_consistent(executed):
    nb, workdir = executed
    closing = _text(nb.cells[-1])
    assert "social dilemma by the Schelling diagram" in closing
    for measure in ("harvest_per_step", "sustainability", "final_stock"):
        assert f"Trained agents, {measure}: no rule" in closing
    # the figures quoted are the runs' own: one run per scenario and seed was written
    summaries = list((workdir / "runs" / "commons").rglob("summary.json"))
    assert len(summaries) == 4  # two scenarios x two seeds in the small settings
    metrics = [json.loads(p.read_text())["metrics"] for p in summaries]
    assert all("sustainability" in m and "final_stock" in m for m in metrics)


def test_the_frames_sentence_says_what_the_frames_show(executed):
    """No claim that the quota keeps patches alive unless its frames show apples standing."""
    import re

    nb, _ = executed
    text = "".join(_text(cell) for cell in nb.cells)
    found = re.search(
        r"(\d+) apples stand with no rule and (\d+) under the quota: the quota (.+)\.", text
    )
    assert found, text
    none, quota, verdict = int(found.group(1)), int(found.group(2)), found.group(3)
    if quota > none:
        assert verdict == "kept some patches alive"
    elif quota == 0:
        assert verdict.startswith("did not keep the greedy harvesters")
    else:
        assert verdict == "left no more standing than no rule"
    for cell in nb.cells:  # the old unconditional claim is gone from the prose
        if cell.cell_type == "markdown":
            assert "dense enough to" not in cell.source


def test_the_temptation_clause_follows_its_numbers(executed):
    import re

    nb, _ = executed
    closing = _text(nb.cells[-1])
    found = re.search(r"restrained ones earns ([\d.]+) against their ([\d.]+), so (.+?)\.", closing)
    assert found, closing
    defector, cooperator = float(found.group(1)), float(found.group(2))
    tempted = found.group(3) == "each is tempted to defect"
    assert tempted == (defector > cooperator) or defector == cooperator, closing
