"""The planner's levers: its controls in a built pipeline, read and written as one tensor.

A scenario names the controls (``planner.controls``, resolved and checked when it loads by
:func:`coopsim.scenario.resolve_controls`); here they are bound to the mechanisms of one
world's pipeline, so the trainer and the evaluation install a planner's choices [B, K] without
knowing which mechanisms they belong to.
"""

from __future__ import annotations

import torch
from torch import Tensor

from coopsim.config import ControlTarget
from mechanisms import Pipeline


class Levers:
    """The controls ``targets`` of ``pipeline``'s mechanisms, as columns of one [B, K]."""

    def __init__(self, pipeline: Pipeline, targets: list[ControlTarget]):
        self.targets = targets
        self.mechanisms = [pipeline.mechanisms[t.index] for t in targets]
        device = self.mechanisms[0].device if self.mechanisms else torch.device("cpu")
        self.low = torch.tensor(
            [t.low for t in targets for _ in range(t.width)], device=device
        )  # [K]
        self.high = torch.tensor(
            [t.high for t in targets for _ in range(t.width)], device=device
        )  # [K]

    @property
    def width(self) -> int:
        """K, the values a planner sets per world."""
        return sum(t.width for t in self.targets)

    @property
    def names(self) -> list[str]:
        """One name per column: the control, with the entry's place where it is wider."""
        return [
            t.name if t.width == 1 else f"{t.name}[{k}]"
            for t in self.targets
            for k in range(t.width)
        ]

    def get(self) -> Tensor:
        """The controls in force: [B, K]."""
        return torch.cat([m.control(t.param) for m, t in zip(self.mechanisms, self.targets)], -1)

    def set(self, values: Tensor) -> None:
        """Install controls [B, K] (or [K], the same in every world)."""
        values = torch.as_tensor(values, dtype=torch.float32, device=self.low.device)
        values = values.reshape(-1, self.width)
        start = 0
        for mech, target in zip(self.mechanisms, self.targets):
            mech.set_control(target.param, values[:, start : start + target.width])
            start += target.width
