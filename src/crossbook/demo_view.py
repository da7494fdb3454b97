"""What ``crossbook demo`` puts on the terminal: progress from the first second (each venue as it
starts, syncs and goes live; the local chain as it deploys), then compact live panels that fit a
100x30 terminal and grow with it. Light on purpose (rich and crossbook's value types only): the
first frame is painted before the trading stack is imported."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rich import box
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.layout import Layout
from rich.live import Live
from rich.panel import Panel
from rich.segment import Segment
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from .book.consolidated import QuoteStatus
from .model import BookState, Side
from .precision import Precision, typical_precision

if TYPE_CHECKING:
    from .book.l2 import L2Book
    from .desk.pools import SimDex
    from .market.data import MarketData
    from .sim.cluster import SimCluster

SYMBOL = "BTC-USDT"
SAMPLE = (Side.BUY, 12.0)
QUOTE = SYMBOL.split("-")[1]  # the currency the demo's prices and fees are in
LIVE_COLOURS = {QuoteStatus.LIVE: "green", QuoteStatus.PARTIAL: "green", QuoteStatus.CROSSED: "bold yellow",
                QuoteStatus.SYNCING: "yellow", QuoteStatus.RESYNCING: "yellow", QuoteStatus.STALE: "yellow",
                QuoteStatus.DOWN: "red"}


@dataclass
class DemoState:
    """What the demo has done so far: the live view shows it, --json prints it."""

    step: str = "starting the simulated venues"
    quote: dict[str, Any] | None = None
    route: dict[str, Any] | None = None
    arbitrage: list[dict[str, Any]] = field(default_factory=list)
    api: dict[str, dict[str, str]] = field(default_factory=dict)
    dex: dict[str, Any] = field(default_factory=dict)
    dashboard: str | None = None  # the web dashboard's URL, its token in the fragment: on screen, never in --json


@dataclass
class Scene:
    """Everything the screen shows, filled in as the demo gets going: before the trading stack is
    imported only ``started`` is set; the simulators, books and chain appear as they are made."""

    venues: tuple[str, ...]
    started: float = field(default_factory=time.monotonic)
    state: DemoState = field(default_factory=DemoState)
    loaded_at: float | None = None  # seconds from start to the trading stack (ccxt, the simulators) imported
    cluster: SimCluster | None = None
    market: MarketData | None = None
    extra: list[MarketData] = field(default_factory=list)  # venues shown on a market of their own
    chain: SimDex | None = None
    chain_wanted: bool | None = None  # None: not known yet
    live: bool = False  # the desk is up: the live panels replace the progress
    show_endpoints: bool = False
    live_at: dict[str, float] = field(default_factory=dict)  # venue -> seconds from start to its first live book
    spinners: dict[str, Spinner] = field(default_factory=dict)  # one a row, so each keeps turning
    _precision: Precision | None = None

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def mark_loaded(self) -> None:
        self.loaded_at = self.elapsed()

    def spinner(self, row: str) -> Spinner:
        return self.spinners.setdefault(row, Spinner("dots", style="cyan"))

    def markets(self) -> list[MarketData]:
        return [m for m in (self.market, *self.extra) if m is not None]

    def books_of(self, venue: str) -> list[tuple[str, L2Book]]:
        """(symbol, book) of the venue the demo shows: SYMBOL, or its own market."""
        found = []
        for md in self.markets():
            for symbol, consolidated in md.consolidated.items():
                if (md is self.market and symbol != SYMBOL) or venue not in consolidated.books:
                    continue
                found.append((symbol, consolidated.books[venue]))
        return found

    def precision(self) -> Precision:
        """BTC-USDT's tick and lot precision as most venues have it, from their instruments."""
        if self._precision is not None:
            return self._precision
        feeds = self.market.feeds if self.market is not None else []
        instruments = [f.symbol_map.by_symbol.get(SYMBOL) for f in feeds if f.symbol_map is not None]
        found = typical_precision(instruments)
        if self.live and any(i is not None for i in instruments):
            self._precision = found  # the instruments do not change while the demo runs
        return found


# ---- the screen ------------------------------------------------------------------------------------


