"""The README's picture is the one the code draws today (``scripts/docs/figure.py``)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "scripts" / "docs"))

import figure  # noqa: E402


def test_the_committed_picture_is_what_the_worlds_draw(tmp_path: Path):
    assert figure.TARGET.exists(), "run: python scripts/docs/figure.py"
    drawn = tmp_path / "worlds.png"
    assert figure.draw(drawn) is True
    assert figure.draw(drawn) is False, "the drawing is not deterministic"
    assert drawn.read_bytes() == figure.TARGET.read_bytes(), (
        "docs/assets/worlds.png is stale: run `python scripts/docs/figure.py` (or make docs-build)"
    )
    readme = (ROOT / "README.md").read_text()
    assert "docs/assets/worlds.png" in readme, "the README no longer shows the picture"
