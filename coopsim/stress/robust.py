"""A planner that designs for unseen agents: trained against a mixture of populations.

With ``[planner] populations = [...]`` the training batch is split. The first ``own_share``
of the worlds keep the scenario's population, and its learners learn there as ever; every
other world draws, at each episode's start, one of the named populations (scripted mixes, a
run's trained seats, mixtures), its seats drawn by the population's shares. The planner
decides and is paid in all of them, so it is paid for rules that hold across the populations
and not only for the one its learners settle into. Worlds that come in groups (copies for the
planner's group baseline, or a paired objective's twins) draw one population per group.

:func:`trainer_for` picks this trainer for such a scenario and the plain one otherwise; what
it saves is the plain trainer's state, so runs of it are evaluated, resumed and stressed like
any other.
"""

from __future__ import annotations

import torch
from torch import Tensor

from coopsim.agents.mixture import SeatTable, draw_table
from coopsim.agents.population import Population
from coopsim.builder import make_world
from coopsim.config import PAIRED_OBJECTIVES
from coopsim.credit import PlannerCredit
from coopsim.rollout_buffer import RolloutStorage
from coopsim.scenario import Scenario
from coopsim.stress.members import member_seats
from coopsim.stress.objective import aggregate, robust_rewards, tail_alpha
from coopsim.stress.populations import load_population
from coopsim.train import Trainer

#: own_share when a scenario names populations but no share.
OWN_SHARE = 0.5


def trainer_for(scenario: Scenario) -> type[Trainer]:
    """:class:`MixtureTrainer` where the planner names populations, else :class:`Trainer`."""
    planner = scenario.planner
    return MixtureTrainer if planner is not None and planner.populations else Trainer


