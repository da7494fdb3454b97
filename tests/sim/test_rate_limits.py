"""Rate limits on both sides of the wire: each simulated venue refuses requests over its limits in
the exchange's own words (and crossbook's table recognises the refusal), and a burst of ten times
a venue's order limit sent through crossbook's limiter never draws a refusal.

The burst runs on each venue's own table compressed in scale (the tightest order pool holds ten
orders per 0.5 s; the other pools as they are), so that ten windows take seconds; Bybit's also
runs on its real table (spot orders: 20 per second)."""

from __future__ import annotations

import asyncio
from decimal import ROUND_UP, Decimal
from pathlib import Path

import ccxt
import pytest

from crossbook.model import OrderRequest, OrderStatus, OrderType, Side
from crossbook.sim.ratelimit import VenueLimits, scaled
from crossbook.trading.account import VenueAccount
from crossbook.trading.journal import Journal
from crossbook.trading.validation import TradingRules
from crossbook.venues.registry import spec
from crossbook.venues.spec.limiter import Limiter
from crossbook.venues.spec.limits import Decaying, LimitTable, Pool, Scope

from ..conftest import run
from .trading_contract import TradingHarness, trading_feeds

# the request that places a spot order, as each venue's table keys it (and its costing params)
ORDER_ENDPOINTS: dict[str, tuple[str, str, dict[str, str]]] = {
    "binance": ("POST", "/api/v3/order", {}),
    "okx": ("POST", "/api/v5/trade/order", {}),
    "bybit": ("POST", "/v5/order/create", {"category": "spot"}),
    "coinbase": ("POST", "/api/v3/brokerage/orders", {}),
    "kraken": ("POST", "/0/private/AddOrder", {}),
    "kucoin": ("POST", "/api/v1/hf/orders", {}),
    "gate": ("POST", "/api/v4/spot/orders", {}),
    "mexc": ("POST", "/api/v3/order", {}),
    "bitget": ("POST", "/api/v2/spot/trade/place-order", {}),
}
FEEDS = [f for f in trading_feeds() if f in ORDER_ENDPOINTS]
RATE_LIMITED = (ccxt.RateLimitExceeded, ccxt.DDoSProtection)  # how ccxt raises a venue's rate-limit refusal
# the limiter holds this much back from every window for requests in transit, so two orders timed a
# window apart still arrive a window apart when one of them is delayed up to 0.8 s more than the
# other: the simulator counts a request when its handler runs, on the test's own event loop, and a
# CI machine running the suite beside a CPU-bound process delayed a burst past half a second
BURST_MARGIN = 0.8


def limits(venue: str) -> LimitTable:
    table = spec(venue).limit_table()
    return table


def order_pool(venue: str, table: LimitTable) -> tuple[Pool, float]:
    """The pool that holds the fewest orders (the account's, of equals), and what one order
    costs in it."""
    method, path, params = ORDER_ENDPOINTS[venue]
    key, cost = table.resolve(method, path, params)
    assert key != "*", f"{venue}: the table does not list {method} {path}"
    charged = [(p, cost[p.name]) for p in table.pools if cost.get(p.name, 0.0) > 0]
    return min(charged, key=lambda pc: (pc[0].limit / pc[1], pc[0].scope is not Scope.ACCOUNT))


def compressed(venue: str, orders: float, window: float) -> LimitTable:
    """The venue's table with its tightest order pool scaled to ``orders`` orders per ``window``
    seconds (a decaying pool: ``orders`` at once, then refills in ``window``); the other pools as
    they are."""
    table = limits(venue)
    pool, units = order_pool(venue, table)
    span = pool.limit / pool.decay if isinstance(pool, Decaying) else pool.seconds
    return scaled(table, {pool.name}, count=orders * units / pool.limit, time_factor=window / span)


def order_amount(rules: TradingRules, price: Decimal) -> Decimal:
    """A small amount the venue takes at ``price``: a multiple of its minimum amount (or lot) past
    its minimum notional."""
    step = max(rules.lot, rules.min_amount or rules.lot)
    if rules.min_notional is None:
        return step
    return max(step, (rules.min_notional * Decimal("1.5") / price / step).to_integral_value(ROUND_UP) * step)


