"""MEXC spot v3 trading on the simulator through an unmodified ccxt client: the keyed market load,
each order type (limit, limit maker, IOC, FOK, market by quantity and by quote amount) placed,
filled or resting, canceled and fetched, maker and taker fills with their fees, and the signature,
clock and error codes in MEXC's own words."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import aiohttp
import ccxt
import pytest

from crossbook.sim.access import ApiKey, new_key
from crossbook.sim.venues.mexc import MexcSpotSim, sign

from ..conftest import run
from .trading_contract import TradingHarness

Body = Callable[[TradingHarness, Any, str], Awaitable[None]]

# the docs' SIGNED example (POST /api/v3/order); its "Example 1" prints 323c96ab...a117 for this
# string, which neither OpenSSL nor any other HMAC-SHA256 reproduces; "Example 2" prints the digest
DOC_SECRET = "45d0b3c26f2644f19bfb98b07741b2f5"
DOC_QUERY = "symbol=BTCUSDT&side=BUY&type=LIMIT"
DOC_BODY = "quantity=1&price=11&recvWindow=5000&timestamp=1644489390087"
# ccxt weighs MEXC calls heavily (exchangeInfo 25, account 10, ...); the simulator sets no rate
# limit, so its throttle would only slow these tests down
UNTHROTTLED = {"enableRateLimit": False}


def trading(body: Body, *, paused: bool = True) -> None:
    """Run ``body`` with a keyed, loaded ccxt client on BTC/USDT; paused, the book stands still
    so prices read from it stay valid."""

    async def main() -> None:
        async with TradingHarness("mexc") as h:
            assert h.cluster is not None
            if paused:
                h.cluster.pause()
            ex = h.client(**UNTHROTTLED)
            await ex.load_markets()
            await body(h, ex, h.ccxt_symbol(ex))

    run(main())


def level(h: TradingHarness, bids: bool, depth: int = 0) -> tuple[Decimal, Decimal]:
    """(price, size) of the ``depth``-th level (0 = the touch) of one side of the venue's book."""
    ladder = h.sim.ladders[h.symbol]
    ticks, lots = ladder.top(bids, depth + 1)[depth]
    return Decimal(ladder.price_str(ticks)), Decimal(ladder.size_str(lots))


def stamped(params: str, *, stamp: int | None = None, window: int | None = None) -> str:
    now = stamp if stamp is not None else int(time.time() * 1000)
    return params + (f"&recvWindow={window}" if window is not None else "") + f"&timestamp={now}"


async def raw(h: TradingHarness, method: str, path: str, query: str, body: str = "", *, key: ApiKey | None = None,
              signed_over: str | None = None, signature_in_body: bool = False) -> tuple[int, Any]:
    """A hand-made SIGNED request; the signature covers ``signed_over`` (by default totalParams:
    the query string followed by the body) and rides at the end of the query or the body."""
    key = key or h.key
    assert key is not None
    signature = "signature=" + sign(key.secret, query + body if signed_over is None else signed_over)
    if signature_in_body:
        body = f"{body}&{signature}"
    else:
        query = f"{query}&{signature}" if query else signature
    headers = {"X-MEXC-APIKEY": key.key, "Content-Type": "application/x-www-form-urlencoded"}
    async with aiohttp.ClientSession() as session:
        url = f"{h.sim.rest_url}{path}?{query}"
        async with session.request(method, url, data=body or None, headers=headers) as resp:
            return resp.status, await resp.json()


# ---- the signature ------------------------------------------------------------------------------


def test_sign_reproduces_the_documented_examples() -> None:
    expected = "fd3e4e8543c5188531eb7279d68ae7d26a573d0fc5ab0d18eb692451654d837a"
    assert sign(DOC_SECRET, f"{DOC_QUERY}&{DOC_BODY}") == expected
    # the mixed example: query string then body, no "&" between them
    assert sign(DOC_SECRET, DOC_QUERY + DOC_BODY) == "d1a676610ceb39174c8039b3f548357994b2a34139a8addd33baadba65684592"


def test_the_venue_verifies_total_params_as_it_received_them() -> None:
    async def body(h: TradingHarness, ex: Any, symbol: str) -> None:
        bid, _ = level(h, True)
        order = stamped(f"quantity=0.01&price={bid - 100}")
        status, placed = await raw(h, "POST", "/api/v3/order", DOC_QUERY, order, signature_in_body=True)
        assert status == 200 and placed["orderId"].startswith("C02__") and placed["type"] == "LIMIT"
        status, all_query = await raw(h, "POST", "/api/v3/order", f"{DOC_QUERY}&{order}")
        assert status == 200 and all_query["orderId"] != placed["orderId"]
        _, joined = await raw(h, "POST", "/api/v3/order", DOC_QUERY, order, signed_over=f"{DOC_QUERY}&{order}")
        assert joined == {"code": 700002, "msg": "Signature for this request is not valid."}
        _, tampered = await raw(h, "POST", "/api/v3/order", f"{DOC_QUERY}&{order.replace('0.01', '0.02')}",
                                signed_over=f"{DOC_QUERY}&{order}")
        assert tampered["code"] == 700002
        assert len(h.sim.engine.open_orders("main")) == 2

    trading(body)


