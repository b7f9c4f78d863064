"""The Streamlit mechanism designer: design, run, compare and report on scenarios.

``coopsim app`` (or ``streamlit run coopsim/app/main.py``) starts it. The app reads and writes
the same files as the command line: scenario TOML files and run directories.
"""

from __future__ import annotations

import os
from pathlib import Path

APP_FILE = Path(__file__).resolve().parent / "main.py"


def runs_dir() -> Path:
    """Folder of run directories the app reads and writes (``COOPSIM_RUNS``, default ``runs``)."""
    return Path(os.environ.get("COOPSIM_RUNS", "runs"))


def designs_dir() -> Path:
    """Folder where saved designs go (``COOPSIM_DESIGNS``, default ``<runs>/designs``)."""
    env = os.environ.get("COOPSIM_DESIGNS")
    return Path(env) if env else runs_dir() / "designs"
