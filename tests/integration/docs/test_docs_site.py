"""The docs site builds with ``mkdocs build --strict`` and holds what the pages promise.

Strict mode turns every warning into a failure: a broken link or anchor, a page missing from
the navigation, a module mkdocstrings cannot render, a table marker the generator does not
know. Nothing is skipped: without MkDocs installed (the ``dev`` and ``docs`` extras) this fails.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "scripts" / "docs"))

from reference import public_modules  # noqa: E402


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The site built into a fresh folder, as ``make docs-build`` builds it."""
    try:
        import mkdocs  # noqa: F401
    except ImportError as err:  # a failure, not a skip: the docs are part of the project
        pytest.fail(f"mkdocs is not installed ({err}); install the dev extra: make test")
    out = tmp_path_factory.mktemp("site")
    env = dict(
        os.environ, PYTHONPATH=str(ROOT), DISABLE_MKDOCS_2_WARNING="true", NO_MKDOCS_2_WARNING="1"
    )
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    log = done.stdout + done.stderr
    assert done.returncode == 0, f"mkdocs build --strict failed:\n{log[-6000:]}"
    return out


@pytest.mark.slow
def test_every_public_module_has_a_rendered_reference_page(site: Path):
    modules = public_modules()
    assert ("coopsim", "schema") in modules and ("mechanisms", "tax") in modules
    for parts in modules:
        page = site / "reference" / Path(*parts) / "index.html"
        assert page.exists(), f"no reference page for {'.'.join(parts)}"
        html = page.read_text()
        # mkdocstrings renders a module as a doc block; an empty page would mean no docstring
        # and no members, which the build must not pass off as documentation
        assert 'class="doc doc-' in html, f"{'.'.join(parts)}: nothing rendered"


@pytest.mark.slow
def test_the_notebooks_are_pages(site: Path):
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        page = site / "notebooks" / notebook.stem / "index.html"
        assert page.exists(), notebook.name
        first_code = next(
            "".join(c["source"])
            for c in __import__("json").loads(notebook.read_text())["cells"]
            if c["cell_type"] == "code"
        )
        word = re.findall(r"[A-Za-z_]{5,}", first_code)[0]
        assert word in page.read_text(), f"{notebook.name}: its code is not on the page"


@pytest.mark.slow
def test_generated_tables_are_on_the_pages(site: Path):
    from coopsim import scenario as sc
    from coopsim.envs import WORLDS

    html = (site / "worlds" / "commons" / "index.html").read_text()
    for field in ("regrowth", "num_agents"):
        if any(f == field for f in WORLDS["commons"][0].__dataclass_fields__):
            assert f"<code>{field}</code>" in html, field
    every = (site / "scenarios" / "index.html").read_text()
    for name in sc.list_scenarios():
        assert f"<code>{name}</code>" in every, f"scenario {name} missing from the scenarios page"
    assert "coopsim:" not in every, "a table marker was left unexpanded"


@pytest.mark.slow
def test_nothing_is_fetched_from_another_site(site: Path):
    """No web fonts, analytics or scripts from elsewhere: the pages work offline."""
    remote = re.compile(r"""<(?:script|link|img|iframe)\b[^>]*(?:src|href)=["']https?://""", re.I)
    for page in site.rglob("*.html"):
        text = page.read_text()
        found = remote.search(text)
        assert not found, f"{page.relative_to(site)} loads {found.group(0)!r}"
        assert "fonts.googleapis.com" not in text, page


def test_the_site_shows_a_notebook_as_last_run_where_that_copy_is_newer(tmp_path: Path):
    from reference import notebook_to_show

    source = tmp_path / "notebooks" / "a.ipynb"
    executed = tmp_path / "build" / "notebooks" / "a.ipynb"
    source.parent.mkdir(parents=True)
    source.write_text("{}")
    assert notebook_to_show(source, tmp_path) == source  # never run: the committed copy
    executed.parent.mkdir(parents=True)
    executed.write_text("{}")
    os.utime(source, (1_000_000, 1_000_000))
    assert notebook_to_show(source, tmp_path) == executed
    os.utime(source, None)  # edited after the last run: its outputs may be stale
    os.utime(executed, (1_000_000, 1_000_000))
    assert notebook_to_show(source, tmp_path) == source


def test_notebooks_outputs_refuses_a_notebook_that_is_not_there(capsys):
    import run_notebooks

    assert run_notebooks.main(["no_such_notebook"]) == 2
    assert "no_such_notebook.ipynb" in capsys.readouterr().err
