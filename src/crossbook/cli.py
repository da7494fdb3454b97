"""The ``crossbook`` command."""

from __future__ import annotations

import asyncio
import logging
import math
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import aiohttp
import orjson
import typer
from rich.console import Console
from rich.table import Table

from .config import Config
from .errors import CrossbookError
from .feeds.capture import CaptureWriter
from .feeds.market import MarketData, production
from .feeds.replay import replay_files
from .model import BookState, Side
from .routing.fees import FeeBook, FeeProfile, schedule
from .sim.cluster import SimCluster
from .symbols import parse_standard
from .trading.journal import Journal
from .venues import VENUES, feed_class, venue_feeds, venue_of

if TYPE_CHECKING:
    from .trading.account import VenueAccount

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
    json: bool = typer.Option(False, "--json", help="No live view: print one JSON summary at the end."),
) -> None:
    """The ten simulated venues on 127.0.0.1: live books, the consolidated BTC-USDT book, a sample
    order quoted and routed with a split, one venue dislocated and the arbitrage found and traded.
    No keys, no network."""
    from .demo import closing_lines, live_demo, run_demo

    if seconds is not None and not (math.isfinite(seconds) and seconds > 0):
        fail(f"--seconds must be a positive number, not {seconds!r}")
    if json and seconds is None:
        fail("--json needs --seconds (the summary is printed when the demo ends)")
    try:
        result = asyncio.run(run_demo(seconds, seed)) if json else live_demo(seconds, seed)
    except KeyboardInterrupt:
        out.print("stopped.")
        return
    if json:
        print_json(result)
    else:
        out.print("\n" + "\n".join(closing_lines(result)))


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
    equivalent: Optional[str] = typer.Option(
        None, "--equivalent", help="Quote currencies converted into each other at live rates, e.g. USDT,USDC,USD "
        "(default: the config's equivalents, else USDT,USDC,USD; an empty value converts none)."),
    config: Optional[Path] = typer.Option(None, help="crossbook.toml: flag venues whose account cannot pay for the order."),
) -> None:
    """The best all-in price (VWAP through depth plus taker fee) for an order on every venue, the
    same instrument in an equivalent quote currency included at the live conversion rate."""
    from .config import DEFAULT_EQUIVALENTS, load_config
    from .routing.conversion import parse_equivalents

    chosen = parse_venues(venues)
    order_side = parse_side(side)
    size = parse_amount(amount)
    try:
        settings = load_config(config) if config is not None else None
        if equivalent is not None:
            equivalents = parse_equivalents(equivalent)
        else:
            equivalents = settings.equivalents if settings is not None else DEFAULT_EQUIVALENTS
        result = asyncio.run(_quote(symbol, order_side, size, chosen, sim, wait, equivalents, settings))
    except CrossbookError as exc:
        fail(str(exc))
        return
    if json:
        print_json(result)
    else:
        print_quote(result)
    if result["best"] is None:
        raise typer.Exit(1)


async def _quote(symbol: str, side: Side, amount: float, venues: list[str], sim: bool, wait: float,
                 equivalents: frozenset[str], settings: Config | None) -> dict[str, object]:
    from .routing.conversion import conversion_symbols, equivalent_symbols

    symbol = symbol.upper()
    others = equivalent_symbols(symbol, equivalents)
    # the conversion books are wanted only when another quote currency can join
    symbols = list(dict.fromkeys([symbol, *others, *(conversion_symbols(equivalents) if others else [])]))
    cluster = SimCluster([f for v in venues for f in venue_feeds(v)]) if sim else None
    md = MarketData(venues, symbols, endpoints=cluster.urls if cluster else production)
    if cluster is not None:
        await cluster.start()
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
    try:
        await md.start(session)
        report_unreachable(md, symbol)
        balances, fee_rates = await account_view(settings, venues, symbol) if settings is not None else (None, None)
        await md.wait_live(wait)
        return md.quote(symbol, side, amount, equivalents=equivalents, balances=balances, fee_rates=fee_rates)
    finally:
        await md.stop()
        await session.close()
        if cluster is not None:
            await cluster.stop()


def report_unreachable(md: MarketData, symbol: str) -> None:
    for reason in md.down.values():
        err.print(f"[yellow]unreachable:[/] {reason}")
    for venue, symbols in md.unlisted.items():
        if venue not in md.down and symbol in symbols:
            err.print(f"{venue} does not list {symbol}")
    if md.down and len(md.down) == len(md.venues):
        raise CrossbookError("no venue could be reached (no network? use --sim for the simulated venues)")


