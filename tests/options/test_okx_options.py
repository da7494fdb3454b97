"""OKX options on the simulator (feed ``okxoptions``): instruments parse into standard option
symbols, books follow the venue's and end equal to it, OptionMarks arrive with the mark inside
the touch and sane vols and deltas, an unmodified ccxt client loads, reads and trades an option,
and crossbook's trading layer sends limit, post-only and reduce-only option orders."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import aiohttp
import ccxt
import pytest

from crossbook.errors import VenueRefused
from crossbook.feeds.handler import MarketEvent
from crossbook.feeds.manager import VenueFeed
from crossbook.model import Kind, OptionMark, OptionRight, OrderRequest, OrderStatus, OrderType, Side
from crossbook.sim.cluster import SimCluster
from crossbook.sim.options import listed_series
from crossbook.sim.venues.okx.options import SERIES
from crossbook.symbols import parse_option
from crossbook.trading.account import VenueAccount
from crossbook.trading.journal import Journal
from crossbook.venues.okx.options import OkxOptions

from ..conftest import run, wait_for
from ..sim.trading_contract import TradingHarness

FEED = "okxoptions"
EVERY_LEVEL = 100


def followed() -> list[str]:
    """A call and a put of each underlying, at the money, nearest expiry."""
    out = []
    for base in ("BTC", "ETH"):
        series = [s for s in SERIES if s.startswith(f"{base}-")]
        first = min(parse_option(s).expiry for s in series)
        atm = sorted({parse_option(s).strike for s in series if parse_option(s).expiry == first})[2]
        out += [s for s in series if parse_option(s).expiry == first and parse_option(s).strike == atm]
    return out


def test_instruments_parse_as_standard_option_symbols() -> None:
    async def body() -> None:
        async with SimCluster([FEED], levels=20) as cluster:
            _, rest = cluster.urls(FEED)
            handler = OkxOptions(rest_url=rest)
            async with aiohttp.ClientSession() as session:
                bodies = [await (await session.get(url)).read() for url in handler.instruments_urls()]
            instruments = {i.symbol: i for i in handler.parse_instruments(bodies)}
            listed = listed_series()
            assert len(instruments) == len(listed) == len(cluster.venues[FEED].markets)
            for series in listed:
                symbol = f"{series.base}-USD-{series.expiry}-{series.strike:g}-{series.right.value}"
                inst = instruments[symbol]
                assert inst.native == f"{series.base}-USD-{series.expiry[2:]}-{series.strike:g}-{series.right.value}"
                assert inst.kind is Kind.OPTION and inst.premium_in_base and inst.settle == series.base
                assert (inst.strike, inst.right, inst.expiry) == (series.strike, series.right, series.expiry)
                assert inst.contract_size == (0.01 if series.base == "BTC" else 0.1)
                assert (inst.tick, inst.lot) == (0.0005, 1.0)

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

            feed = VenueFeed(OkxOptions, symbols, ws_url=ws, rest_url=rest, on_market=on_market)
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
            assert bid <= mark.mark <= ask, (mark, bid, ask)
            assert mark.iv is not None and 0.05 < mark.iv < 5, mark
            assert mark.delta is not None and (0 < mark.delta < 1 if right is OptionRight.CALL else -1 < mark.delta < 0), mark
            assert mark.underlying is not None and mark.gamma is not None and mark.gamma > 0, mark
        assert {m.symbol for m, _, _ in marks} == set(symbols)

    run(body(), timeout=90)


def test_an_unmodified_ccxt_client_loads_reads_and_trades_an_option() -> None:
    async def body() -> None:
        async with TradingHarness(FEED) as h:
            client = h.client()
            markets = await client.load_markets()
            options = [m for m in markets.values() if m["option"]]
            assert len(options) == len(SERIES)
            symbol = h.ccxt_symbol(client)
            market = markets[symbol]
            assert (market["settle"], market["contractSize"], market["optionType"]) == ("BTC", 0.01, "call")
            book = await client.fetch_order_book(symbol)
            ticker = await client.fetch_ticker(symbol)
            bid, ask = book["bids"][0][0], book["asks"][0][0]
            assert 0 < bid < ask < 1 and ticker["bid"] == bid and ticker["ask"] == ask
            resting = await client.create_order(symbol, "limit", "buy", 2, bid)
            assert (await client.fetch_order(resting["id"], symbol))["status"] == "open"
            await client.cancel_order(resting["id"], symbol)
            assert (await client.fetch_order(resting["id"], symbol))["status"] == "canceled"

            btc = h.sim.engine.account("main").available("BTC")
            taken = await client.create_order(symbol, "limit", "buy", 3, ask + 0.005)
            filled = await client.fetch_order(taken["id"], symbol)
            assert filled["status"] == "closed" and filled["filled"] == 3
            premium = D(repr(filled["average"])) * 3 * D("0.01")  # price x contracts x ctVal, in BTC
            spent = btc - h.sim.engine.account("main").available("BTC")
            assert premium <= spent <= premium * D("1.01"), (premium, spent)  # the premium, and the fee on it
            (position,) = await client.fetch_positions([symbol])
            assert position["contracts"] == 3 and position["side"] == "long"
            with pytest.raises(ccxt.BadRequest, match="ordType"):
                await client.create_order(symbol, "market", "sell", 1)  # OKX has no market orders on options

    run(body())


def test_limit_post_only_and_reduce_only_option_orders_through_the_trading_layer(tmp_path: Path) -> None:
    async def body() -> None:
        async with TradingHarness(FEED) as h:
            with Journal(tmp_path / "journal.db") as journal:
                await trade_through_the_account(h, VenueAccount("okx", h.client(), journal))

    run(body())


async def trade_through_the_account(h: TradingHarness, account: VenueAccount) -> None:
    """A resting limit, a resting post-only, a crossing post-only (killed), a reduce-only with no
    position (refused) and one closing a position, on the first BTC call listed."""
    await account.load()
    symbol = h.symbol
    rules = account.market(symbol)
    assert rules.contract_size == D("0.01")
    bid, ask = h.touch()
    limit = await account.create_order(OrderRequest("okx", symbol, Side.BUY, OrderType.LIMIT, D(2), bid))
    assert limit.status is OrderStatus.OPEN
    engine_order = h.sim.engine.orders[str(limit.venue_order_id)]
    assert engine_order.symbol == symbol and engine_order.amount * h.sim.engine.markets[symbol].lot == D("0.02")

    resting = await account.create_order(OrderRequest("okx", symbol, Side.SELL, OrderType.LIMIT, D(1), ask + D("0.01"),
                                                      post_only=True))
    assert resting.status is OrderStatus.OPEN
    crossing = await account.create_order(OrderRequest("okx", symbol, Side.BUY, OrderType.LIMIT, D(1), ask + D("0.005"),
                                                       post_only=True))
    killed = await account.sync(crossing.client_order_id)  # OKX accepts a post-only that would take and cancels it
    assert killed.status is OrderStatus.CANCELED and killed.filled == 0, killed
    assert (await account.sync(limit.client_order_id)).status is OrderStatus.OPEN

    with pytest.raises(VenueRefused, match="51169"):  # no position to reduce
        await account.create_order(OrderRequest("okx", symbol, Side.SELL, OrderType.LIMIT, D(1), bid, reduce_only=True))
    bought = await account.create_order(OrderRequest("okx", symbol, Side.BUY, OrderType.LIMIT, D(1), ask + D("0.005")))
    assert (await account.sync(bought.client_order_id)).filled == 1
    (long,) = await account.positions([symbol])
    assert long.contracts == 1 and long.size == D("0.01")
    closing = await account.create_order(OrderRequest("okx", symbol, Side.SELL, OrderType.LIMIT, D(1), max(bid - D("0.005"), D("0.0005")),
                                                      reduce_only=True))
    assert (await account.sync(closing.client_order_id)).filled == 1
    assert await account.positions([symbol]) == []
