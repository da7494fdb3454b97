"""Binance options on the simulator (feed ``binanceoptions``, the eapi): instruments parse into
standard option symbols, books follow the venue's on /public and end equal to it, OptionMarks arrive
on their own /market socket with the mark inside the touch and sane vols and deltas, an unmodified ccxt client loads, reads and trades
an option, and crossbook's trading layer sends limit, post-only and reduce-only option orders."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal as D
from pathlib import Path

import aiohttp
import ccxt
import pytest

from crossbook.errors import InvalidOrder
from crossbook.feeds.manager import VenueFeed
from crossbook.model import BookState, Kind, OptionMark, OptionRight, OrderRequest, OrderStatus, OrderType, Side
from crossbook.sim.cluster import SimCluster
from crossbook.sim.options import listed_series
from crossbook.sim.venues.binance.options import LISTED, MARK_EVERY, BinanceOptionsSim
from crossbook.symbols import parse_option
from crossbook.trading.account import VenueAccount
from crossbook.trading.journal import Journal
from crossbook.venues.binance.options import BinanceOptionMarks, BinanceOptions

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


def test_books_on_public_and_marks_on_market_each_from_its_own_socket() -> None:
    async def body() -> None:
        symbols = followed()
        async with SimCluster([FEED], interval=0.05, levels=20) as cluster:
            sim = cluster.venues[FEED]
            ws, rest = cluster.urls(FEED)
            marks: list[OptionMark] = []
            books = VenueFeed(BinanceOptions, symbols, ws_url=ws, rest_url=rest, on_market=marks.append)
            assert BinanceOptions.companions == (BinanceOptionMarks,)
            mark_feed = VenueFeed(BinanceOptionMarks, symbols, ws_url=ws, rest_url=rest, on_market=marks.append)
            async with aiohttp.ClientSession() as session:
                await books.start(session)
                mark_feed.symbol_map = books.symbol_map
                await mark_feed.start(session)
                try:
                    await wait_for(lambda: all(sum(m.symbol == s for m in marks) >= 3 for s in symbols), 30,
                                   "three marks of every option followed")
                    book_handler, mark_handler = books.connections[0].handler, mark_feed.connections[0].handler
                    assert "OptionMark" not in book_handler.market_stats.events  # nothing of it on /public
                    assert mark_handler.market_stats.events["OptionMark"] >= 3 * len(symbols)
                    assert mark_handler.errors == 0 and all(b.state is BookState.LIVE for b in mark_handler.books.values())
                    holding = {c.path: c.state.get("marks", set()) for c in sim.connections}
                    assert holding == {"/public/stream": set(), "/market/stream": {"BTCUSDT", "ETHUSDT"}}, holding
                    cluster.pause()
                    stamp = await tick_with_fresh_marks(cluster, {sim.underlying(s) for s in symbols})

                    def settled() -> bool:
                        return all(book_handler.books[sim.native(s)].depth(EVERY_LEVEL) == sim.expected_top(s, EVERY_LEVEL)
                                   for s in symbols)

                    def fresh() -> dict[str, OptionMark]:
                        return {m.symbol: m for m in marks if m.ts >= stamp}

                    await wait_for(lambda: settled() and len(fresh()) == len(symbols), 20,
                                   "the client's option books equal to the venue's, and the paused venue's marks")
                    # the venue is still: the marks of its last tick and the client's books are of one state
                    for symbol, mark in fresh().items():
                        bid, ask = book_handler.books[sim.native(symbol)].best_bid(), book_handler.books[sim.native(symbol)].best_ask()
                        assert bid is not None and ask is not None and bid[0] <= mark.mark <= ask[0], (mark, bid, ask)
                finally:
                    await books.stop()
                    await mark_feed.stop()
        for mark in marks:
            right = parse_option(mark.symbol).right
            assert mark.iv is not None and 0.05 < mark.iv < 5, mark
            if mark.bid_iv is not None and mark.ask_iv is not None:  # the venue's touch, in vol
                assert mark.bid_iv <= mark.iv <= mark.ask_iv, mark
            assert mark.delta is not None and (0 < mark.delta < 1 if right is OptionRight.CALL else -1 < mark.delta < 0), mark
            assert mark.underlying is not None and mark.gamma is not None and mark.gamma > 0, mark
            assert mark.vega is not None and mark.vega > 0 and mark.theta is not None and mark.theta < 0, mark
        assert {m.symbol for m in marks} == set(symbols)

    run(body(), timeout=90)


async def tick_with_fresh_marks(cluster: SimCluster, underlyings: set[str]) -> float:
    """Tick the paused market by hand until one tick pushes the marks of every underlying; when
    (epoch seconds, to the venue's millisecond) that tick started."""
    sim = cluster.venues[FEED]
    assert isinstance(sim, BinanceOptionsSim)
    for _ in range(5):
        await wait_for(lambda: all(time.time() - sim.marks_sent.get(u, 0.0) >= MARK_EVERY for u in underlyings), 5,
                       "the venue's next marks due")
        stamp = int(time.time() * 1000) / 1000
        cluster.tick()
        if all(sim.marks_sent[u] >= stamp for u in underlyings):
            return stamp
    raise AssertionError(f"no tick of five moved an option of each of {sorted(underlyings)}")


def test_the_venue_serves_marks_on_market_only_and_books_on_public_only() -> None:
    """Asked on the wrong path, a stream is acknowledged and never pushed (Binance's routed endpoints)."""
    async def body() -> None:
        async with SimCluster([FEED], interval=0.05, levels=20) as cluster, aiohttp.ClientSession() as session:
            ws, _ = cluster.urls(FEED)
            native = cluster.venues[FEED].native(followed()[0]).lower()
            depth, trades, marks = f"{native}@depth@100ms", f"{native}@optionTrade", "btcusdt@optionMarkPrice"
            got = {path: await stream_names(session, f"{ws}{path}", [depth, trades, marks])
                   for path in ("/public/stream", "/market/stream")}
        assert depth in got["/public/stream"] and got["/public/stream"] <= {depth, trades}, got  # a quiet option prints none
        assert got["/market/stream"] == {marks}, got

    run(body(), timeout=60)


async def stream_names(session: aiohttp.ClientSession, url: str, params: list[str]) -> set[str]:
    """The streams one socket subscribed to ``params`` hears over 2.5 s of the venue's event time
    (marks come each second, depth each tick), each acknowledged."""
    heard: set[str] = set()
    first: int | None = None
    async with session.ws_connect(url) as ws:
        await ws.send_json({"method": "SUBSCRIBE", "params": params, "id": 1})
        assert await ws.receive_json(timeout=5) == {"result": None, "id": 1}
        for _ in range(10_000):
            msg = await ws.receive_json(timeout=5)
            data = msg["data"]
            stamp = (data[0] if isinstance(data, list) else data)["E"]
            first = stamp if first is None else first
            heard.add(msg["stream"])
            if stamp - first > 2500:
                return heard
    raise AssertionError(f"{url}: no 2.5 s of events within 10,000 frames")


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
