"""``crossbook arb`` on a desk: live consolidated books for the symbols, the scanner over them for a
while, and every opportunity it saw in the ``--json`` shape; with ``execute``, each cross-venue
and triangular one traded as it opens. With ``sim`` the simulated venues run on 127.0.0.1 (no
keys, no network) and can be told to dislocate a venue so opportunities appear. The desk's
on-chain venues of every symbol scanned join the exchanges through the Desk's generic
``dex_venues`` (with ``dex``, the simulator's local chain: its Uniswap V3 pools and 1inch of the
first symbol; with ``config``, every ``[chains.X]`` of the crossbook.toml): their wallet's
balances size an opportunity beside the exchanges', their fee rates and gas per order (read again
every GAS_REFRESH seconds while the scan runs) count in its net profit, and a DEX leg trades as a
swap bounded by the leg's limit price."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..arbitrage.basis import Funding, spot_of
from ..arbitrage.cross_venue import Balances, Transfer
from ..arbitrage.execute import trade_as_they_open
from ..arbitrage.flatten import TradingAccount
from ..arbitrage.model import Fees, Opportunity, SizeCap
from ..arbitrage.scanner import KINDS, Event, OnEvent, OpportunityLog, Scanner
from ..book.consolidated import ConsolidatedBook
from ..errors import ConfigError, CrossbookError, VenueUnavailable
from ..sim.chain import chain_available
from ..sim.scenario import Dislocation, Scenario
from ..symbols import Kind, parse_standard
from ..venues.registry import VENUES
from .desk import KIND_NAMES, Desk
from .metering import arbitrage_executed
from .pools import DexVenues, SimDex

DEFAULT_SYMBOLS = ("BTC-USDT", "ETH-USDT", "ETH-BTC", "BTC-USDT-PERP", "ETH-USDT-PERP")
LIVE_WAIT = 30.0  # seconds the books get to sync before the scan starts regardless
GAS_REFRESH = 2.0  # seconds between readings of the DEX venues' gas while a scan runs

OnOpen = Callable[[Opportunity], Awaitable[None]]
OnCap = Callable[[SizeCap], None]


@dataclass(frozen=True, slots=True)
class ScanPart:
    """Symbols one scanner watches: a spot symbol with on-chain venues and its perpetuals, beside
    those venues' accounts, fee rates and cost per order (``dex``: its ``fixed_costs`` kept fresh
    while the scan runs); or symbols without on-chain venues. A chain's venue has one name for
    every symbol (``uniswap_v3_ethereum_500`` trades BTC-USDT and ETH-BTC through different pools,
    its gas in a different quote currency), so each such symbol is scanned on its own."""

    symbols: tuple[str, ...]
    kinds: tuple[str, ...]
    dex: DexVenues = field(default_factory=DexVenues)
    spot: str | None = None  # the symbol whose on-chain venues ``dex`` holds

    def scanner(self, books: Mapping[str, ConsolidatedBook], fees: Fees | None, **caps: Any) -> Scanner:
        return Scanner({s: books[s] for s in self.symbols}, kinds=self.kinds, fees=with_dex_fees(fees, self.dex),
                       fixed_costs=self.dex.fixed_costs, **caps)

    def accounts(self, exchanges: Mapping[str, TradingAccount]) -> dict[str, TradingAccount]:
        return {**exchanges, **self.dex.accounts}


def kind_names(kinds: Iterable[str]) -> tuple[str, ...]:
    """The scanner's names of ``kinds`` (``cross`` for cross_venue too); ConfigError naming an unknown one."""
    named = tuple(KIND_NAMES.get(k, k) for k in kinds)
    unknown = sorted(set(named) - set(KINDS))
    if unknown:
        raise ConfigError(f"unknown opportunity kinds {', '.join(unknown)}; known: cross, {', '.join(KINDS)}")
    return named


async def scan_parts(desk: Desk, symbols: Sequence[str], kinds: Iterable[str]) -> list[ScanPart]:
    """The scanners ``symbols`` need on a running ``desk`` that follows them: one over them all
    when none has on-chain venues; otherwise one per spot symbol with on-chain venues (with its
    perpetuals, for basis), one over the rest, and one for the triangles over them all (a
    triangle's legs carry no cost per order, and trade on the exchanges' accounts only)."""
    wanted, looked_for = tuple(dict.fromkeys(symbols)), kind_names(kinds)
    on_chain = {s: v for s in wanted if parse_standard(s)[2] is Kind.SPOT and (v := await desk.dex_venues(s)).accounts}
    if not on_chain:
        return [ScanPart(wanted, looked_for)]
    pairwise = tuple(k for k in looked_for if k != "triangular")
    parts = [ScanPart(tuple(s for s in wanted if spot_of_any(s) == spot), pairwise, dex, spot)
             for spot, dex in on_chain.items()]
    rest = tuple(s for s in wanted if spot_of_any(s) not in on_chain)
    if rest and pairwise:
        parts.append(ScanPart(rest, pairwise))
    if "triangular" in looked_for:  # no triangle on an on-chain venue: the scanner skips venues with a gas cost
        gas = {venue: cost for dex in on_chain.values() for venue, cost in dex.fixed_costs.items()}
        parts.append(ScanPart(wanted, ("triangular",), DexVenues(fixed_costs=gas)))
    return [p for p in parts if p.kinds]


def spot_of_any(symbol: str) -> str:
    """The spot symbol of a perpetual, a spot symbol itself."""
    return spot_of(symbol) if parse_standard(symbol)[2] is Kind.PERP else symbol


