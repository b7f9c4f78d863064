"""Evaluate a scenario's population: roll out many episodes at once and measure them.

All evaluation episodes run in parallel as the batch axis of one world, so evaluating 1000
episodes costs about as much as evaluating one. The result is tidy: one row per round x agent x
episode, and one row of metrics per episode.

A trained planner can be played in the evaluation (:class:`PlannerPlay`): it decides at the
start of each of its periods, from what it observes there (last period's incomes and the
controls in force), exactly as in training, so what is measured is the policy it learned and
not a summary of it. With a paired objective (``votes``) every evaluation episode is a pair of
worlds, the planner's and a copy of it under the baseline rules played by the same agents, so
the vote is measured as it was paid in training.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from coopsim.agents.levers import Levers
from coopsim.agents.mixture import voter_aversion
from coopsim.agents.population import Population
from coopsim.builder import Built, build
from coopsim.config import ControlTarget, PlannerConfig
from coopsim.credit import PlannerCredit
from coopsim.envs import World
from coopsim.intervals import LEVEL, OPEN, Bounds, t_interval
from coopsim.measures import MEASURES, Outcome, measure_episodes
from coopsim.replay import Replay, ReplayRecorder
from coopsim.scenario import Scenario
from coopsim.schema import ConfigError

# Each control's value per round in the episodes table, in ``planner.controls`` order (the
# columns training's metrics log as the planner's mean choices): ``rate_0``, ``rate_1``, ...
CONTROL_COLUMN = "rate_{}"


@dataclass
class Evaluation:
    episodes: pd.DataFrame  # tidy: episode, round, agent, policy, then the world's variables
    episode_metrics: pd.DataFrame  # one row per episode, one column per metric
    summary: dict[str, dict[str, float]]  # metric -> mean, ci_low, ci_high, std, n
    # Where a planner was played: how, the controls it chose, the baseline twins' metrics
    # (see :func:`planner_summary`); None otherwise.
    planner: dict[str, Any] | None = None
    replay: Replay | None = None  # world 0's first episode, for worlds with a map
    # Each mechanism as built for this evaluation, before it ran (Built.mechanisms), for the
    # run's summary; None where the caller describes them itself.
    mechanisms: list[dict[str, str]] | None = None


@dataclass
class PlannerPlay:
    """A trained planner, as the evaluation plays it."""

    config: PlannerConfig
    targets: list[ControlTarget]  # the controls it sets, resolved against the pipeline
    # (incomes of the last period [W, N], controls in force [W, K]) -> controls [W, K]
    decide: Callable[[Tensor, Tensor], Tensor]
    mode: str  # 'replay' (its policy every period) or 'schedule' (one static rule)
    baseline: Tensor | None = None  # [K] the twin worlds' controls with a paired objective

    @property
    def paired(self) -> bool:
        return self.baseline is not None


@dataclass
class PlannerRollout:
    """One episode in every world with a planner deciding: what :func:`rollout` records, and
    the controls in force and the sponsor's outlay."""

    records: dict[str, Tensor]  # each [R, B, N], as rollout's
    controls: Tensor  # [R, B, K] the controls in force in each round
    outlay: Tensor  # [B] what outside sponsors paid over the episode


def rollout(
    world: World,
    population: Population,
    seed: int,
    replay: ReplayRecorder | None = None,
    outlay: Tensor | None = None,
) -> dict[str, torch.Tensor]:
    """Play one episode in every world; returns each recorded variable as [R, B, N].

    ``replay``, where given, keeps world 0's state as the episode goes. ``outlay`` [B], where
    given, is added what outside sponsors paid, so that a fixed rule's net welfare is measured
    as a planner's is."""
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
            if outlay is not None:
                for flow in step.flows.values():
                    if flow.outlay is not None:
                        outlay += flow.outlay
        done = bool(step.done[0])
        if replay is not None:
            replay.capture(done)
        if done:
            break
    return {k: torch.stack(v) for k, v in records.items()}


