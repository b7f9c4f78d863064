"""Pages the docs build writes itself (mkdocs-gen-files): the API reference and the notebooks.

One reference page per public module of ``coopsim`` and ``mechanisms``, found by walking the
package tree, so a new module is documented without anyone listing it; ``reference/SUMMARY.md``
is their navigation (mkdocs-literate-nav). A module whose name starts with ``_`` (and
``__main__``) is private and left out. The notebooks in ``notebooks/`` are copied in as they
are stored, outputs included: mkdocs-jupyter renders them without running them
(``make notebooks-outputs`` runs them and stores their outputs).
"""

from __future__ import annotations

from pathlib import Path

import mkdocs_gen_files

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("coopsim", "mechanisms")


def public_modules() -> list[tuple[str, ...]]:
    """Dotted module paths (as tuples) of every public module and package, sorted."""
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            if any(p.startswith("_") for p in parts):
                continue
            found.append(parts)
    return sorted(set(found))


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
        fd.write(notebook.read_bytes())
