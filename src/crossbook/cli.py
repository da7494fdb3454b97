"""The ``crossbook`` command."""

from __future__ import annotations

import asyncio
import logging
import math
import sys
from pathlib import Path
from typing import Optional

import aiohttp
import orjson
import typer
from rich.console import Console
from rich.table import Table

from .errors import CrossbookError
from .feeds.capture import CaptureWriter
from .feeds.market import MarketData, production
from .feeds.replay import replay_files
from .model import Side
from .sim.cluster import SimCluster
from .venues import VENUES, feed_class, venue_feeds

app = typer.Typer(help="crossbook: every crypto venue behind one interface, at the best all-in price.",
                  no_args_is_help=True, add_completion=False)
out = Console()
err = Console(stderr=True)


@app.callback()
def main_options(verbose: bool = typer.Option(False, "--verbose", "-v", help="Log venue warnings to stderr.")) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.ERROR, format="%(levelname)s %(name)s: %(message)s")


def fail(message: str, code: int = 2) -> None:
    err.print(f"[red]error:[/] {message}")
    raise typer.Exit(code)


def parse_venues(text: str | None) -> list[str]:
    if not text:
        return list(VENUES)
    venues = [v.strip().lower() for v in text.split(",") if v.strip()]
    unknown = [v for v in venues if v not in VENUES]
    if unknown:
        fail(f"unknown venue(s) {', '.join(unknown)}; known: {', '.join(VENUES)}")
    return venues


def parse_side(text: str) -> Side:
    try:
        return Side(text.lower())
    except ValueError:
        fail(f"side must be buy or sell, not {text!r}")
        raise


def parse_amount(value: float) -> float:
    if not math.isfinite(value) or value <= 0:
        fail(f"amount must be a positive finite number, not {value!r}")
    return value


def print_json(payload: object) -> None:
    sys.stdout.write(orjson.dumps(payload).decode() + "\n")


# ---- demo ------------------------------------------------------------------------------------


@app.command()
def demo(
    seconds: Optional[float] = typer.Option(None, help="Stop after this many seconds (default: until Ctrl-C)."),
    seed: int = typer.Option(7, help="Seed of the simulated market."),
) -> None:
    """Ten simulated venues on 127.0.0.1: live books, the consolidated BTC-USDT book and the best
    all-in price for a sample order. No keys, no network."""
    from .demo import best_of, live_demo

    try:
        quote = live_demo(seconds, seed)
    except KeyboardInterrupt:
        out.print("stopped.")
        return
    out.print(f"\n{best_of(quote)}")


# ---- quote -----------------------------------------------------------------------------------


@app.command()
def quote(
    symbol: str = typer.Argument(..., help="Standard symbol, e.g. BTC-USDT, BTC-USDT-PERP."),
    side: str = typer.Argument(..., help="buy or sell"),
    amount: float = typer.Argument(..., help="Amount in base units."),
    venues: Optional[str] = typer.Option(None, help="Comma-separated venue ids (default: all ten)."),
    sim: bool = typer.Option(False, "--sim", help="Quote on the simulated venues instead of the real ones."),
    json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    wait: float = typer.Option(15.0, help="Seconds to wait for books to sync."),
) -> None:
    """The best all-in price (VWAP through depth plus taker fee) for an order on every venue."""
    chosen = parse_venues(venues)
    order_side = parse_side(side)
    size = parse_amount(amount)
    try:
        result = asyncio.run(_quote(symbol, order_side, size, chosen, sim, wait))
    except CrossbookError as exc:
        fail(str(exc))
        return
    if json:
        print_json(result)
    else:
        print_quote(result)
    if result["best"] is None:
        raise typer.Exit(1)


async def _quote(symbol: str, side: Side, amount: float, venues: list[str], sim: bool, wait: float) -> dict[str, object]:
    cluster = SimCluster([f for v in venues for f in venue_feeds(v)]) if sim else None
    md = MarketData(venues, [symbol], endpoints=cluster.urls if cluster else production)
    if cluster is not None:
        await cluster.start()
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
    try:
        await md.start(session)
        report_unreachable(md)
        await md.wait_live(wait)
        return md.quote(symbol, side, amount)
    finally:
        await md.stop()
        await session.close()
        if cluster is not None:
            await cluster.stop()


def report_unreachable(md: MarketData) -> None:
    for reason in md.down.values():
        err.print(f"[yellow]unreachable:[/] {reason}")
    for venue, symbols in md.unlisted.items():
        if venue not in md.down:
            err.print(f"{venue} does not list {', '.join(symbols)}")
    if md.down and len(md.down) == len(md.venues):
        raise CrossbookError("no venue could be reached (no network? use --sim for the simulated venues)")


