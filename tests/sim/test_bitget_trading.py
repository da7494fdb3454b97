"""Bitget v2 spot trading through an unmodified ccxt client: the documented signature, the
passphrase and the other refusals in Bitget's codes, limit orders with each ``force``, market
orders (a market buy is sized in quote), plan (trigger) orders, fills, fees and balances."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import aiohttp
import ccxt
import orjson
import pytest

from crossbook.sim.access import new_key
from crossbook.sim.venues.bitget import prehash, signature

from ..conftest import run, wait_for
from .trading_contract import TradingHarness

Body = Callable[[TradingHarness, Any, str], Awaitable[None]]


def trade(body: Body) -> None:
    """Run ``body`` with a funded harness, a ccxt client whose markets are loaded and its symbol."""

    async def main() -> None:
        async with TradingHarness("bitget") as h:
            ex = h.client()
            await ex.load_markets()
            await body(h, ex, h.ccxt_symbol(ex))

    run(main())


def code_of(exc: BaseException) -> str:
    return str(orjson.loads(str(exc).split(" ", 1)[1])["code"])


# ---- the signature, from the documented example -------------------------------------------------


def test_prehash_is_the_documented_string() -> None:
    """The signature docs' examples: the sorted query joins with ``?``, a POST appends its body."""
    assert prehash("16273667805456", "get", "/api/mix/v2/market/depth", "limit=20&symbol=BTCUSDT", "") == (
        "16273667805456GET/api/mix/v2/market/depth?limit=20&symbol=BTCUSDT"
    )
    body = '{"symbol":"BTCUSDT","size":"8","side":"buy","price":"1","orderType":"limit"}'
    assert prehash("1561022985382", "POST", "/api/v2/spot/trade/place-order", "", body) == (
        "1561022985382POST/api/v2/spot/trade/place-order" + body
    )
    # base64 of the raw digest (RFC 4231-style vector f7bc83f4...3cd8), not its hex
    assert signature("key", "The quick brown fox jumps over the lazy dog") == "97yD9DBThCSxMpjmqm+xQ+9NWaFJRhdZl0edvC0aPNg="


def test_a_request_signed_by_hand_is_accepted_and_any_change_refused() -> None:
    async def main() -> None:
        async with TradingHarness("bitget") as h, aiohttp.ClientSession() as http:
            assert h.key is not None and h.key.passphrase is not None
            key = h.key

            async def get(query: str, signed_query: str, passphrase: str = key.passphrase or "") -> dict[str, Any]:
                stamp = str(int(time.time() * 1000))
                path = "/api/v2/spot/account/assets"
                headers = {
                    "ACCESS-KEY": key.key,
                    "ACCESS-SIGN": signature(key.secret, prehash(stamp, "GET", path, signed_query, "")),
                    "ACCESS-TIMESTAMP": stamp,
                    "ACCESS-PASSPHRASE": passphrase,
                }
                async with http.get(f"{h.sim.rest_url}{path}?{query}", headers=headers) as resp:
                    return dict(orjson.loads(await resp.read()))

            ok = await get("coin=USDT", "coin=USDT")
            assert ok["code"] == "00000" and [row["coin"] for row in ok["data"]] == ["USDT"]
            assert (await get("coin=BTC", "coin=USDT"))["code"] == "40009"
            assert (await get("coin=USDT", "coin=USDT", passphrase="wrong"))["code"] == "40012"
            assert (await get("coin=USDT", "coin=USDT", passphrase=""))["code"] == "40011"

    run(main())


# ---- refusals --------------------------------------------------------------------------------


def test_credentials_are_refused_in_bitgets_codes() -> None:
    async def body(h: TradingHarness, ex: Any, symbol: str) -> None:
        assert h.key is not None
        cases: list[tuple[Any, type[Exception], str]] = [
            (dataclasses.replace(h.key, passphrase="not-it"), ccxt.AuthenticationError, "40012"),
            (dataclasses.replace(h.key, secret=new_key("x").secret), ccxt.AuthenticationError, "40009"),
            (new_key("nobody", passphrase=True), ccxt.AuthenticationError, "40006"),
        ]
        for key, error, code in cases:
            with pytest.raises(error) as raised:
                await h.client(key).fetch_balance()
            assert code_of(raised.value) == code
        late = h.client()
        late.milliseconds = lambda: ccxt.Exchange.milliseconds() - 31_000  # just outside the 30 s window
        with pytest.raises(ccxt.InvalidNonce) as stale:
            await late.fetch_balance()
        assert code_of(stale.value) == "40008"
        reader = h.client(h.sim.issue_key("main", frozenset({"read"})))
        await reader.fetch_balance()
        with pytest.raises(ccxt.PermissionDenied):
            await reader.create_order(symbol, "limit", "buy", 0.01, 1000)

    trade(body)


