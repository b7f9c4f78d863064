"""World checks that compare runs which must agree: one seed against itself, a reset world
against a fresh one, a batch against its single worlds, copies against their sources, a
device against the CPU."""

from __future__ import annotations

import copy
import io

import torch
from torch import Tensor

from coopsim.conformance.compare import FLOAT32, tensor_difference, trajectory_difference
from coopsim.conformance.recipe import SEED, WorldRecipe
from coopsim.conformance.rollout import Trajectory, play
from coopsim.conformance.verdict import fail
from coopsim.conformance.world_shapes import check_outputs
from coopsim.envs.base import World


def check_seeds(recipe: WorldRecipe, draws: Tensor, base: Trajectory, subject: str) -> bool:
    """The same seed reproduces and seeds ``world.gen``; returns whether outcomes depend on it."""
    b = draws.shape[1]
    again = play(recipe.build(b), draws, SEED)
    d = trajectory_difference(base, again)
    if d:
        fail(
            subject,
            "seeds reproduce",
            f"two fresh worlds reset with seed {SEED} and given the same actions part ways: {d}",
        )
    world = recipe.build(b)
    states = []
    for seed in (SEED, SEED + 1, SEED):
        world.reset(seed=seed)
        states.append(world.gen.get_state())
    if not torch.equal(states[0], states[2]):
        fail(
            subject,
            "seeds reproduce",
            f"reset(seed={SEED}) twice leaves world.gen in different states",
        )
    if torch.equal(states[0], states[1]):
        fail(
            subject,
            "seeds differ",
            f"reset(seed={SEED}) and reset(seed={SEED + 1}) leave "
            "world.gen in the same state: the seed is ignored",
        )
    other = play(recipe.build(b), draws, SEED + 1)
    return trajectory_difference(base, other) is not None


