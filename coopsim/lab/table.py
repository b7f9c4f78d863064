"""A table that people play in the app: seats, rounds, rules in turn, a vote, and the record.

Why here and not in the page: the game is plain Python over coopsim's own world, so it can be
unit-tested without a browser and several browser sessions can share it. A table lives on disk
as ``<runs>/.tables/<id>/state.json``; every change reads it, changes it and writes it back
atomically under an exclusive file lock (``fcntl.flock``), so people clicking at once never lose
a move. Whoever looks at the table next (any page poll) moves it on: a round is settled once
every person still seated has chosen, or when the round's time is up; a person who did not
choose in time has left, and their seat's agent plays it from that round on (the record says
from which). Payoffs come from coopsim's public-goods world, stepped through the table's whole
history (a table is a few rounds; replaying them is cheaper than keeping a world alive). The
agents are the lab's (:mod:`coopsim.lab.lab_agents`, the same ones an oTree export runs).

Democratic AI's protocol: with a second rule, the table plays rule A, then rule B with the same
seats, then each person votes for the rule they would rather play under. When the table ends,
each rule's rounds are written as a run directory (:mod:`coopsim.lab.lab_run`), which loads
with ``load_run`` and appears in Compare beside simulated runs.
"""

from __future__ import annotations

import contextlib
import json
import random
import re
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

from coopsim import builder
from coopsim.files import atomic_write_text
from coopsim.lab import lab_agents
from coopsim.lab.lab_run import HUMAN, write_table_run
from coopsim.lab.otree_export import LAB_SCRIPTED, _fixed_rule, _plain, build_rule
from coopsim.schema import ConfigError

TABLES = ".tables"  # under the runs folder: hidden, so run listings never see a live table
STATE = "state.json"
DEFAULT_TIMEOUT_S = 120.0  # a person who has not chosen after two minutes has left
MAX_ROUNDS = 50
_ID = re.compile(r"^[0-9a-f]{8}$")
LETTERS = ("A", "B")
#: Mechanisms a table does not play: peer punishment's second stage has no page yet.
NOT_ON_THE_PAGE = ("peer_punishment",)


class TableError(ValueError):
    """What a person asked of a table that it cannot do (one line, shown as it is)."""


# -- the file -------------------------------------------------------------------------------
def table_dir(runs: str | Path, table_id: str) -> Path:
    """The folder of table ``table_id``; refuses an id that is not one ``create`` makes."""
    if not _ID.match(table_id or ""):
        raise TableError(f"table {table_id!r}: no such table (an id is 8 hex digits)")
    return Path(runs) / TABLES / table_id


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """Hold the table's lock for the block (waits for another holder; freed if we die)."""
    import fcntl

    with open(folder / ".lock", "a+") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _read(folder: Path) -> dict[str, Any]:
    file = folder / STATE
    if not file.is_file():
        raise TableError(f"table {folder.name!r}: no such table")
    return json.loads(file.read_text())


def _write(folder: Path, state: dict[str, Any]) -> None:
    atomic_write_text(folder / STATE, json.dumps(state, indent=1))


@contextlib.contextmanager
def _changing(runs: str | Path, table_id: str, now: float | None) -> Iterator[dict[str, Any]]:
    """The table's state for the block to change; moved on and written back after it."""
    folder = table_dir(runs, table_id)
    if not (folder / STATE).is_file():
        raise TableError(f"table {table_id!r}: no such table")
    with _locked(folder):
        state = _read(folder)
        yield state
        _advance(state, runs, time.time() if now is None else now)
        _write(folder, state)


# -- making and joining a table -------------------------------------------------------------
def _rule(
    source: str, rounds: int | None, population: str | None, seed: int, planner: str = "fixed"
) -> dict[str, Any]:
    """The lab's rule for ``source`` with an agent for every seat (people's seats included);
    with ``population``, the seats' agents drawn from that population file instead. A planner
    run's rule is ``planner="fixed"`` at its mean, or ``"replay"``-ed round by round."""
    if planner == "replay":
        try:
            rule = build_rule(source, [], rounds=rounds, every_seat=True, planner="replay")
        except ConfigError as err:
            if "replay needs a run" not in str(err):
                raise
            rule = build_rule(source, [], rounds=rounds, every_seat=True)  # a preset: fixed
    else:
        rule = build_rule(source, [], rounds=rounds, every_seat=True)
    rule["source"] = str(source)
    if any(m["kind"] in NOT_ON_THE_PAGE for m in rule["mechanisms"]):
        raise TableError(
            f"{source}: peer punishment's second stage is not on the Play page yet; "
            "play it in the lab (`coopsim otree export`)"
        )
    if population:
        rule["agents"], rule["seat_policy"] = population_agents(population, rule, seed)
        rule["population"] = str(population)
    return rule


