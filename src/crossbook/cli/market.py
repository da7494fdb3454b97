"""crossbook market-data commands: quote, fees, venues, record, replay."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from ..book.consolidated import QuoteStatus
from ..errors import CrossbookError
from ..model import Side
from ..precision import Precision, decimals, fmt_rate
from ..symbols import parse_standard

if TYPE_CHECKING:
    # the commands import these when they run: `crossbook --help` must not load ccxt or the simulators
    from ..config import Config
    from ..desk import Desk
    from ..market.data import MarketData
    from ..routing.fees import FeeBook
    from ..routing.quote import Converted, Quote
    from ..trading.account import VenueAccount
    from ..trading.journal import Journal
from .app import NUMBERS, app, err, fail, out, parse_amount, parse_side, parse_size, parse_venues, print_json

# ---- quote -----------------------------------------------------------------------------------


@app.command(context_settings=NUMBERS)
def quote(
    symbol: str = typer.Argument(..., help="Standard symbol, e.g. BTC-USDT, BTC-USDT-PERP."),
    side: str = typer.Argument(..., help="buy or sell"),
    amount: str | None = typer.Argument(None, help="Amount in base units (or give --notional)."),
    notional: str | None = typer.Option(None, help="Size in the quote currency instead of AMOUNT, at the live mid."),
    venues: str | None = typer.Option(None, help="Comma-separated venue ids (default: all ten)."),
    sim: bool = typer.Option(False, "--sim", help="Quote on the simulated venues instead of the real ones."),
    dex: bool = typer.Option(False, "--dex", help="With --sim: the local chain's pools and 1inch join (needs node)."),
    json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    wait: float = typer.Option(15.0, help="Seconds to wait for books to sync."),
    equivalent: str | None = typer.Option(
        None, "--equivalent", help="Currencies priced as one at live rates (default: USDT,USDC,USD)."),
    config: Path | None = typer.Option(None, help="crossbook.toml: flag venues whose account cannot pay for the order."),
) -> None:
    """Best all-in price for an order on every venue.

    The all-in price is the VWAP through the book's depth plus the taker fee; the same instrument
    in an equivalent quote currency is included at the live conversion rate."""
    from ..config import DEFAULT_EQUIVALENTS, load_config
    from ..routing.conversion import parse_equivalents

    chosen = parse_venues(venues)
    order_side = parse_side(side)
    base, quote_size = parse_size(amount, notional)
    size = float(base) if base is not None else None
    if dex and not sim:
        fail("--dex runs the local chain's pools and 1inch: it goes with --sim (a config's [chains] join by themselves)")
    try:
        settings = load_config(config) if config is not None else None
        if equivalent is not None:
            equivalents = parse_equivalents(equivalent)
        else:
            equivalents = settings.equivalents if settings is not None else DEFAULT_EQUIVALENTS
        result, shown = asyncio.run(_quote(symbol, order_side, size, chosen, sim, wait, equivalents, settings, quote_size, dex))
    except CrossbookError as exc:
        fail(str(exc))
        return
    if json:
        print_json(result.to_json())
    else:
        print_quote(result, shown)
    if result.best is None:
        raise typer.Exit(1)


async def _quote(symbol: str, side: Side, amount: float | None, venues: list[str], sim: bool, wait: float,
                 equivalents: frozenset[str], settings: Config | None,
                 notional: Decimal | None = None, dex: bool = False) -> tuple[Quote, Precision]:
    """The quote, and the precision its table shows (the grids most venues use)."""
    symbol = symbol.upper()
    parse_standard(symbol)
    desk = market_desk(sim, settings, venues, dex=dex, symbol=symbol)
    desk.live_within = wait
    async with desk:
        await desk.follow([symbol])
        report_unreachable(desk.market, symbol)
        traded = quoted_symbols(desk.market, symbol, equivalents)
        balances, fee_rates = await account_view(settings, traded) if settings is not None else (None, None)
        if balances is not None:  # a configured chain's wallet pays for its pools' rows
            balances |= await desk.dex_balances(symbol)
        quoted = await desk.best_price(symbol, side, amount, notional=notional, equivalents=equivalents, balances=balances,
                                       fee_rates=fee_rates)
        shown = desk.display_precision(symbol)
        if notional is not None:
            base, quote_currency = parse_standard(symbol)[:2]
            err.print(f"--notional {notional} {quote_currency} = {shown.fmt_amount(quoted.amount)} {base}"
                      " at the live mid, rounded down to the lot",
                      markup=False, soft_wrap=True)
        return quoted, shown


def add_number_column(table: Table, name: str, unit: str | None = None) -> None:
    """A right-aligned column of numbers, its unit on a second header line: a number is never
    wrapped or cut, so on a narrow terminal the text columns wrap instead."""
    table.add_column(name if unit is None else f"{name}\n({unit})", justify="right", no_wrap=True)


def market_desk(sim: bool, config: Config | None, venues: list[str], *, dex: bool = False, symbol: str | None = None) -> Desk:
    """Where the books come from: the simulated venues (with ``dex``, the local chain's venues for
    ``symbol`` too), the endpoints a config names (a running ``crossbook sim``) and its chains'
    pools ([chains.X]), else the venues themselves."""
    from ..desk import Desk

    if sim:
        return Desk.sim(venues, seed=7, dex=dex, symbols=[symbol] if dex and symbol else ())
    if config is not None and (config.endpoints or config.chains):
        return Desk.from_config(config.path, venues=venues)
    return Desk.public(venues)


def report_unreachable(md: MarketData, symbol: str) -> None:
    for reason in md.down.values():
        err.print(f"[yellow]unreachable:[/] {reason}")
    for venue, symbols in md.unlisted.items():
        if venue not in md.down and symbol in symbols:
            err.print(f"{venue} does not list {symbol}")
    if md.down and len(md.down) == len(md.venues):
        raise CrossbookError("no venue could be reached (no network? use --sim for the simulated venues)")


def quoted_symbols(md: MarketData, symbol: str, equivalents: frozenset[str]) -> dict[str, str]:
    """venue -> the market a quote of ``symbol`` prices there: ``symbol`` itself, else the same
    instrument in an equivalent quote currency; a venue listing neither is not part of the quote
    (``report_unreachable`` has said so)."""
    from ..routing.conversion import equivalent_symbols

    candidates = [symbol, *equivalent_symbols(symbol, equivalents)]
    quoted = {}
    for venue in md.venues:
        listed = md.listed(venue)
        found = next((s for s in candidates if s in listed), None)
        if found is not None:
            quoted[venue] = found
    return quoted


async def account_view(config: Config, quoted: Mapping[str, str]) -> tuple[dict[str, dict[str, float]], dict[str, float]]:
    """What the configured accounts on the venues of a quote (``quoted``: venue -> the market
    priced there) can pay and what they pay in fees: venue -> currency -> available, the most any
    one account on that venue holds (an order goes to one account), and venue -> taker rate (the
    account's own from the venue when it says, else the schedule at the configured tier). An
    account that cannot be read is reported and left out."""
    import ccxt

    from ..routing.fees import FeeBook, FeeProfile
    from ..trading.journal import Journal
    from ..trading.session import config_vault, open_account

    found: dict[str, dict[str, float]] = {}
    fee_rates: dict[str, float] = {}
    profiles = FeeProfile.of(config.accounts)
    vault = config_vault(config)
    with Journal(config.journal) as journal:
        for cfg in config.accounts:
            if cfg.venue not in quoted or not cfg.primary:  # a derivatives client's entry pays for no spot order
                continue
            account = open_account(cfg, journal, vault=vault)
            try:
                await account.load()
                held = await account.balances()
                if cfg.venue not in fee_rates:
                    fee_rates[cfg.venue] = (await FeeBook(profiles, {cfg.venue: account}).rates(cfg.venue, quoted[cfg.venue])).taker
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


def print_quote(quote: Quote, p: Precision) -> None:
    """The quote as a table: every price in the asked symbol's quote currency (a market quoted in
    an equivalent currency converted at the live rate, listed under the table), amounts in its
    base currency."""
    base, currency = parse_standard(quote.symbol)[:2]
    with_gas = any(row.fixed_cost for row in quote.rows)
    all_in = "VWAP + taker fee" + (" + gas per order" if with_gas else "")
    table = Table(title=f"{quote.side.value} {p.fmt_amount(quote.amount)} {base} ({quote.symbol}), all-in: {all_in}")
    with_balances = any(row.affordable is not None for row in quote.rows)
    table.add_column("venue", no_wrap=True)
    table.add_column("status")
    columns = (("filled", base), ("VWAP", currency), ("taker", None), *((("gas", currency),) if with_gas else ()),
               ("all-in", currency))
    for name, unit in columns:
        add_number_column(table, name, unit)
    table.add_column("quote")
    if with_balances:
        table.add_column("can pay")
    for row in quote.rows:
        partial = row.status is QuoteStatus.PARTIAL
        status = f"[yellow]{row.status.value}[/]" if partial or row.status is QuoteStatus.CROSSED else row.status.value
        vwap = p.fmt_price(row.vwap) + ("*" if partial and row.vwap is not None else "")
        cells = [row.venue, status, p.fmt_amount(row.filled), vwap, fmt_rate(row.fee_rate),
                 *([p.fmt_money(row.fixed_cost, None) if row.fixed_cost else "-"] if with_gas else []),
                 p.fmt_price(row.all_in_price), currency if row.conversion is None else _converted_from(row.conversion)]
        if with_balances:
            cells.append("-" if row.affordable is None else "yes" if row.affordable else "[red]no[/]")
        table.add_row(*cells)
    out.print(table)
    if len(quote.partial) == 1:
        row = quote.partial[0]
        where = row.venue if row.conversion is None else f"{row.venue} {row.symbol}"
        out.print(f"* partial: {where} can fill {p.fmt_amount(row.filled)} of {p.fmt_amount(quote.amount)} {base}; "
                  f"its VWAP is for those {p.fmt_amount(row.filled)} {base} only, not a price for the whole amount",
                  markup=False)
    elif quote.partial:
        out.print(f"* partial ({len(quote.partial)} venues): each can fill only the amount in its 'filled' column, and "
                  f"its VWAP is for that amount only, not a price for the whole {p.fmt_amount(quote.amount)} {base}",
                  markup=False)
    crossed = [row.venue for row in quote.rows if row.status is QuoteStatus.CROSSED]
    if crossed:
        out.print(f"crossed: {', '.join(crossed)} (the venue's own bid at or above its ask: not priced until it uncrosses)",
                  markup=False)
    short = [f"{row.venue} {row.symbol} (at most {p.fmt_amount(row.max_amount)} {base})" for row in quote.rows
             if row.affordable is False]
    if short:
        out.print("the account cannot pay for it on " + ", ".join(short), markup=False)
    rates = {r.conversion.quote_currency: r.conversion.rate for r in quote.rows
             if r.conversion is not None and r.conversion.rate is not None}
    if rates:
        out.print("converted at live rates: " + ", ".join(f"1 {c} = {rate:.4f} {currency}" for c, rate in rates.items()),
                  markup=False)
    best = quote.best
    if best is None:
        out.print("[yellow]no live venue can fill the whole amount[/]")
        return
    where = best.venue if best.conversion is None else f"{best.venue} {best.symbol}"
    out.print(f"best: {where} at {p.fmt_money(best.all_in_price, currency)} all-in", markup=False)


def _converted_from(conversion: Converted) -> str:
    if conversion.error is not None or conversion.rate is None:
        return f"{conversion.quote_currency} [yellow](no live rate)[/]"
    return conversion.quote_currency


# ---- fees ------------------------------------------------------------------------------------


@app.command()
def fees(
    symbol: str = typer.Argument(..., help="Standard symbol, e.g. BTC-USDT, BTC-USDT-PERP."),
    amount: float = typer.Argument(..., help="Amount in base units."),
    side: str = typer.Option("buy", help="buy or sell: a taker sweeps the other side, a maker rests."),
    venues: str | None = typer.Option(None, help="Comma-separated venue ids (default: all ten)."),
    sim: bool = typer.Option(False, "--sim", help="Price on the simulated venues (and read their fee endpoints)."),
    config: Path | None = typer.Option(None, help="crossbook.toml: fee tiers, and keys to read the accounts' own rates."),
    json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    wait: float = typer.Option(15.0, help="Seconds to wait for books to sync."),
) -> None:
    """What an order costs in fees on each venue, as taker and as maker.

    The account's own rates where its keys are configured and the venue answers, the venue's
    published schedule otherwise."""
    chosen = parse_venues(venues)
    order_side = parse_side(side)
    size = parse_amount(amount)
    try:
        result = asyncio.run(_fees(symbol, order_side, size, chosen, sim, config, wait))
    except CrossbookError as exc:
        fail(str(exc))
        return
    if json:
        print_json(result.to_json())
    else:
        print_fees(result)
    if all(row.taker_fee is None for row in result.rows.values()):
        raise typer.Exit(1)


@dataclass(frozen=True, slots=True)
class FeeRow:
    """One venue's fees for the order: the taker pays ``taker_rate`` on the sweep's VWAP
    (``price``), the maker ``maker_rate`` at the best price of its own side (``maker_price``).
    Prices and fees are None unless the book is live (and, for the taker, deep enough)."""

    status: str
    price: float | None = None
    maker_price: float | None = None
    taker_rate: float | None = None
    maker_rate: float | None = None
    taker_fee: float | None = None
    maker_fee: float | None = None
    tier: str | None = None
    source: str | None = None

    def to_json(self, p: Precision) -> dict[str, Any]:
        return {"status": self.status, "price": p.price(self.price), "maker_price": p.price(self.maker_price),
                "taker_rate": p.rate(self.taker_rate), "maker_rate": p.rate(self.maker_rate),
                "taker_fee": p.money(self.taker_fee), "maker_fee": p.money(self.maker_fee), "tier": self.tier,
                "source": self.source}


@dataclass(frozen=True, slots=True)
class FeeReport:
    """``crossbook fees``: ``rows`` per venue; ``precision`` rounds the JSON (the finest grid),
    ``shown`` the table (the grid most venues use)."""

    symbol: str
    side: Side
    amount: float
    rows: dict[str, FeeRow]
    precision: Precision
    shown: Precision

    def to_json(self) -> dict[str, Any]:
        p = self.precision
        return {"symbol": self.symbol, "side": self.side.value, "amount": p.amount(self.amount),
                "venues": {venue: row.to_json(p) for venue, row in self.rows.items()}}


async def _fees(symbol: str, side: Side, amount: float, venues: list[str], sim: bool, config_path: Path | None,
                wait: float) -> FeeReport:
    from ..config import load_config
    from ..routing.fees import FeeBook, FeeProfile
    from ..trading.account import close_accounts
    from ..trading.journal import Journal

    config = load_config(config_path) if config_path is not None else None
    profiles = FeeProfile.of(config.accounts) if config is not None else {}
    FeeBook(profiles)  # a tier or token the venue does not have fails here, before any I/O
    symbol = symbol.upper()
    parse_standard(symbol)
    desk = market_desk(sim, config, venues)
    desk.live_within = wait
    async with desk:
        await desk.follow([symbol])
        report_unreachable(desk.market, symbol)
        if config is None:  # a simulated desk's own accounts, or none
            book = FeeBook(profiles, desk.accounts)
            rows = {v: await fee_row(desk.market, book, symbol, v, side, amount) for v in venues}
        else:
            with Journal(config.journal) as journal:
                accounts = await loaded(configured_accounts(config, venues, journal))
                try:
                    book = FeeBook(profiles, accounts)
                    rows = {v: await fee_row(desk.market, book, symbol, v, side, amount) for v in venues}
                finally:
                    await close_accounts(accounts.values())
        return FeeReport(symbol, side, amount, rows, desk.precision(symbol), desk.display_precision(symbol))


def configured_accounts(config: Config, venues: list[str], journal: Journal) -> dict[str, VenueAccount]:
    """The first configured account of each chosen venue."""
    from ..trading.session import config_vault, open_account

    accounts: dict[str, VenueAccount] = {}
    vault = config_vault(config)
    for cfg in config.accounts:
        if cfg.venue in venues and cfg.venue not in accounts:
            accounts[cfg.venue] = open_account(cfg, journal, vault=vault)
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
        except (TimeoutError, ccxt.BaseError, CrossbookError) as exc:
            err.print(f"[yellow]{venue}:[/] cannot read the account's fees ({type(exc).__name__}); using the schedule")
            await account.client.close()
            return False

    ok = await asyncio.gather(*(load(v, a) for v, a in accounts.items()))
    return {v: a for (v, a), good in zip(accounts.items(), ok, strict=True) if good}


async def fee_row(md: MarketData, book: FeeBook, symbol: str, venue: str, side: Side, amount: float) -> FeeRow:
    """One venue's fees for the order (see FeeRow)."""
    from ..venues.registry import fee_schedule

    books = md.consolidated[symbol]
    status = "down" if venue in md.down else "unlisted" if venue not in books.books else books.quote_venue(venue, side, amount).status.value
    if not fee_schedule(venue).covers(parse_standard(symbol)[2]):
        return FeeRow(status)
    readable = status in (QuoteStatus.LIVE.value, QuoteStatus.PARTIAL.value)
    rates = await book.rates(venue, symbol) if readable else book.scheduled(venue, symbol)
    row = FeeRow(status, taker_rate=rates.taker, maker_rate=rates.maker, tier=rates.tier, source=rates.source)
    if not readable:
        return row
    quote = books.quote_venue(venue, side, amount)
    if quote.status is QuoteStatus.LIVE and quote.vwap is not None:
        row = replace(row, price=quote.vwap, taker_fee=quote.vwap * amount * rates.taker)
    own = books.books[venue].best_bid() if side is Side.BUY else books.books[venue].best_ask()
    if own is not None:
        row = replace(row, maker_price=own[0], maker_fee=own[0] * amount * rates.maker)
    return row


