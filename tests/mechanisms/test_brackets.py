"""Bracket arithmetic against hand-computed values: the tax a schedule of marginal rates owes,
and the rate in force at an income."""

from __future__ import annotations

import pytest
import torch

from mechanisms.brackets import bracket_tax, marginal_rates


def tax_of(incomes, brackets, rates) -> list[float]:
    income = torch.tensor([incomes], dtype=torch.float32)
    out = bracket_tax(income, torch.tensor(brackets), torch.tensor([rates]))
    return out[0].tolist()


def test_bracket_tax_hand_computed():
    # brackets 0 | 10 | 30, rates 0%, 20%, 50%
    got = tax_of([0.0, 5.0, 10.0, 20.0, 30.0, 44.0], [0.0, 10.0, 30.0], [0.0, 0.2, 0.5])
    assert got == pytest.approx([0.0, 0.0, 0.0, 2.0, 4.0, 4.0 + 7.0])
    # a flat tax is proportional
    assert tax_of([0.0, 7.0, 100.0], [0.0], [0.25]) == pytest.approx([0.0, 1.75, 25.0])


def test_marginal_rates():
    rates = torch.tensor([[0.1, 0.2, 0.3]])
    income = torch.tensor([[0.0, 9.9, 10.0, 25.0, 1e6]])
    got = marginal_rates(income, torch.tensor([0.0, 10.0, 20.0]), rates)
    assert got[0].tolist() == pytest.approx([0.1, 0.1, 0.2, 0.3, 0.3])
