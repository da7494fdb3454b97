"""Bybit v5's private stream (``/v5/private``) on the simulator: the ``auth`` op and its refusals,
the private ``pong``, topic acks, the ``execution`` and ``order`` pushes in Bybit's fields, and an
unmodified ccxt.pro client following spot and linear orders through them."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import aiohttp
import ccxt
import ccxt.pro as ccxt_pro
import pytest

from crossbook.model import OrderType, Side, TimeInForce
from crossbook.sim.access import ApiKey, new_key

from ..conftest import run
from .trading_contract import TradingHarness

Socket = aiohttp.ClientWebSocketResponse
Body = Callable[[TradingHarness, Socket], Awaitable[None]]


def auth_args(key: ApiKey, expires: int | None = None, secret: str | None = None) -> list[Any]:
    """The documented auth args: key, expires (ms), hex HMAC-SHA256 of "GET/realtime" + expires."""
    stamp = expires if expires is not None else int(time.time() * 1000) + 10_000
    signature = hmac.new((secret or key.secret).encode(), f"GET/realtime{stamp}".encode(), hashlib.sha256).hexdigest()
    return [key.key, stamp, signature]


async def ask(ws: Socket, request: dict[str, Any]) -> dict[str, Any]:
    await ws.send_json(request)
    reply: dict[str, Any] = await ws.receive_json(timeout=5)
    return reply


def private_socket(body: Body, feed_id: str = "bybit") -> None:
    """Run ``body`` with a raw socket on the venue's private path, the market paused."""

    async def main() -> None:
        async with TradingHarness(feed_id) as h:
            assert h.cluster is not None
            h.cluster.pause()
            async with aiohttp.ClientSession() as session, session.ws_connect(f"{h.sim.ws_url}/v5/private") as ws:
                await body(h, ws)

    run(main())


def test_auth_is_acknowledged_and_refusals_carry_bybits_ret_msg() -> None:
    async def body(h: TradingHarness, ws: Socket) -> None:
        assert h.key is not None
        stale = await ask(ws, {"op": "auth", "args": auth_args(h.key, expires=int(time.time() * 1000) - 1)})
        assert stale["success"] is False and stale["ret_msg"] == "Params Error" and stale["op"] == "auth"
        assert "req_id" not in stale and stale["conn_id"]
        forged = await ask(ws, {"op": "auth", "args": auth_args(h.key, secret="0" * 64)})
        assert (forged["success"], forged["ret_msg"]) == (False, "Request not authorized")
        unknown = await ask(ws, {"op": "auth", "args": auth_args(new_key("main"))})
        assert (unknown["success"], unknown["ret_msg"]) == (False, "Request not authorized")
        early = await ask(ws, {"op": "subscribe", "req_id": "s1", "args": ["order"]})
        assert (early["success"], early["ret_msg"], early["req_id"]) == (False, "Request not authorized", "s1")
        assert not h.sim.streaming_to("main")
        ok = await ask(ws, {"req_id": "a1", "op": "auth", "args": auth_args(h.key)})
        assert ok == {"success": True, "ret_msg": "", "conn_id": ok["conn_id"], "req_id": "a1", "op": "auth"}

    private_socket(body)


def test_ping_gets_the_private_pong_and_topics_are_acked() -> None:
    async def body(h: TradingHarness, ws: Socket) -> None:
        assert h.key is not None
        pong = await ask(ws, {"req_id": "p1", "op": "ping"})
        assert pong["op"] == "pong" and pong["req_id"] == "p1" and pong["args"][0].isdigit() and pong["conn_id"]
        await ask(ws, {"op": "auth", "args": auth_args(h.key)})
        wrong = await ask(ws, {"op": "subscribe", "req_id": "1", "args": ["order", "position"]})
        assert (wrong["success"], wrong["ret_msg"]) == (False, "error:handler not found,topic:position")
        sub = await ask(ws, {"op": "subscribe", "req_id": "2", "args": ["order"]})
        assert (sub["success"], sub["op"], sub["req_id"]) == (True, "subscribe", "2")
        assert not h.sim.streaming_to("main")  # fills need the execution topic too
        assert (await ask(ws, {"op": "subscribe", "req_id": "3", "args": ["execution.spot"]}))["success"] is True
        assert h.sim.streaming_to("main")
        again = await ask(ws, {"op": "subscribe", "req_id": "4", "args": ["order"]})
        assert (again["success"], again["ret_msg"]) == (False, "error:already subscribed,topic:order")

    private_socket(body)