def print_fees(report: FeeReport) -> None:
    base, currency = parse_standard(report.symbol)[:2]
    p = report.shown
    table = Table(title=f"fees to {report.side.value} {p.fmt_amount(report.amount)} {base} ({report.symbol})")
    table.add_column("venue")
    table.add_column("status")
    for name, unit in (("taker", None), ("taker fee", currency), ("maker", None), ("maker fee", currency)):
        add_number_column(table, name, unit)
    table.add_column("source")
    for venue, row in report.rows.items():
        source = "-" if row.source is None else row.source if row.tier is None else f"{row.source} ({row.tier})"
        table.add_row(venue, row.status, fmt_rate(row.taker_rate), p.fmt_money(row.taker_fee), fmt_rate(row.maker_rate),
                      p.fmt_money(row.maker_fee), source)
    out.print(table)
    out.print("taker: sweeps the book at its VWAP; maker: rests at the best price of its side; "
              "a negative maker fee is a rebate")


# ---- venues ----------------------------------------------------------------------------------


@app.command()
def venues(
    venue: str | None = typer.Option(None, "--venue", help="One venue in detail, with the notes behind each mark."),
    json: bool = typer.Option(False, "--json", help="Print one JSON object keyed by venue."),
) -> None:
    """What each venue offers and crossbook supports, as one matrix.

    Venues down (the exchanges, then the DEX venues), products, order types and account features
    across, then each DEX venue's chains (id, router, what crossbook trades there); --venue ID shows
    one venue's table with its notes."""
    from ..venues.registry import ALL_VENUES, all_capabilities
    from .matrix import chains_table, dex_chains, matrix, venue_detail

    chosen = ALL_VENUES
    if venue is not None:
        if venue.lower() not in ALL_VENUES:
            fail(f"unknown venue {venue!r}; known: {', '.join(ALL_VENUES)}")
        chosen = (venue.lower(),)
    tables = all_capabilities(chosen)
    chains = dex_chains(chosen)
    if json:
        print_json({name: caps.as_dict() | ({"chains": [c.as_dict() for c in chains[name]]} if name in chains else {})
                    for name, caps in tables.items()})
        return
    out.print(venue_detail(chosen[0], tables[chosen[0]]) if venue is not None else matrix(tables, out.width))
    for name, supported in chains.items():
        out.print(chains_table(name, supported))


