"""KuCoin's private stream: the signed bullet-private token, the private endpoint that only takes it,
and the ``/spotMarket/tradeOrders`` orderChange pushes that ccxt.pro reads."""

from __future__ import annotations

import asyncio
import dataclasses
from decimal import Decimal
from typing import Any

import aiohttp
import ccxt
import orjson
import pytest

from crossbook.model import OrderType, Side, TimeInForce
from crossbook.sim.access import new_key

from ..conftest import run, wait_for
from .trading_contract import TradingHarness

FEED = "kucoin"


async def bullet_private(h: TradingHarness, client: Any) -> dict[str, Any]:
    response = await client.privatePostBulletPrivate()
    assert response["code"] == "200000"
    return dict(response["data"])


def test_a_wrong_secret_an_unknown_key_and_a_stale_timestamp_get_kucoins_refusals() -> None:
    async def body() -> None:
        async with TradingHarness(FEED) as h:
            assert h.key is not None
            wrong_secret = dataclasses.replace(h.key, secret="0" * len(h.key.secret))
            with pytest.raises(ccxt.AuthenticationError, match="400004"):
                await h.client(wrong_secret, pro=True).watch_orders()
            with pytest.raises(ccxt.AuthenticationError, match="400003"):
                await h.client(new_key("main", passphrase=True), pro=True).watch_orders()
            stale = h.client(pro=True)
            stale.options["timeDifference"] = 60_000  # ccxt signs nonce() = now - timeDifference
            with pytest.raises(ccxt.InvalidNonce, match="400002"):
                await stale.watch_orders()

    run(body())


def test_the_private_endpoint_takes_only_a_bullet_private_token() -> None:
    async def body() -> None:
        async with TradingHarness(FEED) as h:
            client = h.client()
            data = await bullet_private(h, client)
            server = data["instanceServers"][0]
            assert server["endpoint"] == f"{h.sim.ws_url}/endpoint" and server["pingInterval"] > 0
            async with aiohttp.ClientSession() as session:
                public = (await (await session.post(f"{h.sim.rest_url}/api/v1/bullet-public")).json())["data"]["token"]
                with pytest.raises(aiohttp.WSServerHandshakeError):
                    await session.ws_connect(server["endpoint"], params={"token": public})
                async with session.ws_connect(server["endpoint"], params={"token": data["token"], "connectId": "c1"}) as ws:
                    assert (await ws.receive_json())["type"] == "welcome"
                    await ws.send_json({"id": "p1", "type": "ping"})
                    pong = await ws.receive_json()
                    assert (pong["id"], pong["type"]) == ("p1", "pong")
                    await ws.send_json(
                        {"id": "s1", "type": "subscribe", "topic": "/spotMarket/nope", "privateChannel": True, "response": True}
                    )
                    error = await ws.receive_json()
                    assert (error["type"], error["code"]) == ("error", 404)

    run(body())


def test_a_maker_fill_is_a_match_then_a_filled_message_and_v2_adds_received() -> None:
    async def body() -> None:
        async with TradingHarness(FEED) as h:
            assert h.cluster is not None
            h.cluster.pause()
            data = await bullet_private(h, h.client())
            endpoint = data["instanceServers"][0]["endpoint"]
            async with aiohttp.ClientSession() as session, session.ws_connect(endpoint, params={"token": data["token"]}) as ws:
                await ws.receive_json()  # welcome
                for n, topic in enumerate(("/spotMarket/tradeOrders", "/spotMarket/tradeOrdersV2")):
                    await ws.send_json({"id": str(n), "type": "subscribe", "topic": topic, "privateChannel": True, "response": True})
                    assert await ws.receive_json() == {"id": str(n), "type": "ack"}
                await wait_for(lambda: h.sim.streaming_to("main"), 5.0, "the subscription")
                bid, _ = h.touch()
                engine = h.sim.engine
                engine.open_account("taker", {"BTC": Decimal(10), "USDT": Decimal(0)})
                order = engine.submit(
                    "main", h.symbol, Side.BUY, OrderType.LIMIT, Decimal("0.01"), bid + Decimal("0.01"), client_id="kc-ws-1"
                )
                engine.submit("taker", h.symbol, Side.SELL, OrderType.LIMIT, Decimal("0.01"), bid + Decimal("0.01"), tif=TimeInForce.IOC)
                pushes = [orjson.loads((await ws.receive()).data) for _ in range(6)]
            v1 = [p["data"] for p in pushes if p["topic"] == "/spotMarket/tradeOrders"]
            v2 = [p["data"] for p in pushes if p["topic"] == "/spotMarket/tradeOrdersV2"]
            assert all((p["type"], p["subject"], p["channelType"]) == ("message", "orderChange", "private") for p in pushes)
            assert [(d["type"], d["status"]) for d in v1] == [("open", "open"), ("match", "open"), ("filled", "done")]
            assert (v2[0]["type"], v2[0]["status"]) == ("received", "new")
            match = v1[1]
            assert match["orderId"] == h.sim.order_id(engine.orders[order.order_id])  # type: ignore[attr-defined]
            assert match["clientOid"] == "kc-ws-1" and match["liquidity"] == "maker" and match["feeType"] == "makerFee"
            assert Decimal(match["matchSize"]) == Decimal("0.01") and Decimal(match["matchPrice"]) == bid + Decimal("0.01")
            assert match["tradeId"] == str(engine.fills[-1].trade_id) and match["remainSize"] == "0"
            assert match["filledSize"] == "0.01" and match["size"] == "0.01"

    run(body())


def test_ccxt_pro_reads_the_order_and_its_trade_from_one_message() -> None:
    async def body() -> None:
        async with TradingHarness(FEED) as h:
            assert h.cluster is not None
            h.cluster.pause()
            client = h.client(pro=True)
            await client.load_markets()
            symbol = h.ccxt_symbol(client)
            watching = asyncio.ensure_future(client.watch_my_trades())
            await wait_for(lambda: h.sim.streaming_to("main"), 5.0, "the subscription")
            bid, _ = h.touch()
            price = bid + Decimal("0.01")
            order = await client.create_order(symbol, "limit", "buy", 0.01, float(price), {"clientOid": "kc-ws-2"})
            h.sim.engine.open_account("taker", {"BTC": Decimal(10), "USDT": Decimal(0)})
            h.sim.engine.submit("taker", h.symbol, Side.SELL, OrderType.LIMIT, Decimal("0.01"), price, tif=TimeInForce.IOC)
            trades = await watching
            assert [(t["order"], t["takerOrMaker"], t["amount"], t["price"]) for t in trades] == [
                (order["id"], "maker", 0.01, float(price))
            ]
            orders = await client.watch_orders()
            assert orders[-1]["id"] == order["id"] and orders[-1]["clientOrderId"] == "kc-ws-2"
            assert orders[-1]["status"] == "closed" and orders[-1]["filled"] == 0.01

    run(body())
