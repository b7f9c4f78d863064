"""The public-goods world's step as it was before its observation was rebuilt, kept frozen.

Two uses: ``coopsim bench`` times it beside today's world in the same process (so a speed-up is
a ratio measured under one load, not two runs on a shared machine), and the tests step both
worlds with the same actions and require identical observations, rewards and infos, bit for
bit. Nothing else should use it: it is the yardstick, so it must not change.

It differs from :class:`~coopsim.envs.public_goods.PublicGoodsWorld` only in how a step is
computed (the dynamics, the observation and their buffers); the rules, bounds and every other
method are inherited.
"""

from __future__ import annotations

import torch
from torch import Tensor

from coopsim import scenario as sc
from coopsim.builder import make_pipeline
from coopsim.envs.base import Step, WorldSpec
from coopsim.envs.observation import (
    EGOCENTRIC,
    OWN,
    PER_AGENT,
    SCALAR,
    ObsLayout,
)
from coopsim.envs.public_goods import PublicGoodsConfig, PublicGoodsWorld, egocentric_to_absolute
from mechanisms.base import Pipeline, RoundContext


class EarlierGatherPacker:
    """Builds [B, N, size] observations with one ``torch.index_select`` from a compact source
    row: the world writes each distinct value once into a small per-world row ``src`` ([B, S])
    and a fixed index ([N * size]) copies it out to every agent's slots in one pass."""

    def __init__(
        self,
        layout: ObsLayout,
        fields: dict[str, tuple[str, str]],
        num_agents: int,
        batch_size: int,
        device: torch.device,
        source_widths: dict[str, int] | None = None,
    ):
        n = num_agents
        widths = dict(source_widths or {})  # PER_AGENT source -> per-agent width w
        self.layout = layout
        self.num_agents = n
        self.batch_size = batch_size
        self.scalars = [f for f, (how, _) in fields.items() if how == SCALAR]
        self.offsets: dict[str, int] = {name: i for i, name in enumerate(self.scalars)}
        self.widths: dict[str, int] = dict.fromkeys(self.scalars, 1)
        start = len(self.scalars)
        for name, (how, source) in fields.items():
            if how not in (SCALAR, OWN, EGOCENTRIC, PER_AGENT):
                raise ValueError(f"field {name!r}: unknown fill {how!r}")
            if how == SCALAR or source in self.offsets:
                continue
            width = n * widths.get(source, 1) if how == PER_AGENT else n
            self.offsets[source], self.widths[source] = start, width
            start += width
        self.source_size = start
        columns = torch.empty(n, layout.size, dtype=torch.long)  # [N, size] src column per slot
        agent = torch.arange(n)[:, None]  # [N, 1]
        for name, sl in layout.slices.items():
            how, source = fields[name]
            width = sl.stop - sl.start
            k = torch.arange(width)[None, :]  # [1, w]
            off = self.offsets[name if how == SCALAR else source]
            if how == SCALAR:
                cols = torch.full((n, 1), off)
            elif how == OWN:
                cols = off + agent
            elif how == EGOCENTRIC:
                cols = off + (agent + k) % n
            else:
                cols = off + agent * width + k
            columns[:, sl] = cols
        self.index = columns.reshape(-1).to(device)  # [N * size], the same for every world
        self.src = torch.zeros(batch_size, self.source_size, device=device)  # [B, S]
        self._scalar_rows: dict[tuple[float, ...], Tensor] = {}

    def block(self, source: str) -> Tensor:
        """The [B, width] view of ``src`` holding ``source``, to write into with ``out=``."""
        off = self.offsets[source]
        return self.src[:, off : off + self.widths[source]]

    def set_scalars(self, *values: float) -> None:
        """Write this step's scalar fields, in the order of the layout."""
        if self.scalars:
            vals = self._scalar_rows.get(values)
            if vals is None:
                if len(self._scalar_rows) >= 65_536:
                    self._scalar_rows.clear()
                vals = torch.tensor(values, dtype=self.src.dtype).to(self.src.device)
                self._scalar_rows[values] = vals  # [n_scalars]
            self.src[:, : len(self.scalars)].copy_(vals)

    def gather(self) -> Tensor:
        """A new [B, N, size] observation tensor from the current source rows."""
        out = torch.index_select(self.src, 1, self.index)  # [B, N * size]
        return out.view(self.batch_size, self.num_agents, self.layout.size)


