"""The README stays a front page: short, with working links into the docs."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
README = ROOT / "README.md"


def test_the_readme_is_short():
    lines = README.read_text().splitlines()
    assert len(lines) <= 150, f"README.md has {len(lines)} lines: move detail into docs/"


def test_the_readme_has_its_sections():
    headings = re.findall(r"^## (.+)$", README.read_text(), flags=re.M)
    for wanted in ("Set up", "A tour", "Documentation", "Citation", "Licence"):
        assert any(h.startswith(wanted) for h in headings), f"no '## {wanted}' in README.md"


def test_every_relative_link_in_the_readme_exists():
    links = re.findall(r"\]\(([^)]+)\)", README.read_text())
    local = [link for link in links if not re.match(r"[a-z]+://", link)]
    assert len(local) >= 10
    for link in local:
        target = ROOT / link.split("#", 1)[0]
        assert target.exists(), f"README.md links to {link}, which does not exist"


def test_the_tour_has_five_commands():
    text = README.read_text()
    tour = text[text.index("## A tour") :]
    block = re.search(r"```bash\n(.*?)```", tour, flags=re.S).group(1)
    assert len([line for line in block.splitlines() if line.startswith("coopsim ")]) == 5
