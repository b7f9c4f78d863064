"""Bracket arithmetic: the tax a schedule of marginal rates owes, and the rate in force.

Shared by the bracket tax (:mod:`mechanisms.tax`) and the Saez schedule (:mod:`mechanisms.saez`),
which reads the marginal rates agents faced to estimate how they respond.
"""

from __future__ import annotations

import torch
from torch import Tensor


def bracket_tax(income: Tensor, cutoffs: Tensor, rates: Tensor) -> Tensor:
    """Tax owed on ``income`` [B, N] under ``cutoffs`` [K] and ``rates`` [B, K] -> [B, N]."""
    upper = torch.cat([cutoffs[1:], cutoffs.new_tensor([float("inf")])])  # [K]
    width = upper - cutoffs  # [K]
    in_bracket = (income[..., None] - cutoffs).clamp(min=0)  # [B, N, K]
    in_bracket = torch.minimum(in_bracket, width)
    return (in_bracket * rates[:, None, :]).sum(-1)


def marginal_rates(income: Tensor, cutoffs: Tensor, rates: Tensor) -> Tensor:
    """Marginal rate in force at ``income`` [..., N] under ``cutoffs`` [K], ``rates`` [..., K]."""
    bracket = torch.searchsorted(cutoffs, income.contiguous(), right=True).clamp(min=1) - 1
    return rates.gather(-1, bracket)  # [..., N]
