"""Amend, then cancel, through VenueAccount on every simulated spot venue whose ccxt client amends
(``has['editOrder']``): the journal keeps the id the venue knows the order by after the amend, so
the cancel and the sync that follow reach the same order. Kraken amends in place and answers with
an ``amend_id``, which ccxt reports as the order's id: the order keeps its txid (the SPEC's
``amend_keeps_order_id``); Binance and Bitget amend by cancel-replace, which gives the order a new id."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from crossbook.errors import InvalidOrder
from crossbook.model import OrderRequest, OrderStatus, OrderType, Side, TimeInForce
from crossbook.sim.venues import sim_class
from crossbook.trading.account import VenueAccount
from crossbook.trading.journal import Journal
from crossbook.venues.registry import spec

from ..conftest import run
from ..sim.trading_contract import TradingHarness, trading_feeds


def amending_feeds() -> list[Any]:
    import ccxt.async_support as ccxt_async

    feeds = []
    for feed in trading_feeds():
        ccxt_id = sim_class(feed).ccxt_id
        if ccxt_id is not None and getattr(ccxt_async, ccxt_id)().has.get("editOrder"):
            feeds.append(feed)
    return feeds


def test_kraken_is_among_the_venues_that_amend() -> None:
    assert "kraken" in amending_feeds() and spec("kraken").amend_keeps_order_id


@pytest.mark.parametrize("feed_id", amending_feeds())
def test_amend_then_cancel_reaches_the_same_order(feed_id: str, tmp_path: Path) -> None:
    async def body() -> None:
        async with TradingHarness(feed_id) as h:
            venue = h.sim.venue_id
            with Journal(tmp_path / "j.db") as journal:
                account = VenueAccount(venue, h.client(), journal)
                await account.load()
                tick = account.market(h.symbol).tick
                price = (h.touch()[0] * D("0.95") / tick).to_integral_value() * tick
                placed = await account.create_order(OrderRequest(venue, h.symbol, Side.BUY, OrderType.LIMIT, D("0.01"), price))
                assert placed.status is OrderStatus.OPEN
                amended = await account.amend(placed.client_order_id, price=price - tick * 10)
                assert amended.request.price == price - tick * 10 and amended.status is OrderStatus.OPEN
                ccxt_symbol = account.market(h.symbol).ccxt_symbol
                at_venue = await account.client.fetch_order(amended.venue_order_id, ccxt_symbol)
                assert (at_venue["status"], D(str(at_venue["price"]))) == ("open", price - tick * 10), venue
                if spec(venue).amend_keeps_order_id:
                    assert amended.venue_order_id == placed.venue_order_id
                assert (await account.sync(placed.client_order_id)).status is OrderStatus.OPEN
                canceled = await account.cancel(placed.client_order_id)
                assert canceled.status is OrderStatus.CANCELED
                assert (await account.client.fetch_order(amended.venue_order_id, ccxt_symbol))["status"] == "canceled"
                assert h.sim.engine.open_orders("main") == []

    run(body())


def test_a_replacement_bitget_refuses_leaves_the_order_canceled_and_the_amend_refused(tmp_path: Path) -> None:
    """Bitget's cancel-replace cancels first: when the new order is refused (``success: "failure"``,
    no ``orderId``), the amend is an error naming the venue, and the journal has the order canceled."""
    async def body() -> None:
        async with TradingHarness("bitget") as h:
            with Journal(tmp_path / "j.db") as journal:
                account = VenueAccount("bitget", h.client(), journal)
                await account.load()
                tick = account.market(h.symbol).tick
                price = (h.touch()[0] * D("0.95") / tick).to_integral_value() * tick
                placed = await account.create_order(OrderRequest("bitget", h.symbol, Side.BUY, OrderType.LIMIT, D("0.01"), price))
                h.sim.engine.inject("reject")  # the next order the engine sees: the replacement
                with pytest.raises(InvalidOrder, match=r"bitget canceled .* refused its replacement: Insufficient balance"):
                    await account.amend(placed.client_order_id, price=price - tick * 10)
                journaled = journal.order(placed.client_order_id)
                assert journaled is not None and journaled.status is OrderStatus.CANCELED
                assert journaled.request.price == price  # no amend recorded
                assert h.sim.engine.open_orders("main") == []

    run(body())


def test_a_partly_filled_order_is_not_amended_where_the_venue_replaces_it(tmp_path: Path) -> None:
    """Binance amends by cancel-replace: the replacement would be a fresh order for the whole new
    amount, so the part already filled would fill again. crossbook refuses before sending."""
    async def body() -> None:
        async with TradingHarness("binance") as h:
            with Journal(tmp_path / "j.db") as journal:
                account = VenueAccount("binance", h.client(), journal)
                await account.load()
                price = h.inside_bid()  # the market paused: the buy rests alone at the top
                placed = await account.create_order(OrderRequest("binance", h.symbol, Side.BUY, OrderType.LIMIT, D("0.02"), price))
                await account.create_order(OrderRequest("binance", h.symbol, Side.SELL, OrderType.LIMIT, D("0.01"), price,
                                                        time_in_force=TimeInForce.IOC))
                partly = await account.sync(placed.client_order_id)
                assert (partly.status, partly.filled) == (OrderStatus.PARTIALLY_FILLED, D("0.01"))
                with pytest.raises(InvalidOrder, match=r"binance amends by replacing the order.*0\.01 filled"):
                    await account.amend(placed.client_order_id, amount=D("0.03"))
                at_venue = await account.client.fetch_order(partly.venue_order_id, account.market(h.symbol).ccxt_symbol)
                assert (at_venue["id"], at_venue["amount"], at_venue["status"]) == (partly.venue_order_id, 0.02, "open")

    run(body())
