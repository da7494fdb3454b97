"""The trader's everyday commands: order place / oco / cancel / amend / show / list, balances,
positions, transfer. Each runs on the simulated venues (``--sim``) or the accounts of a
crossbook.toml (``--config FILE``) through the Desk, and imports it only when it runs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import typer
from rich import box
from rich.table import Table

from ..errors import ConfigError, CrossbookError, InvalidOrder, UnknownSymbol
from ..model import Kind, MarginMode, OrderRequest, OrderType, PositionSide, Side, TimeInForce
from ..precision import Precision
from ..symbols import parse_standard
from .app import (
    NUMBERS,
    app,
    err,
    fail,
    out,
    parse_number,
    parse_side,
    parse_size,
    parse_symbol,
    parse_venue,
    parse_venues,
    print_json,
)
from .helpformat import CONTEXT, Group

if TYPE_CHECKING:
    from ..desk import Desk
    from ..trading.trader import OcoView, OrderView, Trader

T = TypeVar("T")

order_app = typer.Typer(help="Place, cancel, amend, show and list orders on one venue.", no_args_is_help=True,
                        cls=Group, rich_markup_mode=None, context_settings=CONTEXT)
app.add_typer(order_app, name="order")

_TYPES = {"limit": OrderType.LIMIT, "market": OrderType.MARKET, "stop": OrderType.STOP, "stop-limit": OrderType.STOP_LIMIT}
_SIM = typer.Option(False, "--sim", help="On the simulated venues (funded accounts, no keys).")
_CONFIG = typer.Option(None, "--config", help="crossbook.toml: the accounts to trade with.")
_JSON = typer.Option(False, "--json", help="Print one JSON object.")
_ACCOUNT = typer.Option("main", "--account", help="The sub-account.")


# ---- running a command on the desk ------------------------------------------------------------


def _source(sim: bool, config: Path | None) -> None:
    if sim == (config is not None):
        fail("give exactly one of --sim or --config FILE")


@asynccontextmanager
async def _desk(sim: bool, config: Path | None, venues: list[str], symbols: list[str]) -> AsyncIterator[Desk]:
    from ..desk import Desk

    # an option's market is simulated only on asking (options=True); its book is not followed from the start
    options = [s for s in symbols if parse_standard(s)[2] is Kind.OPTION]
    books = [s for s in symbols if s not in options]
    desk = (Desk.sim(venues=venues, symbols=books, options=bool(options)) if sim
            else Desk.from_config(config or Path(), venues=venues))
    async with desk:
        yield desk


def _run(work: Callable[[], Coroutine[Any, Any, T]], venue: str | None = None) -> T:
    """Run ``work``; crossbook's refusals end the command with one line: exit 2 for input the
    venue or crossbook refuses before sending, 1 for what a venue answered or failed to."""
    try:
        return asyncio.run(work())
    except (InvalidOrder, ConfigError) as exc:
        fail(_named(str(exc), venue))
    except CrossbookError as exc:
        fail(_named(str(exc), venue), code=1)
    raise AssertionError("unreachable")


def _named(message: str, venue: str | None) -> str:
    return message if venue is None or venue in message else f"{venue}: {message}"


async def _reference_price(desk: Desk, venue: str, symbol: str, side: Side) -> Decimal | None:
    """The touch a market order meets: the best ask for a buy, the best bid for a sell, from the
    desk's live book; None where the venue's feeds do not list the market: the trader then reads
    the venue's book through ccxt."""
    try:
        book = await desk.book(venue, symbol)
    except UnknownSymbol:
        return None
    level = book.best_ask() if side is Side.BUY else book.best_bid()
    if level is None:
        raise InvalidOrder(f"{venue}: the {symbol} book has no {'asks' if side is Side.BUY else 'bids'} to price the order")
    return Decimal(repr(level[0]))


