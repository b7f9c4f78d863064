"""The order book on its own: a hand-worked clearing, cover of new orders, quotes."""

from __future__ import annotations

import pytest
import torch

from coopsim.envs.economy.state import ASK, BID, STONE, WOOD

N = 4


def book(world, orders: list[tuple[int, int, int, int, int]]) -> None:
    """Write orders (agent, resource, side, price, age) into the empty book of world 0."""
    s = world.state
    s.order_price.fill_(-1)
    s.order_age.zero_()
    slot: dict[tuple[int, int, int], int] = {}
    for agent, res, side, price, age in orders:
        k = slot.get((agent, res, side), 0)
        slot[(agent, res, side)] = k + 1
        s.order_price[0, agent, res, side, k] = price
        s.order_age[0, agent, res, side, k] = age


def test_clearing_a_hand_worked_book(tiny):
    w = tiny("....", [0, 0, 0, 1, 0, 2, 0, 3], n=N)
    book(
        w,
        [
            # wood. Bids sorted: A0@7 (age 3), A2@6 (0), A1@5 (0); asks: A3@4 (1), A3@5 (0), A1@6 (5)
            (0, WOOD, BID, 7, 3),
            (2, WOOD, BID, 6, 0),
            (1, WOOD, BID, 5, 0),
            (3, WOOD, ASK, 4, 1),
            (3, WOOD, ASK, 5, 0),
            (1, WOOD, ASK, 6, 5),
            # stone. Bids: A1@3 (1), A0@2 (0); asks: A1@1 (0), A2@2 (4)
            (1, STONE, BID, 3, 1),
            (0, STONE, BID, 2, 0),
            (1, STONE, ASK, 1, 0),
            (2, STONE, ASK, 2, 4),
        ],
    )
    s = w.state
    trades = w.market.match(s)
    # wood: A0@7 meets A3@4 at the older order's price, 7; A2@6 meets A3@5, both new: the
    # midpoint 5.5; A1@5 does not reach A1@6. stone: A1's bid meets its own ask: both are
    # cancelled; A0@2 then meets A2@2 at the older ask's price, 2.
    assert trades.paid[0].tolist() == [9.0, 0.0, 5.5, 0.0]
    assert trades.proceeds[0].tolist() == [0.0, 0.0, 2.0, 12.5]
    assert trades.bought[0].tolist() == [2.0, 0.0, 1.0, 0.0]
    assert trades.sold[0].tolist() == [0.0, 0.0, 1.0, 2.0]
    # liquid coin: the cancelled bid's 3 back to A1; A2's extra escrow 0.5 plus its sale
    assert s.coin[0].tolist() == [0.0, 3.0, 2.5, 12.5]
    # units: what each bought, and A1's cancelled stone ask returned
    assert s.stock[0].tolist() == [[1.0, 1.0], [0.0, 1.0], [1.0, 0.0], [0.0, 0.0]]
    open_ = (s.order_price[0] >= 0).nonzero().tolist()  # [agent, resource, side, slot]
    assert open_ == [[1, WOOD, BID, 0], [1, WOOD, ASK, 0]]
    assert s.order_price[0, 1, WOOD, BID, 0] == 5 and s.order_price[0, 1, WOOD, ASK, 0] == 6


def test_a_bid_for_wood_leaves_less_coin_for_stone(tiny):
    w = tiny("...", [0, 0, 0, 2], max_orders=1)
    s, p = w.state, w.market.levels
    s.coin[0] = torch.tensor([5.0, 9.0])
    s.stock[0, 1, WOOD] = 1.0
    bid = lambda price: 1 + price  # noqa: E731
    ask = lambda price: 1 + p + price  # noqa: E731
    # agent 0: wood bid 4 covered, stone bid 3 not (1 left); agent 1: wood ask, stone bid 9
    posted = w.market.post(s, torch.tensor([[[bid(4), bid(3)], [ask(2), bid(9)]]]))
    assert posted[0].tolist() == [1, 2]
    assert s.coin[0].tolist() == [1.0, 0.0]
    assert s.stock[0, 1].tolist() == [0.0, 0.0]
    # the cap of one order per side: a second wood bid is refused, coin untouched
    s.coin[0, 0] = 10.0
    assert w.market.post(s, torch.tensor([[[bid(1), 0], [0, 0]]]))[0, 0] == 0
    assert s.coin[0, 0] == 10.0
    assert w.market.escrow_coin(s)[0].tolist() == [4.0, 9.0]
    assert w.market.escrow_units(s)[0].tolist() == [[0.0, 0.0], [1.0, 0.0]]


def test_orders_expire_after_their_duration_and_return_escrow(tiny):
    w = tiny("...", [0, 0, 0, 2], order_duration=2)
    book(w, [(0, WOOD, BID, 3, 0), (1, STONE, ASK, 2, 1)])
    s = w.state
    w.market.expire(s)  # ages 1 and 2: the ask expires
    assert s.stock[0, 1, STONE] == 1.0 and s.coin[0, 0] == 0.0
    w.market.expire(s)
    assert s.coin[0, 0] == 3.0 and (s.order_price < 0).all()


