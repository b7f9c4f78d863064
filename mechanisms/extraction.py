"""What a mechanism on a common-pool resource adds to the plain :class:`Mechanism`.

A rule on extraction acts before the round's payoffs exist: a quota must stop the apple being
taken, not just fine it afterwards, and a scarcity-dependent tax must know how much of the
resource is left. The commons world asks every :class:`ExtractionRule` in its pipeline for
these two things each step; the money the rule moves still goes through :meth:`apply`.
"""

from __future__ import annotations

from typing import ClassVar

from torch import Tensor

from mechanisms.base import Mechanism


class ExtractionRule(Mechanism):
    """A mechanism that may cap extraction and may read the resource stock."""

    worlds: ClassVar[tuple[str, ...] | None] = ("commons",)

    def allowance(self) -> Tensor | None:
        """[B, N] units each agent may still take this step (None: no cap).

        The world lets an agent harvest only while its allowance is at least 1.
        """
        return None

    def observe_stock(self, share: Tensor) -> None:
        """Told at the start of each step: ``share`` [B] of the resource tiles that are full."""
