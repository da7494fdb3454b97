"""MEXC's private stream: a listenKey from the SIGNED ``/api/v3/userDataStream`` (PUT keeps it
alive), the socket ``/ws?listenKey=...``, the protobuf channels ``spot@private.orders.v3.api.pb``
and ``spot@private.deals.v3.api.pb``, followed by an unmodified ccxt.pro client. The trading
layer's side runs in the shared contract (test_private_stream_contract.py); ccxt.pro 4.5.90 reads a
protobuf deal's maker flag from ``m`` (the JSON field) where the protobuf one is ``isMaker``, which
``crossbook.venues.mexc.stream_trade`` puts right."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from typing import Any

import aiohttp
import ccxt
import orjson
import pytest
from ccxt.protobuf.mexc import PushDataV3ApiWrapper_pb2
from google.protobuf.json_format import MessageToDict

from crossbook.model import OrderType, Side, TimeInForce
from crossbook.sim.venues.mexc import MexcSpotSim, native_order_id

from ..conftest import run, wait_for
from .trading_contract import TradingHarness

FEED = "mexc"
ORDERS, DEALS = "spot@private.orders.v3.api.pb", "spot@private.deals.v3.api.pb"



# ---- listenKeys ------------------------------------------------------------------------------------


def test_listen_keys_are_created_kept_alive_and_closed() -> None:
    async def body() -> None:
        async with TradingHarness(FEED) as h:
            sim = h.sim
            assert isinstance(sim, MexcSpotSim)
            client = h.client()
            listen_key = (await client.spotPrivatePostUserDataStream())["listenKey"]
            assert len(listen_key) == 64 and sim.listen_keys[listen_key].account == "main"
            sim.listen_keys[listen_key].expires = time.time() + 60  # nearly run out
            assert await client.spotPrivatePutUserDataStream({"listenKey": listen_key}) == {"listenKey": listen_key}
            assert sim.listen_keys[listen_key].expires > time.time() + 3500  # another 60 minutes
            assert await client.spotPrivateGetUserDataStream() == {"listenKey": [listen_key]}
            await client.spotPrivateDeleteUserDataStream({"listenKey": listen_key})
            with pytest.raises(ccxt.ExchangeError, match="730708"):
                await client.spotPrivatePutUserDataStream({"listenKey": listen_key})

    run(body(), timeout=30)


def test_a_bad_signature_gets_no_listen_key() -> None:
    async def body() -> None:
        async with TradingHarness(FEED) as h:
            client = h.client(pro=True)
            await client.load_markets()
            client.secret = "0" * 32
            with pytest.raises(ccxt.AuthenticationError, match="700002"):
                await asyncio.wait_for(client.watch_orders(), 5.0)
            assert not h.sim.streaming_to("main")

    run(body(), timeout=30)


def test_an_unknown_listen_key_is_refused_on_the_socket() -> None:
    async def body() -> None:
        async with TradingHarness(FEED) as h:
            async with aiohttp.ClientSession() as session:
                ws = await session.ws_connect(h.sim.ws_url + "/ws?listenKey=" + "ab" * 32)
                assert (await ws.receive()).data == "Invalid listen key"
                assert (await ws.receive()).type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
            client = h.client(pro=True)
            await client.load_markets()
            client.options["listenKey"] = "cd" * 32  # as if it had expired since
            with pytest.raises(ccxt.AuthenticationError, match="invalid listen key"):
                await asyncio.wait_for(client.watch_orders(), 5.0)

    run(body(), timeout=30)


# ---- the socket ------------------------------------------------------------------------------------


def decoded(frame: bytes) -> dict[str, Any]:
    """A push through the protobuf schema ccxt.pro ships (MEXC's published one)."""
    message = PushDataV3ApiWrapper_pb2.PushDataV3ApiWrapper()
    message.ParseFromString(frame)
    return dict(MessageToDict(message))


async def subscribed(h: TradingHarness, session: aiohttp.ClientSession) -> aiohttp.ClientWebSocketResponse:
    listen_key = (await h.client().spotPrivatePostUserDataStream())["listenKey"]
    ws = await session.ws_connect(h.sim.ws_url + "/ws?listenKey=" + listen_key)
    for channel in (ORDERS, DEALS):
        assert not h.sim.streaming_to("main")
        await ws.send_str(orjson.dumps({"method": "SUBSCRIPTION", "params": [channel]}).decode())
        assert orjson.loads((await ws.receive()).data) == {"id": 0, "code": 0, "msg": channel}
    assert h.sim.streaming_to("main")
    await ws.send_str('{"method": "ping"}')  # ccxt.pro's keepalive, lowercase
    assert orjson.loads((await ws.receive()).data) == {"id": 0, "code": 0, "msg": "PONG"}
    return ws


def test_one_fill_pushes_a_deal_then_the_order() -> None:
    async def body() -> None:
        async with TradingHarness(FEED) as h:
            assert h.cluster is not None
            h.cluster.pause()
            engine = h.sim.engine
            bid, _ = h.touch()
            price = bid + Decimal("0.01")  # the best bid once it rests: the taker meets it alone
            engine.open_account("taker", {"BTC": Decimal(10), "USDT": Decimal(10_000_000)})
            async with aiohttp.ClientSession() as session:
                ws = await subscribed(h, session)
                order = engine.submit("main", "BTC-USDT", Side.BUY, OrderType.LIMIT, Decimal("0.5"), price, client_id="kept")
                accepted = decoded((await ws.receive()).data)
                engine.submit("taker", "BTC-USDT", Side.SELL, OrderType.LIMIT, Decimal("0.2"), price, tif=TimeInForce.IOC)
                deal, update = decoded((await ws.receive()).data), decoded((await ws.receive()).data)
                await ws.close()
            oid = native_order_id(order.order_id)
            assert accepted["channel"] == ORDERS and accepted["symbol"] == "BTCUSDT"
            assert accepted["privateOrders"]["status"] == 1 and accepted["privateOrders"]["cumulativeQuantity"] == "0"
            assert deal["channel"] == DEALS and deal["symbol"] == "BTCUSDT" and "sendTime" in deal
            fill = engine.account_fills("main")[-1]
            assert deal["privateDeals"] == {
                "price": str(price), "quantity": "0.2", "amount": str(price * Decimal("0.2")), "tradeType": 1,
                "isMaker": True, "tradeId": str(fill.trade_id), "clientOrderId": "kept", "orderId": oid,
                "feeAmount": str(fill.fee.normalize()) if fill.fee else "0", "feeCurrency": fill.fee_currency,
                "time": str(int(fill.ts * 1000)),
            }
            pushed = update["privateOrders"]
            assert (pushed["id"], pushed["clientId"], pushed["orderType"], pushed["tradeType"]) == (oid, "kept", 1, 1)
            assert (pushed["status"], pushed["cumulativeQuantity"], pushed["remainQuantity"]) == (3, "0.2", "0.3")
            assert (pushed["lastDealQuantity"], pushed["avgPrice"], pushed["isMaker"]) == ("0.2", str(price), True)

    run(body(), timeout=30)


def test_ccxt_pro_reads_orders_and_deals() -> None:
    async def body() -> None:
        async with TradingHarness(FEED) as h:
            assert h.cluster is not None
            h.cluster.pause()
            client = h.client(pro=True)
            orders = asyncio.ensure_future(client.watch_orders())
            trades = asyncio.ensure_future(client.watch_my_trades())
            await wait_for(lambda: h.sim.streaming_to("main"), 5.0, "both private channels")
            price = h.touch()[1] - Decimal("0.01")  # the best ask once it rests
            h.sim.engine.open_account("taker", {"BTC": Decimal(10), "USDT": Decimal(10_000_000)})
            h.sim.engine.submit("main", "BTC-USDT", Side.SELL, OrderType.LIMIT, Decimal("0.1"), price, client_id="mine")
            h.sim.engine.submit("taker", "BTC-USDT", Side.BUY, OrderType.LIMIT, Decimal("0.1"), price, tif=TimeInForce.IOC)
            await asyncio.wait_for(asyncio.gather(orders, trades), 5.0)
            await wait_for(lambda: bool(client.orders) and client.orders[-1]["status"] == "closed", 5.0, "the filled order")
            seen = client.orders[-1]
            assert (seen["symbol"], seen["clientOrderId"], seen["side"], seen["type"]) == ("BTC/USDT", "mine", "sell", "limit")
            assert (seen["filled"], seen["remaining"], seen["average"]) == (0.1, 0.0, float(price))
            (trade,) = client.myTrades
            assert (trade["symbol"], trade["order"], trade["side"], trade["amount"]) == ("BTC/USDT", seen["id"], "sell", 0.1)
            assert trade["price"] == float(price) and trade["fee"]["currency"] == "USDT"
            assert trade["takerOrMaker"] == "taker"  # ccxt.pro's misreading of isMaker: see the docstring

    run(body(), timeout=30)
