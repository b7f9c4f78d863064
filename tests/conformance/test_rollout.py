"""Fixed action draws map onto allowed choices, world by world."""

from __future__ import annotations

import torch

from coopsim.conformance.rollout import choose_actions
from coopsim.envs.base import WorldSpec


class Masked:
    """Just what choose_actions reads: a spec, a device and an action mask."""

    def __init__(self, mask: torch.Tensor | None, nvec: tuple[int, ...]):
        self.spec = WorldSpec(
            num_agents=mask.shape[1] if mask is not None else 1,
            obs_dim=0,
            action_nvec=nvec,
            horizon=1,
        )
        self.device = torch.device("cpu")
        self._mask = mask

    def action_mask(self):
        return self._mask


def test_draws_spread_evenly_over_the_allowed_choices_only():
    allowed = torch.tensor([False, True, False, True, True])
    mask = allowed.expand(1, 1000, 5)  # [B, N, 5], one head
    draws = torch.rand(1, 1000, 1, generator=torch.Generator().manual_seed(0))
    actions = choose_actions(Masked(mask, (5,)), draws)[..., 0]
    counts = torch.bincount(actions.flatten(), minlength=5)
    assert counts[~allowed].sum() == 0
    assert counts[allowed].min() > 280  # about a third each


def test_each_head_reads_its_own_part_of_the_mask():
    mask = torch.tensor([[[True, False, False, True]]])  # heads of 2 and 2 choices
    draws = torch.tensor([[[0.99, 0.0]]])
    assert choose_actions(Masked(mask, (2, 2)), draws).tolist() == [[[0, 1]]]


def test_without_a_mask_draws_cover_every_choice():
    world = Masked(None, (3,))
    draws = torch.tensor([[[0.0]], [[0.5]], [[0.999]]])  # [B=3, N=1, H=1]
    assert choose_actions(world, draws).flatten().tolist() == [0, 1, 2]