def test_key_clock_and_permission_errors_in_mexc_codes() -> None:
    async def body(h: TradingHarness, ex: Any, symbol: str) -> None:
        async with aiohttp.ClientSession() as session, session.get(f"{h.sim.rest_url}/api/v3/account?{stamped('')}") as resp:
            assert (resp.status, await resp.json()) == (400, {"code": 400, "msg": "api key required"})
        _, unknown = await raw(h, "GET", "/api/v3/account", stamped(""), key=new_key("nobody"))
        assert unknown == {"code": 10072, "msg": "Api key info invalid"}
        six_seconds_ago = int(time.time() * 1000) - 6_000
        _, stale = await raw(h, "GET", "/api/v3/account", stamped("", stamp=six_seconds_ago))
        assert stale == {"code": 700003, "msg": "Timestamp for this request is outside of the recvWindow."}
        status, wide = await raw(h, "GET", "/api/v3/account", stamped("", stamp=six_seconds_ago, window=10_000))
        assert status == 200 and wide["accountType"] == "SPOT"
        _, ahead = await raw(h, "GET", "/api/v3/account", stamped("", stamp=int(time.time() * 1000) + 2_000))
        assert ahead["code"] == 700003
        _, too_wide = await raw(h, "GET", "/api/v3/account", stamped("", window=60_001))
        assert too_wide == {"code": 700005, "msg": "recvWindow must less than 60000"}
        reader = h.sim.issue_key("main", frozenset({"read"}))
        status, _ = await raw(h, "GET", "/api/v3/account", stamped(""), key=reader)
        assert status == 200
        _, refused = await raw(h, "POST", "/api/v3/order", stamped(f"{DOC_QUERY}&quantity=0.01&price=1000"), key=reader)
        assert refused == {"code": 700007, "msg": "No permission to access the endpoint."}

    trading(body)


def test_credential_errors_reach_ccxt_as_its_mexc_map_reads_them() -> None:
    async def body(h: TradingHarness, ex: Any, symbol: str) -> None:
        assert h.key is not None
        with pytest.raises(ccxt.AuthenticationError, match="700002"):
            wrong_secret = ApiKey(h.key.key, new_key("x").secret, "main")
            await h.client(wrong_secret, **UNTHROTTLED).load_markets()  # the coin list is signed
        late = h.client(**UNTHROTTLED)
        late.milliseconds = lambda: ccxt.Exchange.milliseconds() - 120_000
        with pytest.raises(ccxt.InvalidNonce, match="700003"):
            await late.fetch_balance()
        # ccxt maps MEXC's unknown-key code to BadRequest, not AuthenticationError
        with pytest.raises(ccxt.BadRequest, match="10072"):
            await h.client(new_key("nobody"), **UNTHROTTLED).fetch_balance()
        reader = h.client(h.sim.issue_key("main", frozenset({"read"})), **UNTHROTTLED)
        with pytest.raises(ccxt.AuthenticationError, match="700007"):
            await reader.create_order(symbol, "limit", "buy", 0.01, 1000)

    trading(body)


# ---- markets and the account ----------------------------------------------------------------


def test_keyed_load_markets_reads_the_coin_list_and_the_empty_contract_list() -> None:
    async def body(h: TradingHarness, ex: Any, symbol: str) -> None:
        assert sorted(ex.currencies) == ["BTC", "ETH", "SOL", "USDC", "USDT"]
        assert next(iter(ex.currencies["BTC"]["networks"].values()))["id"] == "BTC"
        assert [m["symbol"] for m in ex.markets.values() if m["swap"]] == []
        market = ex.markets[symbol]
        assert market["precision"] == {"amount": 0.00001, "price": 0.01}
        assert market["limits"]["cost"]["min"] == 1 and market["taker"] == 0.0005
        anonymous = ccxt.async_support.mexc({"urls": h.sim.ccxt_config(h.key or new_key("x"))["urls"]})
        try:
            await anonymous.load_markets()  # unkeyed, ccxt skips the signed coin list
            assert symbol in anonymous.markets
        finally:
            await anonymous.close()

    trading(body)


