"""Gate USDT perpetuals through an unmodified ccxt client: contracts as swap markets, the futures
account, orders in signed contracts (limit, market, reduce-only), amend in place, positions,
leverage (0 = cross), dual mode, and the funding rate."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import ccxt
import pytest

from crossbook.sim.venues.gate import FUNDING_INTERVAL

from ..conftest import run, wait_for
from .trading_contract import TradingHarness

SYMBOL = "BTC/USDT:USDT"


async def started(h: TradingHarness) -> Any:
    ex = h.client()
    await ex.load_markets()
    return ex


def test_contracts_load_as_linear_swaps_and_the_account_balances() -> None:
    async def body() -> None:
        async with TradingHarness("gateswap") as h:
            ex = await started(h)
            market = ex.market(SYMBOL)
            assert market["swap"] and market["linear"] and market["settle"] == "USDT"
            assert market["contractSize"] == float(h.sim.engine.markets[h.symbol].lot)
            balance = await ex.fetch_balance()
            assert balance["USDT"]["free"] == 10_000_000 and balance["USDT"]["total"] == 10_000_000

    run(body())


def test_limit_order_rests_amends_in_place_and_fills_into_a_position() -> None:
    async def body() -> None:
        async with TradingHarness("gateswap") as h:
            ex = await started(h)
            bid, ask = h.touch()
            tick = h.sim.engine.markets[h.symbol].tick
            low = bid - 50 * tick
            order = await ex.create_order(SYMBOL, "limit", "buy", 3, float(low), {"text": "t-perp1"})
            assert order["status"] == "open" and order["amount"] == 3 and order["side"] == "buy"
            assert order["info"]["size"] == 3
            lower = low - 10 * tick
            edited = await ex.edit_order(order["id"], SYMBOL, "limit", "buy", 5, float(lower))
            assert edited["id"] == order["id"] and edited["amount"] == 5 and edited["price"] == float(lower)
            fetched = await ex.fetch_order(order["id"], SYMBOL)
            assert fetched["price"] == float(lower) and fetched["remaining"] == 5
            [shown] = await ex.fetch_open_orders(SYMBOL)
            assert shown["id"] == order["id"] and shown["amount"] == 5
            # amended through the ask, it takes at once, at the book's prices
            filled = await ex.edit_order(order["id"], SYMBOL, "limit", "buy", 5, float(ask + 100 * tick))
            assert filled["status"] == "closed" and filled["id"] == order["id"]
            [position] = await ex.fetch_positions()
            assert position["side"] == "long" and position["contracts"] == 5 and position["symbol"] == SYMBOL
            # a reduce-only market sell larger than the position closes it and no more
            await ex.create_order(SYMBOL, "market", "sell", 8, None, {"reduceOnly": True})
            assert await ex.fetch_positions(params={"holding": "true"}) == []
            with pytest.raises(ccxt.InvalidOrder):
                await ex.create_order(SYMBOL, "market", "sell", 1, None, {"reduceOnly": True})

    run(body())


def test_amend_cutting_the_size_keeps_queue_priority_and_cancel_finishes() -> None:
    async def body() -> None:
        async with TradingHarness("gateswap") as h:
            ex = await started(h)
            bid, _ = h.touch()
            price = float(bid - 40 * h.sim.engine.markets[h.symbol].tick)
            first = await ex.create_order(SYMBOL, "limit", "buy", 4, price)
            second = await ex.create_order(SYMBOL, "limit", "buy", 2, price)
            await ex.edit_order(first["id"], SYMBOL, "limit", "buy", 3)
            queue = next(q for (s, b, _), q in h.sim.engine._queues.items() if s == h.symbol and b)
            assert queue == [first["id"], second["id"]]
            cancelled = await ex.cancel_order(first["id"], SYMBOL)
            assert cancelled["status"] == "canceled" and cancelled["amount"] == 3
            with pytest.raises(ccxt.ExchangeError):
                await ex.cancel_order(first["id"], SYMBOL)
            with pytest.raises(ccxt.OrderNotFound):
                await ex.fetch_order("999999", SYMBOL)

    run(body())


def test_leverage_cross_via_zero_and_margin_reserved() -> None:
    async def body() -> None:
        async with TradingHarness("gateswap") as h:
            ex = await started(h)
            await ex.set_leverage(5, SYMBOL)
            position = await ex.fetch_position(SYMBOL)
            assert position["leverage"] == 5 and position["marginMode"] == "isolated"
            await ex.set_leverage(20, SYMBOL, {"marginMode": "cross"})
            position = await ex.fetch_position(SYMBOL)
            assert position["marginMode"] == "cross" and position["info"]["cross_leverage_limit"] == "20"
            _, ask = h.touch()
            await ex.create_order(SYMBOL, "market", "buy", 10, None)
            lot = h.sim.engine.markets[h.symbol].lot
            account = await ex.fetch_balance()
            used = Decimal(str(account["USDT"]["used"]))
            assert Decimal(0) < used <= ask * 2 * 10 * lot / 20
            with pytest.raises(ccxt.BadRequest):
                await ex.set_leverage(101, SYMBOL)

    run(body())


def test_dual_mode_keeps_a_long_and_a_short() -> None:
    async def body() -> None:
        async with TradingHarness("gateswap") as h:
            ex = await started(h)
            await ex.set_position_mode(True, SYMBOL)
            await ex.create_order(SYMBOL, "market", "buy", 3, None)
            await ex.create_order(SYMBOL, "market", "sell", 2, None)
            positions = {p["info"]["mode"]: p for p in await ex.fetch_positions(params={"holding": "true"})}
            assert positions["dual_long"]["contracts"] == 3 and positions["dual_long"]["side"] == "long"
            assert positions["dual_short"]["contracts"] == 2 and positions["dual_short"]["side"] == "short"
            # a reduce-only sell closes the long
            await ex.create_order(SYMBOL, "market", "sell", 3, None, {"reduceOnly": True})
            positions = {p["info"]["mode"]: p for p in await ex.fetch_positions(params={"holding": "true"})}
            assert set(positions) == {"dual_short"}
            with pytest.raises(ccxt.BadRequest):  # POSITION_HOLDING
                await ex.set_position_mode(False, SYMBOL)

    run(body())


def test_funding_rate_and_next_funding_time() -> None:
    async def body() -> None:
        async with TradingHarness("gateswap") as h:
            ex = await started(h)
            rate = await ex.fetch_funding_rate(SYMBOL)
            assert rate["fundingRate"] == 0.0001 and rate["interval"] == "8h"
            now = time.time()
            assert rate["fundingTimestamp"] % (FUNDING_INTERVAL * 1000) == 0
            assert now * 1000 < rate["fundingTimestamp"] <= (now + FUNDING_INTERVAL) * 1000
            assert rate["markPrice"] is not None

    run(body())


def test_a_resting_order_fills_when_the_market_reaches_it() -> None:
    async def body() -> None:
        async with TradingHarness("gateswap") as h:
            ex = await started(h)
            _, ask = h.touch()
            order = await ex.create_order(SYMBOL, "limit", "sell", 2, float(ask))
            sim_order = h.sim.engine.orders[order["id"]]
            await wait_for(lambda: sim_order.status.final, 20, "the resting sell to fill")
            fetched = await ex.fetch_order(order["id"], SYMBOL)
            assert fetched["status"] == "closed" and fetched["average"] == float(ask)
            [position] = await ex.fetch_positions(params={"holding": "true"})
            assert position["side"] == "short" and position["contracts"] == 2

    run(body())
