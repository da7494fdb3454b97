"""The REST limiter and each venue's limit table, on a fake clock."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crossbook.errors import ConfigError
from crossbook.venues.kraken import LIMITS_BY_TIER
from crossbook.venues.registry import VENUES, spec
from crossbook.venues.spec.limiter import Limiter, LoopClock
from crossbook.venues.spec.limits import (
    DAY,
    ORDER_AGE,
    Breach,
    ByTier,
    Decaying,
    LimitTable,
    Reply,
    Scope,
    Window,
)
from tests.conftest import run

TABLES: dict[str, LimitTable] = {v: spec(v).limit_table() for v in VENUES}
KRAKEN_TIERS: dict[str, LimitTable] = LIMITS_BY_TIER

# What an unmodified ccxt 4.5.90 client calls on each venue (../shared/CCXT_MAP.md).
CCXT_CALLS: dict[str, list[str]] = {
    "binance": [
        "GET /api/v3/exchangeInfo", "GET /api/v3/depth", "GET /api/v3/account", "POST /api/v3/order",
        "DELETE /api/v3/order", "GET /api/v3/order", "GET /api/v3/openOrders", "GET /api/v3/myTrades",
        "GET /sapi/v1/asset/tradeFee",
    ],
    "okx": [
        "GET /api/v5/asset/currencies", "GET /api/v5/public/instruments", "GET /api/v5/market/books",
        "GET /api/v5/account/balance", "POST /api/v5/trade/batch-orders", "POST /api/v5/trade/cancel-order",
        "GET /api/v5/trade/order", "GET /api/v5/trade/orders-pending", "GET /api/v5/trade/fills-history",
    ],
    "bybit": [
        "GET /v5/asset/coin/query-info", "GET /v5/market/instruments-info", "GET /v5/market/orderbook",
        "GET /v5/user/query-api", "GET /v5/account/info", "GET /v5/account/wallet-balance", "POST /v5/order/create",
        "POST /v5/order/cancel", "GET /v5/order/realtime", "GET /v5/execution/list", "GET /v5/account/fee-rate",
    ],
    "dydx": [
        "GET /v4/perpetualMarkets", "GET /v4/orderbooks/perpetualMarket/BTC-USD",
        "GET /v4/addresses/dydx1cpb4tedmwq304c2kc9pwzjwq0sc6z2a4tasxrz/subaccountNumber/0",
        "GET /cosmos/auth/v1beta1/account_info/dydx1cpb4tedmwq304c2kc9pwzjwq0sc6z2a4tasxrz", "GET /abci_info",
        "GET /broadcast_tx_sync", "GET /v4/orders/f673578c-7a7f-5c80-8bf1-8f863f53779b", "GET /v4/orders",
    ],
    "coinbase": [
        "GET /v2/currencies", "GET /v2/currencies/crypto", "GET /v2/exchange-rates",
        "GET /api/v3/brokerage/market/products", "GET /api/v3/brokerage/transaction_summary",
        "GET /api/v3/brokerage/market/product_book", "GET /v2/accounts", "POST /api/v3/brokerage/orders",
        "POST /api/v3/brokerage/orders/batch_cancel",
        "GET /api/v3/brokerage/orders/historical/11111111-2222-3333-4444-555555555555",
        "GET /api/v3/brokerage/orders/historical/batch", "GET /api/v3/brokerage/orders/historical/fills",
    ],
    "kraken": [
        "GET /0/public/Assets", "GET /0/public/AssetPairs", "GET /0/public/Depth", "POST /0/private/BalanceEx",
        "POST /0/private/AddOrder", "POST /0/private/CancelOrder", "POST /0/private/QueryOrders",
        "POST /0/private/OpenOrders", "POST /0/private/TradesHistory",
    ],
    "kucoin": [
        "GET /api/ua/v1/account/mode", "GET /api/v3/currencies", "GET /api/v2/symbols", "GET /api/v3/margin/symbols",
        "GET /api/v1/isolated/symbols", "GET /api/v1/hf/accounts/opened", "GET /api/v3/market/orderbook/level2",
        "GET /api/v1/accounts", "POST /api/v1/orders", "DELETE /api/v1/orders/670fd33bf9406e0007ab3945",
        "GET /api/v1/orders/670fd33bf9406e0007ab3945", "GET /api/v1/orders", "GET /api/v1/fills",
    ],
    "gate": [
        "GET /api/v4/spot/currencies", "GET /api/v4/account/detail", "GET /api/v4/margin/currency_pairs",
        "GET /api/v4/spot/currency_pairs", "GET /api/v4/spot/order_book", "GET /api/v4/spot/accounts",
        "POST /api/v4/spot/orders", "DELETE /api/v4/spot/orders/12332324", "GET /api/v4/spot/orders/12332324",
        "GET /api/v4/spot/open_orders", "GET /api/v4/spot/my_trades", "GET /api/v4/wallet/fee",
    ],
    "mexc": [
        "GET /api/v3/capital/config/getall", "GET /api/v3/exchangeInfo", "GET /api/v1/contract/detail",
        "GET /api/v3/depth", "GET /api/v3/account", "POST /api/v3/order", "DELETE /api/v3/order", "GET /api/v3/order",
        "GET /api/v3/openOrders", "GET /api/v3/myTrades",
    ],
    "bitget": [
        "GET /api/v2/spot/public/coins", "GET /api/v3/account/settings", "GET /api/v2/spot/public/symbols",
        "GET /api/v2/margin/currencies", "GET /api/v2/spot/market/orderbook", "GET /api/v2/spot/account/assets",
        "POST /api/v2/spot/trade/place-order", "POST /api/v2/spot/trade/cancel-order",
        "GET /api/v2/spot/trade/orderInfo", "GET /api/v2/spot/trade/unfilled-orders", "GET /api/v2/spot/trade/fills",
        "GET /api/v3/market/instruments", "GET /api/v3/market/orderbook", "GET /api/v3/account/assets",
        "POST /api/v3/trade/place-order", "POST /api/v3/trade/cancel-order", "GET /api/v3/trade/order-info",
        "GET /api/v3/trade/unfilled-orders", "GET /api/v3/trade/fills", "GET /api/v3/account/all-fee-rate",
    ],
}

# ccxt's create_order on each venue, with the parameters its cost depends on.
CREATE_ORDER: dict[str, tuple[str, str, dict[str, Any]]] = {
    "binance": ("POST", "/api/v3/order", {"symbol": "BTCUSDT"}),
    "okx": ("POST", "/api/v5/trade/batch-orders", {}),
    "bybit": ("POST", "/v5/order/create", {"category": "spot"}),
    "dydx": ("GET", "/broadcast_tx_sync", {}),
    "coinbase": ("POST", "/api/v3/brokerage/orders", {}),
    "kraken": ("POST", "/0/private/AddOrder", {"pair": "XXBTZUSD"}),
    "kucoin": ("POST", "/api/v1/orders", {}),
    "gate": ("POST", "/api/v4/spot/orders", {"currency_pair": "BTC_USDT"}),
    "mexc": ("POST", "/api/v3/order", {"symbol": "BTCUSDT"}),
    "bitget": ("POST", "/api/v2/spot/trade/place-order", {}),
}


# ---- a fake clock and a driver ---------------------------------------------------------------


@dataclass(order=True)
class _Timer:
    when: float
    seq: int
    callback: Callable[[], None] = field(compare=False)
    cancelled: bool = field(default=False, compare=False)

    def cancel(self) -> None:
        self.cancelled = True


class FakeClock:
    """Time moves only when the test fires the next timer or advances it."""

    def __init__(self) -> None:
        self.t = 0.0
        self._timers: list[_Timer] = []
        self._seq = itertools.count()

    def now(self) -> float:
        return self.t

    def call_at(self, when: float, callback: Callable[[], None]) -> _Timer:
        timer = _Timer(when, next(self._seq), callback)
        heapq.heappush(self._timers, timer)
        return timer

    def next_at(self) -> float:
        while self._timers and self._timers[0].cancelled:
            heapq.heappop(self._timers)
        return self._timers[0].when if self._timers else math.inf

    def fire_next(self) -> bool:
        if self.next_at() == math.inf:
            return False
        timer = heapq.heappop(self._timers)
        self.t = max(self.t, timer.when)
        timer.callback()
        return True

    async def advance(self, to: float) -> None:
        """Let pending tasks run, fire every timer due by ``to`` (letting woken tasks run after
        each), then stand at ``to``."""
        await settle()
        while self.next_at() <= to:
            self.fire_next()
            await settle()
        self.t = max(self.t, to)


async def settle() -> None:
    """Let every task that can run do so (a woken waiter needs a couple of loop turns)."""
    for _ in range(8):
        await asyncio.sleep(0)


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    params: Mapping[str, Any] = field(default_factory=dict)
    account: str = "a"
    symbol: str = "BTC-USDT"


@dataclass(frozen=True)
class Grant:
    at: float
    seq: int
    request: Request


class Harness:
    def __init__(self, table: LimitTable, **kwargs: Any) -> None:
        self.clock = FakeClock()
        self.limiter = Limiter(table, clock=self.clock, **kwargs)
        self.grants: list[Grant] = []
        self.tasks: list[asyncio.Task[None]] = []
        self._seq = itertools.count()

    def submit(self, request: Request) -> asyncio.Task[None]:
        task = asyncio.create_task(self._acquire(next(self._seq), request))
        self.tasks.append(task)
        return task

    async def _acquire(self, seq: int, r: Request) -> None:
        await self.limiter.acquire(r.method, r.path, params=r.params, account=r.account, symbol=r.symbol)
        self.grants.append(Grant(self.clock.now(), seq, r))

    async def finish(self, max_timers: int = 100_000) -> None:
        """Fire timers until every submitted request is granted."""
        for _ in range(max_timers):
            await settle()
            if all(t.done() for t in self.tasks):
                return
            assert self.clock.fire_next(), f"{self.limiter.waiting} requests wait with no timer set"
        raise AssertionError(f"still {self.limiter.waiting} waiting after {max_timers} timers")

    def at(self, seq: int) -> float:
        return next(g.at for g in self.grants if g.seq == seq)


def violations(table: LimitTable, grants: list[Grant]) -> list[str]:
    """Every pool limit broken by these grants, checked from the table alone: a window's units in
    any [t, t + seconds), a decaying counter after each grant."""
    events: dict[tuple[Any, ...], list[tuple[float, float]]] = defaultdict(list)
    pools: dict[tuple[Any, ...], Window | Decaying] = {}
    for g in grants:
        r = g.request
        endpoint, cost = table.resolve(r.method, r.path, r.params)
        for i, pool in enumerate(table.pools):
            units = cost.get(pool.name, 0.0)
            if units <= 0:
                continue
            key = (
                i,
                r.account if pool.scope is Scope.ACCOUNT else "",
                r.symbol if pool.per_symbol else "",
                endpoint if pool.per_endpoint else "",
            )
            events[key].append((g.at, units))
            pools[key] = pool
    found = []
    for key, evs in events.items():
        evs.sort()
        pool = pools[key]
        if isinstance(pool, Window):
            total, j = 0.0, 0
            for t, units in evs:
                while j < len(evs) and evs[j][0] < t + pool.seconds:
                    total += evs[j][1]
                    j += 1
                if total > pool.limit + 1e-9:
                    found.append(f"{pool.name}{key[1:]}: {total:g} > {pool.limit:g} in [{t:g}, {t + pool.seconds:g})")
                total -= units
        else:
            level, last = 0.0, evs[0][0]
            for t, units in evs:
                level = max(0.0, level - pool.decay * (t - last)) + units
                last = t
                if level > pool.limit + 1e-6:
                    found.append(f"{pool.name}{key[1:]}: counter {level:g} > {pool.limit:g} at {t:g}")
    return found


def order_limit(table: LimitTable, method: str, path: str, params: Mapping[str, Any]) -> int:
    """How many orders the venue takes from idle before one must wait: its tightest pool."""
    _, cost = table.resolve(method, path, params)
    return min(int(p.limit // cost[p.name]) for p in table.pools if cost.get(p.name))


def expected_last(table: LimitTable, n: int, method: str, path: str, params: Mapping[str, Any]) -> float:
    """When the n-th of n orders sent at 0 can go at the earliest, pool by pool."""
    _, cost = table.resolve(method, path, params)
    times = []
    for pool in table.pools:
        units = cost.get(pool.name, 0.0)
        if not units:
            continue
        if isinstance(pool, Window):
            per_window = int(pool.limit // units)
            times.append(((n - 1) // per_window) * pool.seconds)
        else:
            times.append(max(0.0, (n * units - pool.limit) / pool.decay))
    return max(times)


# ---- the tables ------------------------------------------------------------------------------


def _split(call: str) -> tuple[str, str]:
    method, path = call.split(" ", 1)
    return method, path


@pytest.mark.parametrize("venue", VENUES)
def test_every_venue_has_a_table_that_prices_every_call_ccxt_makes(venue: str) -> None:
    table = TABLES[venue]
    assert table.venue == venue
    unlisted = [call for call in CCXT_CALLS[venue] if table.resolve(*_split(call))[0] == "*"]
    assert unlisted == [], f"{venue}: no table row for {unlisted}"


def test_binance_order_counts_in_weight_and_both_order_windows() -> None:
    key, cost = TABLES["binance"].resolve("POST", "/api/v3/order", {"symbol": "BTCUSDT"})
    assert key == "POST /api/v3/order"
    assert cost == {"REQUEST_WEIGHT": 1, "ORDERS": 1, "RAW_REQUESTS": 1}
    orders = [p for p in TABLES["binance"].pools if isinstance(p, Window) and p.name == "ORDERS"]
    assert {(p.limit, p.seconds, p.scope) for p in orders} == {(50, 10, Scope.ACCOUNT), (160_000, DAY, Scope.ACCOUNT)}


@pytest.mark.parametrize(
    ("params", "weight"),
    [({}, 5), ({"limit": 100}, 5), ({"limit": "101"}, 25), ({"limit": 1000}, 50), ({"limit": 5000}, 250),
     ({"limit": "x"}, 250)],
)
def test_binance_depth_weight_follows_its_limit(params: dict[str, Any], weight: int) -> None:
    assert TABLES["binance"].resolve("GET", "/api/v3/depth", params)[1]["REQUEST_WEIGHT"] == weight


def test_costs_that_depend_on_a_parameter() -> None:
    binance, bybit = TABLES["binance"], TABLES["bybit"]
    assert binance.resolve("GET", "/api/v3/openOrders", {"symbol": "BTCUSDT"})[1]["REQUEST_WEIGHT"] == 6
    assert binance.resolve("GET", "/api/v3/openOrders", {})[1]["REQUEST_WEIGHT"] == 80
    assert bybit.resolve("POST", "/v5/order/create", {"category": "spot"})[1] == {"create-spot": 1, "ip": 1}
    assert bybit.resolve("POST", "/v5/order/create", {"category": "linear"})[1] == {"create": 1, "ip": 1}


def test_templated_paths_and_exact_keys() -> None:
    kucoin = TABLES["kucoin"]
    assert kucoin.resolve("GET", "/api/v1/hf/orders/active")[0] == "GET /api/v1/hf/orders/active"
    assert kucoin.resolve("GET", "/api/v1/hf/orders/abc")[0] == "GET /api/v1/hf/orders/{orderId}"
    assert kucoin.resolve("GET", "/api/v1/hf/orders/abc/x")[0] == "*"  # a placeholder is one segment
    assert TABLES["kraken"].resolve("post", "/0/private/Ledgers")[1] == {"counter": 2}


def test_tiers_must_rise() -> None:
    with pytest.raises(ConfigError, match=r"tiers of limit must rise: \[500, 100\]"):
        ByTier("limit", ((500, {}), (100, {})), absent={}, above={})


def test_a_table_naming_an_unknown_pool_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"GET /x charges unknown pool\(s\) \['nope'\]"):
        LimitTable("v", (Window("w", 1, 1),), {"GET /x": {"nope": 1}}, {"w": 1}, Breach({429: 1.0}))


def test_a_request_bigger_than_its_pool_is_refused_not_queued_forever() -> None:
    table = LimitTable("v", (Window("w", 10, 1),), {"GET /big": {"w": 11}}, {"w": 1}, Breach({429: 1.0}))

    async def body() -> None:
        limiter = Limiter(table, clock=FakeClock())
        with pytest.raises(ConfigError, match=r"GET /big costs 11 in pool w, more than it ever holds \(10\)"):
            await limiter.acquire("GET", "/big")
        assert limiter.waiting == 0

    run(body(), 5)


# ---- the burst the issue asks for: 10x each venue's order limit, no pool overrun ---------------------


@pytest.mark.parametrize("venue", VENUES)
def test_a_burst_of_ten_times_the_order_limit_never_overruns_a_pool(venue: str) -> None:
    table = TABLES[venue]
    method, path, params = CREATE_ORDER[venue]
    n = 10 * order_limit(table, method, path, params)

    async def body() -> None:
        h = Harness(table)
        for _ in range(n):
            h.submit(Request(method, path, params))
        await h.finish()
        assert len(h.grants) == n
        assert violations(table, h.grants) == []
        # and no later than it must: the last order goes when the tightest pool first lets it
        assert max(g.at for g in h.grants) == pytest.approx(expected_last(table, n, method, path, params))

    run(body(), 120)


@st.composite
def traffic(draw: st.DrawFn) -> tuple[str, list[tuple[float, Request]]]:
    venue = draw(st.sampled_from(VENUES))
    table = TABLES[venue]
    keys = [*table.endpoints, "GET /not/listed"]
    param_sets = [{}, {"symbol": "BTCUSDT"}, {"limit": 1000}, {"limit": 5000}, {"category": "spot"}, {"orderId": "1"},
                  {ORDER_AGE: 7}]
    requests = []
    t = 0.0
    for _ in range(draw(st.integers(1, 150))):
        t += draw(st.sampled_from([0.0, 0.0, 0.001, 0.05, 0.5, 1.0, 3.0]))
        method, path = draw(st.sampled_from(keys)).split(" ", 1)
        request = Request(
            method,
            path.replace("{", "").replace("}", ""),
            draw(st.sampled_from(param_sets)),
            draw(st.sampled_from(["a", "b"])),
            draw(st.sampled_from(["BTC-USDT", "ETH-USDT"])),
        )
        requests.append((t, request))
    method, path, params = CREATE_ORDER[venue]
    burst_at = draw(st.floats(0, t))
    requests += [(burst_at, Request(method, path, params)) for _ in range(draw(st.integers(0, 60)))]
    return venue, sorted(requests, key=lambda item: item[0])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(traffic())
def test_any_mix_of_calls_stays_within_every_pool_and_identical_calls_keep_their_order(
    case: tuple[str, list[tuple[float, Request]]],
) -> None:
    venue, requests = case
    table = TABLES[venue]

    async def body() -> None:
        h = Harness(table)
        for at, request in requests:
            await h.clock.advance(at)
            h.submit(request)
        await h.finish()
        assert len(h.grants) == len(requests)
        assert violations(table, h.grants) == []
        by_request: dict[tuple[Any, ...], list[Grant]] = defaultdict(list)
        for g in sorted(h.grants, key=lambda g: g.seq):
            r = g.request
            by_request[(r.method, r.path, sorted(r.params.items()).__repr__(), r.account, r.symbol)].append(g)
        for same in by_request.values():
            times = [g.at for g in same]
            assert times == sorted(times), f"identical requests granted out of order: {times}"

    run(body(), 60)


async def grant_times(table: LimitTable, requests: list[tuple[float, Request]]) -> list[float]:
    h = Harness(table)
    for at, request in requests:
        await h.clock.advance(at)
        h.submit(request)
    await h.finish()
    return [h.at(i) for i in range(len(requests))]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(traffic(), st.lists(st.floats(0, 1, exclude_max=True), min_size=1, max_size=3))
def test_no_request_waits_longer_because_of_requests_made_after_it(
    case: tuple[str, list[tuple[float, Request]]], picks: list[float]
) -> None:
    venue, requests = case
    table = TABLES[venue]

    async def body() -> None:
        full = await grant_times(table, requests)
        for pick in picks:
            i = int(pick * len(requests))
            alone = await grant_times(table, requests[: i + 1])
            # Equal up to the limiter's bookkeeping: grants closer than 1/4096 of a window share one
            # entry, which may then count up to that much longer (0.07 s for a 5 min window).
            assert full[i] == pytest.approx(alone[i], abs=0.1), f"request {i} of {len(requests)}: {requests[i]}"

    run(body(), 60)


# ---- fairness and linked pools ----------------------------------------------------------------------


ORDER = Request("POST", "/api/v3/order", {"symbol": "BTCUSDT"})
BOOK = Request("GET", "/api/v3/depth", {"symbol": "BTCUSDT", "limit": 100})  # weight 5
BIG_BOOK = Request("GET", "/api/v3/depth", {"symbol": "BTCUSDT", "limit": 5000})  # weight 250


def test_grants_follow_request_order_across_endpoints_sharing_a_pool() -> None:
    kucoin = TABLES["kucoin"]
    order = Request("POST", "/api/v1/orders")  # spot pool, weight 2
    fills = Request("GET", "/api/v1/fills")  # spot pool, weight 10

    async def body() -> None:
        h = Harness(kucoin)
        for _ in range(2000):
            h.submit(order)  # the 4000-weight spot pool is now full until t=30
        await settle()
        mixed = [fills if i % 3 == 0 else order for i in range(1200)]
        for request in mixed:
            h.submit(request)
        await h.finish()
        later = sorted((g for g in h.grants if g.seq >= 2000), key=lambda g: (g.at, g.seq))
        assert [g.seq for g in later] == sorted(g.seq for g in later)
        assert later[0].at == 30.0
        assert violations(kucoin, h.grants) == []

    run(body(), 30)


def test_an_order_held_by_its_order_window_does_not_hold_up_weight_only_calls_nor_get_delayed_by_them() -> None:
    binance = TABLES["binance"]

    async def body() -> None:
        h = Harness(binance)
        for _ in range(50):
            h.submit(ORDER)
        await settle()
        held = h.submit(ORDER)  # the 51st: ORDERS 50/10 s is full until t=10
        await settle()
        books = []
        for step in range(200):  # a steady stream of book requests for 20 s
            await h.clock.advance(step * 0.1)
            books.append(h.submit(BOOK))
            await settle()
            assert books[-1].done(), f"book request at t={h.clock.t:g} waited behind the held order"
        await h.finish()
        assert held.done()
        assert h.at(50) == 10.0  # exactly when ORDERS frees up: the 200 book requests took nothing it needed
        assert violations(binance, h.grants) == []

    run(body(), 30)


def test_a_later_call_may_not_take_weight_a_held_order_will_need() -> None:
    binance = TABLES["binance"]

    async def body() -> None:
        h = Harness(binance)
        for _ in range(50):
            h.submit(ORDER)  # weight 50, ORDERS full until t=10
        for _ in range(23):
            h.submit(BIG_BOOK)  # weight 5750
        for _ in range(39):
            h.submit(BOOK)  # weight 195: 5995 of 6000 used until t=60
        await settle()
        assert len(h.grants) == 112
        h.submit(ORDER)  # seq 112: needs 1 weight at t=10
        h.submit(BOOK)  # seq 113: 5 would fit now on its own, but not with the order's 1 ahead
        await settle()
        assert len(h.grants) == 112
        await h.finish()
        assert h.at(112) == 10.0
        assert h.at(113) == 60.0
        assert violations(binance, h.grants) == []

    run(body(), 10)


def test_a_cancelled_wait_leaves_the_queue_and_is_never_counted() -> None:
    table = LimitTable("v", (Window("w", 2, 10),), {}, {"w": 1}, Breach({429: 1.0}))

    async def body() -> None:
        h = Harness(table)
        for _ in range(2):
            h.submit(Request("GET", "/x"))
        await settle()
        gone = h.submit(Request("GET", "/x"))
        await settle()
        h.submit(Request("GET", "/x"))
        h.submit(Request("GET", "/x"))
        await settle()
        gone.cancel()
        await h.clock.advance(10.0)
        assert sorted(g.seq for g in h.grants) == [0, 1, 3, 4]
        assert h.at(3) == h.at(4) == 10.0
        assert h.limiter.waiting == 0

    run(body(), 5)


# ---- Kraken's decaying counters ---------------------------------------------------------------------


def test_kraken_call_counter_decays_at_the_tier_rate_and_history_costs_two() -> None:
    async def body() -> None:
        h = Harness(KRAKEN_TIERS["starter"])
        for _ in range(16):
            h.submit(Request("POST", "/0/private/BalanceEx"))
        h.submit(Request("POST", "/0/private/TradesHistory"))
        await h.finish()
        assert [h.at(i) for i in range(15)] == [0.0] * 15  # max 15
        assert h.at(15) == pytest.approx(1 / 0.33)  # one call decays in 3.03 s
        assert h.at(16) == pytest.approx(3 / 0.33)  # then a history call needs 2 more

        h = Harness(KRAKEN_TIERS["pro"])
        for _ in range(21):
            h.submit(Request("POST", "/0/private/QueryOrders"))
        await h.finish()
        assert h.at(19) == 0.0 and h.at(20) == pytest.approx(1.0)  # max 20, -1/s

    run(body(), 10)


def test_kraken_trading_counter_is_per_pair_and_a_cancel_costs_by_the_orders_age() -> None:
    add = Request("POST", "/0/private/AddOrder", symbol="XXBTZUSD")

    async def body() -> None:
        h = Harness(KRAKEN_TIERS["starter"])
        for _ in range(61):
            h.submit(add)
        h.submit(Request("POST", "/0/private/AddOrder", symbol="XETHZUSD"))  # seq 61, another pair
        h.submit(Request("POST", "/0/private/CancelOrder", {ORDER_AGE: 400}, symbol="XXBTZUSD"))  # seq 62: costs 0
        await settle()
        assert {g.seq for g in h.grants} == {*range(60), 61, 62}
        h.submit(Request("POST", "/0/private/CancelOrder", {ORDER_AGE: 3}, symbol="XXBTZUSD"))  # seq 63: costs 8
        h.submit(Request("POST", "/0/private/CancelOrder", {ORDER_AGE: 60}, symbol="XXBTZUSD"))  # seq 64: costs 2
        h.submit(Request("POST", "/0/private/CancelOrder", symbol="XXBTZUSD"))  # seq 65: age unknown, costs 8
        await h.finish()
        assert h.at(60) == pytest.approx(1.0)  # 60 max, -1/s
        assert h.at(63) == pytest.approx(9.0)
        assert h.at(64) == pytest.approx(11.0)
        assert h.at(65) == pytest.approx(19.0)
        assert violations(KRAKEN_TIERS["starter"], h.grants) == []

    run(body(), 10)


# ---- served limits (Binance exchangeInfo) -----------------------------------------------------------


EXCHANGE_INFO: dict[str, Any] = {
    "timezone": "UTC",
    "serverTime": 1565246363776,
    "rateLimits": [
        {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000},
        {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
        {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 200000},
        {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 61000},
        {"rateLimitType": "CONNECTIONS", "interval": "MINUTE", "intervalNum": 5, "limit": 300},
    ],
    "exchangeFilters": [],
    "symbols": [],
}


def test_binance_served_limits_replace_the_tables_windows_and_keep_their_scope() -> None:
    served = TABLES["binance"].with_served(orjson.loads(orjson.dumps(EXCHANGE_INFO))["rateLimits"])
    windows = {(p.name, p.seconds): p for p in served.pools if isinstance(p, Window)}
    assert windows[("ORDERS", 10.0)].limit == 100 and windows[("ORDERS", 10.0)].scope is Scope.ACCOUNT
    assert windows[("ORDERS", 86_400.0)].limit == 200_000
    assert windows[("RAW_REQUESTS", 300.0)].limit == 61_000
    assert windows[("SAPI_WEIGHT", 60.0)].per_endpoint  # not served: kept
    assert "CONNECTIONS" not in {p.name for p in served.pools}  # nothing is charged to it
    assert TABLES["binance"].with_served([]) is TABLES["binance"]  # MEXC serves an empty list


@pytest.mark.parametrize(
    ("entry", "complaint"),
    [
        ({"rateLimitType": "ORDERS", "interval": "FORTNIGHT", "intervalNum": 1, "limit": 5}, "needs interval SECOND"),
        ({"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10}, "needs a numeric limit"),
        ({"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 0, "limit": 5}, "intervalNum must be"),
    ],
)
def test_a_malformed_served_limit_is_refused_by_name(entry: dict[str, Any], complaint: str) -> None:
    with pytest.raises(ConfigError, match=complaint):
        TABLES["binance"].with_served([entry])


def test_switching_to_served_limits_keeps_what_was_counted() -> None:
    async def body() -> None:
        h = Harness(TABLES["binance"])
        for _ in range(50):
            h.submit(ORDER)
        await settle()
        h.limiter.set_table(TABLES["binance"].with_served(EXCHANGE_INFO["rateLimits"]))  # ORDERS now 100/10 s
        for _ in range(51):
            h.submit(ORDER)
        await h.finish()
        assert [h.at(i) for i in range(100)] == [0.0] * 100
        assert h.at(100) == 10.0  # the first 50 still count until t=10

    run(body(), 10)


# ---- breaches -------------------------------------------------------------------------------------


NOW = 1_700_000_000.0


def reply(status: int, body: Any, headers: dict[str, str] | None = None) -> Reply:
    raw = body if isinstance(body, bytes | str) else orjson.dumps(body)
    return Reply(status, headers or {}, raw, received_at=NOW)


MS = int(NOW * 1000)
BREACHES = [
    (
        "binance",
        reply(429, {"code": -1003, "msg": "Too many requests; current limit of IP(1.2.3.4) is 6000 requests per minute."},
              {"Retry-After": "27"}),
        27.0,
    ),
    ("binance", reply(418, {"code": -1003, "msg": f"Way too many requests; IP(1.2.3.4) banned until {MS + 180_000}."}), 180.0),
    ("binance", reply(429, {"code": -1015, "msg": "Too many new orders; current limit is 50 orders per 10 SECOND."}), 10.0),
    ("okx", reply(429, {"msg": "Too Many Requests", "code": "50011"}), 2.0),
    ("okx", reply(200, {"code": "50061", "msg": "Sub-account rate limit exceeded", "data": []}), 2.0),
    (
        "bybit",
        reply(200, {"retCode": 10006, "retMsg": "Too many visits!", "result": {}, "retExtInfo": {}, "time": MS},
              {"X-Bapi-Limit": "20", "X-Bapi-Limit-Status": "0", "X-Bapi-Limit-Reset-Timestamp": str(MS + 750)}),
        0.75,
    ),
    ("bybit", reply(403, "access too frequent"), 600.0),
    ("dydx", reply(429, {"errors": [{"msg": "Too many requests, please try again later."}]}, {"Retry-After": "4"}), 4.0),
    (
        "dydx",
        reply(200, {"jsonrpc": "2.0", "id": -1, "result": {"code": 3002, "codespace": "clob", "hash": "AB", "log": (
            "Rate of 3 exceeds configured block rate limit of {NumBlocks:1 Limit:2} for MsgPlaceOrder and key dydx1")}}),
        1.5,
    ),
    ("coinbase", reply(429, {"error": "rate_limit_exceeded", "message": "Too many requests"}), 1.0),
    ("kraken", reply(200, {"error": ["EAPI:Rate limit exceeded"], "result": {}}), 1 / 0.33),
    ("kraken", reply(200, {"error": ["EOrder:Rate limit exceeded"]}), 1.0),
    ("kraken", reply(200, {"error": [f"EService: Throttled: {int(NOW) + 5}"]}), 5.0),
    (
        "kucoin",
        reply(429, {"code": "429000", "msg": "Too Many Requests"},
              {"gw-ratelimit-limit": "4000", "gw-ratelimit-remaining": "0", "gw-ratelimit-reset": "12500"}),
        12.5,
    ),
    (
        "gate",
        reply(429, {"label": "TOO_MANY_REQUESTS", "message": "Request Rate limit Exceeded (007)"},
              {"X-Gate-RateLimit-Reset-Timestamp": str(MS + 400)}),
        0.4,
    ),
    ("mexc", reply(429, {"code": 429, "msg": "Too Many Requests"}, {"Retry-After": "6"}), 6.0),
    ("bitget", reply(429, {"code": "429", "msg": "Too Many Requests", "requestTime": MS, "data": None}), 1.0),
]

NOT_BREACHES = [
    ("binance", reply(400, {"code": -2010, "msg": "Account has insufficient balance for requested action."})),
    ("okx", reply(200, {"code": "0", "msg": "", "data": [{"ordId": "1", "sCode": "0"}]})),
    ("bybit", reply(200, {"retCode": 0, "retMsg": "OK", "result": {}}, {"X-Bapi-Limit-Reset-Timestamp": str(MS)})),
    ("dydx", reply(200, {"jsonrpc": "2.0", "id": -1, "result": {"code": 0, "log": "[]", "hash": "AB"}})),
    ("kraken", reply(200, {"error": ["EOrder:Insufficient funds"]})),
    ("kucoin", reply(200, {"code": "200000", "data": {}}, {"gw-ratelimit-remaining": "3998", "gw-ratelimit-reset": "900"})),
    ("gate", reply(400, {"label": "BALANCE_NOT_ENOUGH", "message": "Not enough balance"})),
    ("mexc", reply(400, {"code": 30004, "msg": "Insufficient position"})),
    ("bitget", reply(400, {"code": "43012", "msg": "Insufficient balance"})),
    ("coinbase", reply(401, b"Unauthorized")),
]


@pytest.mark.parametrize(("venue", "answer", "wait"), BREACHES)
def test_each_venue_breach_is_recognised_with_the_wait_it_asks_for(venue: str, answer: Reply, wait: float) -> None:
    assert TABLES[venue].breach.wait(answer) == pytest.approx(wait)


@pytest.mark.parametrize(("venue", "answer"), NOT_BREACHES)
def test_other_errors_are_not_taken_for_breaches(venue: str, answer: Reply) -> None:
    assert TABLES[venue].breach.wait(answer) is None


def test_a_reset_time_already_past_gets_the_listed_wait() -> None:
    late = reply(200, {"retCode": 10006, "retMsg": "Too many visits!"}, {"X-Bapi-Limit-Reset-Timestamp": str(MS - 50)})
    assert TABLES["bybit"].breach.wait(late) == 1.0


def test_a_breach_holds_every_request_back_for_the_wait() -> None:
    async def body() -> None:
        h = Harness(TABLES["binance"])
        assert h.limiter.observe(BREACHES[0][1]) == 27.0
        h.submit(BOOK)
        h.submit(ORDER)
        await h.finish()
        assert [h.at(0), h.at(1)] == [27.0, 27.0]

    run(body(), 5)


def test_an_account_breach_holds_only_that_account() -> None:
    async def body() -> None:
        h = Harness(TABLES["okx"])
        h.limiter.penalize(2.0, account="a")
        held = h.submit(Request("POST", "/api/v5/trade/order", account="a"))
        free = h.submit(Request("POST", "/api/v5/trade/order", account="b"))
        await settle()
        assert free.done() and not held.done()
        await h.finish()
        assert h.at(0) == 2.0

    run(body(), 5)


# ---- share, margin, the real clock ----------------------------------------------------------------


def test_share_and_margin_shrink_each_pool() -> None:
    pools = (Window("w", 10, 1), Decaying("d", 10, 2))
    table = LimitTable("v", pools, {"GET /d": {"d": 1}}, {"w": 1}, Breach({429: 1.0}))

    async def body() -> None:
        h = Harness(table, share=0.5, margin=0.25)
        for _ in range(6):
            h.submit(Request("GET", "/w"))
        for _ in range(5):
            h.submit(Request("GET", "/d"))
        await h.finish()
        assert [h.at(i) for i in range(6)] == [0.0] * 5 + [1.25]  # 5 of 10 per 1.25 s
        # 10 * 0.5 - 2/s * 0.25 s = 4.5: four fit, the fifth waits for 0.5 to decay at 2/s
        assert [h.at(i) for i in range(6, 11)] == [0.0] * 4 + [pytest.approx(0.25)]

    run(body(), 5)


def test_the_loop_clock_never_grants_early() -> None:
    table = LimitTable("v", (Window("w", 1, 0.02),), {}, {"w": 1}, Breach({429: 1.0}))

    async def body() -> None:
        loop = asyncio.get_running_loop()
        limiter = Limiter(table, clock=LoopClock())
        asked = loop.time()  # the first grant is at or after this; the loop may resume its caller later
        await limiter.acquire("GET", "/x")
        await limiter.acquire("GET", "/x")
        assert loop.time() - asked >= 0.02

    run(body(), 5)
