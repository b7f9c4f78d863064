"""One interface for every policy lever.

A mechanism turns what the world produced in a round into what agents keep. It sees a
:class:`RoundContext` (gross payoffs, taxable income, contributions, sanctions) and returns a
:class:`Flow`: money moved to each agent, money moved into the institution's pool, and money
entering (+) or leaving (-) the agents' economy from outside (a sponsor's match, burned fines).
Every flow obeys ``transfer.sum(-1) + pool == external``; the pipeline checks it, so budget
balance is an invariant rather than a hope.

Mechanism parameters that a planner may set live as tensors with a leading batch axis, so each
of the B worlds can run under different rules in the same step.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch
from torch import Tensor


@dataclass
class RoundContext:
    """What a world hands the mechanism pipeline when a round's payoffs are realised."""

    gross: Tensor  # [B, N] payoff before any mechanism
    income: Tensor  # [B, N] taxable income earned this round
    round: int  # index of the round just completed, from 0
    rounds: int  # rounds per episode
    contributions: Tensor | None = None  # [B, N] amount given to the public good this round
    # per-round endowment (contributions are measured against it): E, or [N] per seat
    endowment: float | Tensor = 1.0
    multiplier: float | None = None  # public-good multiplier r, where the world has one
    punishment: Tensor | None = None  # [B, N, N] points assigned by agent i to agent j
    # [B, N] money each agent holds that a levy can take now (escrow excluded), where the
    # world keeps holdings (the economy): a tax capped at it cannot overdraw an agent
    liquid: Tensor | None = None
    net: Tensor = field(init=False)  # [B, N] running payoff after the mechanisms so far
    pool: Tensor = field(init=False)  # [B] money held by the institution, not yet paid out

    def __post_init__(self) -> None:
        self.net = self.gross.clone()
        self.pool = torch.zeros(self.gross.shape[0], device=self.gross.device)


@dataclass
class Flow:
    """Money moved by one mechanism in one round."""

    transfer: Tensor  # [B, N] paid to (+) or taken from (-) each agent
    pool: Tensor  # [B] paid into (+) or out of (-) the institution's pool
    external: Tensor  # [B] entering (+) or leaving (-) from outside the agents and pool
    # [B] what an outside sponsor paid for it (a match before the pot multiplies it), where
    # someone did: the cost an objective net of the sponsor's outlay charges for
    outlay: Tensor | None = None

    def imbalance(self) -> Tensor:
        """[B] how far this flow is from balancing its books (0 when it does)."""
        return self.transfer.sum(-1) + self.pool - self.external


@dataclass(frozen=True)
class ControlSpec:
    """One parameter a planner (or a sweep) may set per world, and its declared range.

    Why: a planner designs rules by choosing values on a grid over each control's range; the
    range comes from the parameter's own declaration, so a new mechanism needs no planner
    code. ``high`` is None for a parameter with no upper bound (a fine): a scenario must then
    give the grid.
    """

    width: int  # entries per world (a tax: one marginal rate per bracket)
    low: float | None
    high: float | None


def declared_bounds(params_type: type, name: str) -> tuple[float | None, float | None]:
    """The (low, high) a Params field declares with ``param(ge=, gt=, le=, lt=)``; high is None
    where the upper bound is only an overflow limit (``overflow_limit=True``), no range."""
    meta = next(f.metadata for f in dataclasses.fields(params_type) if f.name == name)
    low = meta.get("ge") if meta.get("ge") is not None else meta.get("gt")
    high = meta.get("le") if meta.get("le") is not None else meta.get("lt")
    if meta.get("overflow_limit"):
        high = None
    return low, high


@dataclass(frozen=True)
class MoneyBounds:
    """The largest sums a world's round can move, from which mechanisms bound what they move.

    Why: agents' observations include payoffs and mechanism state, and environment suites
    (PettingZoo, TorchRL) need finite observation bounds derived from the rules, not guessed.
    """

    gross: float  # largest |gross payoff| of one agent in one round
    income: float  # largest taxable income of one agent in one round
    rounds: int  # rounds per episode
    num_agents: int
    endowment: float = 1.0  # per-round endowment contributions are measured against
    multiplier: float = 0.0  # public-good multiplier r, where the world has one
    pool: float = 0.0  # largest balance the institution can hold (set by the pipeline)


