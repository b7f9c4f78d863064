"""Preallocated rollout storage: what one learner saw and did over an iteration's T steps.

As in CleanRL, the buffers are made once, at their full size [T, B, n, ...], and every step of
the collection writes its row; nothing is appended and stacked. A learning group of agents has
one, and so has the planner (its T is the number of its decisions, n = 1). The buffers are
reused every iteration: a :class:`~coopsim.agents.ppo.Rollout` read from them holds until the
next collection.
"""

from __future__ import annotations

import torch
from torch import Tensor

from coopsim.agents.ppo import Rollout


class RolloutStorage:
    """The [T, B, n, ...] buffers of one learner, written one step at a time."""

    def __init__(
        self,
        steps: int,
        batch_size: int,
        seats: int,
        obs_dim: int,
        num_heads: int,
        device: torch.device,
    ):
        t, b, n = steps, batch_size, seats
        self.steps = steps
        self.obs = torch.zeros(t, b, n, obs_dim, device=device)  # [T, B, n, O]
        self.actions = torch.zeros(
            t, b, n, num_heads, dtype=torch.long, device=device
        )  # [T, B, n, H]
        self.logp = torch.zeros(t, b, n, device=device)  # [T, B, n] active heads, acting
        self.values = torch.zeros(t, b, n, device=device)  # [T, B, n]
        self.rewards = torch.zeros(t, b, n, device=device)  # [T, B, n] scaled for learning
        self.dones = torch.zeros(t, b, device=device)  # [T, B] 1: the episode ended after t
        self.active = torch.ones(t, num_heads, dtype=torch.bool, device=device)  # [T, H]
        # [T, B, n, sum(nvec)] choices allowed when acting; made at the first mask a world gives
        # (a world gives one at every step or never)
        self.mask: Tensor | None = None

    def add(
        self,
        t: int,
        obs: Tensor,
        actions: Tensor,
        logp: Tensor,
        values: Tensor,
        mask: Tensor | None = None,
    ) -> None:
        """Record step t's decision: obs [B, n, O], actions [B, n, H], logp and values [B, n],
        mask [B, n, sum(nvec)] or None."""
        self.obs[t] = obs
        self.actions[t] = actions
        self.logp[t] = logp
        self.values[t] = values
        if mask is not None:
            if self.mask is None:
                self.mask = torch.zeros(
                    (self.steps, *mask.shape), dtype=torch.bool, device=mask.device
                )
            self.mask[t] = mask

    def rollout(self) -> Rollout:
        """The whole iteration as PPO's :class:`Rollout`; every episode ended inside it, so
        nothing is bootstrapped past the last step (``next_value`` 0)."""
        b, n = self.rewards.shape[1:]
        return Rollout(
            obs=self.obs,
            actions=self.actions,
            logp=self.logp,
            values=self.values,
            rewards=self.rewards,
            dones=self.dones,
            active=self.active,
            next_value=torch.zeros(b, n, device=self.rewards.device),
            mask=self.mask,
        )
