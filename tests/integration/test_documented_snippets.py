"""Every Python block the docs mark runnable runs, so the pages cannot drift from the code.

A block is runnable when the line before its opening fence is ``<!-- runnable -->`` (an HTML
comment, so the page shows nothing of it). The runnable blocks of one page run in page order in
one Python process and one namespace, in an empty working folder, as a reader pasting them
into a notebook would run them; a block may rely on what the blocks before it on the same page
defined or wrote. A block fails the test by raising (its ``assert`` lines say what it claims);
the traceback names the page and the line. Blocks without the marker are illustrations (a path
that exists only on the reader's machine, a training run of minutes) and are not run. Shell
blocks are run by ``test_documented_commands.py``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MARKER = "<!-- runnable -->"
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.S | re.M)


@dataclass(frozen=True)
class Snippet:
    """One runnable block: its page, the line of its first code line, and its code."""

    page: str
    line: int
    code: str


def runnable_snippets(page: Path) -> list[Snippet]:
    """The page's runnable Python blocks in order; a marker not followed by one is an error."""
    text = page.read_text()
    name = str(page.relative_to(ROOT)) if page.is_relative_to(ROOT) else page.name
    found = []
    for marker in re.finditer(re.escape(MARKER) + r"[ \t]*\n", text):
        line = text[: marker.start()].count("\n") + 1
        block = FENCE.match(text, marker.end())
        if block is None or block.group(1) != "python":
            raise AssertionError(
                f"{name}:{line}: {MARKER} must come right before a ```python block"
            )
        first = text[: block.start(2)].count("\n") + 1
        found.append(Snippet(name, first, block.group(2)))
    return found


#: A runner the page's snippets are handed to: each compiled under its page and line, so a
#: traceback points into the page.
RUNNER = """
import json, sys
namespace = {"__name__": "__main__"}
for page, line, code in json.load(sys.stdin):
    source = "\\n" * (line - 1) + code
    exec(compile(source, page, "exec"), namespace)
    print(f"ran {page}:{line}", flush=True)
"""

PAGES_WITH_SNIPPETS = [p for p in PAGES if p.exists() and MARKER in p.read_text()]


def test_the_docs_mark_snippets_runnable():
    total = sum(len(runnable_snippets(p)) for p in PAGES_WITH_SNIPPETS)
    assert total >= 4, f"only {total} runnable snippets in the docs"


@pytest.mark.slow
@pytest.mark.parametrize(
    "page", PAGES_WITH_SNIPPETS, ids=[p.relative_to(ROOT).as_posix() for p in PAGES_WITH_SNIPPETS]
)
def test_runnable_snippets_run(page: Path, tmp_path: Path):
    import json

    snippets = runnable_snippets(page)
    env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg")
    env.setdefault("COOPSIM_THREADS", "1")
    done = subprocess.run(
        [sys.executable, "-c", RUNNER],
        input=json.dumps([[s.page, s.line, s.code] for s in snippets]),
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    ran = done.stdout.count("ran ")
    assert done.returncode == 0, (
        f"{page.name}: snippet {ran + 1} of {len(snippets)} failed\n{done.stdout}\n{done.stderr}"
    )
    assert ran == len(snippets)


def test_marker_parsing(tmp_path: Path):
    page = tmp_path / "page.md"
    page.write_text(
        "intro\n<!-- runnable -->\n```python\nx = 1\n```\n\n```python\nnot run\n```\n"
        "<!-- runnable -->\n```python\nassert x == 1\n```\n"
    )
    found = runnable_snippets(page)
    assert [(s.line, s.code) for s in found] == [(4, "x = 1\n"), (12, "assert x == 1\n")]
    page.write_text("<!-- runnable -->\n```bash\nls\n```\n")
    with pytest.raises(AssertionError, match="must come right before"):
        runnable_snippets(page)


def test_a_failing_snippet_names_its_page_and_line(tmp_path: Path):
    import json

    done = subprocess.run(
        [sys.executable, "-c", RUNNER],
        input=json.dumps([["docs/x.md", 7, "y = 1\nraise ValueError('drift')\n"]]),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert 'File "docs/x.md", line 8' in done.stderr and "ValueError: drift" in done.stderr
