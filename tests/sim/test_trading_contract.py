"""Every simulated venue that trades, through an unmodified ccxt client."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable
from decimal import Decimal
from typing import Any

import ccxt
import pytest

from crossbook.sim.access import new_key

from ..conftest import run
from .trading_contract import TradingHarness, trading_feeds

FEEDS = trading_feeds()

# Where ccxt 4.5.90 itself maps a venue's true answer to a broader error, the venue's own code must
# still be in the message (the simulator answers as the venue does; crossbook classifies by code).
CCXT_MAPS_BROADER: dict[tuple[str, str], tuple[type[Exception], str]] = {
    ("mexc", "unknown_key"): (ccxt.BadRequest, "10072"),
    ("mexc", "unknown_order"): (ccxt.ExchangeError, "-2013"),
    ("coinbase", "unknown_order"): (ccxt.ExchangeError, "NOT_FOUND"),  # ccxt expects "order with self orderID"
}


async def expect_error(feed_id: str, case: str, expected: type[Exception], call: Awaitable[Any]) -> None:
    broader = CCXT_MAPS_BROADER.get((feed_id, case))
    with pytest.raises(broader[0] if broader else expected) as err:
        await call
    if broader:
        assert broader[1] in str(err.value), str(err.value)


@pytest.mark.parametrize("feed_id", FEEDS)
def test_balance_and_a_resting_order_through_its_life(feed_id: str) -> None:
    async def body() -> None:
        async with TradingHarness(feed_id) as h:
            ex = h.client()
            await ex.load_markets()
            symbol = h.ccxt_symbol(ex)
            base, quote = ex.markets[symbol]["base"], ex.markets[symbol]["quote"]
            balance = await ex.fetch_balance()
            assert balance[quote]["free"] == 10_000_000 and balance[base]["free"] == 1_000
            bid, _ = h.touch()
            price = float(bid * Decimal("0.99"))
            order = await ex.create_order(symbol, "limit", "buy", 0.01, ex.price_to_precision(symbol, price))
            fetched = await ex.fetch_order(order["id"], symbol)  # some venues answer a create with the id alone
            assert fetched["status"] == "open" and fetched["amount"] == 0.01 and fetched["filled"] == 0
            assert [o["id"] for o in await ex.fetch_open_orders(symbol)] == [order["id"]]
            locked = (await ex.fetch_balance())[quote]["used"]
            assert locked > 0
            await ex.cancel_order(order["id"], symbol)
            assert (await ex.fetch_order(order["id"], symbol))["status"] == "canceled"
            assert await ex.fetch_open_orders(symbol) == []
            assert (await ex.fetch_balance())[quote]["used"] == 0

    run(body())


@pytest.mark.parametrize("feed_id", FEEDS)
def test_market_order_fills_with_the_taker_fee(feed_id: str) -> None:
    """A market sell: every venue sizes sells in the base currency (some size market buys in quote)."""
    async def body() -> None:
        async with TradingHarness(feed_id) as h:
            ex = h.client()
            await ex.load_markets()
            symbol = h.ccxt_symbol(ex)
            base, quote = ex.markets[symbol]["base"], ex.markets[symbol]["quote"]
            before = await ex.fetch_balance()
            order = await ex.create_order(symbol, "market", "sell", 0.05)
            order = await ex.fetch_order(order["id"], symbol)
            assert order["status"] == "closed" and order["filled"] == 0.05
            trades = await ex.fetch_my_trades(symbol)
            assert sum(t["amount"] for t in trades) == pytest.approx(0.05)
            cost = sum(t["cost"] for t in trades)
            fee = sum(t["fee"]["cost"] for t in trades)
            assert fee == pytest.approx(cost * float(h.sim.engine.taker_fee))
            after = await ex.fetch_balance()
            assert after[base]["total"] == pytest.approx(before[base]["total"] - 0.05)
            assert after[quote]["total"] == pytest.approx(before[quote]["total"] + cost - fee)

    run(body())


@pytest.mark.parametrize("feed_id", FEEDS)
def test_the_venue_refuses_bad_credentials_and_orders_in_its_own_words(feed_id: str) -> None:
    async def body() -> None:
        async with TradingHarness(feed_id) as h:
            assert h.key is not None
            good = h.client()
            await good.load_markets()
            symbol = h.ccxt_symbol(good)
            wrong_secret = dataclasses.replace(h.key, secret=new_key("x").secret)
            with pytest.raises(ccxt.AuthenticationError):
                await h.client(wrong_secret).fetch_balance()
            await expect_error(feed_id, "unknown_key", ccxt.AuthenticationError, h.client(new_key("nobody")).fetch_balance())
            await good.fetch_balance()  # the key has been used: a nonce-only venue (Kraken) now refuses an older one
            late = h.client()
            late.milliseconds = lambda: ccxt.Exchange.milliseconds() - 120_000  # a clock two minutes slow
            late.seconds = lambda: ccxt.Exchange.seconds() - 120  # (JWT venues read seconds)
            with pytest.raises((ccxt.InvalidNonce, ccxt.AuthenticationError)):
                await late.fetch_balance()
            with pytest.raises(ccxt.InsufficientFunds):
                await good.create_order(symbol, "market", "sell", 100_000)
            await expect_error(feed_id, "unknown_order", ccxt.OrderNotFound, good.fetch_order("987654321", symbol))
            assert h.sim.engine.open_orders("main") == []

    run(body())
