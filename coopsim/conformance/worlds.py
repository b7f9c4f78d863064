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

import copy
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
from torch import Tensor

from coopsim.conformance.compare import FLOAT32, tensor_difference, trajectory_difference
from coopsim.conformance.rollout import Trajectory, action_draws, play, record_step
from coopsim.conformance.verdict import Conformance, fail
from coopsim.envs import WORLDS
from coopsim.envs.base import World
from coopsim.envs.info import INFO_KEYS, REQUIRED, TRANSFER_PREFIX, WORLD_INFO
from coopsim.schema import build
from mechanisms.base import Mechanism, Pipeline

SEED = 11  # the episode seed the kit plays; SEED + 1 is "a different seed"
DRAW_SEED = 5  # seeds the kit's action draws, never the world's

MechanismFactory = Callable[[int, int, torch.device], list[Mechanism]]  # (N, B, device)


@dataclass(frozen=True)
class WorldRecipe:
    """How to build the world under test at any batch size and device, fresh each time."""

    kind: str
    config: object  # the world's config dataclass
    subject: str  # how messages name it: "world 'economy'"
    mechanisms: MechanismFactory = field(default=lambda n, b, device: [])

    def build(self, batch_size: int, device: str | torch.device = "cpu") -> World:
        device = torch.device(device)
        world_cls = WORLDS[self.kind][1]
        config = copy.deepcopy(self.config)
        pipeline = Pipeline(self.mechanisms(config.num_agents, batch_size, device))
        return world_cls(config, pipeline, batch_size, device)


def world_recipe(kind: str, overrides: dict, subject: str | None = None) -> WorldRecipe:
    """The registered world ``kind`` with ``overrides`` applied to its config (validated as a
    scenario's ``[world]`` table is)."""
    if kind not in WORLDS:
        raise ValueError(f"unknown world kind {kind!r}; registered: {', '.join(WORLDS)}")
    config = build(WORLDS[kind][0], {"kind": kind, **overrides}, prefix="world")
    return WorldRecipe(kind, config, subject or f"world {kind!r}")


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
        check_replicate(recipe, draws, seed_matters, subject)
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


# -- spec and shapes ------------------------------------------------------------------------
def check_spec(world: World, kind: str, subject: str) -> None:
    spec, what = world.spec, "spec"
    if world.kind != kind:
        fail(subject, what, f"registered as {kind!r}, but its class says kind = {world.kind!r}")
    if not world.endowment > 0:
        fail(
            subject,
            what,
            f"endowment is {world.endowment!r}; contributions are measured "
            "against it, so it must be > 0",
        )
    if spec.num_agents < 1 or spec.obs_dim < 0 or spec.horizon < 1:
        fail(
            subject,
            what,
            f"num_agents, obs_dim, horizon = {spec.num_agents}, "
            f"{spec.obs_dim}, {spec.horizon}; need >= 1, >= 0, >= 1",
        )
    if not spec.action_nvec or min(spec.action_nvec) < 1:
        fail(subject, what, f"action_nvec {spec.action_nvec} needs one or more heads, each >= 1")
    if spec.head_names and len(spec.head_names) != len(spec.action_nvec):
        fail(subject, what, f"{len(spec.head_names)} head_names for {len(spec.action_nvec)} heads")
    for name, sl in spec.obs_fields.items():
        if sl.step not in (None, 1) or not 0 <= sl.start <= sl.stop <= spec.obs_dim:
            fail(subject, what, f"obs_fields[{name!r}] = {sl} lies outside [0, {spec.obs_dim})")
    if spec.map_shape is not None:
        width = spec.obs_fields.get("map", slice(0, 0))
        c, h, w = spec.map_shape
        if width.stop - width.start != c * h * w:
            fail(
                subject,
                what,
                f"map_shape {spec.map_shape} needs an obs field 'map' of "
                f"width {c * h * w}, got {width.stop - width.start}",
            )