async def account_view(config: Config, venues: list[str], symbol: str) -> tuple[dict[str, dict[str, float]], dict[str, float]]:
    """What the configured accounts can pay and what they pay in fees: venue -> currency ->
    available, the most any one account on that venue holds (an order goes to one account), and
    venue -> taker rate (the account's own from the venue when it says, else the schedule at the
    configured tier). An account that cannot be read is reported and left out."""
    import ccxt

    from .routing.fees import FeeBook, FeeProfile
    from .trading.journal import Journal
    from .trading.session import open_account

    found: dict[str, dict[str, float]] = {}
    fee_rates: dict[str, float] = {}
    profiles = FeeProfile.of(config.accounts)
    with Journal(config.journal) as journal:
        for cfg in config.accounts:
            if cfg.venue not in venues:
                continue
            account = open_account(cfg, journal)
            try:
                await account.load()
                held = await account.balances()
                if cfg.venue not in fee_rates:
                    fee_rates[cfg.venue] = (await FeeBook(profiles, {cfg.venue: account}).rates(cfg.venue, symbol)).taker
            except (ccxt.BaseError, CrossbookError) as exc:
                # the type only: a venue's error text can carry a signed request
                err.print(f"[yellow]account unavailable:[/] {cfg.label}: {type(exc).__name__}")
                continue
            finally:
                await account.client.close()
            venue = found.setdefault(cfg.venue, {})
            for currency, available in held.items():
                venue[currency] = max(venue.get(currency, 0.0), float(available))
    return found, fee_rates


def print_quote(result: dict[str, object]) -> None:
    best = result["best"]
    table = Table(title=f"{result['side']} {result['amount']} {result['symbol']}")
    venues = result["venues"]
    assert isinstance(venues, dict)
    with_balances = any("affordable" in q for q in venues.values())
    columns = ["venue", "status", "filled", "VWAP", "taker fee", "all-in price", "converted from"]
    for col in columns + (["affordable (max)"] if with_balances else []):
        table.add_column(col)
    for venue, q in venues.items():
        row = [venue, q["status"], f"{q['filled']:g}", _num(q["vwap"]), f"{q['fee_rate'] * 100:.3f}%",
               _num(q["all_in_price"]), _conversion(q)]
        if with_balances:
            row.append("-" if "affordable" not in q else f"{'yes' if q['affordable'] else '[red]no[/]'} ({q['max_amount']:g})")
        table.add_row(*row)
    out.print(table)
    if isinstance(best, dict):
        where = best["venue"] if "symbol" not in best else f"{best['venue']} {best['symbol']}"
        out.print(f"best: {where} at {best['all_in_price']:,.6g} all-in")
    else:
        out.print("[yellow]no live venue can fill the whole amount[/]")


def _conversion(q: dict[str, object]) -> str:
    if "conversion_error" in q:
        return f"{q['quote_currency']}: [yellow]no live rate[/]"
    if "conversion_rate" in q:
        return f"{q['quote_currency']} x {q['conversion_rate']:.6f}"
    return "-"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:,.6g}"


# ---- fees ------------------------------------------------------------------------------------


@app.command()
def fees(
    symbol: str = typer.Argument(..., help="Standard symbol, e.g. BTC-USDT, BTC-USDT-PERP."),
    amount: float = typer.Argument(..., help="Amount in base units."),
    side: str = typer.Option("buy", help="buy or sell: a taker sweeps the other side, a maker rests at the best price of its own."),
    venues: Optional[str] = typer.Option(None, help="Comma-separated venue ids (default: all ten)."),
    sim: bool = typer.Option(False, "--sim", help="Price on the simulated venues (and read their fee endpoints)."),
    config: Optional[Path] = typer.Option(None, help="crossbook.toml: each venue's fee tier, and the keys that read the account's own rates."),
    json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    wait: float = typer.Option(15.0, help="Seconds to wait for books to sync."),
) -> None:
    """What an order costs in fees on each venue, as taker and as maker: the account's own rates
    where its keys are configured and the venue answers, the venue's published schedule otherwise."""
    chosen = parse_venues(venues)
    order_side = parse_side(side)
    size = parse_amount(amount)
    try:
        result = asyncio.run(_fees(symbol, order_side, size, chosen, sim, config, wait))
    except CrossbookError as exc:
        fail(str(exc))
        return
    if json:
        print_json(result)
    else:
        print_fees(result)
    if all(row["taker_fee"] is None for row in result["venues"].values()):
        raise typer.Exit(1)


