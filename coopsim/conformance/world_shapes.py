"""World checks on what one run returned: the spec, shapes, dtypes and devices, the info
schema of :mod:`coopsim.envs.info`, and that returned tensors stay as they were returned."""

from __future__ import annotations

import torch
from torch import Tensor

from coopsim.conformance.compare import FLOAT32, tensor_difference
from coopsim.conformance.recipe import SEED, WorldRecipe
from coopsim.conformance.rollout import Trajectory, record_step
from coopsim.conformance.verdict import fail
from coopsim.envs.base import World
from coopsim.envs.info import INFO_KEYS, REQUIRED, TRANSFER_PREFIX


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
    """Round-end info: the keys the world declares (``World.info_keys``),
    [B, N] each, books that add up; nothing between rounds."""
    b, n, dev = world.batch_size, world.spec.num_agents, world.device
    what = "info schema"
    declared = set(world.info_keys)
    undocumented = declared - set(INFO_KEYS) - set(world.info_meanings)
    if undocumented:
        fail(
            subject,
            what,
            f"{type(world).__name__}.info_keys lists {sorted(undocumented)}, which neither "
            "coopsim.envs.info.INFO_KEYS nor its info_meanings documents",
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
                f"step {t}: info has {sorted(extra)}, which "
                f"{type(world).__name__}.info_keys does not declare",
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
