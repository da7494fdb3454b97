"""User orders on a simulated venue show on its public wire: the feed handler sees a resting order
in the book and a taker's fills on the tape."""

from __future__ import annotations

from decimal import Decimal as D

import aiohttp

from crossbook.feeds.manager import VenueFeed
from crossbook.model import OrderType, Side, Trade
from crossbook.sim.cluster import SimCluster
from crossbook.venues.binance import BinanceSpot

from ..conftest import run, wait_for


def test_resting_order_and_taker_fills_reach_the_feed() -> None:
    async def body() -> None:
        async with SimCluster(["binance"], interval=0.05, levels=60) as cluster:
            sim = cluster.venues["binance"]
            ws, rest = cluster.urls("binance")
            trades: list[Trade] = []
            feed = VenueFeed(BinanceSpot, ["BTC-USDT"], ws_url=ws, rest_url=rest, on_trade=trades.append)
            async with aiohttp.ClientSession() as session:
                await feed.start(session)
                try:
                    book = feed.books["BTC-USDT"]
                    await wait_for(lambda: book.best_ask() is not None and book.is_live(), 10, "live book")
                    cluster.pause()
                    sim.engine.open_account("alice", {"USDT": D(10_000_000), "BTC": D(100)})
                    ask = book.best_ask()
                    assert ask is not None
                    inside = D(str(ask[0])) - D("0.01")
                    sim.engine.submit("alice", "BTC-USDT", Side.SELL, OrderType.LIMIT, D("0.12345"), inside)
                    await wait_for(lambda: book.best_ask() == (float(inside), 0.12345), 5, "the user's ask at the top")
                    taker = sim.engine.submit("alice", "BTC-USDT", Side.BUY, OrderType.MARKET, D("0.2"))
                    assert taker.filled == 20_000
                    await wait_for(lambda: any(t.price == float(inside) and t.side is Side.BUY for t in trades), 5, "the fill on the tape")
                    await wait_for(lambda: book.best_ask() is not None and book.best_ask()[0] > float(inside), 5, "the ask consumed")
                    assert book.stats.gaps == 0
                finally:
                    await feed.stop()

    run(body())
