"""The trading layer on perpetuals: positions as the venue reports them, in base units and signed,
closed by a reduce-only order, through VenueAccount on the simulated Binance USD-M, Bybit linear
and Gate USDT perpetual venues."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import pytest

from crossbook.model import OrderRequest, OrderStatus, OrderType, Side
from crossbook.trading.account import VenueAccount
from crossbook.trading.journal import Journal

from ..conftest import run
from ..sim.trading_contract import TradingHarness

PERPS = {"binanceusdm": "binance", "bybitlinear": "bybit", "gateswap": "gate"}


@pytest.mark.parametrize("feed_id", list(PERPS))
def test_a_filled_perpetual_order_is_a_position(feed_id: str, tmp_path: Path) -> None:
    async def body() -> None:
        async with TradingHarness(feed_id) as h:
            with Journal(tmp_path / "j.db") as journal:
                account = VenueAccount(PERPS[feed_id], h.client(), journal)
                await account.load()
                symbol = h.symbol
                rules = account.market(symbol)
                assert rules.derivative
                amount = rules.lot * 20  # contracts on the venue's grid
                assert await account.positions() == []
                bid, ask = h.touch()
                sell = OrderRequest(PERPS[feed_id], symbol, Side.SELL, OrderType.MARKET, amount)
                sold = await account.create_order(sell, reference_price=bid)
                assert sold.status is OrderStatus.FILLED
                (short,) = await account.positions([symbol])
                assert short.symbol == symbol and short.contracts == amount and short.side in ("short", "both")
                assert short.size == -amount * rules.contract_size
                assert short.entry_price is not None and abs(short.entry_price - bid) / bid < D("0.01")
                closing = OrderRequest(PERPS[feed_id], symbol, Side.BUY, OrderType.MARKET, amount, reduce_only=True)
                bought = await account.create_order(closing, reference_price=ask)
                assert bought.status is OrderStatus.FILLED
                assert await account.positions([symbol]) == []

    run(body())