async def _fees(symbol: str, side: Side, amount: float, venues: list[str], sim: bool, config_path: Path | None,
                wait: float) -> dict[str, Any]:
    from .config import load_config

    config = load_config(config_path) if config_path is not None else None
    profiles = FeeProfile.of(config.accounts) if config is not None else {}
    FeeBook(profiles)  # a tier or token the venue does not have fails here, before any I/O
    cluster = SimCluster([f for v in venues for f in venue_feeds(v)]) if sim else None
    md = MarketData(venues, [symbol], endpoints=cluster.urls if cluster else production)
    symbol = md.symbols[0]
    if cluster is not None:
        await cluster.start()
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
    accounts: dict[str, Any] = {}
    try:
        await md.start(session)
        report_unreachable(md, symbol)
        with tempfile.TemporaryDirectory() as scratch:
            journal_path = config.journal if config is not None else Path(scratch) / "journal.db"
            with Journal(journal_path) as journal:
                if config is not None:
                    accounts = configured_accounts(config, venues, journal)
                elif cluster is not None:
                    accounts = sim_accounts(cluster, md, symbol, journal)
                accounts = await loaded(accounts)
                await md.wait_live(wait)
                book = FeeBook(profiles, accounts)
                rows = {v: await fee_row(md, book, symbol, v, side, amount) for v in venues}
        return {"symbol": symbol, "side": side.value, "amount": amount, "venues": rows}
    finally:
        for account in accounts.values():
            await account.client.close()
        await md.stop()
        await session.close()
        if cluster is not None:
            await cluster.stop()


def configured_accounts(config: Config, venues: list[str], journal: Journal) -> dict[str, VenueAccount]:
    """The first configured account of each chosen venue."""
    from .trading.session import open_account

    accounts: dict[str, VenueAccount] = {}
    for cfg in config.accounts:
        if cfg.venue in venues and cfg.venue not in accounts:
            accounts[cfg.venue] = open_account(cfg, journal)
    return accounts


def sim_accounts(cluster: SimCluster, md: MarketData, symbol: str, journal: Journal) -> dict[str, VenueAccount]:
    """A funded account with a key on each simulated venue that serves ``symbol`` and trades
    through ccxt, as `crossbook sim` hands them out."""
    import ccxt.async_support as ccxt_async

    from .sim.serve import ACCOUNT, fund
    from .trading.account import VenueAccount
    from .trading.limiter import Limiter
    from .trading.session import TRANSIT_MARGIN
    from .venues import venue_module

    accounts: dict[str, VenueAccount] = {}
    for feed in md.feeds:
        venue_sim = cluster.venues.get(feed.venue)
        if venue_sim is None or symbol not in feed.wanted:
            continue
        ccxt_id = venue_sim.ccxt_id or venue_sim.client_ccxt_id
        if ccxt_id is None:
            continue
        fund(venue_sim)
        client = getattr(ccxt_async, ccxt_id)(venue_sim.ccxt_config(venue_sim.issue_key(ACCOUNT)))
        venue = venue_of(feed.venue)
        limiter = Limiter(venue_module(venue).LIMITS, margin=TRANSIT_MARGIN)  # the simulators enforce the limits
        accounts[venue] = VenueAccount(venue, client, journal, limiter)
    return accounts


async def loaded(accounts: dict[str, VenueAccount], timeout: float = 15.0) -> dict[str, VenueAccount]:
    """The accounts whose markets load within ``timeout``; the others are reported and closed
    (their venues fall back to the schedule)."""
    import ccxt

    async def load_once_more_if_limited(account: VenueAccount) -> None:
        # the book feeds share the venue's per-IP budget, which the account's limiter does not
        # see: a refusal holds the limiter back, and the second try waits for it
        try:
            await account.load()
        except ccxt.DDoSProtection:
            await account.load()

    async def load(venue: str, account: VenueAccount) -> bool:
        try:
            await asyncio.wait_for(load_once_more_if_limited(account), timeout)
            return True
        except (ccxt.BaseError, CrossbookError, asyncio.TimeoutError) as exc:
            err.print(f"[yellow]{venue}:[/] cannot read the account's fees ({type(exc).__name__}); using the schedule")
            await account.client.close()
            return False

    ok = await asyncio.gather(*(load(v, a) for v, a in accounts.items()))
    return {v: a for (v, a), good in zip(accounts.items(), ok) if good}


