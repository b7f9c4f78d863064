"""Gathering resources and their regrowth (rules in :mod:`coopsim.envs.economy.world`)."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from coopsim.envs.economy import maps, native
from coopsim.envs.economy.state import PRESENT, SOURCE_BIT, EconomyState


def can_gather(code_here: Tensor) -> Tensor:
    """[B, N] bool: a resource is present on the tile under each agent (``code_here`` [B, N])."""
    return (code_here & PRESENT) > 0


def gather(
    state: EconomyState,
    wants: Tensor,
    kind_here: Tensor,
    code_here: Tensor,
    gen: torch.Generator,
) -> tuple[Tensor, Tensor, Tensor]:
    """Agents that ``wants`` [B, N] to gather take what lies on their tile into ``state.stock``.

    ``kind_here`` and ``code_here`` ([B, N]) describe the tile under each agent; agents stand
    on distinct tiles, so every present resource has one claimant. The bonus draw is made for
    every agent, gathering or not, so the random stream does not depend on the acts.
    Returns which agents gathered [B, N] bool, the units each got [B, N] float, and the tiles'
    flags after gathering [B, N] (the caller writes them back to the map).
    """
    b, n = state.pos.shape
    gathered = wants & can_gather(code_here)  # [B, N]
    bonus = torch.rand(b, n, generator=gen, device=state.pos.device) < state.gather_bonus
    units = gathered * (1.0 + bonus)  # [B, N]
    res = (kind_here == maps.STONE).long()  # [B, N] which resource the tile holds
    state.stock.scatter_add_(2, res[..., None], units[..., None])
    return gathered, units, torch.where(gathered, code_here & ~PRESENT, code_here)


class Regrowth:
    """Each empty source tile regrows its resource with probability ``regen_prob`` per step.

    Drawing a number per tile per step would touch the whole map of every world each step;
    instead K candidate tiles are drawn uniformly per world and each is accepted with
    probability a = T (1 - (1 - p)^(1/K)) (T tiles), which gives every tile a regrowth
    probability of exactly ``1 - (1 - a/T)^K = p`` per step, at a cost of K draws. Where p
    is too high for any K (a would exceed 1), every tile draws.
    """

    def __init__(self, regen_prob: float, tiles: int):
        self.prob = regen_prob
        self.candidates: int | None = None  # K per world per step (None: every tile draws)
        self.accept = 1.0  # a, the chance a candidate that is empty regrows
        if regen_prob < 1:
            need = math.log1p(-regen_prob) / math.log1p(-1 / tiles)  # K at acceptance 1
            if need <= tiles / 8:
                self.candidates = max(4, math.ceil(2 * need))
                self.accept = tiles * -math.expm1(math.log1p(-regen_prob) / self.candidates)

    def draws(self, state: EconomyState, gen: torch.Generator) -> tuple[Tensor, Tensor]:
        """This step's K candidate tiles per world [B, K] and whether each is accepted
        [B, K] bool (drawn in this order, whichever path applies them)."""
        code, dev = state.code, state.code.device
        b, k = code.shape[0], self.candidates
        cand = torch.randint(code.shape[1], (b, k), generator=gen, device=dev)  # [B, K] tiles
        accept = torch.rand(b, k, generator=gen, device=dev) < self.accept
        return cand, accept

    @staticmethod
    def _native(state: EconomyState) -> bool:
        """Whether the native kernel can regrow these tiles (built and on, CPU, contiguous)."""
        code = state.code
        return (
            code.device.type == "cpu"
            and native.enabled()
            and code.is_contiguous()
            and state.present_bit.is_contiguous()
            and code.dtype == state.present_bit.dtype == torch.uint8
        )

    def __call__(self, state: EconomyState, gen: torch.Generator) -> None:
        """Regrow resources in ``state.code`` [B, T] in place."""
        code, dev = state.code, state.code.device
        if self.candidates is None:
            grow = torch.rand(code.shape, generator=gen, device=dev) < self.prob
            empty = (code & (SOURCE_BIT | PRESENT)) == SOURCE_BIT
            code |= (grow & empty).to(torch.uint8) * state.present_bit
            return
        cand, accept = self.draws(state, gen)
        if self._native(state):
            native.regrow(code, state.present_bit, cand, accept, SOURCE_BIT, SOURCE_BIT | PRESENT)
            return
        cur = code.gather(1, cand)  # [B, K]
        empty = (cur & (SOURCE_BIT | PRESENT)) == SOURCE_BIT
        new = torch.where(accept & empty, cur | state.present_bit.gather(1, cand), cur)
        # amax: if a tile is drawn twice, regrown (more bits) beats unchanged
        code.scatter_reduce_(1, cand, new, reduce="amax")
