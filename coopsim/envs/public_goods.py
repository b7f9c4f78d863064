"""The repeated linear public-goods game, batched.

Each round every agent holds an endowment E and contributes c_i of it; the pot is multiplied by
r and shared equally, so agent i earns ``E - c_i + (r/N) * sum_j c_j``. With the marginal per
capita return r/N below 1 and r above 1, contributing nothing is dominant while full
contribution is socially optimal: the social dilemma. Defaults are Fehr & Gaechter's setting
(N=4, E=20, r=1.6, 10 rounds).

Where the mechanism pipeline has a sanction stage (peer punishment), each round takes two steps:
contributions, then sanctions, with the round's contributions visible in between.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from coopsim.envs.base import Step, World, WorldSpec
from coopsim.envs.observation import ObsLayout, egocentric
from coopsim.schema import param
from mechanisms.base import Pipeline, RoundContext


@dataclass
class PublicGoodsConfig:
    kind: str = param("public_goods", help="World type", choices=("public_goods",))
    num_agents: int = param(4, help="Group size N", ge=2, le=64)
    endowment: float = param(20.0, help="Endowment E each agent receives every round", gt=0)
    multiplier: float = param(1.6, help="Multiplier r applied to the pot (MPCR = r/N)", gt=0)
    rounds: int = param(10, help="Rounds per episode T", ge=1, le=10_000)
    levels: int = param(
        21, help="Number of contribution levels, evenly spaced from 0 to E", ge=2, le=1001
    )


class PublicGoodsWorld(World):
    kind = "public_goods"

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
        self._unit = config.endowment / (config.levels - 1)  # currency per contribution level
        self._t = 0
        self.reset(seed=0)

    # -- state ----------------------------------------------------------------------------
    def reset(self, seed: int | None = None) -> Tensor:
        b, n, dev = self.batch_size, self.config.num_agents, self.device
        self.gen = self.make_generator(seed)
        self._t = 0
        self.last_contribution = torch.zeros(b, n, device=dev)  # [B, N] currency
        self.last_payoff = torch.zeros(b, n, device=dev)  # [B, N] net payoff last round
        self.current_contribution = torch.zeros(b, n, device=dev)  # [B, N] in sanction stage
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

    def social_optimum(self) -> float:
        c = self.config
        return c.num_agents * c.multiplier * c.endowment * c.rounds

    # -- dynamics -------------------------------------------------------------------------
    def step(self, actions: Tensor) -> Step:
        c, n = self.config, self.config.num_agents
        if self.stage == 0:
            contribution = actions[..., 0].float() * self._unit  # [B, N]
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

        total = contribution.sum(-1, keepdim=True)  # [B, 1]
        gross = c.endowment - contribution + c.multiplier / n * total  # [B, N]
        ctx = RoundContext(
            gross=gross,
            income=gross,
            round=self.round,
            rounds=c.rounds,
            contributions=contribution,
            endowment=c.endowment,
            multiplier=c.multiplier,
            punishment=punishment,
        )
        flows = self.pipeline.apply(ctx)
        info = {"contribution": contribution, "gross": gross}
        for label, flow in flows.items():
            info[f"transfer_{label}"] = flow.transfer
        info["net"] = ctx.net
        if punishment is not None:
            info["punishment_given"] = punishment.sum(-1).float()
            info["punishment_received"] = punishment.sum(-2).float()
        self.last_contribution = contribution
        self.last_payoff = ctx.net
        self.current_contribution = torch.zeros_like(contribution)
        self._t += 1
        return Step(self._observe(), ctx.net, self._done(), info, round_end=True, flows=flows)

    def _done(self) -> Tensor:
        return torch.full((self.batch_size,), self._t >= self.spec.horizon, device=self.device)

    def _observe(self) -> Tensor:
        c, e = self.config, self.config.endowment
        n = c.num_agents
        last = self.last_contribution / e  # [B, N] fraction of endowment
        others_mean = (last.sum(-1, keepdim=True) - last) / (n - 1)
        b = self.batch_size
        return self.layout.pack(
            b,
            n,
            self.device,
            round_progress=self.round / c.rounds,
            stage=float(self.stage),
            first_round=float(self.round == 0),
            own_last_contribution=last,
            own_last_payoff=self.last_payoff / (c.multiplier * e),
            others_last_mean_contribution=others_mean,
            last_contributions=egocentric(last),
            current_contributions=egocentric(self.current_contribution / e),
            mechanisms=self.pipeline.observation(b, n, self.device),
        )


def egocentric_to_absolute(points: Tensor) -> Tensor:
    """[B, N, N-1] points per other agent (next agent first) -> [B, N, N] points i -> j."""
    b, n, _ = points.shape
    i = torch.arange(n, device=points.device)
    j = (i[:, None] + 1 + torch.arange(n - 1, device=points.device)[None, :]) % n  # [N, N-1]
    out = torch.zeros(b, n, n, dtype=points.dtype, device=points.device)
    out.scatter_(2, j.expand(b, -1, -1), points)
    return out
