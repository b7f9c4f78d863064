"""Two-level training: agents and the planner learn together, each on its own cadence.

An iteration plays ``episodes_per_iteration`` episodes in each of B worlds (lock-step, so one
rollout is [T, B, n] tensors on the world's device), then updates every learning group of the
population by PPO, and every ``planner.update_every`` iterations updates the planner on the
social objective it earned. Iterations start on an episode boundary and every episode's seed is
derived from (seed, iteration, episode), so a run resumed from a checkpoint continues exactly as
the uninterrupted run would have.

The default schedule is the AI Economist's curriculum (Zheng et al. 2022):

* phase 1 (``planner.phase1_iterations``): no tax; the agents' labour cost is warmed up from 0
  to its full value over ``training.labour_warmup`` iterations, so agents first learn to work;
* phase 2: the planner acts and learns, with its maximum marginal rate annealed from
  ``planner.initial_max_rate`` up to 1 over ``planner.anneal_iterations`` iterations.

A planner's reward for a tax period varies far more with the world drawn (who is skilled,
where the wood is) than with its rates. With ``planner.group_size`` G > 1 the B worlds of an
episode are B/G groups of G copies (:meth:`World.replicate`) and each decision is paid its
objective minus its group's mean: the copies differ only by their rates and what agents then
did, a common-random-numbers baseline the critic alone cannot give.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch import Tensor

from coopsim.agents.planner import Planner, social_objective
from coopsim.agents.population import Population
from coopsim.agents.ppo import PPOConfig, PPOLearner, Rollout, entropy_coef
from coopsim.schema import param

if TYPE_CHECKING:
    from coopsim.evaluate import Evaluation


@dataclass
class TrainingConfig(PPOConfig):
    iterations: int = param(100, help="Training iterations (each: rollout, then update)", ge=1)
    num_worlds: int = param(64, help="Worlds B stepped in parallel during training", ge=1)
    episodes_per_iteration: int = param(1, help="Episodes per world per iteration", ge=1)
    seed: int = param(0, help="Seed of the networks, the worlds and the sampling", ge=0)
    device: str = param("cpu", help="Torch device to train on", choices=("cpu", "cuda", "auto"))
    checkpoint_every: int = param(10, help="Iterations between checkpoints", ge=1)
    labour_warmup: int = param(
        0,
        help="Iterations over which the world's labour cost rises from 0 to full (0: no "
        "warm-up); agents that first learn to work keep working once work costs",
        ge=0,
    )


@dataclass
class LearnerBuffer:
    """Per-step records of one learning group, stacked into a :class:`Rollout` at the end."""

    obs: list
    actions: list
    logp: list
    values: list
    rewards: list
    masks: list


class Trainer:
    """Owns the training world, the population's learners and the planner."""

    def __init__(
        self,
        scenario,
        *,
        seed: int | None = None,
        device: str | None = None,
        iterations: int | None = None,
    ):
        from coopsim.scenario import (
            check_planner_fits,
            make_population,
            make_world,
            resolve_device,
        )

        self.scenario = scenario
        cfg = scenario.training or TrainingConfig()
        self.config = cfg
        self.iterations = int(iterations or cfg.iterations)
        self.seed = cfg.seed if seed is None else int(seed)
        self.device = resolve_device(device or cfg.device)
        self.world = make_world(scenario, cfg.num_worlds, self.device)
        self.population: Population = make_population(scenario, self.world, seed=self.seed)
        self.learners: list[tuple[PPOLearner, Tensor]] = [
            (p, idx.to(self.device)) for p, idx in self.population.groups if p.learns
        ]
        self.planner: Planner | None = None
        self.tax = None
        if scenario.planner is not None:
            pc = scenario.planner
            self.tax = find_mechanism(self.world, pc.mechanism)
            # Scenarios are checked on load; this catches one edited in code since (the
            # benchmarks replace budgets and planner settings on loaded scenarios).
            check_planner_fits(pc, scenario.world.kind, scenario.mechanisms, cfg, scenario.source)
            self.planner = Planner(
                pc,
                self.world.spec.num_agents,
                self.tax.num_brackets,
                self.iterations,
                seed=self.seed,
                device=self.device,
                ppo=cfg,
            )
        self.iteration = 0
        self.agent_steps = 0
        self.planner_obs: Tensor | None = None  # [B, 1, O] what the planner last decided on

    # -- curriculum ---------------------------------------------------------------------
    def apply_curriculum(self) -> float | None:
        """Set labour-cost warm-up and the planner's cap for this iteration; returns the cap."""
        warm = getattr(self.world, "set_labour_scale", None)
        if warm is not None:
            ramp = self.config.labour_warmup
            warm(1.0 if ramp == 0 else min(1.0, self.iteration / ramp))
        if self.planner is None:
            return None
        cap = self.planner.cap_at(self.iteration)
        if cap is None:
            self.tax.set_rates(torch.zeros(self.tax.num_brackets, device=self.device))
        else:
            self.planner.set_cap(cap)
        return cap

    # -- one iteration --------------------------------------------------------------------
    def train_iteration(self) -> dict[str, float]:
        """Roll out, update; returns this iteration's row of metrics."""
        start = time.perf_counter()
        cfg, world = self.config, self.world
        b, n = world.batch_size, world.spec.num_agents
        cap = self.apply_curriculum()
        planner_on = cap is not None
        bufs = [LearnerBuffer([], [], [], [], [], []) for _ in self.learners]
        dones, actives = [], []
        p_obs, p_act, p_logp, p_val, p_rew, p_done = [], [], [], [], [], []
        coin = torch.zeros(b, n, device=self.device)  # [B, N] this planner period
        util = torch.zeros(b, n, device=self.device)  # [B, N]
        income = torch.zeros(b, n, device=self.device)  # [B, N] gross income, last period
        period_income = torch.zeros(b, n, device=self.device)
        stats = {"contribution": 0.0, "rounds": 0, "reward": torch.zeros(n, device=self.device)}
        objectives = []
        steps_in_period = 0
        period = self.planner.config.period if self.planner else 1
        # Worlds that can re-observe without stepping show agents the planner's new rates in
        # the same step (a one-step economy would otherwise never show them).
        refresh = getattr(world, "observe", None)
        for ep in range(cfg.episodes_per_iteration):
            obs = world.reset(seed=self.episode_seed(ep))
            group = self.planner.config.group_size if planner_on else 1
            if group > 1:  # worlds b, b+1, ... of a group start as copies of the first
                obs = world.replicate(torch.arange(b, device=self.device) // group * group)
            # a new world: the planner's first decision sees no income yet, not another world's
            income = torch.zeros_like(income)
            while True:
                if planner_on and steps_in_period == 0:
                    pobs = self.planner.observe(income, self.tax.rates)
                    self.planner_obs = pobs
                    a, lp, v = self.planner.learner.step(pobs)
                    self.tax.set_rates(self.planner.rates_of(a))
                    p_obs.append(pobs), p_act.append(a), p_logp.append(lp), p_val.append(v)
                    if refresh is not None:  # agents act on the rates just set, not the last
                        obs = refresh()
                actions = torch.zeros(
                    b, n, len(world.spec.action_nvec), dtype=torch.long, device=self.device
                )
                learner_idx = 0
                mask = world.action_mask()  # [B, N, A] or None
                for policy, idx in self.population.groups:
                    idx = idx.to(self.device)
                    seat_mask = None if mask is None else mask[:, idx]
                    if policy.learns:
                        a, lp, v = policy.step(obs[:, idx], seat_mask)
                        buf = bufs[learner_idx]
                        buf.obs.append(obs[:, idx]), buf.actions.append(a)
                        buf.logp.append(lp), buf.values.append(v)
                        if seat_mask is not None:
                            buf.masks.append(seat_mask)
                        learner_idx += 1
                    else:
                        a = policy.act(obs[:, idx], world.gen, seat_mask)
                    actions[:, idx] = a
                actives.append(world.active_heads())
                st = world.step(actions)
                for buf, (policy, idx) in zip(bufs, self.learners):
                    buf.rewards.append(st.reward[:, idx] * policy.config.reward_scale)
                dones.append(st.done.float())
                stats["reward"] += st.reward.mean(0)
                if st.round_end:
                    net = st.info.get("net", st.reward)
                    coin += net
                    util += st.reward  # rewards are utility increments in every world
                    period_income += st.info.get("income", st.info.get("gross", net))
                    if "contribution" in st.info:
                        endow = float(getattr(self.scenario.world, "endowment", 1.0))
                        stats["contribution"] += st.info["contribution"] / endow
                        stats["rounds"] += 1
                steps_in_period += 1
                done = bool(st.done[0])
                if steps_in_period == period or done:
                    if planner_on:
                        obj = social_objective(
                            self.planner.config.objective, coin, util, self.planner.config.weights
                        )
                        objectives.append(obj)
                        if group > 1:  # against the mean of the copies of the same world
                            obj = obj - obj.view(-1, group).mean(1).repeat_interleave(group)
                        p_rew.append(self.planner.scaled(obj)[:, None])
                        p_done.append(st.done.float())
                    income = period_income
                    period_income = torch.zeros_like(income)
                    coin, util = torch.zeros_like(coin), torch.zeros_like(util)
                    steps_in_period = 0
                obs = st.obs
                if done:
                    break

        t_len = len(dones)
        self.agent_steps += t_len * b * n
        row: dict[str, float] = {"iteration": self.iteration}
        ent = entropy_coef(cfg, self.iteration, self.iterations)
        done_t = torch.stack(dones)  # [T, B]
        active_t = torch.stack(actives)  # [T, H]
        for k, (buf, (policy, idx)) in enumerate(zip(bufs, self.learners)):
            ro = Rollout(
                obs=torch.stack(buf.obs),
                actions=torch.stack(buf.actions),
                logp=torch.stack(buf.logp),
                values=torch.stack(buf.values),
                rewards=torch.stack(buf.rewards),
                dones=done_t,
                active=active_t,
                next_value=torch.zeros(b, len(idx), device=self.device),  # episodes ended
                mask=torch.stack(buf.masks) if buf.masks else None,
            )
            prefix = policy.name if len(self.learners) > 1 else "agents"
            for key, val in policy.update(ro, ent).items():
                row[f"{prefix}_{key}"] = val
            row[f"{prefix}_return"] = float(ro.rewards.sum(0).mean()) / (
                policy.config.reward_scale * cfg.episodes_per_iteration
            )
            del k
        if stats["rounds"]:
            share = stats["contribution"] / stats["rounds"]  # [B, N]
            row["contribution_rate"] = float(share.mean())
            learner_seats = torch.cat([idx for _, idx in self.learners]) if self.learners else None
            if learner_seats is not None:
                row["learner_contribution_rate"] = float(share[:, learner_seats].mean())
        row["mean_reward"] = float(stats["reward"].mean()) / t_len
        if planner_on:
            pr = Rollout(
                obs=torch.stack(p_obs),
                actions=torch.stack(p_act),
                logp=torch.stack(p_logp),
                values=torch.stack(p_val),
                rewards=torch.stack(p_rew),
                dones=torch.stack(p_done),
                active=torch.ones(
                    len(p_obs), self.tax.num_brackets, dtype=torch.bool, device=self.device
                ),
                next_value=torch.zeros(b, 1, device=self.device),
            )
            if self.iteration % self.planner.config.update_every == 0:
                pent = entropy_coef(self.planner.learner.config, self.iteration, self.iterations)
                for key, val in self.planner.learner.update(pr, pent).items():
                    row[f"planner_{key}"] = val
            row["objective"] = float(torch.stack(objectives).mean())
            row["max_rate"] = float(cap)
            mean_rates = self.planner.rates_of(pr.actions.reshape(-1, 1, pr.actions.shape[-1]))
            for k, r in enumerate(mean_rates.mean(0).tolist()):
                row[f"rate_{k}"] = r
        elif self.planner is not None:
            row["max_rate"] = 0.0
        else:  # a schedule that learns on its own (Saez) is logged as a planner's would be
            for mech in world.pipeline:
                if getattr(mech, "saez", None) is not None:
                    for k, r in enumerate(mech.rates[0].tolist()):
                        row[f"rate_{k}"] = r
                    row["elasticity"] = mech.saez.elasticity
                    break
        row["agent_steps"] = float(self.agent_steps)
        row["seconds"] = time.perf_counter() - start
        self.iteration += 1
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
            "rates": self.tax.rates.clone() if self.tax is not None else None,
            # what the planner last decided on: its learned schedule is read off this state
            "planner_obs": self.planner_obs.clone() if self.planner_obs is not None else None,
            # what mechanisms learn on their own (a Saez schedule's incomes and estimates)
            "mechanisms": [
                m.state_dict() if hasattr(m, "state_dict") else None for m in self.world.pipeline
            ],
        }

    def load_state_dict(self, state: dict) -> None:
        self.iteration = int(state["iteration"])
        self.agent_steps = int(state["agent_steps"])
        for (p, _), s in zip(self.learners, state["learners"]):
            p.load_state_dict(s)
        if self.planner is not None and state["planner"] is not None:
            self.planner.load_state_dict(state["planner"])
        for mech, saved in zip(self.world.pipeline, state.get("mechanisms") or []):
            if saved is not None:
                mech.load_state_dict(saved)
        if self.tax is not None and state.get("rates") is not None:
            self.tax.set_rates(state["rates"])
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


