"""Reconciliation racing an order's own send: the OrderStream (started by ``crossbook follow`` and by
the OCO keeper) reconciles the whole account at start and every ``reconcile_every`` seconds, so it
can run while an order is journaled SENT and its request is still on its way. The venue's answer is
held back by the simulator's ``delay`` trading fault; whatever reconciles meanwhile (this process's
stream, another process's account on the same journal), the order ends as the venue has it, never
closed as "never placed". Only once the grace is over does a missing order count as never placed."""

from __future__ import annotations

import asyncio
from decimal import Decimal as D
from pathlib import Path

import ccxt.async_support as ccxt_async
import pytest

from crossbook.model import OrderRequest, OrderStatus, OrderType, Side
from crossbook.sim.cluster import SimCluster
from crossbook.sim.serve import ccxt_configs
from crossbook.sim.server import SimVenue
from crossbook.trading.account import SENT_GRACE, VenueAccount
from crossbook.trading.journal import Journal
from crossbook.trading.stream import OrderStream
from crossbook.venues.registry import spec
from crossbook.venues.spec.limiter import Limiter

from ..conftest import run, wait_for

LIMITS = spec("binance").limit_table()
HELD = 1.5  # seconds the simulator holds the place request before doing it and answering


def account_on(sim: SimVenue, config: dict[str, object], journal: Journal) -> VenueAccount:
    return VenueAccount("binance", ccxt_async.binance({**config, "timeout": 10_000}), journal, Limiter(LIMITS))


def priced(sim: SimVenue, marketable: bool) -> OrderRequest:
    """A buy resting 2 % under the bid, or one through the ask that fills at once."""
    ladder = sim.ladders["BTC-USDT"]
    bid, ask = D(ladder.price_str(max(ladder.bids))), D(ladder.price_str(min(ladder.asks)))
    price = (ask * D("1.01") if marketable else bid * D("0.98")).quantize(D("0.01"))
    return OrderRequest("binance", "BTC-USDT", Side.BUY, OrderType.LIMIT, D("0.001"), price)


@pytest.mark.parametrize(("marketable", "expected"), [(False, OrderStatus.OPEN), (True, OrderStatus.FILLED)])
def test_the_streams_reconciliation_leaves_an_order_in_flight_alone(marketable: bool, expected: OrderStatus,
                                                                   tmp_path: Path) -> None:
    async def body() -> None:
        async with SimCluster(["binance"], interval=0.05, levels=80) as cluster:
            sim = cluster.venues["binance"]
            with Journal(tmp_path / "j.db") as journal:
                account = account_on(sim, ccxt_configs(cluster)["binance"], journal)
                stream = OrderStream(account, reconcile_every=0.05)
                try:
                    await account.load()
                    following = asyncio.create_task(stream.run())
                    await wait_for(lambda: stream.stats.reconciles > 0, 30, "the stream's first reconciliation")
                    sim.inject_trading("delay", seconds=HELD)
                    placing = asyncio.create_task(account.create_order(priced(sim, marketable)))
                    await wait_for(lambda: bool(journal.in_flight()), 30, "the order journaled as SENT")
                    (sent,) = journal.in_flight()
                    cid = sent.client_order_id
                    seen = stream.stats.reconciles
                    await wait_for(lambda: stream.stats.reconciles >= seen + 3, 30, "reconciliations during the send")
                    assert not placing.done(), "the venue answered before the stream reconciled: the race was not run"
                    assert stream.last_report is not None and cid in stream.last_report.pending
                    assert cid not in stream.last_report.never_placed
                    assert journal.order(cid).status is OrderStatus.SENT  # type: ignore[union-attr]
                    order = await placing
                    assert order.status is expected
                    following.cancel()
                    await asyncio.gather(following, return_exceptions=True)
                    await account.reconcile()  # and once answered, reconciliation agrees
                    final = journal.order(cid)
                    assert final is not None and final.status is expected and final.reason == ""
                    (at_venue,) = [o for o in sim.engine.orders.values() if o.client_id == cid]
                    assert final.venue_order_id == at_venue.order_id
                finally:
                    await account.client.close()

    run(body())


def test_another_process_reconciling_during_the_send_waits_for_the_grace(tmp_path: Path) -> None:
    """A second process (its own account and client on the same journal) does not know this one is
    sending: the order was sent less than ``sent_grace`` seconds ago, so it is pending there too."""

    async def body() -> None:
        async with SimCluster(["binance"], interval=0.05, levels=80) as cluster:
            sim = cluster.venues["binance"]
            config = ccxt_configs(cluster)["binance"]
            with Journal(tmp_path / "j.db") as journal, Journal(tmp_path / "j.db") as other_journal:
                sender, other = account_on(sim, config, journal), account_on(sim, config, other_journal)
                assert other.sent_grace >= SENT_GRACE
                try:
                    await sender.load()
                    await other.load()
                    sim.inject_trading("delay", seconds=HELD)
                    placing = asyncio.create_task(sender.create_order(priced(sim, marketable=False)))
                    await wait_for(lambda: bool(other_journal.in_flight()), 30, "the order journaled as SENT")
                    (sent,) = other_journal.in_flight()
                    report = await other.reconcile()
                    assert not placing.done(), "the venue answered before the reconciliation: the race was not run"
                    assert report.pending == [sent.client_order_id] and report.never_placed == []
                    assert (await placing).status is OrderStatus.OPEN
                    assert other_journal.order(sent.client_order_id).status is OrderStatus.OPEN  # type: ignore[union-attr]
                finally:
                    await sender.client.close()
                    await other.client.close()

    run(body())


def test_an_order_the_venue_never_got_is_closed_once_the_grace_is_over(tmp_path: Path) -> None:
    """The venue refused the request (a 502 from its gateway) and never placed it: pending while
    it might still arrive, then, journaled as sent longer ago than the grace, never placed."""

    async def body() -> None:
        async with SimCluster(["binance"], interval=0.05, levels=80) as cluster:
            sim = cluster.venues["binance"]
            config = ccxt_configs(cluster)["binance"]
            with Journal(tmp_path / "j.db") as journal:
                account = account_on(sim, config, journal)
                try:
                    await account.load()
                    sim.inject_trading("5xx")
                    with pytest.raises(Exception, match="stays SENT"):
                        await account.create_order(priced(sim, marketable=False))
                    (sent,) = journal.in_flight()
                    assert (await account.reconcile()).pending == [sent.client_order_id]
                finally:
                    await account.client.close()
            later = sent.updated_at + account.sent_grace + 1  # reconciled again once the grace is over
            with Journal(tmp_path / "j.db") as journal:
                account = account_on(sim, config, journal)
                account.clock = lambda: later
                try:
                    await account.load()
                    report = await account.reconcile()
                    assert report.never_placed == [sent.client_order_id] and report.pending == []
                    assert journal.order(sent.client_order_id).status is OrderStatus.REJECTED  # type: ignore[union-attr]
                finally:
                    await account.client.close()
            assert sim.engine.orders == {} or all(o.client_id != sent.client_order_id for o in sim.engine.orders.values())

    run(body())
