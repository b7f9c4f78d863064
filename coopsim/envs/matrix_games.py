"""Iterated matrix games for 2 or N players: prisoner's dilemma, stag hunt, chicken.

Each agent chooses to cooperate (action 1) or defect (action 0). An N-player game is given by
two payoff lists indexed by k, the number of *other* cooperators: ``cooperate[k]`` and
``defect[k]``. For two players these are the familiar (S, R) and (P, T). Presets extend the
2-player table linearly in the share of other cooperators, which keeps each game's character
(dominance in the dilemma, two equilibria in the stag hunt and chicken) for any N.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from coopsim.envs.base import Step, World, WorldSpec
from coopsim.envs.observation import ObsLayout, egocentric, layout_bounds
from coopsim.schema import param
from mechanisms.base import MoneyBounds, Pipeline, RoundContext

# (R, S, T, P): reward for mutual cooperation, sucker's payoff, temptation, punishment.
PRESETS: dict[str, tuple[float, float, float, float]] = {
    "prisoners_dilemma": (3.0, 0.0, 5.0, 1.0),
    "stag_hunt": (4.0, 0.0, 3.0, 3.0),
    "chicken": (3.0, 1.0, 4.0, 0.0),
}


@dataclass
class MatrixGameConfig:
    kind: str = param("matrix_game", help="World type", choices=("matrix_game",))
    game: str = param(
        "prisoners_dilemma",
        help="Preset payoff table, or 'custom' to give cooperate/defect payoffs",
        choices=(*PRESETS, "custom"),
    )
    num_agents: int = param(2, help="Number of players N", ge=2, le=64)
    rounds: int = param(10, help="Rounds per episode", ge=1, le=100_000)
    # Each payoff within +-1e6: summed over 100,000 rounds and 64 players a total stays
    # below 1e13, its square in the inequality measures far inside float32's 3.4e38.
    cooperate: list[float] | None = param(
        None,
        help="Payoff to a cooperator when k = 0..N-1 others cooperate (custom game)",
        ge=-1e6,
        le=1e6,
    )
    defect: list[float] | None = param(
        None,
        help="Payoff to a defector when k = 0..N-1 others cooperate (custom game)",
        ge=-1e6,
        le=1e6,
    )

    def validate(self) -> None:
        if self.game == "custom":
            for name in ("cooperate", "defect"):
                table = getattr(self, name)
                if table is None or len(table) != self.num_agents:
                    raise ValueError(
                        f"a custom game needs '{name}' with num_agents = {self.num_agents} payoffs"
                    )
        elif self.cooperate is not None or self.defect is not None:
            raise ValueError("cooperate/defect payoffs are only for game = 'custom'")

    def payoff_tables(self) -> tuple[list[float], list[float]]:
        """(cooperate[k], defect[k]) for k = 0..N-1 other cooperators."""
        if self.game == "custom":
            return list(self.cooperate), list(self.defect)
        r, s, t, p = PRESETS[self.game]
        n = self.num_agents
        share = [k / (n - 1) for k in range(n)]
        return [s + (r - s) * x for x in share], [p + (t - p) * x for x in share]


class MatrixGameWorld(World):
    kind = "matrix_game"
    summary = "an N-player matrix game (prisoner's dilemma, stag hunt)"
    info_keys = ("contribution", "gross", "net")

    def __init__(
        self,
        config: MatrixGameConfig,
        pipeline: Pipeline | None = None,
        batch_size: int = 1,
        device: str | torch.device = "cpu",
    ):
        self.config = config
        self.pipeline = pipeline or Pipeline([])
        if self.pipeline.needs_sanction_stage:
            raise ValueError("matrix games do not support a sanction stage")
        self.batch_size = batch_size
        self.device = torch.device(device)
        n = config.num_agents
        coop, defect = config.payoff_tables()
        self.coop_table = torch.tensor(coop, dtype=torch.float32, device=self.device)  # [N]
        self.defect_table = torch.tensor(defect, dtype=torch.float32, device=self.device)  # [N]
        self.scale = max(map(abs, coop + defect)) or 1.0
        self.layout = ObsLayout(
            [
                ("round_progress", 1),
                ("first_round", 1),
                ("own_last_contribution", 1),
                ("own_last_payoff", 1),
                ("others_last_mean_contribution", 1),
                ("last_contributions", n),
                ("mechanisms", self.pipeline.obs_dim),
            ]
        )
        self.spec = WorldSpec(
            num_agents=n,
            obs_dim=self.layout.size,
            action_nvec=(2,) + self.pipeline.action_heads(),
            horizon=config.rounds,
            obs_fields=self.layout.slices,
            head_names=("cooperate",),
        )
        self._t = 0
        self.reset(seed=0)

    def reset(self, seed: int | None = None) -> Tensor:
        b, n = self.batch_size, self.config.num_agents
        self.gen = self.make_generator(seed)
        self._t = 0
        self.last_action = torch.zeros(b, n, device=self.device)  # [B, N] 1 = cooperated
        self.last_payoff = torch.zeros(b, n, device=self.device)  # [B, N]
        self.pipeline.reset()
        return self._observe()

    def observation_bounds(self) -> tuple[Tensor, Tensor]:
        """Shares and indicators lie in [0, 1]; a payoff is a table entry moved by at most the
        pipeline's transfer bound, observed per the table's largest |entry|."""
        c = self.config
        coop, defect = c.payoff_tables()
        lo, hi = min(coop + defect), max(coop + defect)
        money = MoneyBounds(max(abs(lo), abs(hi)), max(hi, 0.0), c.rounds, c.num_agents)
        moved = self.pipeline.transfer_bound(money)
        return layout_bounds(
            self.layout,
            {
                **dict.fromkeys(self.layout.slices, (0.0, 1.0)),
                "own_last_payoff": (
                    min(lo - moved, 0.0) / self.scale,
                    max(hi + moved, 0.0) / self.scale,
                ),
                "mechanisms": self.pipeline.observation_bounds(money),
            },
        )

    def payoffs(self, cooperate: Tensor) -> Tensor:
        """[B, N] payoff of each agent given who cooperates ([B, N] 0/1)."""
        others = (cooperate.sum(-1, keepdim=True) - cooperate).long()  # [B, N]
        return torch.where(cooperate > 0, self.coop_table[others], self.defect_table[others])

    def round_metrics(self, info: dict[str, Tensor]) -> dict[str, Tensor]:
        """Who cooperated this round (a cooperation is a whole endowment of 1)."""
        return {"contribution_rate": info["contribution"] / self.endowment}

    def social_optimum(self) -> float:
        n = self.config.num_agents
        coop, defect = self.config.payoff_tables()
        best = max(
            k * coop[k - 1] + (n - k) * defect[k] if k < n else n * coop[n - 1]
            for k in range(n + 1)
        )
        return best * self.config.rounds

    def step(self, actions: Tensor) -> Step:
        coop = actions[..., 0].float()  # [B, N]
        gross = self.payoffs(coop)
        ctx = RoundContext(
            gross=gross,
            income=gross,
            round=self._t,
            rounds=self.config.rounds,
            contributions=coop,
            endowment=1.0,
        )
        flows = self.pipeline.apply(ctx)
        info = {"contribution": coop, "gross": gross}
        for label, flow in flows.items():
            info[f"transfer_{label}"] = flow.transfer
        info["net"] = ctx.net
        self.last_action, self.last_payoff = coop, ctx.net
        self._t += 1
        done = torch.full((self.batch_size,), self._t >= self.spec.horizon, device=self.device)
        return Step(self._observe(), ctx.net, done, info, round_end=True, flows=flows)

    def _observe(self) -> Tensor:
        n, b = self.config.num_agents, self.batch_size
        last = self.last_action
        return self.layout.pack(
            b,
            n,
            self.device,
            round_progress=self._t / self.config.rounds,
            first_round=float(self._t == 0),
            own_last_contribution=last,
            own_last_payoff=self.last_payoff / self.scale,
            others_last_mean_contribution=(last.sum(-1, keepdim=True) - last) / (n - 1),
            last_contributions=egocentric(last),
            mechanisms=self.pipeline.observation(b, n, self.device),
        )