async def fee_row(md: MarketData, book: FeeBook, symbol: str, venue: str, side: Side, amount: float) -> dict[str, Any]:
    """One venue's fees for the order: the taker pays its rate on the sweep's VWAP, the maker on
    the best price of its own side. Prices and fees are None unless the book is live (and, for
    the taker, deep enough for the whole amount)."""
    books = md.consolidated[symbol]
    status = "down" if venue in md.down else "unlisted" if venue not in books.books else books.quote_venue(venue, side, amount).status.value
    row: dict[str, Any] = {"status": status, "price": None, "maker_price": None, "taker_rate": None, "maker_rate": None,
                           "taker_fee": None, "maker_fee": None, "tier": None, "source": None}
    if not schedule(venue).covers(parse_standard(symbol)[2]):
        return row
    rates = await book.rates(venue, symbol) if status == BookState.LIVE.value else book.scheduled(venue, symbol)
    row.update(taker_rate=rates.taker, maker_rate=rates.maker, tier=rates.tier, source=rates.source)
    if status != BookState.LIVE.value:
        return row
    quote = books.quote_venue(venue, side, amount)
    if quote.vwap is not None and quote.filled >= amount * (1 - 1e-12):
        row.update(price=quote.vwap, taker_fee=quote.vwap * amount * rates.taker)
    own = books.books[venue].best_bid() if side is Side.BUY else books.books[venue].best_ask()
    if own is not None:
        row.update(maker_price=own[0], maker_fee=own[0] * amount * rates.maker)
    return row


def print_fees(result: dict[str, Any]) -> None:
    table = Table(title=f"fees to {result['side']} {result['amount']:g} {result['symbol']}")
    for col in ("venue", "status", "taker rate", "taker fee", "maker rate", "maker fee", "tier", "source"):
        table.add_column(col)
    for venue, row in result["venues"].items():
        table.add_row(venue, row["status"], _rate(row["taker_rate"]), _num(row["taker_fee"]), _rate(row["maker_rate"]),
                      _num(row["maker_fee"]), row["tier"] or "-", row["source"] or "-")
    out.print(table)
    out.print(f"fees in {parse_standard(result['symbol'])[1]}; a negative maker fee is a rebate")


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.4f}%"


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
    scenario: Optional[Path] = typer.Option(None, "--scenario", help="JSON or TOML file of timed price dislocations (see crossbook.sim.scenario)."),
) -> None:
    """Run the simulated venues on 127.0.0.1 until stopped, each with a funded account and a key."""
    from .sim.scenario import Scenario, load_scenario
    from .sim.serve import serve

    feeds = [f for v in parse_venues(venues) for f in venue_feeds(v)]
    try:
        played = load_scenario(scenario) if scenario is not None else Scenario()
    except CrossbookError as exc:
        fail(str(exc))
        return

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
        asyncio.run(serve(feeds, seed, seconds, ready, played))
    except CrossbookError as exc:
        fail(str(exc))
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



# ---- route -----------------------------------------------------------------------------------


