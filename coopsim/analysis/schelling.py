"""Schelling diagrams: is a commons a social dilemma?

A Schelling diagram (Schelling 1973; for sequential social dilemmas Perolat et al. 2017 and
Hughes et al. 2018) plots the payoff of one cooperator, ``R_c(k)``, and of one defector,
``R_d(k)``, against the number k of *other* agents who cooperate. Here a cooperator is the
restrained harvester and a defector the greedy one (:mod:`coopsim.agents.commons_scripted`),
both scripted, so the diagram is about the world and its rules, not about what a learner
happens to find.

Groups of m = 0..N cooperators play side by side as one batch of worlds (seat i cooperates
in a group of m when i < m); all cooperators of a group face the same situation, so
``R_c(m - 1)`` is the mean episode return of a group-m cooperator and ``R_d(m)`` that of a
group-m defector, each with a 95% interval over episodes. The scenario's mechanisms apply,
so the diagram also shows whether a rule removes the dilemma.

The dilemma criteria (Hughes et al. 2018, after Macy & Flache 2002), all checked by
:meth:`SchellingDiagram.criteria`:

1. mutual cooperation beats mutual defection: ``R_c(N-1) > R_d(0)``;
2. mutual cooperation beats being exploited: ``R_c(N-1) > R_c(0)``;
3. defecting pays for someone: *greed*, ``R_d(k) > R_c(k)`` for large k (checked at N-1),
   or *fear*, ``R_d(k) > R_c(k)`` for small k (checked at 0).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure
from scipy import stats
from torch import Tensor

from coopsim.agents.commons_scripted import GreedyHarvester, RestrainedHarvester
from coopsim.agents.scripted import Policy, ScriptedPolicy
from coopsim.builder import make_world
from coopsim.scenario import Scenario
from coopsim.scenario import load as load_scenario


@dataclass(frozen=True)
class SchellingDiagram:
    """Payoffs of a cooperator and a defector against the number of other cooperators."""

    scenario: str
    others: np.ndarray  # [N] k = 0..N-1 other cooperators
    cooperator: np.ndarray  # [N] mean episode return of a cooperator
    cooperator_ci: np.ndarray  # [N] half-width of its 95% interval
    defector: np.ndarray  # [N]
    defector_ci: np.ndarray  # [N]
    episodes: int

    def frame(self) -> pd.DataFrame:
        """One row per k: the two payoffs and their intervals."""
        return pd.DataFrame(
            {
                "other_cooperators": self.others,
                "cooperator": self.cooperator,
                "cooperator_ci": self.cooperator_ci,
                "defector": self.defector,
                "defector_ci": self.defector_ci,
            }
        )

    def criteria(self) -> dict[str, bool]:
        """Each dilemma criterion of the module docstring, and ``social_dilemma`` (all of
        1 and 2, and 3 in either form)."""
        rc, rd = self.cooperator, self.defector
        out = {
            "cooperation_beats_defection": bool(rc[-1] > rd[0]),
            "cooperation_beats_exploitation": bool(rc[-1] > rc[0]),
            "greed": bool(rd[-1] > rc[-1]),
            "fear": bool(rd[0] > rc[0]),
        }
        out["social_dilemma"] = (
            out["cooperation_beats_defection"]
            and out["cooperation_beats_exploitation"]
            and (out["greed"] or out["fear"])
        )
        return out


class _Roles(Policy):
    """Cooperator where ``cooperates`` [B, N] says so, defector elsewhere: one call each."""

    def __init__(self, cooperator: ScriptedPolicy, defector: ScriptedPolicy, cooperates: Tensor):
        self.cooperator, self.defector, self.cooperates = cooperator, defector, cooperates

    def act(self, obs: Tensor, gen: torch.Generator, mask: Tensor | None = None) -> Tensor:
        c = self.cooperator.act(obs, gen, mask)
        d = self.defector.act(obs, gen, mask)
        return torch.where(self.cooperates[..., None], c, d)


def schelling(
    scenario: Scenario | str,
    *,
    episodes: int = 16,
    seed: int = 0,
    episode_length: int | None = None,
) -> SchellingDiagram:
    """The Schelling diagram of a commons scenario (a loaded one, its name or a path).

    ``episodes`` per group size; ``episode_length`` overrides the world's (shorter episodes
    for a quick look: the dilemma may then not show, since depletion takes time to bite).
    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    if scenario.world.kind != "commons":
        raise ValueError(
            f"a Schelling diagram needs a commons world; {scenario.name!r} has a "
            f"{scenario.world.kind!r} world"
        )
    if episode_length is not None:
        world_config = dataclasses.replace(scenario.world, episode_length=episode_length)
        scenario = dataclasses.replace(scenario, world=world_config)
    n = scenario.num_agents
    groups = n + 1  # m = 0..N cooperators
    world = make_world(scenario, groups * episodes)
    seats = torch.arange(n)
    size = torch.arange(groups).repeat_interleave(episodes)  # [B] cooperators in world b
    cooperates = seats[None, :] < size[:, None]  # [B, N]
    policy = _Roles(RestrainedHarvester(world.spec), GreedyHarvester(world.spec), cooperates)
    returns = torch.zeros(world.batch_size, n, dtype=torch.float64)  # [B, N]
    obs = world.reset(seed=seed)
    with torch.no_grad():
        for _ in range(world.spec.horizon):
            step = world.step(policy.act(obs, world.gen))
            returns += step.reward.double()
            obs = step.obs
    coop = torch.where(cooperates, returns, 0.0).sum(-1) / cooperates.sum(-1).clamp(min=1)
    defect = torch.where(~cooperates, returns, 0.0).sum(-1) / (~cooperates).sum(-1).clamp(min=1)
    coop, defect = coop.view(groups, episodes).numpy(), defect.view(groups, episodes).numpy()
    rc, rc_ci = _mean_ci(coop[1:])  # groups m = 1..N: k = m - 1 others cooperate
    rd, rd_ci = _mean_ci(defect[:-1])  # groups m = 0..N-1: k = m others cooperate
    return SchellingDiagram(scenario.name, np.arange(n), rc, rc_ci, rd, rd_ci, episodes)


def _mean_ci(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """[G, E] -> mean and 95% Student-t half-width per row."""
    e = values.shape[1]
    mean = values.mean(1)
    if e < 2:
        return mean, np.zeros_like(mean)
    half = stats.t.ppf(0.975, e - 1) * values.std(1, ddof=1) / np.sqrt(e)
    return mean, half


def schelling_figure(diagram: SchellingDiagram) -> Figure:
    """Payoff of a cooperator and a defector against the number of other cooperators."""
    fig = Figure(figsize=(6.0, 3.6))
    ax = fig.add_subplot()
    k = diagram.others
    for label, mean, ci, style in (
        ("cooperator (restrained)", diagram.cooperator, diagram.cooperator_ci, "o-"),
        ("defector (greedy)", diagram.defector, diagram.defector_ci, "s--"),
    ):
        ax.plot(k, mean, style, label=label)
        ax.fill_between(k, mean - ci, mean + ci, alpha=0.2)
    verdict = "a social dilemma" if diagram.criteria()["social_dilemma"] else "no dilemma"
    ax.set_title(f"Schelling diagram: {diagram.scenario} ({verdict})")
    ax.set_xlabel("number of other cooperators")
    ax.set_ylabel("return per episode")
    ax.set_xticks(k)
    ax.legend()
    fig.tight_layout()
    return fig
