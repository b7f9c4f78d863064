"""Pages the docs build writes itself (mkdocs-gen-files): the API reference and the notebooks.

One reference page per public module of ``coopsim`` and ``mechanisms`` (``reference.py`` finds
them in the package tree, so a new module is documented without anyone listing it);
``reference/SUMMARY.md``
is their navigation (mkdocs-literate-nav). A module whose name starts with ``_`` (and
``__main__``) is private and left out. The notebooks in ``notebooks/`` are copied in as they
are committed (without outputs), or as ``make notebooks-outputs`` last ran them
(``build/notebooks/``, outputs and figures included) where that copy is newer than the source;
mkdocs-jupyter renders them without running them. It also redraws the README's picture
(``figure.py``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import mkdocs_gen_files

sys.path.insert(0, str(Path(__file__).resolve().parent))

import figure  # noqa: E402
from reference import ROOT, notebook_to_show, public_modules  # noqa: E402

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
figure.draw()  # the README's picture, redrawn from the worlds themselves

nav = mkdocs_gen_files.Nav()
for parts in public_modules():
    doc_path = Path("reference", *parts).with_suffix(".md")
    nav[parts] = Path(*parts).with_suffix(".md").as_posix()
    with mkdocs_gen_files.open(doc_path, "w") as fd:
        fd.write(f"# `{'.'.join(parts)}`\n\n::: {'.'.join(parts)}\n")
    mkdocs_gen_files.set_edit_path(doc_path, Path(*parts).with_suffix(".py"))

with mkdocs_gen_files.open("reference/SUMMARY.md", "w") as fd:
    fd.writelines(nav.build_literate_nav())


for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
    with mkdocs_gen_files.open(f"notebooks/{notebook.name}", "wb") as fd:
        fd.write(notebook_to_show(notebook).read_bytes())
