"""Smart order router planning time: crossbook's planner reading 10 live L2Books next to a plain
baseline that collects every level of every book, sorts them by fee-adjusted price and takes them
greedily, on the same books in one run. Prints median and p99 in microseconds and the ratio.

    python bench/route.py [--repeats N] [--seconds S] [--json]

The books: 10 venues named like the real ones, 1000 bid and 1000 ask levels each around 60000
(each venue its own offset, spread, tick and taker fee), built as a feed builds them: a snapshot
then depth updates (about 20% deletions) through L2Book's public update API. Orders: a buy that
takes a few levels (small) and one that takes about 2000 (large), planned (i) with proportional
fees only and (ii) with a 0.00001 lot and 5 USDT minimum notional everywhere, a 2 USDT fixed cost
per order on dydx and at most 4 venues. Inside the timer: reading the books and planning (the
VenueSides are live views built once, as a router keeps them; they copy nothing). Between two
timed plans every book takes another update outside the timer, so no plan sees the books the
previous one read. The baseline computes (i)'s answer; (i)'s cost is checked against it.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial

import orjson

from crossbook.book.l2 import L2Book
from crossbook.model import BookState, Side
from crossbook.routing.planner import VenueSide, plan

# name, taker fee, tick, offset of the mid from 60000 (ticks), half spread (ticks)
VENUES = [
    ("binance", 0.0010, 0.01, 0, 1),
    ("okx", 0.0010, 0.1, 12, 1),
    ("bybit", 0.0010, 0.1, -8, 2),
    ("coinbase", 0.0120, 0.01, 150, 3),
    ("kraken", 0.0040, 0.1, -25, 2),
    ("gate", 0.0010, 0.01, 40, 5),
    ("bitget", 0.0010, 0.01, -30, 3),
    ("kucoin", 0.0010, 0.1, 20, 2),
    ("mexc", 0.0005, 0.01, 60, 4),
    ("dydx", 0.0005, 1.0, -3, 1),
]
LEVELS = 1000
LOT = 0.00001
MIN_NOTIONAL = 5.0
FIXED_COST = {"dydx": 2.0}
MAX_VENUES = 4
SMALL_LEVELS = 3
LARGE_LEVELS = 2000


def build_books(rng: random.Random) -> list[L2Book]:
    books = []
    for name, _, tick, offset, half_spread in VENUES:
        book = L2Book(name, "BTC-USDT")
        mid = round(60000 / tick) + offset
        bids = ladder(rng, mid - half_spread, -1)
        asks = ladder(rng, mid + half_spread, 1)
        book.snapshot([[f"{p * tick:.8f}", q] for p, q in bids.items()], [[f"{p * tick:.8f}", q] for p, q in asks.items()])
        for _ in range(300):
            update(rng, book, tick, bids, mid - half_spread, -1)
            update(rng, book, tick, asks, mid + half_spread, 1)
        book.state = BookState.LIVE
        books.append(book)
    return books


def ladder(rng: random.Random, top: int, direction: int) -> dict[int, str]:
    levels = {}
    px = top
    for _ in range(LEVELS):
        levels[px] = size(rng)
        px += direction * rng.randint(1, 3)
    return levels


def size(rng: random.Random) -> str:
    return f"{rng.randint(1, 10_000) / 1e5:.5f}"  # 0.00001 .. 0.1 BTC


def update(rng: random.Random, book: L2Book, tick: float, levels: dict[int, str], best: int, direction: int) -> None:
    """One depth update of a side: a few changes within 300 ticks of the best, about 20% deleting
    a level (never the best) — as a feed applies a venue's diff."""
    changes = []
    for _ in range(5):
        px = best + direction * rng.randint(0, 300)
        if rng.random() < 0.2 and px in levels and px != best:
            del levels[px]
            changes.append([f"{px * tick:.8f}", "0"])
        else:
            levels[px] = size(rng)
            changes.append([f"{px * tick:.8f}", levels[px]])
    book.update(changes, []) if direction < 0 else book.update([], changes)


def baseline(books: list[L2Book], fees: dict[str, float], amount: float) -> float:
    """Every ask of every book in one list, sorted by fee-adjusted price, taken greedily: the cost."""
    levels = [(p * (1 + fees[b.venue]), p, q) for b in books for p, q in b.asks.items()]
    levels.sort()
    left, cost = amount, 0.0
    for adjusted, _, q in levels:
        take = q if q < left else left
        cost += take * adjusted
        left -= take
        if left <= 0:
            break
    return cost


