"""Binance derivatives beyond the USD-M order cycle, through unmodified ccxt: the funding rate
(``premiumIndex``), the USD-M modify (``PUT /fapi/v1/order``), the USD-M private stream
(listenKey, ``ORDER_TRADE_UPDATE``, through ccxt.pro) and COIN-M trading on ``/dapi``."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import aiohttp
import ccxt
import pytest

from crossbook.model import OrderType, Side

from ..conftest import run, wait_for
from .trading_contract import TradingHarness

Body = Callable[[TradingHarness, Any, str], Awaitable[None]]
EIGHT_HOURS_MS = 8 * 3600 * 1000


def on(feed: str, body: Body) -> None:
    """Run ``body`` on a paused book with a keyed, loaded ccxt client of ``feed``'s first market."""

    async def main() -> None:
        async with TradingHarness(feed) as h:
            assert h.cluster is not None
            h.cluster.pause()
            ex = h.client()
            await ex.load_markets()
            await body(h, ex, h.ccxt_symbol(ex))

    run(main())


def level(h: TradingHarness, bids: bool, depth: int = 0) -> Decimal:
    ladder = h.sim.ladders[h.symbol]
    return Decimal(ladder.price_str(ladder.top(bids, depth + 1)[depth][0]))


def check_funding(h: TradingHarness, rate: Any) -> None:
    now = int(time.time() * 1000)
    assert rate["fundingRate"] == 0.0001 and rate["interestRate"] == 0.0001
    assert rate["fundingTimestamp"] % EIGHT_HOURS_MS == 0 and 0 < rate["fundingTimestamp"] - now <= EIGHT_HOURS_MS
    bid, ask = h.touch()
    assert rate["markPrice"] == float((bid + ask) / 2)


# ---- USD-M -------------------------------------------------------------------------------------


def test_usdm_funding_rate_and_next_funding_time() -> None:
    async def body(h: TradingHarness, ex: Any, symbol: str) -> None:
        check_funding(h, await ex.fetch_funding_rate(symbol))
        everything = await ex.fapiPublicGetPremiumIndex()
        assert sorted(p["symbol"] for p in everything) == ["BTCUSDT", "ETHUSDT"]

    on("binanceusdm", body)


def test_usdm_edit_order_modifies_in_place_and_fills_at_the_new_price() -> None:
    async def body(h: TradingHarness, ex: Any, symbol: str) -> None:
        bid = level(h, True, 3)
        order = await ex.create_order(symbol, "limit", "buy", 0.01, float(bid), {"clientOrderId": "mine-1"})
        edited = await ex.edit_order(order["id"], symbol, "limit", "buy", 0.03, float(bid - 10))
        assert edited["id"] == order["id"] and edited["clientOrderId"] == "mine-1" and edited["status"] == "open"
        fetched = await ex.fetch_order(order["id"], symbol)
        assert (fetched["price"], fetched["amount"]) == (float(bid - 10), 0.03)
        assert (await ex.fetch_balance())["USDT"]["used"] == pytest.approx(float(bid - 10) * 0.03)
        with pytest.raises(ccxt.ExchangeError, match="-5027"):
            await ex.edit_order(order["id"], symbol, "limit", "buy", 0.03, float(bid - 10))
        with pytest.raises(ccxt.ExchangeError, match="-2019"):  # unfundable: the order keeps its terms
            await ex.edit_order(order["id"], symbol, "limit", "buy", 5000, float(bid - 10))
        assert (await ex.fetch_order(order["id"], symbol))["amount"] == 0.03
        ask = level(h, False)
        taken = await ex.edit_order(order["id"], symbol, "limit", "buy", 0.03, float(ask))  # now crosses
        assert taken["id"] == order["id"] and taken["filled"] > 0
        [position] = await ex.fetch_positions([symbol])
        assert position["side"] == "long" and position["contracts"] == taken["filled"]

    on("binanceusdm", body)


def test_usdm_modify_to_no_more_than_filled_cancels() -> None:
    async def body(h: TradingHarness, ex: Any, symbol: str) -> None:
        ladder = h.sim.ladders[h.symbol]
        ask = level(h, False)
        ask_size = Decimal(ladder.size_str(ladder.top(False, 1)[0][1]))
        order = await ex.create_order(symbol, "limit", "sell", 0.02, float(ask))
        h.sim.engine.open_account("other", {"USDT": Decimal(10_000_000)})
        h.sim.engine.submit("other", h.symbol, Side.BUY, OrderType.LIMIT, ask_size + Decimal("0.01"), ask)
        assert (await ex.fetch_order(order["id"], symbol))["filled"] == 0.01  # the makers' lots went first
        with pytest.raises(ccxt.OrderNotFound):
            await ex.edit_order("987654321", symbol, "limit", "sell", 0.02, float(ask + 1))
        with pytest.raises(ccxt.ExchangeError, match="-1013"):
            await ex.fapiPrivatePutOrder({"symbol": "BTCUSDT", "side": "SELL", "orderId": order["id"],
                                          "quantity": "0.0155", "price": f"{ask:f}"})  # off the lot grid
        canceled = await ex.edit_order(order["id"], symbol, "limit", "sell", 0.01, float(ask + 1))
        assert canceled["status"] == "canceled" and canceled["filled"] == 0.01

    on("binanceusdm", body)


# ---- USD-M private stream ---------------------------------------------------------------------


