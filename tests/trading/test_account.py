"""The trading layer against the simulated Binance through an unmodified ccxt client: validation,
journal, limiter and ccxt together, and reconciliation after a SIGKILL at each dangerous point."""

from __future__ import annotations

import asyncio
import os
import sys
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import ccxt.async_support as ccxt_async
import orjson
import pytest

from crossbook.errors import InvalidOrder
from crossbook.model import OrderRequest, OrderStatus, OrderType, Side, TimeInForce
from crossbook.sim.cluster import SimCluster
from crossbook.sim.serve import ccxt_configs
from crossbook.trading.account import VenueAccount
from crossbook.trading.journal import Journal
from crossbook.venues.registry import spec
from crossbook.venues.spec.limiter import Limiter

from ..conftest import run

LIMITS = spec("binance").limit_table()
SYMBOL = "BTC-USDT"


async def open_account(cluster: SimCluster, journal: Journal) -> VenueAccount:
    config = ccxt_configs(cluster)["binance"]
    account = VenueAccount("binance", ccxt_async.binance(config), journal, Limiter(LIMITS))
    await account.load()
    return account


def limit_buy(price: D, amount: str = "0.01", **kwargs: Any) -> OrderRequest:
    return OrderRequest("binance", SYMBOL, Side.BUY, OrderType.LIMIT, D(amount), price, **kwargs)


def best_bid(cluster: SimCluster) -> D:
    ladder = cluster.venues["binance"].ladders[SYMBOL]
    return D(ladder.price_str(max(ladder.bids)))


def test_orders_go_through_validation_journal_limiter_and_ccxt(tmp_path: Path) -> None:
    async def body() -> None:
        async with SimCluster(["binance"], interval=0.05, levels=80) as cluster:
            with Journal(tmp_path / "j.db") as journal:
                account = await open_account(cluster, journal)
                try:
                    price = best_bid(cluster) * D("0.98")
                    resting = await account.create_order(limit_buy(price + D("0.004"), amount="0.012345678"))
                    assert resting.status is OrderStatus.OPEN and resting.venue_order_id
                    assert resting.request.amount == D("0.01234") and resting.request.price == price.quantize(D("0.01"))
                    venue = cluster.venues["binance"].engine.find("main", resting.venue_order_id)
                    assert venue.client_id == resting.client_order_id  # the journal's id reached the venue
                    canceled = await account.cancel(resting.client_order_id)
                    assert canceled.status is OrderStatus.CANCELED
                    sold = await account.create_order(
                        OrderRequest("binance", SYMBOL, Side.SELL, OrderType.MARKET, D("0.3")), reference_price=best_bid(cluster)
                    )
                    assert sold.status is OrderStatus.FILLED and sold.filled == D("0.3")
                    fills = journal.fills(sold.client_order_id)
                    assert sum(f.amount for f in fills) == D("0.3") and all(f.fee > 0 and f.taker for f in fills)
                    ioc = await account.create_order(limit_buy(price, time_in_force=TimeInForce.IOC))
                    assert ioc.status is OrderStatus.EXPIRED
                finally:
                    await account.client.close()

    run(body())


def test_bad_orders_never_reach_the_venue(tmp_path: Path) -> None:
    async def body() -> None:
        async with SimCluster(["binance"], interval=0.05, levels=80) as cluster:
            with Journal(tmp_path / "j.db") as journal:
                account = await open_account(cluster, journal)
                try:
                    price = best_bid(cluster)
                    for bad in (
                        limit_buy(price, amount="-1"),
                        limit_buy(price, amount="NaN"),
                        limit_buy(price, amount="0.000001"),  # below one lot once rounded down
                        limit_buy(price, amount="1000000"),  # far more than the balance
                        OrderRequest("binance", "DOGE-USDT", Side.BUY, OrderType.LIMIT, D(1), D(1)),
                        limit_buy(price, reduce_only=True),  # spot has no reduce-only
                    ):
                        with pytest.raises(InvalidOrder):
                            await account.create_order(bad)
                    assert cluster.venues["binance"].engine.orders == {}
                    assert journal.in_flight() == [] and journal.open_orders() == []
                finally:
                    await account.client.close()

    run(body())