def check_reset(
    recipe: WorldRecipe, world: World, draws: Tensor, base: Trajectory, subject: str
) -> None:
    """Reset mid-episode, the used world plays on as a fresh one given its learned state."""
    half = max(1, draws.shape[0] // 2)
    play(world, draws[:half], SEED + 1)  # a second episode, left unfinished
    learned = checkpoint(world.pipeline.state_dict(), subject, "reset")
    again = play(world, draws, SEED)
    fresh = recipe.build(draws.shape[1])
    fresh.pipeline.load_state_dict(learned)
    reference = play(fresh, draws, SEED)
    d = trajectory_difference(reference, again)
    if d:
        fail(
            subject,
            "reset",
            f"after reset(seed={SEED}) mid-episode the world differs from a fresh one that "
            f"loaded its pipeline's state_dict (reset left something of the episode behind, "
            f"or state_dict misses something a mechanism learned): {d}",
        )


def check_independence(recipe: WorldRecipe, draws: Tensor, base: Trajectory, subject: str):
    """Other actions in world 0 leave every other world of the batch exactly as it was."""
    other = draws.clone()
    other[:, 0] = (draws[:, 0] + 0.5) % 1.0  # [T, N, H] world 0 acts differently
    changed = play(recipe.build(draws.shape[1]), other, SEED)
    for b in range(1, draws.shape[1]):
        d = trajectory_difference(base.world(b), changed.world(b))
        if d:
            fail(subject, "independence", f"other actions in world 0 changed world {b}: {d}")


def check_batched_single(recipe: WorldRecipe, draws: Tensor, base: Trajectory, subject: str):
    """Each world of the batch equals the same world stepped alone, to float32 tolerance."""
    size = draws.shape[1]
    for b in range(size):
        alone = play(recipe.build(1), draws[:, b : b + 1], SEED)
        d = trajectory_difference(base.world(b), alone, FLOAT32)
        if d:
            fail(
                subject,
                "batched equals single",
                f"world {b} of {size} stepped in the batch "
                f"differs from the same world stepped alone: {d}",
            )


# -- replicate -------------------------------------------------------------------------------
def check_replicate(recipe: WorldRecipe, draws: Tensor, seed_matters: bool, subject: str):
    """Copies equal their source; self-copies change nothing; seed-free copies step alike."""
    size, what = draws.shape[1], "replicate"
    half = max(1, draws.shape[0] // 2)
    head, tail = draws[:half], draws[half:]
    # world 0 takes the last world, every other world the first (its state before the copy)
    source = torch.zeros(size, dtype=torch.long)
    source[0] = size - 1

    world = recipe.build(size)
    before = play(world, head, SEED)
    obs_before = before.steps[-1].obs
    mask_before = world.action_mask()
    obs = world.replicate(source.to(world.device))
    d = tensor_difference(obs, obs_before[source.to(obs.device)])
    if d:
        fail(
            subject,
            what,
            f"after replicate({source.tolist()}) world b does not observe "
            f"what world source[b] did: {d}",
        )
    if mask_before is not None:
        d = tensor_difference(world.action_mask(), mask_before[source.to(mask_before.device)])
        if d:
            fail(
                subject,
                what,
                f"after replicate({source.tolist()}) world b's action mask "
                f"is not world source[b]'s: {d}",
            )
    copied = play(world, tail[:, source], first_obs=obs)

    twin = recipe.build(size)
    twin_before = play(twin, head, SEED)
    untouched = play(twin, tail, first_obs=twin_before.steps[-1].returned.obs)
    selfcopy = recipe.build(size)
    play(selfcopy, head, SEED)
    obs = selfcopy.replicate(torch.arange(size, device=selfcopy.device))
    same = play(selfcopy, tail, first_obs=obs)
    d = trajectory_difference(untouched, same)
    if d:
        fail(
            subject,
            what,
            f"replicate(arange(B)) (every world onto itself) changed how the worlds play on: {d}",
        )
    if seed_matters:
        return
    for b in range(size):
        d = trajectory_difference(untouched.world(int(source[b])), copied.world(b))
        if d:
            fail(
                subject,
                "replicate steps alike",
                f"world {b}, a copy of world "
                f"{int(source[b])}, steps differently from its source: {d}",
            )


# -- devices -----------------------------------------------------------------------------------
def check_device(
    recipe: WorldRecipe,
    draws: Tensor,
    base: Trajectory,
    seed_matters: bool,
    device: torch.device,
    subject: str,
) -> None:
    what = f"device {device}"
    world = recipe.build(draws.shape[1], device)
    if world.device.type != device.type:
        fail(subject, what, f"built for {device}, the world says it is on {world.device}")
    traj = play(world, draws, SEED)
    check_outputs(world, traj, f"{subject} on {device}")
    again = play(recipe.build(draws.shape[1], device), draws, SEED)
    d = trajectory_difference(traj, again)
    if d:
        fail(subject, what, f"the same seed does not reproduce: {d}")
    if not seed_matters:
        d = trajectory_difference(base, to_cpu(traj), FLOAT32)
        if d:
            fail(subject, what, f"differs from the same world on the CPU: {d}")


def to_cpu(traj: Trajectory) -> Trajectory:
    moved = copy.copy(traj)
    moved.first_obs = traj.first_obs.cpu()
    moved.steps = []
    for s in traj.steps:
        s = copy.copy(s)
        s.actions, s.active, s.obs = s.actions.cpu(), s.active.cpu(), s.obs.cpu()
        s.reward, s.done = s.reward.cpu(), s.done.cpu()
        s.mask = None if s.mask is None else s.mask.cpu()
        s.info = {k: v.cpu() for k, v in s.info.items()}
        s.flows = {k: tuple(x.cpu() for x in f) for k, f in s.flows.items()}
        moved.steps.append(s)
    return moved


# -- checkpoints -------------------------------------------------------------------------------
def checkpoint(state: object, subject: str, check: str) -> object:
    """``state`` through a checkpoint: ``torch.save``, then ``torch.load(weights_only=True)``
    onto the CPU, as :mod:`coopsim.runner` resumes runs."""
    buf = io.BytesIO()
    try:
        torch.save(state, buf)
        buf.seek(0)
        return torch.load(buf, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - any failure to checkpoint is the finding
        fail(
            subject,
            check,
            f"the pipeline's state_dict() does not survive torch.save and "
            f"torch.load(weights_only=True): {err}",
        )
