"""A Jupyter kernel for the notebook tests: this interpreter (the project's .venv), whatever
else is installed, found through JUPYTER_PATH (which comes before user and system kernels), so
a fresh clone needs no `ipykernel install` step."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def notebook_kernel(root: Path, name: str, env: dict[str, str | None]) -> Iterator[None]:
    """A kernelspec ``name`` under ``root``, with ``env`` set for the notebook (None: unset),
    everything restored afterwards; MPLBACKEND is unset so plots use the inline backend, as in
    Jupyter."""
    spec = root / "kernels" / name
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    spec.joinpath("kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "coopsim tests", "language": "python"})
    )
    wanted = {"JUPYTER_PATH": str(root), "MPLBACKEND": None, **env}
    old = {k: os.environ.get(k) for k in wanted}
    try:
        for key, value in wanted.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        yield
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
