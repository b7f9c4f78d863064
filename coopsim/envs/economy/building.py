"""Building houses from a wood and a stone (rules in :mod:`coopsim.envs.economy.world`)."""

from __future__ import annotations

import torch
from torch import Tensor

from coopsim.envs.economy import maps
from coopsim.envs.economy.state import HOUSE_BIT, EconomyState


def can_build(state: EconomyState, kind_here: Tensor, code_here: Tensor) -> Tensor:
    """[B, N] bool: each agent holds a wood and a stone and stands on empty land with no
    house (``kind_here``, ``code_here`` [B, N]: the tile under it)."""
    materials = (state.stock >= 1).all(-1)  # [B, N]
    return materials & ((code_here & HOUSE_BIT) == 0) & (kind_here == maps.EMPTY)


def build(
    state: EconomyState,
    wants: Tensor,
    kind_here: Tensor,
    code_here: Tensor,
    payment: float,
    agents: Tensor,
) -> tuple[Tensor, Tensor, Tensor]:
    """Agents that ``wants`` [B, N] to build, and can, spend their materials on a house.

    Takes one wood and one stone from ``state.stock`` and marks the owner in
    ``state.house_owner``; ``agents`` is [N] the seat numbers. Returns which agents built
    [B, N] bool, the coin each earned, ``payment x build_skill`` per house, [B, N] float, and
    the tiles' flags after building [B, N] (the caller writes them back to the map).
    """
    owner_here = state.house_owner.gather(1, state.pos)  # [B, N]
    built = wants & (state.stock >= 1).all(-1) & (owner_here < 0) & (kind_here == maps.EMPTY)
    state.stock -= built[..., None].float()
    revenue = built * (payment * state.build_skill)  # [B, N]
    new_owner = torch.where(built, agents.expand(built.shape[0], -1), owner_here)
    state.house_owner.scatter_(1, state.pos, new_owner)
    return built, revenue, torch.where(built, code_here | HOUSE_BIT, code_here)
