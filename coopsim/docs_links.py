"""Where the docs page for a command or an app page is: the one place the URL scheme is set.

The docs are Markdown pages in the checkout (``docs/<page>.md``, next to the package), which a
terminal or an editor opens with nothing running; MkDocs builds them into a site that ``make
docs`` serves at ``http://127.0.0.1:8000/``, each page at ``<base><page>/``
(``use_directory_urls``). A page is named here by its path relative to the site's root
(``"sweeps/"``, ``"getting-started/#a-tour"``); :func:`docs_file` turns that into the Markdown
file, :func:`docs_url` into the served address. ``COOPSIM_DOCS_URL`` points the addresses
elsewhere (another port, a published copy) without touching the code. The CLI's ``--help``
texts (:func:`link_parsers`) give the file first, since it works offline, and the served page
as the alternative; the app's sidebar, already in a browser, links to the served page.
``tests/test_docs_links.py`` checks that every page and anchor named here exists in ``docs/``.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

DOCS_URL_ENV = "COOPSIM_DOCS_URL"
#: Where ``make docs`` serves the site.
LOCAL_DOCS_URL = "http://127.0.0.1:8000/"
#: The Markdown pages, found from the package (a checkout keeps ``docs/`` beside ``coopsim/``);
#: an installed copy without them gets the served address alone.
DOCS_DIR = Path(__file__).resolve().parent.parent / "docs"

#: Each subcommand's page (a path relative to the site's root, with an optional ``#anchor``).
COMMAND_PAGES: dict[str, str] = {
    "": "",  # `coopsim --help`: the home page
    "list": "scenarios/",
    "run": "getting-started/#a-tour",
    "compare": "pandas/#several-runs",
    "report": "reports/",
    "bench": "benchmarks/",
    "experiment": "sweeps/#the-regimes-experiment",
    "experiment regimes": "sweeps/#the-regimes-experiment",
    "sweep": "sweeps/",
    "demo": "getting-started/#the-demo-rules-change-what-learners-do",
    "app": "app/",
    "stress": "stress/",
    "otree": "study/#export-to-otree",
    "otree export": "study/#2-export",
    "otree import": "study/#5-back-into-coopsim",
}
#: A subcommand not listed above links to the tour of every command.
FALLBACK_PAGE = "getting-started/#a-tour"

#: Each app page's docs page, by the page's url path in :mod:`coopsim.app.menu`.
APP_PAGES: dict[str, str] = {
    "home": "app/",
    "design": "app/",
    "run": "app/",
    "sweep": "sweeps/",
    "compare": "app/",
    "report": "reports/",
    "play": "study/#play-it-yourself",
}


def docs_url(page: str = "") -> str:
    """The address of a docs page, e.g. ``docs_url("sweeps/")``."""
    base = os.environ.get(DOCS_URL_ENV) or LOCAL_DOCS_URL
    return base.rstrip("/") + "/" + page.lstrip("/")


def docs_file(page: str = "") -> Path | None:
    """The Markdown file of a docs page (``"sweeps/"`` -> ``docs/sweeps.md``, ``""`` ->
    ``docs/index.md``, a section's ``#anchor`` left off), or None where this copy of coopsim
    has no such file (installed without its ``docs/``)."""
    path = page.split("#", 1)[0].strip("/")
    if not path:
        candidates = [DOCS_DIR / "index.md"]
    else:
        candidates = [DOCS_DIR / f"{path}.md", DOCS_DIR / path / "index.md"]
    return next((c for c in candidates if c.is_file()), None)


def command_page(command: str) -> str:
    """The docs page (site path, optional ``#anchor``) for a subcommand."""
    return COMMAND_PAGES.get(command, FALLBACK_PAGE)


def command_docs(command: str) -> list[str]:
    """Where to read about a subcommand, best first: the Markdown file in the checkout (with
    its section, if any), which needs nothing running, then the served page."""
    page = command_page(command)
    where = "at" if os.environ.get(DOCS_URL_ENV) else "served by `make docs`:"
    served = f"{where} {command_url(command)}"
    file = docs_file(page)
    if file is None:
        return [command_url(command)]
    anchor = page.partition("#")[2]
    section = f" (section #{anchor})" if anchor else ""
    return [f"{file}{section}", f"or, {served}"]


def command_url(command: str) -> str:
    """The docs page for a subcommand (``"sweep"``, ``"experiment regimes"``; ``""``: all)."""
    return docs_url(command_page(command))


def app_url(url_path: str) -> str:
    """The docs page for an app page, by its url path (``"design"``)."""
    return docs_url(APP_PAGES.get(url_path, "app/"))


def _epilog(command: str, epilog: str | None) -> str:
    first, *rest = command_docs(command)
    block = "\n".join([f"{DOCS_HEAD}{first}", *(" " * len(DOCS_HEAD) + r for r in rest)])
    return f"{epilog}\n\n{block}" if epilog else block


#: What the docs block of a ``--help`` text begins with.
DOCS_HEAD = "Docs: "


def _unwrapped_links(formatter: type[argparse.HelpFormatter]) -> type[argparse.HelpFormatter]:
    """``formatter`` as it was, except that the ``Docs:`` block is never wrapped (argparse would
    break a long path or address at a hyphen, and a terminal would then open half of it)."""

    class KeepsLinks(formatter):
        def _fill_text(self, text: str, width: int, indent: str) -> str:
            head, sep, links = text.rpartition(DOCS_HEAD)
            if not sep or (head and not head.endswith("\n")):
                return super()._fill_text(text, width, indent)
            filled = super()._fill_text(head, width, indent) + "\n\n" if head.strip() else ""
            lines = (DOCS_HEAD + links.strip()).splitlines()
            return filled + "\n".join(indent + line for line in lines)

    return KeepsLinks


def link_parsers(parser: argparse.ArgumentParser, command: str = "") -> argparse.ArgumentParser:
    """Append each parser's docs link to its ``--help`` (the parser and every subcommand)."""
    parser.epilog = _epilog(command, parser.epilog)
    parser.formatter_class = _unwrapped_links(parser.formatter_class)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                link_parsers(sub, f"{command} {name}".strip())
    return parser