async def _notional_amount(desk: Desk, trader: Trader, symbol: str, notional: Decimal, price: Decimal | None) -> Decimal:
    """The base amount of ``notional`` at the order's price, else at the live mid; rounded down to
    the lot, as the command says on stderr."""
    at = "the order's price"
    if price is None:
        mid = (await desk.book(trader.venue, symbol)).mid()
        if mid is None:
            raise InvalidOrder(f"{trader.venue}: the {symbol} book has no mid to convert --notional at")
        price, at = Decimal(repr(mid)), "the live mid"
    amount = trader.amount_for_notional(symbol, notional, price)
    rules = trader.market(symbol)
    unit = "contracts of " if rules.derivative else ""
    err.print(f"--notional {notional} {rules.quote} at {at} {price} = {amount} {unit}{symbol}, rounded down to the lot {rules.lot}",
              soft_wrap=True, markup=False)
    return amount


def _print_order(view: OrderView, json: bool) -> None:
    if json:
        print_json(view.to_json())
        return
    p = Precision(view.price_decimals, view.amount_decimals)
    currency = view.price_currency or parse_standard(view.symbol)[1]
    price = "" if view.price is None else f" @ {p.fmt_money(float(view.price), currency)}"
    trigger = "" if view.stop_price is None else f" on trigger {p.fmt_money(float(view.stop_price), currency)}"
    average = "" if view.avg_price is None else f" at {p.fmt_money(float(view.avg_price), currency)}"
    base = parse_standard(view.symbol)[0]
    contracts = "" if view.contracts is None else f" ({_quantity(view.contracts)} contracts)"
    out.print(f"{view.venue}/{view.account} {view.client_order_id} (venue id {view.venue_order_id or '-'}): {view.status.value} "
              f"{view.side.value} {p.fmt_amount(_float(view.amount))} {base}{contracts} {view.symbol} {view.type.value}"
              f"{price}{trigger}; filled {p.fmt_amount(_float(view.filled))} {base}{average}"
              + (f" ({view.reason})" if view.reason else ""), soft_wrap=True, markup=False)


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _choice(text: str | None, choices: dict[str, T], name: str, venue: str) -> T | None:
    if text is None:
        return None
    if text.lower() not in choices:
        fail(f"{venue}: {name} must be one of {', '.join(choices)}, not {text!r}")
    return choices[text.lower()]


# ---- order place / oco --------------------------------------------------------------------------


@order_app.command("place", context_settings=NUMBERS)
def place(
    venue: str = typer.Argument(..., help="Venue id, e.g. binance."),
    symbol: str = typer.Argument(..., help="Standard symbol, e.g. BTC-USDT."),
    side: str = typer.Argument(..., help="buy or sell."),
    amount: str | None = typer.Argument(None, help="Amount in base units (or give --notional); sent in contracts on contract markets."),
    type_: str = typer.Option("limit", "--type", metavar="TYPE", help="limit, market, stop or stop-limit."),
    price: str | None = typer.Option(None, help="Limit price (limit, stop-limit)."),
    stop_price: str | None = typer.Option(None, help="Trigger price (stop, stop-limit)."),
    tif: str = typer.Option("gtc", "--tif", metavar="TIF", help="Time in force: gtc, ioc or fok."),
    post_only: bool = typer.Option(False, "--post-only", help="Rest only: refused if it would take."),
    reduce_only: bool = typer.Option(False, "--reduce-only", help="Only reduce a position (derivatives)."),
    iceberg: str | None = typer.Option(None, metavar="VISIBLE", help="Show only this much of the order."),
    take_profit: str | None = typer.Option(None, metavar="PRICE", help="Attach a take-profit trigger."),
    stop_loss: str | None = typer.Option(None, metavar="PRICE", help="Attach a stop-loss trigger."),
    leverage: str | None = typer.Option(None, help="Set this leverage on the instrument first (derivatives)."),
    margin: str | None = typer.Option(None, "--margin", metavar="MODE", help="cross or isolated, set first."),
    position_side: str | None = typer.Option(None, metavar="SIDE", help="long or short (hedge mode)."),
    account: str = _ACCOUNT,
    notional: str | None = typer.Option(None, help="Size in the quote currency instead of AMOUNT (rounded down to the lot)."),
    sim: bool = _SIM,
    config: Path | None = _CONFIG,
    json: bool = _JSON,
) -> None:
    """Place one order on one venue.

    Checked against the venue's rules before anything is sent: its markets, tick and lot, order
    types and flags, and the account's balance."""
    venue = parse_venue(venue)
    symbol = parse_symbol(symbol, venue)
    order_side = parse_side(side)
    base, quote_size = parse_size(amount, notional, venue)
    kind = _choice(type_, _TYPES, "--type", venue)
    assert kind is not None
    prices = {name: parse_number(text, f"--{name.replace('_', '-')}", venue) for name, text in
              (("price", price), ("stop_price", stop_price), ("take_profit", take_profit), ("stop_loss", stop_loss))}
    fields: dict[str, Any] = dict(
        time_in_force=_choice(tif, {t.value: t for t in TimeInForce}, "--tif", venue), post_only=post_only,
        reduce_only=reduce_only, iceberg_visible=parse_number(iceberg, "--iceberg", venue),
        leverage=parse_number(leverage, "--leverage", venue),
        margin_mode=_choice(margin, {m.value: m for m in MarginMode}, "--margin", venue),
        position_side=_choice(position_side, {"long": PositionSide.LONG, "short": PositionSide.SHORT}, "--position-side", venue)
        or PositionSide.BOTH, account=account, **prices)
    _source(sim, config)

    async def work() -> OrderView:
        async with _desk(sim, config, [venue], [symbol]) as desk:
            trader = await desk.account(venue, account)
            trader.market(symbol)  # an unknown symbol fails here, before any book is waited for
            if base is not None:
                size = trader.amount_in_base(symbol, base)
            else:
                size = await _notional_amount(desk, trader, symbol, quote_size or Decimal(0), prices["price"] or prices["stop_price"])
            request = OrderRequest(venue, symbol, order_side, kind, size, **fields)
            reference = None
            if kind is OrderType.MARKET:
                reference = await _reference_price(desk, venue, symbol, order_side)
            return await trader.place(request, reference_price=reference)

    _print_order(_run(work, venue), json)


