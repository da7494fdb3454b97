"""Kraken's private stream: GetWebSocketsToken signed like every private method, the WebSocket v2
``executions`` channel on the ws-auth host (``/ws-auth/v2`` here) that takes only that token, and
the execution reports ccxt.pro's watch_orders and watch_my_trades read."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from decimal import Decimal
from typing import Any
from unittest import mock

import aiohttp
import ccxt
import pytest

from crossbook.model import OrderType, Side, TimeInForce

from ..conftest import run, wait_for
from .trading_contract import TradingHarness

FEED = "kraken"
TICK = Decimal("0.1")


async def token_of(h: TradingHarness) -> str:
    response = await h.client().privatePostGetWebSocketsToken()
    assert response["error"] == [] and response["result"]["expires"] == 900
    return str(response["result"]["token"])


def subscribe(token: str, req_id: int = 1, **params: Any) -> dict[str, Any]:
    return {"method": "subscribe", "params": {"channel": "executions", "token": token, **params}, "req_id": req_id}


def test_the_token_request_is_refused_as_kraken_refuses_private_calls() -> None:
    async def body() -> None:
        async with TradingHarness(FEED) as h:
            assert h.key is not None
            wrong_secret = dataclasses.replace(h.key, secret=h.sim.issue_key("main").secret)
            with pytest.raises(ccxt.AuthenticationError, match="EAPI:Invalid key"):
                await h.client(wrong_secret, pro=True).watch_orders()
            unknown = dataclasses.replace(h.key, key=h.key.key[::-1])
            with pytest.raises(ccxt.AuthenticationError, match="EAPI:Invalid key"):
                await h.client(unknown, pro=True).watch_my_trades()
            replayed = h.client(pro=True)
            replayed.nonce = lambda: 1  # type: ignore[method-assign]
            await h.client().fetch_balance()  # the key has used a larger nonce
            with pytest.raises(ccxt.InvalidNonce, match="EAPI:Invalid nonce"):
                await replayed.watch_orders()

    run(body())


def test_the_socket_greets_answers_pings_and_takes_only_an_issued_token() -> None:
    async def body() -> None:
        async with TradingHarness(FEED) as h:
            token = await token_of(h)
            async with aiohttp.ClientSession() as session, session.ws_connect(f"{h.sim.ws_url}/ws-auth/v2") as ws:
                status = await ws.receive_json()
                assert (status["channel"], status["data"][0]["api_version"]) == ("status", "v2")
                await ws.send_json({"method": "ping", "req_id": 7})
                pong = await ws.receive_json()
                assert (pong["method"], pong["req_id"], pong["success"]) == ("pong", 7, True)
                await ws.send_json(subscribe("not-a-token", 8))
                refused = await ws.receive_json()
                assert (refused["error"], refused["success"], refused["req_id"]) == ("ESession:Invalid session", False, 8)
                assert not h.sim.streaming_to("main")
                await ws.send_json(subscribe(token, 9))
                ack = await ws.receive_json()
                assert (ack["method"], ack["success"], ack["result"]["channel"]) == ("subscribe", True, "executions")
                snapshot = await ws.receive_json()
                assert (snapshot["channel"], snapshot["type"], snapshot["data"]) == ("executions", "snapshot", [])
                assert h.sim.streaming_to("main")

    run(body())


def test_a_maker_fill_reports_pending_new_new_trade_and_filled() -> None:
    async def body() -> None:
        async with TradingHarness(FEED) as h:
            assert h.cluster is not None
            h.cluster.pause()
            token = await token_of(h)
            async with aiohttp.ClientSession() as session, session.ws_connect(f"{h.sim.ws_url}/ws-auth/v2") as ws:
                await ws.receive_json()  # status
                await ws.send_json(subscribe(token))
                await ws.receive_json()  # ack
                await ws.receive_json()  # snapshot
                bid, _ = h.touch()
                engine = h.sim.engine
                engine.open_account("taker", {"BTC": Decimal(10), "USD": Decimal(0)})
                order = engine.submit("main", h.symbol, Side.BUY, OrderType.LIMIT, Decimal("0.01"), bid + TICK, client_id="kr-ws-1")
                engine.submit("taker", h.symbol, Side.SELL, OrderType.LIMIT, Decimal("0.01"), bid + TICK, tif=TimeInForce.IOC)
                updates = [await ws.receive_json() for _ in range(4)]
            assert [u["sequence"] for u in updates] == [2, 3, 4, 5]
            reports = [u["data"][0] for u in updates]
            assert [(r["exec_type"], r["order_status"]) for r in reports] == [
                ("pending_new", "pending_new"), ("new", "new"), ("trade", "filled"), ("filled", "filled")]
            txid = h.sim.txid(engine.orders[order.order_id])  # type: ignore[attr-defined]
            assert {r["order_id"] for r in reports} == {txid} and all(r["cl_ord_id"] == "kr-ws-1" for r in reports)
            accepted, _, trade, filled = reports
            assert (accepted["symbol"], accepted["order_qty"], accepted["limit_price"]) == ("BTC/USD", 0.01, float(bid + TICK))
            [fill] = engine.account_fills("main")
            assert (trade["last_qty"], trade["last_price"], trade["liquidity_ind"]) == (0.01, float(bid + TICK), "m")
            assert trade["trade_id"] == fill.trade_id and trade["exec_id"].startswith("T")
            assert trade["fees"] == [{"asset": "USD", "qty": float(fill.fee)}] and fill.fee > 0
            assert (filled["cum_qty"], filled["avg_price"]) == (0.01, float(bid + TICK))

    run(body())


def test_ccxt_pro_reads_the_fill_with_its_fee_and_the_closed_order() -> None:
    async def body() -> None:
        async with TradingHarness(FEED) as h:
            assert h.cluster is not None
            h.cluster.pause()
            client = h.client(pro=True)
            await client.load_markets()
            symbol = h.ccxt_symbol(client)
            orders = asyncio.ensure_future(client.watch_orders())
            await wait_for(lambda: h.sim.streaming_to("main"), 5.0, "the subscription")
            trades = asyncio.ensure_future(client.watch_my_trades())
            bid, _ = h.touch()
            price = bid + TICK
            placed = await client.create_order(symbol, "limit", "buy", 0.01, float(price))
            assert (await orders)[-1]["id"] == placed["id"]
            h.sim.engine.open_account("taker", {"BTC": Decimal(10), "USD": Decimal(0)})
            h.sim.engine.submit("taker", h.symbol, Side.SELL, OrderType.LIMIT, Decimal("0.01"), price, tif=TimeInForce.IOC)
            [trade] = await trades
            assert (trade["order"], trade["takerOrMaker"], trade["amount"], trade["price"]) == (placed["id"], "maker", 0.01, float(price))
            assert trade["fee"]["currency"] == "USD" and trade["fee"]["cost"] > 0
            while (latest := (await client.watch_orders())[-1])["status"] != "closed":
                assert latest["id"] == placed["id"]
            assert latest["id"] == placed["id"] and latest["cost"] == pytest.approx(0.01 * float(price))

    run(body())


def test_a_token_expires_unused_after_15_minutes_but_not_once_used() -> None:
    async def body() -> None:
        async with TradingHarness(FEED) as h:
            used, stale = await token_of(h), await token_of(h)
            h.sim.ws_tokens[stale].use_by = time.time() - 1  # type: ignore[attr-defined]
            async with aiohttp.ClientSession() as session:
                async with session.ws_connect(f"{h.sim.ws_url}/ws-auth/v2") as ws:
                    await ws.receive_json()  # status
                    await ws.send_json(subscribe(stale, 2))
                    assert (await ws.receive_json())["error"] == "ESession:Invalid session"
                    await ws.send_json(subscribe(used, 3))
                    assert (await ws.receive_json())["success"] is True
                later = time.time() + 1000  # the unused token's 900 s are long gone
                with mock.patch.object(time, "time", lambda: later):
                    async with session.ws_connect(f"{h.sim.ws_url}/ws-auth/v2") as ws:
                        await ws.receive_json()  # status
                        await ws.send_json(subscribe(used, 4))
                        assert (await ws.receive_json())["success"] is True

    run(body())


def test_a_rest_order_with_a_userref_is_reported_with_it_then_canceled() -> None:
    async def body() -> None:
        async with TradingHarness(FEED) as h:
            assert h.cluster is not None
            h.cluster.pause()
            token = await token_of(h)
            client = h.client()
            await client.load_markets()
            async with aiohttp.ClientSession() as session, session.ws_connect(f"{h.sim.ws_url}/ws-auth/v2") as ws:
                await ws.receive_json()  # status
                await ws.send_json(subscribe(token))
                await ws.receive_json()  # ack
                await ws.receive_json()  # snapshot
                bid, _ = h.touch()
                placed = await client.create_order(h.ccxt_symbol(client), "limit", "buy", 0.01, float(bid), {"userref": 42})
                await client.cancel_order(placed["id"], h.ccxt_symbol(client))
                reports = [(await ws.receive_json())["data"][0] for _ in range(3)]
            assert [r["exec_type"] for r in reports] == ["pending_new", "new", "canceled"]
            assert {r["order_id"] for r in reports} == {placed["id"]} and {r["order_userref"] for r in reports} == {42}
            assert "cl_ord_id" not in reports[0] and reports[2]["reason"] == "User requested"
            assert (reports[2]["order_status"], reports[2]["cum_qty"]) == ("canceled", 0.0)

    run(body())
