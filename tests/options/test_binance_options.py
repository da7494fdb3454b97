"""Binance options on the simulator (feed ``binanceoptions``, the eapi): instruments parse into
standard option symbols, books follow the venue's and end equal to it, OptionMarks arrive with the
mark inside the touch and sane vols and deltas, an unmodified ccxt client loads, reads and trades
an option, and crossbook's trading layer sends limit, post-only and reduce-only option orders."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal as D
from pathlib import Path

import aiohttp
import ccxt
import pytest

from crossbook.errors import InvalidOrder
from crossbook.feeds.handler import MarketEvent
from crossbook.feeds.manager import VenueFeed
from crossbook.model import Kind, OptionMark, OptionRight, OrderRequest, OrderStatus, OrderType, Side
from crossbook.sim.cluster import SimCluster
from crossbook.sim.options import listed_series
from crossbook.sim.venues.binance.options import LISTED
from crossbook.symbols import parse_option
from crossbook.trading.account import VenueAccount
from crossbook.trading.journal import Journal
from crossbook.venues.binance.options import BinanceOptions

from ..conftest import run, wait_for
from ..sim.trading_contract import TradingHarness

FEED = "binanceoptions"
EVERY_LEVEL = 100


def followed() -> list[str]:
    """A call and a put of each underlying, at the money, nearest expiry."""
    out = []
    for base in ("BTC", "ETH"):
        series = [s for s in LISTED if s.startswith(f"{base}-")]
        first = min(parse_option(s).expiry for s in series)
        atm = sorted({parse_option(s).strike for s in series if parse_option(s).expiry == first})[2]
        out += [s for s in series if parse_option(s).expiry == first and parse_option(s).strike == atm]
    return out


def test_instruments_parse_as_standard_option_symbols() -> None:
    async def body() -> None:
        async with SimCluster([FEED], levels=20) as cluster:
            _, rest = cluster.urls(FEED)
            handler = BinanceOptions(rest_url=rest)
            async with aiohttp.ClientSession() as session:
                bodies = [await (await session.get(url)).read() for url in handler.instruments_urls()]
            instruments = {i.symbol: i for i in handler.parse_instruments(bodies)}
            listed = listed_series()
            assert len(instruments) == len(listed) == len(cluster.venues[FEED].markets)
            for series in listed:
                strike, right = f"{series.strike:g}", series.right.value
                inst = instruments[f"{series.base}-USDT-{series.expiry}-{strike}-{right}"]
                assert inst.native == f"{series.base}-{series.expiry[2:]}-{strike}-{right}"
                assert inst.kind is Kind.OPTION and not inst.premium_in_base and inst.settle == "USDT"
                assert (inst.base, inst.quote) == (series.base, "USDT")
                assert (inst.strike, inst.right, inst.expiry, inst.contract_size) == (series.strike, series.right, series.expiry, 1.0)
                assert (inst.tick, inst.lot) == ((5.0, 0.01) if series.base == "BTC" else (0.1, 0.01))

    run(body())


def test_books_follow_the_venue_and_marks_sit_inside_the_touch() -> None:
    async def body() -> None:
        symbols = followed()
        async with SimCluster([FEED], interval=0.05, levels=20) as cluster:
            sim = cluster.venues[FEED]
            ws, rest = cluster.urls(FEED)
            marks: list[tuple[OptionMark, float, float]] = []  # the mark and the client book's touch then
            feed: VenueFeed | None = None

            def on_market(event: MarketEvent) -> None:
                if isinstance(event, OptionMark) and feed is not None:
                    book = feed.connections[0].handler.books[sim.native(event.symbol)]
                    bid, ask = book.best_bid(), book.best_ask()
                    if bid is not None and ask is not None:
                        marks.append((event, bid[0], ask[0]))

            feed = VenueFeed(BinanceOptions, symbols, ws_url=ws, rest_url=rest, on_market=on_market)
            async with aiohttp.ClientSession() as session:
                await feed.start(session)
                try:
                    await wait_for(lambda: all(sum(m.symbol == s for m, _, _ in marks) >= 3 for s in symbols), 30,
                                   "three marks of every option followed")
                    cluster.pause()
                    handler = feed.connections[0].handler

                    def settled() -> bool:
                        return all(handler.books[sim.native(s)].depth(EVERY_LEVEL) == sim.expected_top(s, EVERY_LEVEL)
                                   for s in symbols)

                    await wait_for(settled, 20, "the client's option books equal to the venue's")
                finally:
                    await feed.stop()
        for mark, bid, ask in marks:
            right = parse_option(mark.symbol).right
            # the venue pushes marks after that tick's depth events: the client's touch is the venue's then
            assert bid <= mark.mark <= ask, (mark, bid, ask)
            assert mark.iv is not None and 0.05 < mark.iv < 5, mark
            assert mark.delta is not None and (0 < mark.delta < 1 if right is OptionRight.CALL else -1 < mark.delta < 0), mark
            assert mark.underlying is not None and mark.gamma is not None and mark.gamma > 0, mark
            assert mark.vega is not None and mark.vega > 0 and mark.theta is not None and mark.theta < 0, mark
        assert {m.symbol for m, _, _ in marks} == set(symbols)

    run(body(), timeout=90)


def test_an_unmodified_ccxt_client_loads_reads_and_trades_an_option() -> None:
    async def body() -> None:
        async with TradingHarness(FEED) as h:
            client = h.client()
            markets = await client.load_markets()
            options = [m for m in markets.values() if m["option"]]
            assert len(options) == len(markets) == len(LISTED)
            symbol = h.ccxt_symbol(client)
            market = markets[symbol]
            assert (market["settle"], market["contractSize"], market["optionType"]) == ("USDT", 1.0, "call")
            book = await client.fetch_order_book(symbol)
            ticker = await client.fetch_ticker(symbol)
            bid, ask = book["bids"][0][0], book["asks"][0][0]
            assert 0 < bid < ask and ticker["bid"] == bid and ticker["ask"] == ask
            resting = await client.create_order(symbol, "limit", "buy", 0.5, bid)
            assert (await client.fetch_order(resting["id"], symbol))["status"] == "open"
            await client.cancel_order(resting["id"], symbol)
            assert (await client.fetch_order(resting["id"], symbol))["status"] == "canceled"

            usdt = h.sim.engine.account("main").available("USDT")
            taken = await client.create_order(symbol, "limit", "buy", 0.3, ask + 50)
            filled = await client.fetch_order(taken["id"], symbol)
            assert filled["status"] == "closed" and filled["filled"] == 0.3
            premium = D(repr(filled["average"])) * D("0.3")  # price x contracts x unit (1), in USDT
            spent = usdt - h.sim.engine.account("main").available("USDT")
            assert premium <= spent <= premium * D("1.01"), (premium, spent)  # the premium, and the fee
            (position,) = await client.fetch_positions([symbol])
            assert position["contracts"] == 0.3 and position["side"] == "long"
            assert (await client.fetch_balance())["USDT"]["free"] == pytest.approx(float(h.sim.engine.account("main").available("USDT")))
            with pytest.raises(ccxt.InvalidOrder):
                await client.create_order(symbol, "market", "sell", 0.1)  # the eapi takes LIMIT orders only

    run(body())


@asynccontextmanager
async def trading_account(h: TradingHarness, tmp_path: Path) -> AsyncIterator[VenueAccount]:
    with Journal(tmp_path / "journal.db") as journal:
        account = VenueAccount("binance", h.client(), journal)
        await account.load()
        yield account


def test_limit_post_only_and_reduce_only_option_orders_through_the_trading_layer(tmp_path: Path) -> None:
    async def body() -> None:
        async with TradingHarness(FEED) as h, trading_account(h, tmp_path) as account:
            symbol = h.symbol
            rules = account.market(symbol)
            assert rules.contract_size == 1 and rules.tick == 5
            bid, ask = h.touch()
            limit = await account.create_order(OrderRequest("binance", symbol, Side.BUY, OrderType.LIMIT, D("0.2"), bid))
            assert limit.status is OrderStatus.OPEN
            engine_order = h.sim.engine.orders[str(limit.venue_order_id)]
            assert engine_order.symbol == symbol and engine_order.amount * h.sim.engine.markets[symbol].lot == D("0.2")

            resting = await account.create_order(OrderRequest("binance", symbol, Side.SELL, OrderType.LIMIT, D("0.1"),
                                                              ask + 10, post_only=True))
            assert resting.status is OrderStatus.OPEN and h.sim.engine.orders[str(resting.venue_order_id)].post_only
            with pytest.raises(InvalidOrder):  # a post-only that would take is refused (-2010 / GTX)
                await account.create_order(OrderRequest("binance", symbol, Side.BUY, OrderType.LIMIT, D("0.1"), ask,
                                                        post_only=True))
            with pytest.raises(InvalidOrder):  # nothing held: a reduce-only sell is refused
                await account.create_order(OrderRequest("binance", symbol, Side.SELL, OrderType.LIMIT, D("0.1"), bid,
                                                        reduce_only=True))
            assert all(o.symbol == symbol for o in h.sim.engine.orders.values())

    run(body())
