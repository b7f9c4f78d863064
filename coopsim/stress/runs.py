"""A run directory brought back to life: its rule (mechanisms, a learned planner replayed as in
evaluation) and its trained seats, so a stress test can pair any run's rule with any run's
agents.

A learning run is rebuilt from its ``scenario.toml`` and its newest checkpoint into the same
:class:`~coopsim.train.Trainer` it finished as; a run that did not learn brings its scenario's
scripted population. Nothing is retrained and nothing in the run directory is written.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from coopsim import scenario as sc
from coopsim.agents.levers import Levers
from coopsim.agents.population import Population
from coopsim.builder import make_population
from coopsim.envs import World
from coopsim.evaluate import PlannerPlay
from coopsim.record import SCENARIO
from coopsim.schema import ConfigError
from coopsim.staging import list_checkpoints, load_checkpoint
from coopsim.train import Trainer, planner_play, planner_schedule


@dataclass
class TrainedRun:
    """One run directory: its scenario and, where it learned, its trainer as it finished."""

    path: Path
    scenario: sc.Scenario
    trainer: Trainer | None  # None where the run did not learn

    @property
    def rule(self) -> str:
        """The rule's name: the scenario's (its runs differ only in their seeds)."""
        return self.scenario.name

    @property
    def seed(self) -> int:
        """The training seed (the evaluation's where nothing was trained)."""
        if self.scenario.training is not None and self.trainer is not None:
            return int(self.scenario.training.seed)
        return int(self.scenario.evaluation.seed)

    @cached_property
    def play(self) -> PlannerPlay | None:
        """How evaluation plays its trained planner (None: no planner, or a fixed schedule)."""
        return None if self.trainer is None else planner_play(self.trainer)

    def setup(self, world: World) -> None:
        """Carry what training learned outside the seats into a fresh ``world`` of this rule:
        mechanisms' own estimates (a Saez schedule) and a planner's schedule where it is not
        replayed (as :func:`coopsim.train.evaluate_trained` does)."""
        if self.trainer is None:
            return
        world.pipeline.adopt(self.trainer.world.pipeline)
        if self.play is None and self.trainer.levers is not None:
            schedule = planner_schedule(self.trainer)
            Levers(world.pipeline, self.trainer.levers.targets).set(schedule)

    def seats(self, world: World) -> Population:
        """Its trained seats (or its scripted population) acting in ``world``."""
        if self.trainer is not None:
            return self.trainer.population
        return make_population(self.scenario, world)


def load_trained_run(path: str | os.PathLike) -> TrainedRun:
    """Rebuild a run directory (its newest checkpoint where it learned) on the CPU."""
    folder = Path(path)
    if not (folder / SCENARIO).is_file():
        raise ConfigError(str(folder), "(run)", "not a run directory (no scenario.toml)")
    scenario = sc.load(folder / SCENARIO)
    if not scenario.learns:
        return TrainedRun(folder, scenario, None)
    checkpoints = list_checkpoints(folder)
    if not checkpoints:
        raise ConfigError(
            str(folder), "checkpoints", "a learning run without checkpoints cannot be replayed"
        )
    cfg = scenario.training
    trainer = Trainer(scenario, seed=cfg.seed, device="cpu", iterations=cfg.iterations)
    trainer.load_state_dict(load_checkpoint(checkpoints[max(checkpoints)]))
    return TrainedRun(folder, scenario, trainer)


def same_seats(a: World, b: World) -> str | None:
    """Why agents of world ``b`` cannot sit in world ``a`` (None where they can): the seats,
    the observation's layout and the actions must agree."""
    sa, sb = a.spec, b.spec
    if sa.num_agents != sb.num_agents:
        return f"{sb.num_agents} seats against {sa.num_agents}"
    if tuple(sa.action_nvec) != tuple(sb.action_nvec):
        return f"actions {tuple(sb.action_nvec)} against {tuple(sa.action_nvec)}"
    if sa.obs_dim != sb.obs_dim or dict(sa.obs_fields) != dict(sb.obs_fields):
        return "they observe different things (another observation layout)"
    return None
