"""``crossbook arb`` on a desk: live consolidated books for the symbols, the scanner over them for a
while, and every opportunity it saw in the ``--json`` shape; with ``execute``, each cross-venue
and triangular one traded as it opens. With ``sim`` the simulated venues run on 127.0.0.1 (no
keys, no network) and can be told to dislocate a venue so opportunities appear; with ``dex`` the
local chain's venues of the first symbol (its Uniswap V3 pools) join them: their wallet's
balances size an opportunity beside the exchanges', their fee rates and gas per order (read
again every GAS_REFRESH seconds while the scan runs) count in its net profit, and a DEX leg
trades as a swap bounded by the leg's limit price."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from ..arbitrage.basis import Funding
from ..arbitrage.cross_venue import Balances, Transfer
from ..arbitrage.execute import trade_as_they_open
from ..arbitrage.flatten import TradingAccount
from ..arbitrage.model import Fees, Opportunity, SizeCap
from ..arbitrage.scanner import KINDS, OnEvent, OpportunityLog, Scanner
from ..errors import CrossbookError, VenueUnavailable
from ..sim.chain import chain_available
from ..sim.scenario import Dislocation, Scenario
from ..venues.registry import VENUES
from .desk import Desk
from .metering import arbitrage_executed
from .pools import SimDex

DEFAULT_SYMBOLS = ("BTC-USDT", "ETH-USDT", "ETH-BTC", "BTC-USDT-PERP", "ETH-USDT-PERP")
LIVE_WAIT = 30.0  # seconds the books get to sync before the scan starts regardless
GAS_REFRESH = 2.0  # seconds between readings of the DEX venues' gas while a scan runs

OnOpen = Callable[[Opportunity], Awaitable[None]]
OnCap = Callable[[SizeCap], None]


async def known_balances(desk: Desk, dex: SimDex | None = None) -> Balances | None:
    """What the desk's accounts hold free (venue -> asset -> amount) and, with ``dex``, what the
    wallet behind each of its venues holds (keyed by crossbook's assets: BTC for WBTC); None when
    there is neither (a public desk): the balances an opportunity is sized to."""
    wallets = await wallet_balances(dex.accounts) if dex is not None else {}
    if not desk.accounts and not wallets:
        return None
    exchanges = (await desk.balances(value_in=None)).available() if desk.accounts else {}
    return {**exchanges, **wallets}


async def wallet_balances(accounts: Mapping[str, TradingAccount]) -> dict[str, dict[str, float]]:
    """venue -> asset -> what the account there holds now."""
    held = await asyncio.gather(*(a.balances() for a in accounts.values()))
    return {v: {asset: float(x) for asset, x in b.items()} for v, b in zip(accounts, held, strict=True)}


def sim_dex(desk: Desk) -> SimDex:
    """The chain venues of a desk made by ``Desk.sim(..., dex=True)``."""
    dex = desk.simulator.dex if desk.simulator is not None else None
    if dex is None:
        raise VenueUnavailable("this desk runs no chain venues (Desk.sim(..., dex=True))")
    return dex


def need_chain() -> None:
    """Refuse ``dex`` before anything starts when the local chain cannot run."""
    if not chain_available():
        raise VenueUnavailable("--dex runs the local chain (anvil with Uniswap V3): it needs node and the npm packages "
                               "(npm ci in the checkout), and they were not found")


def with_dex_fees(fees: Fees | None, dex: SimDex | None) -> Fees | None:
    """``fees``, the DEX venues' fee rates filling in where it names none."""
    if dex is None:
        return fees
    rates = dict(dex.fee_rates)
    if callable(fees):
        given = fees
        return lambda venue, symbol: rates[venue] if venue in rates else given(venue, symbol)
    return rates | dict(fees or {})


@contextlib.asynccontextmanager
async def fresh_fixed_costs(dex: SimDex | None) -> AsyncIterator[dict[str, float]]:
    """The DEX venues' cost per order (a swap's gas, in the quote currency), read now and again
    every GAS_REFRESH seconds until the block ends, updated in place (a Scanner reads it at every
    scan); a reading that fails keeps the last. Empty without ``dex``."""
    costs: dict[str, float] = {}
    if dex is None:
        yield costs
        return
    costs.update(await dex.fixed_costs())

    async def refresh() -> None:
        while True:
            await asyncio.sleep(GAS_REFRESH)
            with contextlib.suppress(CrossbookError):
                costs.update(await dex.fixed_costs())

    refreshing = asyncio.create_task(refresh())
    try:
        yield costs
    finally:
        refreshing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await refreshing


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
    dex: bool = False,
) -> list[dict[str, object]]:
    """Scan ``symbols`` on ``venues`` for ``seconds`` once their books are live (or LIVE_WAIT
    passed). ``sim``: against the simulated venues, applying ``dislocations`` (``at`` counted from
    the simulator's start; with ``dex`` those from the start and for good once the pools are in
    line with the exchanges); otherwise against the venues themselves. ``on_open`` is awaited with
    each opportunity as it opens (the hook for execution), ``on_event`` sees every open and close.
    ``config`` (not ``sim``): the books from the endpoints a crossbook.toml names (a running
    ``crossbook sim``), its accounts' venues only.
    ``funding`` defaults to the rates the venues' public APIs report; ``on_start`` sees the desk
    once it runs (its symbols' precision, say). Sizes are capped by ``balances`` (default: what the
    desk's accounts hold, when it has any) and ``max_notional`` (default: DEFAULT_MAX_NOTIONAL when
    no balances are known); ``on_cap`` is told which caps apply. ``dex`` (with ``sim``): the local
    chain's pools of the first symbol join, their wallet's balances, fee rates and gas counted.
    Returns every opportunity seen, in the order they opened; ``closed_at`` is None for those
    still open at the end."""
    chosen, wanted = list(venues), list(symbols)
    timed, at_start = list(dislocations), []
    if dex:
        if not sim:
            raise VenueUnavailable("the chain venues (--dex) run on the simulator only: add --sim")
        need_chain()
        # the pools start in line with the exchanges: a dislocation from the start follows that
        at_start = [d for d in timed if d.at == 0 and d.seconds is None]
        timed = [d for d in timed if d not in at_start]
    if sim:
        desk = Desk.sim(chosen, seed, dex=dex, symbols=wanted if dex else (), scenario=Scenario(tuple(timed)))
    else:
        desk = Desk.public(chosen) if config is None else Desk.from_config(config, venues=chosen)
    log = OpportunityLog()
    async with desk:
        if on_start is not None:
            on_start(desk)
        for d in at_start:
            desk.dislocate(d.venue, d.bps, d.symbol)
        chain = sim_dex(desk) if dex else None
        if balances is None:
            balances = await known_balances(desk, chain)
        if on_cap is not None:
            on_cap(SizeCap.of(balances, max_notional))
        async with fresh_fixed_costs(chain) as fixed_costs:
            found = desk.arbitrage(wanted, list(kinds), seconds=seconds, fees=with_dex_fees(fees, chain), balances=balances,
                                   transfer=transfer, funding=funding, min_bps=min_bps, live_within=LIVE_WAIT,
                                   max_notional=max_notional, fixed_costs=fixed_costs)
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
    dex: bool = False,
) -> list[dict[str, Any]]:
    """``crossbook arb --sim --execute``: scan the simulated desk's books (after ``dislocations``)
    for ``seconds`` and trade each cross-venue and triangular opportunity as it opens (see
    ``trade_on``). ``dex``: the local chain's pools of the first symbol join the desk."""
    if dex:
        need_chain()
    async with Desk.sim(venues, seed, dex=dex, symbols=symbols) as desk:
        if on_start is not None:
            on_start(desk)
        for d in dislocations:
            desk.dislocate(d.venue, d.bps, d.symbol)
        return await trade_on(desk, symbols, seconds, max_size=max_size, kinds=kinds, min_bps=min_bps, transfer=transfer,
                              on_event=on_event, max_notional=max_notional, on_cap=on_cap)


