"""Make the run folders a notebook ships: ``python scripts/notebook_data.py commons tax_design``.

Executes each notebook at its full settings with ``COOPSIM_NOTEBOOK_TRAIN=1`` (it trains
instead of loading), its runs staged in a temporary folder, then keeps of each run what the
notebook reads (:data:`coopsim.analysis.shipped_runs.SHIPPED_FILES`, no checkpoints) and puts them in
``notebooks/data/<notebook>/`` in place of the old ones. See :mod:`coopsim.analysis.shipped_runs`.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from coopsim.analysis.shipped_runs import DATA_ENV, SHIPPED_FILES, TRAIN_ENV, data_dir  # noqa: E402


def make(name: str) -> Path:
    """Execute ``notebooks/<name>.ipynb`` training, and ship the runs it made."""
    import nbformat
    from nbclient import NotebookClient

    notebook = ROOT / "notebooks" / f"{name}.ipynb"
    if not notebook.is_file():
        raise SystemExit(f"{notebook}: no such notebook")
    with tempfile.TemporaryDirectory() as tmp:
        staging = Path(tmp) / "runs"
        env = {TRAIN_ENV: "1", DATA_ENV: str(staging), "PYTHONPATH": str(ROOT)}
        old = {k: os.environ.get(k) for k in (*env, "COOPSIM_NOTEBOOK_SMALL")}
        os.environ.update(env)
        os.environ.pop("COOPSIM_NOTEBOOK_SMALL", None)  # the full settings
        try:
            start = time.perf_counter()
            nb = nbformat.read(notebook, as_version=4)
            NotebookClient(nb, timeout=3600, resources={"metadata": {"path": tmp}}).execute()
            print(f"{name}: trained in {time.perf_counter() - start:.0f} s")
        finally:
            for key, value in old.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        runs = sorted(p.parent for p in staging.rglob("summary.json"))
        if not runs:
            raise SystemExit(f"{name}: the notebook made no run in {staging}")
        target = data_dir(name)
        fresh = target.with_name(f".{name}.new")
        shutil.rmtree(fresh, ignore_errors=True)
        for run in runs:
            (fresh / run.name).mkdir(parents=True)
            for file in SHIPPED_FILES:
                if (run / file).is_file():
                    shutil.copy2(run / file, fresh / run.name / file)
        shutil.rmtree(target, ignore_errors=True)
        fresh.rename(target)
    size = sum(f.stat().st_size for f in target.rglob("*") if f.is_file())
    print(f"{target}: {len(runs)} runs, {size / 1024:.0f} kB")
    return target


if __name__ == "__main__":
    for arg in sys.argv[1:] or ["commons", "tax_design"]:
        make(arg)
