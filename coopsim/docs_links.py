"""Where the docs page for a command or an app page is: the one place the URL scheme is set.

The docs site (``docs/``, built by MkDocs) is served locally by ``make docs`` at
``http://127.0.0.1:8000/``, each page at ``<base><page>/`` (``use_directory_urls``), so a link
is the base plus the page's path relative to the site's root. ``COOPSIM_DOCS_URL`` points the
links elsewhere (another port, a published copy) without touching the code. The CLI's
``--help`` texts (:func:`link_parsers`) and the app's sidebar name these pages, and
``tests/test_docs_links.py`` checks that every page and anchor named here exists in ``docs/``.
"""

from __future__ import annotations

import argparse
import os

DOCS_URL_ENV = "COOPSIM_DOCS_URL"
#: Where ``make docs`` serves the site.
LOCAL_DOCS_URL = "http://127.0.0.1:8000/"

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


def command_url(command: str) -> str:
    """The docs page for a subcommand (``"sweep"``, ``"experiment regimes"``; ``""``: all)."""
    return docs_url(COMMAND_PAGES.get(command, FALLBACK_PAGE))


def app_url(url_path: str) -> str:
    """The docs page for an app page, by its url path (``"design"``)."""
    return docs_url(APP_PAGES.get(url_path, "app/"))


def _epilog(command: str, epilog: str | None) -> str:
    line = f"Docs: {command_url(command)}"
    return f"{epilog}\n\n{line}" if epilog else line


def _unwrapped_links(formatter: type[argparse.HelpFormatter]) -> type[argparse.HelpFormatter]:
    """``formatter`` as it was, except that a ``Docs:`` line is never wrapped (argparse would
    break a long address at a hyphen, and a terminal would then open half of it)."""

    class KeepsLinks(formatter):
        def _fill_text(self, text: str, width: int, indent: str) -> str:
            head, sep, link = text.rpartition("Docs: ")
            if not sep or "\n" in link or " " in link.strip():
                return super()._fill_text(text, width, indent)
            filled = super()._fill_text(head, width, indent) + "\n\n" if head.strip() else ""
            return f"{filled}{indent}Docs: {link.strip()}"

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
