"""The repeated linear public-goods game, batched.

Each round every agent holds an endowment E and contributes c_i of it; the pot is multiplied by
r and shared equally, so agent i earns ``E - c_i + (r/N) * sum_j c_j``. With the marginal per
capita return r/N below 1 and r above 1, contributing nothing is dominant while full
contribution is socially optimal: the social dilemma. Defaults are Fehr & Gaechter's setting
(N=4, E=20, r=1.6, 10 rounds).

With ``endowments`` each seat has its own endowment e_i (Democratic AI's 10/2/2/2): agent i
contributes from e_i, on a grid of ``levels`` steps from 0 to e_i, and earns
``e_i - c_i + (r/N) * sum_j c_j``; its observed contributions are shares of its own e_i.

Where the mechanism pipeline has a sanction stage (peer punishment), each round takes two steps:
contributions, then sanctions, with the round's contributions visible in between.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from coopsim.envs import public_goods_native as native
from coopsim.envs.base import Step, World, WorldSpec
from coopsim.envs.buffers import Recycler
from coopsim.envs.observation import (
    EGOCENTRIC,
    OWN,
    PER_AGENT,
    SCALAR,
    GatherPacker,
    ObsLayout,
    layout_bounds,
)
from coopsim.schema import param
from mechanisms.base import MoneyBounds, Pipeline, RoundContext


@dataclass
class PublicGoodsConfig:
    kind: str = param("public_goods", help="World type", choices=("public_goods",))
    num_agents: int = param(4, help="Group size N", ge=2, le=64)
    # Bounds keep float32 sums finite and exact enough: a round pays at most E x (1 + r) to
    # each of 64 agents, so 10,000 rounds at E = 1e6 and r = 1e3 stay below 1e16 (float32
    # reaches 3.4e38), squares in the inequality measures below 1e32; below 1e-3 a coin
    # vanishes beside the others' wealth in float32.
    endowment: float = param(
        20.0, help="Endowment E each agent receives every round", ge=1e-3, le=1e6
    )
    multiplier: float = param(
        1.6, help="Multiplier r applied to the pot (MPCR = r/N)", gt=0, le=1e3
    )
    rounds: int = param(10, help="Rounds per episode T", ge=1, le=10_000)
    levels: int = param(
        21, help="Number of contribution levels, evenly spaced from 0 to E", ge=2, le=1001
    )
    endowments: list[float] = param(
        default_factory=list,
        help="Per seat, its own endowment each round (e.g. [10, 2, 2, 2]); empty: every seat "
        "has 'endowment'",
        ge=1e-3,  # each element: the same bounds, for the same reason, as 'endowment'
        le=1e6,
    )

    def validate(self) -> None:
        if self.endowments and len(self.endowments) != self.num_agents:
            raise ValueError(
                f"endowments has {len(self.endowments)} entries, one per seat is needed "
                f"(num_agents = {self.num_agents})"
            )


class PublicGoodsWorld(World):
    kind = "public_goods"
    summary = "a linear public-goods game (contribute to a pot, multiplied and shared)"
    info_keys = ("contribution", "gross", "net", "punishment_given", "punishment_received")

    def __init__(
        self,
        config: PublicGoodsConfig,
        pipeline: Pipeline | None = None,
        batch_size: int = 1,
        device: str | torch.device = "cpu",
    ):
        self.config = config
        self.pipeline = pipeline or Pipeline([])
        self.batch_size = batch_size
        self.device = torch.device(device)
        n = config.num_agents
        self.stages = 2 if self.pipeline.needs_sanction_stage else 1
        self.layout = ObsLayout(
            [
                ("round_progress", 1),
                ("stage", 1),
                ("first_round", 1),
                ("own_last_contribution", 1),
                ("own_last_payoff", 1),
                ("others_last_mean_contribution", 1),
                ("last_contributions", n),
                ("current_contributions", n),
                ("mechanisms", self.pipeline.obs_dim),
            ]
        )
        heads = (config.levels,) + self.pipeline.action_heads()
        self.spec = WorldSpec(
            num_agents=n,
            obs_dim=self.layout.size,
            action_nvec=heads,
            horizon=config.rounds * self.stages,
            obs_fields=self.layout.slices,
            head_names=("contribution",) + tuple(f"punish_{j + 1}" for j in range(len(heads) - 1)),
        )
        # currency per contribution level: a number, or [N] per seat with unequal endowments
        self._endowments = (
            torch.tensor(config.endowments, dtype=torch.float32, device=self.device)
            if config.endowments
            else None
        )  # [N] or None
        self._unit = (config.endowment if self._endowments is None else self._endowments) / (
            config.levels - 1
        )
        # Observations are gathered from one small row per world (see GatherPacker): the
        # distinct values are written once, then copied out to every agent's slots.
        self._packer = GatherPacker(
            self.layout,
            {
                "round_progress": (SCALAR, ""),
                "stage": (SCALAR, ""),
                "first_round": (SCALAR, ""),
                "own_last_contribution": (OWN, "last"),
                "own_last_payoff": (OWN, "payoff"),
                "others_last_mean_contribution": (OWN, "others_mean"),
                "last_contributions": (EGOCENTRIC, "last"),
                "current_contributions": (EGOCENTRIC, "current"),
                "mechanisms": (PER_AGENT, "mechanisms"),
            },
            n,
            batch_size,
            self.device,
            source_widths={"mechanisms": self.pipeline.obs_dim},
        )
        self._ones = torch.ones(n, 1, device=self.device)  # [N, 1] sums over agents by matmul
        # E as a tensor ([] or [N]), so payoffs are computed into buffers with ``out=``
        self._endowment_t = (
            self._endowments
            if self._endowments is not None
            else torch.tensor(float(config.endowment), device=self.device)
        )
        # What a step returns (observations, payoffs, infos) is written into memory reused
        # once callers drop it (see Recycler: fresh megabytes each step cost page faults);
        # scratch the step never returns is kept outright.
        self._recycler = Recycler(self.device)
        self._sum = torch.empty(batch_size, 1, device=self.device)  # [B, 1] sums over agents
        self._others = torch.empty(batch_size, n, device=self.device)  # [B, N]
        self._src_current: Tensor | None = None  # the current_contribution written into src
        # The native pass (public_goods_native) writes each agent's row straight from the
        # state, the mechanisms' numbers from one [B, N, M] block; it takes the packer's place
        # wherever it runs, but for the packer's block of last contributions (see there).
        self._mech = torch.zeros(batch_size, n, self.pipeline.obs_dim, device=self.device)
        self._heads: dict[tuple[float, ...], Tensor] = {}  # see _head
        self._t = 0
        self.reset(seed=0)

    # -- state ----------------------------------------------------------------------------
    def reset(self, seed: int | None = None) -> Tensor:
        b, n, dev = self.batch_size, self.config.num_agents, self.device
        self.gen = self.make_generator(seed)
        self._t = 0
        self.last_contribution = torch.zeros(b, n, device=dev)  # [B, N] currency
        self.last_payoff = torch.zeros(b, n, device=dev)  # [B, N] net payoff last round
        # [B, N] in the sanction stage; zero otherwise (shared between steps, never written to)
        self.current_contribution = torch.zeros(b, n, device=dev)
        self._zero = self.current_contribution
        self._src_current = None
        self.pipeline.reset()
        return self._observe()

    @property
    def round(self) -> int:
        return self._t // self.stages

    @property
    def stage(self) -> int:
        return self._t % self.stages

    def active_heads(self) -> Tensor:
        mask = torch.zeros(len(self.spec.action_nvec), dtype=torch.bool, device=self.device)
        if self.stage == 0:
            mask[0] = True
        else:
            mask[1:] = True
        return mask

    @property
    def endowment(self) -> float | Tensor:
        """E, or [N] each seat's own endowment where they differ."""
        if self._endowments is not None:
            return self._endowments
        return float(self.config.endowment)

    @property
    def _top_endowment(self) -> float:
        """The largest endowment of a seat: what money bounds and observed payoffs scale by."""
        c = self.config
        return max(c.endowments) if c.endowments else float(c.endowment)

    def replicate(self, source: Tensor) -> Tensor:
        """World b takes world ``source[b]``'s last round, current contributions and every
        mechanism's per-world state; returns the observation."""
        source = source.to(self.device)
        if source.shape != (self.batch_size,):
            raise ValueError(f"replicate needs one source world per world, [{self.batch_size}]")
        self.last_contribution = self.last_contribution[source].clone()
        self.last_payoff = self.last_payoff[source].clone()
        if self.current_contribution is not self._zero:
            self.current_contribution = self.current_contribution[source].clone()
        self._src_current = None
        self.pipeline.replicate(source)
        return self._observe()

    def observe(self) -> Tensor:
        """The observation now: a planner sets the rules between rounds, and agents see the
        rules of the round they are about to play, not last round's."""
        return self._observe()

    def round_metrics(self, info: dict[str, Tensor]) -> dict[str, Tensor]:
        """How much of the endowment each agent contributed this round."""
        return {"contribution_rate": info["contribution"] / self.endowment}

    def observation_bounds(self) -> tuple[Tensor, Tensor]:
        """Shares lie in [0, 1]; a round's gross payoff in [0, E(1 + r)], moved by at most the
        pipeline's transfer bound, observed per r * E."""
        c, e = self.config, self._top_endowment
        unit = c.multiplier * e
        # the most one seat can hold after a round: its own endowment and its share of a pot
        # of everyone's
        top = (
            e + c.multiplier * sum(c.endowments) / c.num_agents
            if c.endowments
            else e * (1 + c.multiplier)
        )
        money = MoneyBounds(top, top, c.rounds, c.num_agents, e, c.multiplier)
        moved = self.pipeline.transfer_bound(money)
        share = (0.0, 1.0)
        return layout_bounds(
            self.layout,
            {
                **dict.fromkeys(self.layout.slices, share),
                "own_last_payoff": (-moved / unit, (top + moved) / unit),
                "mechanisms": self.pipeline.observation_bounds(money),
            },
        )

    def social_optimum(self) -> float:
        c = self.config
        total = sum(c.endowments) if c.endowments else c.num_agents * c.endowment
        return c.multiplier * total * c.rounds

    # -- dynamics -------------------------------------------------------------------------
    def step(self, actions: Tensor) -> Step:
        c, n = self.config, self.config.num_agents
        b, fresh = self.batch_size, self._recycler.empty
        if self.stage == 0:
            contribution = self._contribution(actions[..., 0])  # [B, N] float currency
            if self.stages == 2:
                self.current_contribution = contribution
                self._t += 1
                zero = fresh((b, n)).zero_()
                return Step(self._observe(), zero, self._done(), {})
            punishment = None
        else:
            contribution = self.current_contribution
            points = actions[..., 1:].long()  # [B, N, N-1] egocentric: next agent first
            punishment = egocentric_to_absolute(points)  # [B, N, N]

        total = torch.mm(contribution, self._ones, out=self._sum)  # [B, 1]
        fused = not len(self.pipeline) and self._native_ready() and native.usable(contribution)
        if fused:  # gross and its copy net in one native pass, the same float32 operations
            gross, net = fresh((b, n)), fresh((b, n))
            share = c.multiplier / n
            native.payoffs(
                contribution, self._endowments, float(c.endowment), total, share, gross, net
            )
        else:
            kept = torch.sub(self._endowment_t, contribution, out=fresh((b, n)))  # e_i - c_i
            gross = kept.add_(total.mul_(c.multiplier / n))  # [B, N]
        info = {"contribution": contribution, "gross": gross}
        if fused:
            flows = {}
        elif len(self.pipeline):
            ctx = RoundContext(
                gross=gross,
                income=gross,
                round=self.round,
                rounds=c.rounds,
                contributions=contribution,
                endowment=self.endowment,
                multiplier=c.multiplier,
                punishment=punishment,
            )
            flows = self.pipeline.apply(ctx)
            for label, flow in flows.items():
                info[f"transfer_{label}"] = flow.transfer
            net = ctx.net
        else:  # no mechanism moves money: net is gross (a copy, so the two stay independent)
            flows, net = {}, fresh((b, n)).copy_(gross)
        info["net"] = net
        if punishment is not None:
            info["punishment_given"] = punishment.sum(-1).float()
            info["punishment_received"] = punishment.sum(-2).float()
        self.last_contribution = contribution
        self.last_payoff = net
        self.current_contribution = self._zero
        self._t += 1
        return Step(self._observe(), net, self._done(), info, round_end=True, flows=flows)

    def _contribution(self, levels: Tensor) -> Tensor:
        """[B, N] float32 currency of the chosen levels [B, N]."""
        if levels.is_floating_point() and levels.dtype != torch.float32:
            # float64 actions, say: multiplied in their own type, then kept as float32 state
            return torch.mul(levels, self._unit).float()
        # cast straight into the output, then scale in place: one pass over the actions and no
        # float copy of them (what torch.mul makes first), the same float32 arithmetic
        return self._recycler.empty(levels.shape).copy_(levels).mul_(self._unit)

    def _done(self) -> Tensor:
        return torch.full((self.batch_size,), self._t >= self.spec.horizon, device=self.device)

    def _observe(self) -> Tensor:
        """[B, N, obs_dim]: fractions of the endowment, payoffs per r * E; written by the
        native pass where it can run, else through the packer's rows."""
        if self._native_ready():
            return self._observe_native()
        return self._observe_torch()

    def _native_ready(self) -> bool:
        """Whether the native pass can write this observation: built and on, and the state
        float32, contiguous and on the CPU (a mechanism's net payoff may not be)."""
        if self.device.type != "cpu" or self.config.num_agents > native.MAX_AGENTS:
            return False
        return native.usable(self.last_contribution, self.last_payoff, self.current_contribution)

    def _head(self, *values: float) -> Tensor:
        """[3] float32 of the step's scalar fields; each distinct tuple is made once (they
        repeat every episode), as the packer does."""
        row = self._heads.get(values)
        if row is None:
            if len(self._heads) >= 65_536:
                self._heads.clear()
            row = self._heads[values] = torch.tensor(values, dtype=torch.float32)
        return row

    def _observe_native(self) -> Tensor:
        """The observation in one pass over worlds (see :mod:`public_goods_native`): the sum
        of last contributions' shares comes from torch (its ``mm`` fixes the summation order),
        the kernel writes every agent's row."""
        c, e = self.config, float(self.config.endowment)
        n, b = c.num_agents, self.batch_size
        rnd = self.round
        head = self._head(rnd / c.rounds, float(self.stage), float(rnd == 0))
        # [B, N] fractions, into the packer's rows: torch's mm sums in an order that depends
        # on the rows' stride, so the sum is taken over the very layout the torch path uses
        last = native.shares(
            self.last_contribution, self._endowments, e, self._packer.block("last")
        )
        total = torch.mm(last, self._ones, out=self._sum)  # [B, 1]
        mech = None
        if self.pipeline.obs_dim:
            start = 0
            for m in self.pipeline:
                if width := m.obs_dim:
                    self._mech[..., start : start + width].copy_(m.observation())
                    start += width
            mech = self._mech
        out = self._recycler.empty((b, n, self.layout.size))
        current = None if self.current_contribution is self._zero else self.current_contribution
        native.observe(
            out,
            head,
            last,
            total,
            self.last_payoff,
            c.multiplier * self._top_endowment,
            current,
            self._endowments,
            e,
            mech,
        )
        return out

    def _observe_torch(self) -> Tensor:
        """Each distinct value written once into the packer's rows, then gathered out to
        every agent."""
        c, e = self.config, self.endowment  # E, or [N] per seat
        n = c.num_agents
        p = self._packer
        rnd = self.round
        p.set_scalars(rnd / c.rounds, float(self.stage), float(rnd == 0))
        last = torch.div(self.last_contribution, e, out=p.block("last"))  # [B, N] fractions
        torch.div(self.last_payoff, c.multiplier * self._top_endowment, out=p.block("payoff"))
        total = torch.mm(last, self._ones, out=self._sum)  # [B, 1]
        others = torch.sub(total, last, out=self._others)  # [B, N] others' total fraction
        torch.div(others, n - 1, out=p.block("others_mean"))
        if self.current_contribution is not self._src_current:  # unchanged in one-stage rounds
            torch.div(self.current_contribution, e, out=p.block("current"))
            self._src_current = self.current_contribution
        if self.pipeline.obs_dim:
            # each mechanism's [B, N, w] straight into its columns of the block, not through
            # the pipeline's concatenation (a [B, N, m] copy more, slow on narrow rows)
            block = p.block("mechanisms").unflatten(1, (n, -1))  # [B, N, m] view of src
            start = 0
            for mech in self.pipeline:
                if width := mech.obs_dim:
                    block[..., start : start + width].copy_(mech.observation())
                    start += width
        return p.gather(out=self._recycler.empty((self.batch_size, n * self.layout.size)))


def egocentric_to_absolute(points: Tensor) -> Tensor:
    """[B, N, N-1] points per other agent (next agent first) -> [B, N, N] points i -> j."""
    b, n, _ = points.shape
    i = torch.arange(n, device=points.device)
    j = (i[:, None] + 1 + torch.arange(n - 1, device=points.device)[None, :]) % n  # [N, N-1]
    out = torch.zeros(b, n, n, dtype=points.dtype, device=points.device)
    out.scatter_(2, j.expand(b, -1, -1), points)
    return out