async def known_balances(desk: Desk, parts: Iterable[ScanPart] = ()) -> Balances | None:
    """What the desk's accounts hold free (venue -> asset -> amount) and what the wallet behind
    each on-chain venue of ``parts`` holds (keyed by crossbook's assets: BTC for WBTC; a venue
    trading several symbols from one wallet holds each symbol's assets); None when there is
    neither (a public desk): the balances an opportunity is sized to."""
    wallets: dict[str, dict[str, float]] = {}
    for part in parts:
        for venue, held in (await wallet_balances(part.dex.accounts)).items():
            wallets.setdefault(venue, {}).update(held)
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


def with_dex_fees(fees: Fees | None, dex: DexVenues) -> Fees | None:
    """``fees``, the on-chain venues' fee rates filling in where it names none."""
    if not dex.fee_rates:
        return fees
    rates = dict(dex.fee_rates)
    if callable(fees):
        given = fees
        return lambda venue, symbol: rates[venue] if venue in rates else given(venue, symbol)
    return rates | dict(fees or {})


@contextlib.asynccontextmanager
async def fresh_fixed_costs(desk: Desk, parts: Sequence[ScanPart]) -> AsyncIterator[None]:
    """Every part's on-chain venues' cost per order (a swap's gas, in its symbol's quote currency)
    read again every GAS_REFRESH seconds until the block ends, updated in place (a Scanner reads
    it at every scan); a reading that fails keeps the last."""
    priced = [p for p in parts if p.spot is not None]
    if not priced:
        yield
        return

    async def refresh() -> None:
        while True:
            await asyncio.sleep(GAS_REFRESH)
            for part in priced:
                assert part.spot is not None
                with contextlib.suppress(CrossbookError):
                    part.dex.fixed_costs.update((await desk.dex_venues(part.spot)).fixed_costs)

    refreshing = asyncio.create_task(refresh())
    try:
        yield
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
    chain's venues of the first symbol join; with ``config``, its ``[chains.X]``' venues of every
    spot symbol do: their wallet's balances, fee rates and gas counted.
    Returns every opportunity seen, in the order they opened; ``closed_at`` is None for those
    still open at the end."""
    chosen, wanted = list(venues), [s.upper() for s in symbols]
    looked_for = kind_names(kinds)
    timed, at_start = list(dislocations), []
    if dex:
        if not sim:
            raise VenueUnavailable("the local chain's venues (--dex) run on the simulator only: add --sim "
                                   "(a configured desk's [chains.X] join without it)")
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
        await desk.follow(wanted, LIVE_WAIT)  # a configured desk's chains list their venues of a symbol once followed
        parts = await scan_parts(desk, wanted, looked_for)
        if balances is None:
            balances = await known_balances(desk, parts)
        if on_cap is not None:
            on_cap(SizeCap.of(balances, max_notional))
        if funding is None and "basis" in looked_for:
            funding = await desk.live_funding(wanted)  # the desk's streams, until the desk stops

        async def record(event: Event) -> None:
            log.record(event)
            if event.kind == "open":
                desk.metrics.opportunity(event.opportunity.kind)
            if on_event is not None:
                result = on_event(event)
                if result is not None:
                    await result
            if event.kind == "open" and on_open is not None:
                await on_open(event.opportunity)

        books = desk.market.consolidated
        async with fresh_fixed_costs(desk, parts), asyncio.TaskGroup() as scans:
            for part in parts:
                scanner = part.scanner(books, fees, balances=balances, transfer=transfer, funding=funding, min_bps=min_bps,
                                       max_notional=max_notional)
                scans.create_task(scanner.run(seconds, record))
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
    config: Path | None = None,
) -> list[dict[str, Any]]:
    """``crossbook arb --execute``: scan the desk's books for ``seconds`` and trade each cross-venue
    and triangular opportunity as it opens (see ``trade_on``). The desk is simulated (after
    ``dislocations``; ``dex``: the local chain's venues of the first symbol join), or with
    ``config`` the accounts of that crossbook.toml (on ``venues``) and its ``[chains.X]``."""
    if config is not None:
        if dex or list(dislocations):
            raise VenueUnavailable("--dex and --dislocate act on the simulator: a configured desk's chains are its [chains.X]")
        desk = Desk.from_config(config, venues=venues)
    else:
        if dex:
            need_chain()
        desk = Desk.sim(venues, seed, dex=dex, symbols=symbols)
    async with desk:
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
    """Scan a running ``desk``'s books of ``symbols`` (simulated or configured) for ``seconds``
    and trade each cross-venue and triangular opportunity as it opens, at most ``max_size`` base
    units (of its first leg) each, sized to the balances the desk holds. The desk's on-chain
    venues of each symbol (a simulated desk's local chain, a configured desk's [chains.X]) join:
    sized to their wallet's balances, their gas in the net profit, a DEX leg traded as a swap on
    its account. Returns the opportunities in the order they opened, each traded one with its
    ``executed``."""
    wanted = [s.upper() for s in symbols]
    await desk.follow(wanted, LIVE_WAIT)
    parts = await scan_parts(desk, wanted, kinds)
    available = await known_balances(desk, parts)
    if on_cap is not None:
        on_cap(SizeCap.of(available, max_notional))
    log = OpportunityLog()

    def metered(entry: dict[str, Any]) -> None:
        if entry["event"] == "open":
            desk.metrics.opportunity(str(entry["kind"]))
            arbitrage_executed(desk.metrics, entry)
        if on_event is not None:
            on_event(entry)

    books = desk.market.consolidated
    async with fresh_fixed_costs(desk, parts), asyncio.TaskGroup() as trading:
        for part in parts:
            scanner = part.scanner(books, None, balances=available, min_bps=min_bps, transfer=transfer,
                                   max_notional=max_notional)
            trading.create_task(trade_as_they_open(books, part.accounts(desk.accounts), scanner, seconds, log,
                                                   max_size=max_size, on_entry=metered))
    return log.entries
