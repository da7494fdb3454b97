"""``crossbook demo``: the whole of crossbook on the ten simulated venues, with no keys and no
network, and (when node is there) the Uniswap V3 pools of a local chain beside them. The venues
start and their books sync; the consolidated BTC-USDT book runs live, pools included; a sample
order is quoted on every venue and routed with a split, with its execution report; then one venue
is dislocated and the arbitrage scanner finds the opportunity, which is traded through the router.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import Callable, Coroutine
from decimal import Decimal
from typing import Any, TypeVar

import aiohttp
from aiohttp import web

from .arbitrage.execute import trade_as_they_open
from .arbitrage.scanner import OpportunityLog, Scanner
from .demo_view import SAMPLE, SYMBOL, DemoState, Scene
from .desk import Desk
from .market.data import MarketData
from .model import BookState
from .routing.conversion import DEFAULT_EQUIVALENTS, conversion_symbols, equivalent_symbols
from .service.api import Service, listen
from .sim.chain import chain_available
from .sim.venues import sim_class
from .venues.registry import VENUES

# a desk's balances are uneven: MEXC, the cheapest taker here, holds 300k USDT (about 5 BTC), every
# other venue 1,000,000; the route splits and still beats the best venue that could fill it alone
FUNDS = {"mexc": {"USDT": Decimal(300_000)}}
DISLOCATION = ("okx", -45.0)  # bps: OKX's prices drop by more than two taker fees
ARB_SIZE_CAP = 0.5  # base units traded per opportunity
LIVE_WITHIN = 15.0
INSIST_EVERY = 0.5  # seconds between two cancels of a demo that has not stopped on Ctrl-C
T = TypeVar("T")


def own_markets() -> dict[str, str]:
    """Venues whose simulator does not list SYMBOL (dYdX: USD perpetuals only) -> the market the
    demo shows for them instead: a perpetual is a different product, never routed with spot."""
    firsts = {v: sim_class(v).markets for v in VENUES}
    return {v: markets[0] for v, markets in firsts.items() if SYMBOL not in markets}


EXTRA = own_markets()


async def run_demo(seconds: float | None, seed: int, scene: Scene | None = None,
                   paint: Callable[[], None] | None = None) -> dict[str, Any]:
    """Run the demo's steps, then keep the view live until ``seconds`` pass (forever if None);
    returns the summary ``--json`` prints. ``scene`` (what the screen shows) is filled in as the
    venues start, and ``paint`` redraws it from the event loop every quarter second."""
    deadline = None if seconds is None else time.monotonic() + seconds
    scene = scene or Scene(tuple(VENUES))
    state = scene.state
    # the same market quoted in USD and USDC joins the quote at the live conversion rate
    symbols = [SYMBOL, *equivalent_symbols(SYMBOL, DEFAULT_EQUIVALENTS), *conversion_symbols(DEFAULT_EQUIVALENTS)]
    with_chain = chain_available()
    desk = Desk.sim(list(VENUES), seed, with_chain, symbols=symbols, funds=FUNDS)
    sims = desk.simulator
    assert sims is not None
    state.dex = {"available": with_chain} if with_chain else {
        "available": False, "reason": "node and the project's npm packages (`npm ci`) are needed for the local chain; "
                                      "the demo carries on with the exchanges"}
    extra = [MarketData([v], [s], endpoints=sims.cluster.urls) for v, s in EXTRA.items()]
    scene.cluster, scene.market, scene.extra, scene.chain, scene.chain_wanted = sims.cluster, desk.market, extra, sims.dex, with_chain
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
    painter = asyncio.create_task(_paint(paint)) if paint is not None else None
    dashboards: list[web.AppRunner] = []

    async def body() -> dict[str, Any]:
        desk.live_within = _left(deadline, LIVE_WITHIN)
        await _start(desk, extra, session)
        dashboards.append(await _serve_dashboard(desk, state))
        state.api = {f: {"rest": s.rest_url, "ws": s.ws_url} for f, s in sims.cluster.venues.items()}
        if sims.dex is not None and sims.dex.chain is not None:
            chain = sims.dex.chain
            state.dex.update(rpc_url=chain.rpc_url, chain_id=chain.chain_id,
                             pools={v: a.pool for v, a in sims.dex.pools.items()},
                             oneinch=sims.dex.oneinch.base_url if sims.dex.oneinch is not None else None,
                             contracts=dict(chain.addresses))
        scene.live = True
        await _steps(desk, state, deadline)
        await _until(deadline)
        return summary(desk, extra, state)

    try:
        return await _insisting(body())
    finally:
        if painter is not None:
            painter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await painter
        if paint is not None:
            paint()  # the last frame stays on the terminal
        for dashboard in dashboards:
            await dashboard.cleanup()
        for md in extra:
            await md.stop()
        await session.close()
        await desk.stop()


async def _insisting(work: Coroutine[Any, Any, T]) -> T:
    """``work`` as a task of its own that a cancel of this one (Ctrl-C) cancels again and again
    until it has ended: a library awaited deep inside it may swallow one cancellation (Python
    3.11's ``wait_for`` can), and the demo must stop all the same. The clean-up stays with the
    caller, out of reach of the repeated cancels."""
    task = asyncio.create_task(work)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        while not task.done():
            task.cancel()
            await asyncio.wait({task}, timeout=INSIST_EVERY)
        raise


async def _serve_dashboard(desk: Desk, state: DemoState) -> web.AppRunner:
    """The service's API and dashboard over the demo's desk, on a free loopback port, with a token
    made for this run; its URL (the token in the fragment) goes on the screen."""
    token = secrets.token_urlsafe(32)
    runner, port = await listen(Service(desk=desk, symbols=[SYMBOL], token=token), "127.0.0.1", 0, 1.0)
    state.dashboard = f"http://127.0.0.1:{port}/#token={token}"
    return runner


async def _start(desk: Desk, extra: list[MarketData], session: aiohttp.ClientSession) -> None:
    """Start the desk; the venues' own markets (dYdX's perpetual) start as soon as the simulators
    listen, not after the desk's books and the local chain are ready, so they sync meanwhile."""
    assert desk.simulator is not None
    starting = asyncio.create_task(desk.start())
    listening = asyncio.create_task(desk.simulator.cluster.started.wait())
    await asyncio.wait((starting, listening), return_when=asyncio.FIRST_COMPLETED)
    if listening.done():
        for md in extra:
            await md.start(session)
    else:
        listening.cancel()
    await starting