# ---- record / replay -------------------------------------------------------------------------


@app.command()
def record(
    venue: str = typer.Argument(..., help="Venue or feed id (binance, binanceusdm, okx, ...)."),
    symbols: list[str] = typer.Argument(..., help="Standard symbols."),
    out_file: Path = typer.Option(..., "--out", help="Capture file to write (crossbook JSONL; .gz compresses)."),
    seconds: float = typer.Option(30.0, help="How long to record."),
    sim: bool = typer.Option(False, "--sim", help="Record the simulated venue."),
) -> None:
    """Record a venue's raw frames and REST snapshots, timestamped."""
    from ..venues.registry import feed_class

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
    import aiohttp

    from ..feeds.capture import CaptureWriter
    from ..feeds.manager import VenueFeed
    from ..sim.cluster import SimCluster
    from ..venues.registry import feed_class, spec, venue_of

    cluster = SimCluster([feed_id]) if sim else None
    writer = CaptureWriter(path, feed=feed_id)
    if cluster is not None:
        await cluster.start()
    ws, rest = cluster.urls(feed_id) if cluster else (None, None)
    limits = spec(venue_of(feed_id)).limits
    feed = VenueFeed(feed_class(feed_id), symbols, ws_url=ws, rest_url=rest, recorder=writer,
                     breach=limits.breach if limits is not None else None)
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
    venue: str | None = typer.Option(None, help="Feed id, overriding what the URLs say."),
    json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Replay captures through the real feed handlers.

    Exits 1 on any checksum failure or gap."""
    from ..market.replay import replay_files

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
    """One row per book; prices as the venue sent them (a capture carries no instrument grid),
    sizes in the JSON."""
    table = Table(title="replay")
    table.add_column("book", no_wrap=True)
    table.add_column("sync")
    add_number_column(table, "updates")
    table.add_column("checksums")
    add_number_column(table, "gaps")
    add_number_column(table, "best bid")
    add_number_column(table, "best ask")
    books = report["books"]
    assert isinstance(books, dict)
    for key, b in books.items():
        checks = f"{b['checksums_ok']} ok" + (f", {b['checksums_failed']} failed" if b["checksums_failed"] else "")
        table.add_row(key, "yes" if b["synced"] else "[yellow]no[/]", f"{b['updates']:,}", checks, f"{b['gaps']:,}",
                      *_touch(b["best_bid"], b["best_ask"]))
    out.print(table)
    out.print(", ".join(f"{name.replace('_', ' ')} {count:,}" for name, count in _totals(report).items()), markup=False)


def _totals(report: dict[str, object]) -> dict[str, int]:
    totals = report["totals"]
    assert isinstance(totals, dict)
    return totals


def _touch(bid: list[float] | None, ask: list[float] | None) -> tuple[str, str]:
    """The best bid's and ask's prices as parsed, both with the decimals of the finer one (a
    capture carries no instrument grid to round to)."""
    places = max((decimals(level[0]) for level in (bid, ask) if level is not None), default=0)

    def price(level: list[float] | None) -> str:
        return "-" if level is None else f"{level[0]:,.{places}f}"

    return price(bid), price(ask)
