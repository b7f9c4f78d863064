"""A scenario as typed data: its world, mechanism pipeline, population, evaluation, training
and planner settings.

Pure data: :mod:`coopsim.scenario` reads a TOML file into these classes (checking every value
against the registries of worlds, mechanisms and policies) and builds the pieces from them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from coopsim.config.planner import OBJECTIVES, ControlTarget, PlannerConfig
from coopsim.config.training import SEED_MAX, TrainingConfig
from coopsim.schema import param, to_dict

# Learning policies a population group may name; their weights come from training.
LEARNERS = ("ppo",)


@dataclass
class EvaluationConfig:
    episodes: int = param(
        32, help="Evaluation episodes (run in parallel as a batch)", ge=1, le=1_000_000
    )
    seed: int = param(0, help="Seed for the worlds and the policies' randomness", ge=0, le=SEED_MAX)
    device: str = param("cpu", help="Torch device to run on", choices=("cpu", "cuda", "auto"))
    objective: str = param(
        "equality_times_productivity",
        help="Social objective reported as 'objective' (a planner's own objective overrides it)",
        choices=tuple(o for o in OBJECTIVES if o != "mix"),
    )


@dataclass
class GroupConfig:
    """A ``[[population]]`` table. Which names ``policy`` may take is the registry's to say
    (``coopsim.scenario.POLICIES``), so the loader checks it."""

    policy: str = param(help="Policy these agents run")
    count: int = param(1, help="How many agents run it", ge=1)
    params: dict = param(default_factory=dict, help="Parameters of the policy")


@dataclass
class MechanismConfig:
    kind: str
    params: Any  # the mechanism's Params dataclass (MECHANISMS[kind].Params)


@dataclass
class Resolved:
    """What the loader works out of a scenario's planner and pipeline, kept on the scenario so
    nothing below resolves it again, with the planner and pipeline it was worked out from (a
    scenario edited in code since is resolved afresh: see ``coopsim.scenario.resolved``)."""

    planner: PlannerConfig | None  # a copy, as resolved
    mechanisms: list[MechanismConfig]  # a copy, as resolved
    num_worlds: int  # training.num_worlds, as checked against the planner's rules
    controls: list[ControlTarget]  # the planner's controls against the pipeline; [] without one
    baseline: list[float] | None  # [K] the controls under planner.baseline (paired objectives)


@dataclass
class Scenario:
    name: str
    description: str
    world: Any  # a world config dataclass (WORLDS[kind][0])
    mechanisms: list[MechanismConfig] = field(default_factory=list)
    population: list[GroupConfig] = field(default_factory=list)
    evaluation: EvaluationConfig = field(default_factory=EvaluationConfig)
    source: str | None = None
    training: TrainingConfig | None = None  # set when a group learns or a planner is present
    planner: PlannerConfig | None = None
    # Set on each loaded scenario by the loader (coopsim.scenario.resolved). Not a dataclass
    # field: a copy made with dataclasses.replace starts without it, and what lists a
    # scenario's fields (to_dict, the app's forms) never sees it.
    resolved: ClassVar[Resolved | None] = None

    @property
    def objective(self) -> tuple[str, dict]:
        """The social objective (name, its parameters: a mix's weights, say) that runs report
        and planners maximise."""
        if self.planner is not None:
            return self.planner.objective, self.planner.objective_params()
        return self.evaluation.objective, {}

    @property
    def learns(self) -> bool:
        """True when the scenario trains before it is evaluated."""
        return self.planner is not None or any(g.policy in LEARNERS for g in self.population)

    @property
    def num_agents(self) -> int:
        return self.world.num_agents

    @property
    def mechanism_label(self) -> str:
        """Short name of the pipeline, e.g. 'tax+lump_sum' or 'none'."""
        return "+".join(m.kind for m in self.mechanisms) or "none"

    def to_dict(self) -> dict[str, Any]:
        """Resolved config as plain data; ``from_dict`` of it gives the same scenario."""
        return {
            "name": self.name,
            "description": self.description,
            "world": to_dict(self.world),
            "mechanisms": [{"kind": m.kind, **to_dict(m.params)} for m in self.mechanisms],
            "population": [to_dict(g) for g in self.population],
            "evaluation": to_dict(self.evaluation),
            **({"training": to_dict(self.training)} if self.training is not None else {}),
            **({"planner": to_dict(self.planner)} if self.planner is not None else {}),
        }

    def to_toml(self) -> str:
        import tomli_w

        return tomli_w.dumps(self.to_dict())
