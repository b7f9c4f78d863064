"""MkDocs hooks: the generated tables go into the pages as the site is built.

``mkdocs.yml`` names this file under ``hooks:``. Every ``<!-- coopsim:... -->`` marker in a
page is replaced by the table :mod:`tables` generates from the schema and the scenario files,
so the tables the docs show are the ones the code enforces on the day of the build.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import tables  # noqa: E402


def on_page_markdown(markdown: str, page, config, files) -> str:  # noqa: ARG001 - MkDocs' hook signature
    try:
        return tables.expand(markdown)
    except KeyError as err:
        raise SystemExit(f"{page.file.src_path}: {err.args[0]}") from err