def test_a_maker_fill_pushes_the_execution_then_the_filled_order() -> None:
    async def body(h: TradingHarness, ws: Socket) -> None:
        assert h.key is not None
        await ask(ws, {"op": "auth", "args": auth_args(h.key)})
        await ask(ws, {"op": "subscribe", "args": ["order", "execution"]})
        bid = h.inside_bid()
        engine = h.sim.engine
        order = engine.submit("main", h.symbol, Side.BUY, OrderType.LIMIT, Decimal("0.01"), bid, client_id="cb-1")
        accepted = await ws.receive_json(timeout=5)
        assert accepted["topic"] == "order" and accepted["data"][0]["orderStatus"] == "New"
        engine.open_account("taker", {"BTC": Decimal(10), "USDT": Decimal(0)})
        engine.submit("taker", h.symbol, Side.SELL, OrderType.LIMIT, Decimal("0.01"), bid, tif=TimeInForce.IOC)
        execution, filled = await ws.receive_json(timeout=5), await ws.receive_json(timeout=5)
        assert execution["topic"] == "execution" and {"id", "creationTime"} <= set(execution)
        [fill] = execution["data"]
        assert fill["category"] == "spot" and fill["symbol"] == "BTCUSDT" and fill["side"] == "Buy"
        assert (fill["orderId"], fill["orderLinkId"]) == (order.order_id, "cb-1")
        assert Decimal(fill["execPrice"]) == bid and fill["execQty"] == "0.01" and fill["leavesQty"] == "0"
        assert fill["execType"] == "Trade" and fill["isMaker"] is True and fill["execId"]
        assert Decimal(fill["execFee"]) == Decimal("0.01") * engine.maker_fee and fill["feeCurrency"] == "BTC"
        [row] = filled["data"]
        assert filled["topic"] == "order" and row["orderStatus"] == "Filled" and row["cumExecQty"] == "0.01"
        assert row["cumFeeDetail"] == {"BTC": fill["execFee"]} and row["orderLinkId"] == "cb-1"
        assert "tpslMode" not in row  # Bybit's spot orders have none; ccxt reads it as a contract's mark

    private_socket(body)


# ---- through ccxt.pro ------------------------------------------------------------------------------


def test_ccxt_pro_fails_a_forged_login_with_bybits_message() -> None:
    """v5's auth refusal carries no ``request`` echo, so ccxt.pro raises it as an ExchangeError
    naming Bybit's ret_msg (an AuthenticationError only for the older shape)."""

    async def main() -> None:
        async with TradingHarness("bybit") as h:
            client = h.client(pro=True)
            await client.load_markets()
            await client.isUnifiedEnabled()  # the REST discovery, with the real secret
            client.secret = "0" * 64
            with pytest.raises(ccxt.ExchangeError, match="Request not authorized"):
                await asyncio.wait_for(client.watch_orders(), 10)

    run(main())


async def follow_one_fill(h: TradingHarness, client: Any, amount: float, params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Rest a bid through ccxt, have another account take it, and return the first trade and
    the closed order that ccxt.pro's watches deliver."""
    await client.load_markets()
    symbol = h.ccxt_symbol(client)
    trades = asyncio.ensure_future(client.watch_my_trades())
    orders = asyncio.ensure_future(client.watch_orders())
    await asyncio.sleep(0.3)
    assert h.sim.streaming_to("main")
    bid = h.inside_bid()
    created = await client.create_order(symbol, "limit", "buy", amount, float(bid), params)
    h.sim.engine.open_account("taker", {"BTC": Decimal(10), "USDT": Decimal(10_000_000)})
    h.sim.engine.submit("taker", h.symbol, Side.SELL, OrderType.LIMIT, Decimal(str(amount)), bid, tif=TimeInForce.IOC)
    [trade] = await asyncio.wait_for(trades, 10)
    order = (await asyncio.wait_for(orders, 10))[-1]
    while order["status"] != "closed":
        order = (await asyncio.wait_for(client.watch_orders(), 10))[-1]
    assert trade["order"] == order["id"] == created["id"]
    return trade, order


def test_ccxt_pro_follows_a_spot_fill_with_its_fee_and_client_id() -> None:
    async def main() -> None:
        async with TradingHarness("bybit") as h:
            assert h.cluster is not None
            h.cluster.pause()
            trade, order = await follow_one_fill(h, h.client(pro=True), 0.01, {"clientOrderId": "pro-1"})
            assert trade["symbol"] == "BTC/USDT" and trade["takerOrMaker"] == "maker" and trade["side"] == "buy"
            assert trade["fee"]["currency"] == "BTC" and trade["fee"]["cost"] == pytest.approx(0.01 * float(h.sim.engine.maker_fee))
            assert order["clientOrderId"] == "pro-1" and order["filled"] == 0.01 and order["fee"]["currency"] == "BTC"

    run(main())


def test_ccxt_pro_follows_linear_orders_on_the_linear_server() -> None:
    async def main() -> None:
        async with TradingHarness("bybitlinear") as h:
            assert h.cluster is not None and h.key is not None
            h.cluster.pause()
            client = ccxt_pro.bybit({**h.sim.ccxt_config(h.key), "enableRateLimit": False})
            h.clients.append(client)
            trade, order = await follow_one_fill(h, client, 0.01, {})
            assert trade["symbol"] == order["symbol"] == "BTC/USDT:USDT" and trade["fee"]["currency"] == "USDT"
            assert trade["takerOrMaker"] == "maker" and order["filled"] == 0.01

    run(main())