def test_balance_and_trading_fee() -> None:
    async def body(h: TradingHarness, ex: Any, symbol: str) -> None:
        balance = await ex.fetch_balance()
        assert balance["USDT"] == {"free": 10_000_000, "used": 0, "total": 10_000_000}
        assert balance["info"]["takerCommission"] == 5 and balance["info"]["canTrade"] is True
        fee = await ex.fetch_trading_fee(symbol)
        assert (fee["maker"], fee["taker"]) == (0, 0.0005)

    trading(body)


# ---- orders ---------------------------------------------------------------------------------


def test_a_limit_order_is_acknowledged_then_queried_canceled_and_listed() -> None:
    async def body(h: TradingHarness, ex: Any, symbol: str) -> None:
        bid, _ = level(h, True)
        price = float(bid - 100)
        ack = await ex.create_order(symbol, "limit", "buy", 0.01, price, {"clientOrderId": "mine-1"})
        assert ack["id"].startswith("C02__") and ack["status"] is None
        placed = {"symbol", "orderId", "orderListId", "price", "origQty", "type", "side", "transactTime"}
        assert set(ack["info"]) == placed
        by_client = await ex.fetch_order(None, symbol, {"clientOrderId": "mine-1"})
        assert by_client["id"] == ack["id"] and by_client["clientOrderId"] == "mine-1"
        assert by_client["status"] == "open" and by_client["info"]["status"] == "NEW"
        assert (await ex.fetch_balance())["USDT"]["used"] == pytest.approx(0.01 * price)
        canceled = await ex.cancel_order(ack["id"], symbol)
        assert canceled["status"] == "canceled" and canceled["info"]["origClientOrderId"] == "mine-1"
        with pytest.raises(ccxt.BadRequest, match="-2011"):
            await ex.cancel_order(ack["id"], symbol)
        (listed,) = await ex.fetch_orders(symbol)
        assert listed["id"] == ack["id"] and listed["status"] == "canceled"
        with pytest.raises(ccxt.ExchangeError, match="-2013"):
            await ex.fetch_order(ack["id"], "ETH/USDT")  # an order is found in its own symbol only

    trading(body)


def test_limit_maker_rests_and_is_refused_when_it_would_take() -> None:
    async def body(h: TradingHarness, ex: Any, symbol: str) -> None:
        bid, _ = level(h, True)
        ask, _ = level(h, False)
        ack = await ex.create_order(symbol, "limit", "buy", 0.01, float(bid), {"postOnly": True})
        resting = await ex.fetch_order(ack["id"], symbol)
        assert resting["status"] == "open" and resting["info"]["type"] == "LIMIT_MAKER"
        assert resting["timeInForce"] == "POST_ONLY"
        with pytest.raises(ccxt.InvalidOrder, match="30041"):
            await ex.create_order(symbol, "limit", "buy", 0.01, float(ask), {"postOnly": True})
        assert [o["id"] for o in await ex.fetch_open_orders(symbol)] == [ack["id"]]

    trading(body)


def test_ioc_takes_what_it_can_and_fok_all_or_nothing() -> None:
    async def body(h: TradingHarness, ex: Any, symbol: str) -> None:
        ask, size = level(h, False)
        ioc = await ex.create_order(symbol, "limit", "buy", float(size * 2), float(ask), {"timeInForce": "IOC"})
        ioc = await ex.fetch_order(ioc["id"], symbol)
        assert ioc["info"]["type"] == "IMMEDIATE_OR_CANCEL" and ioc["info"]["status"] == "PARTIALLY_CANCELED"
        assert ioc["status"] == "canceled" and ioc["filled"] == float(size)
        ask, size = level(h, False)
        killed = await ex.create_order(symbol, "limit", "buy", float(size * 2), float(ask), {"timeInForce": "FOK"})
        killed = await ex.fetch_order(killed["id"], symbol)
        assert killed["info"]["type"] == "FILL_OR_KILL" and killed["info"]["status"] == "CANCELED"
        assert killed["filled"] == 0
        filled = await ex.create_order(symbol, "limit", "buy", float(size), float(ask), {"timeInForce": "FOK"})
        filled = await ex.fetch_order(filled["id"], symbol)
        assert filled["status"] == "closed" and filled["timeInForce"] == "FOK"
        assert await ex.fetch_open_orders(symbol) == []

    trading(body)


