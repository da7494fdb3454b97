"""``crossbook demo``: the ten simulated venues, their books synced, the consolidated BTC-USDT book
live and the best all-in price of a sample order, with no keys and no network."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import aiohttp
from rich.columns import Columns
from rich.console import Group
from rich.live import Live
from rich.table import Table

from .book.l2 import L2Book
from .feeds.market import MarketData
from .model import BookState, Side
from .sim.cluster import SimCluster
from .sim.venues import sim_class
from .venues import VENUES, venue_feeds

SYMBOL = "BTC-USDT"
SAMPLE = (Side.BUY, 5.0)
LADDER_DEPTH = 6


def own_markets() -> dict[str, str]:
    """Venues whose simulator does not list SYMBOL (dYdX: USD perpetuals only) -> the market the
    demo shows for them instead. They join SYMBOL once quote currencies are converted at live
    rates (the routing issue)."""
    firsts = {v: sim_class(v).markets for v in VENUES}
    return {v: markets[0] for v, markets in firsts.items() if SYMBOL not in markets}


EXTRA = own_markets()


def all_feed_ids(venues: list[str]) -> list[str]:
    return [f for v in venues for f in venue_feeds(v)]


async def run_demo(seconds: float | None, seed: int, render: Callable[[Group], None] | None = None) -> dict[str, object]:
    """Run until ``seconds`` pass (forever if None); returns the final quote."""
    cluster = SimCluster(all_feed_ids(list(VENUES)), seed=seed)
    await cluster.start()
    main = MarketData([v for v in VENUES if v not in EXTRA], [SYMBOL], endpoints=cluster.urls)
    extra = [MarketData([v], [s], endpoints=cluster.urls) for v, s in EXTRA.items()]
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
    try:
        for md in (main, *extra):
            await md.start(session)
        deadline = None if seconds is None else time.monotonic() + seconds
        while deadline is None or time.monotonic() < deadline:
            if render is not None:
                render(view(main, extra))
            await asyncio.sleep(0.25)
        return main.quote(SYMBOL, *SAMPLE)
    finally:
        for md in (main, *extra):
            await md.stop()
        await session.close()
        await cluster.stop()


def live_demo(seconds: float | None, seed: int) -> dict[str, object]:
    with Live(refresh_per_second=4, transient=False) as live:
        return asyncio.run(run_demo(seconds, seed, live.update))


# ---- views ---------------------------------------------------------------------------------------


def _px(value: float | None) -> str:
    return "-" if value is None else f"{value:,.2f}"


def view(main: MarketData, extra: list[MarketData]) -> Group:
    return Group(venue_table(main, extra), Columns([ladder_table(main), quote_table(main)]))


def ladder_table(main: MarketData) -> Table:
    """The consolidated BTC-USDT book: the best levels across venues, asks above bids."""
    book = main.consolidated[SYMBOL]
    table = Table(title=f"consolidated {SYMBOL}")
    for col in ("venue", "price", "size"):
        table.add_column(col, justify="left" if col == "venue" else "right")
    for lv in reversed(book.ladder(Side.SELL, LADDER_DEPTH)):
        table.add_row(lv.venue, f"[red]{lv.price:,.2f}[/]", f"{lv.size:.5f}")
    for lv in book.ladder(Side.BUY, LADDER_DEPTH):
        table.add_row(lv.venue, f"[green]{lv.price:,.2f}[/]", f"{lv.size:.5f}")
    return table


def venue_table(main: MarketData, extra: list[MarketData]) -> Table:
    now = time.time()
    book = main.consolidated[SYMBOL]
    best_bid, best_ask = book.best_bid(now), book.best_ask(now)
    bid = f"{_px(best_bid.price)} @ {best_bid.venue}" if best_bid else "-"
    ask = f"{_px(best_ask.price)} @ {best_ask.venue}" if best_ask else "-"
    table = Table(title=f"{SYMBOL} across venues (simulated)  best bid {bid}   best ask {ask}")
    for col in ("venue", "market", "status", "bid", "ask", "levels", "updates", "resyncs", "latency p50"):
        table.add_column(col, justify="right" if col not in ("venue", "market", "status") else "left")
    for md in (main, *extra):
        for symbol, consolidated in md.consolidated.items():
            for venue, l2 in consolidated.books.items():
                table.add_row(*book_row(md, venue, symbol, l2, now))
        for venue, reason in md.down.items():
            table.add_row(venue, "-", "[red]down[/]", "-", "-", "-", "-", "-", reason[:40])
    return table


def book_row(md: MarketData, venue: str, symbol: str, l2: L2Book, now: float) -> list[str]:
    status = l2.status(now)
    colour = "green" if status is BookState.LIVE else "yellow"
    bid, ask = l2.best_bid(), l2.best_ask()
    feed = next((f for f in md.feeds if l2 in f.books.values()), None)
    pct = feed.latency() if feed else None
    return [
        venue,
        symbol,
        f"[{colour}]{status.value}[/]",
        _px(bid[0] if bid else None),
        _px(ask[0] if ask else None),
        f"{l2.levels(Side.BUY)}/{l2.levels(Side.SELL)}",
        str(l2.stats.updates),
        str(l2.stats.resyncs),
        f"{pct['p50'] * 1000:.1f} ms" if pct else "-",
    ]


def quote_table(main: MarketData) -> Table:
    side, amount = SAMPLE
    quote = main.quote(SYMBOL, side, amount)
    best = quote["best"]
    title = f"{side.value} {amount:g} {SYMBOL}: best all-in "
    title += f"{_px(best['all_in_price'])} on {best['venue']}" if isinstance(best, dict) else "not available yet"
    table = Table(title=title)
    for col in ("venue", "status", "VWAP", "taker fee", "all-in price"):
        table.add_column(col, justify="left" if col in ("venue", "status") else "right")
    venues = quote["venues"]
    assert isinstance(venues, dict)
    ranked = sorted(venues.items(), key=lambda kv: (kv[1]["all_in_price"] is None, kv[1]["all_in_price"] or 0.0))
    for venue, q in ranked:
        table.add_row(venue, q["status"], _px(q["vwap"]), f"{q['fee_rate'] * 100:.3f}%", _px(q["all_in_price"]))
    return table


def best_of(quote: dict[str, object]) -> str:
    best = quote.get("best")
    if not isinstance(best, dict):
        return "no venue could fill the sample order"
    return f"best all-in price {best['all_in_price']:,.2f} on {best['venue']}"

