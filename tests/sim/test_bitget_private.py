"""Bitget's v2 private stream (/v2/ws/private): the login as Bitget checks it (key, passphrase, a
timestamp in seconds within 30 s, base64 HMAC-SHA256 over timestamp + GET + /user/verify) with its
30xxx error events as ccxt.pro maps them; the spot ``orders`` and ``fill`` channels, which are
separate subscriptions, and the push shapes of one fill (fields from Bitget's spot "Order Channel"
page and ccxt.pro's spot fill example)."""

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


def login(key: ApiKey, *, stamp: str | None = None, secret: str | None = None, passphrase: str | None = None) -> str:
    """Bitget's documented login request, computed independently of the simulator."""
    stamp = stamp or str(int(time.time()))
    digest = hmac.new((secret or key.secret).encode(), (stamp + "GET" + "/user/verify").encode(), hashlib.sha256)
    args = {"apiKey": key.key, "passphrase": passphrase or key.passphrase, "timestamp": stamp,
            "sign": base64.b64encode(digest.digest()).decode()}
    return orjson.dumps({"op": "login", "args": [args]}).decode()


def subscribe(channel: str, inst_id: str = "default") -> str:
    return orjson.dumps({"op": "subscribe", "args": [{"instType": "SPOT", "channel": channel, "instId": inst_id}]}).decode()


def test_login_failures_are_bitget_error_events() -> None:
    async def test(h: TradingHarness, ws: Socket) -> None:
        assert h.key is not None
        for request, code in (
            (login(h.key, secret="0" * 64), 30015),
            (login(ApiKey("unknown", h.key.secret, "main", h.key.passphrase)), 30011),
            (login(h.key, passphrase="wrong"), 30012),
            (login(h.key, stamp=str(int(time.time()) - 60)), 30014),
            (login(h.key, stamp=str(int(time.time() * 1000))), 30014),  # milliseconds are not seconds
            (login(h.key, stamp="2020-12-08T09:08:57Z"), 30013),
        ):
            reply = await answer(ws, request)
            assert reply["event"] == "error" and reply["code"] == code
        reply = await answer(ws, subscribe("orders"))
        assert (reply["event"], reply["code"]) == ("error", 30004)
        assert await answer(ws, login(h.key)) == {"event": "login", "code": 0, "msg": ""}
        reply = await answer(ws, subscribe("orders"))
        assert reply == {"event": "subscribe", "arg": {"instType": "SPOT", "channel": "orders", "instId": "default"}}
        assert not h.sim.streaming_to("main")  # fills come on their own channel
        assert (await answer(ws, subscribe("fill")))["event"] == "subscribe"
        assert h.sim.streaming_to("main")
        await ws.send_str("ping")
        assert await ws.receive_str(timeout=5) == "pong"
        reply = await answer(ws, subscribe("orders", "NOPEUSDT"))
        assert (reply["event"], reply["code"]) == ("error", 30001)

    run(with_private_socket("bitget", "/v2/ws/private", test))


@pytest.mark.parametrize(
    ("spoil", "error", "code"),
    [
        ("secret", ccxt.AuthenticationError, "30015"),
        ("apiKey", ccxt.AuthenticationError, "30011"),
        ("password", ccxt.AuthenticationError, "30012"),
        ("clock", ccxt.BadRequest, "30014"),  # ccxt.pro maps Bitget's expired timestamp to BadRequest
    ],
)
def test_ccxt_pro_watch_orders_raises_the_mapped_login_error(spoil: str, error: type[Exception], code: str) -> None:
    async def body() -> None:
        async with TradingHarness("bitget") as h:
            client = h.client(pro=True)
            await client.load_markets()  # over REST, with the good credentials
            if spoil == "clock":
                client.seconds = lambda: int(time.time()) - 60
            else:
                setattr(client, spoil, "0" * 32)
            with pytest.raises(error, match=code):
                await client.watch_orders()

    run(body())


