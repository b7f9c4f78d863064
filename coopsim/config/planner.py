"""The planner's ``[planner]`` table: which controls it sets, how often, for which objective,
on which curriculum, and its own learning settings."""

from __future__ import annotations

import math
from dataclasses import dataclass

from coopsim.schema import param

# The social objectives a planner may maximise (coopsim.measures.social_objective);
# 'mix' is a weighted sum of the others. 'votes' is Democratic AI's majority vote: the share of
# agents better off under the planner's rules than under a baseline, in paired worlds.
OBJECTIVES = (
    "equality_times_productivity",
    "utilitarian",
    "nash",
    "rawls",
    "contribution_rate",
    "net_welfare",
    "votes",
    "mix",
)
# Objectives that compare a world with its paired counterfactual under the baseline rules.
PAIRED_OBJECTIVES = ("votes",)
# What 'mix' may weigh: every objective measured in one world alone.
MIXABLE = tuple(o for o in OBJECTIVES if o != "mix" and o not in PAIRED_OBJECTIVES)
# How a planner trained against several populations weighs them (coopsim.stress.objective).
ROBUST_OBJECTIVES = ("mean", "worst", "cvar")
# cvar_alpha when robust_objective = 'cvar' names none.
CVAR_ALPHA = 0.5
# A mix's weight times an objective (at most ~1e16 in the largest worlds) stays inside float32.
WEIGHT_MAX = 1e6


@dataclass(frozen=True)
class ControlTarget:
    """One entry of ``planner.controls``, resolved against the pipeline: which mechanism's
    which parameter, how many values per world, and the grid's ends."""

    name: str  # as written, e.g. 'matching.rate'
    index: int  # the mechanism's place in the pipeline
    param: str  # the mechanism's parameter
    width: int  # values per world (a tax's rates: one per bracket)
    low: float
    high: float


