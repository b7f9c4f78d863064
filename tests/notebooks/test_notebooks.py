"""Every notebook in notebooks/ runs top to bottom on small settings, and is committed clean."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))
KERNEL = "coopsim-notebook-test"


def test_the_notebooks_are_there():
    names = {p.stem for p in NOTEBOOKS}
    assert {"quickstart", "public_goods_mechanisms", "tax_design"} <= names


@pytest.fixture(scope="module")
def kernel_env(tmp_path_factory):
    """A kernelspec that runs this interpreter (the project's .venv), whatever else is installed.

    Found through JUPYTER_PATH, which takes precedence over user and system kernels, so a fresh
    clone needs no `ipykernel install` step.
    """
    root = tmp_path_factory.mktemp("jupyter")
    spec = root / "kernels" / KERNEL
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    spec.joinpath("kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "coopsim tests", "language": "python"})
    )
    old = {k: os.environ.get(k) for k in ("JUPYTER_PATH", "COOPSIM_NOTEBOOK_SMALL", "MPLBACKEND")}
    os.environ["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(root), old["JUPYTER_PATH"]]))
    os.environ["COOPSIM_NOTEBOOK_SMALL"] = "1"
    os.environ.pop("MPLBACKEND", None)  # the inline backend, as in Jupyter
    yield
    for key, value in old.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
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


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, path.name