def amount_for(books: list[L2Book], fees: dict[str, float], levels: int) -> float:
    """A buy amount that takes about ``levels`` levels across the books (prepared outside timing)."""
    merged = sorted((p * (1 + fees[b.venue]), q) for b in books for p, q in b.asks.items())
    return sum(q for _, q in merged[:levels]) - merged[levels - 1][1] / 2


def venue_sides(books: list[L2Book], fees: dict[str, float], constrained: bool) -> list[VenueSide]:
    if not constrained:
        return [VenueSide.from_book(b, Side.BUY, fees[b.venue]) for b in books]
    return [
        VenueSide.from_book(b, Side.BUY, fees[b.venue], lot=LOT, min_amount=LOT, min_notional=MIN_NOTIONAL,
                            fixed_cost=FIXED_COST.get(b.venue, 0.0))
        for b in books
    ]


def timed(run: Callable[[], object], churn: Callable[[], None], repeats: int, seconds: float) -> list[float]:
    samples = []
    deadline = time.perf_counter() + seconds
    for _ in range(repeats):
        churn()
        start = time.perf_counter()
        run()
        samples.append(time.perf_counter() - start)
        if time.perf_counter() > deadline:
            break
    return samples


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def summary(samples: list[float]) -> dict[str, float]:
    return {"median_us": statistics.median(samples) * 1e6, "p99_us": pct(samples, 0.99) * 1e6, "runs": len(samples)}


def bench(repeats: int, seconds: float) -> dict[str, dict[str, object]]:
    books = build_books(random.Random(7))
    fees = {name: fee for name, fee, *_ in VENUES}
    churn_rng = random.Random(11)

    def churn() -> None:  # a new size at the top of every book: the next plan reads changed books
        for b in books:
            top = b.best_ask()
            if top is not None:
                b.update_floats([], [(top[0], churn_rng.randint(1, 10_000) / 1e5)])

    plain = venue_sides(books, fees, constrained=False)
    rules = venue_sides(books, fees, constrained=True)
    results: dict[str, dict[str, object]] = {}
    for label, levels in (("small", SMALL_LEVELS), ("large", LARGE_LEVELS)):
        amount = amount_for(books, fees, levels)
        expected = baseline(books, fees, amount)
        cost = plan(Side.BUY, amount, plain).cost
        if abs(cost - expected) > 1e-9 * expected:
            raise SystemExit(f"{label}: the planner's cost {cost} differs from the baseline's {expected}")
        base = timed(partial(baseline, books, fees, amount), churn, repeats, seconds)
        fee_only = timed(partial(plan, Side.BUY, amount, plain), churn, repeats, seconds)
        constrained = timed(partial(plan, Side.BUY, amount, rules, max_venues=MAX_VENUES), churn, repeats, seconds)
        med = statistics.median(base)
        results[label] = {
            "amount": amount,
            "levels_taken": levels,
            "baseline": summary(base),
            "fees_only": summary(fee_only),
            "constrained": summary(constrained),
            "ratio_fees_only": med / statistics.median(fee_only),
            "ratio_constrained": med / statistics.median(constrained),
        }
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2000, help="timed plans per case (at most)")
    parser.add_argument("--seconds", type=float, default=10.0, help="time cap per case")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.repeats <= 0 or args.seconds <= 0:
        parser.error("--repeats and --seconds must be positive")
    results = bench(args.repeats, args.seconds)
    if args.json:
        out = {"venues": len(VENUES), "levels_per_side": LEVELS, "max_venues": MAX_VENUES, "results": results}
        sys.stdout.write(orjson.dumps(out).decode() + "\n")
        return 0
    print(f"planning a buy across {len(VENUES)} live books x {LEVELS} levels per side (microseconds)")
    for label, r in results.items():
        print(f"  {label}: {r['amount']:.5f} BTC, about {r['levels_taken']} levels")
        for name in ("baseline", "fees_only", "constrained"):
            s = r[name]
            assert isinstance(s, dict)
            print(f"    {name:12s} median {s['median_us']:9.1f}   p99 {s['p99_us']:9.1f}   ({s['runs']} runs)")
        print(f"    baseline / ours: fees only {r['ratio_fees_only']:.1f}x, constrained {r['ratio_constrained']:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