async def trade_on(
    desk: Desk,
    symbols: list[str],
    seconds: float,
    *,
    max_size: float,
    kinds: Iterable[str] = ("cross_venue",),
    min_bps: float = 0.0,
    transfer: Transfer | None = None,
    on_event: Callable[[dict[str, Any]], None] | None = None,
    max_notional: float | None = None,
    on_cap: OnCap | None = None,
) -> list[dict[str, Any]]:
    """Scan a running simulated ``desk``'s books of ``symbols`` for ``seconds`` and trade each
    cross-venue and triangular opportunity as it opens, at most ``max_size`` base units (of its
    first leg) each, sized to the balances the desk holds. The desk's chain venues, when it runs
    them, join: sized to their wallet's balances, their gas in the net profit, a DEX leg traded as
    a swap on its account. Returns the opportunities in the order they opened, each traded one
    with its ``executed``."""
    chain = desk.simulator.dex if desk.simulator is not None else None
    available = await known_balances(desk, chain)
    books = {s: desk.market.consolidated[s] for s in symbols}
    accounts: dict[str, TradingAccount] = {**desk.accounts, **(chain.accounts if chain is not None else {})}
    async with fresh_fixed_costs(chain) as fixed_costs:
        scanner = Scanner(books, kinds=kinds, fees=with_dex_fees(None, chain), balances=available, min_bps=min_bps,
                          transfer=transfer, max_notional=max_notional, fixed_costs=fixed_costs)
        if on_cap is not None:
            on_cap(scanner.cap)
        log = OpportunityLog()

        def metered(entry: dict[str, Any]) -> None:
            if entry["event"] == "open":
                desk.metrics.opportunity(str(entry["kind"]))
                arbitrage_executed(desk.metrics, entry)
            if on_event is not None:
                on_event(entry)

        await trade_as_they_open(books, accounts, scanner, seconds, log, max_size=max_size, on_entry=metered)
        return log.entries
