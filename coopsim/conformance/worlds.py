"""The world kit: holds a batched world to the protocol of :mod:`coopsim.envs.base`.

What the trainer, the evaluator and the PettingZoo adapter rely on, checked by playing the
world under fixed action draws (:mod:`coopsim.conformance.rollout`):

* **spec**: the declared shapes hang together (fields inside the observation, a name per head);
* **shapes**: observations ``[B, N, obs_dim]``, rewards ``[B, N]``, ``done`` ``[B]`` equal
  across worlds and true exactly at the horizon, masks and active heads as declared, all on
  the world's device, all finite;
* **info schema**: at each round's end ``info`` holds ``gross``, ``net`` and one
  ``transfer_<label>`` per mechanism, each ``[B, N]``, the same keys every round, with
  ``net = gross + transfers`` and the flows matching the transfers; nothing between rounds;
* **outputs kept**: tensors a world returned are not changed by later steps or resets;
* **seeds**: the same seed reproduces bitwise; a different seed seeds ``world.gen`` differently;
* **reset**: ``reset(seed)`` mid-episode continues exactly as a fresh world would (carrying
  only what its mechanisms declare they learn, their ``state_dict``);
* **independence**: what is done in one world changes nothing in another;
* **batched equals single**: world b of a batch equals world b stepped alone (to float32
  tolerance). Only for worlds whose outcomes do not depend on the seed: a world that draws
  randomness draws it for the whole batch from one generator, so world b of a batch has no
  single-world twin. Such a world is checked here in a configuration without randomness;
* **replicate**, where the world declares it can: copies equal their source, replicating each
  world onto itself changes nothing, and (seed-free worlds) copies step alike;
* **devices**: the same on CUDA where available (equal to the CPU to float32 tolerance for
  seed-free worlds, reproducible for the others).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from coopsim.conformance.recipe import DRAW_SEED, SEED, WorldRecipe, world_recipe
from coopsim.conformance.rollout import action_draws, play
from coopsim.conformance.verdict import Conformance
from coopsim.conformance.world_runs import (
    check_batched_single,
    check_device,
    check_independence,
    check_replicate,
    check_reset,
    check_seeds,
)
from coopsim.conformance.world_shapes import (
    check_between_steps,
    check_info,
    check_outputs,
    check_outputs_kept,
    check_spec,
)


def check_world(
    kind: str,
    *,
    batch_size: int = 3,
    max_steps: int = 40,
    devices: Sequence[str] | None = None,
    **config_overrides,
) -> Conformance:
    """Hold the registered world ``kind`` (its config with ``config_overrides``) to the protocol.

    Plays ``min(horizon, max_steps)`` steps per episode in batches of ``batch_size`` worlds;
    ``devices`` beyond the CPU default to CUDA where available. Raises AssertionError naming
    the world, the property and what differed; returns what was checked and what did not apply.
    """
    recipe = world_recipe(kind, config_overrides)
    return run_world_checks(recipe, batch_size=batch_size, max_steps=max_steps, devices=devices)


def run_world_checks(
    recipe: WorldRecipe,
    *,
    batch_size: int = 3,
    max_steps: int = 40,
    devices: Sequence[str] | None = None,
    coupled: str | None = None,
) -> Conformance:
    """Every world property, for ``recipe``; ``coupled`` says why worlds of a batch are meant
    to affect each other (a mechanism that learns from all of them), which skips independence."""
    if batch_size < 2:
        raise ValueError("the world kit needs batch_size >= 2 to compare worlds of a batch")
    report = Conformance(recipe.subject)
    subject = recipe.subject
    world = recipe.build(batch_size)
    check_spec(world, recipe.kind, subject)
    report.ok("spec")
    steps = min(world.spec.horizon, max_steps)
    draws = action_draws(steps, batch_size, world, DRAW_SEED)  # [T, B, N, H]
    base = play(world, draws, SEED)
    check_between_steps(recipe, draws, subject)
    check_outputs(world, base, subject)
    report.ok("shapes")
    check_info(world, base, subject)
    report.ok("info schema")
    seed_matters = check_seeds(recipe, draws, base, subject)
    report.ok("seeds reproduce")
    report.ok("seeds differ")
    check_reset(recipe, world, draws, base, subject)
    report.ok("reset")
    check_outputs_kept(base, subject)
    report.ok("outputs kept")
    if coupled:
        report.skip("independence", coupled)
        report.skip("batched equals single", coupled)
    else:
        check_independence(recipe, draws, base, subject)
        report.ok("independence")
        if seed_matters:
            report.skip("batched equals single", "its outcomes depend on the seed")
        else:
            check_batched_single(recipe, draws, base, subject)
            report.ok("batched equals single")
    if type(world).can_replicate():
        # worlds coupled through a mechanism (a Saez schedule learning from all of them) do
        # not step as their sources do once copied, for the same reason seeded ones do not
        check_replicate(recipe, draws, seed_matters or bool(coupled), subject)
        report.ok("replicate")
        if seed_matters:
            report.skip("replicate steps alike", "its outcomes depend on the seed")
        else:
            report.ok("replicate steps alike")
    else:
        report.skip("replicate", "it does not declare it can replicate")
    cuda = ["cuda"] if torch.cuda.is_available() else []
    for device in cuda if devices is None else devices:
        check_device(recipe, draws, base, seed_matters, torch.device(device), subject)
        report.ok(f"device {device}")
    return report
