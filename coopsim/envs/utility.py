"""Agents' utility of coin, shared by the economies so that both value money the same way."""

from __future__ import annotations

import torch
from torch import Tensor


def isoelastic(coin: Tensor, eta: float) -> Tensor:
    """Utility of coin, ``(coin^(1-eta) - 1) / (1-eta)`` (log at eta = 1), coin floored at 0."""
    coin = coin.clamp(min=0)
    if eta == 1.0:
        return torch.log(coin)
    return (coin.pow(1.0 - eta) - 1.0) / (1.0 - eta)