def test_the_classic_account_probe_and_the_markets() -> None:
    async def body(h: TradingHarness, ex: Any, symbol: str) -> None:
        assert ex.options["uta"] is False  # the /api/v3/account/settings probe was refused with 40084
        market = ex.markets[symbol]
        ladder = h.sim.ladders[h.symbol]
        assert market["spot"] and market["active"] and market["id"] == "BTCUSDT"
        assert (market["precision"]["amount"], market["precision"]["price"]) == (ladder.spec.lot, ladder.spec.tick)
        assert {"BTC", "USDT", "ETH", "SOL", "USDC"} <= set(ex.currencies)
        fees = await ex.fetch_trading_fees()
        assert fees[symbol]["taker"] == float(h.sim.engine.taker_fee) and fees[symbol]["maker"] == float(h.sim.engine.maker_fee)
        fee = await ex.fetch_trading_fee(symbol)
        assert (fee["maker"], fee["taker"]) == (float(h.sim.engine.maker_fee), float(h.sim.engine.taker_fee))

    trade(body)


def test_orders_the_venue_refuses() -> None:
    async def body(h: TradingHarness, ex: Any, symbol: str) -> None:
        bid, ask = h.touch()
        with pytest.raises(ccxt.InsufficientFunds):
            await ex.create_order(symbol, "limit", "buy", 500, ex.price_to_precision(symbol, float(bid)))
        with pytest.raises(ccxt.InsufficientFunds):  # the quote size of a market buy beyond the balance
            await ex.create_order(symbol, "market", "buy", 20_000_000, params={"createMarketBuyOrderRequiresPrice": False})
        with pytest.raises(ccxt.InvalidOrder) as off_grid:
            await ex.create_order(symbol, "limit", "buy", 0.01, float(bid), {"price": str(bid - Decimal("0.005"))})
        assert code_of(off_grid.value) == "41103"
        with pytest.raises(ccxt.InvalidOrder):
            await ex.create_order(symbol, "limit", "buy", 0.01, float(bid), {"size": "0.000001"})
        with pytest.raises(ccxt.InvalidOrder):  # post-only that would take
            await ex.create_order(symbol, "limit", "buy", 0.01, float(ask) * 1.01, {"postOnly": True})
        with pytest.raises(ccxt.OrderNotFound):
            await ex.cancel_order("987654321", symbol)
        assert h.sim.engine.open_orders("main") == []

    trade(body)


# ---- limit orders -------------------------------------------------------------------------------


def test_a_resting_limit_order_by_client_id_and_post_only() -> None:
    async def body(h: TradingHarness, ex: Any, symbol: str) -> None:
        bid, _ = h.touch()
        price = ex.price_to_precision(symbol, float(bid) * 0.98)
        placed = await ex.create_order(symbol, "limit", "buy", 0.02, price, {"clientOrderId": "mine-1", "postOnly": True})
        assert placed["clientOrderId"] == "mine-1" and placed["status"] is None  # place-order answers ids only
        by_client = await ex.fetch_order(None, symbol, {"clientOrderId": "mine-1"})
        assert by_client["id"] == placed["id"] and by_client["status"] == "open"
        assert (by_client["amount"], by_client["price"], by_client["filled"]) == (0.02, float(price), 0)
        [listed] = await ex.fetch_open_orders(symbol)
        assert listed["id"] == placed["id"] and listed["price"] == float(price)
        assert (await ex.fetch_balance())["USDT"]["used"] == pytest.approx(0.02 * float(price))
        canceled = await ex.cancel_order(placed["id"], symbol)
        assert canceled["id"] == placed["id"]
        assert (await ex.fetch_order(placed["id"], symbol))["status"] == "canceled"
        with pytest.raises(ccxt.OrderNotFound):
            await ex.cancel_order(placed["id"], symbol)

    trade(body)


def test_ioc_and_fok_leave_nothing_resting() -> None:
    async def body(h: TradingHarness, ex: Any, symbol: str) -> None:
        bid, _ = h.touch()
        below = ex.price_to_precision(symbol, float(bid) * 0.98)
        for tif in ("IOC", "FOK"):
            order = await ex.create_order(symbol, "limit", "buy", 0.01, below, {"timeInForce": tif})
            fetched = await ex.fetch_order(order["id"], symbol)
            assert (fetched["status"], fetched["filled"]) == ("canceled", 0)
        too_much = sum(q for _, q in h.sim.expected_top(h.symbol, 1000)[0]) + 1  # more than all the bids
        fok = await ex.create_order(symbol, "limit", "sell", too_much, float(bid) / 2, {"timeInForce": "FOK"})
        assert (await ex.fetch_order(fok["id"], symbol))["filled"] == 0
        ioc = await ex.create_order(symbol, "limit", "sell", 0.01, float(bid) * 0.98, {"timeInForce": "IOC"})
        filled = await ex.fetch_order(ioc["id"], symbol)
        assert (filled["status"], filled["filled"]) == ("closed", 0.01) and filled["average"] >= float(bid) * 0.98
        assert await ex.fetch_open_orders(symbol) == []

    trade(body)


