"""crossbook trading commands: reconcile, follow, route, arb."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from ..errors import CrossbookError
from ..precision import DEFAULT_PRECISION, Precision, fmt_bps
from ..symbols import parse_standard
from ..venues.registry import VENUES

if TYPE_CHECKING:
    from ..desk import Desk
    from ..routing.executor import ExecutionReport
from .app import NUMBERS, app, err, fail, out, parse_side, parse_size, parse_venues, print_json
from .market import add_number_column

# ---- reconcile -------------------------------------------------------------------------------


@app.command()
def reconcile(
    config: Path = typer.Option(Path("crossbook.toml"), help="The accounts and the journal."),
    json: bool = typer.Option(False, "--json", help="Print one JSON list, an entry per account."),
) -> None:
    """Match the order journal with every configured account.

    Finds orders whose fate is unknown, open orders and missed fills."""
    from ..config import load_config
    from ..trading.session import reconcile_all

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
    seconds: float | None = typer.Option(None, help="Stop after this many seconds (default: run until Ctrl-C)."),
    json: bool = typer.Option(False, "--json", help="Print the start reconciliation and the stream figures as JSON."),
) -> None:
    """Keep the order journal in step with every configured account.

    Reconciles at start, then follows each venue's private order and fill stream (REST polling
    where a venue has none)."""
    from ..config import load_config
    from ..trading.session import follow as follow_accounts

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


# ---- route -----------------------------------------------------------------------------------


@app.command(context_settings=NUMBERS)
def route(
    symbol: str = typer.Argument(..., help="Standard symbol, e.g. BTC-USDT."),
    side: str = typer.Argument(..., help="buy or sell."),
    amount: str | None = typer.Argument(None, help="Amount in base units (or give --notional)."),
    notional: str | None = typer.Option(None, help="Size in the quote currency instead of AMOUNT, at the live mid."),
    limit: float | None = typer.Option(None, help="Price cap (buy) or floor (sell)."),
    max_slippage_bps: float | None = typer.Option(None, help="Take nothing further than this from the arrival mid."),
    max_venues: int | None = typer.Option(None, help="Split across at most this many venues."),
    deadline: float = typer.Option(10.0, help="Seconds to keep re-routing what is left."),
    urgency: str = typer.Option("take", help="take: IOC now; passive: rest post-only, then take."),
    passive_seconds: float = typer.Option(2.0, help="With --urgency passive: how long the posted orders rest."),
    venues: str | None = typer.Option(None, help="Comma-separated venue ids (default: all ten)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Plan only: send nothing."),
    sim: bool = typer.Option(False, "--sim", help="Route on the simulated venues (funded accounts, no keys)."),
    dex: bool = typer.Option(False, "--dex", help="With --sim: the local chain's Uniswap V3 pools join (needs node)."),
    config: Path | None = typer.Option(None, "--config", help="Accounts file (crossbook.toml) to trade with."),
    json: bool = typer.Option(False, "--json", help="Print the execution report as one JSON object."),
) -> None:
    """Route an order across venues at the least all-in cost.

    Prints the plan, every child order and the execution report."""
    from ..desk import Desk
    from ..routing.executor import RouteRequest, Urgency

    if sim == (config is not None):
        fail("route needs exactly one of --sim or --config FILE")
    if dex and not sim:
        fail("--dex runs the local chain's pools: it goes with --sim")
    chosen = parse_venues(venues)
    if urgency not in {u.value for u in Urgency}:
        fail(f"--urgency must be take or passive, not {urgency!r}")
    base, quote_size = parse_size(amount, notional)
    try:
        request = RouteRequest(symbol.upper(), parse_side(side), float(base) if base is not None else 1.0, limit=limit,
                               max_slippage_bps=max_slippage_bps, max_venues=max_venues, deadline=deadline,
                               urgency=Urgency(urgency), passive_seconds=passive_seconds)

        async def run() -> tuple[ExecutionReport, Precision]:
            opened = (Desk.sim(chosen, seed=7, dex=dex, symbols=[request.symbol]) if config is None
                      else Desk.from_config(config, venues=None if venues is None else chosen))
            async with opened as desk:
                if quote_size is None:
                    return await desk.route_request(request, dry_run=dry_run), desk.display_precision(request.symbol)
                sized = await desk.route(request.symbol, request.side, notional=quote_size, limit=limit,
                                         max_slippage_bps=max_slippage_bps, max_venues=max_venues, urgency=request.urgency,
                                         deadline=deadline, passive_seconds=passive_seconds, dry_run=dry_run)
                shown = desk.display_precision(request.symbol)
                base, currency = parse_standard(request.symbol)[:2]
                err.print(f"--notional {quote_size} {currency} = {shown.fmt_amount(sized.request.amount)} {base}"
                          " at the live mid, rounded down to the lot",
                          markup=False, soft_wrap=True)
                return sized, shown

        report, shown = asyncio.run(run())
    except CrossbookError as exc:
        fail(str(exc))
        return
    if json:
        print_json(report.to_json())
    else:
        print_route(report, shown)


def print_route(report: ExecutionReport, p: Precision) -> None:
    """The plan, the child orders sent and the outcome: amounts in the base currency, prices and
    fees in the quote currency, at the grids most venues use."""
    from ..routing.executor import Outcome

    r = report.request
    base, currency = parse_standard(r.symbol)[:2]
    plan = Table(title=f"plan: {r.side.value} {p.fmt_amount(r.amount)} {base} ({r.symbol})")
    plan.add_column("venue")
    for name, unit in (("amount", base), ("expected VWAP", currency), ("fee", currency)):
        add_number_column(plan, name, unit)
    for child in report.plan.children:
        plan.add_row(child.venue, p.fmt_amount(child.amount), p.fmt_price(child.expected_vwap),
                     p.fmt_money(child.fee + child.fixed_cost))
    out.print(plan)
    if report.children:
        sent = Table(title="child orders")
        add_number_column(sent, "round")
        sent.add_column("venue")
        sent.add_column("status")
        for name, unit in (("amount", base), ("filled", base), ("avg price", currency), ("fee", currency)):
            add_number_column(sent, name, unit)
        for c in report.children:
            sent.add_row(str(c.round), c.venue, c.status, p.fmt_amount(c.planned_amount), p.fmt_amount(c.filled),
                         p.fmt_price(c.avg_price), p.fmt_money(c.fee))
        out.print(sent)
    best = report.best_single.children[0].venue if report.best_single and report.best_single.children else None
    against = (f"best single venue {best} all-in {p.fmt_money(report.best_single_venue_all_in_price, currency)}; "
               f"saving {fmt_bps(report.savings_bps)}" if best else "no single venue could fill it alone")
    if report.outcome is Outcome.DRY_RUN:
        out.print(f"dry run, nothing sent: expected all-in {p.fmt_money(report.plan.all_in_price, currency)}; {against}",
                  markup=False)
        return
    out.print(f"outcome {report.outcome.value}: filled {p.fmt_amount(report.filled)} {base} at "
              f"{p.fmt_money(report.avg_price, currency)} (all-in {p.fmt_money(report.all_in_avg_price, currency)}, "
              f"fees {p.fmt_money(report.fees, currency)}); {against}", markup=False)


# ---- arb -------------------------------------------------------------------------------------


def parse_dislocation(text: str) -> Any:
    """``VENUE:BPS`` or ``VENUE:BPS:SYMBOL``."""
    from ..sim.scenario import Dislocation

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
    symbols: str | None = typer.Option(None, help="Symbols to scan (default: BTC-USDT, ETH-USDT, ETH-BTC, perpetuals)."),
    seconds: float = typer.Option(10.0, help="Seconds to scan."),
    venues: str | None = typer.Option(None, help="Comma-separated venue ids (default: all ten)."),
    kinds: str = typer.Option("cross_venue,triangular,basis", help="Any of cross_venue, triangular, basis (default: all).",
                              show_default=False),
    min_bps: float = typer.Option(0.0, help="Ignore opportunities earning no more than this, net."),
    sim: bool = typer.Option(False, "--sim", help="Scan the simulated venues (no keys, no network)."),
    dex: bool = typer.Option(False, "--dex", help="With --sim: the local chain's pools join (needs node)."),
    config: Path | None = typer.Option(None, "--config", help="crossbook.toml: its venues, at its endpoints."),
    dislocate: list[str] = typer.Option([], help="With --sim: move VENUE's prices by BPS ([:SYMBOL]); repeatable."),
    execute: bool = typer.Option(False, "--execute", help="With --sim or --config: trade each opportunity as it opens."),
    max_size: float = typer.Option(0.1, help="With --execute: the most base units per opportunity."),
    max_notional: float | None = typer.Option(
        None, help="Size cap in quote currency when no balances are known [100,000]."),
    withdrawal_fee: float | None = typer.Option(None, help="Count the transfer: its withdrawal fee, in base units."),
    transfer_seconds: float = typer.Option(0.0, help="With --withdrawal-fee: how long the transfer takes."),
    json: bool = typer.Option(False, "--json", help="Print every opportunity seen as one JSON list at the end."),
) -> None:
    """Find cross-venue, triangular and basis arbitrage, net of fees.

    Prints each opportunity as it opens and closes, timestamped, and a summary at the end; sizes
    are capped by the accounts' balances, else by --max-notional; with --execute it is traded.
    With --sim --dex the local chain's pools and 1inch trade against the exchanges, their gas in the
    profit; with --config, the pools and 1inch of its [chains.X] do, sized to the chain's wallet."""
    from ..arbitrage.cross_venue import Transfer
    from ..arbitrage.model import SizeCap
    from ..arbitrage.scanner import Event
    from ..desk.arb import DEFAULT_SYMBOLS, run_arb, scan_and_trade

    chosen = parse_venues(venues)
    wanted = [s.strip().upper() for s in symbols.split(",") if s.strip()] if symbols else list(DEFAULT_SYMBOLS)
    looked_for = [k.strip() for k in kinds.split(",") if k.strip()]
    moves = [parse_dislocation(d) for d in dislocate]
    if not (math.isfinite(seconds) and seconds > 0):
        fail(f"--seconds must be a positive number, not {seconds!r}")
    if sim and config is not None:
        fail("give --sim or --config FILE, not both")
    if moves and not sim:
        fail("--dislocate moves the simulated venues' prices: they need --sim")
    if execute and not (sim or config is not None):
        fail("--execute trades through accounts: it needs --sim or --config FILE")
    if dex and not sim:
        fail("--dex needs --sim (the local chain's pools run beside the simulated venues)")
    if execute and not (math.isfinite(max_size) and max_size > 0):
        fail(f"--max-size must be a positive number, not {max_size!r}")
    if max_notional is not None and not (math.isfinite(max_notional) and max_notional > 0):
        fail(f"--max-notional must be a positive number, not {max_notional!r}")
    if withdrawal_fee is not None and not (math.isfinite(withdrawal_fee) and withdrawal_fee >= 0 and transfer_seconds >= 0):
        fail(f"--withdrawal-fee and --transfer-seconds must not be negative, not {withdrawal_fee!r}, {transfer_seconds!r}")
    transfer = Transfer(withdrawal_fee, transfer_seconds) if withdrawal_fee is not None else None

    grids = Grids()

    def show(entry: dict[str, Any]) -> None:
        rounded = rounded_opportunity(entry, grids)  # reads the symbols' grids while the desk runs
        if not json:
            print_opportunity(rounded, grids)

    def event_json(event: Event) -> dict[str, Any]:
        return {"event": event.kind, **event.opportunity.as_json()}

    def say_cap(cap: SizeCap) -> None:
        (err if json else out).print(f"{_clock(None)} scanning {', '.join(wanted)} for {seconds:g} s; {cap.describe()}",
                                     markup=False)

    try:
        if execute:
            seen = asyncio.run(scan_and_trade(wanted, seconds, venues=chosen, dislocations=moves, max_size=max_size,
                                              kinds=looked_for, min_bps=min_bps, transfer=transfer, on_event=show,
                                              on_start=grids.read_from, max_notional=max_notional, on_cap=say_cap,
                                              dex=dex, config=config))
        else:
            seen = asyncio.run(run_arb(wanted, seconds, sim, venues=chosen, dislocations=moves, kinds=looked_for,
                                       min_bps=min_bps, transfer=transfer, on_event=lambda e: show(event_json(e)),
                                       on_start=grids.read_from, config=config, max_notional=max_notional, on_cap=say_cap,
                                       dex=dex))
    except CrossbookError as exc:
        fail(str(exc))
        return
    if json:
        print_json([rounded_opportunity(entry, grids) for entry in seen])
    else:
        print_arb_summary([rounded_opportunity(entry, grids) for entry in seen], grids)


