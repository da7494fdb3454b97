"""Bybit options (feed ``bybitoption``): instruments parsed from the simulator, books followed live
and equal to the venue's, OptionMarks from the ``tickers`` topic with the mark inside the touch and
sane IV and delta, an unmodified ccxt client loading, reading and trading option markets, and
limit, post-only and reduce-only option orders through crossbook's trading layer."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import aiohttp
import ccxt.async_support as ccxt_async
import orjson
import pytest

from crossbook.errors import InvalidOrder
from crossbook.feeds.handler import MarketEvent
from crossbook.feeds.manager import VenueFeed
from crossbook.model import BookState, Kind, OptionMark, OptionRight, OrderRequest, OrderStatus, OrderType, Side, Trade
from crossbook.sim.cluster import SimCluster
from crossbook.sim.options import listed_series
from crossbook.sim.serve import derivatives_clients, derivatives_config, fund
from crossbook.sim.venues.bybit.options import BybitOptionSim, native_option
from crossbook.symbols import option_symbol, parse_option
from crossbook.trading.account import VenueAccount
from crossbook.trading.journal import Journal
from crossbook.venues.bybit import SPEC
from crossbook.venues.bybit.options import BybitOption
from crossbook.venues.spec.capabilities import Product

from ..conftest import run, wait_for

FEED = "bybitoption"
DEPTH = 10
FIRST_EXPIRY = parse_option(BybitOptionSim.markets[0]).expiry
# a call and a put of each underlying: the first expiry, the strike below the money
FOLLOWED = [s for s in BybitOptionSim.markets
            if parse_option(s).expiry == FIRST_EXPIRY and parse_option(s).strike in (58000.0, 2900.0)]


def test_the_underlyings_trades_are_emitted_only_for_the_followed_options() -> None:
    trades: list[Trade] = []
    feed = BybitOption(on_trade=trades.append)
    feed.add_book("BTC-6JAN23-17500-C", "BTC-USD-20230106-17500-C")
    row = {"T": 1672304486865, "S": "Buy", "v": "0.1", "p": "120", "L": "PlusTick", "i": "1", "BT": False,
           "mP": "121.5", "iP": "16800", "mIv": "0.45", "iv": "0.44"}
    msg = {"topic": "publicTrade.BTC", "type": "snapshot", "ts": 1672304486868,
           "data": [{**row, "s": "BTC-6JAN23-17500-C"}, {**row, "s": "BTC-6JAN23-18000-P", "i": "2"}]}
    feed.on_frame(orjson.dumps(msg), 0.0)
    assert [(t.symbol, t.price, t.amount, t.side, t.trade_id) for t in trades] == [
        ("BTC-USD-20230106-17500-C", 120.0, 0.1, Side.BUY, "1")]


def test_the_feed_is_registered_and_counts_its_mark_topic() -> None:
    assert SPEC.feeds[FEED] is BybitOption
    assert FEED in SPEC.capabilities.products[Product.OPTIONS].feeds
    feed = BybitOption()
    (frame,) = feed.subscribe_messages(["BTC-6JAN23-17500-C"])
    assert orjson.loads(frame)["args"] == ["orderbook.25.BTC-6JAN23-17500-C", "tickers.BTC-6JAN23-17500-C", "publicTrade.BTC"]
    (frame,) = feed.subscribe_messages(["BTC-6JAN23-17500-P", "ETH-6JAN23-1200-C"])  # BTC's trades are held already
    assert orjson.loads(frame)["args"][-1:] == ["publicTrade.ETH"]
    assert feed.streams_per_symbol == 2  # the book, and the ticker that carries the mark


def test_the_documented_ticker_frame_is_an_option_mark() -> None:
    events: list[MarketEvent] = []
    feed = BybitOption(on_market=events.append)
    feed.on_frame(orjson.dumps({
        "id": "tickers.BTC-6JAN23-17500-C-2480334983-1672917511074", "topic": "tickers.BTC-6JAN23-17500-C",
        "ts": 1672917511074, "type": "snapshot", "data": {
            "symbol": "BTC-6JAN23-17500-C", "bidPrice": "0", "bidSize": "0", "bidIv": "0", "askPrice": "10",
            "askSize": "5.1", "askIv": "0.514", "lastPrice": "10", "highPrice24h": "25", "lowPrice24h": "5",
            "markPrice": "7.86976724", "indexPrice": "16823.73", "markPriceIv": "0.4896", "underlyingPrice": "16815.1",
            "openInterest": "49.85", "turnover24h": "446802.8473", "volume24h": "26.55", "totalVolume": "86",
            "totalTurnover": "1437431", "delta": "0.047831", "gamma": "0.00021453", "vega": "0.81351067",
            "theta": "-19.9115368", "predictedDeliveryPrice": "0", "change24h": "-0.33333334"}}), 0.0)
    (mark,) = events
    assert isinstance(mark, OptionMark)
    assert (mark.symbol, mark.ts, mark.mark, mark.underlying) == ("BTC-6JAN23-17500-C", 1672917511.074, 7.86976724, 16815.1)
    assert (mark.iv, mark.bid_iv, mark.ask_iv) == (0.4896, None, 0.514)  # a bid IV of "0": no bid
    assert mark.delta == 0.047831 and mark.theta == -19.9115368
    assert mark.vega is not None and abs(mark.vega - 81.351067) < 1e-9  # Bybit's vega is per 1 % of vol


def test_instruments_parse_from_the_simulator() -> None:
    async def body() -> None:
        async with SimCluster([FEED], interval=0.05, levels=50) as cluster:
            _, rest = cluster.urls(FEED)
            feed = VenueFeed(BybitOption, [], rest_url=rest)
            async with aiohttp.ClientSession() as session:
                symbols = await feed.load_instruments(session)
            instruments = dict(symbols.by_symbol)
            series = listed_series()
            assert set(instruments) == {option_symbol(s.base, "USD", s.expiry, s.strike, s.right) for s in series}
            for s in series:
                inst = instruments[option_symbol(s.base, "USD", s.expiry, s.strike, s.right)]
                assert inst.kind is Kind.OPTION and inst.venue == FEED and inst.native == native_option(inst.symbol)
                assert (inst.base, inst.quote, inst.settle) == (s.base, "USD", "USDC")
                assert (inst.expiry, inst.strike, inst.right, inst.contract_size) == (s.expiry, s.strike, s.right, 1.0)
                assert (inst.tick, inst.lot) == ((5.0, 0.01) if s.base == "BTC" else (0.1, 0.1))
                assert not inst.premium_in_base

    run(body())


def test_a_native_name_drops_the_day_s_leading_zero() -> None:
    assert native_option("BTC-USD-20230106-17500-C") == "BTC-6JAN23-17500-C"
    assert native_option("ETH-USD-20261225-2950.5-P") == "ETH-25DEC26-2950.5-P"


@dataclass
class Seen:
    """An OptionMark and the client's touch of that option's book when it arrived."""

    mark: OptionMark
    bid: float | None
    ask: float | None


def test_the_handler_follows_option_books_and_their_marks() -> None:
    async def body() -> None:
        async with SimCluster([FEED], interval=0.05, levels=50) as cluster:
            sim = cluster.venues[FEED]
            ws, rest = cluster.urls(FEED)
            seen: list[Seen] = []

            def on_market(event: MarketEvent) -> None:
                assert isinstance(event, OptionMark)
                book = feed.books[event.symbol]
                if book.state is BookState.LIVE:
                    bid, ask = book.best_bid(), book.best_ask()
                    seen.append(Seen(event, bid[0] if bid else None, ask[0] if ask else None))

            feed = VenueFeed(BybitOption, FOLLOWED, ws_url=ws, rest_url=rest, on_market=on_market)
            async with aiohttp.ClientSession() as session:
                await feed.start(session)
                try:
                    await wait_for(lambda: all(sum(s.mark.symbol == sym for s in seen) >= 3 for sym in FOLLOWED), 30,
                                   "three marks of every option followed")
                    cluster.pause()
                    try:
                        await wait_for(lambda: all(feed.books[s].depth(DEPTH) == sim.expected_top(s, DEPTH) for s in FOLLOWED),
                                       15, "the option books equal to the venue's")
                    finally:
                        cluster.resume()
                finally:
                    await feed.stop()
            assert [c.handler.errors for c in feed.connections] == [0]
            for s in seen:
                m, option = s.mark, parse_option(s.mark.symbol)
                assert s.bid is not None and s.ask is not None and s.bid <= m.mark <= s.ask, s
                assert m.iv is not None and 0.05 < m.iv < 5 and m.delta is not None and m.underlying is not None
                assert 0 < m.delta < 1 if option.right is OptionRight.CALL else -1 < m.delta < 0
                assert abs(m.underlying / sim.market.fair.fair(f"{option.base}-USD-PERP") - 1) < 0.02
                assert m.gamma is not None and m.gamma > 0 and m.vega is not None and m.vega > 0
                assert m.theta is not None and m.theta < 0

    run(body(), timeout=90)


async def funded(sim: Any) -> dict[str, Any]:
    """A ccxt config of a funded account on the option simulator (USDC: options settle in it)."""
    sim.engine.open_account("main", {"USDC": D(1_000_000)})
    config: dict[str, Any] = sim.ccxt_config(sim.issue_key("main"))
    config["enableRateLimit"] = False
    return config


def ccxt_symbol(client: Any, sim: Any, symbol: str) -> str:
    return str(client.markets_by_id[sim.native(symbol)][0]["symbol"])


def test_an_unmodified_ccxt_client_reads_and_trades_options() -> None:
    async def body() -> None:
        async with SimCluster([FEED], interval=0.05, levels=50) as cluster:
            sim = cluster.venues[FEED]
            client = ccxt_async.bybit(await funded(sim))
            try:
                markets = await client.load_markets()
                assert sum(1 for m in markets.values() if m["option"]) == len(sim.markets)
                symbol = FOLLOWED[0]
                name = ccxt_symbol(client, sim, symbol)
                market = markets[name]
                assert (market["settle"], market["strike"], market["contractSize"]) == ("USDC", parse_option(symbol).strike, 1)
                book = await client.fetch_order_book(name, 5)
                assert len(book["bids"]) == 5 and book["bids"][0][0] < book["asks"][0][0]
                ticker = await client.fetch_ticker(name)
                assert ticker["bid"] < float(ticker["info"]["markPrice"]) < ticker["ask"]
                below = book["bids"][-1][0]
                order = await client.create_order(name, "limit", "buy", 0.1, below)
                assert order["clientOrderId"]  # ccxt makes the orderLinkId Bybit requires for options
                assert (await client.fetch_order(order["id"], name))["status"] == "open"
                await client.cancel_order(order["id"], name)
                assert (await client.fetch_order(order["id"], name))["status"] == "canceled"
            finally:
                await client.close()

    run(body())


def test_limit_post_only_and_reduce_only_option_orders_through_the_trading_layer(tmp_path: Path) -> None:
    async def body() -> None:
        async with SimCluster([FEED], interval=0.05, levels=50) as cluster:
            sim = cluster.venues[FEED]
            client = ccxt_async.bybit(await funded(sim))
            try:
                with Journal(tmp_path / "j.db") as journal:
                    account = VenueAccount("bybit", client, journal)
                    await account.load()
                    symbol = FOLLOWED[0]
                    rules = account.market(symbol)
                    assert rules.derivative and rules.lot == D("0.01") and rules.tick == D(5)
                    cluster.pause()
                    ladder = sim.ladders[symbol]
                    bid, ask = D(ladder.price_str(max(ladder.bids))), D(ladder.price_str(min(ladder.asks)))

                    def order(side: Side, price: D, **kw: Any) -> OrderRequest:
                        return OrderRequest("bybit", symbol, side, OrderType.LIMIT, D("0.1"), price, **kw)

                    rested = await account.create_order(order(Side.BUY, bid - rules.tick * 2))
                    assert rested.status is OrderStatus.OPEN
                    maker = await account.create_order(order(Side.BUY, bid - rules.tick * 3, post_only=True))
                    assert maker.status is OrderStatus.OPEN
                    assert sim.engine.find("main", maker.venue_order_id or "").post_only
                    held = sim.engine.account("main").locked["USDC"]
                    assert held == (bid - rules.tick * 2 + bid - rules.tick * 3) * D("0.1")  # the premiums, in USDC
                    crossing = await account.create_order(order(Side.BUY, ask, post_only=True))
                    # Bybit acknowledges a post-only order that would take, then cancels it: read back
                    assert (await account.sync(crossing.client_order_id)).status is OrderStatus.CANCELED
                    with pytest.raises(InvalidOrder, match="Reduce-only"):
                        await account.create_order(order(Side.SELL, bid, reduce_only=True))
                    assert await account.positions([symbol]) == []
                    bought = await account.sync((await account.create_order(order(Side.BUY, ask))).client_order_id)
                    assert bought.status is OrderStatus.FILLED
                    (long,) = await account.positions([symbol])
                    assert long.contracts == D("0.1") and long.side in ("long", "both")
                    closed = await account.create_order(order(Side.SELL, bid, reduce_only=True))
                    assert (await account.sync(closed.client_order_id)).status is OrderStatus.FILLED
                    assert await account.positions([symbol]) == []
            finally:
                await client.close()

    run(body())


@pytest.mark.parametrize("query", ["category=option", "category=option&baseCoin=SOL"])
def test_the_instruments_of_no_listed_coin_are_empty_and_btc_is_the_default(query: str) -> None:
    async def body() -> None:
        async with SimCluster([FEED], interval=0.05, levels=50) as cluster:
            _, rest = cluster.urls(FEED)
            async with aiohttp.ClientSession() as session, session.get(f"{rest}/v5/market/instruments-info?{query}") as r:
                rows = (await r.json())["result"]["list"]
            want = sum(1 for s in BybitOptionSim.markets if parse_option(s).base == "BTC") if "SOL" not in query else 0
            assert len(rows) == want and all(row["settleCoin"] == "USDC" for row in rows)

    run(body())


def test_the_desk_s_derivatives_path_funds_and_trades_the_option_server(tmp_path: Path) -> None:
    """What a simulated desk does for a derivatives server: fund it (USDC, the settle coin) and
    trade it with its own client, under its own entry."""

    async def body() -> None:
        async with SimCluster([FEED], interval=0.05, levels=50) as cluster:
            sim = cluster.venues[FEED]
            (entry,) = derivatives_clients(cluster).values()
            assert (entry.venue, entry.ccxt_id, entry.entry) == ("bybit", "bybit", FEED)
            fund(sim)
            assert sim.engine.account("main").balances["USDC"] == D(1_000_000)
            client = ccxt_async.bybit(derivatives_config(sim))
            try:
                with Journal(tmp_path / "j.db") as journal:
                    account = VenueAccount("bybit", client, journal)
                    await account.load()
                    symbol = FOLLOWED[1]
                    ladder = sim.ladders[symbol]
                    ask = D(ladder.price_str(min(ladder.asks)))
                    buy = OrderRequest("bybit", symbol, Side.BUY, OrderType.LIMIT, D("0.1"), ask * 2)
                    bought = await account.sync((await account.create_order(buy)).client_order_id)
                    assert bought.status is OrderStatus.FILLED
                    (long,) = await account.positions([symbol])
                    assert long.symbol == symbol and long.contracts == D("0.1")
            finally:
                await client.close()

    run(body())
