"""Run every notebook in notebooks/ and store the executed copies for the docs site.

``make notebooks-outputs`` calls this. The notebooks stay committed without outputs
(``tests/integration/notebooks`` holds them to that, so a diff shows code, not pictures); the executed
copies go to ``build/notebooks/`` (not committed), and the docs build shows those, outputs and
figures included, where they exist and are newer than their source (``gen_pages.py``). The
docs build itself never runs a notebook.

Each notebook runs top to bottom in its own empty folder with this interpreter as its kernel.
``COOPSIM_NOTEBOOK_SMALL=1`` in the environment gives the notebooks' small settings (as the
tests use); without it they run at the settings they state.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "notebooks"
OUT = ROOT / "build" / "notebooks"
KERNEL = "coopsim-docs"


def main(names: list[str]) -> int:
    import os

    import nbformat
    from nbclient import NotebookClient

    paths = [SOURCE / f"{n}.ipynb" for n in names] or sorted(SOURCE.glob("*.ipynb"))
    missing = [p.name for p in paths if not p.exists()]
    if missing:
        print(f"no such notebook in notebooks/: {', '.join(missing)}", file=sys.stderr)
        return 2
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as jupyter:
        spec = Path(jupyter, "kernels", KERNEL)
        spec.mkdir(parents=True)
        argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
        spec.joinpath("kernel.json").write_text(
            json.dumps({"argv": argv, "display_name": "coopsim", "language": "python"})
        )
        os.environ["JUPYTER_PATH"] = jupyter
        os.environ.pop("MPLBACKEND", None)
        for path in paths:
            nb = nbformat.read(path, as_version=4)
            with tempfile.TemporaryDirectory() as workdir:
                print(f"running {path.name} ...", flush=True)
                NotebookClient(
                    nb, kernel_name=KERNEL, timeout=1800, resources={"metadata": {"path": workdir}}
                ).execute()
            nb.metadata.pop("kernelspec", None)
            target = OUT / path.name
            partial = target.with_suffix(".ipynb.partial")
            nbformat.write(nb, partial)
            partial.replace(target)  # atomic: the docs never read half a notebook
            print(f"wrote {target.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
