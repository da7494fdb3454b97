"""Gate v4's private channels on the simulator: ``spot.orders`` and ``spot.usertrades`` on the
market-data socket, each subscribe carrying its own ``auth`` (KEY and the HMAC-SHA512 SIGN over
``channel=&event=&time=``), Gate's code 4 refusals, the push shapes of one fill, and an unmodified
ccxt.pro client following an order through them."""

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
import orjson
import pytest

from crossbook.model import OrderType, Side, TimeInForce
from crossbook.sim.access import ApiKey, new_key

from ..conftest import run
from .trading_contract import TradingHarness

Socket = aiohttp.ClientWebSocketResponse
Body = Callable[[TradingHarness, Socket], Awaitable[None]]


def subscribe(key: ApiKey, channel: str, payload: list[str], *, stamp: int | None = None,
              secret: str | None = None, rid: int = 1) -> dict[str, Any]:
    """A private subscribe as Gate documents it, signed over ``channel=..&event=..&time=..``."""
    now = stamp if stamp is not None else int(time.time())
    signed = f"channel={channel}&event=subscribe&time={now}".encode()
    sign = hmac.new((secret or key.secret).encode(), signed, hashlib.sha512).hexdigest()
    return {"id": rid, "time": now, "channel": channel, "event": "subscribe", "payload": payload,
            "auth": {"method": "api_key", "KEY": key.key, "SIGN": sign}}


async def ask(ws: Socket, request: dict[str, Any]) -> dict[str, Any]:
    await ws.send_json(request)
    reply: dict[str, Any] = await ws.receive_json(timeout=5)
    return reply


def gate_socket(body: Body) -> None:
    async def main() -> None:
        async with TradingHarness("gate") as h:
            assert h.cluster is not None
            h.cluster.pause()
            async with aiohttp.ClientSession() as session, session.ws_connect(f"{h.sim.ws_url}/ws/v4/") as ws:
                await body(h, ws)

    run(main())


def auth_failure(reply: dict[str, Any]) -> str:
    assert reply["error"]["code"] == 4 and reply["result"] is None and reply["event"] == "subscribe"
    label: str = orjson.loads(reply["error"]["message"])["label"]
    return label


def test_each_subscribe_is_authenticated_and_refused_with_code_4() -> None:
    async def body(h: TradingHarness, ws: Socket) -> None:
        assert h.key is not None
        stale = await ask(ws, subscribe(h.key, "spot.orders", ["!all"], stamp=int(time.time()) - 120))
        assert auth_failure(stale) == "REQUEST_EXPIRED" and stale["id"] == 1
        assert auth_failure(await ask(ws, subscribe(new_key("main"), "spot.orders", ["!all"]))) == "INVALID_KEY"
        assert auth_failure(await ask(ws, subscribe(h.key, "spot.orders", ["!all"], secret="0" * 64))) == "INVALID_SIGNATURE"
        unsigned = {k: v for k, v in subscribe(h.key, "spot.orders", ["!all"]).items() if k != "auth"}
        assert auth_failure(await ask(ws, unsigned)) == "MISSING_REQUIRED_HEADER"
        # the signature covers the channel: one signed for spot.orders does not open spot.usertrades
        moved = subscribe(h.key, "spot.orders", ["!all"]) | {"channel": "spot.usertrades"}
        assert auth_failure(await ask(ws, moved)) == "INVALID_SIGNATURE"
        unknown = await ask(ws, subscribe(h.key, "spot.orders", ["NOPE_USDT"]))
        assert unknown["error"]["code"] == 2 and unknown["result"] == {"status": "fail"}
        assert not h.sim.streaming_to("main")
        ok = await ask(ws, subscribe(h.key, "spot.orders", ["BTC_USDT"], rid=7))
        assert ok["result"] == {"status": "success"} and ok["id"] == 7 and ok["channel"] == "spot.orders"
        assert not h.sim.streaming_to("main")  # fills come on spot.usertrades
        assert (await ask(ws, subscribe(h.key, "spot.usertrades", ["!all"])))["result"] == {"status": "success"}
        assert h.sim.streaming_to("main")
        await ws.send_json({"time": int(time.time()), "channel": "spot.ping"})
        pong = orjson.loads((await ws.receive(timeout=5)).data)  # the public side's frames are binary
        assert pong["channel"] == "spot.pong"  # public and private share the socket

    gate_socket(body)


