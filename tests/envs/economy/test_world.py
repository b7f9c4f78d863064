"""Behaviour checks of the gather-trade-build economy on hand-built tiny maps."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch

from coopsim.agents.economy_scripted import GatherBuild, GatherBuildParams
from coopsim.envs import WORLDS
from coopsim.envs.economy import EconomyConfig, EconomyWorld
from coopsim.envs.economy.maps import WATER, parse_map, quadrant
from coopsim.schema import ConfigError, build
from mechanisms.base import Pipeline
from mechanisms.redistribution import LumpSum, LumpSumParams
from mechanisms.tax import BracketTax, TaxParams

REST, UP, DOWN, LEFT, RIGHT, GATHER, BUILD = range(7)
P = 11  # price levels 0..10


def bid(price: int) -> int:
    return 1 + price


def ask(price: int) -> int:
    return 1 + P + price


def tiny(text: str, starts: list[int], n: int = 2, pipeline=None, batch: int = 1, **kw):
    cfg = EconomyConfig(
        num_agents=n,
        layout="text",
        map_text=text,
        start_positions=starts,
        build_skills=kw.pop("build_skills", [1.0] * n),
        gather_skills=kw.pop("gather_skills", [0.0] * n),
        view_radius=kw.pop("view_radius", 2),
        **kw,
    )
    cfg.validate()
    return EconomyWorld(cfg, pipeline, batch_size=batch)


def act(world: EconomyWorld, *per_agent: tuple[int, int, int] | int):
    """Actions [B, N, 3] from one (act, wood order, stone order) per agent, same in each world."""
    rows = [a if isinstance(a, tuple) else (a, 0, 0) for a in per_agent]
    a = torch.tensor(rows, dtype=torch.long)[None].expand(world.batch_size, -1, -1)
    return world.step(a)


def test_registered_and_spec():
    assert WORLDS["economy"] == (EconomyConfig, EconomyWorld)
    w = EconomyWorld(EconomyConfig(), batch_size=2)
    c, s, _ = w.spec.map_shape
    assert (s, w.spec.action_nvec) == (11, (7, 23, 23))
    assert w.spec.obs_fields["map"].stop - w.spec.obs_fields["map"].start == c * s * s
    assert w.reset(seed=3).shape == (2, 4, w.spec.obs_dim)


def test_gather_yields_one_unit_plus_skill_bonus_and_costs_labour():
    w = tiny(".w.s.", [0, 1, 0, 3], gather_skills=[0.0, 1.0], regen_prob=0.5)
    step = act(w, GATHER, GATHER)
    assert w.state.stock[0].tolist() == [[1.0, 0.0], [0.0, 2.0]]  # agent 1 always gets its bonus
    assert step.info["gathered"][0].tolist() == [1.0, 2.0]
    assert w.state.labour[0].tolist() == [1.0, 1.0]
    assert not w.resources()[0].any()  # both tiles emptied
    # Gathering an empty tile does nothing and costs nothing.
    step = act(w, GATHER, REST)
    if not w.resources()[0, 0, 0, 1]:
        assert step.info["gathered"][0, 0] == 0 and w.state.labour[0, 0] == 1.0


def test_resources_regrow():
    w = tiny("w..", [0, 0], n=1, regen_prob=1.0)
    act(w, GATHER)
    assert not w.resources()[0, 0, 0, 0]
    act(w, REST)
    assert w.resources()[0, 0, 0, 0]  # back one step later with probability 1
    act(w, GATHER)
    assert w.state.stock[0, 0, 0] == 2


def test_build_pays_skill_times_payment_and_leaves_a_house():
    w = tiny("ws.", [0, 0], n=1, build_skills=[2.5], regen_prob=1.0)
    act(w, GATHER)  # wood
    act(w, RIGHT)
    act(w, GATHER)  # stone
    step = act(w, BUILD)  # on a source tile: refused
    assert step.info["built"][0, 0] == 0 and w.state.coin[0, 0] == 0
    act(w, RIGHT)
    step = act(w, BUILD)
    assert step.info["built"][0, 0] == 1
    assert w.state.coin[0, 0].item() == pytest.approx(25.0)
    assert w.state.stock[0, 0].tolist() == [0.0, 0.0]
    assert w.houses()[0, 0, 2] == 0
    # labour: 2 gathers + 2 moves + 1 build, nothing for the refused build
    assert w.state.labour[0, 0].item() == pytest.approx(2 + 2 + 10)
    assert step.info["gross"][0, 0].item() == pytest.approx(25.0)
    assert step.info["income"][0, 0].item() == pytest.approx(25.0)
    # no second house on the same tile, even with the goods
    w.state.stock += 1
    step = act(w, BUILD)
    assert step.info["built"][0, 0] == 0


def test_moves_blocked_by_water_edges_houses_and_agents():
    w = tiny("..W\n...", [0, 1, 1, 1])
    act(w, RIGHT, DOWN)  # into water; off the map
    assert w.positions()[0].tolist() == [[0, 1], [1, 1]]
    act(w, DOWN, REST)  # into an occupied tile
    assert w.positions()[0].tolist() == [[0, 1], [1, 1]]
    act(w, LEFT, RIGHT)
    assert w.positions()[0].tolist() == [[0, 0], [1, 2]]
    assert w.state.labour[0].tolist() == [1.0, 1.0]  # only the moves that happened
    # a house blocks everyone but its owner
    w = tiny("....", [0, 0, 0, 2])
    w.state.stock[0, 1] = 1
    act(w, REST, BUILD)
    assert w.houses()[0, 0, 2] == 1
    act(w, REST, RIGHT)
    act(w, RIGHT, REST)
    act(w, RIGHT, REST)  # agent 0 may not enter agent 1's house
    assert w.positions()[0].tolist() == [[0, 1], [0, 3]]
    act(w, REST, LEFT)  # the owner may
    assert w.positions()[0].tolist() == [[0, 1], [0, 2]]


def test_move_conflict_priority_rotates():
    # Agents 0 and 1 both step into the middle tile; rank (i - t) mod N picks the winner.
    w = tiny("...", [0, 0, 0, 2])
    act(w, RIGHT, LEFT)  # t = 0: agent 0 first
    assert w.positions()[0].tolist() == [[0, 1], [0, 2]]
    w2 = tiny("...", [0, 0, 0, 2])
    act(w2, REST, REST)
    act(w2, RIGHT, LEFT)  # t = 1: agent 1 first
    assert w2.positions()[0].tolist() == [[0, 0], [0, 1]]


def test_auction_trades_at_the_resting_price():
    w = tiny("...", [0, 0, 0, 2])
    w.state.coin[0] = torch.tensor([0.0, 20.0])
    w.state.stock[0, 0, 0] = 5.0  # seller holds 5 wood
    act(w, (REST, ask(4), 0), REST)  # ask rests on the book, one wood escrowed
    assert w.state.stock[0, 0, 0] == 4 and w.state.order_price[0, 0, 0, 1, 0] == 4
    step = act(w, REST, (REST, bid(6), 0))  # crosses: trades at the resting ask, 4
    assert step.info["bought"][0].tolist() == [0.0, 1.0]
    assert step.info["sold"][0].tolist() == [1.0, 0.0]
    assert w.state.coin[0].tolist() == [4.0, 16.0]
    assert w.state.stock[0, :, 0].tolist() == [4.0, 1.0]
    assert (w.state.order_price < 0).all()  # both orders closed, the bid's extra escrow returned
    assert step.info["income"][0].tolist() == [4.0, 0.0]
    assert step.info["gross"][0].tolist() == [4.0, -4.0]
    # Both orders new in the same step: the midpoint.
    step = act(w, (REST, ask(3), 0), (REST, bid(6), 0))
    assert w.state.coin[0].tolist() == [8.5, 11.5]
    # Orders that do not cross rest; the best bid meets the best ask first.
    step = act(w, (REST, ask(7), 0), (REST, bid(2), 0))
    assert step.info["orders"][0].tolist() == [1.0, 1.0]
    assert (w.state.order_price >= 0).sum() == 2
    step = act(w, (REST, ask(5), 0), (REST, bid(5), 0))  # 5 meets 5, the 7 and 2 stay
    assert step.info["coin"][0].tolist() == [13.5, 6.5]  # coin with escrow
    assert w.state.coin[0].tolist() == [13.5, 4.5]  # liquid: the bid at 2 holds 2
    assert sorted(w.state.order_price[w.state.order_price >= 0].tolist()) == [2, 7]


def test_orders_need_cover_respect_the_cap_and_expire():
    w = tiny("...", [0, 0, 0, 2], max_orders=2, order_duration=3)
    w.state.coin[0, 1] = 5.0
    step = act(w, (REST, ask(1), 0), (REST, bid(9), bid(3)))  # no wood; bid 9 > coin 5
    assert step.info["orders"][0].tolist() == [0.0, 1.0]  # only the stone bid at 3
    assert w.state.coin[0, 1] == 2.0  # 3 escrowed
    act(w, REST, (REST, 0, bid(1)))
    step = act(w, REST, (REST, 0, bid(1)))  # third open bid: over the cap of 2
    assert step.info["orders"][0, 1] == 0
    assert step.info["coin"][0, 1] == 5.0  # coin counts escrow
    act(w, REST, REST)  # the first bid reaches age 3 and expires
    assert w.state.coin[0, 1] == 4.0 and (w.state.order_price[0, 1] >= 0).sum() == 1


def test_self_trade_is_cancelled():
    w = tiny("...", [0, 0, 0, 2])
    w.state.coin[0, 0] = 10.0
    w.state.stock[0, 0, 1] = 1.0
    step = act(w, (REST, 0, ask(2)), REST)
    step = act(w, (REST, 0, bid(5)), REST)
    assert step.info["bought"].sum() == 0
    assert w.state.coin[0, 0] == 10.0 and w.state.stock[0, 0, 1] == 1.0
    assert (w.state.order_price < 0).all()


def tax_pipeline(n: int, rate: float, period: int, batch: int = 1) -> Pipeline:
    params = build(TaxParams, {"schedule": "flat", "rates": [rate], "period": period})
    return Pipeline(
        [
            BracketTax(params, n, batch, torch.device("cpu")),
            LumpSum(LumpSumParams(), n, batch, torch.device("cpu")),
        ]
    )


def test_taxes_collected_each_period_and_rebated_equally():
    w = tiny("ws..", [0, 0, 0, 3], pipeline=tax_pipeline(2, 0.4, period=4), regen_prob=1.0)
    seq = [GATHER, RIGHT, GATHER, RIGHT]  # agent 0 then builds at step 4 (period 2)
    for a in seq:
        step = act(w, a, REST)
        assert step.info["transfer_tax"].abs().sum() == 0 or a == RIGHT
    step = act(w, BUILD, REST)  # t = 4, within the second period
    assert step.info["transfer_tax"].abs().sum() == 0
    for _ in range(2):
        act(w, REST, REST)
    step = act(w, REST, REST)  # t = 7 closes the second period
    tax = step.info["transfer_tax"][0]
    rebate = step.info["transfer_lump_sum"][0]
    assert tax.tolist() == pytest.approx([-4.0, 0.0])
    assert rebate.tolist() == pytest.approx([2.0, 2.0])
    for flow in step.flows.values():
        assert flow.imbalance().abs().max() < 1e-6
    assert w.state.coin[0].tolist() == pytest.approx([8.0, 2.0])
    assert (tax + rebate).sum() == pytest.approx(0.0)


def test_accrued_taxes_are_felt_when_income_is_earned_with_the_same_utility_at_collection():
    """Build at t = 4 in a period of 4 steps (t = 4..7) with a 40% tax rebated to 2 agents.

    Collected: the house pays 10 coin now and the tax (-4) and rebate (+2 each) land at t = 7.
    Accrued: at t = 4 the builder already counts 10 - 4 + 2 = 8 and the other agent 2; the
    utility at the collection, and so the sum of rewards, is the same either way.
    """
    eta = 0.23

    def u(coin: float) -> float:
        return (coin ** (1 - eta) - 1) / (1 - eta)

    def play(accounting: str):
        w = tiny("ws..", [0, 0, 0, 3], pipeline=tax_pipeline(2, 0.4, period=4),
                 regen_prob=1.0, build_skills=[1.0, 1.0], labour_cost=0.0,
                 tax_accounting=accounting)  # fmt: skip
        for a in (GATHER, RIGHT, GATHER, RIGHT):
            act(w, a, REST)
        rewards = [act(w, BUILD, REST).reward[0]]
        rewards += [act(w, REST, REST).reward[0] for _ in range(3)]
        return torch.stack(rewards), w.state.utility[0]

    collected, u_collected = play("collected")
    accrued, u_accrued = play("accrued")
    assert collected[0].tolist() == pytest.approx([u(10.0) - u(0.0), 0.0], rel=1e-5)
    assert accrued[0].tolist() == pytest.approx([u(8.0) - u(0.0), u(2.0) - u(0.0)], rel=1e-5)
    assert accrued[1:].abs().max() < 1e-5  # nothing left to settle at the collection
    assert collected[3].tolist() == pytest.approx([u(8.0) - u(10.0), u(2.0) - u(0.0)], rel=1e-5)
    assert u_accrued.tolist() == pytest.approx(u_collected.tolist(), rel=1e-6)
    assert accrued.sum(0).tolist() == pytest.approx(collected.sum(0).tolist(), rel=1e-5)


def test_accrued_accounting_keeps_each_episode_return_under_random_play():
    b, n = 8, 4
    returns = {}
    for accounting in ("collected", "accrued"):
        pipe = Pipeline(
            [
                BracketTax(
                    build(TaxParams, {"schedule": "us_federal_2018", "period": 10,
                                      "scale": 0.001}),
                    n, b, torch.device("cpu"),
                ),
                LumpSum(LumpSumParams(), n, b, torch.device("cpu")),
            ]
        )  # fmt: skip
        cfg = EconomyConfig(episode_length=40, layout="uniform", tax_accounting=accounting)
        w = EconomyWorld(cfg, pipe, batch_size=b)
        w.reset(seed=5)
        w.state.stock += 3.0
        gen = torch.Generator().manual_seed(5)
        total, taxed = torch.zeros(b, n), 0.0
        for _ in range(40):
            allowed = w.action_mask().float() + 1e-3
            heads = allowed.split(list(w.spec.action_nvec), -1)
            a = torch.stack([torch.multinomial(h.reshape(b * n, -1), 1, generator=gen)
                             .reshape(b, n) for h in heads], -1)  # fmt: skip
            step = w.step(a)
            total += step.reward
            taxed += float(step.info["transfer_tax"].abs().sum())
        assert taxed > 0  # houses were built and taxed
        returns[accounting] = total
    assert torch.allclose(returns["accrued"], returns["collected"], atol=1e-3)


def test_utility_is_isoelastic_coin_minus_labour_and_reward_is_its_change():
    w = tiny("ws.", [0, 0], n=1, build_skills=[3.0], regen_prob=1.0)
    total = 0.0
    for a in (GATHER, RIGHT, GATHER, RIGHT, BUILD):
        total += act(w, a).reward[0, 0].item()
    eta, labour = 0.23, 2 + 2 + 10
    u = (30.0 ** (1 - eta) - 1) / (1 - eta) - 0.21 * labour
    u0 = (0.0 - 1) / (1 - eta)
    assert w.state.utility[0, 0].item() == pytest.approx(u, rel=1e-5)
    assert total == pytest.approx(u - u0, rel=1e-5)
    w.set_labour_scale(0.0)
    w.reset()
    for a in (GATHER, RIGHT, GATHER, RIGHT, BUILD):
        act(w, a)
    assert w.state.utility[0, 0].item() == pytest.approx(
        (30.0 ** (1 - eta) - 1) / (1 - eta), rel=1e-5
    )


def test_scripted_gather_build_earns_what_the_rules_say():
    w = tiny("ws.\n...", [0, 0], n=1, build_skills=[2.0], regen_prob=1.0, view_radius=3)
    policy = GatherBuild(w.spec, GatherBuildParams())
    gen = torch.Generator().manual_seed(0)
    obs = w.reset(seed=0)
    acts, built_at = [], []
    for t in range(30):
        a = policy.act(obs, gen)
        step = w.step(a)
        obs = step.obs
        acts.append(int(a[0, 0, 0]))
        if step.info["built"][0, 0]:
            built_at.append(t)
    # gather wood, step right, gather stone, step onto land, build: first house at t = 4
    assert acts[:5] == [GATHER, RIGHT, GATHER, RIGHT, BUILD]
    assert built_at[0] == 4
    houses = len(built_at)
    assert houses >= 3
    assert int((w.houses() == 0).sum()) == houses
    assert w.state.coin[0, 0].item() == pytest.approx(houses * 2.0 * 10.0)
    moves = sum(1 for a in acts if a in (UP, DOWN, LEFT, RIGHT))
    gathers = sum(1 for a in acts if a == GATHER)
    assert w.state.labour[0, 0].item() == pytest.approx(moves + gathers + 10 * houses)


def test_batched_worlds_equal_single_worlds():
    text = "w.s..\n..W..\ns..w."
    starts = [0, 1, 2, 1, 1, 4]
    kw = dict(n=3, regen_prob=1.0, gather_skills=[0.0, 1.0, 0.0], build_skills=[1.0, 2.0, 3.0])
    gen = torch.Generator().manual_seed(1)
    nvec = torch.tensor([7, 23, 23])
    actions = (torch.rand(40, 3, 3, 3, generator=gen) * nvec).long()  # [T, B, N, H]
    batched = tiny(text, starts, batch=3, pipeline=tax_pipeline(3, 0.3, 5, batch=3), **kw)
    out = [batched.step(actions[t]) for t in range(40)]
    for b in range(3):
        single = tiny(text, starts, batch=1, pipeline=tax_pipeline(3, 0.3, 5), **kw)
        for t in range(40):
            s = single.step(actions[t, b : b + 1])
            assert torch.equal(s.obs[0], out[t].obs[b])
            assert torch.allclose(s.reward[0], out[t].reward[b])
            for key in ("coin", "net", "bought", "built"):
                assert torch.equal(s.info[key][0], out[t].info[key][b])


def test_seeds_reproduce_and_differ():
    def run(seed: int) -> torch.Tensor:
        w = EconomyWorld(EconomyConfig(episode_length=30), batch_size=4)
        obs = w.reset(seed=seed)
        gen = torch.Generator().manual_seed(seed)
        nvec = torch.tensor(w.spec.action_nvec)
        for _ in range(30):
            step = w.step((torch.rand(4, 4, 3, generator=gen) * nvec).long())
        assert bool(step.done.all())
        return torch.cat([obs.flatten(), step.obs.flatten(), w.state.coin.flatten()])

    assert torch.equal(run(5), run(5))
    assert not torch.equal(run(5), run(6))


def test_budget_balances_and_coin_is_conserved_under_random_play():
    b, n = 16, 4
    pipe = Pipeline(
        [
            BracketTax(
                build(TaxParams, {"schedule": "us_federal_2018", "period": 10, "scale": 0.001}),
                n,
                b,
                torch.device("cpu"),
            ),
            LumpSum(LumpSumParams(), n, b, torch.device("cpu")),
        ]
    )
    w = EconomyWorld(EconomyConfig(episode_length=60, layout="uniform"), pipe, batch_size=b)
    w.reset(seed=2)
    w.state.coin += 30.0  # give everyone money so bids happen
    w.state.stock += 3.0
    gen = torch.Generator().manual_seed(2)
    nvec = torch.tensor(w.spec.action_nvec)
    net_total = torch.zeros(b, n)
    traded = 0.0
    for _ in range(60):
        step = w.step((torch.rand(b, n, 3, generator=gen) * nvec).long())
        for flow in step.flows.values():
            assert flow.imbalance().abs().max() < 1e-3
        assert (
            step.info["transfer_tax"]
            .sum(-1)
            .add(step.info["transfer_lump_sum"].sum(-1))
            .abs()
            .max()
            < 1e-3
        )
        net_total += step.info["net"]
        traded += step.info["bought"].sum().item()
        assert (w.state.coin >= -1e-4).all() or step.info["transfer_tax"].abs().sum() > 0
    assert traded > 0
    # wealth (coin incl. escrow) = starting coin + sum of net flows
    assert torch.allclose(step.info["coin"], 30.0 + net_total, atol=1e-3)


def test_quadrant_map_has_walls_with_openings_and_both_resources():
    gen = torch.Generator().manual_seed(0)
    kinds = quadrant(8, 25, 25, gen, torch.device("cpu"))
    assert kinds.shape == (8, 25, 25)
    row, col = kinds[:, 12], kinds[:, :, 12]
    assert ((row == WATER).sum(-1) == 25 - 4).all()  # two openings of two tiles each
    assert ((col == WATER).sum(-1) == 25 - 4).all()
    assert ((kinds == 2).flatten(1).sum(-1) > 20).all()
    assert ((kinds == 3).flatten(1).sum(-1) > 20).all()
    assert not torch.equal(kinds[0], kinds[1])


def test_bad_configs_are_refused_with_the_field_named(tmp_path):
    with pytest.raises(ConfigError, match="world.layout"):
        build(EconomyConfig, {"layout": "hexagon"}, prefix="world")
    with pytest.raises(ConfigError, match="map_file"):
        build(EconomyConfig, {"layout": "file"}, prefix="world")
    bad = tmp_path / "bad.txt"
    bad.write_text("..x\n...")
    with pytest.raises(ConfigError, match="unknown tile 'x'"):
        build(EconomyConfig, {"layout": "file", "map_file": str(bad)}, prefix="world")
    with pytest.raises(ValueError, match="same length"):
        parse_map("...\n..")
    with pytest.raises(ConfigError, match="build_skills"):
        build(EconomyConfig, {"build_skills": [1.0], "gather_skills": [0.0]}, prefix="world")


def test_map_file_layout(tmp_path):
    f = tmp_path / "map.txt"
    f.write_text("# a tiny map\nWWWW\nw..s\n....\n")
    cfg = build(EconomyConfig, {"layout": "file", "map_file": str(f), "num_agents": 2})
    w = EconomyWorld(cfg, batch_size=2)
    assert (w.height, w.width) == (3, 4)
    assert w.resources()[:, 0, 1, 0].all() and w.resources()[:, 1, 1, 3].all()
    pos = w.positions()
    assert (pos[..., 0] >= 1).all()  # nobody starts on water
    assert math.isfinite(w.social_optimum())


def test_income_by_source_splits_building_from_selling():
    w = tiny("ws..", [0, 0, 0, 3], build_skills=[1.0, 3.0], regen_prob=1.0)
    w.state.coin[0, 1] = 10.0
    w.state.stock[0, 0] = torch.tensor([2.0, 1.0])
    act(w, (REST, ask(4), 0), REST)  # agent 0 offers a wood
    step = act(w, (BUILD, 0, 0), (REST, bid(4), 0))  # on a source: no house; the bid crosses
    assert step.info["sale_income"][0].tolist() == [4.0, 0.0]
    assert step.info["build_income"][0].tolist() == [0.0, 0.0]
    w.state.stock[0, 1] = torch.tensor([1.0, 1.0])
    step = act(w, REST, BUILD)
    assert step.info["build_income"][0].tolist() == [0.0, 30.0]
    assert step.info["income"][0].tolist() == [0.0, 30.0]


def test_specialisation_counts_every_act_of_a_scripted_rollout():
    """The step's counters, summed by analysis.economy, equal what the world's state shows."""
    from coopsim.agents.population import Population
    from coopsim.analysis.economy import agent_activity, labour_weights, specialisation
    from coopsim.evaluate import tidy_records

    cfg = EconomyConfig(episode_length=80, order_duration=1000, view_radius=4)
    w = EconomyWorld(cfg, batch_size=3)
    sellers = GatherBuild(w.spec, GatherBuildParams(sell_surplus=True, keep=0, ask_price=9))
    workers = GatherBuild(w.spec, GatherBuildParams())
    pop = Population([(workers, [0, 1]), (sellers, [2, 3])], 4, 3)
    obs = w.reset(seed=4)
    gen = torch.Generator().manual_seed(4)
    moves = torch.zeros(3, 4)
    gathers = torch.zeros(3, 4)
    records: dict[str, list] = {}
    while True:
        pos, held = w.state.pos.clone(), w.state.stock + w.market.escrow_units(w.state)
        step = w.step(pop.act(obs, gen))
        obs = step.obs
        moves += w.state.pos != pos
        gathers += ((w.state.stock + w.market.escrow_units(w.state)) > held).any(
            -1
        )  # only gathering adds goods
        for k, v in step.info.items():
            records.setdefault(k, []).append(v)
        if bool(step.done[0]):
            break
    frame = tidy_records({k: torch.stack(v) for k, v in records.items()}, ["w"] * 4)
    acts = agent_activity(frame).set_index(["episode", "agent"]).sort_index()
    houses = (w.houses()[:, None] == torch.arange(4)[None, :, None, None]).sum((-1, -2))
    asks = (w.state.order_price[:, :, :, 1] >= 0).sum((-1, -2))  # nobody bids: every ask still open
    assert acts["moving"].tolist() == moves.flatten().tolist()
    assert acts["gathering"].tolist() == gathers.flatten().tolist()
    assert acts["building"].tolist() == houses.flatten().float().tolist()
    assert acts["trading"].tolist() == asks.flatten().float().tolist()
    paid = houses * cfg.build_payment * w.state.build_skill  # [B, N]
    assert acts["build_income"].to_numpy() == pytest.approx(paid.flatten().numpy(), rel=1e-5)
    assert (acts["sale_income"] == 0).all()
    assert houses.sum() > 0 and asks[:, 2:].sum() > 0 and asks[:, :2].sum() == 0
    # skill ranks follow build skill within each episode
    for _, ep in acts.groupby(level="episode"):
        assert ep.sort_values("skill_rank")["build_skill"].is_monotonic_increasing
    table = specialisation(frame, labour_weights(cfg))
    assert table["skill_rank"].tolist() == [0, 1, 2, 3]
    for by in ("action_share_", "labour_share_"):
        shares = table[[c for c in table if c.startswith(by)]].sum(axis=1)
        assert shares.to_numpy() == pytest.approx(1.0)
    # pooled shares: a rank's builds over all its acts
    rank0 = acts[acts["skill_rank"] == 0]
    total = rank0[["moving", "gathering", "building", "trading"]].to_numpy().sum()
    assert table.loc[0, "action_share_building"] == pytest.approx(rank0["building"].sum() / total)
    with pytest.raises(ValueError, match="not an economy rollout"):
        agent_activity(frame.drop(columns=["gathers"]))


def test_action_mask_by_hand():
    """On wood at the top-left corner, with 3 coin and nothing to sell or build with."""
    w = tiny("ws.\n...", [0, 0, 1, 2], n=2)
    w.state.coin[0, 0] = 3.0
    m = w.action_mask()[0, 0]
    acts, wood_orders = m[:7], m[7 : 7 + 2 * P + 1]
    # rest; up and left leave the map; down and right are land; gather wood; no build
    assert acts.tolist() == [True, False, True, False, True, True, False]
    assert wood_orders[0]  # posting nothing is always allowed
    assert wood_orders[1 : 1 + P].tolist() == [p <= 3 for p in range(P)]  # bids up to coin
    assert not wood_orders[1 + P :].any()  # no wood to ask with
    act(w, GATHER)
    m = w.action_mask()[0, 0]
    assert not m[GATHER] and m[7 + 1 + P :][:P].all()  # gathered: tile empty, wood to sell
    # with both goods, on an empty tile: build; a house owned by the other agent blocks moves
    w = tiny("...", [0, 0, 0, 2], n=2)
    w.state.stock[0, 1] = 1
    act(w, REST, BUILD)
    w.state.stock[0, 0] = 1
    act(w, RIGHT, REST)
    m = w.action_mask()[0]
    assert m[0, BUILD] and not m[0, RIGHT]  # the house at column 2 is agent 1's
    assert not m[1, BUILD] and m[1, LEFT]  # agent 1 stands on its own house


def test_action_mask_says_what_takes_effect_under_random_play():
    """Chosen uniformly among allowed choices, gathers, builds and wood orders always take
    effect, and no masked move happens."""
    b = 32
    w = EconomyWorld(EconomyConfig(episode_length=200, layout="uniform", max_orders=2), None, b)
    w.reset(seed=4)
    w.state.coin += 6.0
    gen = torch.Generator().manual_seed(4)
    nvec = w.spec.action_nvec
    counts = {"gathers": 0, "built": 0, "moved": 0, "orders": 0}
    for _ in range(200):
        mask = w.action_mask()
        chosen = []
        for head in mask.split(nvec, -1):
            score = torch.rand(head.shape, generator=gen).masked_fill(~head, -1.0)
            chosen.append(score.argmax(-1))
        actions = torch.stack(chosen, -1)
        actions[..., 2] = 0  # stone orders off: a wood bid may use the coin a stone bid needs
        move_ok = mask.gather(-1, actions[..., :1]).squeeze(-1)
        step = w.step(actions)
        a = actions[..., 0]
        assert (step.info["gathers"][a == GATHER] == 1).all()
        assert (step.info["built"][a == BUILD] == 1).all()
        assert not (step.info["moved"].bool() & ~move_ok).any()
        # Allowed orders are accepted, unless a build in the same step used the unit an ask
        # offered: each head's mask holds for that head alone. (A masked order may be accepted:
        # gathering and expiry earlier in the step can supply the unit or slot it lacked.)
        ordered = (actions[..., 1] > 0) & (step.info["built"] == 0)
        assert (step.info["orders"][ordered] == 1).all()
        for key in counts:
            counts[key] += int(step.info[key].sum())
    assert all(v > 0 for v in counts.values()), counts


def test_replicate_copies_whole_worlds_and_leaves_the_shared_constants():
    w = EconomyWorld(
        EconomyConfig(num_agents=3, layout="quadrant"), tax_pipeline(3, 0.3, 5, 4), batch_size=4
    )
    w.reset(seed=7)
    assert not torch.equal(w.state.build_skill[0], w.state.build_skill[1])  # drawn per world
    tax = w.pipeline.mechanisms[0]
    tax.income += torch.arange(4.0)[:, None]  # mid-period income, different in every world
    w.pipeline.pool = torch.arange(4.0)
    obs = w.replicate(torch.tensor([0, 0, 2, 2]))
    for field in dataclasses.fields(w.state):
        value = getattr(w.state, field.name)
        assert torch.equal(value[0], value[1]) and torch.equal(value[2], value[3]), field.name
    assert tax.income[:, 0].tolist() == [0.0, 0.0, 2.0, 2.0]
    assert w.pipeline.pool.tolist() == [0.0, 0.0, 2.0, 2.0]
    assert torch.equal(obs[0], obs[1]) and not torch.equal(obs[0], obs[2])
    # copies step as independent worlds: the same acts in both give the same outcome
    a = torch.zeros(4, 3, 3, dtype=torch.long)
    a[..., 0] = RIGHT
    step = w.step(a)
    assert torch.equal(step.info["labour"][0], step.info["labour"][1])
    assert torch.equal(w.positions()[0], w.positions()[1])
    with pytest.raises(ValueError, match="one source world per world"):
        w.replicate(torch.tensor([0, 1]))