def check_between_steps(recipe: WorldRecipe, draws: Tensor, subject: str) -> None:
    """``world.t`` counts the episode's steps from 0, and ``observe()`` (where the world
    re-observes without stepping) shows what the last reset or step returned."""
    world = recipe.build(draws.shape[1])
    obs = world.reset(seed=SEED)
    for t, d in enumerate(draws[:2]):
        if world.t != t:
            fail(subject, "shapes", f"world.t is {world.t} after {t} steps of an episode")
        again = world.observe()
        if again is not None:
            diff = tensor_difference(again, obs)
            if diff:
                fail(
                    subject,
                    "shapes",
                    f"after {t} steps observe() differs from the observation last returned: {diff}",
                )
        obs = record_step(world, d).obs


def check_outputs(world: World, traj: Trajectory, subject: str) -> None:
    """Every tensor the world returned has the declared shape, dtype and device."""
    spec, b, dev = world.spec, world.batch_size, world.device
    n, heads = spec.num_agents, len(spec.action_nvec)

    def expect(name: str, x: Tensor, shape: tuple, kind: str) -> None:
        if not isinstance(x, Tensor):
            fail(subject, "shapes", f"{name} is a {type(x).__name__}, not a tensor")
        if tuple(x.shape) != shape:
            fail(subject, "shapes", f"{name} has shape {list(x.shape)}, declared {list(shape)}")
        if x.device != dev:
            fail(subject, "shapes", f"{name} is on {x.device}, the world on {dev}")
        if kind == "bool" and x.dtype != torch.bool:
            fail(subject, "shapes", f"{name} has dtype {x.dtype}, declared bool")
        if kind == "float":
            if not x.is_floating_point():
                fail(subject, "shapes", f"{name} has dtype {x.dtype}, declared float")
            if not bool(torch.isfinite(x).all()):
                fail(subject, "shapes", f"{name} holds non-finite values")

    expect("reset's observation", traj.returned_first_obs, (b, n, spec.obs_dim), "float")
    for t, s in enumerate(traj.steps):
        step = s.returned
        expect(f"step {t}: obs", step.obs, (b, n, spec.obs_dim), "float")
        expect(f"step {t}: reward", step.reward, (b, n), "float")
        expect(f"step {t}: done", step.done, (b,), "bool")
        expect(f"step {t}: active_heads()", s.active, (heads,), "bool")
        if s.mask is not None:
            expect(f"step {t}: action_mask()", s.mask, (b, n, sum(spec.action_nvec)), "bool")
            for h, part in enumerate(s.mask.split(list(spec.action_nvec), -1)):
                if not bool(part.any(-1).all()):
                    fail(
                        subject,
                        "shapes",
                        f"step {t}: action_mask() allows no choice at all "
                        f"in head {h} for some agent",
                    )
        if not bool(s.active.any()):
            fail(subject, "shapes", f"step {t}: active_heads() marks no head as counting")
        last = t + 1 >= spec.horizon
        if not bool((s.done == last).all()):
            fail(
                subject,
                "shapes",
                f"step {t}: done is {s.done.tolist()} with horizon "
                f"{spec.horizon}; worlds end together, exactly at the horizon",
            )


