"""Play a world under fixed action draws and keep everything it returned.

The kits compare worlds step by step: batched against single, one seed against itself, a reset
world against a fresh one. Each comparison needs both sides to act alike wherever their states
agree, so actions come from uniform draws fixed in advance (one per world, agent, head and
step) mapped onto the choices the world's action mask allows. A world's actions then depend
only on its own draws and its own mask: world b of a batch acts exactly as world b stepped alone
would, and perturbing world 0's draws changes nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor

from coopsim.envs.base import Step, World


def action_draws(steps: int, batch_size: int, world: World, seed: int) -> Tensor:
    """Uniform draws in [0, 1) for every step, world, agent and head: [T, B, N, H]."""
    gen = torch.Generator().manual_seed(seed)
    n, h = world.spec.num_agents, len(world.spec.action_nvec)
    return torch.rand(steps, batch_size, n, h, generator=gen)


def choose_actions(world: World, draws: Tensor) -> Tensor:
    """Map draws [B, N, H] onto allowed choices: [B, N, H] long on the world's device.

    Head h picks the floor(u * k)-th of its k allowed choices, so every allowed choice is
    equally likely and an agent's choice depends on its own draw and mask alone.
    """
    draws = draws.to(world.device)
    nvec = world.spec.action_nvec
    mask = world.action_mask()  # [B, N, sum(nvec)] or None
    if mask is None:
        high = torch.tensor(nvec, device=world.device, dtype=draws.dtype)  # [H]
        return (draws * high).long().clamp(max=high.long() - 1)
    heads = []
    for h, part in enumerate(mask.split(list(nvec), dim=-1)):  # part: [B, N, n_h]
        cum = part.long().cumsum(-1)  # [B, N, n_h] allowed choices up to each index
        allowed = cum[..., -1:]  # [B, N, 1]
        target = (draws[..., h : h + 1] * allowed).long() + 1  # [B, N, 1] 1-based rank
        heads.append((cum < target.clamp(max=allowed)).sum(-1))  # [B, N] index of that choice
    return torch.stack(heads, -1)


@dataclass
class StepRecord:
    """One step's outputs, cloned as they were returned (plus what the world showed first)."""

    actions: Tensor  # [B, N, H] long
    active: Tensor  # [H] bool, the heads that counted at this step
    mask: Tensor | None  # [B, N, sum(nvec)] bool, or None where the world masks nothing
    obs: Tensor  # [B, N, obs_dim]
    reward: Tensor  # [B, N]
    done: Tensor  # [B] bool
    info: dict[str, Tensor]  # name -> [B, N]
    round_end: bool
    flows: dict[
        str, tuple[Tensor, Tensor, Tensor]
    ]  # label -> (transfer [B, N], pool [B], external [B])
    returned: Step = field(
        repr=False
    )  # the Step object itself, to check later steps leave it alone


@dataclass
class Trajectory:
    """What a world returned from ``reset`` and each step after it."""

    first_obs: Tensor  # [B, N, obs_dim], returned by reset (or replicate)
    steps: list[StepRecord]
    returned_first_obs: Tensor = field(repr=False)  # the tensor reset returned, uncloned

    def world(self, b: int) -> Trajectory:
        """The same trajectory for world ``b`` alone, batch axis kept (size 1)."""
        sl = slice(b, b + 1)
        return Trajectory(
            first_obs=self.first_obs[sl],
            steps=[
                StepRecord(
                    actions=s.actions[sl],
                    active=s.active,
                    mask=None if s.mask is None else s.mask[sl],
                    obs=s.obs[sl],
                    reward=s.reward[sl],
                    done=s.done[sl],
                    info={k: v[sl] for k, v in s.info.items()},
                    round_end=s.round_end,
                    flows={k: tuple(t[sl] for t in f) for k, f in s.flows.items()},
                    returned=s.returned,
                )
                for s in self.steps
            ],
            returned_first_obs=self.returned_first_obs,
        )


def record_step(world: World, draws: Tensor) -> StepRecord:
    """Choose actions from ``draws`` [B, N, H], step, and keep clones of all that came back."""
    active = world.active_heads().clone()
    mask = world.action_mask()
    mask = None if mask is None else mask.clone()
    actions = choose_actions(world, draws)
    step = world.step(actions)
    return StepRecord(
        actions=actions,
        active=active,
        mask=mask,
        obs=step.obs.clone(),
        reward=step.reward.clone(),
        done=step.done.clone(),
        info={k: v.clone() for k, v in step.info.items()},
        round_end=step.round_end,
        flows={
            k: (f.transfer.clone(), f.pool.clone(), f.external.clone())
            for k, f in step.flows.items()
        },
        returned=step,
    )


def play(world: World, draws: Tensor, seed: int | None = None, first_obs: Tensor | None = None):
    """Reset with ``seed`` (unless ``first_obs`` says the episode is already under way) and
    take one step per row of ``draws`` [T, B, N, H]."""
    if first_obs is None:
        first_obs = world.reset(seed=seed)
    steps = [record_step(world, d) for d in draws]
    return Trajectory(first_obs.clone(), steps, first_obs)
