"""A population file's members built for one world: each a population acting for every seat.

Shared by the stress test (a population is a block of its batch) and the robust planner's
trainer (a population is what a training world draws), so both check a file's members against
the world the same way: a scripted policy must read only what the world shows, a run's agents
must fit its seats, observations and actions.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from coopsim.agents.population import Population
from coopsim.agents.scripted import SCRIPTED
from coopsim.envs import World
from coopsim.scenario import make_world
from coopsim.schema import ConfigError
from coopsim.stress.populations import PopulationConfig
from coopsim.stress.runs import TrainedRun, load_trained_run, same_seats


def scripted_seats(config: PopulationConfig, index: int, world: World) -> Population:
    """Member ``index`` (a scripted policy) in every seat of ``world``; refused, naming the
    file and member, if the policy reads what this world does not show."""
    member = config.members[index]
    cls = SCRIPTED[member.policy]
    n = world.spec.num_agents
    # a policy refuses a world it cannot read when made, or reads named observation fields
    # the world may not have when it acts: either way, this world is not one it plays
    try:
        policy = cls(world.spec, member.params if cls.Params is not type(None) else None)
        population = Population([(policy, list(range(n)))], n, len(world.spec.action_nvec))
        population.act(world.reset(seed=0), world.gen, world.action_mask())
    except (KeyError, ValueError) as err:
        raise ConfigError(
            config.source,
            f"members[{index}].policy",
            f"{member.policy!r} does not play a {world.kind!r} world ({err})",
        ) from None
    return population


def member_seats(
    config: PopulationConfig,
    world: World,
    load: Callable[[str | Path], TrainedRun] = load_trained_run,
) -> list[Population]:
    """Every member of ``config`` as a population for ``world``, in the file's order.

    ``world`` is a probe: scripted policies are tried on its first observation (it is reset).
    ``load`` rebuilds a run directory (the stress test passes its cache)."""
    members = []
    for i, member in enumerate(config.members):
        if member.policy:
            members.append(scripted_seats(config, i, world))
            continue
        partner = load(member.run)
        why = same_seats(world, make_world(partner.scenario, 1))
        if why is not None:
            raise ConfigError(
                config.source,
                f"members[{i}].run",
                f"its agents cannot sit in this {world.kind!r} world's seats ({why})",
            )
        members.append(partner.seats(world))
    return members