@pytest.mark.parametrize("feed_id", FEEDS)
def test_over_the_limit_the_venue_refuses_in_its_own_words(feed_id: str) -> None:
    async def body() -> None:
        async with TradingHarness(feed_id) as h:
            venue = h.sim.venue_id
            ex = h.client()
            await ex.load_markets()
            h.sim.limits = VenueLimits(compressed(venue, orders=5, window=30.0))
            symbol = h.ccxt_symbol(ex)
            bid, _ = h.touch()
            price = ex.price_to_precision(symbol, float(bid * Decimal("0.9")))
            min_cost = float(ex.markets[symbol]["limits"]["cost"]["min"] or 0)
            amount = float(ex.amount_to_precision(symbol, max(0.01, min_cost * 2 / float(price))))
            placed = 0
            with pytest.raises(RATE_LIMITED):
                for _ in range(40):
                    await ex.create_order(symbol, "limit", "buy", amount, price)
                    placed += 1
            # five orders per window (fewer where the pool also pays for the venue's other private
            # calls); a window edge during the run can add five
            assert 1 <= placed <= 10
            refusal = h.sim.last_refusal
            assert refusal is not None and h.sim.rate_limited == 1
            wait = limits(venue).breach.wait(refusal)
            assert wait is not None and wait > 0, f"crossbook does not read {venue}'s refusal {refusal}"

    run(body())


def test_binance_bans_a_client_that_ignores_retry_after() -> None:
    async def body() -> None:
        async with TradingHarness("binance") as h:
            ex = h.client()
            await ex.load_markets()
            h.sim.limits = VenueLimits(compressed("binance", orders=2, window=30.0))
            symbol = h.ccxt_symbol(ex)
            price = ex.price_to_precision(symbol, float(h.touch()[0] * Decimal("0.9")))
            for _ in range(2):
                await ex.create_order(symbol, "limit", "buy", 0.01, price)
            with pytest.raises(RATE_LIMITED):
                await ex.create_order(symbol, "limit", "buy", 0.01, price)
            assert h.sim.last_refusal is not None and h.sim.last_refusal.status == 429
            with pytest.raises(RATE_LIMITED):
                await ex.create_order(symbol, "limit", "buy", 0.01, price)  # during the wait: banned
            ban = h.sim.last_refusal
            assert ban is not None and ban.status == 418
            wait = limits("binance").breach.wait(ban)
            assert wait is not None and wait > 100  # the ban's end, read from the body
            with pytest.raises(RATE_LIMITED):
                await ex.fetch_balance()  # a ban shuts out every request

    run(body())


async def burst(h: TradingHarness, journal: Journal, table: LimitTable, orders_per_window: int) -> None:
    """Ten times the order pool's capacity, all at once, through the trading layer."""
    venue = h.sim.venue_id
    h.sim.limits = VenueLimits(table)
    limiter = Limiter(table, margin=BURST_MARGIN)
    account = VenueAccount(venue, h.client(), journal, limiter)
    await account.load()
    rules = account.market(h.symbol)
    price = (h.touch()[0] * Decimal("0.9")).quantize(rules.tick)
    amount = order_amount(rules, price)
    requests = [OrderRequest(venue, h.symbol, Side.BUY, OrderType.LIMIT, amount, price) for _ in range(10 * orders_per_window)]
    tasks = [asyncio.create_task(account.create_order(r)) for r in requests]
    queued = 0
    while not all(t.done() for t in tasks):
        queued = max(queued, limiter.waiting)
        await asyncio.sleep(0.005)
    orders = [t.result() for t in tasks]
    assert h.sim.rate_limited == 0, f"{venue} refused {h.sim.rate_limited}: {h.sim.last_refusal}"
    assert all(o.status is OrderStatus.OPEN for o in orders)
    assert len(h.sim.engine.open_orders("main")) == len(requests)
    assert queued > 0  # the limiter held orders back: the burst was over the limit


@pytest.mark.parametrize("feed_id", FEEDS)
def test_a_burst_of_ten_times_the_order_limit_draws_no_refusal(feed_id: str, tmp_path: Path) -> None:
    async def body() -> None:
        async with TradingHarness(feed_id) as h:
            with Journal(tmp_path / "j.db") as journal:
                await burst(h, journal, compressed(h.sim.venue_id, orders=10, window=1.0), 10)

    run(body(), timeout=120)


def test_a_burst_on_bybits_real_limits_draws_no_refusal(tmp_path: Path) -> None:
    async def body() -> None:
        async with TradingHarness("bybit") as h:
            with Journal(tmp_path / "j.db") as journal:
                table = limits("bybit")
                pool, units = order_pool("bybit", table)
                assert (pool.name, pool.limit, units) == ("create-spot", 20, 1.0)
                await burst(h, journal, table, 20)

    run(body(), timeout=120)