@app.command()
def route(
    symbol: str = typer.Argument(..., help="Standard symbol, e.g. BTC-USDT."),
    side: str = typer.Argument(..., help="buy or sell."),
    amount: float = typer.Argument(..., help="Amount in base units."),
    limit: Optional[float] = typer.Option(None, help="Price cap (buy) or floor (sell)."),
    max_slippage_bps: Optional[float] = typer.Option(None, help="Take nothing further than this from the arrival mid."),
    max_venues: Optional[int] = typer.Option(None, help="Split across at most this many venues."),
    deadline: float = typer.Option(10.0, help="Seconds to keep re-routing what is left."),
    urgency: str = typer.Option("take", help="take: IOC orders now; passive: post-only at the touch first, then take the rest."),
    passive_seconds: float = typer.Option(2.0, help="With --urgency passive: how long the posted orders rest."),
    venues: Optional[str] = typer.Option(None, help="Comma-separated venue ids (default: all ten)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Plan only: send nothing."),
    sim: bool = typer.Option(False, "--sim", help="Route on the simulated venues (funded accounts, no keys)."),
    dex: bool = typer.Option(False, "--dex", help="With --sim: the local chain's Uniswap V3 pools join as venues (needs node)."),
    config: Optional[Path] = typer.Option(None, "--config", help="Accounts file (crossbook.toml) to trade with."),
    json: bool = typer.Option(False, "--json", help="Print the execution report as one JSON object."),
) -> None:
    """Route an order across venues at the least all-in cost and print the execution report."""
    from .routing.executor import RouteRequest, Urgency
    from .routing.session import configured_router, sim_router

    if sim == (config is not None):
        fail("route needs exactly one of --sim or --config FILE")
    if dex and not sim:
        fail("--dex runs the local chain's pools: it goes with --sim")
    chosen = parse_venues(venues)
    if urgency not in {u.value for u in Urgency}:
        fail(f"--urgency must be take or passive, not {urgency!r}")
    try:
        request = RouteRequest(symbol.upper(), parse_side(side), parse_amount(amount), limit=limit,
                               max_slippage_bps=max_slippage_bps, max_venues=max_venues, deadline=deadline,
                               urgency=Urgency(urgency), passive_seconds=passive_seconds)

        async def run() -> dict[str, object]:
            opened = (sim_router(request.symbol, chosen, dex=dex) if config is None
                      else configured_router(request.symbol, config, None if venues is None else chosen))
            async with opened as router:
                return (await router.route(request, dry_run=dry_run)).as_json()

        report = asyncio.run(run())
    except CrossbookError as exc:
        fail(str(exc))
        return
    if json:
        print_json(report)
    else:
        print_route(report)


def print_route(report: dict[str, Any]) -> None:
    plan = report["plan"]
    table = Table(title=f"{report['side']} {report['amount']} {report['symbol']}: plan")
    for col in ("venue", "amount", "expected VWAP", "fee"):
        table.add_column(col, justify="left" if col == "venue" else "right")
    for child in plan:
        table.add_row(child["venue"], f"{child['amount']:.8g}", _price(child["expected_vwap"]), _price(child["fee"]))
    out.print(table)
    children = report["children"]
    if children:
        sent = Table(title="child orders")
        for col in ("round", "venue", "status", "amount", "filled", "avg price", "fee"):
            sent.add_column(col, justify="left" if col in ("venue", "status") else "right")
        for c in children:
            sent.add_row(str(c["round"]), c["venue"], c["status"], f"{c['planned_amount']:.8g}", f"{c['filled']:.8g}",
                         _price(c["avg_price"]), _price(c["fee"]))
        out.print(sent)
    savings = report["savings_bps"]
    out.print(
        f"outcome {report['outcome']}: filled {report['filled']:.8g} at {_price(report['avg_price'])} "
        f"(all-in {_price(report['all_in_avg_price'])}, fees {_price(report['fees'])}); "
        f"best single venue {report['best_single_venue']} all-in {_price(report['best_single_venue_all_in_price'])}; "
        f"saving {'-' if savings is None else f'{savings:.2f} bps'}"
    )


def _price(value: float | None) -> str:
    return "-" if value is None else f"{value:,.{2 if abs(value) >= 100 else 8}f}"


# ---- arb -------------------------------------------------------------------------------------


def parse_dislocation(text: str) -> Any:
    """``VENUE:BPS`` or ``VENUE:BPS:SYMBOL``."""
    from .sim.scenario import Dislocation

    parts = text.split(":")
    try:
        bps = float(parts[1]) if len(parts) in (2, 3) else math.nan
    except ValueError:
        bps = math.nan
    if not math.isfinite(bps) or parts[0] not in VENUES:
        fail(f"--dislocate takes VENUE:BPS[:SYMBOL] with a known venue and a number of bps, not {text!r}")
    return Dislocation(parts[0], bps, parts[2].upper() if len(parts) == 3 else None)


