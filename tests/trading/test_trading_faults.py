"""The simulator's trading faults against the trading layer: whatever happens on the way, after
reconciliation the journal and the venue agree and no order exists twice."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import ccxt.async_support as ccxt_async
import pytest

from crossbook.errors import InsufficientFunds, VenueUnavailable
from crossbook.model import OrderRequest, OrderStatus, OrderType, Side
from crossbook.sim.cluster import SimCluster
from crossbook.sim.serve import ccxt_configs
from crossbook.trading.account import VenueAccount
from crossbook.trading.journal import Journal
from crossbook.venues.registry import spec
from crossbook.venues.spec.limiter import Limiter

from ..conftest import run
from ..sim.trading_contract import TradingHarness, trading_feeds

LIMITS = spec("binance").limit_table()


@pytest.mark.parametrize(("fault", "at_venue"), [("5xx", 0), ("timeout", 0), ("lost_ack", 1), ("delay", 1)])
def test_order_survives_the_fault(fault: str, at_venue: int, tmp_path: Path) -> None:
    async def body() -> None:
        async with SimCluster(["binance"], interval=0.05, levels=80) as cluster:
            sim = cluster.venues["binance"]
            config = ccxt_configs(cluster)["binance"]
            with Journal(tmp_path / "j.db") as journal:
                account = VenueAccount("binance", ccxt_async.binance({**config, "timeout": 1000}), journal, Limiter(LIMITS))
                try:
                    await account.load()
                    ladder = sim.ladders["BTC-USDT"]
                    price = (D(ladder.price_str(max(ladder.bids))) * D("0.98")).quantize(D("0.01"))
                    sim.inject_trading(fault, seconds=0.3 if fault == "delay" else 2.0)
                    request = OrderRequest("binance", "BTC-USDT", Side.BUY, OrderType.LIMIT, D("0.01"), price)
                    if fault == "delay":
                        order = await account.create_order(request)  # a slow ack is still an ack
                        assert order.status is OrderStatus.OPEN
                    else:
                        with pytest.raises(VenueUnavailable, match="stays SENT"):
                            await account.create_order(request)
                        (unknown,) = journal.in_flight()
                        assert unknown.status is OrderStatus.SENT
                        account.sent_grace = 0.0  # reconciled once the request can no longer reach the venue
                        report = await account.reconcile()
                        resolved = journal.order(unknown.client_order_id)
                        assert resolved is not None
                        expected = OrderStatus.OPEN if at_venue else OrderStatus.REJECTED
                        assert resolved.status is expected, (fault, report)
                    assert len(sim.engine.orders) == at_venue
                    assert journal.in_flight() == []
                finally:
                    await account.client.close()

    run(body())


async def venue_account(h: TradingHarness, journal: Journal) -> VenueAccount:
    account = VenueAccount(h.sim.venue_id, h.client(), journal)
    await account.load()
    return account


@pytest.mark.parametrize("feed_id", trading_feeds())
def test_a_rejected_order_is_journaled_as_rejected_and_absent_at_the_venue(feed_id: str, tmp_path: Path) -> None:
    async def body() -> None:
        async with TradingHarness(feed_id) as h:
            with Journal(tmp_path / "j.db") as journal:
                account = await venue_account(h, journal)
                price = (h.touch()[0] * D("0.95")).quantize(account.market(h.symbol).tick)
                h.sim.inject_trading("reject")
                with pytest.raises(InsufficientFunds, match=feed_id):
                    await account.create_order(OrderRequest(h.sim.venue_id, h.symbol, Side.BUY, OrderType.LIMIT, D("0.01"), price))
                order = journal.order(journal.client_ids.for_intent(h.sim.venue_id, 1))
                assert order is not None and order.status is OrderStatus.REJECTED
                assert h.sim.engine.open_orders("main") == [] and not h.sim.engine.faults

    run(body())


@pytest.mark.parametrize("feed_id", trading_feeds())
def test_a_partial_fill_is_journaled_with_its_fills_and_the_rest_expired(feed_id: str, tmp_path: Path) -> None:
    async def body() -> None:
        async with TradingHarness(feed_id) as h:
            with Journal(tmp_path / "j.db") as journal:
                account = await venue_account(h, journal)
                h.sim.inject_trading("partial_fill")
                request = OrderRequest(h.sim.venue_id, h.symbol, Side.SELL, OrderType.MARKET, D("0.02"))
                order = await account.create_order(request, reference_price=h.touch()[0])
                fills = journal.fills(order.client_order_id)
                assert sum(f.amount for f in fills) == D("0.01") == order.filled
                # the venue ends the rest as expired or canceled (most say canceled); never filled
                assert order.status in (OrderStatus.EXPIRED, OrderStatus.CANCELED)
                (sold,) = h.sim.engine.orders.values()
                assert sold.status is OrderStatus.EXPIRED and sold.filled * 2 == sold.amount

    run(body())