class MixtureTrainer(Trainer):
    """:class:`~coopsim.train.Trainer` whose worlds past ``own`` play drawn populations."""

    def __init__(self, scenario: Scenario, **kwargs):
        super().__init__(scenario, **kwargs)
        pc = scenario.planner
        b, spec = self.world.batch_size, self.world.spec
        self.unit = pc.group_size * (2 if pc.objective in PAIRED_OBJECTIVES else 1)
        self.own = round(b * (pc.own_share or OWN_SHARE) / self.unit) * self.unit  # worlds
        # the learners' rollouts cover the scenario's own worlds only
        self.storage = [
            RolloutStorage(
                self.steps, self.own, len(idx), spec.obs_dim, len(spec.action_nvec), self.device
            )
            if s is not None
            else None
            for (_, idx), s in zip(self.groups, self.storage)
        ]
        self.mixes: list[tuple[list[int], list[float]]] = []  # member indices, shares
        members: list[Population] = []
        for name in pc.populations:
            config = load_population(name)
            found = member_seats(config, make_world(scenario, 1, self.device))
            self.mixes.append(
                (
                    list(range(len(members), len(members) + len(found))),
                    [m.share for m in config.members],
                )
            )
            members += found
        self.members = members
        self.mix_gen = torch.Generator().manual_seed(self.seed * 7_919 + 31)
        self.others = SeatTable(
            members, torch.zeros(b - self.own, spec.num_agents, dtype=torch.long)
        )
        # [B] which population each world plays: 0 the scenario's own, 1 + k the k-th named
        self.world_population = torch.zeros(b, dtype=torch.long, device=self.device)
        self.robust_objective, self.cvar_alpha = pc.robust_objective, tail_alpha(pc)
        self.robust_values: list[Tensor] = []  # each closed period's robust objective, for the log
        self._aversion: Tensor | None = None  # [B, N, 2] how each seat votes, set by draw

    def draw(self) -> Tensor:
        """[B - own, N] member of each seat of each mixture world, one population per group."""
        groups = (self.world.batch_size - self.own) // self.unit
        n = self.world.spec.num_agents
        which = torch.randint(len(self.mixes), (groups,), generator=self.mix_gen)  # [G]
        self.world_population[self.own :] = 1 + which.repeat_interleave(self.unit).to(self.device)
        table = torch.zeros(groups, n, dtype=torch.long)
        for k, (index, shares) in enumerate(self.mixes):
            chosen = (which == k).nonzero().squeeze(1)
            if chosen.numel():
                drawn = draw_table(shares, chosen.numel(), n, self.mix_gen)  # [g, N]
                table[chosen] = torch.tensor(index)[drawn]
        table = table.repeat_interleave(self.unit, 0)
        drawn = SeatTable(self.members, table).aversion()  # [B - own, N, 2] or None
        if drawn is None:
            self._aversion = None
        else:  # the scenario's own seats vote on their own coin
            self._aversion = torch.zeros(self.world.batch_size, n, 2, device=self.device)
            self._aversion[self.own :] = drawn.to(self.device)
        return table

    def act(self, t: int, obs: Tensor) -> Tensor:
        """The scenario's groups in the own worlds (learners storing step t), the drawn
        populations in the rest; a new draw at every episode's start."""
        world, own = self.world, self.own
        if t % world.spec.horizon == 0:
            self.others.table = self.draw()
        b, n, h = world.batch_size, world.spec.num_agents, len(world.spec.action_nvec)
        actions = torch.zeros(b, n, h, dtype=torch.long, device=self.device)
        mask = world.action_mask()  # [B, N, A] or None
        active = world.active_heads()  # [H]
        mine = obs[:own]
        for (policy, _), seats, storage in zip(self.groups, self.seats, self.storage):
            seat_obs = mine[:, seats]
            seat_mask = None if mask is None else mask[:own, seats]
            if storage is None:
                a = policy.act(seat_obs, world.gen, seat_mask)
            else:
                a, logp, value = policy.step(seat_obs, seat_mask, active)
                storage.add(t, seat_obs, a, logp, value, seat_mask)
                storage.active[t] = active
            actions[:own, seats] = a
        rest = None if mask is None else mask[own:]
        actions[own:] = self.others.act(obs[own:], world.gen, rest)
        return actions

    def voter_aversion(self) -> Tensor | None:
        """[B, N, 2] the Fehr-Schmidt (alpha, beta) each seat votes by in this episode's draw
        (zeros in the scenario's own worlds), None where no drawn member votes by it."""
        return self._aversion

    def record(self, t: int, st) -> None:
        """What step t paid each learning group in the own worlds, and whether it ended."""
        for (policy, idx), storage in zip(self.groups, self.storage):
            if storage is not None:
                storage.rewards[t] = st.reward[: self.own, idx] * policy.config.reward_scale
                storage.dones[t] = st.done[: self.own].float()

    def planner_reward(self, paid: Tensor, credit: PlannerCredit) -> Tensor:
        """``paid`` as is for the 'mean' objective; for 'worst' and 'cvar', each world's
        reward less its population's mean, weighted by its population's weight in the robust
        objective (:func:`~coopsim.stress.objective.robust_rewards`, the weights from the
        period's objectives before any group baseline): the planner follows its gradient."""
        if self.robust_objective == "mean":
            return paid
        objective = credit.objectives[-1]  # [B], or [B/2] (the planner's worlds) if paired
        population = self.world_population[0::2] if credit.paired else self.world_population
        p = 1 + len(self.mixes)
        args = (objective, population, p, self.robust_objective, self.cvar_alpha)
        self.robust_values.append(aggregate(*args))
        return robust_rewards(paid, *args)

    def update_planner(self, credit: PlannerCredit, cap: float) -> dict[str, float]:
        """The plain trainer's planner update; its log adds the robust objective averaged over
        the iteration's periods (for 'worst' and 'cvar')."""
        row = super().update_planner(credit, cap)
        if self.robust_values:
            row["robust_objective"] = float(torch.stack(self.robust_values).mean())
            self.robust_values = []
        return row
