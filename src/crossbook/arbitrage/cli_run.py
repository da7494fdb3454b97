"""``crossbook arb``: live consolidated books for the symbols, the scanner over them for a while,
and every opportunity it saw in the ``--json`` shape. With ``sim`` the simulated venues run on
127.0.0.1 (no keys, no network) and can be told to dislocate a venue so opportunities appear."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

import aiohttp

from ..feeds.market import MarketData, production
from ..sim.cluster import SimCluster
from ..sim.scenario import Dislocation, Scenario
from ..venues import VENUES, venue_feeds
from .basis import Funding
from .cross_venue import Balances, Transfer
from .funding import fetch_funding
from .model import Fees, Opportunity
from .scanner import KINDS, Event, OnEvent, OpportunityLog, Scanner

DEFAULT_SYMBOLS = ("BTC-USDT", "ETH-USDT", "ETH-BTC", "BTC-USDT-PERP", "ETH-USDT-PERP")
LIVE_WAIT = 30.0  # seconds the books get to sync before the scan starts regardless

OnOpen = Callable[[Opportunity], Awaitable[None]]


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
) -> list[dict[str, object]]:
    """Scan ``symbols`` on ``venues`` for ``seconds`` once their books are live (or LIVE_WAIT
    passed). ``sim``: against the simulated venues, applying ``dislocations`` (``at`` counted from
    the simulator's start); otherwise against the venues themselves. ``on_open`` is awaited with
    each opportunity as it opens (the hook for execution), ``on_event`` sees every open and close.
    ``funding`` defaults to the rates the venues' public APIs report. Returns every opportunity
    seen, in the order they opened; ``closed_at`` is None for those still open at the end."""
    symbols, venues = [s.upper() for s in symbols], list(venues)
    cluster = None
    if sim:
        feeds = [f for v in venues for f in venue_feeds(v)]
        cluster = await SimCluster(feeds, seed=seed, scenario=Scenario(tuple(dislocations))).start()
    md = MarketData(venues, symbols, endpoints=cluster.urls if cluster else production)
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
    try:
        await md.start(session)
        if funding is None:
            funding = await fetch_funding(venues, symbols, cluster)
        await md.wait_live(LIVE_WAIT)
        scanner = Scanner(md.consolidated, kinds=kinds, fees=fees, balances=balances, transfer=transfer, funding=funding, min_bps=min_bps)
        log = OpportunityLog()

        async def record(event: Event) -> None:
            log.record(event)
            if on_event is not None:
                result = on_event(event)
                if result is not None:
                    await result
            if event.kind == "open" and on_open is not None:
                await on_open(event.opportunity)

        await scanner.run(seconds, record)
        return log.entries
    finally:
        await md.stop()
        await session.close()
        if cluster is not None:
            await cluster.stop()
