"""The capability matrix's "crossbook today" column is true: every order feature it claims for a
spot venue is placed through the trading layer (VenueAccount -> ccxt -> the venue's simulator) and
arrives at the venue as asked, and a strategy's sub-account trades with its own balance."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import pytest

from crossbook.model import OrderRequest, OrderStatus, OrderType, Side, TimeInForce
from crossbook.sim.engine import SimOrder
from crossbook.trading.account import VenueAccount
from crossbook.trading.journal import Journal
from crossbook.venues.registry import capabilities
from crossbook.venues.spec.capabilities import Feature, Product

from ..conftest import run
from ..sim.trading_contract import TradingHarness, trading_feeds

FEEDS = trading_feeds()


GONE = (OrderStatus.EXPIRED, OrderStatus.CANCELED)  # an unfilled IOC/FOK: venues say either


def requests(venue: str, symbol: str, bid: D, tick: D) -> dict[Feature, tuple[OrderRequest, tuple[OrderStatus, ...]]]:
    """One order per spot order feature, and the statuses it may be in at once."""
    below = (bid * D("0.95")).quantize(tick)

    def order(side: Side, kind: OrderType, price: D | None, **kw: object) -> OrderRequest:
        return OrderRequest(venue, symbol, side, kind, D("0.01"), price, **kw)  # type: ignore[arg-type]

    return {
        Feature.LIMIT: (order(Side.BUY, OrderType.LIMIT, below), (OrderStatus.OPEN,)),
        Feature.MARKET: (order(Side.SELL, OrderType.MARKET, None), (OrderStatus.FILLED,)),
        Feature.POST_ONLY: (order(Side.BUY, OrderType.LIMIT, below, post_only=True), (OrderStatus.OPEN,)),
        Feature.IOC: (order(Side.BUY, OrderType.LIMIT, below, time_in_force=TimeInForce.IOC), GONE),
        Feature.FOK: (order(Side.BUY, OrderType.LIMIT, below, time_in_force=TimeInForce.FOK), GONE),
        Feature.STOP: (order(Side.SELL, OrderType.STOP, None, stop_price=below), (OrderStatus.OPEN,)),
        Feature.STOP_LIMIT: (
            order(Side.SELL, OrderType.STOP_LIMIT, (below * D("0.99")).quantize(tick), stop_price=below), (OrderStatus.OPEN,)
        ),
        Feature.TP_SL: (order(Side.BUY, OrderType.LIMIT, below, take_profit=(bid * D("1.1")).quantize(tick),
                              stop_loss=(bid * D("0.9")).quantize(tick)), (OrderStatus.OPEN,)),
    }


def arrived_as_asked(feature: Feature, order: SimOrder) -> bool:
    return {
        Feature.POST_ONLY: order.post_only,
        Feature.IOC: order.tif is TimeInForce.IOC,
        Feature.FOK: order.tif is TimeInForce.FOK,
        Feature.STOP: order.stop is not None and order.type is OrderType.STOP,
        Feature.STOP_LIMIT: order.stop is not None and order.type is OrderType.STOP_LIMIT,
        Feature.TP_SL: order.take_profit is not None and order.stop_loss is not None,
    }.get(feature, True)


@pytest.mark.parametrize("feed_id", FEEDS)
def test_every_order_feature_claimed_for_spot_reaches_the_venue(feed_id: str, tmp_path: Path) -> None:
    async def body() -> None:
        async with TradingHarness(feed_id) as h:
            venue = h.sim.venue_id
            table = capabilities(venue)
            assert table.products[Product.SPOT].crossbook
            with Journal(tmp_path / "j.db") as journal:
                account = VenueAccount(venue, h.client(), journal)
                await account.load()
                bid = h.touch()[0]
                claimed = {f: r for f, r in requests(venue, h.symbol, bid, account.market(h.symbol).tick).items()
                           if table.features[f].crossbook and table.wire.sends(f, Product.SPOT) is None}
                assert {Feature.LIMIT, Feature.MARKET} <= set(claimed)
                for feature, (request, expected) in claimed.items():
                    placed = await account.create_order(request, reference_price=bid)
                    if placed.status not in expected:
                        placed = await account.sync(placed.client_order_id)
                    assert placed.status in expected, f"{venue} {feature.value}: {placed.status.value}"
                    at_venue = h.sim.engine.find("main", client_id=placed.client_order_id)
                    assert arrived_as_asked(feature, at_venue), f"{venue} {feature.value} arrived as {at_venue}"

    run(body())


@pytest.mark.parametrize("feed_id", FEEDS)
def test_a_strategys_sub_account_trades_with_its_own_key_and_balance(feed_id: str, tmp_path: Path) -> None:
    async def body() -> None:
        async with TradingHarness(feed_id) as h:
            venue = h.sim.venue_id
            assert capabilities(venue).features[Feature.SUB_ACCOUNTS].crossbook
            quote = h.sim.engine.markets[h.symbol].quote
            h.sim.engine.open_account("strategy-a", {quote: D(100_000)}, parent="main")
            with Journal(tmp_path / "j.db") as journal:
                account = VenueAccount(venue, h.client(h.sim.issue_key("strategy-a")), journal, account="strategy-a")
                await account.load()
                price = (h.touch()[0] * D("0.95")).quantize(account.market(h.symbol).tick)
                request = OrderRequest(venue, h.symbol, Side.BUY, OrderType.LIMIT, D("0.01"), price, account="strategy-a")
                placed = await account.create_order(request)
                assert placed.status is OrderStatus.OPEN and journal.open_orders(venue, "strategy-a") == [placed]
                assert h.sim.engine.find("strategy-a", client_id=placed.client_order_id).account == "strategy-a"
                assert h.sim.engine.open_orders("main") == [] and h.sim.engine.account("main").locked.get(quote, 0) == 0

    run(body())
