"""The planner's ``[planner]`` table: which lever it pulls, how often, for which objective,
on which curriculum, and its own learning settings."""

from __future__ import annotations

from dataclasses import dataclass

from coopsim.schema import param

# The social objectives a planner may maximise (coopsim.agents.planner.social_objective);
# 'mix' is a weighted sum of the others.
OBJECTIVES = ("equality_times_productivity", "utilitarian", "nash", "rawls", "mix")


@dataclass
class PlannerConfig:
    mechanism: str = param("tax", help="Kind of the pipeline mechanism whose rates it sets")
    rate_levels: int = param(21, help="Rates on the grid 0, 1/(L-1), ..., 1 per bracket", ge=2)
    period: int = param(1, help="Steps between the planner's decisions (its tax period)", ge=1)
    objective: str = param(
        "equality_times_productivity", help="Social objective it maximises", choices=OBJECTIVES
    )
    weights: dict = param(
        default_factory=dict,
        help="For objective = 'mix': weight per objective name, e.g. {utilitarian = 1.0}",
    )
    phase1_iterations: int = param(
        50, help="Curriculum phase 1: agents learn under no tax for this many iterations", ge=0
    )
    anneal_iterations: int = param(
        50, help="Phase 2: iterations over which the maximum rate rises to 1", ge=0
    )
    initial_max_rate: float = param(
        0.1, help="Maximum rate allowed when phase 2 starts", ge=0, le=1
    )
    update_every: int = param(1, help="Planner updates once every this many iterations", ge=1)
    learning_rate: float = param(3e-3, help="Planner's Adam step size", gt=0, le=1)
    gamma: float = param(0.0, help="Planner's discount per decision", ge=0, le=1)
    ent_coef: float = param(0.02, help="Planner's entropy bonus at the start", ge=0)
    ent_coef_final: float = param(0.0, help="Planner's entropy bonus at the end", ge=0)
    hidden: int = param(64, help="Width of the planner's hidden layers", ge=4)
    low_rate_prior: float = param(
        0.0,
        help="Initial preference for low rates: each head's logits start at -prior x rate, so "
        "at 0 every allowed rate is equally likely and at 5 a rate of 0 is e^5 times as likely "
        "as 1; the planner then starts near the free market the agents grew up in",
        ge=0,
    )
    group_size: int = param(
        1,
        help="While the planner acts, training worlds come in groups of this many copies of "
        "one world (map, skills, start tiles) and its reward is measured against its group's "
        "mean: what it learns is what its rates did, not which world it drew (1: no groups)",
        ge=1,
    )
    num_minibatches: int | None = param(
        None,
        help="Minibatches per pass of the planner's update (default: the agents'); a planner "
        "deciding once per tax period sees few samples per iteration, so fewer, larger ones",
        ge=1,
    )

    def validate(self) -> None:
        if self.objective == "mix":
            if not self.weights:
                raise ValueError("objective = 'mix' needs weights, e.g. {utilitarian = 1.0}")
            bad = [k for k in self.weights if k not in OBJECTIVES[:-1]]
            if bad:
                raise ValueError(
                    f"weights: unknown objective {bad[0]!r}; allowed: {', '.join(OBJECTIVES[:-1])}"
                )
        elif self.weights:
            raise ValueError("weights are only used with objective = 'mix'")
