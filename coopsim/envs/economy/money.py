"""Money: what a step's production and trade earn, the mechanisms' share, and utility.

The rules (gross and taxable income, the pipeline as one round per step, isoelastic utility,
collected or accrued tax accounting) are in :mod:`coopsim.envs.economy.world`.
"""

from __future__ import annotations

from torch import Tensor

from coopsim.envs.economy.config import EconomyConfig
from coopsim.envs.economy.market import Market, Trades
from coopsim.envs.economy.state import EconomyState
from coopsim.envs.utility import isoelastic
from mechanisms.base import Flow, Pipeline, RoundContext


def settle(
    state: EconomyState,
    pipeline: Pipeline,
    revenue: Tensor,
    trades: Trades,
    t: int,
    rounds: int,
) -> tuple[RoundContext, dict[str, Flow]]:
    """Run the step's earnings through the mechanisms and pay the result into ``state.coin``.

    ``revenue`` [B, N] is coin from houses; trade has already moved its coin when the book
    cleared, so only house payments and the mechanisms' transfers are paid here. Returns the
    round's context (``gross``, ``income``, ``net``: [B, N] each) and each mechanism's flow.
    """
    gross = revenue + trades.proceeds - trades.paid  # [B, N] change of coin, production + trade
    income = revenue + trades.proceeds  # [B, N] coin earned (taxable)
    liquid = state.coin + revenue  # [B, N] coin a tax may take: held now, escrow excluded
    ctx = RoundContext(gross=gross, income=income, round=t, rounds=rounds, liquid=liquid)
    flows = pipeline.apply(ctx)
    state.coin += revenue + (ctx.net - gross)
    return ctx, flows


def utility(
    state: EconomyState,
    pipeline: Pipeline,
    config: EconomyConfig,
    labour_scale: float,
    coin: Tensor | None = None,
) -> Tensor:
    """[B, N] isoelastic utility of coin (escrow included) less the weighted labour cost;
    ``coin`` [B, N] is that coin where the caller has it already."""
    if coin is None:
        coin = state.coin + Market.escrow_coin(state)
    if config.tax_accounting == "accrued":
        b, n = coin.shape
        coin = coin + pipeline.accrued(b, n, coin.device)
    iso = isoelastic(coin, config.eta)
    return iso - config.labour_cost * labour_scale * state.labour