class EarlierPublicGoodsWorld(PublicGoodsWorld):
    """The public-goods world with the step and observation it had before they were rebuilt
    (frozen: see the module's docstring)."""

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
        self._endowments = (
            torch.tensor(config.endowments, dtype=torch.float32, device=self.device)
            if config.endowments
            else None
        )  # [N] or None
        self._unit = (config.endowment if self._endowments is None else self._endowments) / (
            config.levels - 1
        )
        self._packer = EarlierGatherPacker(
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
        self._src_current: Tensor | None = None  # the current_contribution written into src
        self._t = 0
        self.reset(seed=0)

    def reset(self, seed: int | None = None) -> Tensor:
        b, n, dev = self.batch_size, self.config.num_agents, self.device
        self.gen = self.make_generator(seed)
        self._t = 0
        self.last_contribution = torch.zeros(b, n, device=dev)  # [B, N] currency
        self.last_payoff = torch.zeros(b, n, device=dev)  # [B, N] net payoff last round
        self.current_contribution = torch.zeros(b, n, device=dev)
        self._zero = self.current_contribution
        self._src_current = None
        self.pipeline.reset()
        return self._observe()

    def replicate(self, source: Tensor) -> Tensor:
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

    def step(self, actions: Tensor) -> Step:
        c, n = self.config, self.config.num_agents
        if self.stage == 0:
            contribution = torch.mul(actions[..., 0], self._unit)  # [B, N] float currency
            if contribution.dtype != torch.float32:
                contribution = contribution.float()
            if self.stages == 2:
                self.current_contribution = contribution
                self._t += 1
                zero = torch.zeros(self.batch_size, n, device=self.device)
                return Step(self._observe(), zero, self._done(), {})
            punishment = None
        else:
            contribution = self.current_contribution
            points = actions[..., 1:].long()  # [B, N, N-1] egocentric: next agent first
            punishment = egocentric_to_absolute(points)  # [B, N, N]

        total = torch.mm(contribution, self._ones)  # [B, 1]
        kept = torch.rsub(contribution, self.endowment)  # [B, N] e_i - c_i
        gross = kept.add_(total.mul_(c.multiplier / n))  # [B, N]
        info = {"contribution": contribution, "gross": gross}
        if len(self.pipeline):
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
        else:
            flows, net = {}, gross.clone()
        info["net"] = net
        if punishment is not None:
            info["punishment_given"] = punishment.sum(-1).float()
            info["punishment_received"] = punishment.sum(-2).float()
        self.last_contribution = contribution
        self.last_payoff = net
        self.current_contribution = self._zero
        self._t += 1
        return Step(self._observe(), net, self._done(), info, round_end=True, flows=flows)

    def _done(self) -> Tensor:
        return torch.full((self.batch_size,), self._t >= self.spec.horizon, device=self.device)

    def _observe(self) -> Tensor:
        c, e = self.config, self.endowment  # E, or [N] per seat
        n = c.num_agents
        p = self._packer
        rnd = self.round
        p.set_scalars(rnd / c.rounds, float(self.stage), float(rnd == 0))
        last = torch.div(self.last_contribution, e, out=p.block("last"))  # [B, N] fractions
        torch.div(self.last_payoff, c.multiplier * self._top_endowment, out=p.block("payoff"))
        others = torch.sub(torch.mm(last, self._ones), last)  # [B, N] others' total fraction
        torch.div(others, n - 1, out=p.block("others_mean"))
        if self.current_contribution is not self._src_current:
            torch.div(self.current_contribution, e, out=p.block("current"))
            self._src_current = self.current_contribution
        if self.pipeline.obs_dim:
            mech = self.pipeline.observation(self.batch_size, n, self.device)  # [B, N, m]
            p.block("mechanisms").unflatten(1, (n, -1)).copy_(mech)
        return p.gather()


def make_earlier_world(
    scenario: sc.Scenario, batch_size: int, device: str | torch.device = "cpu"
) -> EarlierPublicGoodsWorld:
    """A public-goods scenario's world as it stepped before, with its own mechanism pipeline."""
    if scenario.world.kind != "public_goods":
        raise ValueError(
            f"the earlier step is the public-goods world's, not {scenario.world.kind!r}"
        )
    device = torch.device(device)
    pipeline = make_pipeline(scenario, batch_size, device)
    return EarlierPublicGoodsWorld(scenario.world, pipeline, batch_size, device)
