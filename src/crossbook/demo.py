"""``crossbook demo``: the whole of crossbook on the ten simulated venues, with no keys and no
network, and (when node is there) the Uniswap V3 pools of a local chain beside them. The venues
start and their books sync; the consolidated BTC-USDT book runs live, pools included; a sample
order is quoted on every venue and routed with a split, with its execution report; then one venue
is dislocated and the arbitrage scanner finds the opportunity, which is traded through the router.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import aiohttp
from rich.columns import Columns
from rich.console import Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from .arbitrage.execute import trade_as_they_open
from .arbitrage.scanner import OpportunityLog, Scanner
from .book.l2 import L2Book
from .feeds.market import MarketData
from .model import BookState, Side
from .routing.conversion import DEFAULT_EQUIVALENTS, conversion_symbols, equivalent_symbols
from .routing.executor import RouteRequest
from .sim.chain import chain_available
from .sim.desk import SimDesk
from .sim.venues import sim_class
from .venues import VENUES

SYMBOL = "BTC-USDT"
SAMPLE = (Side.BUY, 12.0)
# a desk's balances are uneven: MEXC, the cheapest taker here, holds 300k USDT (about 5 BTC), every
# other venue 1,000,000; the route splits and still beats the best venue that could fill it alone
FUNDS = {"mexc": {"USDT": Decimal(300_000)}}
DISLOCATION = ("okx", -45.0)  # bps: OKX's prices drop by more than two taker fees
ARB_SIZE_CAP = 0.5  # base units traded per opportunity
LADDER_DEPTH = 6
LIVE_WITHIN = 15.0


def own_markets() -> dict[str, str]:
    """Venues whose simulator does not list SYMBOL (dYdX: USD perpetuals only) -> the market the
    demo shows for them instead: a perpetual is a different product, never routed with spot."""
    firsts = {v: sim_class(v).markets for v in VENUES}
    return {v: markets[0] for v, markets in firsts.items() if SYMBOL not in markets}


EXTRA = own_markets()


@dataclass
class DemoState:
    """What the demo has done so far: the live view shows it, --json prints it."""

    step: str = "starting the simulated venues"
    quote: dict[str, Any] | None = None
    route: dict[str, Any] | None = None
    arbitrage: list[dict[str, Any]] = field(default_factory=list)
    api: dict[str, dict[str, str]] = field(default_factory=dict)
    dex: dict[str, Any] = field(default_factory=dict)


async def run_demo(seconds: float | None, seed: int, render: Callable[[Group], None] | None = None) -> dict[str, Any]:
    """Run the demo's steps, then keep the view live until ``seconds`` pass (forever if None);
    returns the summary ``--json`` prints."""
    deadline = None if seconds is None else time.monotonic() + seconds
    state = DemoState()
    # the same market quoted in USD and USDC joins the quote at the live conversion rate
    symbols = [SYMBOL, *equivalent_symbols(SYMBOL, DEFAULT_EQUIVALENTS), *conversion_symbols(DEFAULT_EQUIVALENTS)]
    with_chain = chain_available()
    desk = SimDesk(list(VENUES), symbols, seed=seed, funds=FUNDS, dex=with_chain)
    state.dex = {"available": with_chain} if with_chain else {
        "available": False, "reason": "node and the project's npm packages (`npm ci`) are needed for the local chain; "
                                      "the demo carries on with the exchanges"}
    extra = [MarketData([v], [s], endpoints=desk.cluster.urls) for v, s in EXTRA.items()]
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
    painter: asyncio.Task[None] | None = None
    try:
        await desk.start(live_within=_left(deadline, LIVE_WITHIN))
        for md in extra:
            await md.start(session)
        state.api = {f: {"rest": s.rest_url, "ws": s.ws_url} for f, s in desk.cluster.venues.items()}
        if desk.dex is not None and desk.dex.chain is not None:
            chain = desk.dex.chain
            state.dex.update(rpc_url=chain.rpc_url, chain_id=chain.chain_id,
                             pools={v: a.pool for v, a in desk.dex.accounts.items()},
                             contracts=dict(chain.addresses))
        if render is not None:
            painter = asyncio.create_task(_paint(render, desk, extra, state))
        await _steps(desk, state, deadline)
        while deadline is None or time.monotonic() < deadline:
            await asyncio.sleep(0.25)
        return summary(desk, extra, state)
    finally:
        if painter is not None:
            painter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await painter
            if render is not None:
                render(view(desk.market, extra, state))
        for md in extra:
            await md.stop()
        await session.close()
        await desk.stop()


def _left(deadline: float | None, most: float) -> float:
    return most if deadline is None else max(0.0, min(most, deadline - time.monotonic()))


async def _paint(render: Callable[[Group], None], desk: SimDesk, extra: list[MarketData], state: DemoState) -> None:
    while True:
        render(view(desk.market, extra, state))
        await asyncio.sleep(0.25)


async def _steps(desk: SimDesk, state: DemoState, deadline: float | None) -> None:
    """Quote, route, dislocate and trade the arbitrage, each while time is left."""
    side, amount = SAMPLE
    state.step = f"quoting {side.value} {amount:g} {SYMBOL} on every venue"
    state.quote = desk.market.quote(SYMBOL, side, amount)
    if _left(deadline, 1.0) <= 0:
        return
    state.step = f"routing {side.value} {amount:g} {SYMBOL}"
    router = await desk.router(SYMBOL)
    report = await router.route(RouteRequest(SYMBOL, side, amount, deadline=_left(deadline, 5.0) or 0.5))
    state.route = report.as_json()
    if _left(deadline, 1.0) <= 0:
        return
    venue, bps = DISLOCATION
    state.step = f"dislocating {venue} by {bps:+g} bps; scanning for arbitrage"
    desk.dislocate(venue, bps, SYMBOL)
    scanner = Scanner(desk.market.consolidated, kinds=("cross_venue",), balances=await desk.balances())
    log = OpportunityLog()
    state.arbitrage = log.entries

    def traded(entry: dict[str, Any]) -> None:
        if "executed" in entry:
            state.step = f"traded the {venue} dislocation through the router"

    await trade_as_they_open(desk, scanner, _left(deadline, 6.0) or 0.5, log, max_size=ARB_SIZE_CAP, max_trades=1, on_entry=traded)
    state.step = f"{venue} back in line with the others"
    desk.dislocate(venue, 0.0, SYMBOL)
    await trade_as_they_open(desk, scanner, _left(deadline, 1.5) or 0.1, log, max_size=ARB_SIZE_CAP, max_trades=0)
    for event in scanner.close_all():
        log.record(event)
    state.step = "done: the books stay live"


def summary(desk: SimDesk, extra: list[MarketData], state: DemoState) -> dict[str, Any]:
    now = time.time()
    venues: dict[str, dict[str, str]] = {}
    for md, symbol in ((desk.market, SYMBOL), *((md, md.symbols[0]) for md in extra)):
        for venue, l2 in md.consolidated[symbol].books.items():
            venues[venue] = {"status": l2.status(now).value}
        for venue in md.down:
            venues[venue] = {"status": BookState.DOWN.value}
    return {"venues": venues, "quote": state.quote, "route": state.route, "arbitrage": state.arbitrage, "api": state.api,
            "dex": state.dex}


def live_demo(seconds: float | None, seed: int) -> dict[str, Any]:
    with Live(refresh_per_second=4, transient=False) as live:
        return asyncio.run(run_demo(seconds, seed, live.update))


# ---- views ---------------------------------------------------------------------------------------


def _px(value: float | None) -> str:
    return "-" if value is None else f"{value:,.2f}"


def view(main: MarketData, extra: list[MarketData], state: DemoState) -> Group:
    apis = "  ".join(f"{feed} {api['rest']}" for feed, api in state.api.items())
    parts: list[Any] = [Text(f"crossbook demo: {state.step}", style="bold"), Text(f"venue APIs: {apis}", style="dim"),
                        Text(dex_line(state.dex), style="dim"),
                        venue_table(main, extra),
                        Columns([ladder_table(main), quote_table(main)])]
    if state.route is not None:
        parts.append(route_table(state.route))
    if state.arbitrage:
        parts.append(arbitrage_table(state.arbitrage))
    return Group(*parts)


def dex_line(dex: dict[str, Any]) -> str:
    if not dex.get("available"):
        return f"DEX venues: off ({dex.get('reason', '')})"
    if "rpc_url" not in dex:
        return "DEX venues: starting the local chain"
    return f"DEX venues: Uniswap V3 pools {', '.join(dex['pools'])} on the local chain {dex['rpc_url']} (chain id {dex['chain_id']})"


def route_table(report: dict[str, Any]) -> Table:
    saving = report["savings_bps"]
    table = Table(title=(
        f"routed {report['side']} {report['amount']:g} {SYMBOL}: filled {report['filled']:.5f} at all-in "
        f"{_px(report['all_in_avg_price'])} vs best single venue ({report['best_single_venue']}) "
        f"{_px(report['best_single_venue_all_in_price'])}; saving {'-' if saving is None else f'{saving:.2f} bps'}"
    ))
    for col in ("round", "venue", "status", "planned", "filled", "avg price", "fee"):
        table.add_column(col, justify="left" if col in ("venue", "status") else "right")
    for c in report["children"]:
        table.add_row(str(c["round"]), c["venue"], c["status"], f"{c['planned_amount']:.5f}", f"{c['filled']:.5f}",
                      _px(c["avg_price"]), _px(c["fee"]))
    return table


def arbitrage_table(entries: list[dict[str, Any]]) -> Table:
    table = Table(title="arbitrage opportunities (net of taker fees)")
    for col in ("kind", "buy", "sell", "size", "net profit", "net bps", "open for", "traded", "realised"):
        table.add_column(col, justify="left" if col in ("kind", "buy", "sell") else "right")
    for e in entries:
        legs = {leg["side"]: leg for leg in e["legs"]}
        buy, sell = legs.get("buy"), legs.get("sell")
        lasted = "open" if e["closed_at"] is None else f"{e['closed_at'] - e['opened_at']:.2f} s"
        done = e.get("executed")
        table.add_row(
            e["kind"], f"{buy['venue']} @ {_px(buy['price'])}" if buy else "-", f"{sell['venue']} @ {_px(sell['price'])}" if sell else "-",
            f"{e['legs'][0]['amount']:.5f}", _px(e["net_profit"]), f"{e['net_bps']:.1f}", lasted,
            f"{done['bought']:.5f}/{done['sold']:.5f}" if done else "-", _px(done["realised_profit"]) if done else "-",
        )
    return table


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
            if md is main and symbol != SYMBOL:
                continue  # the USD and USDC markets and the conversion books show in the quote
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


def closing_lines(result: dict[str, Any]) -> list[str]:
    """What the demo prints when it ends: the sample order's best price, the route, the
    arbitrage, and where the simulated venues' APIs are."""
    lines = []
    quote = result.get("quote") or {}
    best = quote.get("best")
    lines.append(f"best all-in price {best['all_in_price']:,.2f} on {best['venue']}" if isinstance(best, dict)
                 else "no venue could fill the sample order")
    route = result.get("route")
    if route is not None:
        lines.append(f"routed {route['filled']:g} {SYMBOL} across {len({c['venue'] for c in route['children']})} venues, "
                     f"all-in {_px(route['all_in_avg_price'])}, outcome {route['outcome']}")
    for e in result.get("arbitrage", []):
        done = e.get("executed")
        lines.append(f"{e['kind']} opportunity: net {_px(e['net_profit'])} ({e['net_bps']:.1f} bps)"
                     + (f", traded {done['bought']:g}, realised {_px(done['realised_profit'])}" if done else ""))
    lines.append("the simulated venues served their exchanges' APIs here while the demo ran (unmodified ccxt traded "
                 "them); `crossbook sim --print-ccxt-config` keeps them running:")
    lines += [f"  {feed}: REST {api['rest']}  WebSocket {api['ws']}" for feed, api in result.get("api", {}).items()]
    lines.append(dex_line(result.get("dex", {})))
    return lines