class Screen:
    """The whole frame at the console's size (one row short of it, so a live redraw never scrolls)."""

    def __init__(self, scene: Scene) -> None:
        self.scene = scene
        self.frozen = False  # once the demo stops, the last frame it painted stays as it was
        self._last: list[list[Segment]] = []

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if not (self.frozen and self._last):
            self._last = self._render(console, options)
        for n, line in enumerate(self._last):
            if n:
                yield Segment.line()
            yield from line

    def _render(self, console: Console, options: ConsoleOptions) -> list[list[Segment]]:
        width = options.max_width
        height = max(12, (options.height or console.height) - 1)
        frame = progress_view(self.scene) if not self.scene.live else live_view(self.scene, width, height)
        return console.render_lines(frame, options.update(width=width, height=height), pad=False, new_lines=False)[:height]


class Painter:
    """Paints the scene from the first moment: a thread refreshes the screen while the trading
    stack imports (nothing else runs then); once the event loop runs, ``handover`` stops the
    thread and the loop paints (``paint``), so a frame never reads the books mid-update."""

    def __init__(self, scene: Scene, console: Console | None = None) -> None:
        self.scene = scene
        self.screen = Screen(scene)
        self.live = Live(self.screen, console=console, auto_refresh=False, transient=False, redirect_stderr=False)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._tick, name="demo-screen", daemon=True)

    def start(self) -> Painter:
        self.live.start(refresh=True)
        self._thread.start()
        return self

    def _tick(self) -> None:
        while not self._stop.wait(0.25):
            self.live.refresh()

    def handover(self) -> None:
        self._stop.set()
        self._thread.join()

    def paint(self) -> None:
        self.live.refresh()

    def stop(self) -> None:
        """The venues have stopped by now: the screen keeps the last frame painted while they ran."""
        self.handover()
        self.screen.frozen = True
        self.live.stop()


def header(scene: Scene) -> Text:
    line = Text.assemble(("crossbook demo", "bold"), "  ", (scene.state.step, "cyan"))
    line.append(f"   {scene.elapsed():.0f} s  (Ctrl-C stops)", style="dim")
    if scene.state.dashboard is not None:
        line.append("\nweb dashboard ", style="dim")
        line.append(scene.state.dashboard, style="underline")
    line.no_wrap, line.overflow = True, "ellipsis"
    return line


# ---- progress ------------------------------------------------------------------------------------


def progress_view(scene: Scene) -> Group:
    table = Table(box=None, padding=(0, 1), show_header=False, pad_edge=False)
    table.add_column(width=1)
    table.add_column(no_wrap=True)
    table.add_column(no_wrap=True)
    loaded = scene.loaded_at is not None
    table.add_row(*_step(scene, loaded, "crossbook", "loading the trading stack (ccxt, the simulators)",
                         f"loaded in {scene.loaded_at:.1f} s" if loaded else ""))
    for venue in scene.venues:
        table.add_row(*venue_progress(scene, venue))
    table.add_row(*chain_progress(scene))
    return Group(header(scene), Text(""), table)


def _step(scene: Scene, done: bool, name: str, doing: str, finished: str) -> tuple[RenderableType, str, Text]:
    if done:
        return Text("✓", style="green"), name, Text(finished, style="green")
    return scene.spinner(name), name, Text(doing, style="yellow")


def venue_progress(scene: Scene, venue: str) -> tuple[RenderableType, str, Text]:
    down = next((md.down[venue] for md in scene.markets() if venue in md.down), None)
    if down is not None:
        return Text("✗", style="red"), venue, Text(f"down: {down}", style="red", overflow="ellipsis")
    books = scene.books_of(venue)
    now = time.time()
    if books and all(book.status(now) is BookState.LIVE for _symbol, book in books):
        scene.live_at.setdefault(venue, scene.elapsed())
        return _step(scene, True, venue, "", f"live at {scene.live_at[venue]:.1f} s ({', '.join(s for s, _ in books)})")
    sims = [s for f, s in (scene.cluster.venues.items() if scene.cluster else []) if _of_venue(f, venue)]
    if scene.cluster is None:
        doing = "waiting for the trading stack"
    elif not sims or any(not s.rest_url for s in sims):
        doing = "starting its simulator"
    elif not books:
        doing = "loading its markets, subscribing"
    else:
        doing = "syncing its book (snapshot and diffs)"
    return _step(scene, False, venue, doing, "")


def _of_venue(feed: str, venue: str) -> bool:
    return feed == venue or feed.startswith(venue)