@app.command()
def arb(
    symbols: Optional[str] = typer.Option(None, help="Comma-separated symbols (default: BTC-USDT, ETH-USDT, ETH-BTC and the perpetuals)."),
    seconds: float = typer.Option(10.0, help="Seconds to scan."),
    venues: Optional[str] = typer.Option(None, help="Comma-separated venue ids (default: all ten)."),
    kinds: str = typer.Option("cross_venue,triangular,basis", help="Opportunity kinds to look for."),
    min_bps: float = typer.Option(0.0, help="Ignore opportunities earning no more than this, net."),
    sim: bool = typer.Option(False, "--sim", help="Scan the simulated venues (no keys, no network)."),
    dislocate: list[str] = typer.Option([], help="With --sim: move VENUE's prices by BPS (VENUE:BPS[:SYMBOL]); repeatable."),
    execute: bool = typer.Option(False, "--execute", help="With --sim: trade each cross-venue and triangular opportunity through the router."),
    max_size: float = typer.Option(0.1, help="With --execute: at most this many base units per opportunity."),
    withdrawal_fee: Optional[float] = typer.Option(None, help="Report the transfer cost of a cross-venue trade: the withdrawal fee, in base units."),
    transfer_seconds: float = typer.Option(0.0, help="With --withdrawal-fee: how long the transfer takes."),
    json: bool = typer.Option(False, "--json", help="Print every opportunity seen as one JSON list at the end."),
) -> None:
    """Scan the consolidated books for cross-venue, triangular and basis arbitrage net of fees;
    print each opportunity as it opens (and closes)."""
    from .arbitrage.cli_run import DEFAULT_SYMBOLS, run_arb
    from .arbitrage.cross_venue import Transfer
    from .arbitrage.execute import scan_and_trade
    from .arbitrage.scanner import Event

    chosen = parse_venues(venues)
    wanted = [s.strip().upper() for s in symbols.split(",") if s.strip()] if symbols else list(DEFAULT_SYMBOLS)
    looked_for = [k.strip() for k in kinds.split(",") if k.strip()]
    moves = [parse_dislocation(d) for d in dislocate]
    if not (math.isfinite(seconds) and seconds > 0):
        fail(f"--seconds must be a positive number, not {seconds!r}")
    if (moves or execute) and not sim:
        fail("--dislocate and --execute need --sim (trading arbitrage on the real venues is not wired yet)")
    if execute and not (math.isfinite(max_size) and max_size > 0):
        fail(f"--max-size must be a positive number, not {max_size!r}")
    if withdrawal_fee is not None and not (math.isfinite(withdrawal_fee) and withdrawal_fee >= 0 and transfer_seconds >= 0):
        fail(f"--withdrawal-fee and --transfer-seconds must not be negative, not {withdrawal_fee!r}, {transfer_seconds!r}")
    transfer = Transfer(withdrawal_fee, transfer_seconds) if withdrawal_fee is not None else None

    def show(entry: dict[str, Any]) -> None:
        if not json:
            print_opportunity(entry)

    def event_json(event: Event) -> dict[str, Any]:
        return {"event": event.kind, **event.opportunity.as_json()}

    try:
        if execute:
            seen = asyncio.run(scan_and_trade(wanted, seconds, venues=chosen, dislocations=moves, max_size=max_size,
                                              kinds=looked_for, min_bps=min_bps, transfer=transfer, on_event=show))
        else:
            seen = asyncio.run(run_arb(wanted, seconds, sim, venues=chosen, dislocations=moves, kinds=looked_for,
                                       min_bps=min_bps, transfer=transfer, on_event=lambda e: show(event_json(e))))
    except CrossbookError as exc:
        fail(str(exc))
        return
    if json:
        print_json(seen)


def print_opportunity(entry: dict[str, Any]) -> None:
    legs = ", ".join(f"{leg['side']} {leg['amount']:.6g} {leg['symbol']} on {leg['venue']} @ {_price(leg['price'])}" for leg in entry["legs"])
    if entry["event"] == "close":
        out.print(f"[dim]closed[/] {entry['kind']} after {entry['closed_at'] - entry['opened_at']:.2f} s: {legs}")
        return
    line = f"[green]open[/] {entry['kind']}: {legs}; net {_price(entry['net_profit'])} ({entry['net_bps']:.1f} bps)"
    if "transfer" in entry:
        line += f"; transfer {_price(entry['transfer']['cost'])}, {entry['transfer']['seconds']:g} s"
    done = entry.get("executed")
    if done is not None:
        if "error" in done:
            line += f"; not traded: {done['error']}"
        elif "legs" in done:
            line += f"; traded {len(done['legs'])} legs{'' if done['complete'] else ' (incomplete)'}, realised {_price(done['realised_profit'])}"
        else:
            line += f"; traded {done['bought']:.6g}, realised {_price(done['realised_profit'])}"
    out.print(line)
