"""OKX's private stream (/ws/v5/private): the login as OKX checks it (key, passphrase, a Unix-seconds
timestamp within 30 s, base64 HMAC-SHA256 over timestamp + GET + /users/self/verify) with OKX's
60xxx error events as ccxt.pro maps them, the ``orders`` channel's subscribe rules, and the push
shape of a fill (fields from OKX's "WS / Order channel" page)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import time
from decimal import Decimal

import ccxt
import orjson
import pytest

from crossbook.model import OrderType, Side, TimeInForce
from crossbook.sim.access import ApiKey

from ..conftest import run, wait_for
from .trading_contract import Socket, TradingHarness, answer, next_push, with_private_socket

SYMBOL = "BTC/USDT"


def login(key: ApiKey, *, stamp: str | None = None, secret: str | None = None) -> str:
    """OKX's documented login request, computed independently of the simulator."""
    stamp = stamp or str(int(time.time()))
    digest = hmac.new((secret or key.secret).encode(), (stamp + "GET" + "/users/self/verify").encode(), hashlib.sha256)
    args = {"apiKey": key.key, "passphrase": key.passphrase, "timestamp": stamp,
            "sign": base64.b64encode(digest.digest()).decode()}
    return orjson.dumps({"op": "login", "args": [args]}).decode()


SUBSCRIBE = '{"id":"7","op":"subscribe","args":[{"channel":"orders","instType":"SPOT"}]}'


def test_login_failures_are_okx_error_events() -> None:
    async def test(h: TradingHarness, ws: Socket) -> None:
        assert h.key is not None
        stale = str(int(time.time()) - 60)
        for request, code in (
            (login(h.key, secret="0" * 64), "60007"),
            (login(ApiKey("unknown", h.key.secret, "main", h.key.passphrase)), "60005"),
            (login(ApiKey(h.key.key, h.key.secret, "main", "wrong")), "60024"),
            (login(h.key, stamp=stale), "60006"),
            (login(h.key, stamp="2020-12-08T09:08:57.715Z"), "60004"),
        ):
            reply = await answer(ws, request)
            assert reply["event"] == "error" and reply["code"] == code and reply["connId"]
        reply = await answer(ws, SUBSCRIBE)
        assert (reply["event"], reply["code"], reply["msg"]) == ("error", "60011", "Please log in")
        assert not h.sim.streaming_to("main")
        reply = await answer(ws, login(h.key))
        assert (reply["event"], reply["code"], reply["msg"]) == ("login", "0", "")
        reply = await answer(ws, SUBSCRIBE)
        assert reply == {"id": "7", "event": "subscribe", "arg": {"channel": "orders", "instType": "SPOT"},
                         "connId": reply["connId"]}
        assert h.sim.streaming_to("main")
        await ws.send_str("ping")
        assert await ws.receive_str(timeout=5) == "pong"
        reply = await answer(ws, '{"op":"subscribe","args":[{"channel":"orders","instType":"SPOTS"}]}')
        assert reply["event"] == "error" and reply["code"] == "60018"

    run(with_private_socket("okx", "/ws/v5/private", test))


@pytest.mark.parametrize(
    ("spoil", "error", "code"),
    [
        ("secret", ccxt.AuthenticationError, "60007"),
        ("apiKey", ccxt.AuthenticationError, "60005"),
        ("password", ccxt.AuthenticationError, "60024"),
        ("clock", ccxt.InvalidNonce, "60006"),
    ],
)
def test_ccxt_pro_watch_orders_raises_the_mapped_login_error(spoil: str, error: type[Exception], code: str) -> None:
    async def body() -> None:
        async with TradingHarness("okx") as h:
            client = h.client(pro=True)
            await client.load_markets()  # over REST, with the good credentials
            if spoil == "clock":
                client.seconds = lambda: int(time.time()) - 60
            else:
                setattr(client, spoil, "0" * 32)
            with pytest.raises(error, match=code):
                await client.watch_orders()

    run(body())


