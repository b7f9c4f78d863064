"""The mechanism kit: holds a mechanism to the protocol of :mod:`mechanisms.base`.

A mechanism is checked where it runs: in the mechanism pipeline of every registered world it
declares it applies to, on its own and after a levy that fills the institution's pool (so a
rebate has money to pay out). In each of those worlds:

* every world property of :mod:`coopsim.conformance.worlds`, with the mechanism in the
  pipeline (its observation fields, action heads, replicate and reset included);
* **budget balance**: every flow obeys ``transfer.sum(-1) + pool == external``, and over an
  episode what agents gained over their gross payoffs equals what came in from outside minus
  what the institution still holds (``pipeline.pool``), to float tolerance;
* **state round-trip**: ``state_dict`` goes through a checkpoint (``torch.save``, then
  ``torch.load(weights_only=True)``), a fresh mechanism that loads it saves the same again,
  and the saved state is a snapshot: neither the original's later rounds nor the loader's
  change it (the world kit's reset check then holds a reset world to a fresh one that loaded
  the state, so a state_dict missing something learned shows there);
* **parameters per world**: its controls (what a planner sets) are ``[B, K]``, one set per
  world, and world b under a batch of different controls plays as it does when every world
  has world b's;
* **hooks**: ``observation()`` is ``[B, N, obs_dim]`` on the device, ``action_heads()`` counts
  choices, ``describe()`` says something, ``period`` is ``period_of(params)``, a planner is
  refused where there are no controls, ``training_log()`` maps names to numbers.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from coopsim.conformance.compare import tensor_difference, trajectory_difference
from coopsim.conformance.recipe import DRAW_SEED, SEED, WorldRecipe, world_recipe
from coopsim.conformance.rollout import Trajectory, action_draws, play
from coopsim.conformance.verdict import Conformance, fail
from coopsim.conformance.world_runs import checkpoint
from coopsim.conformance.worlds import run_world_checks
from coopsim.envs import WORLDS
from coopsim.envs.base import World
from coopsim.schema import build
from mechanisms import MECHANISMS
from mechanisms.base import Flow, Mechanism, RoundContext


@dataclass
class LevyParams:
    share: float = 0.25  # of each agent's positive income, paid into the pool


class Levy(Mechanism):
    """Takes a share of income into the institution's pool, so a mechanism after it has a
    pool to pay out of (a rebate) and one before it sees its pool carried along."""

    kind = "conformance_levy"
    Params = LevyParams

    def apply(self, ctx: RoundContext) -> Flow:
        take = self.params.share * ctx.income.clamp(min=0)  # [B, N]
        return Flow(-take, take.sum(-1), torch.zeros_like(ctx.pool))


def check_mechanism(
    kind: str,
    *,
    worlds: Sequence[str] | None = None,
    world_configs: dict[str, dict] | None = None,
    batch_size: int = 3,
    max_steps: int = 24,
    devices: Sequence[str] | None = None,
    coupled: str | None = None,
    **overrides,
) -> Conformance:
    """Hold the registered mechanism ``kind`` (its params with ``overrides``) to the protocol.

    Runs in each world it declares it applies to (or those named in ``worlds``), alone and
    after a levy; a world's config is its default with ``world_configs[kind]`` applied. ``coupled`` says why the worlds of a batch are
    meant to affect each other under this mechanism (a Saez schedule learns from all of them),
    which skips the independence checks. Raises AssertionError naming the mechanism, the
    world, the property and what differed.
    """
    if kind not in MECHANISMS:
        raise ValueError(f"unknown mechanism kind {kind!r}; registered: {', '.join(MECHANISMS)}")
    cls = MECHANISMS[kind]
    params = build(cls.Params, overrides, prefix=f"mechanisms.{kind}")
    subject = f"mechanism {kind!r}"
    report = Conformance(subject)
    kinds = [w for w in WORLDS if cls.worlds is None or w in cls.worlds]
    if worlds is not None:
        kinds = list(worlds)
    if not kinds:
        fail(subject, "worlds", f"applies to {cls.worlds}, none of them registered")
    for world_kind in kinds:
        for levy in (False, True):
            overrides = (world_configs or {}).get(world_kind, {})
            recipe = mechanism_recipe(cls, params, world_kind, overrides, levy)
            where = recipe.subject
            world = recipe.build(batch_size)
            steps = min(world.spec.horizon, max_steps)
            draws = action_draws(steps, batch_size, world, DRAW_SEED)  # [T, B, N, H]
            traj = play(world, draws, SEED)
            check_budget(world.pipeline, traj, where)
            report.ok(f"{where}: budget balance")
            check_state_roundtrip(recipe, world, draws, where)
            report.ok(f"{where}: state round-trip")
            check_hooks(world.pipeline.mechanisms[-1], world, where)
            report.ok(f"{where}: hooks")
            checked = run_world_checks(
                recipe, batch_size=batch_size, max_steps=max_steps, devices=devices, coupled=coupled
            )
            for check in checked.passed:
                report.ok(f"{where}: {check}")
            for check, why in checked.skipped.items():
                report.skip(f"{where}: {check}", why)
            if world.pipeline.mechanisms[-1].num_controls == 0:
                report.skip(f"{where}: parameters per world", "it declares no controls")
            else:
                check_controls(recipe, draws, coupled, where)
                report.ok(f"{where}: parameters per world")
    return report


def mechanism_recipe(
    cls: type[Mechanism], params: object, world_kind: str, overrides: dict, levy: bool
) -> WorldRecipe:
    """World ``world_kind`` whose pipeline is the mechanism, alone or after a levy."""
    subject = f"mechanism {cls.kind!r} in world {world_kind!r}" + (" after a levy" if levy else "")
    recipe = world_recipe(world_kind, overrides, subject)

    def mechanisms(n: int, b: int, device: torch.device) -> list[Mechanism]:
        mech = cls(copy.deepcopy(params), n, b, device)
        return [Levy(LevyParams(), n, b, device), mech] if levy else [mech]

    return WorldRecipe(recipe.kind, recipe.config, subject, mechanisms)


def check_budget(pipeline, traj: Trajectory, subject: str) -> None:
    """Each flow balances; over the episode, agents' gain over gross = external - pool."""
    what = "budget balance"
    gain = torch.zeros(traj.first_obs.shape[0], dtype=torch.float64)  # [B] net - gross
    external = torch.zeros_like(gain)  # [B] in from (+) or out to (-) the outside
    paid_in = torch.zeros_like(gain)  # [B] put into the pool by the flows
    scale = torch.ones_like(gain)  # [B] 1 + money moved: what float error is relative to
    for t, s in enumerate(traj.steps):
        if not s.round_end:
            continue
        gain += (s.info["net"].double() - s.info["gross"].double()).sum(-1).cpu()
        for label, (transfer, pool, ext) in s.flows.items():
            moved = transfer.double().abs().sum(-1) + pool.double().abs() + ext.double().abs()
            off = (transfer.double().sum(-1) + pool.double() - ext.double()).abs()  # [B]
            if bool((off > 1e-5 * (1 + moved)).any()):
                b = int(off.argmax())
                fail(
                    subject,
                    what,
                    f"step {t}: flow {label!r} in world {b} moves "
                    f"{transfer[b].sum().item():.6g} to agents, {pool[b].item():.6g} to the "
                    f"pool and {ext[b].item():.6g} from outside: off by {off[b].item():.3g}",
                )
            external += ext.double().cpu()
            paid_in += pool.double().cpu()
            scale += moved.cpu()
    held = torch.zeros_like(gain) if pipeline.pool is None else pipeline.pool.double().cpu()
    d = tensor_difference(held, paid_in, (1e-5, 1e-5))
    if d:
        fail(subject, what, f"the pipeline's pool is not what the flows paid into it: {d}")
    off = (gain - (external - held)).abs()
    if bool((off > 1e-5 * scale).any()):
        b = int(off.argmax())
        fail(
            subject,
            what,
            f"over the episode agents in world {b} gained {gain[b]:.6g} over "
            f"gross, but {external[b]:.6g} came from outside and the pool holds "
            f"{held[b]:.6g}",
        )


