"""The AI Economist's fixed four skills and corner starts, and its gather bonus of its own."""

from __future__ import annotations

import pytest
import torch

from coopsim.envs.economy import EconomyConfig, EconomyWorld
from coopsim.envs.economy.skills import (
    fixed_four_skills,
    fixed_four_starts,
    pareto_gather_bonus,
)

PAPER = dict(
    layout="builtin", map_name="simple_wood_and_stone", skills="fixed_four", gather_bonus="pareto"
)


def test_fixed_four_payments_are_the_references_to_the_last_digit():
    # the reference (layout_from_file.py:183-192) prints 11.33164062 13.26711234 16.47237295
    # 22.2496143 for build payment 10, payment_max_skill_multiplier 3, four agents
    pay = [10 * s for s in fixed_four_skills(4, 3.0, 4.0)]
    assert pay == pytest.approx([11.33164062, 13.26711234, 16.47237295, 22.2496143], abs=1e-6)
    assert [round(p, 1) for p in pay] == [11.3, 13.3, 16.5, 22.2]


def test_corner_starts_by_rank_four_to_a_row():
    assert fixed_four_starts(4, 25, 25) == [(0, 24), (24, 0), (0, 0), (24, 24)]
    # eight agents: two per corner, the second one step along the corner's row
    assert fixed_four_starts(8, 25, 25) == [
        (0, 24), (0, 23), (24, 0), (24, 1), (0, 0), (0, 1), (24, 24), (24, 23)
    ]  # fmt: skip


def test_worlds_shuffle_the_four_ranks_over_the_seats_each_with_its_corner():
    cfg = EconomyConfig(**PAPER)
    cfg.validate()
    w = EconomyWorld(cfg, batch_size=64)
    skills = torch.tensor(fixed_four_skills(4, 3.0, 4.0))  # [4] by rank
    rank = (w.state.build_skill[..., None] == skills).long().argmax(-1)  # [B, N]
    assert torch.equal(rank.sort(-1).values, torch.arange(4).expand(64, -1))  # a permutation
    corners = torch.tensor(fixed_four_starts(4, 25, 25))  # [4, 2]
    assert torch.equal(w.positions(), corners[rank])  # each seat at its rank's corner
    assert len({tuple(r.tolist()) for r in rank}) > 10  # ranks differ between worlds
    w.reset(seed=1)
    again = (w.state.build_skill[..., None] == skills).long().argmax(-1)
    assert not torch.equal(again, rank)  # and between resets


def test_pareto_gather_bonus_has_the_references_distribution_and_ignores_build_skill():
    gen = torch.Generator().manual_seed(0)
    bonus = pareto_gather_bonus(gen, 20_000, 4, "cpu")
    assert bonus.min() >= 0 and bonus.max() <= 1
    # min(2, Lomax(3)) / 2: mean (1/2 - 1/18) / 2 = 2/9, and P(bonus = 1) = 3^-3 = 1/27
    assert float(bonus.mean()) == pytest.approx(2 / 9, abs=0.005)
    assert float((bonus == 1).float().mean()) == pytest.approx(1 / 27, abs=0.004)
    cfg = EconomyConfig(gather_bonus="pareto")
    cfg.validate()
    s = EconomyWorld(cfg, batch_size=256).state
    tied = (s.build_skill - 1) / (cfg.max_skill - 1)
    assert not torch.allclose(s.gather_bonus, tied)
    corr = torch.corrcoef(torch.stack([s.build_skill.flatten(), s.gather_bonus.flatten()]))[0, 1]
    assert abs(float(corr)) < 0.1  # 1024 pairs: independent draws


def test_default_skills_keep_their_random_stream():
    """The options are off by default: the same seed gives the same worlds as before."""
    cfg = EconomyConfig()
    cfg.validate()
    s = EconomyWorld(cfg, batch_size=4).state
    assert torch.allclose(s.gather_bonus, (s.build_skill - 1) / (cfg.max_skill - 1))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (dict(build_skills=[1.0, 1.0, 2.0, 3.0]), "drop build_skills"),
        (dict(start_positions=[0, 0, 0, 1, 0, 2, 0, 3]), "drop start_positions"),
        (dict(gather_skills=[0.1] * 4, build_skills=None), "drop gather_skills"),
    ],
)
def test_fixed_four_refuses_skills_or_starts_given_by_hand(change, message):
    cfg = EconomyConfig(**{**PAPER, **change})
    with pytest.raises(ValueError, match=message):
        cfg.validate()


def test_fixed_four_corners_on_water_are_refused():
    cfg = EconomyConfig(skills="fixed_four", layout="text", map_text="W..\n...\n...")
    cfg.validate()
    with pytest.raises(ValueError, match="corners"):
        EconomyWorld(cfg)