def test_usdm_private_stream_follows_orders_fills_and_modifies() -> None:
    async def body(h: TradingHarness, ex: Any, symbol: str) -> None:
        pro = h.client(pro=True)
        await pro.load_markets()
        watching = asyncio.ensure_future(pro.watch_orders(symbol))
        await wait_for(lambda: h.sim.streaming_to("main"), 5.0, "the listenKey stream")
        bid = level(h, True, 3)
        order = await ex.create_order(symbol, "limit", "buy", 0.02, float(bid), {"clientOrderId": "mine-2"})
        [opened] = await watching
        assert (opened["id"], opened["clientOrderId"], opened["status"]) == (order["id"], "mine-2", "open")
        await ex.edit_order(order["id"], symbol, "limit", "buy", 0.03, float(bid - 1))
        [amended] = await pro.watch_orders(symbol)
        assert amended["info"]["x"] == "AMENDMENT" and (amended["price"], amended["amount"]) == (float(bid - 1), 0.03)
        trades = asyncio.ensure_future(pro.watch_my_trades(symbol))
        await ex.edit_order(order["id"], symbol, "limit", "buy", 0.03, float(level(h, False, 5)))  # crosses now
        [trade, *_] = await trades
        assert trade["order"] == order["id"] and trade["takerOrMaker"] == "taker" and trade["fee"]["currency"] == "USDT"
        await wait_for(lambda: pro.orders.hashmap[symbol][order["id"]]["status"] == "closed", 5.0, "the fill")

    on("binanceusdm", body)


def test_usdm_listen_key_needs_a_known_api_key() -> None:
    async def body(h: TradingHarness, ex: Any, symbol: str) -> None:
        first = await ex.fapiPrivatePostListenKey()
        assert len(first["listenKey"]) == 64 and (await ex.fapiPrivatePostListenKey()) == first
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"{h.sim.rest_url}/fapi/v1/listenKey", headers={"X-MBX-APIKEY": "nope"}) as resp,
        ):
            assert resp.status == 401 and (await resp.json())["code"] == -2015
        await ex.fapiPrivateDeleteListenKey()
        assert (await ex.fapiPrivatePostListenKey())["listenKey"] != first["listenKey"]

    on("binanceusdm", body)


# ---- COIN-M ------------------------------------------------------------------------------------


def test_coinm_markets_balance_and_funding() -> None:
    async def body(h: TradingHarness, ex: Any, symbol: str) -> None:
        market = ex.markets[symbol]
        assert symbol == "BTC/USD:BTC" and market["inverse"] and market["contractSize"] == 100
        balance = await ex.fetch_balance()
        assert balance["USD"]["free"] == 10_000_000 and balance["BTC"]["free"] == 1_000
        check_funding(h, await ex.fetch_funding_rate(symbol))

    on("binancecoinm", body)


def test_coinm_orders_rest_modify_fill_and_open_a_position() -> None:
    async def body(h: TradingHarness, ex: Any, symbol: str) -> None:
        bid = level(h, True, 3)
        order = await ex.create_order(symbol, "limit", "buy", 5, float(bid))
        assert [o["id"] for o in await ex.fetch_open_orders(symbol)] == [order["id"]]
        edited = await ex.edit_order(order["id"], symbol, "limit", "buy", 3, float(bid - 1))
        assert edited["id"] == order["id"] and edited["amount"] == 3 and edited["price"] == float(bid - 1)
        await ex.cancel_order(order["id"], symbol)
        assert (await ex.fetch_order(order["id"], symbol))["status"] == "canceled"
        assert (await ex.set_leverage(5, symbol))["leverage"] == 5
        filled = await ex.create_order(symbol, "market", "buy", 4)
        assert filled["status"] == "closed" and filled["filled"] == 4
        assert float(filled["info"]["cumBase"]) == pytest.approx(4 * 100 / filled["average"])
        [position] = await ex.fetch_positions([symbol])
        assert position["side"] == "long" and position["contracts"] == 4 and position["leverage"] == 5
        assert position["notional"] == pytest.approx(400 / position["markPrice"])
        trades = await ex.fetch_my_trades(symbol)
        assert {t["order"] for t in trades} == {filled["id"]} and trades[0]["info"]["marginAsset"] == "BTC"
        await ex.create_order(symbol, "market", "sell", 4, None, {"reduceOnly": True})
        assert await ex.fetch_positions([symbol]) == []

    on("binancecoinm", body)


def test_coinm_hedge_mode_and_refusals() -> None:
    async def body(h: TradingHarness, ex: Any, symbol: str) -> None:
        await ex.set_position_mode(True)
        assert (await ex.fetch_position_mode(symbol))["hedged"] is True
        with pytest.raises(ccxt.ExchangeError, match="-4061"):
            await ex.create_order(symbol, "market", "buy", 1)
        await ex.create_order(symbol, "market", "sell", 2, None, {"positionSide": "SHORT"})
        [short] = await ex.fetch_positions([symbol])
        assert short["side"] == "short" and short["hedged"] and short["contracts"] == 2
        with pytest.raises(ccxt.ExchangeError, match="-1013"):  # whole contracts only
            await ex.dapiPrivatePostOrder({"symbol": "BTCUSD_PERP", "side": "BUY", "type": "MARKET",
                                           "quantity": "0.5", "positionSide": "LONG"})

    on("binancecoinm", body)


def test_coinm_private_stream_on_the_listen_key_path() -> None:
    async def body(h: TradingHarness, ex: Any, symbol: str) -> None:
        pro = h.client(pro=True)
        await pro.load_markets()
        watching = asyncio.ensure_future(pro.watch_orders(symbol))
        await wait_for(lambda: h.sim.streaming_to("main"), 5.0, "the /ws/<listenKey> stream")
        order = await ex.create_order(symbol, "market", "buy", 2)
        updates = await watching
        assert updates[0]["id"] == order["id"]
        await wait_for(lambda: pro.orders.hashmap[symbol][order["id"]]["filled"] == 2, 5.0, "the fill")

    on("binancecoinm", body)
