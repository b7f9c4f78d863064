"""Evaluate a scenario's population: roll out many episodes at once and measure them.

All evaluation episodes run in parallel as the batch axis of one world, so evaluating 1000
episodes costs about as much as evaluating one. The result is tidy: one row per round x agent x
episode, and one row of metrics per episode.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch

from coopsim.agents.population import Population
from coopsim.envs import World
from coopsim.intervals import LEVEL, t_interval
from coopsim.measures import MEASURES, Outcome, measure_episodes
from coopsim.replay import Replay, ReplayRecorder
from coopsim.scenario import Scenario, make_population, make_world, resolve_device


@dataclass
class Evaluation:
    episodes: pd.DataFrame  # tidy: episode, round, agent, policy, then the world's variables
    episode_metrics: pd.DataFrame  # one row per episode, one column per metric
    summary: dict[str, dict[str, float]]  # metric -> mean, ci_low, ci_high, std, n
    replay: Replay | None = None  # world 0's first episode, for worlds with a map


def rollout(
    world: World, population: Population, seed: int, replay: ReplayRecorder | None = None
) -> dict[str, torch.Tensor]:
    """Play one episode in every world; returns each recorded variable as [R, B, N].

    ``replay``, where given, keeps world 0's state as the episode goes."""
    obs = world.reset(seed=seed)
    if replay is not None:
        replay.capture()
    records: dict[str, list[torch.Tensor]] = {}
    while True:
        step = world.step(population.act(obs, world.gen, world.action_mask()))
        obs = step.obs
        if step.round_end:
            for key, value in step.info.items():
                records.setdefault(key, []).append(value)
        done = bool(step.done[0])
        if replay is not None:
            replay.capture(done)
        if done:
            break
    return {k: torch.stack(v) for k, v in records.items()}


def episode_metrics(
    records: dict[str, torch.Tensor],
    endowment: float,
    social_optimum: float | None,
    objective: tuple[str, dict] = ("equality_times_productivity", {}),
) -> dict[str, np.ndarray]:
    """Every measure of :data:`coopsim.measures.MEASURES` that applies, per episode [B], from
    per-round records [R, B, N].

    Wealth is an agent's total net payoff over the episode. Where a world records ``utility``
    (an agent's utility level so far in the episode, labour counted), the welfare functions and
    the social ``objective`` use its final value, as the planner's reward does; elsewhere
    utility is wealth.

    A world with a common-pool resource (the commons) records ``harvest`` and ``tagged`` per
    agent and ``stock`` per agent too (the same number for every agent of a world), so the
    stock is read from agent 0. Perolat et al.'s measures are per step, so such a world must
    end a round at every step (the commons does): records hold round ends only.
    """
    wealth = records["net"].sum(0).double()  # [B, N]
    stock = records.get("stock")  # [T, B, N], identical across agents
    outcome = Outcome(
        wealth=wealth,
        utility=records["utility"][-1].double() if "utility" in records else wealth,  # [B, N]
        contribution=records.get("contribution"),  # [R, B, N]
        endowment=endowment,
        social_optimum=social_optimum,
        objective=objective,
        harvest=records.get("harvest"),  # [T, B, N]
        tagged=records.get("tagged"),  # [T, B, N]
        stock=None if stock is None else stock[..., 0],  # [T, B]
    )
    return {k: v.cpu().numpy() for k, v in measure_episodes(outcome).items()}


def confidence_interval(values: np.ndarray, level: float = LEVEL) -> dict[str, float]:
    """Mean with the house interval (:mod:`coopsim.intervals`) over independent episodes."""
    return t_interval(values, level).as_dict()


def summarise(table: pd.DataFrame) -> dict[str, dict[str, float]]:
    return {m: confidence_interval(table[m].to_numpy()) for m in MEASURES if m in table}


def tidy_records(records: dict[str, torch.Tensor], policies: list[str]) -> pd.DataFrame:
    """[R, B, N] tensors -> one row per (episode, round, agent), no Python loop over rows."""
    r, b, n = records["net"].shape
    # Order rows episode-major: transpose to [B, R, N] before flattening.
    columns: dict[str, Any] = {
        "episode": np.repeat(np.arange(b), r * n),
        "round": np.tile(np.repeat(np.arange(r), n), b),
        "agent": np.tile(np.arange(n), b * r),
        "policy": np.tile(np.asarray(policies), b * r),
    }
    for key, value in records.items():
        columns[key] = value.transpose(0, 1).reshape(-1).cpu().numpy()
    frame = pd.DataFrame(columns)
    frame["wealth"] = frame.groupby(["episode", "agent"])["net"].cumsum()
    frame["policy"] = frame["policy"].astype("category")
    return frame


def evaluate(
    scenario: Scenario,
    *,
    seed: int | None = None,
    episodes: int | None = None,
    device: str | None = None,
    population: Population | None = None,
    setup: Callable[[World], None] | None = None,
) -> Evaluation:
    """Roll out the scenario's evaluation episodes in parallel and measure them.

    ``setup`` is called with the freshly built evaluation world before the first episode, to
    carry in what training learned outside the population (a planner's rates, a Saez
    schedule's estimates): the world is built here, at the evaluation's batch size.
    """
    seed = scenario.evaluation.seed if seed is None else seed
    episodes = scenario.evaluation.episodes if episodes is None else episodes
    dev = resolve_device(device or scenario.evaluation.device)
    torch.manual_seed(seed)
    world = make_world(scenario, episodes, dev)
    if setup is not None:
        setup(world)
    population = population or make_population(scenario, world)
    recorder = ReplayRecorder(world) if world.drawable_state() is not None else None
    with torch.no_grad():
        records = rollout(world, population, seed, recorder)
    endowment = world.endowment
    try:
        optimum: float | None = world.social_optimum()
    except NotImplementedError:
        optimum = None
    per_episode = episode_metrics(records, endowment, optimum, scenario.objective)
    table = pd.DataFrame(per_episode)
    table.insert(0, "episode", np.arange(episodes))
    frame = tidy_records(records, population.agent_policy)
    replay = recorder.replay() if recorder is not None else None
    return Evaluation(frame, table, summarise(table), replay)