def print_quote(result: dict[str, object]) -> None:
    best = result["best"]
    table = Table(title=f"{result['side']} {result['amount']} {result['symbol']}")
    for col in ("venue", "status", "filled", "VWAP", "taker fee", "all-in price"):
        table.add_column(col)
    venues = result["venues"]
    assert isinstance(venues, dict)
    for venue, q in venues.items():
        table.add_row(venue, q["status"], f"{q['filled']:g}", _num(q["vwap"]), f"{q['fee_rate'] * 100:.3f}%", _num(q["all_in_price"]))
    out.print(table)
    if isinstance(best, dict):
        out.print(f"best: {best['venue']} at {best['all_in_price']:,.6g} all-in")
    else:
        out.print("[yellow]no live venue can fill the whole amount[/]")


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:,.6g}"


# ---- reconcile -------------------------------------------------------------------------------


@app.command()
def reconcile(
    config: Path = typer.Option(Path("crossbook.toml"), help="The accounts and the journal."),
    json: bool = typer.Option(False, "--json", help="Print one JSON list, an entry per account."),
) -> None:
    """Match the journal with every venue: orders whose fate is unknown, open orders, missed fills."""
    from .config import load_config
    from .trading.session import reconcile_all

    try:
        results = asyncio.run(reconcile_all(load_config(config)))
    except CrossbookError as exc:
        fail(str(exc))
        return
    if json:
        print_json(results)
    else:
        table = Table(title="reconciliation")
        for col in ("venue", "account", "adopted", "never placed", "updated", "new fills", "error"):
            table.add_column(col)
        for r in results:
            table.add_row(r["venue"], r["account"], str(len(r.get("adopted", []))), str(len(r.get("never_placed", []))),
                          str(len(r.get("updated", []))), str(r.get("new_fills", "")), r.get("error", ""))
        out.print(table)
    if not all(r["ok"] for r in results):
        raise typer.Exit(1)


@app.command()
def follow(
    config: Path = typer.Option(Path("crossbook.toml"), help="The accounts and the journal."),
    seconds: Optional[float] = typer.Option(None, help="Stop after this many seconds (default: run until Ctrl-C)."),
    json: bool = typer.Option(False, "--json", help="Print the start reconciliation and the stream figures as JSON."),
) -> None:
    """Keep the journal in step with every configured account: reconcile at start, then follow each
    venue's private order/fill stream (REST polling where a venue has none)."""
    from .config import load_config
    from .trading.session import follow as follow_accounts

    def started(reports: list[dict[str, object]]) -> None:
        if json:
            print_json({"reconciled": reports})
        else:
            out.print(f"reconciled {len(reports)} account(s); following their orders and fills (Ctrl-C stops)")

    try:
        figures = asyncio.run(follow_accounts(load_config(config), seconds, started))
    except CrossbookError as exc:
        fail(str(exc))
        return
    except KeyboardInterrupt:
        return
    if json:
        print_json({"streams": figures})
    else:
        for f in figures:
            out.print(f"{f['venue']}/{f['account']}: {f['order_updates']} order updates, {f['fills']} fills, "
                      f"{f['failures']} stream failures, {f['reconciles']} reconciliations")


# ---- sim ---------------------------------------------------------------------------------------


@app.command()
def sim(
    venues: Optional[str] = typer.Option(None, help="Comma-separated venue ids (default: all ten)."),
    seed: int = typer.Option(7, help="Seed of the simulated market."),
    print_ccxt_config: bool = typer.Option(False, "--print-ccxt-config", help="First line: one JSON object of ccxt configs keyed by ccxt id."),
    seconds: Optional[float] = typer.Option(None, help="Stop after this many seconds (default: until Ctrl-C)."),
) -> None:
    """Run the simulated venues on 127.0.0.1 until stopped, each with a funded account and a key."""
    from .sim.serve import serve

    feeds = [f for v in parse_venues(venues) for f in venue_feeds(v)]

    def ready(cluster: SimCluster, configs: dict[str, dict[str, object]]) -> None:
        if print_ccxt_config:
            print_json(configs)
            sys.stdout.flush()
        table = Table(title="simulated venues (127.0.0.1)")
        for col in ("feed", "REST", "WebSocket", "ccxt"):
            table.add_column(col)
        for feed_id, venue in cluster.venues.items():
            table.add_row(feed_id, venue.rest_url, venue.ws_url, venue.ccxt_id or "market data only")
        err.print(table)

    try:
        asyncio.run(serve(feeds, seed, seconds, ready))
    except KeyboardInterrupt:
        err.print("stopped.")


# ---- venues ----------------------------------------------------------------------------------


