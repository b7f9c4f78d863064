"""The examples in the analysis and record docstrings run and print what they say."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ("coopsim.record", "coopsim.analysis.tables")


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 5, f"{name} has too few examples"
    assert result.failed == 0