def test_a_maker_fill_push_carries_the_fill_and_the_order() -> None:
    async def test(h: TradingHarness, ws: Socket) -> None:
        assert h.key is not None
        assert (await answer(ws, login(h.key)))["event"] == "login"
        assert (await answer(ws, SUBSCRIBE))["event"] == "subscribe"
        client = h.client()
        await client.load_markets()
        bid = h.inside_bid()
        placed = await client.create_order(SYMBOL, "limit", "buy", 0.01, float(bid), {"clOrdId": "mine42"})
        accepted = await next_push(ws)
        assert accepted["arg"] == {"channel": "orders", "instType": "SPOT", "uid": "main"}
        row = accepted["data"][0]
        assert (row["ordId"], row["clOrdId"], row["state"], row["accFillSz"]) == (placed["id"], "mine42", "live", "0")
        assert (row["tradeId"], row["fillSz"], row["execType"], row["avgPx"]) == ("", "0", "", "0")
        h.sim.engine.open_account("taker", {"BTC": Decimal(10), "USDT": Decimal(0)})
        h.sim.engine.submit("taker", h.symbol, Side.SELL, OrderType.LIMIT, Decimal("0.01"), bid, tif=TimeInForce.IOC)
        row = (await next_push(ws))["data"][0]
        fill = h.sim.engine.account_fills("main", h.symbol)[-1]
        assert row["state"] == "filled" and row["accFillSz"] == "0.01" and row["avgPx"] == f"{bid.normalize():f}"
        assert (row["fillSz"], row["fillPx"], row["tradeId"]) == ("0.01", f"{bid.normalize():f}", str(fill.trade_id))
        assert row["execType"] == "M" and row["fillTime"] == str(int(fill.ts * 1000))
        # a charged fee is negative; a spot buy pays it in the base currency it receives
        assert Decimal(row["fillFee"]) == -fill.fee < 0 and row["fillFeeCcy"] == "BTC" == fill.fee_currency
        assert Decimal(row["fee"]) == -fill.fee and row["feeCcy"] == "BTC"

    run(with_private_socket("okx", "/ws/v5/private", test))


def test_instrument_filters_and_a_post_only_that_would_take() -> None:
    async def test(h: TradingHarness, ws: Socket) -> None:
        assert h.key is not None
        await answer(ws, login(h.key))
        reply = await answer(ws, '{"op":"subscribe","args":[{"channel":"orders","instType":"ANY","instId":"ETH-USDT"}]}')
        assert reply["arg"] == {"channel": "orders", "instType": "ANY", "instId": "ETH-USDT"}
        await answer(ws, '{"op":"subscribe","args":[{"channel":"orders","instType":"SWAP"}]}')
        client = h.client()
        await client.load_markets()
        assert h.cluster is not None
        h.cluster.pause()  # the ask stays where the post-only order would take it
        _, ask = h.touch()
        await client.create_order(SYMBOL, "limit", "buy", 0.01, float(ask), {"postOnly": True})  # BTC-USDT: filtered out
        await answer(ws, SUBSCRIBE)
        placed = await client.create_order(SYMBOL, "limit", "buy", 0.01, float(ask), {"postOnly": True})
        row = (await next_push(ws))["data"][0]  # OKX accepts it and cancels it at once
        assert (row["ordId"], row["state"], row["cancelSource"], row["ordType"]) == (placed["id"], "canceled", "31", "post_only")

    run(with_private_socket("okx", "/ws/v5/private", test))


def test_ccxt_pro_reads_fills_from_the_orders_channel() -> None:
    """watch_my_trades is the orders channel's rows that carry a tradeId. ccxt.pro copies
    ``fillFee`` unsigned, so OKX's charged fee arrives as a negative cost (its REST trades negate
    it): the sign is OKX's, as documented."""

    async def body() -> None:
        async with TradingHarness("okx") as h:
            client = h.client(pro=True)
            await client.load_markets()
            watching = asyncio.create_task(client.watch_my_trades())
            await wait_for(lambda: h.sim.streaming_to("main"), 5.0, "the orders subscription")
            bid = h.inside_bid()
            order = await client.create_order(SYMBOL, "limit", "buy", 0.01, float(bid))
            h.sim.engine.open_account("taker", {"BTC": Decimal(10), "USDT": Decimal(0)})
            h.sim.engine.submit("taker", h.symbol, Side.SELL, OrderType.LIMIT, Decimal("0.01"), bid, tif=TimeInForce.IOC)
            trades = await watching
            trade = trades[-1]
            assert (trade["order"], trade["takerOrMaker"], trade["amount"], trade["price"]) == (order["id"], "maker", 0.01, float(bid))
            assert trade["fee"]["currency"] == "BTC" and trade["fee"]["cost"] < 0

    run(body())