@app.command()
def venues(json: bool = typer.Option(False, "--json", help="Print one JSON object keyed by venue.")) -> None:
    """The capability matrix, venue by venue: products, order types and flags, account features;
    what the venue offers and what crossbook supports there today."""
    from rich.markup import escape

    from .venues.capabilities import ACCOUNT_FEATURES, ORDER_FEATURES, Product, Support, all_capabilities

    tables = all_capabilities()
    if json:
        print_json({venue: caps.as_dict() for venue, caps in tables.items()})
        return

    def offered(s: Support) -> str:
        if not s.offered:
            return "[dim]no[/]"
        only = ", ".join(p.value.replace("_", " ") for p in Product if p in s.only)
        return f"yes ({only} only)" if only else "yes"

    def crossbook(s: Support) -> str:
        done = ([f"market data ({', '.join(s.feeds)})"] if s.feeds else []) + (["trading"] if s.crossbook else [])
        return ", ".join(done) or "[dim]-[/]"

    acronyms = {"ioc": "IOC", "fok": "FOK", "oco": "OCO", "tp_sl": "TP/SL attached"}
    for venue, caps in tables.items():
        table = Table(title=venue, title_justify="left")
        for col in ("", "venue offers", "crossbook today", "note"):
            table.add_column(col)
        sections = (
            ("products", [(p.label, caps.products[p]) for p in Product]),
            ("orders", [(acronyms.get(f.value, f.value.replace("_", "-")), caps.features[f]) for f in ORDER_FEATURES]),
            ("account", [(f.value.replace("_", " "), caps.features[f]) for f in ACCOUNT_FEATURES]),
        )
        for section, rows in sections:
            table.add_row(f"[bold]{section}[/]", "", "", "")
            for name, support in rows:
                table.add_row(f"  {name}", offered(support), crossbook(support), escape(support.note))
        out.print(table)


# ---- record / replay -------------------------------------------------------------------------


@app.command()
def record(
    venue: str = typer.Argument(..., help="Venue or feed id (binance, binanceusdm, okx, ...)."),
    symbols: list[str] = typer.Argument(..., help="Standard symbols."),
    out_file: Path = typer.Option(..., "--out", help="Capture file to write (crossbook JSONL; .gz compresses)."),
    seconds: float = typer.Option(30.0, help="How long to record."),
    sim: bool = typer.Option(False, "--sim", help="Record the simulated venue."),
) -> None:
    """Record a venue's raw frames and REST snapshots, with timestamps and URLs."""
    try:
        cls = feed_class(venue)
    except CrossbookError as exc:
        fail(str(exc))
        return
    try:
        counts = asyncio.run(_record(cls.venue, symbols, out_file, seconds, sim))
    except CrossbookError as exc:
        fail(str(exc))
        return
    out.print(f"recorded {counts} frames to {out_file}")


async def _record(feed_id: str, symbols: list[str], path: Path, seconds: float, sim: bool) -> int:
    from .feeds.manager import VenueFeed

    cluster = SimCluster([feed_id]) if sim else None
    writer = CaptureWriter(path, feed=feed_id)
    if cluster is not None:
        await cluster.start()
    ws, rest = cluster.urls(feed_id) if cluster else (None, None)
    feed = VenueFeed(feed_class(feed_id), symbols, ws_url=ws, rest_url=rest, recorder=writer)
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
    try:
        await feed.start(session)
        if feed.missing:
            err.print(f"{feed_id} does not list {', '.join(feed.missing)}")
        await asyncio.sleep(seconds)
        return writer.events
    finally:
        await feed.stop()
        await session.close()
        writer.close()
        if cluster is not None:
            await cluster.stop()


@app.command()
def replay(
    files: list[Path] = typer.Argument(..., help="Capture files (crossbook's or the recorded format; .gz ok)."),
    venue: Optional[str] = typer.Option(None, help="Feed id, overriding what the URLs say."),
    json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Replay captures through the real feed handlers; exits 1 on any checksum failure or gap."""
    for path in files:
        if not path.is_file():
            fail(f"no such capture file: {path}")
    try:
        result = replay_files([str(p) for p in files], venue)
    except CrossbookError as exc:
        fail(str(exc))
        return
    report = result.report()
    if json:
        print_json(report)
    else:
        print_replay(report)
    if result.failed():
        raise typer.Exit(1)


def print_replay(report: dict[str, object]) -> None:
    table = Table(title="replay")
    for col in ("book", "synced", "updates", "checksums ok", "failed", "gaps", "best bid", "best ask"):
        table.add_column(col)
    books = report["books"]
    assert isinstance(books, dict)
    for key, b in books.items():
        table.add_row(
            key,
            "yes" if b["synced"] else "[yellow]no[/]",
            str(b["updates"]),
            str(b["checksums_ok"]),
            str(b["checksums_failed"]),
            str(b["gaps"]),
            _level(b["best_bid"]),
            _level(b["best_ask"]),
        )
    out.print(table)
    out.print(f"totals: {report['totals']}")


def _level(level: list[float] | None) -> str:
    return "-" if level is None else f"{level[0]:g} x {level[1]:g}"