def test_quotes_show_the_best_prices_of_the_others_only(tiny):
    w = tiny("....", [0, 0, 0, 1, 0, 2], n=3, max_price=10, max_orders=2)
    book(w, [(0, WOOD, BID, 6, 0), (1, WOOD, BID, 4, 0), (1, WOOD, ASK, 8, 0)])
    q = w.market.quotes(w.state)[0, :, WOOD]  # [N, 6]
    # agent 0 sees agent 1's bid 4 and ask 8; agent 1 sees agent 0's bid 6 and no ask
    assert q[0].tolist() == pytest.approx([0.4, 0.8, 1.0, 1.0, 0.5, 0.0])
    assert q[1].tolist() == pytest.approx([0.6, 1.0, 1.0, 0.0, 0.5, 0.5])
    assert q[2].tolist() == pytest.approx([0.6, 0.8, 1.0, 1.0, 0.0, 0.0])


def test_the_per_resource_limit_counts_bids_and_asks_together(tiny):
    """The reference's cap (continuous_double_auction.py:154-162): with 5 orders, 3 wood bids
    and 2 wood asks fill it; a stone order is still free, and per side there is room."""
    orders = [(0, WOOD, BID, 1, 0)] * 3 + [(0, WOOD, ASK, 9, 0)] * 2
    for limit, wood_room in (("per_side", True), ("per_resource", False)):
        w = tiny("...", [0, 0, 0, 2], max_orders=5, order_limit=limit)
        book(w, orders)
        s, p = w.state, w.market.levels
        s.coin[0, 0], s.stock[0, 0] = 10.0, torch.tensor([1.0, 1.0])
        allowed = w.market.allowed(s)[0, 0]  # [R, 2P + 1]
        assert bool(allowed[WOOD, 1 + 2]) == wood_room  # a wood bid at 2
        assert bool(allowed[WOOD, 1 + p + 2]) == wood_room  # a wood ask at 2
        assert allowed[STONE, 1 + 2] and allowed[STONE, 1 + p + 2]
        posted = w.market.post(s, torch.tensor([[[1 + 2, 1 + p + 2], [0, 0]]]))
        assert posted[0].tolist() == [2 if wood_room else 1, 0]  # the stone ask always goes
        assert s.coin[0, 0] == (8.0 if wood_room else 10.0)


@pytest.mark.parametrize(("rule", "price"), [("midpoint", 5.0), ("ask", 3.0)])
def test_a_bid_and_an_ask_of_the_same_step_trade_at_the_rules_price(tiny, rule, price):
    """Both new (lifetime 0): the reference (continuous_double_auction.py:297-304) takes the
    ask's price; the midpoint is coopsim's default."""
    w = tiny("...", [0, 0, 0, 2], same_step_price=rule)
    book(
        w,
        [(0, WOOD, BID, 7, 0), (1, WOOD, ASK, 3, 0), (0, STONE, BID, 6, 2), (1, STONE, ASK, 4, 0)],
    )
    trades = w.market.match(w.state)
    # stone: the bid waited on the book, so it sets the price under either rule
    assert trades.paid[0].tolist() == [price + 6.0, 0.0]
    assert trades.proceeds[0].tolist() == [0.0, price + 6.0]


def test_clearing_only_the_crossed_books_matches_clearing_every_book():
    """The CPU clears only worlds whose book is crossed; an accelerator clears them all."""
    from coopsim import builder
    from coopsim import scenario as sc

    runs = []
    for skip in (True, False):
        world = builder.make_world(sc.load("economy_paper_us_federal"), 8, "cpu")
        world.market._may_skip = skip
        world.reset(seed=2)
        gen = torch.Generator().manual_seed(5)
        nvec = torch.tensor(world.spec.action_nvec)
        steps, cleared = [], 0
        for _ in range(150):
            before = (world.state.order_price >= 0).sum()
            step = world.step((torch.rand(8, 4, 3, generator=gen) * nvec).long())
            cleared += int(step.info["bought"].sum() > 0)
            steps.append((step.obs, step.reward, step.info["coin"], step.info["sold"], before))
        runs.append((steps, world.state.order_price.clone(), world.state.coin.clone()))
        assert cleared > 10  # trades happened in many steps
    (a, price_a, coin_a), (b, price_b, coin_b) = runs
    assert torch.equal(price_a, price_b) and torch.equal(coin_a, coin_b)
    for x, y in zip(a, b):
        assert all(torch.equal(u, v) for u, v in zip(x, y))


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_the_best_of_the_other_agents_matches_a_direct_loop(n):
    from coopsim.envs.economy.market import Market

    gen = torch.Generator().manual_seed(n)
    best = torch.randint(-3, 12, (6, n, 2, 2), generator=gen)  # [B, N, R, side]
    got = Market.others_best(Market, best)
    for i in range(n):
        others = [j for j in range(n) if j != i]
        if others:
            assert torch.equal(got[:, i], best[:, others].amax(1))
        else:  # a lone agent sees no other agent's order: far below every price
            assert (got[:, i] < -(1 << 39)).all()