def planner_rollout(
    world: World,
    population: Population,
    seed: int,
    play: PlannerPlay,
    replay: ReplayRecorder | None = None,
) -> PlannerRollout:
    """Play one episode in every world, the planner setting its controls at each period's
    start from the incomes of the last period (none at the first), kept by the same books as
    in training (:class:`~coopsim.credit.PlannerCredit`). Paired: world 2k is the planner's,
    world 2k + 1 starts as its copy and keeps the baseline's controls."""
    b, n = world.batch_size, world.spec.num_agents
    obs = world.reset(seed=seed)
    if play.paired:
        obs = world.replicate(torch.arange(b, device=world.device) // 2 * 2)
    if replay is not None:
        replay.capture()
    levers = Levers(world.pipeline, play.targets)
    books = dataclasses.replace(play.config, group_size=1)
    credit = PlannerCredit(books, b, n, world.device, world.endowment)
    credit.aversion = voter_aversion(population, b)  # [B, N, 2] where some vote by fairness
    records: dict[str, list[Tensor]] = {}
    controls: list[Tensor] = []  # [B, K] per round
    outlay = torch.zeros(b, device=world.device)  # [B]
    while True:
        if credit.decision_due:
            mine = slice(0, None, 2) if play.paired else slice(None)
            chosen = play.decide(credit.income[mine], levers.get()[mine])  # [W, K]
            if play.paired:
                twin = play.baseline.to(chosen).expand_as(chosen)
                chosen = torch.stack([chosen, twin], 1).flatten(0, 1)  # [B, K]
            levers.set(chosen)
            fresh = world.observe()
            obs = obs if fresh is None else fresh
        in_force = levers.get()  # [B, K]
        step = world.step(population.act(obs, world.gen, world.action_mask()))
        credit.add(step)
        obs = step.obs
        if step.round_end:
            for key, value in step.info.items():
                records.setdefault(key, []).append(value)
            controls.append(in_force)
            for flow in step.flows.values():
                if flow.outlay is not None:
                    outlay += flow.outlay
        done = bool(step.done[0])
        if replay is not None:
            replay.capture(done)
        if done:
            break
    return PlannerRollout(
        {k: torch.stack(v) for k, v in records.items()}, torch.stack(controls), outlay
    )


def episode_metrics(
    records: dict[str, torch.Tensor],
    endowment: float,
    social_optimum: float | None,
    objective: tuple[str, dict] = ("equality_times_productivity", {}),
    *,
    outlay: Tensor | None = None,
    baseline: Tensor | None = None,
    aversion: Tensor | None = None,
    period: int | None = None,
) -> dict[str, np.ndarray]:
    """Every measure of :data:`coopsim.measures.MEASURES` that applies, per episode [B], from
    per-round records [R, B, N].

    Wealth is an agent's total net payoff over the episode. Where a world records ``utility``
    (an agent's utility level so far in the episode, labour counted), the welfare functions and
    the social ``objective`` use its final value, as the planner's reward does; elsewhere
    utility is wealth.

    Every record reaches the measures (:attr:`Outcome.records`); each measure reads the keys it
    names (:attr:`Measure.needs`), so a world that brings new data and a measure that reads it
    need nothing here. Records hold round ends only: Perolat et al.'s commons measures are per
    step, so the commons ends a round at every step.

    ``outlay`` [B] (an outside sponsor's payments over the episode) and ``baseline`` [B, N]
    (each agent's wealth in its world's twin under the baseline rules) are known where a
    planner was played; the objectives that read them (net welfare, votes) are measured then.
    ``aversion`` [B, N, 2]: each seat's Fehr-Schmidt (alpha, beta) where some seats vote by it.
    ``period``: rounds per tax period where a tax settles over several (the measures of when
    income is earned within a period read it).
    """
    wealth = records["net"].sum(0).double()  # [B, N]
    outcome = Outcome(
        wealth=wealth,
        utility=records["utility"][-1].double() if "utility" in records else wealth,  # [B, N]
        contribution=records.get("contribution"),  # [R, B, N]
        endowment=endowment,
        social_optimum=social_optimum,
        objective=objective,
        records=records,  # [R, B, N] each: what the measures that need them read
        outlay=None if outlay is None else outlay.double(),  # [B]
        baseline=None if baseline is None else baseline.double(),  # [B, N]
        aversion=aversion,
        period=period,
    )
    return {k: v.cpu().numpy() for k, v in measure_episodes(outcome).items()}


def confidence_interval(
    values: np.ndarray, level: float = LEVEL, bounds: Bounds = OPEN
) -> dict[str, float]:
    """Mean with the house interval (:mod:`coopsim.intervals`) over independent episodes, cut
    to the measure's range."""
    return t_interval(values, level, bounds).as_dict()


class NonFiniteMeasure(ConfigError):
    """A measure came out NaN or infinite: the run's numbers cannot be published.

    Why an error and not a value: a NaN beside other measures reads as a result (equality 1.0
    beside productivity NaN, from one overflowed world), and a mean over episodes hides which
    ones broke. It is a :class:`ConfigError` because its cause is a scenario's values, and the
    command line and the app report those as one line.
    """


def check_finite(table: pd.DataFrame, run: str) -> None:
    """Refuse a per-episode metric table holding NaN or infinity, naming ``run``, the measure
    and the episodes: the first measure that broke, in the registry's order."""
    for m in MEASURES:
        if m not in table:
            continue
        values = table[m].to_numpy(dtype=float)
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            raise NonFiniteMeasure(
                run,
                m,
                f"came out {float(values[bad[0]])!r} in {bad.size} of {values.size} evaluation "
                f"episodes (first: episode {int(bad[0])}); the world's arithmetic overflowed "
                "or was undefined, so no number of this run is published",
            )


def summarise(table: pd.DataFrame, run: str | None = None) -> dict[str, dict[str, float]]:
    """Each measure's mean and interval over episodes; with ``run`` (how an error names the
    run) every per-episode value must be finite first (:func:`check_finite`)."""
    if run is not None:
        check_finite(table, run)
    return {
        m: confidence_interval(table[m].to_numpy(), bounds=MEASURES[m].bounds)
        for m in MEASURES
        if m in table
    }


def run_label(name: str, seed: int) -> str:
    """How an evaluation names its run before the run has a folder: scenario name and seed."""
    return f"run of {name!r} (seed {seed})"


def planner_summary(
    play: PlannerPlay, names: list[str], played: PlannerRollout, twins: pd.DataFrame | None
) -> dict[str, Any]:
    """What ``summary.json`` says of the planner an evaluation played: how it decided, the
    mean of each control over the planner's worlds and rounds, and with a paired objective
    the baseline and its twin worlds' metrics (the same agents under the baseline rules)."""
    mine = played.controls[:, 0::2] if play.paired else played.controls  # [R, W, K]
    out: dict[str, Any] = {
        "mode": play.mode,
        "decisions": "most likely controls of its policy" if play.mode == "replay" else "fixed",
        "period": play.config.period,
        "controls": names,
        "mean_controls": mine.double().mean((0, 1)).tolist(),
    }
    if twins is not None:
        out["baseline"] = play.config.baseline
        out["baseline_metrics"] = summarise(twins, "the baseline twins of this run")
    return out


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
    planner: PlannerPlay | None = None,
    built: Built | None = None,
) -> Evaluation:
    """Roll out the scenario's evaluation episodes in parallel and measure them.

    ``setup`` is called with the freshly built evaluation world before the first episode, to
    carry in what training learned outside the population (a Saez schedule's estimates): the
    world is built here, at the evaluation's batch size. ``planner`` plays a trained planner
    in every episode (twice as many worlds with a paired objective: each episode's metrics are
    its planner world's, its twin's go to the planner's summary). ``built``: the scenario
    already built at the evaluation's batch size (:func:`coopsim.builder.build`, without a
    population where ``population`` is given); built here without it.
    """
    seed = scenario.evaluation.seed if seed is None else seed
    episodes = scenario.evaluation.episodes if episodes is None else episodes
    torch.manual_seed(seed)
    paired = planner is not None and planner.paired
    if built is None:
        batch = 2 * episodes if paired else episodes
        dev = device or scenario.evaluation.device
        built = build(scenario, batch, dev, population=population is None)
    world = built.world
    if setup is not None:
        setup(world)
    population = population or built.population
    recorder = ReplayRecorder(world) if world.drawable_state() is not None else None
    try:
        optimum: float | None = world.social_optimum()
    except NotImplementedError:
        optimum = None
    if planner is None:
        outlay = torch.zeros(world.batch_size, device=world.device)  # [B]
        with torch.no_grad():
            records = rollout(world, population, seed, recorder, outlay)
        table = _metric_table(
            episode_metrics(
                records,
                world.endowment,
                optimum,
                scenario.objective,
                outlay=outlay,
                period=world.pipeline.period,
            )
        )
        frame = tidy_records(records, population.agent_policy)
        return Evaluation(
            frame,
            table,
            summarise(table, run_label(scenario.name, seed)),
            replay=_replay(recorder),
            mechanisms=built.mechanisms,
        )
    with torch.no_grad():
        played = planner_rollout(world, population, seed, planner, recorder)
    records, controls, outlay = played.records, played.controls, played.outlay
    twins = None
    if paired:  # the planner's worlds are the even ones; their twins' wealth is the baseline
        twin_records = {k: v[:, 1::2] for k, v in records.items()}
        records = {k: v[:, 0::2] for k, v in records.items()}
        controls, outlay = controls[:, 0::2], outlay[0::2]
        twin = episode_metrics(twin_records, world.endowment, optimum, ("utilitarian", {}))
        twins = _metric_table({k: v for k, v in twin.items() if k != "objective"})
    baseline = twin_records["net"].sum(0) if paired else None  # [E, N]
    aversion = voter_aversion(population, world.batch_size) if paired else None  # [B, N, 2]
    table = _metric_table(
        episode_metrics(
            records,
            world.endowment,
            optimum,
            scenario.objective,
            outlay=outlay,
            baseline=baseline,
            aversion=None if aversion is None else aversion[0::2],
            period=world.pipeline.period,
        )
    )
    levers = built.levers if built.levers is not None else Levers(world.pipeline, planner.targets)
    names = levers.names
    n = world.spec.num_agents
    for k in range(controls.shape[-1]):  # each round's control, on every agent's row
        records[CONTROL_COLUMN.format(k)] = controls[..., k : k + 1].expand(-1, -1, n)
    frame = tidy_records(records, population.agent_policy)
    return Evaluation(
        frame,
        table,
        summarise(table, run_label(scenario.name, seed)),
        planner_summary(planner, names, played, twins),
        _replay(recorder),
        built.mechanisms,
    )


def _replay(recorder: ReplayRecorder | None) -> Replay | None:
    return recorder.replay() if recorder is not None else None


def _metric_table(per_episode: dict[str, np.ndarray]) -> pd.DataFrame:
    table = pd.DataFrame(per_episode)
    table.insert(0, "episode", np.arange(len(table)))
    return table