async def _until(deadline: float | None) -> None:
    """Keep the books live until the deadline, or until cancelled (Ctrl-C) when there is none."""
    if deadline is None:
        await asyncio.Event().wait()
    else:
        await asyncio.sleep(max(0.0, deadline - time.monotonic()))


def _left(deadline: float | None, most: float) -> float:
    return most if deadline is None else max(0.0, min(most, deadline - time.monotonic()))


async def _paint(paint: Callable[[], None]) -> None:
    while True:
        paint()
        await asyncio.sleep(0.25)


async def _steps(desk: Desk, state: DemoState, deadline: float | None) -> None:
    """Quote, route, dislocate and trade the arbitrage, each while time is left."""
    side, amount = SAMPLE
    state.step = f"quoting {side.value} {amount:g} {SYMBOL} on every venue"
    state.quote = (await desk.best_price(SYMBOL, side, amount)).to_json()
    if _left(deadline, 1.0) <= 0:
        return
    state.step = f"routing {side.value} {amount:g} {SYMBOL}"
    report = await desk.route(SYMBOL, side, amount, deadline=_left(deadline, 5.0) or 0.5)
    state.route = report.to_json()
    if _left(deadline, 1.0) <= 0:
        return
    venue, bps = DISLOCATION
    state.step = f"dislocating {venue} by {bps:+g} bps; scanning for arbitrage"
    desk.dislocate(venue, bps, SYMBOL)
    # the chain's pools and 1inch too: sized to the wallet, their gas in the net profit
    dex = await desk.dex_venues(SYMBOL)
    balances = (await desk.balances(value_in=None)).available() | await desk.dex_balances(SYMBOL)
    scanner = Scanner(desk.market.consolidated, kinds=("cross_venue",), balances=balances, fixed_costs=dex.fixed_costs)
    accounts = {**desk.accounts, **dex.accounts}
    log = OpportunityLog()
    state.arbitrage = log.entries

    def traded(entry: dict[str, Any]) -> None:
        if "executed" in entry:
            state.step = f"traded the {venue} dislocation through the router"

    await trade_as_they_open(desk.market.consolidated, accounts, scanner, _left(deadline, 6.0) or 0.5, log,
                             max_size=ARB_SIZE_CAP, max_trades=1, on_entry=traded)
    state.step = f"{venue} back in line with the others"
    desk.dislocate(venue, 0.0, SYMBOL)
    await trade_as_they_open(desk.market.consolidated, accounts, scanner, _left(deadline, 1.5) or 0.1, log,
                             max_size=ARB_SIZE_CAP, max_trades=0)
    for event in scanner.close_all():
        log.record(event)
    state.step = "done: the books stay live"


def summary(desk: Desk, extra: list[MarketData], state: DemoState) -> dict[str, Any]:
    now = time.time()
    venues: dict[str, dict[str, str]] = {}
    for md, symbol in ((desk.market, SYMBOL), *((md, md.symbols[0]) for md in extra)):
        for venue, l2 in md.consolidated[symbol].books.items():
            venues[venue] = {"status": l2.status(now).value}
        for venue in md.down:
            venues[venue] = {"status": BookState.DOWN.value}
    return {"venues": venues, "quote": state.quote, "route": state.route, "arbitrage": state.arbitrage, "api": state.api,
            "dex": state.dex}