def chain_progress(scene: Scene) -> tuple[RenderableType, str, Text]:
    name = "local chain"
    if scene.chain_wanted is False:
        return Text("–", style="dim"), name, Text("off: node and `npm ci` are needed for the DEX venues", style="dim")
    dex = scene.chain
    if dex is not None and dex.books:
        return _step(scene, True, name, "", f"DEX venues live: {', '.join(_short(v) for v in dex.books)}")
    if dex is None:
        doing = "waiting for the trading stack"
    elif dex.anvil is None:
        doing = "starting anvil"
    elif dex.chain is None:
        doing = "deploying Uniswap V3 and 1inch (first run compiles them)"
    else:
        doing = "seeding the pools with liquidity"
    return _step(scene, False, name, doing, "")


# ---- live panels ---------------------------------------------------------------------------------


def live_view(scene: Scene, width: int, height: int) -> Layout:
    """header | venues, top of book and quote | route and arbitrage; the bottom row gets what the
    venues leave, and the ladder as many levels as its column has rows."""
    venue_rows = len(venue_lines(scene))
    head = 1 if scene.state.dashboard is None else 2
    top = min(venue_rows + 4, max(8, height - head - 9))
    layout = Layout()
    layout.split_column(Layout(header(scene), name="header", size=head), Layout(name="top", size=top), Layout(name="bottom"))
    side_width = max(40, min(48, width - 60))
    quote_panel = quote_view(scene)
    layout["top"].split_row(Layout(venues_panel(scene), name="venues"), Layout(name="side", size=side_width))
    layout["side"].split_column(Layout(book_panel(scene, top - 2 - 5), name="book"), Layout(quote_panel, name="quote", size=5))
    work = Layout(name="work")
    bottom = height - head - top
    work.split_row(Layout(route_panel(scene), name="route", size=max(43, width * 2 // 5 - 2)),
                   Layout(arbitrage_panel(scene, bottom - 2), name="arb"))
    api_rows = len(scene.state.api) + 2
    if scene.show_endpoints and bottom - api_rows >= 8:
        layout["bottom"].split_column(work, Layout(endpoints_panel(scene), name="api", size=api_rows))
    else:
        layout["bottom"].split_column(work)
    return layout


def _panel(body: RenderableType, title: str) -> Panel:
    return Panel(body, title=title, title_align="left", box=box.ROUNDED, padding=(0, 1))


def venue_lines(scene: Scene) -> list[tuple[str, str, L2Book | None]]:
    """(venue, market, book) for every venue on screen, the pools after the exchanges."""
    rows: list[tuple[str, str, L2Book | None]] = []
    for md in scene.markets():
        for symbol, consolidated in md.consolidated.items():
            if md is scene.market and symbol != SYMBOL:
                continue  # the USD and USDC markets and the conversion books show in the quote
            rows += [(venue, symbol, book) for venue, book in consolidated.books.items()]
        rows += [(venue, "-", None) for venue in md.down]
    order = {venue: n for n, venue in enumerate(scene.venues)}
    return sorted(rows, key=lambda row: (order.get(row[0], len(order)), row[0]))


def venues_panel(scene: Scene) -> Panel:
    px = scene.precision()
    side, amount = SAMPLE
    quote = scene.market.quote(SYMBOL, side, amount) if scene.market is not None else {"venues": {}}
    quotes: dict[str, Any] = quote["venues"]  # type: ignore[assignment]
    table = Table(box=None, padding=(0, 1, 0, 0), pad_edge=False, expand=True)
    for col, justify in (("venue", "left"), ("book", "left"), ("bid", "right"), ("ask", "right"), ("all-in", "right")):
        table.add_column(col, justify=justify, no_wrap=True, min_width=9 if col == "book" else None)  # type: ignore[arg-type]
    now = time.time()
    others: list[str] = []
    for venue, symbol, book in venue_lines(scene):
        if book is None:
            table.add_row(_short(venue), Text("down", style="red"), "-", "-", "-")
            continue
        status = _book_status(scene, venue, symbol, now)
        bid, ask = book.best_bid(), book.best_ask()
        name = _short(venue) if symbol == SYMBOL else f"{venue}*"
        if symbol != SYMBOL:
            others.append(f"{venue} {symbol}")
        all_in = _all_in_cell(quotes.get(venue, {}), px) if symbol == SYMBOL else Text("-")
        table.add_row(name, Text(status.value, style=LIVE_COLOURS[status]), px.fmt_price(bid[0] if bid else None),
                      px.fmt_price(ask[0] if ask else None), all_in)
    title = f"venues · {SYMBOL} · all-in: {side.value} {amount:g}" + (f" · *{', '.join(others)}" if others else "")
    return _panel(table, title)


def _book_status(scene: Scene, venue: str, symbol: str, now: float) -> QuoteStatus:
    """A venue's book as the quote reads it: its state, or crossed (its own bid at or above its ask)."""
    for md in scene.markets():
        consolidated = md.consolidated.get(symbol)
        if consolidated is not None and venue in consolidated.books:
            return consolidated.venue_status(venue, now)
    return QuoteStatus.DOWN


def _all_in_cell(entry: dict[str, Any], px: Precision) -> Text:
    """The venue's all-in price for the sample; a venue too shallow for it shows what it can fill,
    never its partial VWAP as a price for the whole amount."""
    if entry.get("status") == QuoteStatus.PARTIAL.value:
        return Text(f"{px.fmt_amount(entry.get('filled'))} max", style="yellow")
    return Text(px.fmt_price(entry.get("all_in_price")))


def book_panel(scene: Scene, rows: int) -> Panel:
    """The consolidated top of book: asks above (red), bids below (green), each side labelled; when
    one venue's bid is at or above another's ask the title says crossed and the crossing
    levels' prices are shown reversed (an opportunity across venues, not an error)."""
    px = scene.precision()
    depth = max(1, rows // 2)
    table = Table(box=None, padding=(0, 1, 0, 0), pad_edge=False, show_header=False, expand=True)
    for justify in ("left", "right", "right", "left"):
        table.add_column(justify=justify, no_wrap=True)  # type: ignore[arg-type]
    title = Text(f"top of book · {SYMBOL} · size BTC")
    if scene.market is not None:
        book = scene.market.consolidated[SYMBOL]
        cross = book.cross()
        for level in reversed(book.ladder(Side.SELL, depth)):
            crossing = cross is not None and level.price <= cross.bid.price
            table.add_row(Text("ask", style="red"),
                          Text(px.fmt_price(level.price), style="bold red reverse" if crossing else "red"),
                          px.fmt_amount(level.size), _short(level.venue))
        for level in book.ladder(Side.BUY, depth):
            crossing = cross is not None and level.price >= cross.ask.price
            table.add_row(Text("bid", style="green"),
                          Text(px.fmt_price(level.price), style="bold green reverse" if crossing else "green"),
                          px.fmt_amount(level.size), _short(level.venue))
        if cross is not None:  # the symbol is in the venues panel's title: room for the mark
            title = Text.assemble("book · size BTC · ", (f"crossed {cross.bps:+.1f} bps", "bold yellow"))
    return Panel(table, title=title, title_align="left", box=box.ROUNDED, padding=(0, 1))


def _short(venue: str) -> str:
    """A DEX venue's name fits the ladder's column: uniswap_v3_3000 -> univ3 0.3%, oneinch -> 1inch."""
    if venue.startswith("uniswap_v3_"):
        return f"univ3 {int(venue.rsplit('_', 1)[1]) / 10_000:g}%"
    if venue.startswith("oneinch"):
        return venue.replace("oneinch", "1inch", 1)
    return venue


def quote_view(scene: Scene) -> Panel:
    """The sample's best all-in price among the venues that fill all of it; the venues too shallow
    for it, with what they can fill."""
    px = scene.precision()
    side, amount = SAMPLE
    quote = scene.state.quote
    best = quote.get("best") if quote else None
    if isinstance(best, dict):
        where = _short(best["venue"]) + (f" ({best['symbol']})" if best.get("symbol") else "")
        lines = [Text(f"{side.value} {px.fmt_amount(amount)} BTC: best all-in", style="bold"),
                 Text.assemble((px.fmt_money(best["all_in_price"], QUOTE), "bold green"), f" on {where}")]
    elif quote is not None:
        lines = [Text(f"{side.value} {px.fmt_amount(amount)} BTC", style="bold"),
                 Text("no live venue can fill all of it", style="yellow")]
    else:
        lines = [Text(f"{side.value} {px.fmt_amount(amount)} BTC", style="bold"), Text("waiting for the books", style="dim")]
    partial = partial_venues(quote)
    if partial:
        lines.append(Text("partial: " + ", ".join(f"{_short(v)} {px.fmt_amount(filled)} BTC" for v, filled in partial),
                          style="yellow", overflow="ellipsis", no_wrap=True))
    return _panel(Group(*lines), "quote")


def partial_venues(quote: dict[str, Any] | None) -> list[tuple[str, float]]:
    """(venue, base it can fill) for every venue of a quote too shallow for the whole amount."""
    venues: dict[str, Any] = (quote or {}).get("venues") or {}
    return [(key, entry["filled"]) for key, entry in venues.items() if entry.get("status") == QuoteStatus.PARTIAL.value]


def route_panel(scene: Scene) -> Panel:
    report = scene.state.route
    if report is None:
        return _panel(Text("the sample order is routed once the books are live", style="dim"), "route")
    px = scene.precision()
    saving = report.get("savings_bps")
    outcome = Text(report["outcome"], style="bold green" if report["outcome"] == "filled" else "bold yellow")
    summary = [
        Text.assemble(outcome, f" {px.fmt_amount(report['filled'])} BTC · ",
                      ("saving -" if saving is None else f"saving {saving:.2f} bps", "green")),
        Text.assemble("all-in ", (px.fmt_money(report["all_in_avg_price"], QUOTE), "bold")),
        Text(f"{_short(report['best_single_venue'] or 'no venue')} alone "
             f"{px.fmt_money(report['best_single_venue_all_in_price'], QUOTE)}"),
    ]
    table = Table(box=None, padding=(0, 1, 0, 0), pad_edge=False, expand=True)
    for col in ("venue", "BTC", f"avg {QUOTE}", f"fee {QUOTE}"):
        table.add_column(col, justify="left" if col == "venue" else "right", no_wrap=True)
    missed: list[str] = []
    for venue, filled, avg, fee in per_venue(report["children"]):
        if filled:
            table.add_row(_short(venue), px.fmt_amount(filled), px.fmt_price(avg), px.fmt_price(fee))
        else:
            missed.append(_short(venue))
    notes = [Text(f"re-routed: {', '.join(missed)} filled nothing at the planned price", style="dim")] if missed else []
    return _panel(Group(*summary, table, *notes), f"route · {report['side']} {report['amount']:g} {SYMBOL}")


def per_venue(children: Iterable[dict[str, Any]]) -> Iterator[tuple[str, float, float | None, float]]:
    """The child orders summed per venue (re-routed rounds join their venue): filled, VWAP, fees."""
    sums: dict[str, list[float]] = {}
    for child in children:
        filled, avg = child["filled"] or 0.0, child["avg_price"] or 0.0
        total = sums.setdefault(child["venue"], [0.0, 0.0, 0.0])
        total[0] += filled
        total[1] += filled * avg
        total[2] += child["fee"] or 0.0
    for venue, (filled, cost, fee) in sorted(sums.items(), key=lambda kv: -kv[1][0]):
        yield venue, filled, (cost / filled if filled else None), fee


def arbitrage_panel(scene: Scene, rows: int) -> Panel:
    """The opportunities, open ones first then the latest: two lines each (three when traded),
    as many whole entries as the panel has rows."""
    entries = scene.state.arbitrage
    if not entries:
        waiting = "after the route a venue is dislocated: the opportunities show here as they open and close"
        return _panel(Text(waiting, style="dim"), "arbitrage")
    px = scene.precision()
    lines: list[Text] = []
    ranked = sorted(entries, key=lambda e: (e["closed_at"] is not None, "executed" not in e, -e["opened_at"]))
    for e in ranked:
        entry = opportunity_lines(e, px)
        if len(lines) + len(entry) > rows:
            break
        lines += entry
    opened = sum(e["closed_at"] is None for e in entries)
    return _panel(Group(*lines), f"arbitrage · {len(entries)} seen, {opened} open · net of fees")


def opportunity_lines(e: dict[str, Any], px: Precision) -> list[Text]:
    legs = {leg["side"]: leg for leg in e["legs"]}
    buy, sell = legs.get("buy"), legs.get("sell")
    state = Text("open".ljust(12), style="bold green") if e["closed_at"] is None else Text(
        f"closed {e['closed_at'] - e['opened_at']:.1f}s".ljust(12), style="dim")
    trade = (f"buy {_short(buy['venue'])} {px.fmt_price(buy['price'])} → {_short(sell['venue'])} "
             f"{px.fmt_price(sell['price'])}") if buy and sell else e["kind"]
    lines = [Text.assemble(state, trade),
             Text(f"{'':12}{px.fmt_amount(e['legs'][0]['amount'])} BTC, net {px.fmt_money(e['net_profit'], 'USDT')}, "
                  f"{e['net_bps']:.1f} bps")]
    done = e.get("executed")
    if done:
        lines.append(Text(f"{'':12}{traded_text(done, px)}", style="green" if done.get("bought") else "yellow"))
        unhedged = unhedged_line(done, px)
        if unhedged:
            lines.append(Text(f"{'':12}{unhedged}", style="yellow" if not done.get("remaining_unhedged") else "bold red"))
    return lines


def traded_text(done: dict[str, Any], px: Precision) -> str:
    """What trading the opportunity did: its fill and realised profit, or why nothing filled."""
    if "error" in done:
        return f"not traded: {done['error']}"
    if not done.get("bought") and not done.get("sold"):
        return (f"neither leg filled (buy: {done.get('buy_outcome', '-')}, sell: {done.get('sell_outcome', '-')}): "
                "the books moved past the limits")
    return f"traded {px.fmt_amount(done['bought'])} BTC, realised {px.fmt_money(done['realised_profit'], QUOTE)}"


def unhedged_line(done: dict[str, Any], px: Precision) -> str:
    """``unhedged X BTC, flattened on VENUE`` when one leg filled more than the other ('' when not)."""
    if not done.get("unhedged"):
        return ""
    line = f"unhedged {px.fmt_amount(abs(done['unhedged']))} BTC"
    flatten = done.get("flatten") or {}
    if flatten.get("filled"):
        line += f", flattened on {flatten['venue']}"
    left = done.get("remaining_unhedged") or 0.0
    return line + (f", {px.fmt_amount(abs(left))} BTC still open" if left else "")


def endpoints_panel(scene: Scene) -> Panel:
    table = Table(box=None, padding=(0, 1, 0, 0), pad_edge=False, show_header=False)
    for feed, api in scene.state.api.items():
        table.add_row(feed, api["rest"], api["ws"])
    return _panel(table, "the simulated venues' APIs (ccxt trades them: crossbook sim --print-ccxt-config)")


# ---- when it ends ---------------------------------------------------------------------------------


def dex_line(dex: dict[str, Any]) -> str:
    if not dex.get("available"):
        return f"DEX venues: off ({dex.get('reason', '')})"
    if "rpc_url" not in dex:
        return "DEX venues: starting the local chain"
    oneinch = " and 1inch (the simulated aggregation API over them)" if dex.get("oneinch") else ""
    return f"DEX venues: {len(dex['pools'])} Uniswap V3 pools{oneinch} on a local chain (chain id {dex['chain_id']})"


def closing_lines(result: dict[str, Any], px: Precision, show_endpoints: bool = False) -> list[str]:
    """What the demo prints when it ends: the sample order's best price, the route, the arbitrage
    (at BTC-USDT's precision ``px``); where the simulated venues' APIs were with ``show_endpoints``."""
    lines = []
    best = (result.get("quote") or {}).get("best")
    lines.append(f"best all-in price {px.fmt_money(best['all_in_price'], 'USDT')} on {best['venue']}"
                 if isinstance(best, dict) else "no venue could fill the sample order")
    route = result.get("route")
    if route is not None:
        venues = len({c["venue"] for c in route["children"] if c["filled"]})
        lines.append(f"routed {px.fmt_amount(route['filled'])} BTC across {venues} venues at all-in "
                     f"{px.fmt_money(route['all_in_avg_price'], 'USDT')} ({route['outcome']})")
    arbitrage = result.get("arbitrage") or []
    if arbitrage:
        best = max(arbitrage, key=lambda e: e["net_bps"])
        lines.append(f"{len(arbitrage)} arbitrage opportunities, the best net {px.fmt_money(best['net_profit'], 'USDT')} "
                     f"({best['net_bps']:.1f} bps)")
        for done in (e["executed"] for e in arbitrage if "executed" in e):
            lines.append(traded_text(done, px) + (f"; {unhedged_line(done, px)}" if done.get("unhedged") else ""))
    if show_endpoints:
        lines.append("the simulated venues' APIs (unmodified ccxt traded them):")
        lines += [f"  {feed}: REST {api['rest']}  WebSocket {api['ws']}" for feed, api in result.get("api", {}).items()]
    else:
        lines.append("the venues' API addresses: crossbook demo --show-endpoints (crossbook sim keeps them running)")
    lines.append(dex_line(result.get("dex", {})))
    return lines
