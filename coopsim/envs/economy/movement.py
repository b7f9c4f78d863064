"""Moving: one step up, down, left or right, all agents of all worlds at once.

Conflicts are settled by the start-of-step positions and a rotating priority (rules in
:mod:`coopsim.envs.economy.world`), so no sequential pass over agents is needed.
"""

from __future__ import annotations

import torch
from torch import Tensor

from coopsim.envs.economy import maps, native
from coopsim.envs.economy.actions import MOVES, RIGHT, UP
from coopsim.envs.economy.state import EconomyState, Grid


class Movement:
    """Moves agents of B worlds at once; built once per world with its index helpers."""

    def __init__(self, grid: Grid, num_agents: int, device: torch.device):
        self.num_agents = num_agents
        # Per act, looked up in one index each step: its flat tile offset, whether it moves.
        self._delta = (MOVES[:, 0] * grid.wp + MOVES[:, 1]).to(device)  # [7]
        acts = torch.arange(len(MOVES))
        self._is_move = ((acts >= UP) & (acts <= RIGHT)).to(device)  # [7] bool
        # Which agent moves before which at step t (ranks rotate with period N): [N, N] bool,
        # entry (i, j) true when j has the smaller rank, one matrix per t mod N, built once.
        agents = torch.arange(num_agents)
        self._earlier = []
        for t in range(num_agents):
            rank = (agents - t) % num_agents  # [N] 0 moves first
            self._earlier.append((rank[None, :] < rank[:, None]).to(device))
        self._offsets = (MOVES[UP : RIGHT + 1, 0] * grid.wp + MOVES[UP : RIGHT + 1, 1]).to(
            device
        )  # [4] flat tile offset of up, down, left, right
        self._agents = torch.arange(num_agents, device=device)  # [N]

    def step(self, state: EconomyState, act: Tensor, t: int) -> Tensor:
        """Move every agent whose ``act`` [B, N] is a move and may make it; updates
        ``state.pos`` and returns which agents moved, [B, N] bool."""
        n = self.num_agents
        if (
            act.device.type == "cpu"
            and native.enabled()
            and n <= 64
            and act.shape == state.pos.shape
            and act.dtype == state.pos.dtype == state.house_owner.dtype == torch.int64
            and state.tiles.is_contiguous()
            and state.house_owner.is_contiguous()
        ):
            # a new tensor, as the torch path makes one: callers may hold the old
            pos = state.pos.clone()
            moved = torch.empty(pos.shape, dtype=torch.bool)
            native.move(
                act.contiguous(),
                pos,
                state.tiles,
                state.house_owner,
                self._delta,
                self._is_move,
                self._earlier[t % n],
                maps.WATER,
                moved,
            )
            state.pos = pos
            return moved
        moving = self._is_move[act]  # [B, N]
        target = state.pos + self._delta[act]  # [B, N]
        kind_t = state.tiles.gather(1, target)  # [B, N] uint8
        owner_t = state.house_owner.gather(1, target)  # [B, N]
        occupied = (target[:, :, None] == state.pos[:, None, :]).any(-1)  # [B, N]
        ok = moving & (kind_t != maps.WATER) & ((owner_t < 0) | (owner_t == self._agents))
        ok = ok & ~occupied
        same = (target[:, :, None] == target[:, None, :]) & ok[:, None, :]  # [B, N(i), N(j)]
        beaten = (same & self._earlier[t % n]).any(-1)  # [B, N] a move ranked first wins
        moved = ok & ~beaten
        state.pos = torch.where(moved, target, state.pos)
        return moved

    def allowed(self, state: EconomyState) -> Tensor:
        """[B, N, 4] bool: up, down, left, right lead onto land that is not another agent's
        house. A tile another agent holds may free up during the step, so it stays allowed."""
        b, n = state.pos.shape
        target = state.pos[..., None] + self._offsets  # [B, N, 4]
        kind_t = state.tiles.gather(1, target.view(b, -1)).view(b, n, 4)
        owner_t = state.house_owner.gather(1, target.view(b, -1)).view(b, n, 4)
        own = (owner_t < 0) | (owner_t == self._agents[:, None])
        return (kind_t != maps.WATER) & own
