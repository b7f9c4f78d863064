"""Building: a loaded :class:`~coopsim.config.Scenario`, a device and a batch size -> one record.

:func:`build` makes everything a run drives, once: the B worlds with their mechanism pipeline,
the population (which policy plays which seat), the levers a planner sets and the baseline's
values of them, on one device. Training, evaluation, the sweeps' batched cells, the adapters
and the app take that record (:class:`Built`) instead of building the pieces again; nothing
below re-resolves what it holds (the planner's controls and baseline were resolved at load,
:func:`coopsim.scenario.resolved`). The single-piece builders stay for callers that need only
a world (:func:`make_world`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from coopsim.agents.levers import Levers
from coopsim.agents.population import Population
from coopsim.agents.ppo import PPOLearner
from coopsim.agents.scripted import SCRIPTED
from coopsim.config import LEARNERS, Scenario, TrainingConfig
from coopsim.envs import WORLDS, World
from coopsim.scenario import resolved
from coopsim.schema import ConfigError
from mechanisms import MECHANISMS, Mechanism, Pipeline


@dataclass
class Built:
    """One scenario, built: what a run drives."""

    scenario: Scenario
    world: World  # B copies, the mechanism pipeline inside
    population: Population | None  # None where the caller brings its own
    levers: Levers | None  # the planner's controls bound to this pipeline; None without one
    baseline: Tensor | None  # [K] the controls under planner.baseline (paired objectives)
    device: torch.device
    # Each mechanism as built, before anything ran or set it (kind, summary, describe()):
    # what a run's summary records, so record writing builds nothing.
    mechanisms: list[dict[str, str]]

    @property
    def pipeline(self) -> Pipeline:
        return self.world.pipeline

    @property
    def batch_size(self) -> int:
        return self.world.batch_size


def build(
    scenario: Scenario,
    batch_size: int,
    device: str | torch.device = "cpu",
    *,
    seed: int = 0,
    population: bool = True,
) -> Built:
    """The scenario's B worlds, population (learners seeded by ``seed``; ``population=False``
    for a caller that brings its own), levers and baseline, on ``device`` (a name, 'auto'
    included, or a device)."""
    dev = device if isinstance(device, torch.device) else resolve_device(device)
    world = make_world(scenario, batch_size, dev)
    described = describe_pipeline(world.pipeline)
    pop = make_population(scenario, world, seed=seed) if population else None
    levers = baseline = None
    if scenario.planner is not None:
        held = resolved(scenario)  # checked and resolved once, at load
        levers = Levers(world.pipeline, held.controls)
        if held.baseline is not None:
            baseline = torch.tensor(held.baseline, device=dev)  # [K]
    return Built(scenario, world, pop, levers, baseline, dev, described)


def describe_pipeline(pipeline: Pipeline) -> list[dict[str, str]]:
    """What a run's summary says of each mechanism (kind, one-line summary, what it does with
    its parameters), from the pipeline the run built."""
    return [{"kind": m.kind, "summary": m.summary, "description": m.describe()} for m in pipeline]


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError(
            None, "evaluation.device", "'cuda' was asked for but no CUDA device is available"
        )
    return torch.device(name)


def make_pipeline(scenario: Scenario, batch_size: int, device: torch.device) -> Pipeline:
    mechs: list[Mechanism] = [
        MECHANISMS[m.kind](m.params, scenario.world.num_agents, batch_size, device)
        for m in scenario.mechanisms
    ]
    return Pipeline(mechs)


def make_world(scenario: Scenario, batch_size: int, device: str | torch.device = "cpu") -> World:
    """The scenario's world with its mechanism pipeline, B copies on ``device``."""
    device = torch.device(device)
    world_cls = WORLDS[scenario.world.kind][1]
    return world_cls(
        scenario.world, make_pipeline(scenario, batch_size, device), batch_size, device
    )


def make_population(scenario: Scenario, world: World, seed: int = 0) -> Population:
    """Policies for every seat; learners start from fresh weights seeded by ``seed``."""
    groups, seat = [], 0
    learners = [g for g in scenario.population if g.policy in LEARNERS]
    for k, g in enumerate(scenario.population):
        if g.policy in LEARNERS:
            name = g.policy if len(learners) == 1 else f"{g.policy}_{k}"
            learner = PPOLearner(
                world.spec,
                g.count,
                scenario.training or TrainingConfig(),
                seed=seed * 7_919 + k,
                device=world.device,
                name=name,
            )
            groups.append((learner, list(range(seat, seat + g.count))))
            seat += g.count
            continue
        cls = SCRIPTED[g.policy]
        policy = cls(world.spec, g.params if cls.Params is not type(None) else None)
        policy.bind(world, list(range(seat, seat + g.count)))
        groups.append((policy, list(range(seat, seat + g.count))))
        seat += g.count
    return Population(groups, world.spec.num_agents, len(world.spec.action_nvec))
