"""Roles by skill rank: who sells resources and who buys them, beside the labour shares."""

from __future__ import annotations

import pandas as pd
import pytest

from coopsim.analysis.economy import roles


def frame() -> pd.DataFrame:
    """Two episodes of two steps; in each, the less skilled agent gathers and sells and the
    more skilled one buys and builds. Seats swap skills between episodes, so a table by seat
    would mix the roles and one by skill rank must not."""
    rows = []
    for episode, skills in ((0, (1.0, 2.0)), (1, (3.0, 1.5))):
        low = 0 if skills[0] < skills[1] else 1
        for step in range(2):
            for agent in (0, 1):
                seller = agent == low
                rows.append(
                    {
                        "episode": episode,
                        "round": step,
                        "agent": agent,
                        "build_skill": skills[agent],
                        "moved": 1.0,
                        "gathers": 1.0 if seller else 0.0,
                        "built": 0.0 if seller else float(step),
                        "orders": 1.0,
                        "bought": 0.0 if seller else 2.0,
                        "sold": 2.0 if seller else 0.0,
                        "build_income": 0.0 if seller else 10.0 * step,
                        "sale_income": 6.0 if seller else 0.0,
                    }
                )
    return pd.DataFrame(rows)


def test_sellers_and_builders_are_told_apart_by_skill_rank():
    labour = {"moving": 1.0, "gathering": 1.0, "building": 10.0, "trading": 0.5}
    table = roles(frame(), labour).set_index("skill_rank")
    assert table["sold"].tolist() == [4.0, 0.0]  # 2 units at each of 2 steps, per episode
    assert table["bought"].tolist() == [0.0, 4.0]
    assert table["net_sold"].tolist() == [4.0, -4.0]
    assert table["build_skill"].tolist() == pytest.approx([1.25, 2.5])
    # rank 0: per episode 2 moves, 2 gathers, 2 orders -> labour 2 + 2 + 1 = 5
    assert table.loc[0, "labour_share_gathering"] == pytest.approx(2 / 5)
    assert table.loc[0, "labour_share_building"] == 0.0
    # rank 1: 2 moves, 1 house, 2 orders -> 2 + 10 + 1 = 13
    assert table.loc[1, "labour_share_building"] == pytest.approx(10 / 13)
    assert table.loc[1, "income_building"] == 10.0 and table.loc[0, "income_selling"] == 12.0


def test_a_rollout_without_trades_is_refused_by_name():
    with pytest.raises(ValueError, match="missing columns bought, sold"):
        roles(frame().drop(columns=["bought", "sold"]))