def find_mechanism(world, kind: str):
    """The first mechanism of ``kind`` in the world's pipeline (the planner's lever)."""
    for mech in world.pipeline:
        if mech.kind == kind:
            return mech
    kinds = ", ".join(m.kind for m in world.pipeline) or "(none)"
    raise ValueError(f"planner.mechanism = {kind!r} is not in the pipeline (has: {kinds})")


def train(scenario, **kwargs) -> Trainer:
    """Train a scenario's learners (and planner) for its budget; returns the trainer."""
    trainer = Trainer(scenario, **{k: v for k, v in kwargs.items() if k != "progress"})
    trainer.train(progress=kwargs.get("progress", False))
    return trainer


@torch.no_grad()
def planner_schedule(trainer: Trainer) -> Tensor | None:
    """The planner's learned schedule [K], or None without a planner.

    Per bracket, the rate with the highest probability averaged over the planner's last
    decisions in the B training worlds: one schedule for every evaluation world, the one the
    planner prefers on the states it actually met (its observations carry last period's
    incomes and rates, which differ from world to world). Before the planner has acted
    (curriculum phase 1) the tax was held at zero, and so is this schedule.
    """
    planner = trainer.planner
    if planner is None:
        return None
    if planner.learner.logit_mask is None:  # never capped: the planner has not acted yet
        return torch.zeros(trainer.tax.num_brackets, device=trainer.device)
    obs = trainer.planner_obs
    if obs is None:  # no period seen yet (or an old checkpoint): as in the first period
        n = trainer.world.spec.num_agents
        incomes = torch.zeros(trainer.tax.rates.shape[0], n, device=trainer.device)
        obs = planner.observe(incomes, trainer.tax.rates)
    logits, _ = planner.learner.forward(obs)  # K heads of [B, 1, L]
    probs = torch.stack([lg.softmax(-1).mean((0, 1)) for lg in logits])  # [K, L]
    return planner.grid[probs.argmax(-1)]


def evaluate_trained(
    trainer: Trainer,
    seed: int | None = None,
    episodes: int | None = None,
    device: str | None = None,
) -> Evaluation:
    """Evaluate the trained population under the rules training arrived at.

    The evaluation world is built fresh (at the evaluation's batch size), so what training
    learned outside the population is carried into it first: the planner's learned schedule
    (:func:`planner_schedule`) is installed in its mechanism, and mechanisms that learn on
    their own (a Saez schedule) take over the training world's state. Runs on the training
    device unless told otherwise, where the learners' networks live.
    """
    from coopsim.evaluate import evaluate

    schedule = planner_schedule(trainer)

    def setup(world) -> None:
        for learned, fresh in zip(trainer.world.pipeline, world.pipeline):
            adopt = getattr(fresh, "adopt", None)
            if adopt is not None:
                adopt(learned)
        if schedule is not None:
            find_mechanism(world, trainer.planner.config.mechanism).set_rates(schedule)

    return evaluate(
        trainer.scenario,
        seed=seed,
        episodes=episodes,
        device=device or str(trainer.device),
        population=trainer.population,
        setup=setup,
    )
