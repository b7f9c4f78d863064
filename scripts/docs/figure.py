"""The README's picture: the two worlds with a map, as coopsim draws them, side by side.

The docs build draws it (``gen_pages.py`` calls :func:`draw`) and writes it to
``docs/assets/worlds.png``, which the README and the docs' home page show; the file is only
rewritten when the drawing differs, so a build of unchanged code leaves the tree clean.
``python scripts/docs/figure.py`` draws it alone.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TARGET = ROOT / "docs" / "assets" / "worlds.png"
#: Which scenario's world each panel shows, and its caption.
PANELS = (
    ("commons", "the commons: apples regrow only near apples"),
    ("economy_free_market", "the economy: wood, stone, water, four agents"),
)


def png() -> bytes:
    """The figure as PNG bytes: each panel's world 0 at reset with seed 0 (deterministic)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    from coopsim import builder
    from coopsim import scenario as sc

    fig = Figure(figsize=(9.0, 4.2), dpi=100)
    for k, (name, caption) in enumerate(PANELS, start=1):
        world = builder.make_world(sc.load(name), batch_size=1)
        world.reset(seed=0)
        ax = fig.add_subplot(1, len(PANELS), k)
        ax.imshow(world.render_rgb().cpu().numpy(), interpolation="nearest")
        ax.set_title(f"{caption}\n({name})", fontsize=9)
        ax.set_axis_off()
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png", metadata={"Software": None})
    return out.getvalue()


def draw(target: Path = TARGET) -> bool:
    """Write the figure to ``target`` (atomically) if it differs; True when it was written."""
    data = png()
    if target.exists() and target.read_bytes() == data:
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    partial.write_bytes(data)
    partial.replace(target)
    return True


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    print(("wrote " if draw() else "unchanged: ") + str(TARGET.relative_to(ROOT)))
