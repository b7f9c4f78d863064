"""Paths as a browser may see them: relative to the runs folder, never the server's own paths.

Why: the app may serve people who have no business knowing where it keeps its files (and a
path like ``/home/alice/...`` names a person). Every success and error message that names a
file goes through here: :func:`path` for one file or folder, :func:`text` for a message that
may hold paths (an exception's text, say). Paths are written ``<runs>/...`` (or
``<designs>/...`` where saved designs are kept outside the runs folder), the labels the job
worker's messages use too.
"""

from __future__ import annotations

import os
from pathlib import Path

from coopsim.app import designs_dir, runs_dir
from coopsim.paths import redact

RUNS, DESIGNS = "<runs>", "<designs>"


def _folders() -> dict[str, str | os.PathLike]:
    return {RUNS: runs_dir(), DESIGNS: designs_dir(), ".": os.getcwd()}


def path(where: str | os.PathLike) -> str:
    """``where`` as ``<runs>/...`` (or ``<designs>/...``); a path outside both shows its name."""
    target = Path(where).resolve()
    for label, root in ((RUNS, runs_dir()), (DESIGNS, designs_dir())):
        base = Path(root).resolve()
        if target == base or base in target.parents:
            return "/".join([label, *target.relative_to(base).parts])
    return target.name


def runs_folder() -> str:
    """The runs folder as the sidebar names it: as given where relative (``runs``), else only
    its last part (``…/runs``), so an absolute server path is never shown."""
    given = runs_dir()
    return str(given) if not given.is_absolute() else f"…/{given.name}"


def text(message: str) -> str:
    """``message`` with the runs, designs and working folders' server paths replaced by labels.

    The designs folder, inside the runs folder by default, is named by its path under
    ``<runs>`` there, so a person sees one name for one place.
    """
    folders = _folders()
    designs = Path(designs_dir()).resolve()
    runs = Path(runs_dir()).resolve()
    if designs == runs or runs in designs.parents:
        del folders[DESIGNS]
    return redact(message, folders)
