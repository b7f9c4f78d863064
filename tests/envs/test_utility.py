"""The economies' utility of coin, against hand-computed values."""

from __future__ import annotations

import math

import pytest
import torch

from coopsim.envs.utility import isoelastic


def test_isoelastic_utility_hand_computed():
    coin = torch.tensor([1.0, 4.0, 9.0])
    assert isoelastic(coin, 0.5).tolist() == pytest.approx([0.0, 2.0, 4.0])  # 2 (sqrt(c) - 1)
    assert isoelastic(coin, 0.0).tolist() == pytest.approx([0.0, 3.0, 8.0])  # c - 1: linear
    assert isoelastic(coin, 1.0).tolist() == pytest.approx([0.0, math.log(4), math.log(9)])


def test_isoelastic_utility_floors_coin_at_zero_and_rises_with_it():
    assert isoelastic(torch.tensor([-5.0, 0.0]), 0.5).tolist() == pytest.approx([-2.0, -2.0])
    assert isoelastic(torch.tensor([0.0]), 1.0).item() == -math.inf  # log of nothing
    grid = torch.linspace(0.1, 100.0, 50)
    for eta in (0.0, 0.23, 1.0, 2.0):
        assert bool((isoelastic(grid, eta).diff() > 0).all()), eta
