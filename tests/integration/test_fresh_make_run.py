"""bench/fresh_make_run.py refuses, before it clones or installs anything, an interpreter that
cannot open the Compare page at its end (no playwright: an environment from `make run` alone)."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_an_interpreter_without_playwright_is_refused_before_any_clone():
    before = set(Path(tempfile.gettempdir()).glob("coopsim-fresh-*"))
    # -S: no site-packages, so no playwright, as in a venv that only `make run` set up
    done = subprocess.run(
        [sys.executable, "-S", str(ROOT / "bench" / "fresh_make_run.py")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "has no playwright" in done.stderr and "make test" in done.stderr, done.stderr
    assert set(Path(tempfile.gettempdir()).glob("coopsim-fresh-*")) == before  # nothing cloned
