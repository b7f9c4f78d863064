"""The protocol every batched world follows.

A world steps B independent copies of an N-agent game at once, as torch tensors on one device.
Episodes have a fixed horizon and all B copies move in lock-step, so a rollout is a plain loop
over time with no per-world bookkeeping; callers reset after ``done``.

Actions are multi-discrete: each agent picks one integer per *head* (``spec.action_nvec``). A
world whose rounds have several stages (contribute, then sanction) says which heads count at the
current step through :meth:`World.active_heads`, so learners neither get credit nor entropy for
heads that were ignored.

Everything the trainer, the planner, the evaluator and the runner call on a world is declared
on :class:`World` with a default, so no caller asks a world what it can do: a world overrides
what applies to it (a labour-cost warm-up, re-observing after a planner acts, copying one world
into another, per-round numbers for the training log). What :attr:`Step.info` holds at a
round's end is declared in :mod:`coopsim.envs.info`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar

import torch
from torch import Tensor

from mechanisms.base import Pipeline


@dataclass(frozen=True)
class WorldSpec:
    """Static shape of a world, what policies and adapters are built from."""

    num_agents: int
    obs_dim: int
    action_nvec: tuple[int, ...]  # choices per action head, one entry per head
    horizon: int  # steps per episode
    obs_fields: dict[str, slice] = field(default_factory=dict)  # named slices of the obs vector
    head_names: tuple[str, ...] = ()
    # (C, H, W) when the obs field "map" holds a flattened egocentric image, for conv encoders
    map_shape: tuple[int, int, int] | None = None


@dataclass(frozen=True)
class DrawableState:
    """What a picture of one spatial world shows at one moment, in the world's own terms.

    Replays store these, not pixels, so a recording stays small and any renderer can draw it
    (:mod:`coopsim.figures.replay`). Tile layers are named by what they hold; a renderer knows
    a palette of names (``wall``, ``apple``, ``water``, ``wood``, ``stone``, ``source``,
    ``house``) and draws later layers over earlier ones.
    """

    layers: dict[str, Tensor]  # name -> [H, W] bool, the tiles holding it now
    positions: Tensor  # [N, 2] long (row, column) of every agent on the map
    present: Tensor  # [N] bool, False while an agent is out of the game (tagged out)
    heading: Tensor | None = None  # [N] long 0..3 north, east, south, west; None: no heading


@dataclass
class Step:
    """What one call of :meth:`World.step` returns."""

    obs: Tensor  # [B, N, obs_dim] float
    reward: Tensor  # [B, N] float, this step's net payoff
    done: Tensor  # [B] bool, all equal: worlds move in lock-step
    # per-round variables, each [B, N] (recorded to episodes.parquet); keys: coopsim.envs.info
    info: dict[str, Tensor]
    round_end: bool = False  # payoffs were realised this step (info is filled only then)
    flows: dict = field(default_factory=dict)  # mechanism label -> mechanisms.base.Flow


class World(ABC):
    """B worlds x N agents, stepped as tensors."""

    kind: ClassVar[str]  # the scenario's world.kind
    # What the world is, in one line (the app's world box and the docs show it).
    summary: ClassVar[str] = ""
    # The info keys (Step.info) the world reports at a round's end, besides each mechanism's
    # transfer_<label>: each documented in coopsim.envs.info.INFO_KEYS or in info_meanings.
    info_keys: ClassVar[tuple[str, ...]] = ("gross", "net")
    # Meanings of info keys this world brings that INFO_KEYS does not document.
    info_meanings: ClassVar[dict[str, str]] = {}
    spec: WorldSpec
    batch_size: int
    device: torch.device
    pipeline: Pipeline  # the mechanisms applied when a round's payoffs are realised
    gen: torch.Generator  # all of the world's randomness (policies may draw from it too)

    @abstractmethod
    def reset(self, seed: int | None = None) -> Tensor:
        """Start a new episode in every world; returns obs [B, N, obs_dim]."""

    @abstractmethod
    def step(self, actions: Tensor) -> Step:
        """Advance every world one step; ``actions`` is [B, N, H] long."""

    def active_heads(self) -> Tensor:
        """Which action heads count at the current step: [H] bool (all, unless staged)."""
        return torch.ones(len(self.spec.action_nvec), dtype=torch.bool, device=self.device)

    def action_mask(self) -> Tensor | None:
        """Which choices can take effect now: [B, N, sum(action_nvec)] bool, or None (all).

        Learners sample only allowed choices, so exploration is not spent on moves into walls
        or builds without materials (the AI Economist's agents are masked the same way). The
        world still enforces its rules; a mask only spares a policy the choices that do nothing.
        """
        return None

    def observation_bounds(self) -> tuple[Tensor, Tensor]:
        """Low and high of every observation entry, each [obs_dim], derived from the rules.

        Environment suites (PettingZoo, TorchRL) declare finite observation spaces from these,
        and normalising wrappers rely on them; every observation the world makes lies within.
        """
        raise NotImplementedError(f"{type(self).__name__} does not declare observation_bounds")

    def render_rgb(self) -> Tensor | None:
        """World 0 as an image [H, W, 3] uint8 where the world has a picture (a map); None
        where a chart of the round's variables shows it better."""
        return None

    def drawable_state(self) -> DrawableState | None:
        """World 0 now as a :class:`DrawableState`, where the world is a map agents walk on;
        None for worlds without one (evaluation records a replay only of worlds that have)."""
        return None

    def replicate(self, source: Tensor) -> Tensor:
        """Make world b a copy of world ``source[b]`` (map, skills, positions, holdings);
        returns the observation.

        Worlds that start alike differ only by what is done in them, so comparing them
        isolates the effect of a choice (a planner's rates) from the luck of the draw.
        """
        raise NotImplementedError(f"{type(self).__name__} cannot copy one world into another")

    @classmethod
    def can_replicate(cls) -> bool:
        """Whether this kind of world implements :meth:`replicate` (checked at load time)."""
        return cls.replicate is not World.replicate

    def social_optimum(self) -> float:
        """Total payoff (all agents, one episode) of the welfare-maximising joint behaviour."""
        raise NotImplementedError

    def observe(self) -> Tensor | None:
        """The observation now, without stepping: [B, N, obs_dim]; None for a world that
        shows a change of rules only when it next steps.

        A planner installs new rates between steps; a world whose agents act once per episode
        (the one-step economy) must show them before the agents act, or they never see them.
        """
        return None

    def set_labour_scale(self, scale: float) -> None:
        """The curriculum's warm-up factor on the cost of labour (0: free, 1: full cost);
        worlds without a labour cost ignore it."""

    @property
    def endowment(self) -> float:
        """What a round's contribution is measured against (the public-goods endowment; 1
        where a contribution is a share already, or there is none)."""
        return 1.0

    def round_metrics(self, info: dict[str, Tensor]) -> dict[str, Tensor]:
        """Per-round numbers [B, N] worth a column of the training log, from a round's
        ``info``: the trainer averages each over an iteration's rounds and worlds (and, as
        ``learner_<name>``, over the learning seats). None by default."""
        return {}

    @property
    def t(self) -> int:
        """Steps taken in the current episode."""
        return self._t

    def make_generator(self, seed: int | None) -> torch.Generator:
        """A generator on the world's device; worlds draw all randomness from it."""
        gen = torch.Generator(device=self.device)
        gen.manual_seed(int(seed) if seed is not None else int(torch.seed() % (2**63)))
        return gen