def test_a_maker_fill_pushes_the_user_trade_then_the_finished_order() -> None:
    async def body(h: TradingHarness, ws: Socket) -> None:
        assert h.key is not None
        await ask(ws, subscribe(h.key, "spot.orders", ["!all"]))
        await ask(ws, subscribe(h.key, "spot.usertrades", ["BTC_USDT"]))
        engine = h.sim.engine
        price = h.inside_bid()
        order = engine.submit("main", h.symbol, Side.BUY, OrderType.LIMIT, Decimal("0.01"), price, client_id="t-gate1")
        put = (await ws.receive_json(timeout=5))["result"][0]
        assert (put["event"], put["finish_as"], put["left"], put["text"]) == ("put", "open", "0.01", "t-gate1")
        engine.open_account("taker", {"BTC": Decimal(10), "USDT": Decimal(0)})
        engine.submit("taker", h.symbol, Side.SELL, OrderType.LIMIT, Decimal("0.01"), price, tif=TimeInForce.IOC)
        trade_msg, order_msg = await ws.receive_json(timeout=5), await ws.receive_json(timeout=5)
        assert trade_msg["channel"] == "spot.usertrades" and trade_msg["event"] == "update"
        [trade] = trade_msg["result"]
        assert isinstance(trade["id"], int) and trade["order_id"] == order.order_id and trade["user_id"] == put["user"]
        assert trade["currency_pair"] == "BTC_USDT" and trade["side"] == "buy" and trade["role"] == "maker"
        assert Decimal(trade["price"]) == price and trade["amount"] == "0.01" and trade["text"] == "t-gate1"
        assert Decimal(trade["fee"]) == Decimal("0.01") * engine.maker_fee and trade["fee_currency"] == "BTC"
        [done] = order_msg["result"]
        assert order_msg["channel"] == "spot.orders" and "status" not in done
        assert (done["event"], done["finish_as"], done["left"], done["filled_amount"]) == ("finish", "filled", "0", "0.01")
        assert done["fee"] == trade["fee"] and done["fee_currency"] == "BTC"

    gate_socket(body)


# ---- through ccxt.pro ------------------------------------------------------------------------------


def test_ccxt_pro_raises_a_refused_subscribe_as_authentication_error() -> None:
    async def main() -> None:
        async with TradingHarness("gate") as h:
            client = h.client(pro=True)
            await client.load_markets()
            client.secret = "0" * 64
            with pytest.raises(ccxt.AuthenticationError, match="INVALID_SIGNATURE"):
                await asyncio.wait_for(client.watch_orders(), 10)

    run(main())


def test_ccxt_pro_follows_a_fill_with_its_fee_role_and_client_id() -> None:
    async def main() -> None:
        async with TradingHarness("gate") as h:
            assert h.cluster is not None
            h.cluster.pause()
            client = h.client(pro=True)
            await client.load_markets()
            symbol = h.ccxt_symbol(client)
            trades = asyncio.ensure_future(client.watch_my_trades())
            orders = asyncio.ensure_future(client.watch_orders())
            await asyncio.sleep(0.3)
            assert h.sim.streaming_to("main")
            price = h.inside_bid()
            created = await client.create_order(symbol, "limit", "buy", 0.01, float(price), {"clientOrderId": "t-pro1"})
            h.sim.engine.open_account("taker", {"BTC": Decimal(10), "USDT": Decimal(0)})
            h.sim.engine.submit("taker", h.symbol, Side.SELL, OrderType.LIMIT, Decimal("0.01"), price, tif=TimeInForce.IOC)
            [trade] = await asyncio.wait_for(trades, 10)
            order = (await asyncio.wait_for(orders, 10))[-1]
            while order["status"] != "closed":
                order = (await asyncio.wait_for(client.watch_orders(), 10))[-1]
            assert trade["order"] == order["id"] == created["id"] and order["clientOrderId"] == "t-pro1"
            assert trade["symbol"] == "BTC/USDT" and trade["takerOrMaker"] == "maker" and trade["side"] == "buy"
            assert trade["fee"]["currency"] == "BTC" and trade["fee"]["cost"] == pytest.approx(0.01 * float(h.sim.engine.maker_fee))
            assert order["filled"] == 0.01 and order["remaining"] == 0

    run(main())