class Grids:
    """Each symbol's precision, for the JSON (the finest grid) and the screen (the grid most venues
    use), read from the running desk the first time an opportunity names the symbol."""

    def __init__(self) -> None:
        self._desk: Desk | None = None
        self._found: dict[str, tuple[Precision, Precision]] = {}

    def read_from(self, desk: Desk) -> None:
        self._desk = desk

    def _of(self, symbol: str) -> tuple[Precision, Precision]:
        if symbol not in self._found:
            desk = self._desk
            self._found[symbol] = ((desk.precision(symbol), desk.display_precision(symbol)) if desk is not None
                                   else (DEFAULT_PRECISION, DEFAULT_PRECISION))
        return self._found[symbol]

    def json(self, symbol: str) -> Precision:
        return self._of(symbol)[0]

    def shown(self, symbol: str) -> Precision:
        return self._of(symbol)[1]


def _profit_rounding(entry: dict[str, Any], p: Callable[[str], Precision]) -> Callable[[float | None], float | None]:
    """How ``net_profit`` rounds: money in the first leg's quote currency, or, for a triangle that
    starts by selling, an amount of that leg's base currency."""
    first = entry["legs"][0]
    grid = p(first["symbol"])
    return grid.amount if entry["kind"] == "triangular" and first["side"] == "sell" else grid.money