# ---- market orders ------------------------------------------------------------------------------


def test_a_market_sell_fills_as_taker_with_fills_and_fees() -> None:
    async def body(h: TradingHarness, ex: Any, symbol: str) -> None:
        before = await ex.fetch_balance()
        order = await ex.create_order(symbol, "market", "sell", 0.05)
        fetched = await ex.fetch_order(order["id"], symbol)
        assert (fetched["status"], fetched["filled"], fetched["amount"], fetched["type"]) == ("closed", 0.05, 0.05, "market")
        trades = await ex.fetch_my_trades(symbol)
        assert {t["order"] for t in trades} == {order["id"]} and {t["takerOrMaker"] for t in trades} == {"taker"}
        cost = sum(t["cost"] for t in trades)
        fee = sum(t["fee"]["cost"] for t in trades)
        assert fee == pytest.approx(cost * float(h.sim.engine.taker_fee)) and trades[0]["fee"]["currency"] == "USDT"
        assert fetched["fee"] == {"cost": pytest.approx(fee), "currency": "USDT"}
        after = await ex.fetch_balance()
        assert after["BTC"]["total"] == pytest.approx(before["BTC"]["total"] - 0.05)
        assert after["USDT"]["total"] == pytest.approx(before["USDT"]["total"] + cost - fee)

    trade(body)


def test_a_market_buy_spends_its_quote_size() -> None:
    """ccxt sends amount * price as the quote ``size``; the venue buys what that pays for, fee
    included, so the quote balance falls by at most the size."""

    async def body(h: TradingHarness, ex: Any, symbol: str) -> None:
        before = await ex.fetch_balance()
        _, ask = h.touch()
        order = await ex.create_order(symbol, "market", "buy", 0.05, float(ask))
        fetched = await ex.fetch_order(order["id"], symbol)
        size = float(fetched["info"]["size"])
        assert size == pytest.approx(0.05 * float(ask), abs=0.01) and fetched["status"] == "closed"
        assert 0 < fetched["filled"] <= 0.05 and fetched["amount"] == fetched["filled"]
        spent = before["USDT"]["total"] - (await ex.fetch_balance())["USDT"]["total"]
        assert size * 0.99 < spent <= size
        by_cost = await ex.create_market_buy_order_with_cost(symbol, 100)
        assert float((await ex.fetch_order(by_cost["id"], symbol))["info"]["quoteVolume"]) <= 100
        with pytest.raises(ccxt.InvalidOrder):  # ccxt itself wants a price to turn the amount into quote
            await ex.create_order(symbol, "market", "buy", 0.05)

    trade(body)


# ---- plan (trigger) orders ----------------------------------------------------------------------


def test_plan_orders_rest_cancel_and_trigger() -> None:
    async def body(h: TradingHarness, ex: Any, symbol: str) -> None:
        bid, ask = h.touch()
        far = ex.price_to_precision(symbol, float(bid) * 0.9)
        stop_limit = await ex.create_order(symbol, "limit", "sell", 0.01, far, {"triggerPrice": far})
        [plan] = await ex.fetch_open_orders(symbol, params={"trigger": True})
        assert (plan["id"], plan["status"]) == (stop_limit["id"], "open")
        assert plan["triggerPrice"] == plan["price"] == float(far)
        assert await ex.fetch_open_orders(symbol) == []  # plan orders are listed apart
        await ex.cancel_order(stop_limit["id"], symbol, {"trigger": True})
        assert await ex.fetch_open_orders(symbol, params={"trigger": True}) == []
        with pytest.raises(ccxt.InvalidOrder):  # 43025: no such plan order
            await ex.cancel_order(stop_limit["id"], symbol, {"trigger": True})
        # a stop-market sell triggered by the next public trade at or below its trigger
        stop = await ex.create_order(symbol, "market", "sell", 0.01, None, {"triggerPrice": float(ask) * 2})
        await wait_for(lambda: h.sim.engine.orders[stop["id"]].status.final, 10.0, "the stop to trigger and fill")
        fetched = await ex.fetch_order(stop["id"], symbol)
        assert (fetched["status"], fetched["filled"]) == ("closed", 0.01)

    trade(body)
