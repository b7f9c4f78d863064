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


def _docs_block(text: str) -> list[str]:
    """The lines of a help text's docs block, from ``Docs:`` to the end, unindented."""
    head, sep, block = text.rpartition("\nDocs: ")
    assert sep, f"no docs block in:\n{text}"
    return [line.strip() for line in ("Docs: " + block).rstrip().splitlines()]


def test_every_help_text_ends_with_its_docs_file_then_the_served_page(monkeypatch):
    monkeypatch.delenv(docs_links.DOCS_URL_ENV, raising=False)
    found = dict(_subcommands(build_parser()))
    assert {"", "run", "sweep", "experiment regimes", "app", "otree export"} <= set(found)
    for command, parser in found.items():
        page = docs_links.command_page(command)
        first, second = _docs_block(parser.format_help())
        # first: a Markdown file of this checkout, readable with nothing served
        path = first.removeprefix("Docs: ").split(" (section #")[0]
        assert Path(path).is_absolute() and Path(path).is_file(), first
        assert Path(path) == _page_file(page), (command, first)
        if "#" in page:
            assert first.endswith(f"(section #{page.split('#', 1)[1]})"), first
        # then the served site, as the alternative
        url = docs_links.command_url(command)
        assert url.startswith(docs_links.LOCAL_DOCS_URL)
        assert second == f"or, served by `make docs`: {url}", f"`coopsim {command} --help`"
    sweep = _docs_block(found["sweep"].format_help())
    assert sweep == [
        f"Docs: {DOCS / 'sweeps.md'}",
        "or, served by `make docs`: http://127.0.0.1:8000/sweeps/",
    ]


def test_help_without_the_docs_folder_gives_the_served_page_alone(monkeypatch, tmp_path):
    monkeypatch.delenv(docs_links.DOCS_URL_ENV, raising=False)
    monkeypatch.setattr(docs_links, "DOCS_DIR", tmp_path / "no-docs")  # an installed copy
    block = _docs_block(build_parser().format_help())
    assert block == [f"Docs: {docs_links.LOCAL_DOCS_URL}"]


def test_docs_file_resolves_pages_from_the_package():
    assert docs_links.DOCS_DIR == DOCS
    assert docs_links.docs_file("") == DOCS / "index.md"
    assert docs_links.docs_file("getting-started/#a-tour") == DOCS / "getting-started.md"
    assert docs_links.docs_file("no-such-page/") is None


def test_the_base_address_is_set_in_one_place(monkeypatch):
    monkeypatch.setenv(docs_links.DOCS_URL_ENV, "http://localhost:9000/coopsim")
    assert docs_links.command_url("report") == "http://localhost:9000/coopsim/reports/"
    text = dict(_subcommands(build_parser()))["report"].format_help()
    assert _docs_block(text)[-1] == "or, at http://localhost:9000/coopsim/reports/"
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