KEPT_BY_CROSSBOOK = ("kept by crossbook: nothing cancels one leg when the other fills until `crossbook follow` "
                     "runs on this account (or this command runs with --keep)")
KEEP_POLL = 0.25  # seconds between looks at the journal, which the background keeper updates


@dataclass(frozen=True, slots=True)
class KeptOco:
    """What ``order oco`` leaves behind: the group as it ended the command, and how the command
    ended (``placed``: without --keep; ``done``: the group ended; ``seconds`` or ``interrupted``:
    stopped while it was open, its legs canceled if ``canceled_on_exit``)."""

    view: OcoView
    ended: str
    canceled_on_exit: bool = False

    @property
    def kept_by(self) -> str:
        return "venue" if self.view.mode == "native" else "crossbook"

    @property
    def note(self) -> str:
        if self.view.state.final:
            return ""
        if self.kept_by == "venue":
            return "kept by the venue: its own OCO cancels the other leg"
        return KEPT_BY_CROSSBOOK

    def to_json(self) -> dict[str, Any]:
        return {**self.view.to_json(), "kept_by": self.kept_by, "ended": self.ended,
                "canceled_on_exit": self.canceled_on_exit, "note": self.note}


async def _keep_in_foreground(trader: Trader, placed: OcoView, seconds: float | None, cancel_on_exit: bool) -> KeptOco:
    """Wait while the background keeper follows the group, until it ends, ``seconds`` pass or the
    command is interrupted (Ctrl-C cancels this task); then cancel both legs if asked to."""
    journal = trader.account.journal
    clock = asyncio.get_running_loop().time
    deadline = None if seconds is None else clock() + seconds

    def open_still() -> bool:
        group = journal.oco(placed.group_id)
        return group is not None and not group.state.final

    ended = "done"
    try:
        while open_still():
            if deadline is not None and clock() >= deadline:
                ended = "seconds"
                break
            await asyncio.sleep(KEEP_POLL)
    except asyncio.CancelledError:
        ended = "interrupted"
    if ended != "done" and cancel_on_exit:
        return KeptOco(await trader.cancel_oco(placed.group_id), ended, canceled_on_exit=True)
    group = journal.oco(placed.group_id)
    assert group is not None
    return KeptOco(trader.oco_view(group), ended)