class Mechanism(ABC):
    """Base class: subclasses set ``kind``, ``Params`` and implement :meth:`apply`.

    Everything the worlds, the trainer, the planner and the evaluator call on a mechanism is
    declared here with a default that fits a mechanism with fixed parameters, so callers never
    ask an object what it can do: a tax overrides the settlement period and the controls a
    planner sets, a Saez schedule also what it learns on its own.
    """

    kind: ClassVar[str]
    Params: ClassVar[type]
    summary: ClassVar[str] = ""  # one line for listings and reports
    worlds: ClassVar[tuple[str, ...] | None] = None  # world kinds it applies to; None = all
    needs_sanction_stage: ClassVar[bool] = False  # adds a second stage to each round

    def __init__(self, params: Any, num_agents: int, batch_size: int, device: torch.device):
        self.params = params
        self.num_agents = num_agents
        self.batch_size = batch_size
        self.device = torch.device(device)

    def reset(self) -> None:
        """Forget per-episode state (accumulated income, say)."""

    @abstractmethod
    def apply(self, ctx: RoundContext) -> Flow:
        """Money moved this round, computed for all B worlds at once."""

    # -- optional hooks -------------------------------------------------------------------
    def action_heads(self) -> tuple[int, ...]:
        """Extra per-agent action heads this mechanism adds (peer punishment's points)."""
        return ()

    @property
    def obs_dim(self) -> int:
        """Width of :meth:`observation`."""
        return 0

    def observation(self) -> Tensor:
        """What agents see of the mechanism: [B, N, obs_dim] (current tax rates, say)."""
        return torch.zeros(self.batch_size, self.num_agents, 0, device=self.device)

    def transfer_bound(self, bounds: MoneyBounds) -> float:
        """The largest |transfer| this mechanism can pay or take from one agent in one round."""
        raise NotImplementedError(
            f"mechanism {self.kind!r} does not declare transfer_bound, so observations of "
            "payoffs under it have no finite bounds"
        )

    def read_observation(self, seen: Tensor) -> None:
        """Install the controls that :meth:`observation` shows, from what an agent saw of it
        ([B, obs_dim], one row per world): its inverse. Why: an agent that answers the rule
        in force (a best responder) rebuilds the rule from what it sees, as a person would
        from the instructions. A mechanism that shows nothing has nothing to read."""
        if self.obs_dim:
            raise NotImplementedError(
                f"mechanism {self.kind!r} does not say how to read back its observation"
            )

    def observation_bounds(self, bounds: MoneyBounds) -> tuple[list[float], list[float]]:
        """Low and high of each of the :attr:`obs_dim` entries of :meth:`observation`."""
        if self.obs_dim:
            raise NotImplementedError(
                f"mechanism {self.kind!r} does not declare observation_bounds"
            )
        return [], []

    def describe(self) -> str:
        """One sentence of what it does with its current parameters, for reports."""
        return self.summary

    def replicate(self, source: Tensor) -> None:
        """World b takes world ``source[b]``'s per-world state (see ``World.replicate``);
        mechanisms whose state is per world override this."""

    def accrued(self, pool: Tensor) -> tuple[Tensor | None, Tensor]:
        """What it would pay each agent [B, N] if the period closed now, and the pool after.

        A tax collected every 100 steps owes or is owed money between collections; a world
        can value agents' holdings net of it, so an agent feels the tax on the house it just
        built rather than 90 steps later. None: this mechanism has nothing outstanding.
        """
        return None, pool

    # -- settlement period ------------------------------------------------------------------
    @classmethod
    def period_of(cls, params: Any) -> int | None:
        """Rounds between the settlements of a mechanism configured by ``params``, or None
        for one that settles every round.

        A class method so a scenario can be checked before anything is built: a planner
        that changed a tax's rates in the middle of its period would tax income earned under
        other rates.
        """
        return None

    @property
    def period(self) -> int | None:
        """Rounds between this mechanism's settlements (see :meth:`period_of`)."""
        return self.period_of(self.params)

    # -- what a planner may set (its controls) ----------------------------------------------
    #: Names of the Params fields a planner may set per world, in the order of ``controls``.
    controllable: ClassVar[tuple[str, ...]] = ()
    #: Named settings of the controls (a redistribution's 'strict_egalitarian'): baselines a
    #: planner's rules can be voted against, and shorthands in scenario files.
    presets: ClassVar[dict[str, dict[str, Any]]] = {}

    @classmethod
    def control_specs(cls, params: Any) -> dict[str, ControlSpec]:
        """Each controllable parameter's width and declared range, for mechanisms configured
        by ``params`` (a class method, so a scenario's controls are checked when it loads)."""
        return {
            name: ControlSpec(1, *declared_bounds(cls.Params, name)) for name in cls.controllable
        }

    @classmethod
    def world_refusal(cls, params: Any, world: str) -> tuple[str, str] | None:
        """(parameter, why) when ``params`` cannot work in a world of kind ``world``, or None.
        Checked when a scenario loads, so a run never fails in its first round instead."""
        return None

    @classmethod
    def planner_refusal(cls, params: Any) -> str | None:
        """Why a planner cannot set this mechanism's controls when configured by ``params``,
        or None when it can. Checked when a scenario loads, not when the planner first acts."""
        if cls.control_specs(params):
            return None
        return f"a {cls.kind!r} mechanism has no parameters a planner can set"

    def control(self, name: str) -> Tensor:
        """The values of control ``name`` in force: [B, width]."""
        raise NotImplementedError(f"a {self.kind!r} mechanism has no control {name!r}")

    def set_control(self, name: str, values: Tensor) -> None:
        """Install control ``name``'s values [B, width] (or [width], the same in every world)."""
        raise NotImplementedError(f"a {self.kind!r} mechanism has no control {name!r}")

    def per_world(self, values: Tensor, width: int = 1) -> Tensor:
        """``values`` [B, width], [width] or a number as a fresh [B, width] float tensor."""
        values = torch.as_tensor(values, dtype=torch.float32, device=self.device)
        return values.reshape(-1, width).expand(self.batch_size, width).clone()

    @classmethod
    def control_fields(cls, params: Any) -> tuple[str, ...]:
        """The ``Params`` fields that :attr:`controls` are made of when configured by
        ``params``, so configurations that differ only in these can run as worlds of one batch,
        each with its own controls (a sweep does). By default the controls that are fields."""
        fields = {f.name for f in dataclasses.fields(cls.Params)}
        return tuple(name for name in cls.control_specs(params) if name in fields)

    @property
    def num_controls(self) -> int:
        """K, the number of parameters a planner sets per world (a tax: one rate a bracket)."""
        return sum(spec.width for spec in self.control_specs(self.params).values())

    @property
    def controls(self) -> Tensor:
        """Every control in force, in :attr:`controllable` order: [B, K]."""
        names = list(self.control_specs(self.params))
        if not names:
            return torch.zeros(self.batch_size, 0, device=self.device)
        return torch.cat([self.control(name) for name in names], -1)

    def set_controls(self, values: Tensor) -> None:
        """Install every control at once: [B, K] (or [K], the same in every world)."""
        specs = self.control_specs(self.params)
        if not specs:
            raise NotImplementedError(f"a {self.kind!r} mechanism has no controls to set")
        values = torch.as_tensor(values, dtype=torch.float32, device=self.device)
        values = values.reshape(-1, self.num_controls).expand(self.batch_size, -1)
        start = 0
        for name, spec in specs.items():
            self.set_control(name, values[:, start : start + spec.width])
            start += spec.width

    # -- what it learns on its own ----------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """What a checkpoint must hold to resume it exactly (tensors and numbers); a
        mechanism whose parameters never change has nothing to save."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` saved."""

    def adopt(self, other: Mechanism) -> None:
        """Take over what ``other`` (the same mechanism in another world: training's, when an
        evaluation world is built fresh) has learned on its own. Nothing, unless it learns."""

    def training_log(self) -> dict[str, float]:
        """Numbers worth a column of the training metrics after an iteration: what it has
        learned on its own (a Saez schedule's rates and elasticity). None by default."""
        return {}

    def _zeros(self) -> Flow:
        b, n = self.batch_size, self.num_agents
        z = torch.zeros(b, device=self.device)
        return Flow(torch.zeros(b, n, device=self.device), z, z.clone())