def rounded_opportunity(entry: dict[str, Any], grids: Grids) -> dict[str, Any]:
    """An ``arb --json`` entry with its numbers at their symbols' grids: leg prices at the tick,
    amounts at the lot, profits as money, rates and bps at theirs, times to the millisecond. The
    scanner's entries are exact; rounding is for what is printed."""
    p = grids.json
    first = p(entry["legs"][0]["symbol"])
    legs = [leg | {"price": p(leg["symbol"]).price(leg["price"]), "amount": p(leg["symbol"]).amount(leg["amount"]),
                   "fee_rate": Precision.rate(leg["fee_rate"]), "fixed_cost": p(leg["symbol"]).money(leg["fixed_cost"])}
            for leg in entry["legs"]]
    rounded = entry | {"legs": legs, "net_profit": _profit_rounding(entry, p)(entry["net_profit"]),
                   "net_bps": Precision.bps(entry["net_bps"])}
    rounded |= {key: _millis(entry[key]) for key in ("at", "duration", "opened_at", "closed_at") if key in entry}
    if "transfer" in entry:
        t = entry["transfer"]
        rounded["transfer"] = t | {"withdrawal_fee": first.amount(t["withdrawal_fee"]), "cost": first.money(t["cost"])}
    if entry.get("funding_rate") is not None:
        rounded["funding_rate"] = Precision.rate(entry["funding_rate"])
    done = entry.get("executed")
    if done is not None and "legs" in done:
        rounded["executed"] = done | {"legs": [leg | {"filled": p(leg["symbol"]).amount(leg["filled"]),
                                                  "all_in_price": p(leg["symbol"]).price(leg["all_in_price"])}
                                           for leg in done["legs"]],
                                  "realised_profit": _profit_rounding(entry, p)(done["realised_profit"])}
    elif done is not None and "bought" in done:
        rounded["executed"] = done | {
            "bought": first.amount(done["bought"]), "sold": first.amount(done["sold"]),
            "buy_all_in_price": first.price(done["buy_all_in_price"]), "sell_all_in_price": first.price(done["sell_all_in_price"]),
            "realised_profit": first.money(done["realised_profit"]), "unhedged": first.amount(done["unhedged"]),
            "remaining_unhedged": first.amount(done.get("remaining_unhedged", 0.0))}
        if done.get("flatten"):
            f = done["flatten"]
            rounded["executed"]["flatten"] = f | {
                "amount": first.amount(f["amount"]), "filled": first.amount(f["filled"]), "remaining": first.amount(f["remaining"]),
                "steps": [step | {"filled": first.amount(step["filled"]), "all_in_price": first.price(step["all_in_price"])}
                          for step in f["steps"]]}
    return rounded


