"""Coinbase's private stream: the ``user`` channel on the Advanced Trade socket, subscribed with an
ES256 CDP JWT and followed by an unmodified ccxt.pro client (which has ``watch_orders`` only, so
fills are synced over REST from the orders' cumulative quantities). The trading layer's side runs
in the shared contract (test_private_stream_contract.py)."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from typing import Any

import aiohttp
import ccxt
import orjson
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from crossbook.model import OrderType, Side, TimeInForce
from crossbook.sim.venues.coinbase import CoinbaseSim, num

from ..conftest import run, wait_for
from .trading_contract import TradingHarness

FEED = "coinbase"
TICK = Decimal("0.01")  # BTC-USD's in the simulator



# ---- the subscription's JWT, through ccxt.pro ----------------------------------------------------


async def user_socket(h: TradingHarness, session: aiohttp.ClientSession, products: list[str], jwt: str) -> aiohttp.ClientWebSocketResponse:
    ws = await session.ws_connect(h.sim.ws_url + "/")
    await ws.send_str(orjson.dumps({"type": "subscribe", "channel": "user", "product_ids": products, "jwt": jwt}).decode())
    return ws


async def next_user(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    while True:
        msg = orjson.loads((await asyncio.wait_for(ws.receive(), 5.0)).data)
        if msg["channel"] == "user":
            return dict(msg)


def other_pem() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption())
    return pem.decode()


def signed(h: TradingHarness, spoil: str | None = None) -> str:
    """A user-channel JWT as ccxt builds it (no ``uri`` claim), spoiled as asked."""
    assert h.key is not None
    signer = ccxt.coinbase({"apiKey": h.key.key, "secret": h.key.secret})
    seconds = int(time.time())
    if spoil == "signature":
        signer.secret = other_pem()
    elif spoil == "unknown_key":
        signer.apiKey = h.key.key.rsplit("/", 1)[0] + "/00000000-0000-4000-8000-000000000000"
    elif spoil == "stale":
        seconds -= 600
    return str(signer.create_auth_token(seconds))


@pytest.mark.parametrize("spoil", ["signature", "unknown_key", "stale"])
def test_a_bad_jwt_gets_authentication_failure(spoil: str) -> None:
    async def body() -> None:
        async with TradingHarness(FEED) as h, aiohttp.ClientSession() as session:
            ws = await user_socket(h, session, [], signed(h, spoil))
            assert orjson.loads((await ws.receive()).data) == {"type": "error", "message": "authentication failure"}
            assert not h.sim.streaming_to("main")
            await ws.close()

    run(body(), timeout=30)


def test_ccxt_pro_does_not_stream_with_a_bad_jwt() -> None:
    """ccxt.pro raises Coinbase's error inside its receive loop (ExchangeError "authentication
    failure", logged), not into the pending watch_orders, which waits on."""

    async def body() -> None:
        async with TradingHarness(FEED) as h:
            client = h.client(pro=True)
            await client.load_markets()  # over REST with the good key; then the JWT is spoiled
            client.secret = other_pem()
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(client.watch_orders(), 1.0)
            assert not h.sim.streaming_to("main")

    run(body(), timeout=30)


# ---- the push shapes -------------------------------------------------------------------------------


def test_user_channel_pushes_a_fill_as_the_cumulative_order() -> None:
    async def body() -> None:
        async with TradingHarness(FEED) as h:
            assert h.cluster is not None
            h.cluster.pause()
            engine = h.sim.engine
            engine.open_account("taker", {"BTC": Decimal(10), "USD": Decimal(10_000_000)})
            price = h.touch()[0] + TICK  # the best bid once it rests: the taker meets it alone
            resting = engine.submit("main", "BTC-USD", Side.BUY, OrderType.LIMIT, Decimal("0.5"), price, client_id="kept")
            async with aiohttp.ClientSession() as session:
                ws = await user_socket(h, session, ["BTC-USD"], signed(h))
                ack = orjson.loads((await ws.receive()).data)
                assert ack["channel"] == "subscriptions" and ack["events"][0]["subscriptions"] == {"user": ["BTC-USD"]}
                snapshot = await next_user(ws)
                assert snapshot["events"][0]["type"] == "snapshot"
                assert [o["client_order_id"] for o in snapshot["events"][0]["orders"]] == ["kept"]
                assert h.sim.streaming_to("main")
                engine.submit("taker", "BTC-USD", Side.SELL, OrderType.LIMIT, Decimal("0.2"), price, tif=TimeInForce.IOC)
                update = await next_user(ws)
                await ws.close()
            assert isinstance(h.sim, CoinbaseSim)
            (event,) = update["events"]
            (order,) = event["orders"]
            assert event["type"] == "update" and isinstance(update["sequence_num"], int)
            assert order["order_id"] == h.sim.uuid_of(resting.order_id) and order["client_order_id"] == "kept"
            assert order["status"] == "OPEN" and order["order_side"] == "BUY" and order["order_type"] == "Limit"
            assert (order["cumulative_quantity"], order["leaves_quantity"]) == ("0.2", "0.3")
            value = price * Decimal("0.2")
            assert (order["avg_price"], order["filled_value"], order["number_of_fills"]) == (num(price), num(value), "1")
            assert order["total_fees"] == num(value * Decimal("0.006"))  # 0.60% maker, in USD
            assert order["limit_price"] == num(price) and order["product_id"] == "BTC-USD"

    run(body(), timeout=30)


def test_ccxt_pro_reads_the_user_channel() -> None:
    async def body() -> None:
        async with TradingHarness(FEED) as h:
            assert h.cluster is not None
            h.cluster.pause()
            client = h.client(pro=True)
            watching = asyncio.ensure_future(client.watch_orders())
            await wait_for(lambda: h.sim.streaming_to("main"), 5.0, "the user channel")
            await asyncio.wait_for(watching, 5.0)  # the (empty) snapshot
            price = h.touch()[1] - TICK  # the best ask once it rests: the taker meets it alone
            h.sim.engine.open_account("taker", {"BTC": Decimal(10), "USD": Decimal(10_000_000)})
            h.sim.engine.submit("main", "BTC-USD", Side.SELL, OrderType.LIMIT, Decimal("0.1"), price, client_id="mine")
            h.sim.engine.submit("taker", "BTC-USD", Side.BUY, OrderType.LIMIT, Decimal("0.1"), price, tif=TimeInForce.IOC)
            await wait_for(lambda: bool(client.orders) and client.orders[-1]["status"] == "closed", 5.0, "the filled order")
            seen = client.orders[-1]
            assert (seen["symbol"], seen["clientOrderId"], seen["side"]) == ("BTC/USD", "mine", "sell")
            assert (seen["filled"], seen["remaining"], seen["average"]) == (0.1, 0.0, float(price))
            # 0.60% maker, in USD; ccxt.pro names the fee's cost "amount" (and takes "amount" from
            # cumulative_quantity), which is why OrderStream reads only status and filled here
            assert seen["fee"] == {"amount": num(price * Decimal("0.0006")), "currency": "USD"}

    run(body(), timeout=30)
