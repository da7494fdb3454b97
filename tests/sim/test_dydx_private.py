"""dYdX v4's private stream: ccxt.pro has no watch_orders for dYdX, so crossbook follows the
indexer's ``v4_subaccounts`` channel itself (``crossbook.venues.dydx.private_source``). The
private-stream contract, adapted to a perpetual-only venue whose orders the indexer names by uuid:
fills and cancels reach the journal over the stream with no REST polling, and a fill missed while
the socket was down arrives when it reconnects. Plus the channel's own shapes."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from crossbook.model import OrderRequest, OrderStatus, OrderType, Side, TimeInForce
from crossbook.sim.venues.dydx import DydxSim, subaccount_uuid
from crossbook.trading.account import VenueAccount
from crossbook.trading.journal import Journal
from crossbook.trading.stream import OrderStream
from crossbook.venues.dydx import SubaccountStream
from crossbook.venues.registry import spec
from crossbook.venues.spec.limiter import Limiter

from ..conftest import run, wait_for
from .trading_contract import TradingHarness

AMOUNT = Decimal("0.01")
SYMBOL = "BTC-USD-PERP"  # ccxt's BTC/USDC:USDC: USD-quoted, settled in USDC


class Stream:
    """The main account's VenueAccount on the simulated dYdX, its OrderStream running (REST
    reconciliation held off), the market paused, and a funded taker."""

    def __init__(self, h: TradingHarness, journal: Journal) -> None:
        self.h = h
        self.journal = journal
        self.account = VenueAccount("dydx", h.client(pro=True), journal, Limiter(spec("dydx").limit_table()))
        self.stream = OrderStream(self.account, reconcile_every=3600.0, fill_grace=10.0)

    @property
    def sim(self) -> DydxSim:
        assert isinstance(self.h.sim, DydxSim)
        return self.h.sim

    async def buy(self) -> str:
        bid, ask = self.h.touch()
        tick = self.account.market(SYMBOL).tick
        assert bid + tick < ask
        request = OrderRequest("dydx", SYMBOL, Side.BUY, OrderType.LIMIT, AMOUNT, bid + tick)
        order = await self.account.create_order(request)
        assert order.status is OrderStatus.OPEN
        return order.client_order_id

    def engine_id(self, cid: str) -> str:
        order = self.journal.order(cid)
        assert order is not None and order.venue_order_id is not None
        engine_id = self.sim.placements[order.venue_order_id].engine_id
        assert engine_id is not None
        return engine_id

    def take(self, cid: str) -> None:
        order = self.journal.order(cid)
        assert order is not None and order.request.price is not None
        self.sim.engine.submit("taker", self.h.symbol, Side.SELL, OrderType.LIMIT, AMOUNT, order.request.price, tif=TimeInForce.IOC)

    def status(self, cid: str) -> OrderStatus:
        order = self.journal.order(cid)
        assert order is not None
        return order.status


def with_stream(tmp_path: Path, test: Any) -> None:
    async def body() -> None:
        async with TradingHarness("dydx") as h:
            assert h.cluster is not None
            h.cluster.pause()
            with Journal(tmp_path / "j.db") as journal:
                s = Stream(h, journal)
                await s.account.load()
                assert isinstance(s.stream.source, SubaccountStream) and s.stream.streams_trades
                task = asyncio.create_task(s.stream.run())
                try:
                    await wait_for(lambda: h.sim.streaming_to("main"), 10.0, "the subaccount channel")
                    h.sim.engine.open_account("taker", {"USD": Decimal(10_000_000)})
                    await test(s)
                finally:
                    task.cancel()
                    await asyncio.gather(task, return_exceptions=True)

    run(body(), timeout=90)


def test_a_fill_reaches_the_journal_over_the_stream(tmp_path: Path) -> None:
    async def test(s: Stream) -> None:
        cid = await s.buy()
        s.take(cid)
        await wait_for(lambda: s.status(cid) is OrderStatus.FILLED, 10.0, "the fill over the stream")
        fills = s.journal.fills(cid)
        assert sum(f.amount for f in fills) == AMOUNT
        assert all(not f.taker and f.fee >= 0 and f.fee_currency == "USDC" for f in fills)
        assert s.stream.stats.reconciles == 1 and s.stream.stats.rest_syncs == 0
        assert s.stream.stats.fills == len(fills)

    with_stream(tmp_path, test)


def test_a_cancel_made_elsewhere_reaches_the_journal(tmp_path: Path) -> None:
    async def test(s: Stream) -> None:
        cid = await s.buy()
        s.sim.engine.cancel("main", s.engine_id(cid))
        await wait_for(lambda: s.status(cid) is OrderStatus.CANCELED, 10.0, "the cancel over the stream")
        assert s.stream.stats.reconciles == 1

    with_stream(tmp_path, test)


def test_a_fill_missed_while_disconnected_arrives_on_reconnect(tmp_path: Path) -> None:
    """The channel replays nothing: the source fetches what the indexer updated since the drop,
    and OrderStream reconciles over REST (fills from the indexer's /v4/fills)."""
    async def test(s: Stream) -> None:
        cid = await s.buy()
        s.sim.inject("drop")
        s.take(cid)
        await wait_for(lambda: s.status(cid) is OrderStatus.FILLED and s.stream.stats.reconciles >= 2, 30.0,
                       "the catch-up and the reconciliation after the reconnect")
        assert s.stream.stats.failures >= 1
        assert sum(f.amount for f in s.journal.fills(cid)) == AMOUNT
        await wait_for(lambda: s.sim.streaming_to("main"), 30.0, "the stream to come back")
        again = await s.buy()
        s.take(again)
        await wait_for(lambda: s.status(again) is OrderStatus.FILLED, 10.0, "a fill over the new stream")
        assert s.stream.stats.rest_syncs == 0

    with_stream(tmp_path, test)


def test_the_channel_speaks_the_indexers_shapes(tmp_path: Path) -> None:
    """subscribed: the subaccount and its open orders; channel_data: the order under the uuid
    REST returns with the uint32 clientId, and the fill with liquidity, fee and orderId; a bad id
    gets the indexer's error."""
    async def body() -> None:
        async with TradingHarness("dydx") as h:
            assert h.cluster is not None and h.key is not None
            h.cluster.pause()
            with Journal(tmp_path / "j.db") as journal:
                s = Stream(h, journal)
                await s.account.load()
                cid = await s.buy()
                order = journal.order(cid)
                assert order is not None and order.venue_order_id is not None
                address = h.key.key
                h.sim.engine.open_account("taker", {"USD": Decimal(10_000_000)})
                async with aiohttp.ClientSession() as session, session.ws_connect(h.sim.ws_url + "/v4/ws") as ws:
                    assert (await ws.receive_json())["type"] == "connected"
                    await ws.send_str(orjson.dumps({"type": "subscribe", "channel": "v4_subaccounts", "id": f"{address}/7"}).decode())
                    error = await ws.receive_json()
                    assert error["type"] == "error"
                    assert error["message"] == f"Invalid subscription id for channel: (v4_subaccounts-{address}/7)"
                    await ws.send_str(orjson.dumps({"type": "subscribe", "channel": "v4_subaccounts", "id": f"{address}/0"}).decode())
                    subscribed = await ws.receive_json()
                    assert subscribed["type"] == "subscribed" and subscribed["id"] == f"{address}/0"
                    assert subscribed["contents"]["subaccount"]["address"] == address
                    [open_order] = subscribed["contents"]["orders"]
                    assert open_order["id"] == order.venue_order_id and open_order["status"] == "OPEN"
                    s.take(cid)
                    data = await ws.receive_json()
                    assert data["type"] == "channel_data" and data["message_id"] == subscribed["message_id"] + 1
                    [pushed] = data["contents"]["orders"]
                    assert pushed["id"] == order.venue_order_id and pushed["status"] == "FILLED"
                    assert pushed["clientId"] == open_order["clientId"] and 0 <= int(pushed["clientId"]) < 2**32
                    assert pushed["totalFilled"] == "0.01" and pushed["ticker"] == "BTC-USD"
                    [fill] = data["contents"]["fills"]
                    assert fill["orderId"] == order.venue_order_id and fill["liquidity"] == "MAKER"
                    assert fill["side"] == "BUY" and fill["size"] == "0.01" and fill["market"] == fill["ticker"] == "BTC-USD"
                    assert fill["subaccountId"] == subaccount_uuid(address, 0) and Decimal(fill["fee"]) >= 0

    run(body(), timeout=60)
