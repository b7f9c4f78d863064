"""Unfinished learning runs as the app sees them: what a checkpoint holds, resume or discard,
and which seeds are free.

A learning run trains in ``<runs>/.<scenario>-s<seed>.partial/`` (see :mod:`coopsim.runner`),
so two jobs of one scenario and seed would train in the same folder, and an unfinished folder
trained under another design blocks that scenario and seed until it is resumed as it was or
discarded. The command line leaves that to ``--fresh`` and ``--out``; the app offers the same
choices as buttons, and this module is what they call.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from coopsim.files import loads_toml
from coopsim.scenario import Scenario
from coopsim.staging import LOCK, TRAINING, as_trained, list_checkpoints, partial_dir


@dataclass(frozen=True)
class Unfinished:
    """An unfinished learning run of one scenario and seed."""

    seed: int
    folder: Path
    iterations_done: int  # iterations its newest checkpoint holds; 0: nothing to resume
    iterations: int  # the training budget it was started with
    same_design: bool  # whether resuming it with the design asked for is allowed

    def describe(self) -> str:
        if self.iterations_done == 0:
            return f"seed {self.seed}: started, no checkpoint yet (it would start over)"
        return (
            f"seed {self.seed}: checkpoint after {self.iterations_done} of {self.iterations} "
            "training iterations"
        )


def collision_keys(scenario: Scenario, seeds: Iterable[int]) -> list[str]:
    """The unfinished-run folders a job of ``scenario`` trains in, one per seed ([] if it does
    not learn: an evaluation run gets a fresh folder of its own)."""
    if not scenario.learns:
        return []
    return [partial_dir(".", scenario.name, seed).name for seed in seeds]


def unfinished(scenario: Scenario, seed: int, out: str | os.PathLike) -> Unfinished | None:
    """The unfinished run of ``scenario`` at ``seed`` in ``out``, or None if there is none."""
    if not scenario.learns:
        return None
    folder = partial_dir(out, scenario.name, seed)
    if not folder.is_dir():
        return None
    checkpoints = list_checkpoints(folder)
    done = max(checkpoints, default=0)
    try:
        budget = int(json.loads((folder / TRAINING).read_text())["iterations"])
        stored = loads_toml((folder / "scenario.toml").read_text())
    except (OSError, ValueError, KeyError):
        return Unfinished(seed, folder, 0, 0, same_design=True)
    same = done == 0 or stored == loads_toml(as_trained(scenario, seed).to_toml())
    return Unfinished(seed, folder, done, budget, same_design=same)


def discard(folder: Path) -> bool:
    """Delete an unfinished run's folder; False (and nothing deleted) while a worker trains in it."""
    if not folder.is_dir():
        return True
    fd = os.open(folder / LOCK, os.O_CREAT | os.O_RDWR, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        shutil.rmtree(folder)
        return True
    finally:
        with contextlib.suppress(OSError):
            os.close(fd)


@dataclass(frozen=True)
class Collision:
    """Why some of the asked-for seeds cannot start right away, and what is free instead."""

    busy: list[int]  # seeds another queued or running job trains
    blocked: list[Unfinished]  # seeds with an unfinished run of a different design
    next_free: int  # first seed of the nearest run of ``count`` seeds that collides with nothing

    def describe(self, name: str) -> str:
        parts = []
        if self.busy:
            seeds = ", ".join(str(s) for s in self.busy)
            parts.append(f"another job is training {name} with seed(s) {seeds}")
        if self.blocked:
            seeds = ", ".join(str(u.seed) for u in self.blocked)
            parts.append(
                f"an unfinished run of {name} with seed(s) {seeds} was trained with a different "
                "design"
            )
        return "; ".join(parts)


def collision(
    scenario: Scenario, seeds: list[int], out: str | os.PathLike, busy_keys: set[str]
) -> Collision | None:
    """What stops ``seeds`` of ``scenario`` from starting now, or None if nothing does.

    ``busy_keys`` are the :func:`collision_keys` of queued and running jobs.
    """
    if not scenario.learns:
        return None

    def clashes(seed: int) -> tuple[bool, Unfinished | None]:
        taken = collision_keys(scenario, [seed])[0] in busy_keys
        found = unfinished(scenario, seed, out)
        return taken, (found if found is not None and not found.same_design else None)

    checked = {s: clashes(s) for s in seeds}
    busy = [s for s, (taken, _) in checked.items() if taken]
    blocked = [u for _, (taken, u) in checked.items() if u is not None and not taken]
    if not busy and not blocked:
        return None

    def free(seed: int) -> bool:
        taken = collision_keys(scenario, [seed])[0] in busy_keys
        return not taken and unfinished(scenario, seed, out) is None

    first = max(seeds) + 1
    while not all(free(s) for s in range(first, first + len(seeds))):
        first += 1
    return Collision(busy, blocked, first)