def check_state_roundtrip(recipe: WorldRecipe, world: World, draws: Tensor, subject: str):
    """The pipeline's state survives a checkpoint, a fresh pipeline that loads it saves the
    same again, and neither side's later rounds change the other's copy.

    Whether the state holds *everything* learned shows in behaviour, which the world kit's
    reset check compares: a reset world against a fresh one that loaded the state."""
    what = "state round-trip"
    live = world.pipeline.state_dict()
    saved = checkpoint(live, subject, what)
    snapshot = copy.deepcopy(saved)
    fresh = recipe.build(draws.shape[1])
    fresh.pipeline.load_state_dict(saved)
    d = state_difference(snapshot, checkpoint(fresh.pipeline.state_dict(), subject, what))
    if d:
        fail(subject, what, f"after load_state_dict(s), state_dict() is not s: {d}")
    play(world, draws, SEED + 1)
    play(fresh, draws, SEED + 1)
    d = state_difference(snapshot, live)
    if d:
        fail(subject, what, f"state_dict() returned live state that later rounds changed: {d}")
    d = state_difference(snapshot, saved)
    if d:
        fail(
            subject,
            what,
            f"load_state_dict() kept the tensors it was given and later rounds changed them: {d}",
        )


def state_difference(a: object, b: object, path: str = "state") -> str | None:
    """None when two nested states hold equal values, else where they first differ."""
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        if not (isinstance(a, Tensor) and isinstance(b, Tensor)):
            return f"{path}: {type(a).__name__} vs {type(b).__name__}"
        d = tensor_difference(a.cpu(), b.cpu())
        return f"{path}: {d}" if d else None
    if isinstance(a, dict) and isinstance(b, dict):
        if list(a) != list(b):
            return f"{path}: keys {list(a)} vs {list(b)}"
        return next((d for k in a if (d := state_difference(a[k], b[k], f"{path}[{k!r}]"))), None)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        if len(a) != len(b):
            return f"{path}: {len(a)} entries vs {len(b)}"
        pairs = enumerate(zip(a, b))
        return next(
            (d for i, (x, y) in pairs if (d := state_difference(x, y, f"{path}[{i}]"))), None
        )
    return None if a == b else f"{path}: {a!r} vs {b!r}"