CHILD = """
import asyncio, os, signal, sys
from decimal import Decimal as D
import ccxt.async_support as ccxt_async
import orjson
from crossbook.model import OrderRequest, OrderType, Side
from crossbook.trading.account import VenueAccount
from crossbook.trading.journal import Journal
from crossbook.venues.spec.limiter import Limiter
from crossbook.venues.registry import spec

LIMITS = spec("binance").limit_table()
config, journal_path, stage, side, amount, price = sys.argv[1:7]

def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

async def main():
    journal = Journal(journal_path)
    account = VenueAccount("binance", ccxt_async.binance(orjson.loads(config)), journal, Limiter(LIMITS))
    await account.load()
    if stage == "before_send":
        account.client.create_order = die
    elif stage == "before_ack":
        journal.record_ack = die
    elif stage == "mid_fills":
        record = journal.record_fill
        seen = []
        def second_kills(fill):
            seen.append(fill)
            if len(seen) == 2:
                die()
            return record(fill)
        journal.record_fill = second_kills
    request = OrderRequest("binance", "BTC-USDT", Side(side), OrderType.MARKET if price == "-" else OrderType.LIMIT,
                           D(amount), None if price == "-" else D(price))
    await account.create_order(request, reference_price=D("60000"))
    print("not killed", flush=True)

asyncio.run(main())
"""


async def crash_at(stage: str, config: dict[str, Any], journal_path: Path, side: str, amount: str, price: str) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CHILD, orjson.dumps(config).decode(), str(journal_path), stage, side, amount, price,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env={**os.environ},
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == -9, (stage, out, err)


@pytest.mark.parametrize("stage", ["before_send", "before_ack", "mid_fills"])
def test_sigkill_then_reconcile_leaves_no_duplicate_and_no_missing_fill(stage: str, tmp_path: Path) -> None:
    async def body() -> None:
        async with SimCluster(["binance"], interval=0.05, levels=80) as cluster:
            cluster.pause()
            engine = cluster.venues["binance"].engine
            config = ccxt_configs(cluster)["binance"]
            path = tmp_path / "j.db"
            if stage == "mid_fills":
                await crash_at(stage, config, path, "sell", "60", "-")  # more than any one level holds (40 at most)
            else:
                await crash_at(stage, config, path, "buy", "0.01", str(best_bid(cluster) * D("0.98")))
            with Journal(path) as journal:
                (cid,) = {o.client_order_id for o in journal.in_flight() + journal.open_orders()}
                order = journal.order(cid)
                assert order is not None
                account = VenueAccount("binance", ccxt_async.binance(config), journal, Limiter(LIMITS))
                account.sent_grace = 0.0  # reconciled once the killed process's request can no longer arrive
                await account.load()
                try:
                    report = await account.reconcile()
                    await account.reconcile()  # a second pass changes nothing
                finally:
                    await account.client.close()
                at_venue = [o for o in engine.orders.values() if o.client_id == order.client_order_id]
                final = journal.order(order.client_order_id)
                assert final is not None and final.status is not OrderStatus.SENT and final.status is not OrderStatus.INTENT
                if stage == "before_send":
                    assert at_venue == [] and final.status is OrderStatus.REJECTED
                    assert report.never_placed == [order.client_order_id]
                else:
                    assert len(at_venue) == 1, "exactly one order at the venue"
                    assert final.venue_order_id == at_venue[0].order_id
                    venue_fills = [f for f in engine.fills if f.order_id == at_venue[0].order_id]
                    assert len(journal.fills(order.client_order_id)) == len(venue_fills)
                    assert final.filled == sum(f.amount for f in venue_fills)
                    if stage == "before_ack":
                        assert report.adopted == [order.client_order_id] and final.status is OrderStatus.OPEN
                    else:
                        assert final.status is OrderStatus.FILLED and len(venue_fills) >= 2

    run(body(), timeout=120)


def test_amounts_and_prices_reach_ccxt_without_an_exponent() -> None:
    from crossbook.trading.account import plain

    assert plain(D("1.4E-5")) == "0.000014" and plain(D("1E+2")) == "100" and plain(D("64123.5")) == "64123.5"
