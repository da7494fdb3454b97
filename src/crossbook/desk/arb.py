"""``crossbook arb`` on a desk: live consolidated books for the symbols, the scanner over them for a
while, and every opportunity it saw in the ``--json`` shape; with ``execute``, each cross-venue
and triangular one traded as it opens. With ``sim`` the simulated venues run on 127.0.0.1 (no
keys, no network) and can be told to dislocate a venue so opportunities appear."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any

from ..arbitrage.basis import Funding
from ..arbitrage.cross_venue import Balances, Transfer
from ..arbitrage.execute import trade_as_they_open
from ..arbitrage.model import Fees, Opportunity, SizeCap
from ..arbitrage.scanner import KINDS, OnEvent, OpportunityLog, Scanner
from ..sim.scenario import Dislocation, Scenario
from ..venues.registry import VENUES
from .desk import Desk
from .metering import arbitrage_executed

DEFAULT_SYMBOLS = ("BTC-USDT", "ETH-USDT", "ETH-BTC", "BTC-USDT-PERP", "ETH-USDT-PERP")
LIVE_WAIT = 30.0  # seconds the books get to sync before the scan starts regardless

OnOpen = Callable[[Opportunity], Awaitable[None]]
OnCap = Callable[[SizeCap], None]


async def known_balances(desk: Desk) -> Balances | None:
    """What the desk's accounts hold free (venue -> asset -> amount), None when it has no account
    (a public desk): the balances an opportunity is sized to."""
    if not desk.accounts:
        return None
    return (await desk.balances(value_in=None)).available()


async def run_arb(
    symbols: Iterable[str] = DEFAULT_SYMBOLS,
    seconds: float = 10.0,
    sim: bool = True,
    *,
    venues: Iterable[str] = VENUES,
    dislocations: Iterable[Dislocation] = (),
    on_open: OnOpen | None = None,
    on_event: OnEvent | None = None,
    kinds: Iterable[str] = KINDS,
    fees: Fees | None = None,
    balances: Balances | None = None,
    transfer: Transfer | None = None,
    funding: Funding | None = None,
    min_bps: float = 0.0,
    seed: int = 7,
    on_start: Callable[[Desk], None] | None = None,
    config: Path | None = None,
    max_notional: float | None = None,
    on_cap: OnCap | None = None,
) -> list[dict[str, object]]:
    """Scan ``symbols`` on ``venues`` for ``seconds`` once their books are live (or LIVE_WAIT
    passed). ``sim``: against the simulated venues, applying ``dislocations`` (``at`` counted from
    the simulator's start); otherwise against the venues themselves. ``on_open`` is awaited with
    each opportunity as it opens (the hook for execution), ``on_event`` sees every open and close.
    ``config`` (not ``sim``): the books from the endpoints a crossbook.toml names (a running
    ``crossbook sim``), its accounts' venues only.
    ``funding`` defaults to the rates the venues' public APIs report; ``on_start`` sees the desk
    once it runs (its symbols' precision, say). Sizes are capped by ``balances`` (default: what the
    desk's accounts hold, when it has any) and ``max_notional`` (default: DEFAULT_MAX_NOTIONAL when
    no balances are known); ``on_cap`` is told which caps apply. Returns every opportunity seen,
    in the order they opened; ``closed_at`` is None for those still open at the end."""
    chosen = list(venues)
    if sim:
        desk = Desk.sim(chosen, seed, scenario=Scenario(tuple(dislocations)))
    else:
        desk = Desk.public(chosen) if config is None else Desk.from_config(config, venues=chosen)
    log = OpportunityLog()
    async with desk:
        if on_start is not None:
            on_start(desk)
        if balances is None:
            balances = await known_balances(desk)
        if on_cap is not None:
            on_cap(SizeCap.of(balances, max_notional))
        found = desk.arbitrage(list(symbols), list(kinds), seconds=seconds, fees=fees, balances=balances, transfer=transfer,
                               funding=funding, min_bps=min_bps, live_within=LIVE_WAIT, max_notional=max_notional)
        async for event in found:
            log.record(event.event)
            if on_event is not None:
                result = on_event(event.event)
                if result is not None:
                    await result
            if event.kind == "open" and on_open is not None:
                await on_open(event.opportunity)
    return list(log.entries)


async def scan_and_trade(
    symbols: list[str],
    seconds: float,
    *,
    venues: list[str],
    dislocations: Iterable[Dislocation] = (),
    max_size: float,
    kinds: Iterable[str] = ("cross_venue",),
    min_bps: float = 0.0,
    transfer: Transfer | None = None,
    seed: int = 7,
    on_event: Callable[[dict[str, Any]], None] | None = None,
    on_start: Callable[[Desk], None] | None = None,
    max_notional: float | None = None,
    on_cap: OnCap | None = None,
) -> list[dict[str, Any]]:
    """``crossbook arb --sim --execute``: scan the simulated desk's books (after ``dislocations``)
    for ``seconds`` and trade each cross-venue and triangular opportunity as it opens, at most
    ``max_size`` base units (of its first leg) each, sized to the balances the desk holds.
    Returns the opportunities in the order they opened, each traded one with its ``executed``."""
    async with Desk.sim(venues, seed, symbols=symbols) as desk:
        if on_start is not None:
            on_start(desk)
        for d in dislocations:
            desk.dislocate(d.venue, d.bps, d.symbol)
        available = await known_balances(desk)
        books = {s: desk.market.consolidated[s] for s in symbols}
        scanner = Scanner(books, kinds=kinds, balances=available, min_bps=min_bps, transfer=transfer, max_notional=max_notional)
        if on_cap is not None:
            on_cap(scanner.cap)
        log = OpportunityLog()

        def metered(entry: dict[str, Any]) -> None:
            if entry["event"] == "open":
                desk.metrics.opportunity(str(entry["kind"]))
                arbitrage_executed(desk.metrics, entry)
            if on_event is not None:
                on_event(entry)

        await trade_as_they_open(books, desk.accounts, scanner, seconds, log, max_size=max_size, on_entry=metered)
        return log.entries
