"""Tests mirror the package, and the modules without a test file of their own are named.

The layout: ``coopsim/a/b.py`` is tested in ``tests/a/test_b.py``, ``coopsim/x.py`` in
``tests/test_x.py``, ``mechanisms/m.py`` in ``tests/mechanisms/test_m.py``, and a package as a
whole in the test file named for it (``coopsim/conformance/``: ``tests/test_conformance.py``;
a package's ``__init__.py`` counts as a module of its own only where it defines something). A
module with more than one test file names the others ``test_<module>_<aspect>.py`` beside the
first (``tests/test_record_load.py`` tests ``coopsim/record.py``). Tests of several modules, of
the docs, notebooks and architecture, live in ``tests/integration/``, which mirrors nothing.

So a test file outside ``tests/integration/`` whose module does not exist fails here (its
module was renamed or removed, or the file sits in the wrong folder), and so does a module
without a test file that :data:`UNTESTED` does not list, or one it lists that has a test file
now (take it off the list).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"
PACKAGES = ("coopsim", "mechanisms")

# Modules with no test file of their name: each is exercised through the modules that use it
# (and the integration tests), not on its own. Keep this list shrinking: a module that gains a
# test file must leave it, and a new module must come with a test file, not join it.
UNTESTED = {
    # entry points: tests/test_cli.py and tests/test_cli_threads.py drive every subcommand
    "coopsim.__main__",
    "coopsim.cli.__main__",
    "coopsim.cli.lab",
    # the app's shell, forms and worker: tests/app/test_main_*.py drive them under Streamlit's
    # AppTest and in Chromium, tests/app/views/ page by page
    "coopsim.app",
    "coopsim.app.forms",
    "coopsim.app.menu",
    "coopsim.app.nav",
    "coopsim.app.planner_form",
    "coopsim.app.shown",
    "coopsim.app.state",
    "coopsim.app.views.report",
    "coopsim.app.views.run",
    "coopsim.app.worker",
    # configuration and building: tests/test_scenario*.py, tests/test_schema.py and every run
    "coopsim.builder",
    "coopsim.config.planner",
    "coopsim.config.scenario",
    "coopsim.config.training",
    # agents: through the worlds, tests/test_train*.py and tests/agents/test_scripted.py
    "coopsim.agents.economy_scripted",
    "coopsim.agents.levers",
    "coopsim.agents.policy",
    "coopsim.agents.population",
    # the worlds' parts: through the worlds (tests/envs) and tests/conformance
    "coopsim.envs",
    "coopsim.envs.economy.actions",
    "coopsim.envs.economy.config",
    "coopsim.envs.economy.picture",
    "coopsim.envs.observation",
    "coopsim.envs.render",
    "coopsim.adapters.suite",  # through tests/adapters (PettingZoo and TorchRL)
    # mechanisms: the registry and the commons base, through tests/conformance/test_mechanisms.py
    "mechanisms",
    "mechanisms.extraction",
    "mechanisms.params",
    # the conformance kits' parts: tests/conformance and tests/test_conformance.py run them
    "coopsim.conformance.recipe",
    "coopsim.conformance.verdict",
    "coopsim.conformance.world_runs",
    "coopsim.conformance.world_shapes",
    # records and studies: through tests/test_runner.py, tests/sweeps, tests/stress
    "coopsim.sweeps.backends",
    "coopsim.sweeps.cells",
    "coopsim.stress.members",
    "coopsim.stress.runs",
    "coopsim.lab.lab_agents",  # through tests/lab/test_otree_export.py and oTree's bots
    "coopsim.lab.otree_files",
    # analysis, figures and report parts: through tests/test_figures.py, tests/report
    "coopsim.analysis.planner_log",
    "coopsim.analysis.training",
    "coopsim.figures.rules",
    "coopsim.figures.style",
    "coopsim.figures.sweep",
    "coopsim.figures.training",
    "coopsim.report.conditions",
    "coopsim.report.model",
    "coopsim.report.stress_section",
    "coopsim.report.table_layout",
}


def _defines_something(init: Path) -> bool:
    """A package's ``__init__.py`` counts as a module when it defines something: a function, a
    class, or a name other than dunders such as ``__all__`` (re-exports alone do not)."""
    for node in ast.parse(init.read_text()).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return True
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(not (isinstance(t, ast.Name) and t.id.startswith("__")) for t in targets):
                return True
    return False


def package_modules() -> set[str]:
    """Dotted names of the package's modules (and packages whose ``__init__`` defines)."""
    found = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                if not _defines_something(path):
                    continue
                parts = parts[:-1]
            found.add(".".join(parts))
    return found