def population_agents(
    name_or_path: str, rule: dict[str, Any], seed: int
) -> tuple[dict[str, Any], list[str]]:
    """Each seat's agent drawn from a population file's members by their shares, as the stress
    test draws a world's seats; refuses a member the lab cannot play."""
    from coopsim.stress.populations import load_population

    config = load_population(name_or_path)
    where = config.source or str(name_or_path)
    if config.world != "public_goods":
        raise TableError(f"{where}: world is {config.world!r}; a table plays public_goods")
    found: dict[int, dict[str, Any]] = {}
    for i, m in enumerate(config.members):
        if m.people:  # people who played here: their estimated schedule
            from coopsim.lab.people import estimate_schedule

            schedule = estimate_schedule(m.people, where=f"members[{i}].people")
            found[i] = {"initial": schedule["initial"], "schedule": schedule["schedule"]}
        elif not m.policy or m.policy not in LAB_SCRIPTED:
            raise TableError(
                f"{where}: members[{i}] cannot sit at a table; scripted policies that can: "
                + ", ".join(LAB_SCRIPTED)
            )
    rng = random.Random(f"population-{seed}")
    agents, names = {}, []
    for seat in range(rule["num_agents"]):
        i = rng.choices(range(len(config.members)), [m.share for m in config.members])[0]
        m = config.members[i]
        policy = "people_schedule" if i in found else m.policy
        agents[str(seat)] = {"policy": policy, "params": found.get(i) or _plain(m.params)}
        names.append(policy)
    return agents, names


def create(
    runs: str | Path,
    rule_a: str,
    rule_b: str | None = None,
    *,
    population: str | None = None,
    planner: str = "fixed",
    people: int = 1,
    rounds: int | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    seed: int = 0,
    now: float | None = None,
) -> str:
    """A new table playing ``rule_a`` (then ``rule_b`` and a vote, where given); its id.

    ``rule_a``/``rule_b`` are a public-goods scenario (name or file) or a run directory (its
    learned agents fill the seats; a planner run's rule is fixed at what it learned).
    ``people`` seats wait for people; the table starts when they are all taken, or earlier by
    :func:`start`. ``rounds`` plays a shorter game than the scenario's (a demo, a test).
    ``population`` (a population file's name or path) fills the seats instead of the rules'
    own agents. ``planner="replay"`` plays a planner run's rule round by round as its
    evaluation did (a preset's rule stays as it is).
    """
    if rounds is not None and not 1 <= rounds <= MAX_ROUNDS:
        raise TableError(f"rounds: got {rounds}, allowed: 1 to {MAX_ROUNDS}")
    if not timeout_s > 0:
        raise TableError(f"timeout_s: got {timeout_s}, allowed: a number of seconds above 0")
    rules = [_rule(rule_a, rounds, population, seed, planner)]
    if rule_b:
        rules.append(_rule(rule_b, rounds, population, seed, planner))
        if rules[1]["num_agents"] != rules[0]["num_agents"]:
            raise TableError(
                f"rule B ({rule_b}) seats {rules[1]['num_agents']}, rule A seats "
                f"{rules[0]['num_agents']}: a vote needs both rules at one table size"
            )
    n = rules[0]["num_agents"]
    if not 1 <= people <= n:
        raise TableError(f"people: got {people}, allowed: 1 to {n} (the table's seats)")
    table_id = secrets.token_hex(4)
    folder = table_dir(runs, table_id)
    folder.mkdir(parents=True)
    now = time.time() if now is None else now
    state = {
        "id": table_id,
        "created": now,
        "seed": seed,
        "timeout_s": float(timeout_s),
        "people": people,
        "num_agents": n,
        "rules": rules,
        "phase": "waiting",  # waiting, play, vote, done
        "rule_index": 0,
        "seats": {},  # seat -> {"token", "name", "left": None or [rule letter, round from 1]}
        "rounds": [[] for _ in rules],  # per rule, per round: what was played and paid
        "pending": {},  # seat -> level chosen this round
        "deadline": None,
        "votes": {},  # seat -> "A" or "B"
        "runs": [],
    }
    _write(folder, state)
    return table_id


def view(runs: str | Path, table_id: str, now: float | None = None) -> dict[str, Any]:
    """The table as it stands now, moved on first (a round whose time is up is settled)."""
    with _changing(runs, table_id, now) as state:
        pass
    return state


