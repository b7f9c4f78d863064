"""Who does what in the gather-trade-build economy: specialisation from evaluation rollouts.

The AI Economist's agents specialise by skill: the highly skilled build, the others gather and
sell them resources. This module measures that from the tidy evaluation rows that
:func:`coopsim.evaluate.evaluate` returns (and ``episodes.parquet`` holds), using the economy's
per-step counters: ``moved``, ``gathers``, ``built``, ``orders`` (successful acts and posted
orders) and ``build_income`` / ``sale_income`` (coin earned from houses and from sales).

Agents are compared by *skill rank within their episode* (0 = lowest build skill), because
skills are drawn afresh for every world: seat 2 is nobody in particular, the least skilled
agent of each episode is a role.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

#: Activities in the order figures stack them, with the step counter that counts each.
ACTIVITIES = {"moving": "moved", "gathering": "gathers", "building": "built", "trading": "orders"}
#: Income sources and their per-step columns.
INCOME_SOURCES = {"building": "build_income", "selling": "sale_income"}


def labour_weights(world: object | Mapping | None = None) -> dict[str, float]:
    """Labour of one act per activity, from an EconomyConfig (or its dict); defaults if None."""
    from coopsim.envs.economy import EconomyConfig

    if world is None:
        world = EconomyConfig()
    get = world.get if isinstance(world, Mapping) else lambda k, d: getattr(world, k, d)
    d = EconomyConfig()
    return {
        "moving": float(get("move_labour", d.move_labour)),
        "gathering": float(get("gather_labour", d.gather_labour)),
        "building": float(get("build_labour", d.build_labour)),
        "trading": float(get("order_labour", d.order_labour)),
    }


def agent_activity(episodes: pd.DataFrame) -> pd.DataFrame:
    """One row per (episode, agent): acts per activity, income per source, skill and rank.

    Columns: episode, agent, build_skill, skill_rank (0 = least skilled in its episode), one
    column per activity (counts of successful acts; orders posted for trading), and
    ``build_income`` / ``sale_income`` in coin.
    """
    need = {"episode", "agent", "build_skill", *ACTIVITIES.values(), *INCOME_SOURCES.values()}
    missing = sorted(need - set(episodes.columns))
    if missing:
        raise ValueError(f"not an economy rollout: missing columns {', '.join(missing)}")
    per = episodes.groupby(["episode", "agent"], sort=True, observed=True)
    sums = per[[*ACTIVITIES.values(), *INCOME_SOURCES.values()]].sum()
    out = sums.rename(columns={v: k for k, v in ACTIVITIES.items()})
    out.insert(0, "build_skill", per["build_skill"].first())
    out = out.reset_index()
    # Rank by skill within the episode; ties broken by seat so every rank is filled once.
    out["skill_rank"] = (
        out.sort_values(["episode", "build_skill", "agent"]).groupby("episode").cumcount()
    )
    return out


def specialisation(
    episodes: pd.DataFrame, labour: Mapping[str, float] | None = None
) -> pd.DataFrame:
    """Per skill rank: shares of acts and of labour per activity, and income by source.

    Shares pool every episode (acts of rank r over all episodes / all acts of rank r), so an
    agent that did nothing in one episode does not make a share undefined. Columns:
    skill_rank, build_skill (mean), episodes, ``actions_<activity>`` (mean acts per episode),
    ``action_share_<activity>``, ``labour_share_<activity>``, ``income_building`` and
    ``income_selling`` (mean coin per episode).
    """
    weights = dict(labour or labour_weights())
    acts = agent_activity(episodes)
    by = acts.groupby("skill_rank", sort=True)
    total = by[list(ACTIVITIES)].sum()  # [ranks, activities] pooled over episodes
    n_eps = by.size()
    out = pd.DataFrame({"build_skill": by["build_skill"].mean(), "episodes": n_eps})
    labour = total * pd.Series(weights)[list(ACTIVITIES)]
    act_sum = total.sum(axis=1).replace(0, np.nan)
    lab_sum = labour.sum(axis=1).replace(0, np.nan)
    for name in ACTIVITIES:
        out[f"actions_{name}"] = total[name] / n_eps
    for name in ACTIVITIES:
        out[f"action_share_{name}"] = (total[name] / act_sum).fillna(0.0)
    for name in ACTIVITIES:
        out[f"labour_share_{name}"] = (labour[name] / lab_sum).fillna(0.0)
    for source, column in INCOME_SOURCES.items():
        out[f"income_{source}"] = by[column].sum() / n_eps
    return out.reset_index()


#: Market columns of a rollout: units each agent bought and sold at a step (resources summed).
TRADES = ("bought", "sold")


def roles(episodes: pd.DataFrame, labour: Mapping[str, float] | None = None) -> pd.DataFrame:
    """Per skill rank: the labour shares and income of :func:`specialisation`, with the units
    bought and sold per episode, to tell the paper's roles apart.

    In the AI Economist low-skill agents gather and sell resources and high-skill agents buy
    them and build: a market of roles shows as ``net_sold`` (units sold less units bought)
    falling with skill rank while ``labour_share_building`` rises. Columns: those of
    :func:`specialisation`, then ``bought``, ``sold`` and ``net_sold`` (mean units per episode).
    """
    missing = sorted(set(TRADES) - set(episodes.columns))
    if missing:
        raise ValueError(
            f"not an economy rollout with trades: missing columns {', '.join(missing)}"
        )
    table = specialisation(episodes, labour).set_index("skill_rank")
    acts = agent_activity(episodes)
    per = episodes.groupby(["episode", "agent"], sort=True, observed=True)[list(TRADES)].sum()
    trades = acts.set_index(["episode", "agent"])[["skill_rank"]].join(per)
    by = trades.groupby("skill_rank", sort=True)[list(TRADES)].mean()  # per agent-episode
    table[list(TRADES)] = by
    table["net_sold"] = by["sold"] - by["bought"]
    return table.reset_index()