def check_info(world: World, traj: Trajectory, subject: str) -> None:
    """Round-end info: the keys :mod:`coopsim.envs.info` declares for this kind of world,
    [B, N] each, books that add up; nothing between rounds."""
    b, n, dev = world.batch_size, world.spec.num_agents, world.device
    what = "info schema"
    if world.kind not in WORLD_INFO:
        fail(subject, what, f"coopsim.envs.info.WORLD_INFO declares no keys for {world.kind!r}")
    declared = set(WORLD_INFO[world.kind])
    undocumented = declared - set(INFO_KEYS)
    if undocumented:
        fail(
            subject,
            what,
            f"WORLD_INFO[{world.kind!r}] lists {sorted(undocumented)}, which "
            "coopsim.envs.info.INFO_KEYS does not document",
        )
    labels = list(world.pipeline.labels)
    transfers = {TRANSFER_PREFIX + label for label in labels}
    required = set(REQUIRED) | transfers
    keys: list[str] | None = None
    for t, s in enumerate(traj.steps):
        if not s.round_end:
            if s.info or s.flows:
                fail(
                    subject,
                    what,
                    f"step {t} ends no round but info has {sorted(s.info)} "
                    f"and flows {sorted(s.flows)}",
                )
            continue
        missing = required - set(s.info)
        if missing:
            fail(subject, what, f"step {t}: info lacks {sorted(missing)} (has {sorted(s.info)})")
        extra = set(s.info) - transfers - declared
        if extra:
            fail(
                subject,
                what,
                f"step {t}: info has {sorted(extra)}, which WORLD_INFO"
                f"[{world.kind!r}] does not declare",
            )
        if keys is None:
            keys = list(s.info)
        elif list(s.info) != keys:
            fail(subject, what, f"step {t}: info keys {list(s.info)}, earlier rounds {keys}")
        metrics = world.round_metrics(s.returned.info)
        for key, value in metrics.items():
            if not isinstance(value, Tensor) or tuple(value.shape) != (b, n):
                shape = list(value.shape) if isinstance(value, Tensor) else type(value).__name__
                fail(
                    subject,
                    what,
                    f"step {t}: round_metrics()[{key!r}] is {shape}, declared [{b}, {n}]",
                )
        for key, value in s.returned.info.items():
            if not isinstance(value, Tensor) or tuple(value.shape) != (b, n):
                shape = list(value.shape) if isinstance(value, Tensor) else type(value).__name__
                fail(subject, what, f"step {t}: info[{key!r}] is {shape}, declared [{b}, {n}]")
            if value.device != dev:
                fail(subject, what, f"step {t}: info[{key!r}] is on {value.device}, not {dev}")
            if value.is_floating_point() and not bool(torch.isfinite(value).all()):
                fail(subject, what, f"step {t}: info[{key!r}] holds non-finite values")
        if list(s.flows) != labels:
            fail(subject, what, f"step {t}: flows for {list(s.flows)}, pipeline has {labels}")
        total = s.info["gross"].double()
        for label, (transfer, pool, external) in s.flows.items():
            for part, x, shape in (
                ("transfer", transfer, (b, n)),
                ("pool", pool, (b,)),
                ("external", external, (b,)),
            ):
                if tuple(x.shape) != shape or x.device != dev:
                    fail(
                        subject,
                        what,
                        f"step {t}: flow {label!r} {part} is {list(x.shape)} "
                        f"on {x.device}, declared {list(shape)} on {dev}",
                    )
            d = tensor_difference(s.info[TRANSFER_PREFIX + label], transfer)
            if d:
                fail(
                    subject,
                    what,
                    f"step {t}: info['{TRANSFER_PREFIX}{label}'] is not the flow's transfer: {d}",
                )
            total = total + transfer.double()
        d = tensor_difference(total, s.info["net"].double(), FLOAT32)
        if d:
            fail(subject, what, f"step {t}: net is not gross plus the transfers: {d}")


def check_outputs_kept(traj: Trajectory, subject: str) -> None:
    """Rollout buffers and the PettingZoo adapter keep what a step returned; a world that
    writes into a returned tensor later would rewrite history under them."""
    what = "outputs kept"
    if tensor_difference(traj.returned_first_obs, traj.first_obs):
        fail(subject, what, "the observation reset returned was changed by later steps")
    for t, s in enumerate(traj.steps):
        step = s.returned
        for name, kept in (("obs", s.obs), ("reward", s.reward), ("done", s.done)):
            if tensor_difference(getattr(step, name), kept):
                fail(subject, what, f"step {t}'s {name} was changed by a later step or reset")
        for key, kept in s.info.items():
            if tensor_difference(step.info[key], kept):
                fail(
                    subject, what, f"step {t}'s info[{key!r}] was changed by a later step or reset"
                )


# -- seeds, reset, independence ---------------------------------------------------------
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
