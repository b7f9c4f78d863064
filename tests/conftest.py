"""Shared test set-up.

The networks and worlds in the tests are small: torch's intra-op threads cost more in
hand-offs than they win, and on a busy two-core machine a second thread can slow a training
test several-fold. One thread keeps the suite's run time steady.
"""

from __future__ import annotations

import torch

# The browser tests' server fixture and helpers (tests/browser.py).
pytest_plugins = ["tests.browser"]

torch.set_num_threads(1)


def pytest_configure(config) -> None:
    """Under pytest-xdist (``make test`` runs two workers), hand tests to the workers one at a
    time unless ``--maxschedchunk`` says otherwise.

    Why: xdist's default load scheduling first gives each worker a quarter of the suite in one
    block and later refills in blocks of up to half of what is left. The suite's run times are
    very uneven (a few tests of one to three minutes among two thousand of milliseconds), so a
    block that happens to hold several long tests kept one worker busy for over a minute after
    the other had finished. Handed out one at a time, each test goes to whichever worker is
    free first. Tests still run in collection order on each worker, so a module's tests stay
    together there and share its module-scoped fixtures.
    """
    if getattr(config.option, "numprocesses", None) and config.option.maxschedchunk is None:
        config.option.maxschedchunk = 1