def join(
    runs: str | Path,
    table_id: str,
    name: str,
    seat: int | None = None,
    now: float | None = None,
) -> str:
    """Seat a person (at ``seat``, from 0, or the first free one); their token for later moves."""
    name = " ".join(str(name).split())[:40] or "someone"
    with _changing(runs, table_id, now) as state:
        if state["phase"] != "waiting":
            raise TableError(f"table {table_id}: the game has started; open a new table")
        taken = {int(s) for s in state["seats"]}
        free = [s for s in range(state["num_agents"]) if s not in taken]
        if seat is None:
            seat = free[0]
        if seat not in free:
            raise TableError(f"seat {seat + 1} is taken or does not exist; free: {_seats(free)}")
        token = secrets.token_hex(8)
        state["seats"][str(seat)] = {"token": token, "name": name, "left": None}
    return token


def start(runs: str | Path, table_id: str, now: float | None = None) -> None:
    """Start without waiting for more people: agents take the seats nobody took."""
    with _changing(runs, table_id, now) as state:
        if state["phase"] == "waiting":
            if not state["seats"]:
                raise TableError(f"table {table_id}: nobody is seated yet")
            _begin(state, time.time() if now is None else now)


def act(runs: str | Path, table_id: str, token: str, level: int, now: float | None = None) -> None:
    """The person holding ``token`` contributes ``level`` (0 .. levels-1) this round."""
    with _changing(runs, table_id, now) as state:
        seat = seat_of(state, token)
        if state["phase"] != "play":
            raise TableError(f"table {table_id}: no round is waiting for a contribution")
        if state["seats"][str(seat)]["left"] is not None:
            raise TableError("your time ran out: your seat's agent plays it now")
        levels = state["rules"][state["rule_index"]]["levels"]
        if not (isinstance(level, int) and 0 <= level < levels):
            raise TableError(f"level: got {level!r}, allowed: 0 to {levels - 1}")
        state["pending"][str(seat)] = level


def vote(
    runs: str | Path, table_id: str, token: str, choice: str, now: float | None = None
) -> None:
    """The person holding ``token`` votes for rule ``"A"`` or ``"B"``."""
    with _changing(runs, table_id, now) as state:
        seat = seat_of(state, token)
        if state["phase"] != "vote":
            raise TableError(f"table {table_id}: there is no vote now")
        if choice not in LETTERS:
            raise TableError(f"vote: got {choice!r}, allowed: A or B")
        state["votes"][str(seat)] = choice


def seat_of(state: dict[str, Any], token: str | None) -> int:
    """The seat (from 0) of the person holding ``token``; refuses a stranger."""
    for seat, person in state["seats"].items():
        if token and person["token"] == token:
            return int(seat)
    raise TableError(f"table {state['id']}: you have no seat here (join it first)")


def _seats(seats: list[int]) -> str:
    return ", ".join(str(s + 1) for s in seats) or "none"


# -- moving the table on --------------------------------------------------------------------
def _begin(state: dict[str, Any], now: float) -> None:
    state["phase"] = "play"
    state["deadline"] = now + state["timeout_s"]


def _present(state: dict[str, Any]) -> list[int]:
    """The seats people still play."""
    return sorted(int(s) for s, p in state["seats"].items() if p["left"] is None)


def _advance(state: dict[str, Any], runs: str | Path, now: float) -> None:
    """Settle every round (and the vote) that is complete or out of time; write the runs at
    the end."""
    if state["phase"] == "waiting" and len(state["seats"]) >= state["people"]:
        _begin(state, now)
    while state["phase"] == "play":
        present = _present(state)
        waiting = [s for s in present if str(s) not in state["pending"]]
        if waiting and now < state["deadline"]:
            return
        rule_index = state["rule_index"]
        played = state["rounds"][rule_index]
        for seat in waiting:  # out of time: their agent plays from this round on
            state["seats"][str(seat)]["left"] = [LETTERS[rule_index], len(played) + 1]
        played.append(_settle(state, rule_index))
        state["pending"] = {}
        state["deadline"] = now + state["timeout_s"]
        if len(played) == state["rules"][rule_index]["rounds"]:
            if rule_index + 1 < len(state["rules"]):
                state["rule_index"] += 1
            else:
                state["phase"] = "vote" if len(state["rules"]) > 1 else "done"
    if state["phase"] == "vote":
        present = _present(state)
        if any(str(s) not in state["votes"] for s in present) and now < state["deadline"]:
            return
        state["phase"] = "done"
    if state["phase"] == "done" and not state["runs"]:
        state["runs"] = [str(p) for p in record(state, runs)]