@order_app.command("oco", context_settings=NUMBERS)
def oco(
    venue: str = typer.Argument(..., help="Venue id, e.g. binance."),
    symbol: str = typer.Argument(..., help="Standard symbol, e.g. BTC-USDT."),
    side: str = typer.Argument(..., help="buy or sell."),
    amount: str = typer.Argument(..., help="Amount in base units, for both legs."),
    price: str = typer.Option(..., help="The limit leg's price."),
    stop_price: str = typer.Option(..., help="The stop leg's trigger."),
    stop_limit: str | None = typer.Option(None, metavar="PRICE", help="Make the stop leg a stop-limit at this price."),
    keep: bool = typer.Option(False, "--keep", help="Stay and keep the pair until a leg fills (or Ctrl-C, or --seconds)."),
    seconds: float | None = typer.Option(None, min=0, help="With --keep: stop keeping after this many seconds."),
    cancel_on_exit: bool = typer.Option(False, "--cancel-on-exit",
                                        help="With --keep: cancel both legs if it stops before a leg filled."),
    account: str = _ACCOUNT,
    sim: bool = _SIM,
    config: Path | None = _CONFIG,
    json: bool = _JSON,
) -> None:
    """Place a one-cancels-the-other pair: a limit and a stop.

    The venue's own OCO where crossbook sends it; else crossbook's own (two orders), which only
    a running crossbook enforces: this command with --keep, or `crossbook follow`."""
    venue = parse_venue(venue)
    symbol = parse_symbol(symbol, venue)
    order_side = parse_side(side)
    size = parse_number(amount, "amount", venue)
    limit_px, stop_px = parse_number(price, "--price", venue), parse_number(stop_price, "--stop-price", venue)
    stop_limit_px = parse_number(stop_limit, "--stop-limit", venue)
    assert size is not None and limit_px is not None and stop_px is not None
    if not keep and (seconds is not None or cancel_on_exit):
        fail(f"{venue}: --seconds and --cancel-on-exit go with --keep")
    _source(sim, config)

    async def work() -> KeptOco:
        async with _desk(sim, config, [venue], [symbol]) as desk:
            trader = await desk.account(venue, account)
            placed = await trader.oco(symbol, order_side, size, price=limit_px, stop_price=stop_px, stop_limit=stop_limit_px)
            if not keep:
                return KeptOco(placed, "placed")
            if not json:
                out.print(f"{venue} OCO group {placed.group_id} placed; keeping it (Ctrl-C stops)", markup=False)
            return await _keep_in_foreground(trader, placed, seconds, cancel_on_exit)

    _print_oco(_run(work, venue), json)


def _print_oco(result: KeptOco, json: bool) -> None:
    if json:
        print_json(result.to_json())
        return
    view = result.view
    how = f"order list {view.list_id}" if view.list_id else "crossbook's own OCO (two orders, one cancels the other)"
    out.print(f"{view.venue} OCO group {view.group_id}, {how}: {view.state.value}", markup=False, soft_wrap=True)
    for leg in view.legs:
        _print_order(leg, False)
    if result.canceled_on_exit:
        done = "both legs canceled" if view.state.final else "canceling asked, but a leg is still open"
        out.print(f"stopped ({result.ended}): {done}", markup=False)
    if result.note:
        stopped = "" if result.ended == "placed" else f"stopped ({result.ended}) with the pair still open; "
        out.print(stopped + result.note, markup=False, soft_wrap=True)


# ---- order cancel / amend / show / list -------------------------------------------------------


def _one_order(venue: str, order_id: str, account: str, sim: bool, config: Path | None, json: bool,
               act: Callable[[Trader, str], Awaitable[OrderView]]) -> None:
    venue = parse_venue(venue)
    _source(sim, config)

    async def work() -> OrderView:
        async with _desk(sim, config, [venue], []) as desk:
            return await act(await desk.account(venue, account), order_id)

    _print_order(_run(work, venue), json)


@order_app.command("cancel")
def cancel(
    venue: str = typer.Argument(..., help="Venue id."),
    order_id: str = typer.Argument(..., metavar="ID", help="Client order id or the venue's order id."),
    account: str = _ACCOUNT,
    sim: bool = _SIM,
    config: Path | None = _CONFIG,
    json: bool = _JSON,
) -> None:
    """Cancel an order."""
    _one_order(venue, order_id, account, sim, config, json, lambda t, i: t.cancel(i))