def test_a_maker_fill_is_pushed_on_orders_and_on_fill() -> None:
    async def test(h: TradingHarness, ws: Socket) -> None:
        assert h.key is not None
        await answer(ws, login(h.key))
        await answer(ws, subscribe("orders"))
        await answer(ws, subscribe("fill", "BTCUSDT"))
        client = h.client()
        await client.load_markets()
        bid = h.inside_bid()
        placed = await client.create_order(SYMBOL, "limit", "buy", 0.01, float(bid), {"clientOid": "mine42"})
        accepted = await next_push(ws)
        assert accepted["action"] == "snapshot" and accepted["arg"] == {"instType": "SPOT", "channel": "orders", "instId": "default"}
        row = accepted["data"][0]
        assert (row["orderId"], row["clientOid"], row["status"], row["instId"]) == (placed["id"], "mine42", "live", "BTCUSDT")
        assert (row["accBaseVolume"], row["baseVolume"], row["tradeId"], row["feeDetail"]) == ("0", "0", "", [])
        assert (row["newSize"], row["force"], row["priceAvg"]) == ("0.01", "gtc", "0")
        h.sim.engine.open_account("taker", {"BTC": Decimal(10), "USDT": Decimal(0)})
        h.sim.engine.submit("taker", h.symbol, Side.SELL, OrderType.LIMIT, Decimal("0.01"), bid, tif=TimeInForce.IOC)
        fill = h.sim.engine.account_fills("main", h.symbol)[-1]
        price = f"{bid.normalize():f}"
        pushes = {p["arg"]["channel"]: p for p in (await next_push(ws), await next_push(ws))}
        assert pushes["fill"]["arg"] == {"instType": "SPOT", "channel": "fill", "instId": "BTCUSDT"}
        row = pushes["orders"]["data"][0]
        assert (row["status"], row["accBaseVolume"], row["baseVolume"], row["priceAvg"]) == ("filled", "0.01", "0.01", price)
        assert (row["fillPrice"], row["tradeId"], row["tradeScope"]) == (price, str(fill.trade_id), "M")
        # fees are negative; a spot buy pays them in the base coin it receives
        assert Decimal(row["fillFee"]) == -fill.fee < 0 and row["fillFeeCoin"] == "BTC" == fill.fee_currency
        assert row["feeDetail"] == [{"feeCoin": "BTC", "fee": row["fillFee"]}]
        trade = pushes["fill"]["data"][0]
        assert (trade["orderId"], trade["tradeId"], trade["symbol"], trade["side"]) == (placed["id"], str(fill.trade_id), "BTCUSDT", "buy")
        assert (trade["priceAvg"], trade["size"], trade["tradeScope"]) == (price, "0.01", "maker")
        assert Decimal(trade["amount"]) == bid * Decimal("0.01")
        assert trade["feeDetail"] == [{"feeCoin": "BTC", "deduction": "no", "totalDeductionFee": "0", "totalFee": row["fillFee"]}]

    run(with_private_socket("bitget", "/v2/ws/private", test))


def test_ccxt_pro_reads_the_fill_channel() -> None:
    async def body() -> None:
        async with TradingHarness("bitget") as h:
            client = h.client(pro=True)
            await client.load_markets()
            watching = asyncio.create_task(client.watch_my_trades())
            await wait_for(lambda: any(c.state.get("private") for c in h.sim.private_connections("main")), 5.0, "the fill subscription")
            bid = h.inside_bid()
            order = await client.create_order(SYMBOL, "limit", "buy", 0.01, float(bid))
            h.sim.engine.open_account("taker", {"BTC": Decimal(10), "USDT": Decimal(0)})
            h.sim.engine.submit("taker", h.symbol, Side.SELL, OrderType.LIMIT, Decimal("0.01"), bid, tif=TimeInForce.IOC)
            trade = (await watching)[-1]
            assert (trade["order"], trade["takerOrMaker"], trade["amount"], trade["price"]) == (order["id"], "maker", 0.01, float(bid))
            fill = h.sim.engine.account_fills("main", h.symbol)[-1]
            assert trade["fee"] == {"cost": float(fill.fee), "currency": "BTC"}  # ccxt.pro takes the absolute value

    run(body())
