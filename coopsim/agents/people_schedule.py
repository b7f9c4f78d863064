"""People who played a table, as a scripted policy: their conditional-contribution schedule.

Why a schedule: a rule stress-tested against "people who played here" should meet what those
people did in the situations a seat can see. Fischbacher, Gaechter and Fehr (2001) describe a
person by what they give given what the others gave; :mod:`coopsim.lab.people` estimates that
schedule from the recorded human seats (the others' mean share last round -> the share given),
and this policy plays it: ``initial`` in the first round, then the schedule read at the others'
mean share of last round, linear between its points.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from coopsim.agents.policy import ScriptedPolicy
from coopsim.schema import param


@dataclass
class PeopleScheduleParams:
    initial: float = param(0.5, help="Share of the endowment given in the first round", ge=0, le=1)
    schedule: list[float] = param(
        default_factory=lambda: [k / 10 for k in range(11)],
        help="Share given when the others gave 0, 1/(K-1), ..., 1 of theirs last round "
        "(K points, at least 2)",
        ge=0,  # each element
        le=1,
    )

    def validate(self) -> None:
        if len(self.schedule) < 2:
            raise ValueError(f"schedule has {len(self.schedule)} points; give at least 2")


class PeopleSchedule(ScriptedPolicy):
    name = "people_schedule"
    Params = PeopleScheduleParams
    summary = "Gives what recorded people gave when the others gave what they gave last round."

    def share(self, obs, gen):
        first = self.field(obs, "first_round") > 0
        others = self.field(obs, "others_last_mean_contribution").clamp(0, 1)
        points = torch.tensor(self.params.schedule, device=obs.device, dtype=others.dtype)
        k = len(self.params.schedule) - 1
        x = others * k
        low = x.floor().long().clamp(max=k - 1)
        frac = x - low
        value = points[low] + frac * (points[low + 1] - points[low])
        return torch.where(first, torch.full_like(others, self.params.initial), value)
