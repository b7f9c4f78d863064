"""Shared test set-up.

The networks and worlds in the tests are small: torch's intra-op threads cost more in
hand-offs than they win, and on a busy two-core machine a second thread can slow a training
test several-fold. One thread keeps the suite's run time steady.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest
import torch

# The browser tests' server fixture and helpers (tests/browser.py).
pytest_plugins = ["tests.browser"]

torch.set_num_threads(1)


#: The test files that took longest in a full run (seconds of test time, setup included, two
#: workers at load 2-4: 471, 238, 144, 80, 74, 54, 51, 44, 43, 38, 36, 35). Their tests go
#: first, so the long ones start while the other worker has short ones to fill in with, and
#: none is left to run alone at the end. A file missing here only loses its head start.
LONGEST_FILES = (
    "tests/integration/test_documented_commands.py",
    "tests/sweeps/test_driver_resume.py",
    "tests/experiments/test_regimes.py",
    "tests/adapters/test_pettingzoo.py",
    "tests/app/test_main_browser.py",
    "tests/integration/notebooks/test_notebooks.py",
    "tests/test_runner.py",
    "tests/app/views/test_play_browser.py",
    "tests/app/test_main_browser_jobs.py",
    "tests/agents/test_planner.py",
    "tests/app/test_main_browser_tour.py",
    "tests/test_conformance.py",
)


def pytest_collection_modifyitems(config, items) -> None:
    """The tests of :data:`LONGEST_FILES` first, in that order; the rest as collected.

    The sort is stable and the same on every pytest-xdist worker (xdist requires that the
    workers collect the same list), and a file's tests stay together in their own order.
    """
    rank = {name: k for k, name in enumerate(LONGEST_FILES)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank)))


_SHARES_FIXTURES = re.compile(r"""scope\s*=\s*["'](module|session|package)["']""")


@functools.cache
def _shares_fixtures(test_file: str) -> bool:
    """Whether the file defines a fixture that lives longer than one test."""
    try:
        return bool(_SHARES_FIXTURES.search(Path(test_file).read_text(encoding="utf-8")))
    except OSError:
        return True


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """Under pytest-xdist's default ``--dist load`` (``make test`` runs two workers): a test
    file that defines a module- or session-scoped fixture goes to one worker whole, every other
    test to whichever worker is free first.

    Why: the suite's run times are very uneven (a few tests of one to three minutes among two
    thousand of milliseconds). xdist's load scheduling gave each worker a quarter of the suite
    in one block, and one worker finished about 170 s before the other. Handing out single
    tests instead balanced the workers but split files across them, and each worker then
    built the file's shared fixtures again (a notebook run, a trained planner, a reference
    sweep: about 100 s more test time). Whole files where they share fixtures, single tests
    elsewhere, long files first (:func:`pytest_collection_modifyitems`), keeps both.
    ``--dist`` other than ``load``, or ``--maxschedchunk``, keeps xdist's own scheduling.
    """
    if config.getvalue("dist") != "load" or config.getoption("maxschedchunk") is not None:
        return None
    from xdist.scheduler import LoadScopeScheduling

    class FileOrTestScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            test_file = nodeid.split("::", 1)[0]
            shares = _shares_fixtures(str(self.config.rootpath / test_file))
            return test_file if shares else nodeid

    config.option.loadscopereorder = False  # units in collection order, the long ones first
    return FileOrTestScheduling(config, log)