@order_app.command("amend", context_settings=NUMBERS)
def amend(
    venue: str = typer.Argument(..., help="Venue id."),
    order_id: str = typer.Argument(..., metavar="ID", help="Client order id or the venue's order id."),
    amount: str | None = typer.Option(None, help="The new total amount."),
    price: str | None = typer.Option(None, help="The new limit price."),
    account: str = _ACCOUNT,
    sim: bool = _SIM,
    config: Path | None = _CONFIG,
    json: bool = _JSON,
) -> None:
    """Change a live limit order's amount and/or price."""
    name = parse_venue(venue)
    new_amount, new_price = parse_number(amount, "--amount", name), parse_number(price, "--price", name)
    if new_amount is None and new_price is None:
        fail(f"{name}: give --amount, --price or both")
    _one_order(venue, order_id, account, sim, config, json, lambda t, i: t.amend(i, amount=new_amount, price=new_price))


@order_app.command("show")
def show(
    venue: str = typer.Argument(..., help="Venue id."),
    order_id: str = typer.Argument(..., metavar="ID", help="Client order id or the venue's order id."),
    account: str = _ACCOUNT,
    sim: bool = _SIM,
    config: Path | None = _CONFIG,
    json: bool = _JSON,
) -> None:
    """Show an order as the venue has it now."""
    _one_order(venue, order_id, account, sim, config, json, lambda t, i: t.order(i))


