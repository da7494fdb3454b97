"""Order round trips against the simulated Binance over loopback: crossbook's create_order
(validation, journal intent + ack, limiter, then ccxt) next to a bare ccxt create_order on the
same simulator, in one run. Prints median and p99 latency and crossbook's own overhead.

    python bench/orders.py [--orders N] [--json]

Each order is a limit buy 2% below the market (it rests), cancelled at once by the venue's engine
so balances never run out; only the create round trip is timed. Both clients run without ccxt's
own throttle; crossbook's limiter applies Binance's real table, whose ORDERS pool allows 50 orders
per 10 s, so the default run stays under it (more orders would time the limiter's wait).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import ccxt.async_support as ccxt_async
import orjson

from crossbook.model import OrderRequest, OrderType, Side
from crossbook.sim.cluster import SimCluster
from crossbook.sim.serve import ccxt_configs
from crossbook.trading.account import VenueAccount
from crossbook.trading.journal import Journal
from crossbook.venues.binance import LIMITS
from crossbook.venues.spec.limiter import Limiter

SYMBOL = "BTC-USDT"


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


async def bench(orders: int) -> dict[str, dict[str, float]]:
    # both clients trade one account: together they pass its 50 orders / 10 s, which is not measured here
    async with SimCluster(["binance"], interval=10.0, levels=200, enforce_limits=False) as cluster:
        sim = cluster.venues["binance"]
        config = ccxt_configs(cluster)["binance"]
        ladder = sim.ladders[SYMBOL]
        price = Decimal(ladder.price_str(max(ladder.bids))) * Decimal("0.98")
        price = price.quantize(Decimal("0.01"))
        with tempfile.TemporaryDirectory() as tmp, Journal(Path(tmp) / "bench.db") as journal:
            bare = ccxt_async.binance({**config, "enableRateLimit": False})
            account = VenueAccount("binance", ccxt_async.binance(config), journal, Limiter(LIMITS))
            try:
                await bare.load_markets()
                await account.load()
                bare_times = await time_bare(bare, sim, str(price), orders)
                crossbook_times = await time_crossbook(account, sim, price, orders)
            finally:
                await bare.close()
                await account.client.close()
    med_bare, med_cb = statistics.median(bare_times), statistics.median(crossbook_times)
    return {
        "ccxt": {"median_ms": med_bare * 1e3, "p99_ms": pct(bare_times, 0.99) * 1e3},
        "crossbook": {"median_ms": med_cb * 1e3, "p99_ms": pct(crossbook_times, 0.99) * 1e3},
        "overhead": {"median_ms": (med_cb - med_bare) * 1e3},
    }


async def time_bare(client: object, sim: object, price: str, n: int) -> list[float]:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        order = await client.create_order("BTC/USDT", "limit", "buy", "0.001", price)  # type: ignore[attr-defined]
        times.append(time.perf_counter() - start)
        sim.engine.cancel("main", order["id"])  # type: ignore[attr-defined]
    return times


async def time_crossbook(account: VenueAccount, sim: object, price: Decimal, n: int) -> list[float]:
    times = []
    for _ in range(n):
        request = OrderRequest("binance", SYMBOL, Side.BUY, OrderType.LIMIT, Decimal("0.001"), price)
        start = time.perf_counter()
        order = await account.create_order(request)
        times.append(time.perf_counter() - start)
        assert order.venue_order_id is not None
        sim.engine.cancel("main", order.venue_order_id)  # type: ignore[attr-defined]
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=45)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.orders <= 0:
        parser.error("--orders must be positive")
    results = asyncio.run(bench(args.orders))
    if args.json:
        sys.stdout.write(orjson.dumps({"orders": args.orders, "results": results}).decode() + "\n")
        return 0
    print(f"create_order round trips on the simulated Binance, {args.orders} orders each")
    for name in ("ccxt", "crossbook"):
        r = results[name]
        print(f"  {name:10s} median {r['median_ms']:7.2f} ms   p99 {r['p99_ms']:7.2f} ms")
    print(f"  crossbook's own overhead per order (median): {results['overhead']['median_ms']:.2f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