def test_market_orders_by_quantity_and_by_quote_amount() -> None:
    async def body(h: TradingHarness, ex: Any, symbol: str) -> None:
        sell = await ex.fetch_order((await ex.create_order(symbol, "market", "sell", 0.02))["id"], symbol)
        assert sell["status"] == "closed" and sell["filled"] == 0.02 and sell["info"]["type"] == "MARKET"
        (sold,) = await ex.fetch_order_trades(sell["id"], symbol)
        assert sold["fee"]["currency"] == "USDT" and sold["fee"]["cost"] == pytest.approx(sold["cost"] * 0.0005)
        ask, _ = level(h, False)
        spend = await ex.create_market_buy_order_with_cost(symbol, 100)
        spend = await ex.fetch_order(spend["id"], symbol)
        assert spend["status"] == "closed" and spend["info"]["origQuoteOrderQty"] == "100"
        assert 100 - float(ask) * 0.00001 < spend["cost"] <= 100  # as many whole lots as 100 USDT buys
        (bought,) = await ex.fetch_order_trades(spend["id"], symbol)
        assert bought["fee"]["currency"] == "BTC" and bought["fee"]["cost"] == pytest.approx(spend["filled"] * 0.0005)
        balance = await ex.fetch_balance()
        assert balance["BTC"]["total"] == pytest.approx(1_000 - 0.02 + spend["filled"] * (1 - 0.0005))
        assert balance["USDT"]["total"] == pytest.approx(10_000_000 + sold["cost"] * (1 - 0.0005) - spend["cost"])

    trading(body)


def test_a_resting_order_fills_as_maker_at_its_own_price() -> None:
    async def body(h: TradingHarness, ex: Any, symbol: str) -> None:
        bid, _ = level(h, True)
        ask, _ = level(h, False)
        assert ask - bid > Decimal("0.01"), "the spread leaves room inside it"
        inside = ask - Decimal("0.01")
        ack = await ex.create_order(symbol, "limit", "sell", 0.02, float(inside))
        h.sim.engine.open_account("other", {"USDT": Decimal(1_000_000)})
        taker = h.client(h.sim.issue_key("other"), **UNTHROTTLED)
        await taker.load_markets()
        await taker.create_order(symbol, "market", "buy", 0.02)
        order = await ex.fetch_order(ack["id"], symbol)
        assert order["status"] == "closed" and order["average"] == float(inside)
        (fill,) = await ex.fetch_my_trades(symbol)
        assert fill["takerOrMaker"] == "maker" and fill["price"] == float(inside) and fill["fee"]["cost"] == 0

    trading(body)


def test_cancel_all_open_orders_of_a_symbol() -> None:
    async def body(h: TradingHarness, ex: Any, symbol: str) -> None:
        bid, _ = level(h, True)
        ids = {(await ex.create_order(symbol, "limit", "buy", 0.01, float(bid - n)))["id"] for n in (100, 200)}
        canceled = await ex.cancel_all_orders(symbol)
        assert {o["id"] for o in canceled} == ids and {o["status"] for o in canceled} == {"canceled"}
        assert h.sim.engine.open_orders("main") == []

    trading(body)


def test_order_errors_come_in_mexc_codes() -> None:
    async def body(h: TradingHarness, ex: Any, symbol: str) -> None:
        bid, _ = level(h, True)
        with pytest.raises(ccxt.InvalidOrder, match="30002"):
            await ex.create_order(symbol, "limit", "buy", 0.00001, float(bid - 100))  # worth under 1 USDT
        with pytest.raises(ccxt.InsufficientFunds, match="Oversold"):
            await ex.create_order(symbol, "market", "sell", 2_000)
        with pytest.raises(ccxt.InsufficientFunds, match="30004"):
            await ex.create_order(symbol, "limit", "buy", 1_000, float(bid))
        order = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.01", "price": str(bid - 100)}
        with pytest.raises(ccxt.BadRequest, match="price scale is invalid"):
            await ex.spot_private_post_order({**order, "price": f"{bid - 100}1"})
        with pytest.raises(ccxt.BadRequest, match="quantity scale is invalid"):
            await ex.spot_private_post_order({**order, "quantity": "0.010001"})
        with pytest.raises(ccxt.BadRequest, match="700004"):
            await ex.spot_private_post_order({k: v for k, v in order.items() if k != "quantity"})
        with pytest.raises(ccxt.BadRequest, match="-1128"):
            await ex.spot_private_post_order({**order, "type": "STOP_LOSS_LIMIT"})
        with pytest.raises(ccxt.BadSymbol, match="-1121"):
            await ex.spot_private_post_order({**order, "symbol": "DOGEUSDT"})
        # ccxt's MEXC map has no OrderNotFound: the venue's -2013 reaches it as a plain ExchangeError
        with pytest.raises(ccxt.ExchangeError, match="-2013") as unknown:
            await ex.fetch_order("987654321", symbol)
        assert type(unknown.value) is ccxt.ExchangeError
        assert h.sim.engine.open_orders("main") == []

    trading(body)


def test_the_spot_venue_trades_through_ccxt() -> None:
    assert MexcSpotSim.ccxt_id == "mexc" and MexcSpotSim.key_needs_passphrase is False