@order_app.command("list")
def list_orders(
    venues: str | None = typer.Option(None, help="Comma-separated venue ids (default: every configured one)."),
    open_only: bool = typer.Option(False, "--open", help="Live orders only, each refreshed from its venue."),
    account: str = _ACCOUNT,
    sim: bool = _SIM,
    config: Path | None = _CONFIG,
    json: bool = _JSON,
) -> None:
    """List the journal's orders, per venue."""
    chosen = parse_venues(venues)
    _source(sim, config)

    async def work() -> list[OrderView]:
        async with _desk(sim, config, chosen, []) as desk:
            views: list[OrderView] = []
            for venue in [v for v in desk.venues if venues is None or v in chosen]:
                trader = await desk.account(venue, account)
                views += await trader.open_orders() if open_only else trader.orders()
            return views

    views = _run(work)
    if json:
        print_json([v.to_json() for v in views])
        return
    # no vertical rules and single spaces between columns: eight columns fit 80 characters
    table = Table(title="open orders" if open_only else "orders", box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    for col in ("venue", "client id", "symbol", "side", "amount", "price", "filled", "status"):
        table.add_column(col, no_wrap=True, justify="right" if col in ("amount", "price", "filled") else "left")
    for v in views:
        p = Precision(v.price_decimals, v.amount_decimals)
        price = "market" if v.price is None else p.fmt_price(float(v.price))
        table.add_row(v.venue, v.client_order_id, v.symbol, v.side.value, p.fmt_amount(_float(v.amount)), price,
                      p.fmt_amount(_float(v.filled)), v.status.value)
    out.print(table)


# ---- balances / positions / transfer ----------------------------------------------------------


def _held(value: Decimal, cash: bool) -> str:
    """A holding as the table shows it: a dollar-like asset (``cash``) to the cent, others as the
    venue reports them (the JSON keeps the venue's number either way)."""
    return f"{value:,.2f}" if cash else _quantity(value)


def _quantity(value: Decimal | None) -> str:
    """A venue's own number as it reported it, thousands separated: 1000000.0 -> ``1,000,000``."""
    return "-" if value is None else f"{value.normalize() + 0:,f}"


@app.command()
def balances(
    venues: str | None = typer.Option(None, help="Comma-separated venue ids (default: every one of the desk)."),
    value_in: str = typer.Option("USDT", "--in", metavar="CURRENCY", help="Value the holdings in this currency at live prices."),
    sim: bool = _SIM,
    config: Path | None = _CONFIG,
    json: bool = _JSON,
) -> None:
    """Balances per venue and sub-account, valued at live prices."""
    from ..desk.results import FIAT_LIKE

    chosen = parse_venues(venues)
    currency = value_in.strip().upper()
    if not currency.isalnum():
        fail(f"--in must be a currency code such as USDT, not {value_in!r}")
    _source(sim, config)

    async def work() -> Any:
        async with _desk(sim, config, chosen, []) as desk:
            return await desk.balances(None if venues is None else chosen, value_in=currency)

    report = _run(work)
    if json:
        print_json(report.to_json())
        return
    # no vertical rules: six columns of full numbers fit an 80-column terminal uncut
    table = Table(title=f"balances (valued in {currency})", box=box.SIMPLE_HEAD, padding=(0, 1, 0, 0), pad_edge=False)
    table.add_column("venue/account wallet", no_wrap=True)
    table.add_column("asset", no_wrap=True)
    for col in ("free", "used", "total", f"value ({currency})"):
        table.add_column(col, justify="right", no_wrap=True)  # a number is never cut
    data = report.to_json()
    money = Precision(2 if currency in FIAT_LIKE else 8).fmt_money
    for row in report.rows:
        cash = row.asset in FIAT_LIKE
        table.add_row(row.label, row.asset, _held(row.free, cash), _held(row.used, cash),
                      _held(row.total, cash), money(row.value))
    out.print(table)
    out.print(f"total {money(report.total, currency)}" + (f" (not valued: {', '.join(data['unvalued'])})" if data["unvalued"] else ""),
              markup=False)
    for where, why in data["unavailable"].items():
        err.print(f"{where}: {why}", markup=False, soft_wrap=True)


@app.command()
def positions(
    venues: str | None = typer.Option(None, help="Comma-separated venue ids (default: every one of the desk)."),
    sim: bool = _SIM,
    config: Path | None = _CONFIG,
    json: bool = _JSON,
) -> None:
    """Open derivatives positions, per venue and sub-account."""
    chosen = parse_venues(venues)
    _source(sim, config)

    async def work() -> Any:
        async with _desk(sim, config, chosen, []) as desk:
            return await desk.positions(None if venues is None else chosen)

    report = _run(work)
    data = report.to_json()
    if json:
        print_json(data)
        return
    table = Table(title="positions")
    for col in ("venue", "account", "symbol", "side", "size", "entry", "leverage", "margin", "uPnL"):
        table.add_column(col, justify="right" if col in ("size", "entry", "leverage", "uPnL") else "left")
    for position in report.positions:
        v = position.view
        base, quote_currency = parse_standard(v.symbol)[:2]
        table.add_row(position.venue, position.account, v.symbol, v.side, f"{_quantity(v.size)} {base}",
                      _quantity(v.entry_price), "-" if v.leverage is None else f"{_quantity(v.leverage)}x",
                      v.margin_mode or "-", "-" if v.unrealized_pnl is None else f"{_quantity(v.unrealized_pnl)} {quote_currency}")
    out.print(table)
    if data["no_derivatives"]:
        out.print(f"no derivatives traded on: {', '.join(data['no_derivatives'])}", markup=False)
    for where, why in data["unavailable"].items():
        err.print(f"{where}: {why}", markup=False, soft_wrap=True)


@app.command(context_settings=NUMBERS)
def transfer(
    venue: str = typer.Argument(..., help="Venue id."),
    asset: str = typer.Argument(..., help="Currency, e.g. USDT."),
    amount: str = typer.Argument(..., help="How much to move."),
    from_account: str = typer.Option(..., "--from", metavar="SUB", help="The sub-account to take it from (main: the master)."),
    to_account: str = typer.Option(..., "--to", metavar="SUB", help="The sub-account to move it to."),
    sim: bool = _SIM,
    config: Path | None = _CONFIG,
    json: bool = _JSON,
) -> None:
    """Move funds between two sub-accounts of one venue."""
    venue = parse_venue(venue)
    size = parse_number(amount, "amount", venue)
    assert size is not None
    if not asset.strip().isalnum():
        fail(f"{venue}: asset must be a currency code such as USDT, not {asset!r}")
    _source(sim, config)

    async def work() -> Any:
        async with _desk(sim, config, [venue], []) as desk:
            if sim:  # the simulator opens a sub-account when it is first used
                for sub in {from_account, to_account} - {"main"}:
                    await desk.account(venue, sub)
            return await (await desk.account(venue, "main")).transfer(asset, size, from_account, to_account)

    done = _run(work, venue)
    if json:
        print_json(done.to_json())
    else:
        out.print(f"{venue}: moved {done.amount} {done.asset} from {done.from_account} to {done.to_account} "
                  f"(transfer {done.transfer_id})", markup=False)