def check_controls(recipe: WorldRecipe, draws: Tensor, coupled: str | None, subject: str):
    """Controls are [B, K], one set per world: world b under a batch of different controls
    plays as it does when every world has its controls. Values are drawn in [0, 1), the range
    of a rate, the one kind of control there is."""
    what = "parameters per world"
    size = draws.shape[1]
    world = recipe.build(size)
    mech = world.pipeline.mechanisms[-1]
    k = mech.num_controls
    controls = mech.controls
    if tuple(controls.shape) != (size, k) or controls.device != world.device:
        fail(
            subject,
            what,
            f"controls is {list(controls.shape)} on {controls.device}, "
            f"declared [{size}, {k}] on {world.device}",
        )
    gen = torch.Generator().manual_seed(DRAW_SEED)
    values = torch.rand(size, k, generator=gen).to(world.device)  # [B, K] one set per world
    mech.set_controls(values[1])
    d = tensor_difference(mech.controls, values[1].expand(size, k))
    if d:
        fail(subject, what, f"set_controls([K]) does not put the same controls in every world: {d}")
    mech.set_controls(values)
    world.reset(seed=SEED)
    d = tensor_difference(mech.controls, values)
    if d:
        fail(
            subject,
            what,
            f"set_controls([B, K]) then reset() does not leave those controls in force: {d}",
        )
    if coupled:
        return
    mixed = play(world, draws, SEED)
    for b in range(size):
        alike = recipe.build(size)
        alike.pipeline.mechanisms[-1].set_controls(values[b])
        d = trajectory_difference(mixed.world(b), play(alike, draws, SEED).world(b))
        if d:
            fail(
                subject,
                what,
                f"world {b} plays differently when the other worlds have other controls: {d}",
            )


def check_hooks(mech: Mechanism, world, subject: str) -> None:
    """The declared hooks answer in the declared types and shapes."""
    what = "hooks"
    period = mech.period
    if period is not None and not (isinstance(period, int) and period >= 1):
        fail(subject, what, f"period is {period!r}; None (every round) or an int >= 1")
    if period != type(mech).period_of(mech.params):
        fail(
            subject,
            what,
            f"period {period!r} is not period_of(params) {type(mech).period_of(mech.params)!r}",
        )
    refusal = type(mech).planner_refusal(mech.params)
    if refusal is not None and not (isinstance(refusal, str) and refusal.strip()):
        fail(subject, what, f"planner_refusal returned {refusal!r}: None or a reason")
    if refusal is None and mech.num_controls == 0:
        fail(subject, what, "planner_refusal accepts a planner, but it declares no controls")
    log = mech.training_log()
    if not all(isinstance(k, str) and isinstance(v, (int, float)) for k, v in log.items()):
        fail(subject, what, f"training_log() must map names to numbers, got {log!r}")
    b, n, dev = world.batch_size, world.spec.num_agents, world.device
    obs = mech.observation()
    if tuple(obs.shape) != (b, n, mech.obs_dim) or obs.device != dev:
        fail(
            subject,
            what,
            f"observation() is {list(obs.shape)} on {obs.device}, declared "
            f"[{b}, {n}, {mech.obs_dim}] on {dev}",
        )
    heads = mech.action_heads()
    if not all(isinstance(h, int) and h >= 1 for h in heads):
        fail(subject, what, f"action_heads() {heads} must count choices, each >= 1")
    text = mech.describe()
    if not isinstance(text, str) or not text.strip():
        fail(subject, what, f"describe() returned {text!r}, not a sentence")
