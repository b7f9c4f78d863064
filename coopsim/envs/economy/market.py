"""The market: one order book per resource and world, a double auction cleared every step.

The rules (what an order head means, cover, the cap, expiry, matching, the trade price,
self-trade prevention) are in :mod:`coopsim.envs.economy.world`. The book lives in the state
as ``order_price`` and ``order_age`` [B, N, R, 2, K]: K slots per agent, resource and side
(BID, ASK), a price of -1 marking an empty slot, so posting is a scatter into the first free
slot and clearing is one sort per side, with no loop over orders.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

from coopsim.envs.economy import native
from coopsim.envs.economy.config import EconomyConfig
from coopsim.envs.economy.state import ASK, BID, STONE, WOOD, EconomyState

QUOTES = 6  # numbers per agent and resource in Market.quotes
NO_ASK = (1 << 62) - 1  # an empty slot's price -1 & NO_ASK: above every ask


class Trades(NamedTuple):
    """What clearing the book moved, per agent summed over resources; each [B, N] float."""

    paid: Tensor  # coin paid for goods bought
    proceeds: Tensor  # coin received for goods sold
    bought: Tensor  # units bought
    sold: Tensor  # units sold


class Market:
    """Posting, expiry and matching of orders for B worlds; built once per world."""

    def __init__(self, config: EconomyConfig, device: torch.device):
        self.max_price = config.max_price
        self.levels = config.max_price + 1  # P: price levels 0..max_price
        self.max_orders = config.max_orders  # K: slots per agent, resource and side
        self.duration = config.order_duration
        self.per_resource = config.order_limit == "per_resource"  # bids + asks share the cap
        self.ask_price_same_step = config.same_step_price == "ask"
        self.choices = 2 * self.levels + 1  # per order head: none, P bids, P asks
        self._prices = torch.arange(self.levels, device=device)  # [P] bid/ask prices
        # What each choice of an order head means, looked up by the choice: its side, its
        # price, whether it is a bid, whether an ask.
        choice = torch.arange(self.choices)
        side = (choice > self.levels).long()
        self._side = side.to(device)  # [2P + 1] BID or ASK (BID for "none")
        self._price = (choice - 1 - side * self.levels).to(device)  # [2P + 1]
        self._is_bid = ((choice > 0) & (side == BID)).to(device)  # [2P + 1] bool
        self._is_ask = (side == ASK).to(device)  # [2P + 1] bool
        # On the CPU a look at a tensor's value costs nothing, so a step with nothing to expire
        # or clear skips that work (a single world steps ~2x as many small ops otherwise); on
        # an accelerator the look would stall the device, so the work is always done.
        self._may_skip = device.type == "cpu"
        # Clearing's sort key: (price, or max_price - price for asks) << shift, plus age.
        self._shift = max(20, config.order_duration.bit_length() + 1)
        self._age_mask = (1 << self._shift) - 1
        self._key_base = torch.tensor([0, self.max_price], device=device)[:, None]  # [2, 1]
        self._key_sign = torch.tensor([1, -1], device=device)[:, None]

    def expire(self, state: EconomyState) -> None:
        """Age every open order; orders past ``order_duration`` close and return escrow."""
        if self._native(state):
            native.expire(
                state.order_price, state.order_age, state.coin, state.stock, self.duration
            )
            return
        open_ = state.order_price >= 0  # [B, N, R, 2, K]
        state.order_age += open_
        expired = open_ & (state.order_age >= self.duration)
        if self._may_skip and not bool(expired.any()):
            return
        refund = (state.order_price[:, :, :, BID] * expired[:, :, :, BID]).sum((-1, -2))  # [B, N]
        state.coin += refund
        state.stock += expired[:, :, :, ASK].sum(-1)
        state.order_price.masked_fill_(expired, -1)

    def _native(self, state: EconomyState) -> bool:
        """Whether the native kernels can update this book: built and on, and the book,
        coin and stock contiguous on the CPU in their own dtypes."""
        return (
            self._may_skip
            and native.enabled()
            and state.order_price.dtype == state.order_age.dtype == torch.int64
            and state.order_price.is_contiguous()
            and state.order_age.is_contiguous()
            and state.coin.dtype == torch.float32
            and state.coin.is_contiguous()
            and state.stock.dtype == torch.float32
            and state.stock.is_contiguous()
        )

    def post(self, state: EconomyState, orders: Tensor) -> Tensor:
        """Place each agent's new bid/ask per resource (``orders`` [B, N, R], the order
        heads) in its first free slot, escrowing what it offers; returns [B, N] orders placed.

        A bid needs liquid coin >= its price: resources are handled in order (wood, stone) with
        the coin left after the wood bid, so two bids can never overdraw the account.
        """
        if (
            self._native(state)
            and orders.dtype == torch.int64
            and orders.shape == state.stock.shape == (*state.coin.shape, 2)
        ):
            placed = torch.empty(orders.shape[:2], dtype=torch.long)
            tables = (self._side, self._price, self._is_bid, self._is_ask)
            native.post(
                orders.contiguous(),
                tables,
                self.per_resource,
                state.order_price,
                state.order_age,
                state.coin,
                state.stock,
                placed,
            )
            return placed
        k = self.max_orders
        side = self._side[orders]  # [B, N, R] BID or ASK
        price = self._price[orders]  # [B, N, R] (meaningless where nothing is posted)
        is_bid = self._is_bid[orders]  # [B, N, R] a bid is posted (looked up per choice)
        slots = state.order_price.gather(3, side[..., None, None].expand(-1, -1, -1, 1, k))
        free = slots.squeeze(3) < 0  # [B, N, R, K] free slots on the chosen side
        slot = free.view(torch.uint8).argmax(-1)  # [B, N, R] first free slot
        room = free.any(-1)
        if self.per_resource:
            room = room & (self.open_orders(state) < k)
        # Coverage: asks need a liquid unit; bids need coin, wood first then stone.
        bidding = is_bid & room  # [B, N, R]
        bid_wood = bidding[..., WOOD] & (state.coin >= price[..., WOOD])
        coin_left = state.coin - bid_wood * price[..., WOOD]
        bid_stone = bidding[..., STONE] & (coin_left >= price[..., STONE])
        bid_ok = torch.stack([bid_wood, bid_stone], -1)  # [B, N, R] bids accepted
        ask_ok = self._is_ask[orders] & room & (state.stock >= 1)  # [B, N, R] asks accepted
        accept = bid_ok | ask_ok  # [B, N, R]
        # Escrow.
        state.coin -= bid_ok.mul(price).sum(-1)
        state.stock -= ask_ok.float()
        # Write the orders into their slots. A refused order leaves its slot as it was: the
        # price is written as the larger of the slot's and -1 (an accepted order's slot is
        # free, -1), the age as the slot's times 0 (accepted) or 1 (refused).
        flat_price = state.order_price.view(*state.order_price.shape[:3], -1)  # [B, N, R, 2K]
        flat_age = state.order_age.view(*state.order_age.shape[:3], -1)
        idx = (side * k + slot)[..., None]  # [B, N, R, 1]
        new_price = torch.where(accept, price, -1)[..., None]
        flat_price.scatter_reduce_(3, idx, new_price, "amax")
        flat_age.scatter_reduce_(3, idx, (~accept).long()[..., None], "prod")
        return accept.sum(-1)

    def match(self, state: EconomyState) -> Trades:
        """Clear the book of every resource at once, settling coin and stock in ``state``.

        On the CPU only the worlds whose book is crossed are cleared (a third of them or fewer
        in a step of random play): the others would move nothing, and each world clears on its
        own, so leaving them out changes no number.
        """
        b, n = state.coin.shape
        if self._native(state) and state.order_age.shape == state.order_price.shape:
            out = native.match(
                state.order_price,
                state.order_age,
                state.coin,
                state.stock,
                self.max_price,
                self._shift,
                self.ask_price_same_step,
            )
            return Trades(*out.unbind(0))
        if not self._may_skip:
            return self._clear(state, None)
        rows = self._crossed(state).nonzero().squeeze(1)  # [M] worlds with a crossed book
        if rows.numel() == 0:
            return Trades(*torch.zeros(4, b, n, device=state.coin.device).unbind(0))
        return self._clear(state, None if rows.numel() == b else rows)

    def _clear(self, state: EconomyState, rows: Tensor | None) -> Trades:
        """Clear the books of worlds ``rows`` [M] (all worlds if None), as :meth:`match`."""
        b, n, r, _, k = state.order_price.shape
        book = state.order_price if rows is None else state.order_price[rows]
        ages = state.order_age if rows is None else state.order_age[rows]
        m = book.shape[0]
        # Sort keys (higher = served first): bids by price then age, asks by low price then
        # age; a closed slot sorts last. Price and age are read back from the sorted keys.
        key = ((self._key_base + self._key_sign * book) << self._shift) + ages  # [M, N, R, 2, K]
        key = key.masked_fill_(book < 0, -1).permute(0, 2, 3, 1, 4).reshape(m, r, 2, n * k)
        key, idx = key.sort(-1, descending=True)  # [M, R, 2, NK], bids then asks
        open_ = key >= 0
        pk = key >> self._shift
        bid_p, ask_p = pk[:, :, BID], self.max_price - pk[:, :, ASK]  # [M, R, NK]
        aged = key & self._age_mask
        bid_a, ask_a = aged[:, :, BID], aged[:, :, ASK]
        cross = open_[:, :, BID] & open_[:, :, ASK] & (bid_p >= ask_p)  # [M, R, NK] a prefix
        agent = idx // k  # [M, R, 2, NK] agent of each sorted order
        self_trade = agent[:, :, BID] == agent[:, :, ASK]
        trade = cross & ~self_trade
        cancel = cross & self_trade
        same_step = ask_p if self.ask_price_same_step else (bid_p + ask_p) / 2
        px = torch.where(
            bid_a > ask_a, bid_p, torch.where(ask_a > bid_a, ask_p, same_step)
        ).float()  # [M, R, NK]
        tf = trade.float()
        paid = tf * px
        # Per agent, by side: what buyers bought, paid and got back of their escrow (the bid
        # price less what was paid, all of it if cancelled); what sellers sold, received and
        # got back of their escrowed units (a cancelled ask).
        flows = torch.stack(
            [tf, paid, tf * (bid_p - px) + cancel * bid_p, tf, paid, cancel.float()], 2
        ).view(m, r, 2, 3, n * k)
        sums = torch.zeros(m, r, 2, 3, n, device=book.device)
        sums.scatter_add_(4, agent[:, :, :, None].expand(-1, -1, -1, 3, -1), flows)
        bought, spent, refund = sums[:, :, BID].unbind(2)  # [M, R, N] each
        sold, proceeds, back = sums[:, :, ASK].unbind(2)
        coin = (refund + proceeds).sum(1)  # [M, N]
        units = (bought + back).transpose(1, 2)  # [M, N, R]
        # Close the matched orders: a bid and an ask per crossed rank.
        closed = torch.zeros_like(open_).scatter_(-1, idx, cross[:, :, None].expand(-1, -1, 2, -1))
        closed = closed.view(m, r, 2, n, k).permute(0, 3, 1, 2, 4)  # [M, N, R, 2, K]
        out = torch.stack([spent.sum(1), proceeds.sum(1), bought.sum(1), sold.sum(1)])
        if rows is None:
            state.coin += coin
            state.stock += units
            state.order_price.masked_fill_(closed, -1)
            return Trades(*out.unbind(0))
        state.coin.index_add_(0, rows, coin)
        state.stock.index_add_(0, rows, units)
        state.order_price.index_copy_(0, rows, book.masked_fill_(closed, -1))
        full = torch.zeros(4, b, n, device=book.device).index_copy_(1, rows, out)
        return Trades(*full.unbind(0))

    def _crossed(self, state: EconomyState) -> Tensor:
        """[B] bool: whether each world's book holds a bid at or above an ask of the same
        resource (only then does clearing move anything, self-trades included)."""
        price = state.order_price
        bids = price[:, :, :, BID].amax((1, 3))  # [B, R] best bid, -1 if none
        neg_ask = (price[:, :, :, ASK] & NO_ASK).neg_().amax((1, 3))  # [B, R] -(best ask)
        return (bids + neg_ask >= 0).any(-1)

    @staticmethod
    def open_orders(state: EconomyState) -> Tensor:
        """[B, N, R] long: open orders of each agent per resource, bids and asks together."""
        return (state.order_price >= 0).sum((-1, -2))

    def holdings(self, state: EconomyState) -> tuple[Tensor, Tensor]:
        """Coin [B, N] and units [B, N, R] float with escrow counted: ``coin +``
        :meth:`escrow_coin` and ``stock +`` :meth:`escrow_units`, in one pass where the
        native kernels run."""
        if self._native(state) and state.order_price.dtype == torch.int64:
            return native.holdings(state.order_price, state.coin, state.stock)
        return state.coin + self.escrow_coin(state), state.stock + self.escrow_units(state)

    @staticmethod
    def escrow_coin(state: EconomyState) -> Tensor:
        """[B, N] float coin held in open bids."""
        return state.order_price[:, :, :, BID].clamp(min=0).sum((-1, -2)).float()

    @staticmethod
    def escrow_units(state: EconomyState) -> Tensor:
        """[B, N, R] float units held in open asks."""
        return (state.order_price[:, :, :, ASK] >= 0).sum(-1).float()

    def allowed(self, state: EconomyState) -> Tensor:
        """[B, N, R, 2P + 1] bool, per order head: none always; a bid at price p with liquid
        coin >= p and a free bid slot; an ask with a liquid unit and a free ask slot (with
        ``order_limit = "per_resource"``, a free slot also needs fewer than ``max_orders``
        open orders of that resource on both sides together)."""
        b, n, r = state.stock.shape
        p = self.levels
        room = (state.order_price < 0).any(-1)  # [B, N, R, 2] a free slot per side
        if self.per_resource:
            room = room & (self.open_orders(state) < self.max_orders)[..., None]
        bid = (state.coin[..., None, None] >= self._prices) & room[..., BID, None]  # [B, N, R, P]
        ask = ((state.stock >= 1) & room[..., ASK])[..., None].expand(-1, -1, -1, p)
        none = torch.ones(b, n, r, 1, dtype=torch.bool, device=state.stock.device)
        return torch.cat([none, bid, ask], -1)

    def quotes(self, state: EconomyState, out: Tensor | None = None) -> Tensor:
        """[B, N, R, QUOTES]: best bid and best ask of the *other* agents (/max_price),
        whether there is one, and the agent's own open bids and asks (/max_orders).

        Written into ``out`` when given (a view into the observation buffer).
        """
        b, n, r = state.stock.shape
        top = self.max_price
        if out is None:
            out = torch.empty(b, n, r, QUOTES, device=state.stock.device)
        price = state.order_price  # [B, N, R, 2, K]
        # Per agent: its best bid (-1 if none) and the negative of its lowest ask. An empty
        # slot's -1 read as a huge price (its low bits set) loses to any ask; the lowest ask is
        # found as the highest negative (amax is several times faster than amin on int64 on
        # the CPU).
        best = torch.stack(
            [price[:, :, :, BID].amax(-1), (price[:, :, :, ASK] & NO_ASK).neg_().amax(-1)], -1
        )  # [B, N, R, 2]
        other = self.others_best(best)  # [B, N, R, 2] the same over the other agents
        other_bid, other_ask = (
            other[..., BID],
            other[..., ASK].neg_(),
        )  # below 0 / above top if none
        torch.div(other_bid.clamp(min=0), top, out=out[..., 0])
        torch.div(other_ask.clamp(max=top), top, out=out[..., 1])
        out[..., 2] = other_bid >= 0
        out[..., 3] = other_ask <= top
        torch.div((price >= 0).sum(-1), self.max_orders, out=out[..., 4:6])  # own bids, asks
        return out

    def others_best(self, best: Tensor) -> Tensor:
        """[B, N, ...] -> [B, N, ...]: for each agent the highest value of the *other* agents.

        The maximum of the agent axis rolled by 1..N-1: N-1 passes over [B, N, ...], where the
        broadcast over agent pairs with the own agent pushed far down is N times the data and
        runs many times slower on the CPU (its inner loops are a few elements long). A lone
        agent has no others: its value is pushed 2^40 down, below every price.
        """
        n = best.shape[1]
        if n == 1:
            return best - (1 << 40)
        other = best.roll(1, 1)
        for k in range(2, n):
            other = torch.maximum(other, best.roll(k, 1), out=other)
        return other
