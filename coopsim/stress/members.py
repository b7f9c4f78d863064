"""A population file's members built for one world: each a population acting for every seat.

Shared by the stress test (a population is a block of its batch) and the robust planner's
trainer (a population is what a training world draws), so both check a file's members against
the world the same way: a scripted policy must read only what the world shows, a run's agents
must fit its seats, observations and actions; people who played a table play the schedule
estimated from their recorded rounds (:mod:`coopsim.lab.people`).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

from coopsim.agents.population import Population
from coopsim.builder import make_world
from coopsim.envs import World
from coopsim.lab.people import people_seats
from coopsim.schema import ConfigError
from coopsim.stress.populations import PopulationConfig, scripted_seats
from coopsim.stress.runs import TrainedRun, load_trained_run, same_seats


def member_seats(
    config: PopulationConfig,
    world: World,
    load: Callable[[str | Path], TrainedRun] = load_trained_run,
) -> list[Population]:
    """Every member of ``config`` as a population for ``world``, in the file's order.

    ``world`` is a probe: scripted policies are tried on its first observation (it is reset).
    ``load`` rebuilds a run directory (the stress test passes its cache). A member with
    ``vote_alpha`` or ``vote_beta`` carries them as its ``vote_aversion``: how its seats vote
    (:func:`coopsim.agents.mixture.voter_aversion`)."""
    members = []
    for i, member in enumerate(config.members):
        if member.policy:
            seats = scripted_seats(config, i, world)
        elif member.people:
            seats = people_seats(config, i, world)
        else:
            partner = load(member.run)
            why = same_seats(world, make_world(partner.scenario, 1))
            if why is not None:
                raise ConfigError(
                    config.source,
                    f"members[{i}].run",
                    f"its agents cannot sit in this {world.kind!r} world's seats ({why})",
                )
            seats = partner.seats(world)
        if member.vote_aversion is not None:  # a copy: a run's seats may be shared
            seats = copy.copy(seats)
            seats.vote_aversion = member.vote_aversion
        members.append(seats)
    return members
