"""The seats no participant takes, played in plain Python: scripted rules and exported PPO actors.

Why plain Python: this file is copied into an exported oTree app, which runs without torch,
numpy or coopsim. An agent sees what coopsim's public-goods world would show it (the
observation is rebuilt here from the table's history, field by field, in the world's layout)
and answers with a contribution level, as coopsim's policies do. ``tests/lab`` holds the
observation and the actor to coopsim's own.
"""

from __future__ import annotations

import math
import random
from typing import Any


def observation(
    seat: int,
    round_index: int,
    history: list[dict[str, list[float]]],
    rule: dict[str, Any],
) -> list[float]:
    """What seat ``seat`` observes before contributing in round ``round_index`` (from 0).

    ``history`` holds each earlier round's ``contributions`` and ``net`` payoffs per seat; the
    layout is PublicGoodsWorld's (one-stage rounds): round progress, stage, first round, own
    last contribution and payoff, the others' mean last contribution, last contributions
    (own seat first, then the next seats), current contributions (zero), mechanism fields.
    """
    n = rule["num_agents"]
    e = rule["endowments"]
    last_c = history[-1]["contributions"] if history else [0.0] * n
    last_pay = history[-1]["net"] if history else [0.0] * n
    last = [c / ei for c, ei in zip(last_c, e)]  # shares of each seat's own endowment
    payoff_unit = rule["multiplier"] * max(e)
    others = (sum(last) - last[seat]) / (n - 1)
    ego = [last[(seat + k) % n] for k in range(n)]
    return [
        round_index / rule["rounds"],
        0.0,
        1.0 if round_index == 0 else 0.0,
        last[seat],
        last_pay[seat] / payoff_unit,
        others,
        *ego,
        *([0.0] * n),
        *mechanism_observation(seat, round_index, history, rule),
    ]


def mechanism_observation(
    seat: int, round_index: int, history: list[dict[str, Any]], rule: dict[str, Any]
) -> list[float]:
    """What the seat sees of the mechanisms: their parameters in force this round (a replayed
    planner's change by round), and for a tax also the marginal rate on the seat's next coin
    and its income of the period so far (/100), kept in the last round's ``state`` (see
    ``coopsim_rules.settle``)."""
    by_round = rule.get("mechanism_observation_by_round")
    out = list((by_round[round_index] if by_round else rule["mechanism_observation"])[seat])
    state = history[-1].get("state", {}) if history else {}
    for i, field in enumerate(rule.get("mechanism_fields", [])):
        if field["kind"] != "tax":
            continue
        p = mechanisms_of(rule, round_index)[i]["params"]
        income = state.get("income", {}).get(field["label"], [0.0] * rule["num_agents"])[seat]
        cutoffs = [float(b) * float(p["scale"]) for b in p["brackets"]]
        bracket = max(k for k, cut in enumerate(cutoffs) if cut <= income or k == 0)
        end = field["start"] + field["width"]
        out[end - 2] = float(p["rates"][bracket])
        out[end - 1] = income / 100
    return out


def mechanisms_of(rule: dict[str, Any], round_index: int) -> list[dict[str, Any]]:
    """The mechanisms in force in round ``round_index``: a replayed planner's by round."""
    by_round = rule.get("mechanisms_by_round")
    return by_round[round_index] if by_round else rule["mechanisms"]


def _linear(weight: list[list[float]], bias: list[float], x: list[float]) -> list[float]:
    return [sum(w * v for w, v in zip(row, x)) + b for row, b in zip(weight, bias)]


def actor_logits(actor: dict[str, Any], obs: list[float], seat: int) -> list[float]:
    """The contribution head's logits of an exported PPO actor (tanh MLP over the
    observation and the seat's one-hot, as coopsim's ActorCritic)."""
    x = obs + [1.0 if k == seat else 0.0 for k in range(actor["num_seats"])]
    for layer in actor["body"]:
        x = [math.tanh(v) for v in _linear(layer["weight"], layer["bias"], x)]
    logits = _linear(actor["head"]["weight"], actor["head"]["bias"], x)
    return logits[: actor["levels"]]


def schedule_share(schedule: list[float], others: float) -> float:
    """A conditional-contribution schedule read at the others' mean share: ``schedule[k]`` is
    the share given when the others gave ``k / (len - 1)``, linear in between."""
    k = len(schedule) - 1
    x = min(max(others, 0.0), 1.0) * k
    low = min(int(x), k - 1)
    return schedule[low] + (x - low) * (schedule[low + 1] - schedule[low])


def choose_level(
    agent: dict[str, Any],
    seat: int,
    round_index: int,
    history: list[dict[str, list[float]]],
    rule: dict[str, Any],
    rng: random.Random,
    obs: list[float] | None = None,
) -> int:
    """The contribution level (0 .. levels-1) an agent picks for this round; ``obs``, where
    given, is what the seat observes (coopsim's world's own), else it is rebuilt from
    ``history``."""
    levels = rule["levels"]
    policy = agent["policy"]
    params = agent.get("params", {})
    if obs is None:
        obs = observation(seat, round_index, history, rule)
    first, others = obs[2] > 0, obs[5]
    if policy == "always_contribute":
        share = 1.0
    elif policy == "free_rider":
        share = 0.0
    elif policy == "conditional_cooperator":
        share = float(params.get("initial", 1.0)) if first else others
    elif policy == "hump_shaped":
        peak, turn = float(params.get("peak", 0.5)), float(params.get("turn", 0.5))
        tent = peak * min(max(min(others / turn, (1.0 - others) / (1.0 - turn)), 0.0), 1.0)
        share = peak if first else tent
    elif policy == "people_schedule":
        share = float(params["initial"]) if first else schedule_share(params["schedule"], others)
    elif policy == "random":
        return rng.randrange(levels)
    elif policy == "punisher":
        share = float(params.get("contribution", 1.0))
    elif policy == "tit_for_tat":
        threshold = float(params.get("threshold", 0.5))
        share = 1.0 if first or others >= threshold - 1e-6 else 0.0
    elif policy == "actor":
        logits = actor_logits(agent["actor"], obs, agent["seat_index"])
        if agent.get("greedy", False):
            return max(range(levels), key=lambda k: logits[k])
        top = max(logits)
        weights = [math.exp(v - top) for v in logits]
        return rng.choices(range(levels), weights=weights)[0]
    else:
        raise ValueError(f"policy {policy!r} cannot play in the lab")
    share = min(max(share, 0.0), 1.0)
    return int(round(share * (levels - 1)))  # half to even, as torch.round


def choose_points(
    agent: dict[str, Any], seat: int, contributions: list[float], rule: dict[str, Any]
) -> list[int]:
    """The punishment points an agent gives each seat (its own 0) in the round's second stage,
    having seen the round's ``contributions``: a punisher gives ``points`` to each other seat
    whose share of its endowment is below ``threshold``; other scripted agents punish no one."""
    n = rule["num_agents"]
    out = [0] * n
    if agent["policy"] != "punisher":
        return out
    params = agent.get("params", {})
    cap = max(
        (
            int(m["params"]["max_points"])
            for m in rule["mechanisms"]
            if m["kind"] == "peer_punishment"
        ),
        default=0,
    )
    threshold, points = float(params.get("threshold", 0.5)), int(params.get("points", 3))
    for other in range(n):
        share = contributions[other] / rule["endowments"][other]
        if other != seat and share < threshold - 1e-6:
            out[other] = min(points, cap)
    return out
