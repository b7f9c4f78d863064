"""Every registered world and mechanism passes its conformance kit.

The runs iterate ``WORLDS`` and ``MECHANISMS``, so a new world or mechanism is held to the
protocol as soon as it is registered. A configuration that exercises what the defaults leave
idle (a nonzero tax, a randomness-free economy) is one line in the lists below.
"""

from __future__ import annotations

import pytest

from coopsim.conformance import check_mechanism, check_world
from coopsim.envs import WORLDS
from mechanisms import MECHANISMS

SMALL_ECONOMY = {"height": 9, "width": 9, "view_radius": 2, "episode_length": 30}
# The economy without randomness (a text map, given skills and start tiles, a gather bonus of
# 0 or 1, resources that regrow at once): its worlds can be compared with single worlds, and
# replicated copies must step alike.
SEED_FREE_ECONOMY = {
    "layout": "text",
    "map_text": "ww..ss.\nw.....s\n..W.W..\n.......\nss...ww\n.W...W.\n..ss...",
    "num_agents": 3,
    "start_positions": [0, 2, 3, 3, 6, 6],
    "build_skills": [1.0, 2.0, 3.0],
    "gather_skills": [0.0, 1.0, 1.0],
    "regen_prob": 1.0,
    "episode_length": 30,
    "view_radius": 2,
    "max_price": 3,
}

# (kind, config overrides, checks the case exists to exercise: they must run, not be skipped)
WORLD_CASES: list[tuple[str, dict, set[str]]] = [(kind, {}, set()) for kind in WORLDS] + [
    ("economy", SEED_FREE_ECONOMY, {"batched equals single", "replicate steps alike"}),
    ("economy", {**SMALL_ECONOMY, "layout": "uniform"}, {"seeds differ", "replicate"}),
    ("public_goods", {"num_agents": 2, "rounds": 3, "levels": 3}, set()),
    ("matrix_game", {"game": "stag_hunt", "num_agents": 5}, set()),
    ("one_step_economy", {"num_agents": 6, "skill_seed": 3, "labour_levels": 4}, set()),
]

SAEZ = "a Saez schedule sets every world's rates from the incomes of all of them"
CONTROLS = {"parameters per world"}
# (kind, params, why the worlds of a batch are meant to affect each other or None, and the
# checks the case exists to exercise, in every world it runs in)
MECHANISM_CASES: list[tuple[str, dict, str | None, set[str]]] = [
    (kind, {}, None, set()) for kind in MECHANISMS
] + [
    ("tax", {"schedule": "flat", "rates": [0.3]}, None, CONTROLS),
    ("tax", {"schedule": "us_federal_2018", "scale": 0.001, "period": 3}, None, CONTROLS),
    ("tax", {"schedule": "saez", "brackets": [0.0, 10.0, 40.0], "period": 2}, SAEZ, set()),
    ("lump_sum", {"share": 0.5}, None, set()),
    ("sanction_institution", {"fine": 2.0, "fee": 0.5}, None, set()),
    ("provision_point", {"threshold": 0.9, "refund": False}, None, set()),
    ("matching", {"rate": 0.5}, None, set()),
    ("peer_punishment", {"cost": 0.5, "impact": 2.0, "max_points": 3}, None, set()),
]
MECHANISM_WORLDS = {"economy": {**SMALL_ECONOMY, "episode_length": 12}}


def case_id(kind: str, params: dict, *_) -> str:
    return kind + "".join(f"-{k}={v}" for k, v in params.items() if k != "map_text")


@pytest.mark.parametrize(
    ("kind", "config", "exercised"), WORLD_CASES, ids=[case_id(*c) for c in WORLD_CASES]
)
def test_world_conforms(kind, config, exercised):
    report = check_world(kind, **config)
    assert exercised <= set(report.passed), report.skipped
    assert {"spec", "shapes", "info schema", "seeds reproduce", "reset"} <= set(report.passed)


@pytest.mark.parametrize(
    ("kind", "params", "coupled", "exercised"),
    MECHANISM_CASES,
    ids=[case_id(*c) for c in MECHANISM_CASES],
)
def test_mechanism_conforms(kind, params, coupled, exercised):
    report = check_mechanism(kind, coupled=coupled, world_configs=MECHANISM_WORLDS, **params)
    applies = MECHANISMS[kind].worlds or tuple(WORLDS)
    for world in applies:
        for where in (f"world {world!r}", f"world {world!r} after a levy"):
            for check in {"budget balance", "state round-trip", "reset"} | exercised:
                assert f"mechanism {kind!r} in {where}: {check}" in report.passed