def packages() -> set[str]:
    """Dotted names of every package (folder with an ``__init__.py``), defining or not: a test
    file may test a package as a whole (``tests/test_conformance.py``)."""
    return {
        ".".join(init.parent.relative_to(ROOT).parts)
        for package in PACKAGES
        for init in (ROOT / package).rglob("__init__.py")
    }


def module_tested_by(test: Path, modules: set[str]) -> str | None:
    """The module a test file outside ``tests/integration`` tests, or None if there is none:
    ``tests/a/test_b.py`` -> ``coopsim.a.b``; ``tests/a/test_b_c.py`` -> ``coopsim.a.b_c``, or
    failing that ``coopsim.a.b`` (an aspect of b); under ``tests/mechanisms`` -> ``mechanisms.``."""
    folders = list(test.relative_to(TESTS).parts[:-1])
    package = folders if folders[:1] == ["mechanisms"] else ["coopsim", *folders]
    words = test.stem.removeprefix("test_").split("_")
    for k in range(len(words), 0, -1):  # the longest module name the file's name starts with
        candidate = ".".join([*package, "_".join(words[:k])])
        if candidate in modules:
            return candidate
    return None


def _test_files() -> list[Path]:
    return sorted(
        p for p in TESTS.rglob("test_*.py") if "integration" not in p.relative_to(TESTS).parts
    )


def test_the_mapping_follows_the_layout():
    modules = {"coopsim.train", "coopsim.a.b", "coopsim.a.b_c", "mechanisms.tax", "coopsim.cli"}
    assert module_tested_by(TESTS / "test_train.py", modules) == "coopsim.train"
    assert module_tested_by(TESTS / "test_train_run.py", modules) == "coopsim.train"
    assert module_tested_by(TESTS / "a" / "test_b_c.py", modules) == "coopsim.a.b_c"
    assert module_tested_by(TESTS / "a" / "test_b_d.py", modules) == "coopsim.a.b"
    assert module_tested_by(TESTS / "mechanisms" / "test_tax.py", modules) == "mechanisms.tax"
    assert module_tested_by(TESTS / "test_cli_threads.py", modules) == "coopsim.cli"
    assert module_tested_by(TESTS / "a" / "test_x.py", modules) is None  # no coopsim.a.x
    assert module_tested_by(TESTS / "test_b.py", modules) is None  # b lives in coopsim.a


def test_every_test_file_has_its_module():
    names = package_modules() | packages()
    orphans = [str(t.relative_to(ROOT)) for t in _test_files() if not module_tested_by(t, names)]
    assert not orphans, (
        "test files whose module does not exist (rename or move them to mirror the package, "
        f"or put a test of several modules in tests/integration/): {orphans}"
    )


def test_the_modules_without_a_test_file_are_the_listed_ones():
    modules = package_modules()
    tested = {module_tested_by(t, modules | packages()) for t in _test_files()}
    untested = modules - tested
    new = sorted(untested - UNTESTED)
    assert not new, f"modules without a test file (add tests/.../test_<module>.py): {new}"
    now_tested = sorted(UNTESTED & tested)
    assert not now_tested, (
        f"listed as untested but they have a test file (unlist them): {now_tested}"
    )
    gone = sorted(UNTESTED - modules)
    assert not gone, f"listed modules that no longer exist (unlist them): {gone}"
