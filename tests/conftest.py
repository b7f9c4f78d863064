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
