"""The CLI's --help and the app's sidebar link to docs pages that exist, with their anchors."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from coopsim import docs_links
from coopsim.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def _slug(heading: str) -> str:
    """Python-Markdown's toc anchor for a heading (its default slugify)."""
    text = re.sub(r"[^\w\s-]", "", heading.replace("`", "")).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def _page_file(page: str) -> Path:
    path = page.split("#", 1)[0].strip("/")
    return DOCS / "index.md" if not path else DOCS / f"{path}.md"


def _targets() -> list[str]:
    return sorted(
        {
            *docs_links.COMMAND_PAGES.values(),
            *docs_links.APP_PAGES.values(),
            docs_links.FALLBACK_PAGE,
        }
    )


@pytest.mark.parametrize("page", _targets())
def test_every_linked_page_and_anchor_exists(page: str):
    file = _page_file(page)
    assert file.exists(), f"{page}: no {file.relative_to(ROOT)}"
    if "#" in page:
        anchors = {_slug(h) for h in re.findall(r"^#+ (.+)$", file.read_text(), flags=re.M)}
        assert page.split("#", 1)[1] in anchors, f"{page}: no such heading in {file.name}"


def _subcommands(parser: argparse.ArgumentParser, prefix: str = ""):
    yield prefix, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _subcommands(sub, f"{prefix} {name}".strip())


def test_every_help_text_ends_with_its_docs_link(monkeypatch):
    monkeypatch.delenv(docs_links.DOCS_URL_ENV, raising=False)
    found = dict(_subcommands(build_parser()))
    assert {"", "run", "sweep", "experiment regimes", "app"} <= set(found)
    for command, parser in found.items():
        text = parser.format_help()
        url = docs_links.command_url(command)
        assert url.startswith(docs_links.LOCAL_DOCS_URL)
        assert text.rstrip().endswith(f"Docs: {url}"), f"`coopsim {command} --help`:\n{text}"
    assert found["sweep"].format_help().rstrip().endswith("http://127.0.0.1:8000/sweeps/")


def test_the_base_address_is_set_in_one_place(monkeypatch):
    monkeypatch.setenv(docs_links.DOCS_URL_ENV, "http://localhost:9000/coopsim")
    assert docs_links.command_url("report") == "http://localhost:9000/coopsim/reports/"
    assert docs_links.command_url("no-such-command") == (
        "http://localhost:9000/coopsim/" + docs_links.FALLBACK_PAGE
    )


def test_every_app_page_has_a_docs_page():
    menu = (ROOT / "coopsim" / "app" / "menu.py").read_text()
    url_paths = set(re.findall(r'url_path="([a-z_]+)"', menu))
    assert {"design", "run", "compare", "report", "sweep"} <= url_paths
    assert url_paths <= set(docs_links.APP_PAGES), url_paths - set(docs_links.APP_PAGES)
    assert "app_url(page.url_path)" in (ROOT / "coopsim" / "app" / "main.py").read_text()


def test_the_app_sidebar_shows_the_page_docs_link():
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file(str(ROOT / "coopsim" / "app" / "main.py"), default_timeout=120).run()
    assert not app.exception
    captions = [c.value for c in app.sidebar.caption]
    assert any(f"({docs_links.app_url('home')})" in c for c in captions), captions
