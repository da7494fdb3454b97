"""A route killed mid-flight (SIGKILL between one child order's ack and the next's) is recovered
by reconciliation: every child it journaled ends final or open as the venue says, with the
venue's fills, and nothing at a venue is missing from the journal."""

from __future__ import annotations

import asyncio
import os
import sys
from decimal import Decimal
from pathlib import Path

import ccxt.async_support as ccxt_async
import orjson

from crossbook.model import OrderStatus
from crossbook.sim.cluster import SimCluster
from crossbook.sim.serve import ccxt_configs
from crossbook.trading.account import VenueAccount
from crossbook.trading.journal import Journal
from crossbook.venues.registry import spec
from crossbook.venues.spec.limiter import Limiter

from ..conftest import run

VENUES = ("binance", "okx", "bybit")

CHILD = """
import asyncio, os, signal, sys
import ccxt.async_support as ccxt_async
import aiohttp, orjson
from crossbook.market.data import MarketData
from crossbook.model import Side
from crossbook.routing.executor import Router, RouteRequest
from crossbook.trading.account import VenueAccount
from crossbook.trading.journal import Journal
from crossbook.venues.spec.limiter import Limiter
from crossbook.venues.registry import spec

configs, urls, journal_path = orjson.loads(sys.argv[1]), orjson.loads(sys.argv[2]), sys.argv[3]

async def main():
    journal = Journal(journal_path)
    acked = journal.record_ack
    seen = []
    def second_ack_kills(cid, venue_order_id):
        seen.append(cid)
        if len(seen) == 2:
            os.kill(os.getpid(), signal.SIGKILL)
        return acked(cid, venue_order_id)
    journal.record_ack = second_ack_kills
    accounts = {v: VenueAccount(v, getattr(ccxt_async, v)(configs[v]), journal, Limiter(spec(v).limit_table())) for v in configs}
    for account in accounts.values():
        await account.load()
    md = MarketData(list(configs), ["BTC-USDT"], endpoints=lambda feed: tuple(urls[feed]))
    async with aiohttp.ClientSession() as session:
        await md.start(session)
        await md.wait_live(15)
        await Router(md.consolidated["BTC-USDT"], accounts).route(RouteRequest("BTC-USDT", Side.BUY, 40.0))
    print("not killed", flush=True)

asyncio.run(main())
"""


def test_a_route_killed_mid_flight_is_reconciled_completely(tmp_path: Path) -> None:
    async def body() -> None:
        async with SimCluster(list(VENUES), interval=0.05, levels=120) as cluster:
            cluster.pause()
            configs = ccxt_configs(cluster)
            for sim in cluster.venues.values():  # each holds about 8 BTC worth: 40 BTC needs every venue
                sim.engine.account("main").balances["USDT"] = Decimal(500_000)
            urls = {f: cluster.urls(f) for f in VENUES}
            path = tmp_path / "journal.db"
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-c", CHILD, orjson.dumps(configs).decode(), orjson.dumps(urls).decode(), str(path),
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env={**os.environ})
            out, err = await asyncio.wait_for(proc.communicate(), 90)
            assert proc.returncode == -9, (out, err)
            with Journal(path) as journal:
                journaled = {v: journal.in_flight(v) + journal.open_orders(v) for v in VENUES}
                assert sum(len(o) for o in journaled.values()) >= 1, "the kill left nothing in flight"
                for venue in VENUES:
                    account = VenueAccount(venue, getattr(ccxt_async, venue)(configs[venue]), journal, Limiter(spec(venue).limit_table()))
                    account.sent_grace = 0.0  # the killed process's requests can no longer arrive
                    try:
                        await account.load()
                        await account.reconcile()
                    finally:
                        await account.client.close()
                    engine = cluster.venues[venue].engine
                    assert journal.in_flight(venue) == []
                    for order in engine.orders.values():  # everything at the venue is journaled, with its fills
                        mine = journal.order(order.client_id)
                        assert mine is not None, f"{venue} has {order.client_id}, the journal does not"
                        fills = [f for f in engine.fills if f.order_id == order.order_id]
                        assert mine.filled == sum(f.amount for f in fills)
                        assert len(journal.fills(mine.client_order_id)) == len(fills)
                        assert mine.status in (OrderStatus.FILLED, OrderStatus.EXPIRED, OrderStatus.CANCELED), mine

    run(body(), timeout=150)