def _millis(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _clock(at: float | None) -> str:
    """A line's timestamp, local time to the millisecond (now when ``at`` is None)."""
    import time

    moment = time.time() if at is None else at
    return time.strftime("%H:%M:%S", time.localtime(moment)) + f".{int(moment * 1000) % 1000:03d}"


def _profit_text(entry: dict[str, Any], grids: Grids, value: float | None) -> str:
    """A profit with its currency: the first leg's quote, or the base a triangle starts from."""
    first = entry["legs"][0]
    p = grids.shown(first["symbol"])
    currency = entry.get("profit_currency") or parse_standard(first["symbol"])[1]
    money = p.fmt_amount if currency == parse_standard(first["symbol"])[0] else p.fmt_money
    return f"{money(value)} {currency}"


def print_opportunity(entry: dict[str, Any], grids: Grids) -> None:
    """One timestamped line per event; ``entry`` already rounded (rounded_opportunity)."""
    def leg_text(leg: dict[str, Any]) -> str:
        p = grids.shown(leg["symbol"])
        base, currency = parse_standard(leg["symbol"])[:2]
        gas = f" + {leg['fixed_cost']:.3g} {currency} gas" if leg["fixed_cost"] else ""  # cents on a cheap chain
        return f"{leg['side']} {p.fmt_amount(leg['amount'])} {base} on {leg['venue']} @ {p.fmt_money(leg['price'], currency)}{gas}"

    legs = ", ".join(leg_text(leg) for leg in entry["legs"])
    net = f"net {_profit_text(entry, grids, entry['net_profit'])} ({fmt_bps(entry['net_bps'])})"
    capped = f", capped by {entry['capped_by'].replace('_', ' ')}" if entry.get("capped_by") else ""
    if entry["event"] == "close":
        out.print(f"{_clock(entry['closed_at'])} [dim]closed[/] {entry['kind']} after "
                  f"{entry['closed_at'] - entry['opened_at']:.2f} s: {legs}; last {net}{capped}")
        return
    first = entry["legs"][0]
    p = grids.shown(first["symbol"])
    currency = parse_standard(first["symbol"])[1]
    line = f"{_clock(entry['opened_at'])} [green]open[/] {entry['kind']}: {legs}; {net}{capped}"
    if "transfer" in entry:
        line += f"; transfer {p.fmt_money(entry['transfer']['cost'], currency)}, {entry['transfer']['seconds']:g} s"
    done = entry.get("executed")
    if done is not None:
        line += "; " + executed_text(entry, done, grids)
    out.print(line)


def executed_text(entry: dict[str, Any], done: dict[str, Any], grids: Grids) -> str:
    """What trading an opportunity did, its profit in its currency, and any open position flattened."""
    if "error" in done:
        return f"not traded: {done['error']}"
    if "legs" in done:
        incomplete = "" if done["complete"] else " (incomplete)"
        return f"traded {len(done['legs'])} legs{incomplete}, realised {_profit_text(entry, grids, done['realised_profit'])}"
    first = entry["legs"][0]
    p = grids.shown(first["symbol"])
    base = parse_standard(first["symbol"])[0]
    text = f"traded {p.fmt_amount(done['bought'])} {base}, realised {_profit_text(entry, grids, done['realised_profit'])}"
    return text + unhedged_text(done, p.fmt_amount, base)


def unhedged_text(done: dict[str, Any], amount: Callable[[float | None], str], base: str) -> str:
    """``; unhedged X BTC, flattened on VENUE`` (or what is left open) when one leg filled more."""
    if not done.get("unhedged"):
        return ""
    text = f"; [yellow]unhedged {amount(abs(done['unhedged']))} {base}[/]"
    flatten = done.get("flatten")
    if flatten is not None and flatten.get("filled"):
        text += f", flattened on {flatten['venue']}"
    left = done.get("remaining_unhedged") or 0.0
    if left:
        text += f", [red]{amount(abs(left))} {base} still open[/]"
    return text


def print_arb_summary(entries: list[dict[str, Any]], grids: Grids) -> None:
    """When ``arb`` ends: how many opportunities opened and closed, the best, and what trading them did."""
    if not entries:
        out.print(f"{_clock(None)} no opportunity opened")
        return
    still_open = sum(e["closed_at"] is None for e in entries)
    kinds = ", ".join(f"{sum(e['kind'] == k for e in entries)} {k}" for k in dict.fromkeys(e["kind"] for e in entries))
    best = max(entries, key=lambda e: e["net_bps"])
    lines = [f"{_clock(None)} {len(entries)} opportunities ({kinds}), {len(entries) - still_open} closed, {still_open} still open",
             f"best: {best['kind']} net {_profit_text(best, grids, best['net_profit'])} ({fmt_bps(best['net_bps'])})"]
    traded = [e for e in entries if e.get("executed") and "error" not in e["executed"]]
    if traded:
        realised: dict[str, tuple[float, dict[str, Any]]] = {}  # currency -> (total, an entry in it)
        for e in traded:
            currency = e.get("profit_currency") or parse_standard(e["legs"][0]["symbol"])[1]
            total = realised.get(currency, (0.0, e))[0] + (e["executed"]["realised_profit"] or 0.0)
            realised[currency] = (total, e)
        unhedged = sum(1 for e in traded if e["executed"].get("unhedged"))
        lines.append(f"traded {len(traded)}, realised " + ", ".join(_profit_text(e, grids, v) for v, e in realised.values())
                     + (f"; {unhedged} left a leg unhedged (flattened as reported above)" if unhedged else ""))
    for line in lines:
        out.print(line, markup=False)
