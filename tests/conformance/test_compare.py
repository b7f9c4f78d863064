"""Comparisons say where two runs first part ways."""

from __future__ import annotations

import torch

from coopsim.conformance.compare import FLOAT32, tensor_difference


def test_equal_tensors_agree_and_a_difference_is_located():
    a = torch.zeros(2, 3)
    b = a.clone()
    assert tensor_difference(a, b) is None
    b[1, 2] = 0.5
    assert tensor_difference(a, b) == "0 vs 0.5 at index (1, 2) (max |difference| 0.5)"


def test_tolerance_forgives_rounding_but_not_more():
    a = torch.ones(3)
    assert tensor_difference(a, a + 1e-7) is not None
    assert tensor_difference(a, a + 1e-7, FLOAT32) is None
    assert tensor_difference(a, a + 1e-3, FLOAT32) is not None


def test_shapes_and_dtypes_are_named():
    assert tensor_difference(torch.zeros(2), torch.zeros(3)) == "shape [2] vs [3]"
    assert "dtype" in tensor_difference(torch.zeros(2), torch.zeros(2, dtype=torch.float64))
