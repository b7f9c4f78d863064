"""Two-level training: agents and the planner learn together, each on its own cadence.

An iteration reads like CleanRL's loop, in three steps:

1. **collect** (:meth:`Trainer.collect`): play ``episodes_per_iteration`` episodes in each of
   B worlds in lock-step into preallocated rollout storage (:mod:`coopsim.rollout_buffer`), [T, B, n]
   tensors on the world's device per learning group;
2. **credit**: the planner's books (:class:`~coopsim.credit.PlannerCredit`) say, as each of its
   tax periods closes, what the decision taken at its start earned against its group's mean;
3. **update**: PPO on every learning group's rollout, and every ``planner.update_every``
   iterations on the planner's decisions.

The row of metrics an iteration returns comes from the learners' updates and from hooks the
world and its mechanisms declare (:meth:`World.round_metrics`, a contribution rate;
:meth:`Mechanism.training_log`, a Saez schedule's rates), never from special cases here.
Iterations start on an episode boundary and every episode's seed is derived from (seed,
iteration, episode), so a run resumed from a checkpoint continues exactly as the uninterrupted
run would have.

The default schedule is the AI Economist's curriculum (Zheng et al. 2022):

* phase 1 (``planner.phase1_iterations``): no tax; the agents' labour cost is warmed up from 0
  to its full value over ``training.labour_warmup`` iterations, so agents first learn to work;
* phase 2: the planner acts and learns, with its maximum marginal rate annealed from
  ``planner.initial_max_rate`` up to 1 over ``planner.anneal_iterations`` iterations.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import torch
from torch import Tensor

from coopsim.agents.levers import Levers
from coopsim.agents.planner import Planner
from coopsim.agents.population import Population, seat_index
from coopsim.agents.ppo import PPOLearner, entropy_coef
from coopsim.builder import Built, build
from coopsim.config import Scenario
from coopsim.config.training import TrainingConfig
from coopsim.credit import PlannerCredit
from coopsim.envs.base import Step, World
from coopsim.evaluate import Evaluation, PlannerPlay, evaluate
from coopsim.rollout_buffer import RolloutStorage
from mechanisms import Mechanism

__all__ = [
    "Trainer",
    "TrainingConfig",
    "evaluate_trained",
    "find_mechanism",
    "planner_schedule",
    "train",
]


class Tally:
    """An iteration's mean reward, and the means of what the world logs per round
    (:meth:`World.round_metrics`: each over rounds and worlds, and over the learning seats)."""

    def __init__(self, world: World):
        self.world = world
        self.reward = torch.zeros(world.spec.num_agents, device=world.device)  # [N] summed
        self.steps = 0
        self.sums: dict[str, Tensor] = {}  # name -> [B, N] summed over rounds
        self.rounds = 0

    def add(self, st: Step) -> None:
        self.reward += st.reward.mean(0)
        self.steps += 1
        if not st.round_end:
            return
        numbers = self.world.round_metrics(st.info)
        for name, value in numbers.items():
            self.sums[name] = self.sums.get(name, 0.0) + value
        self.rounds += bool(numbers)

    def row(self, learner_seats: Tensor | None) -> dict[str, float]:
        row: dict[str, float] = {}
        for name, total in self.sums.items():
            mean = total / self.rounds  # [B, N]
            row[name] = float(mean.mean())
            if learner_seats is not None:
                row[f"learner_{name}"] = float(mean[:, learner_seats].mean())
        row["mean_reward"] = float(self.reward.mean()) / self.steps
        return row


class Trainer:
    """Owns the training world, the population's learners and the planner."""

    def __init__(
        self,
        scenario: Scenario,
        *,
        seed: int | None = None,
        device: str | torch.device | None = None,
        iterations: int | None = None,
        built: Built | None = None,
    ):
        """``built``: the scenario already built at ``training.num_worlds`` worlds with this
        seed's learners (:func:`coopsim.builder.build`); built here without it."""
        self.scenario = scenario
        cfg = scenario.training or TrainingConfig()
        self.config = cfg
        self.iterations = int(iterations or cfg.iterations)
        self.seed = cfg.seed if seed is None else int(seed)
        if built is None:
            built = build(scenario, cfg.num_worlds, device or cfg.device, seed=self.seed)
        self.built = built
        self.device = built.device
        self.world = world = built.world
        b, spec = world.batch_size, world.spec
        self.population: Population = built.population
        self.groups = [(p, idx.to(self.device)) for p, idx in self.population.groups]
        self.seats = [seat_index(idx) for _, idx in self.groups]  # slices where contiguous
        self.learners: list[tuple[PPOLearner, Tensor]] = [
            (p, idx) for p, idx in self.groups if p.learns
        ]
        # Rollout storage of every learning group (None for a scripted one), T steps long.
        self.steps = spec.horizon * cfg.episodes_per_iteration  # T
        self.storage = [
            RolloutStorage(
                self.steps, b, len(idx), spec.obs_dim, len(spec.action_nvec), self.device
            )
            if p.learns
            else None
            for p, idx in self.groups
        ]
        self.planner: Planner | None = None
        self.levers: Levers | None = built.levers  # the controls the planner sets
        # Paired objectives (votes): the planner's worlds are the even ones, each odd world
        # its twin under the baseline's controls [K]; None when every world is the planner's.
        self.baseline: Tensor | None = built.baseline
        if scenario.planner is not None:
            pc = scenario.planner
            k = self.levers.width
            self.planner = Planner(
                pc,
                spec.num_agents,
                k,
                self.iterations,
                seed=self.seed,
                device=self.device,
                ppo=cfg,
                low=self.levers.low,
                high=self.levers.high,
            )
            # one decision per period, the last one cut short by the episode's end
            decisions = -(-spec.horizon // pc.period) * cfg.episodes_per_iteration
            obs_dim = self.planner.spec.obs_dim
            deciding = b // 2 if self.baseline is not None else b  # worlds the planner rules
            self.planner_storage = RolloutStorage(decisions, deciding, 1, obs_dim, k, self.device)
        self.iteration = 0
        self.agent_steps = 0
        self.planner_obs: Tensor | None = None  # [B, 1, O] what the planner last decided on

    # -- curriculum ---------------------------------------------------------------------
    def apply_curriculum(self) -> float | None:
        """Set labour-cost warm-up and the planner's cap for this iteration; returns the cap
        (None while the planner is off)."""
        ramp = self.config.labour_warmup
        self.world.set_labour_scale(1.0 if ramp == 0 else min(1.0, self.iteration / ramp))
        if self.planner is None:
            return None
        cap = self.planner.cap_at(self.iteration)
        if cap is None:  # phase 1: every control at the low end of its range (no tax)
            self.levers.set(self.levers.low)
        else:
            self.planner.set_cap(cap)
        return cap

    # -- one iteration: collect -> credit -> update ---------------------------------------
    def train_iteration(self) -> dict[str, float]:
        """Collect (the planner credited as its periods close), update; returns this
        iteration's row of metrics."""
        start = time.perf_counter()
        cap = self.apply_curriculum()
        tally, credit = self.collect(planner_on=cap is not None)
        row: dict[str, float] = {"iteration": self.iteration}
        row.update(self.update_learners())
        seats = torch.cat([idx for _, idx in self.learners]) if self.learners else None
        row.update(tally.row(seats))
        if credit is not None:
            row.update(self.update_planner(credit, cap))
        elif self.planner is not None:
            row["max_rate"] = 0.0
        else:  # what mechanisms learn on their own (a Saez schedule), logged as a planner's
            row.update(self.world.pipeline.training_log())
        row["agent_steps"] = float(self.agent_steps)
        row["seconds"] = time.perf_counter() - start
        self.iteration += 1
        return row

    def collect(self, planner_on: bool) -> tuple[Tally, PlannerCredit | None]:
        """Play ``episodes_per_iteration`` episodes in every world into the rollout storage;
        returns the iteration's tally and the planner's credit (None while it is off)."""
        world, horizon = self.world, self.world.spec.horizon
        b, n = world.batch_size, world.spec.num_agents
        tally = Tally(world)
        credit = (
            PlannerCredit(self.planner.config, b, n, self.device, world.endowment)
            if planner_on
            else None
        )
        group = self.planner.config.group_size if planner_on else 1
        if planner_on and self.baseline is not None:
            group = 2  # each planner's world and its baseline twin start as copies
        t = decision = 0
        for ep in range(self.config.episodes_per_iteration):
            obs = world.reset(seed=self.episode_seed(ep))
            if group > 1:  # worlds b, b+1, ... of a group start as copies of the first
                obs = world.replicate(torch.arange(b, device=self.device) // group * group)
            if credit is not None:
                credit.new_episode()
            for step in range(horizon):
                if credit is not None and credit.decision_due:
                    obs = self.planner_decides(decision, credit.income, obs)
                st = world.step(self.act(t, obs))
                self.record(t, st)
                tally.add(st)
                if credit is not None:  # who sits where may change at an episode's start
                    credit.aversion = self.voter_aversion()
                if credit is not None and (paid := credit.add(st)) is not None:  # [B] or [B/2]
                    paid = self.planner_reward(paid, credit)
                    self.planner_storage.rewards[decision] = self.planner.scaled(paid)[:, None]
                    done = st.done if self.baseline is None else st.done[0::2]
                    self.planner_storage.dones[decision] = done.float()
                    decision += 1
                if bool(st.done[0]) != (step == horizon - 1):
                    raise RuntimeError(
                        f"a {world.kind!r} world's episode ended at step {step + 1}, "
                        f"but its spec.horizon is {horizon}"
                    )
                obs = st.obs
                t += 1
        if credit is not None and decision != self.planner_storage.steps:
            raise RuntimeError(
                f"the planner decided {decision} times, not {self.planner_storage.steps}"
            )
        self.agent_steps += t * b * n
        return tally, credit

    def voter_aversion(self) -> Tensor | None:
        """[B, N, 2] the Fehr-Schmidt (alpha, beta) each seat votes by, None where all vote on
        their own coin: the scenario's own seats do; a mixture's trainer overrides this."""
        return None

    def planner_reward(self, paid: Tensor, credit: PlannerCredit) -> Tensor:
        """What each of the planner's worlds is paid for the period just closed (``paid``:
        [B] or [B/2], the credit's reward); a trainer that weighs worlds differently (a
        mixture's robust objective) overrides this."""
        return paid

    def planner_decides(self, decision: int, income: Tensor, obs: Tensor) -> Tensor:
        """The planner sets its controls for the period starting now, having seen last
        period's ``income`` [B, N]; returns the agents' observation. Worlds that re-observe
        without stepping show the new rates at once (a one-step economy would otherwise never
        show them). With a paired objective it rules the even worlds, and each odd world
        keeps the baseline's controls."""
        controls = self.levers.get()  # [B, K]
        if self.baseline is None:
            pobs = self.planner.observe(income, controls)  # [B, 1, N + K + 1]
        else:
            pobs = self.planner.observe(income[0::2], controls[0::2])  # [B/2, 1, N + K + 1]
        self.planner_obs = pobs
        action, logp, value = self.planner.learner.step(pobs)
        chosen = self.planner.rates_of(action)  # [B or B/2, K]
        if self.baseline is not None:
            chosen = torch.stack([chosen, self.baseline.expand_as(chosen)], 1).flatten(0, 1)
        self.levers.set(chosen)
        self.planner_storage.add(decision, pobs, action, logp, value)
        fresh = self.world.observe()
        return obs if fresh is None else fresh

    def act(self, t: int, obs: Tensor) -> Tensor:
        """Every group's actions [B, N, H] on obs [B, N, O]; learners store theirs as step t."""
        world = self.world
        b, n, h = world.batch_size, world.spec.num_agents, len(world.spec.action_nvec)
        actions = torch.zeros(b, n, h, dtype=torch.long, device=self.device)
        mask = world.action_mask()  # [B, N, A] or None
        active = world.active_heads()  # [H] the heads that count at this step
        for (policy, _), seats, storage in zip(self.groups, self.seats, self.storage):
            seat_obs = obs[:, seats]  # a view where the seats are contiguous: no copy
            seat_mask = None if mask is None else mask[:, seats]
            if storage is None:
                a = policy.act(seat_obs, world.gen, seat_mask)
            else:
                a, logp, value = policy.step(seat_obs, seat_mask, active)
                storage.add(t, seat_obs, a, logp, value, seat_mask)
                storage.active[t] = active
            actions[:, seats] = a
        return actions

    def record(self, t: int, st: Step) -> None:
        """What step t paid each learning group (scaled for learning) and whether it ended."""
        for (policy, idx), storage in zip(self.groups, self.storage):
            if storage is not None:
                storage.rewards[t] = st.reward[:, idx] * policy.config.reward_scale
                storage.dones[t] = st.done.float()

    def update_learners(self) -> dict[str, float]:
        """PPO on every learning group's rollout; their losses and mean episode returns."""
        row: dict[str, float] = {}
        ent = entropy_coef(self.config, self.iteration, self.iterations)
        for (policy, _), storage in zip(self.groups, self.storage):
            if storage is None:
                continue
            rollout = storage.rollout()
            prefix = policy.name if len(self.learners) > 1 else "agents"
            for key, val in policy.update(rollout, ent).items():
                row[f"{prefix}_{key}"] = val
            row[f"{prefix}_return"] = float(rollout.rewards.sum(0).mean()) / (
                policy.config.reward_scale * self.config.episodes_per_iteration
            )
        return row

    def update_planner(self, credit: PlannerCredit, cap: float) -> dict[str, float]:
        """PPO on the planner's decisions (every ``update_every`` iterations); its log."""
        row: dict[str, float] = {}
        rollout = self.planner_storage.rollout()
        if self.iteration % self.planner.config.update_every == 0:
            learner = self.planner.learner
            ent = entropy_coef(learner.config, self.iteration, self.iterations)
            for key, val in learner.update(rollout, ent).items():
                row[f"planner_{key}"] = val
        row["objective"] = credit.mean_objective()
        row["max_rate"] = float(cap)
        chosen = rollout.actions.reshape(-1, 1, rollout.actions.shape[-1])  # [T*B, 1, K]
        for k, r in enumerate(self.planner.rates_of(chosen).mean(0).tolist()):
            row[f"rate_{k}"] = r
        return row

    def episode_seed(self, episode: int) -> int:
        return (self.seed * 1_000_003 + self.iteration * 1_009 + episode) % (2**62)

    # -- checkpoints ----------------------------------------------------------------------
    def state_dict(self) -> dict:
        return {
            "iteration": self.iteration,
            "agent_steps": self.agent_steps,
            "learners": [p.state_dict() for p, _ in self.learners],
            "planner": self.planner.state_dict() if self.planner else None,
            "rates": self.levers.get().clone() if self.levers is not None else None,
            # what the planner last decided on: its learned schedule is read off this state
            "planner_obs": self.planner_obs.clone() if self.planner_obs is not None else None,
            # what mechanisms learn on their own (a Saez schedule's incomes and estimates)
            "mechanisms": self.world.pipeline.state_dict(),
        }

    def load_state_dict(self, state: dict) -> None:
        self.iteration = int(state["iteration"])
        self.agent_steps = int(state["agent_steps"])
        for (p, _), s in zip(self.learners, state["learners"]):
            p.load_state_dict(s)
        if self.planner is not None and state["planner"] is not None:
            self.planner.load_state_dict(state["planner"])
        self.world.pipeline.load_state_dict(state.get("mechanisms") or [])
        if self.levers is not None and state.get("rates") is not None:
            self.levers.set(state["rates"])
        if state.get("planner_obs") is not None:
            self.planner_obs = state["planner_obs"].to(self.device)

    def train(
        self,
        on_iteration: Callable[[Trainer, dict[str, float]], None] | None = None,
        progress: bool = False,
    ) -> list[dict[str, float]]:
        """Run the remaining iterations; ``on_iteration`` sees each row (to log, checkpoint)."""
        rows = []
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=self.iterations, initial=self.iteration, desc="training", unit="it")
        while self.iteration < self.iterations:
            row = self.train_iteration()
            rows.append(row)
            if on_iteration is not None:
                on_iteration(self, row)
            if bar is not None:
                shown = {
                    k: f"{row[k]:.3g}"
                    for k in ("agents_return", "learner_contribution_rate", "objective", "max_rate")
                    if k in row
                }
                bar.set_postfix(shown)
                bar.update(1)
        if bar is not None:
            bar.close()
        return rows


def find_mechanism(world: World, kind: str) -> Mechanism:
    """The first mechanism of ``kind`` in the world's pipeline."""
    return world.pipeline.find(kind)


def train(scenario: Scenario, **kwargs) -> Trainer:
    """Train a scenario's learners (and planner) for its budget; returns the trainer."""
    trainer = Trainer(scenario, **{k: v for k, v in kwargs.items() if k != "progress"})
    trainer.train(progress=kwargs.get("progress", False))
    return trainer


@torch.no_grad()
def planner_schedule(trainer: Trainer) -> Tensor | None:
    """The planner's learned controls [K], or None without a planner.

    Per control, the value with the highest probability averaged over the planner's last
    decisions in the B training worlds: one schedule for every evaluation world, the one the
    planner prefers on the states it actually met (its observations carry last period's
    incomes and controls, which differ from world to world). Before the planner has acted
    (curriculum phase 1) every control was held at its low end (no tax), and so is this one.
    """
    planner = trainer.planner
    if planner is None:
        return None
    if planner.learner.logit_mask is None:  # never capped: the planner has not acted yet
        return trainer.levers.low.clone()
    obs = trainer.planner_obs
    if obs is None:  # no period seen yet (or an old checkpoint): as in the first period
        controls = trainer.levers.get()  # [B, K]
        incomes = torch.zeros(controls.shape[0], trainer.world.spec.num_agents)
        obs = planner.observe(incomes.to(trainer.device), controls)
    logits, _ = planner.learner.forward(obs)  # K heads of [B, 1, L]
    probs = torch.stack([lg.softmax(-1).mean((0, 1)) for lg in logits])  # [K, L]
    return planner.values_of(planner.grid[probs.argmax(-1)])


def evaluate_trained(
    trainer: Trainer,
    seed: int | None = None,
    episodes: int | None = None,
    device: str | None = None,
) -> Evaluation:
    """Evaluate the trained population under the rules training arrived at.

    The evaluation world is built fresh (at the evaluation's batch size), so what training
    learned outside the population is carried into it first: mechanisms that learn on their
    own (a Saez schedule) take over the training world's state, and the planner is played
    (:func:`planner_play`) or, by default, its learned schedule (:func:`planner_schedule`)
    installed for the whole evaluation. Runs on the training device unless told otherwise,
    where the learners' networks live.
    """
    play = planner_play(trainer)
    schedule = planner_schedule(trainer) if play is None else None

    def setup(world: World) -> None:
        world.pipeline.adopt(trainer.world.pipeline)
        if schedule is not None:
            Levers(world.pipeline, trainer.levers.targets).set(schedule)

    return evaluate(
        trainer.scenario,
        seed=seed,
        episodes=episodes,
        device=device or str(trainer.device),
        population=trainer.population,
        setup=setup,
        planner=play,
    )


def planner_play(trainer: Trainer) -> PlannerPlay | None:
    """How the evaluation plays the trained planner period by period, or None where it
    does not: without a planner, or with ``planner.evaluation = 'schedule'`` and no paired
    objective (the schedule is then installed once, as it always was).

    ``'replay'``: its policy decides every period from what it observes, taking its most
    likely controls (:meth:`Planner.greedy_rates`), deterministic given what it observes.
    ``'schedule'`` with a paired objective: the learned schedule in every planner world, the
    baseline's controls in its twin.
    """
    planner = trainer.planner
    if planner is None:
        return None
    acted = planner.learner.logit_mask is not None  # it left curriculum phase 1
    replays = planner.config.evaluation == "replay" and acted
    if not replays and trainer.baseline is None:
        return None
    schedule = planner_schedule(trainer)  # [K]

    def decide(income: Tensor, controls: Tensor) -> Tensor:
        if replays:
            return planner.greedy_rates(income, controls)  # [W, K]
        return schedule.to(controls).expand_as(controls)

    return PlannerPlay(
        config=planner.config,
        targets=trainer.levers.targets,
        decide=decide,
        mode="replay" if replays else "schedule",
        baseline=trainer.baseline,
    )