def _scenario(rule: dict[str, Any]) -> Any:
    """The rule's scenario as the table plays it (a planner's rule fixed, its rounds set)."""
    sc = _fixed_rule(rule["source"])[0]
    sc.world.rounds = rule["rounds"]
    return sc


def _set_round_controls(world: Any, rule: dict[str, Any], r: int) -> None:
    """Set a replayed planner's controls of round ``r`` on the world, as the planner did."""
    replayed = rule.get("controls_by_round")
    if not replayed:
        return
    for name, value in zip(replayed["names"], replayed["values"][r]):
        label, _, field = name.partition(".")
        mech = world.pipeline.mechanisms[list(world.pipeline.labels).index(label)]
        mech.set_control(field, torch.tensor([[float(value)]]))


def _settle(state: dict[str, Any], rule_index: int) -> dict[str, Any]:
    """Play the next round of rule ``rule_index``: people's choices, agents for the rest, paid
    by coopsim's world."""
    rule = state["rules"][rule_index]
    played = state["rounds"][rule_index]
    r, n = len(played), rule["num_agents"]
    history = [{"contributions": p["contributions"], "net": p["net"]} for p in played]
    present = _present(state)
    world = builder.make_world(_scenario(rule), 1)
    world.reset(seed=state["seed"])
    for k, earlier in enumerate(played):
        _set_round_controls(world, rule, k)
        world.step(torch.tensor(earlier["levels"])[None, :, None])
    _set_round_controls(world, rule, r)
    obs = world.observe()  # the rules of the round about to be played, as a planner sets them
    levels, controllers = [], []
    for seat in range(n):
        if seat in present:
            levels.append(int(state["pending"][str(seat)]))
            controllers.append(HUMAN)
            continue
        agent = rule["agents"][str(seat)]
        rng = random.Random(f"{state['id']}-{state['seed']}-{rule_index}-{r}-{seat}")
        seen = obs[0, seat].tolist()  # what coopsim's world shows the seat
        levels.append(lab_agents.choose_level(agent, seat, r, history, rule, rng, obs=seen))
        controllers.append(rule["seat_policy"][seat])
    info = world.step(torch.tensor(levels)[None, :, None]).info
    labels = list(world.pipeline.labels)

    def seats(key: str) -> list[float]:
        return [round(float(x), 6) for x in info[key][0].tolist()]

    return {
        "levels": levels,
        "controllers": controllers,
        "contributions": seats("contribution"),
        "gross": seats("gross"),
        "net": seats("net"),
        "transfers": {label: seats(f"transfer_{label}") for label in labels},
    }


# -- the record -----------------------------------------------------------------------------
def record(state: dict[str, Any], runs: str | Path) -> list[Path]:
    """One run directory per rule the table played; the votes in each summary."""
    out = []
    n = state["num_agents"]
    names = [state["seats"][str(s)]["name"] if str(s) in state["seats"] else "" for s in range(n)]
    cast = {int(s): v for s, v in state["votes"].items()}
    counts = {k: sum(v == k for v in cast.values()) for k in LETTERS}
    for i, rule in enumerate(state["rules"]):
        played = state["rounds"][i]
        rows = len(played) * n
        columns: dict[str, list[Any]] = {
            "participant": names * len(played),
            "session": [state["id"]] * rows,
        }
        summary: dict[str, Any] = {
            "source": "play",
            "play": {
                "table": state["id"],
                "rule": LETTERS[i],
                "rule_source": rule["source"],
                "rule_text": rule["rule_text"],
                "population": rule.get("population"),
                "people": {
                    str(int(s) + 1): {"name": p["name"], "left": p["left"]}
                    for s, p in sorted(state["seats"].items())
                },
            },
        }
        if len(state["rules"]) > 1:
            columns["vote"] = [cast.get(s, "") for _ in played for s in range(n)]
            summary["votes"] = {
                "this_rule": LETTERS[i],
                "counts": counts,
                "share_for_this_rule": counts[LETTERS[i]] / len(cast) if cast else None,
                "by_seat": {str(s + 1): v for s, v in sorted(cast.items())},
            }
        controllers = [[p["controllers"] for p in played]]
        out.append(
            write_table_run(
                _scenario(rule),
                [played],
                controllers,
                runs,
                columns=columns,
                summary=summary,
                tag="table",
                policies=rule["seat_policy"],
            )
        )
    return out