@dataclass
class PlannerConfig:
    controls: list[str] = param(
        default_factory=list,
        help="Mechanism parameters it sets: '<kind>.<param>' (e.g. 'matching.rate', "
        "'tax.rates'), '<kind>#<index>.<param>' when a kind appears twice (index: its place "
        "in [[mechanisms]], from 0), or '<kind>' for all of that mechanism's controls",
    )
    mechanism: str = param(
        "", help="Older form of controls = ['<kind>']: every control of this mechanism"
    )
    grid: dict = param(
        default_factory=dict,
        help="Per control, [low, high] to search instead of the parameter's declared bounds, "
        "e.g. {'matching.rate' = [0, 4]}",
    )
    rate_levels: int = param(
        21,
        help="Values on each control's grid: low, ..., high in L even steps",
        ge=2,
        le=1001,  # the planner's action head has one output per value
    )
    period: int = param(
        1, help="Steps between the planner's decisions (its tax period)", ge=1, le=100_000
    )
    objective: str = param(
        "equality_times_productivity", help="Social objective it maximises", choices=OBJECTIVES
    )
    weights: dict = param(
        default_factory=dict,
        help="For objective = 'mix': weight per objective name, e.g. {utilitarian = 1.0}",
    )
    sponsor_cost: float = param(
        1.0,
        help="For objective = 'net_welfare': what a unit of the sponsor's money costs society "
        "(the marginal cost of public funds), charged on everything an outside sponsor pays",
        ge=0,
        le=1e3,  # x the sponsor's largest payments (~1e15) the objective stays inside float32
    )
    baseline: str = param(
        "",
        help="For objective = 'votes': the preset of a controlled mechanism the planner's rules "
        "are voted against (e.g. 'strict_egalitarian'), played in paired worlds",
    )
    phase1_iterations: int = param(
        50,
        help="Curriculum phase 1: agents learn under no tax for this many iterations",
        ge=0,
        le=10_000_000,  # training.iterations' bound
    )
    anneal_iterations: int = param(
        50,
        help="Phase 2: iterations over which the maximum rate rises to 1",
        ge=0,
        le=10_000_000,  # training.iterations' bound
    )
    initial_max_rate: float = param(
        0.1, help="Maximum rate allowed when phase 2 starts", ge=0, le=1
    )
    update_every: int = param(
        1, help="Planner updates once every this many iterations", ge=1, le=10_000_000
    )
    learning_rate: float = param(3e-3, help="Planner's Adam step size", gt=0, le=1)
    gamma: float = param(0.0, help="Planner's discount per decision", ge=0, le=1)
    # Loss weights up to 100: far above any useful value, and the weighted loss stays finite.
    ent_coef: float = param(0.02, help="Planner's entropy bonus at the start", ge=0, le=100)
    ent_coef_final: float = param(0.0, help="Planner's entropy bonus at the end", ge=0, le=100)
    hidden: int = param(64, help="Width of the planner's hidden layers", ge=4, le=4096)
    low_rate_prior: float = param(
        0.0,
        help="Initial preference for low rates: each head's logits start at -prior x rate, so "
        "at 0 every allowed rate is equally likely and at 5 a rate of 0 is e^5 times as likely "
        "as 1; the planner then starts near the free market the agents grew up in",
        ge=0,
        le=100,  # logits -prior x rate: e^-100 is already 0 to the policy
    )
    group_size: int = param(
        1,
        help="While the planner acts, training worlds come in groups of this many copies of "
        "one world (map, skills, start tiles) and its reward is measured against its group's "
        "mean: what it learns is what its rates did, not which world it drew (1: no groups)",
        ge=1,
        le=1_000_000,  # training.num_worlds' bound
    )
    evaluation: str = param(
        "schedule",
        help="How a run's evaluation plays the trained planner: 'replay' runs its policy, "
        "deciding every period from what it observes as in training (its most likely controls, "
        "not sampled); 'schedule' holds one static rule in every world and round (per control, "
        "its most likely value over its last training decisions)",
        choices=("schedule", "replay"),
    )
    num_minibatches: int | None = param(
        None,
        help="Minibatches per pass of the planner's update (default: the agents'); a planner "
        "deciding once per tax period sees few samples per iteration, so fewer, larger ones",
        ge=1,
        le=4096,  # the agents' bound
    )
    update_epochs: int | None = param(
        None,
        help="Passes over its decisions per update (default: the agents'); a planner that "
        "updates once an iteration on a few thousand decisions may learn more from several",
        ge=1,
        le=100,  # the agents' bound
    )

    populations: list[str] | None = param(
        None,
        help="Populations it also designs for (population files or shipped names, see "
        "populations/): each training world outside the scenario's own share draws one of "
        "them every episode, so the planner is paid for rules that hold across them",
    )
    own_share: float | None = param(
        None,
        help="With populations: share of training worlds that keep the scenario's own "
        "population, where its learners keep learning (default 0.5)",
        gt=0,
        lt=1,
    )
    robust_objective: str = param(
        "mean",
        help="With populations: what the planner maximises across the populations in a "
        "training batch (its own and the drawn ones): 'mean' every world alike; 'worst' the "
        "population it serves worst; 'cvar' the mean of its worst cvar_alpha share of them "
        "(see coopsim.stress.objective)",
        choices=ROBUST_OBJECTIVES,
    )
    cvar_alpha: float | None = param(
        None,
        help="With robust_objective = 'cvar': the share of populations, the worst first, whose "
        "mean it maximises (1: all of them alike; default 0.5)",
        gt=0,
        le=1,
    )

    def validate(self) -> None:
        if self.own_share is not None and not self.populations:
            raise ValueError("own_share is only used with populations")
        if self.robust_objective != "mean" and not self.populations:
            raise ValueError(
                f"robust_objective = {self.robust_objective!r} is only used with populations: "
                "name the populations it designs for, e.g. populations = ['fgf2001']"
            )
        if self.cvar_alpha is not None and self.robust_objective != "cvar":
            raise ValueError("cvar_alpha is only used with robust_objective = 'cvar'")
        if self.mechanism and self.controls and self.controls != [self.mechanism]:
            raise ValueError("give controls or the older mechanism, not both")
        if not self.controls:  # mechanism = 'tax' is controls = ['tax']; a tax by default
            self.controls = [self.mechanism or "tax"]
        if self.objective == "mix":
            if not self.weights:
                raise ValueError("objective = 'mix' needs weights, e.g. {utilitarian = 1.0}")
            bad = [k for k in self.weights if k not in MIXABLE]
            if bad:
                raise ValueError(
                    f"weights: unknown objective {bad[0]!r}; allowed: {', '.join(MIXABLE)}"
                )
            for name, weight in self.weights.items():
                number = isinstance(weight, (int, float)) and not isinstance(weight, bool)
                if not number or not math.isfinite(weight) or abs(weight) > WEIGHT_MAX:
                    raise ValueError(
                        f"weights.{name}: got {weight!r}, must be a finite number within "
                        f"+-{WEIGHT_MAX:g}"
                    )
        elif self.weights:
            raise ValueError("weights are only used with objective = 'mix'")
        if self.objective in PAIRED_OBJECTIVES and not self.baseline:
            raise ValueError(
                f"objective = {self.objective!r} needs a baseline, the preset of a controlled "
                "mechanism it is voted against (e.g. baseline = 'strict_egalitarian')"
            )
        if self.baseline and self.objective not in PAIRED_OBJECTIVES:
            raise ValueError("baseline is only used with objective = 'votes'")

    def objective_params(self) -> dict:
        """What the objective is computed with besides the agents' payoffs: the weights of a
        mix, the sponsor's cost per unit for net welfare."""
        if self.objective == "net_welfare":
            return {"sponsor_cost": self.sponsor_cost}
        return dict(self.weights)