class Pipeline:
    """Mechanisms applied in scenario order; keeps the ledger of who got what."""

    def __init__(self, mechanisms: list[Mechanism]):
        self.mechanisms = mechanisms
        self.labels = _unique_labels([m.kind for m in mechanisms])
        # [B] the institution's balance carried from round to round (None before the first
        # round of an episode): what a rebate paying part of the pool leaves for later rounds.
        self.pool: Tensor | None = None

    def __iter__(self):
        return iter(self.mechanisms)

    def __len__(self) -> int:
        return len(self.mechanisms)

    @property
    def needs_sanction_stage(self) -> bool:
        return any(m.needs_sanction_stage for m in self.mechanisms)

    def action_heads(self) -> tuple[int, ...]:
        return tuple(h for m in self.mechanisms for h in m.action_heads())

    @property
    def obs_dim(self) -> int:
        return sum(m.obs_dim for m in self.mechanisms)

    def observation(self, batch_size: int, num_agents: int, device: torch.device) -> Tensor:
        parts = [m.observation() for m in self.mechanisms if m.obs_dim]
        if not parts:
            return torch.zeros(batch_size, num_agents, 0, device=device)
        return torch.cat(parts, dim=-1)

    def transfer_bound(self, bounds: MoneyBounds) -> float:
        """The largest |net - gross| of one agent in one round, all mechanisms together.

        The pool can hold at most what every earlier mechanism took from every agent over the
        episode, so a rebate of it is bounded by that.
        """
        total = 0.0
        for mech in self.mechanisms:
            pool = bounds.rounds * bounds.num_agents * total
            total += mech.transfer_bound(dataclasses.replace(bounds, pool=pool))
        return total

    def observation_bounds(self, bounds: MoneyBounds) -> tuple[list[float], list[float]]:
        """Low and high of each entry of :meth:`observation`, mechanisms in order."""
        low: list[float] = []
        high: list[float] = []
        for mech in self.mechanisms:
            lo, hi = mech.observation_bounds(bounds)
            low += lo
            high += hi
        return low, high

    def reset(self) -> None:
        self.pool = None
        for m in self.mechanisms:
            m.reset()

    def replicate(self, source: Tensor) -> None:
        """World b takes world ``source[b]``'s pool and every mechanism's per-world state."""
        if self.pool is not None:
            self.pool = self.pool[source].clone()
        for mech in self.mechanisms:
            mech.replicate(source)

    def find(self, kind: str) -> Mechanism:
        """The first mechanism of ``kind`` (a planner's lever)."""
        for mech in self.mechanisms:
            if mech.kind == kind:
                return mech
        kinds = ", ".join(m.kind for m in self.mechanisms) or "(none)"
        raise ValueError(f"planner.mechanism = {kind!r} is not in the pipeline (has: {kinds})")

    @property
    def period(self) -> int | None:
        """The first settlement period of its mechanisms (a tax's), None if all settle every
        round."""
        return next((m.period for m in self.mechanisms if m.period is not None), None)

    def state_dict(self) -> list[dict[str, Any]]:
        """Every mechanism's :meth:`Mechanism.state_dict`, in pipeline order."""
        return [m.state_dict() for m in self.mechanisms]

    def load_state_dict(self, states: list[dict[str, Any] | None]) -> None:
        """Restore :meth:`state_dict`'s list (entries of None, from older checkpoints, skip)."""
        for mech, state in zip(self.mechanisms, states):
            if state is not None:
                mech.load_state_dict(state)

    def adopt(self, other: Pipeline) -> None:
        """Each mechanism takes over what its counterpart in ``other`` learned on its own."""
        for mine, theirs in zip(self.mechanisms, other.mechanisms):
            mine.adopt(theirs)

    def training_log(self) -> dict[str, float]:
        """The first mechanism's non-empty :meth:`Mechanism.training_log` (columns such as
        ``rate_0`` would collide if two mechanisms logged them)."""
        return next((log for m in self.mechanisms if (log := m.training_log())), {})

    def accrued(self, batch_size: int, num_agents: int, device: torch.device) -> Tensor:
        """[B, N] net of what every mechanism owes or is owed since its last settlement."""
        pool = torch.zeros(batch_size, device=device)
        if self.pool is not None:
            pool = pool + self.pool
        total = torch.zeros(batch_size, num_agents, device=device)
        for mech in self.mechanisms:
            transfer, pool = mech.accrued(pool)
            if transfer is not None:
                total = total + transfer
        return total

    def apply(self, ctx: RoundContext) -> dict[str, Flow]:
        """Run every mechanism in order, updating ``ctx.net`` and ``ctx.pool``.

        ``ctx.pool`` starts from the balance the institution kept from earlier rounds of the
        episode, and what is left after this round is kept for the next.
        """
        if self.pool is not None:
            ctx.pool = ctx.pool + self.pool
        flows: dict[str, Flow] = {}
        for label, mech in zip(self.labels, self.mechanisms):
            flow = mech.apply(ctx)
            ctx.net = ctx.net + flow.transfer
            ctx.pool = ctx.pool + flow.pool
            flows[label] = flow
        self.pool = ctx.pool
        return flows


def _unique_labels(kinds: list[str]) -> list[str]:
    labels, seen = [], {}
    for k in kinds:
        seen[k] = seen.get(k, 0) + 1
        labels.append(k if kinds.count(k) == 1 else f"{k}_{seen[k]}")
    return labels
