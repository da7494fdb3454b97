"""Binance diff-depth throughput: crossbook's Binance handler next to ccxt.pro's and cryptofeed's,
and orjson.loads alone (the floor), on identical bytes in one run.

    python bench/feed.py [--messages N] [--json]

The stream is deterministic: a 1000+1000-level snapshot around 60000 (0.01 tick, 8-decimal
strings), then depthUpdate messages in the combined-stream envelope with about 10 bid and 10 ask
changes each, about 20% of them deletions, U/u consecutive. Every path starts from the same
snapshot and must end with the same book; the peers are driven offline as ../shared/PERF.md says.
Peers come from the optional extra: pip install -e ".[bench]".
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from collections.abc import Callable
from decimal import Decimal

import orjson

Book = tuple[dict[float, float], dict[float, float]]
SNAPSHOT_ID = 1_000_000
TICK = 0.01


def fmt(ticks: int) -> str:
    return f"{ticks * TICK:.8f}"


def qty(rng: random.Random) -> str:
    return f"{rng.randint(1, 500_000) / 1e5:.8f}"


def generate(n: int, seed: int = 42) -> tuple[dict[str, object], list[bytes]]:
    """The snapshot (as a dict) and ``n`` diff messages (as the raw bytes a socket delivers)."""
    rng = random.Random(seed)
    mid = 6_000_000  # 60000.00 in ticks
    bids = ladder(rng, mid - 1, -1)
    asks = ladder(rng, mid + 1, 1)
    snapshot = {
        "lastUpdateId": SNAPSHOT_ID,
        "bids": [[fmt(p), q] for p, q in sorted(bids.items(), reverse=True)],
        "asks": [[fmt(p), q] for p, q in sorted(asks.items())],
    }
    messages = []
    update_id = SNAPSHOT_ID
    best_bid, best_ask = mid - 1, mid + 1
    for i in range(n):
        b = side_changes(rng, bids, best_bid, -1)
        a = side_changes(rng, asks, best_ask, 1)
        first = update_id + 1
        update_id += len(b) + len(a)
        event = {"e": "depthUpdate", "E": 1_700_000_000_000 + i * 100, "s": "BTCUSDT", "U": first, "u": update_id, "b": b, "a": a}
        messages.append(orjson.dumps({"stream": "btcusdt@depth@100ms", "data": event}))
    return snapshot, messages


def ladder(rng: random.Random, top: int, direction: int) -> dict[int, str]:
    """1000 levels, 1-3 ticks apart, so changes near the top both add and remove levels."""
    levels = {}
    px = top
    for _ in range(1000):
        levels[px] = qty(rng)
        px += direction * rng.randint(1, 3)
    return levels


def side_changes(rng: random.Random, levels: dict[int, str], best: int, direction: int) -> list[list[str]]:
    """10 changes within 300 ticks of a fixed best price, about 20% of them deleting a level."""
    out: dict[int, str] = {}
    while len(out) < 10:
        px = best + direction * rng.randint(0, 300)
        if rng.random() < 0.24:  # misses on empty prices are redrawn: ~20% of changes delete
            if px in levels and px != best:
                out[px] = "0.00000000"
        else:
            out[px] = qty(rng)
    for px, q in out.items():
        if q == "0.00000000":
            del levels[px]
        else:
            levels[px] = q
    return [[fmt(p), q] for p, q in out.items()]


def as_floats(bids: object, asks: object) -> Book:
    return ({float(p): float(q) for p, q in bids}, {float(p): float(q) for p, q in asks})  # type: ignore[attr-defined]


# ---- the paths -------------------------------------------------------------------------------


def run_orjson(snapshot: dict[str, object], messages: list[bytes]) -> tuple[float, Book | None]:
    loads = orjson.loads
    start = time.perf_counter()
    for m in messages:
        loads(m)
    return time.perf_counter() - start, None


def run_crossbook(snapshot: dict[str, object], messages: list[bytes]) -> tuple[float, Book | None]:
    from crossbook.venues.binance import BinanceSpot

    handler = BinanceSpot()
    book = handler.add_book("BTCUSDT", "BTC-USDT")
    handler.on_snapshot("BTCUSDT", orjson.dumps(snapshot), 0.0)
    on_frame = handler.on_frame
    start = time.perf_counter()
    for m in messages:
        on_frame(m, 0.0)
    elapsed = time.perf_counter() - start
    assert book.stats.gaps == 0 and book.state.value == "live"
    return elapsed, (dict(book.bids), dict(book.asks))


def ccxt_market() -> dict[str, object]:
    return {
        "symbol": "BTCUSDT",
        "status": "TRADING",
        "baseAsset": "BTC",
        "baseAssetPrecision": 8,
        "quoteAsset": "USDT",
        "quotePrecision": 8,
        "quoteAssetPrecision": 8,
        "orderTypes": ["LIMIT", "MARKET"],
        "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": False,
        "permissions": ["SPOT"],
        "permissionSets": [["SPOT"]],
        "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": "0.01", "maxPrice": "1000000", "tickSize": "0.01"},
            {"filterType": "LOT_SIZE", "minQty": "0.00001", "maxQty": "9000", "stepSize": "0.00001"},
        ],
    }


def run_ccxt_pro(snapshot: dict[str, object], messages: list[bytes]) -> tuple[float, Book | None]:
    import ccxt.pro

    async def body() -> tuple[float, Book]:
        ex = ccxt.pro.binance()
        try:
            ex.options["crossMarginPairsData"] = []
            ex.options["isolatedMarginPairsData"] = []
            ex.set_markets([ex.parse_market(ccxt_market())])
            symbol = "BTC/USDT"
            client = ex.client("wss://stream.binance.com:9443/ws/0")
            ob = ex.order_book({}, 1000)
            ob.reset({"bids": [[float(p), float(q)] for p, q in snapshot["bids"]],  # type: ignore[attr-defined]
                      "asks": [[float(p), float(q)] for p, q in snapshot["asks"]],  # type: ignore[attr-defined]
                      "nonce": snapshot["lastUpdateId"]})
            ex.orderbooks[symbol] = ob
            handle = client.handle_text_or_binary_message
            start = time.perf_counter()
            for m in messages:
                handle(m)
            elapsed = time.perf_counter() - start
            book = ex.orderbooks[symbol]
            return elapsed, as_floats(book["bids"], book["asks"])
        finally:
            await ex.close()

    return asyncio.run(body())


def run_cryptofeed(snapshot: dict[str, object], messages: list[bytes]) -> tuple[float, Book | None]:
    from cryptofeed.defines import ASK, BID, L2_BOOK
    from cryptofeed.exchanges import Binance
    from cryptofeed.symbols import Symbols
    from cryptofeed.types import OrderBook

    info = {"symbols": [ccxt_market()]}
    syms, sym_info = Binance._parse_symbol_data(info)
    Symbols.set(Binance.id, syms, sym_info)

    async def on_book(*_args: object) -> None:
        return None

    async def body() -> tuple[float, Book]:
        feed = Binance(symbols=["BTC-USDT"], channels=[L2_BOOK], callbacks={L2_BOOK: on_book})
        feed._l2_book["BTC-USDT"] = OrderBook(
            feed.id,
            "BTC-USDT",
            bids={Decimal(p): Decimal(q) for p, q in snapshot["bids"]},  # type: ignore[attr-defined]
            asks={Decimal(p): Decimal(q) for p, q in snapshot["asks"]},  # type: ignore[attr-defined]
        )
        feed.last_update_id["BTC-USDT"] = snapshot["lastUpdateId"]
        handler = feed.message_handler
        start = time.perf_counter()
        for m in messages:
            await handler(m, None, 0.0)
        elapsed = time.perf_counter() - start
        book = feed._l2_book["BTC-USDT"].book
        return elapsed, as_floats(book[BID].to_list(), book[ASK].to_list())

    return asyncio.run(body())


PATHS: dict[str, Callable[[dict[str, object], list[bytes]], tuple[float, Book | None]]] = {
    "crossbook": run_crossbook,
    "ccxt_pro": run_ccxt_pro,
    "cryptofeed": run_cryptofeed,
    "orjson_floor": run_orjson,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs per path; the best is reported")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    if args.messages <= 0:
        parser.error("--messages must be positive")
    snapshot, messages = generate(args.messages)
    results: dict[str, float | None] = {}
    books: dict[str, Book] = {}
    missing: dict[str, str] = {}
    for name, path in PATHS.items():
        best = None
        for _ in range(args.repeat):
            try:
                elapsed, book = path(snapshot, messages)
            except ImportError as exc:
                missing[name] = f"not installed ({exc.name}); pip install -e '.[bench]'"
                break
            best = elapsed if best is None else min(best, elapsed)
            if book is not None:
                books[name] = book
        results[name] = None if best is None else args.messages / best
    reference = books.get("crossbook")
    mismatched = [n for n, b in books.items() if b != reference]
    if args.json:
        sys.stdout.write(orjson.dumps({"messages": args.messages, "results": results}).decode() + "\n")
    else:
        report(args.messages, results, missing, sorted(books))
    if mismatched:
        print(f"final books differ from crossbook's: {', '.join(mismatched)}", file=sys.stderr)
        return 1
    return 0


def report(n: int, results: dict[str, float | None], missing: dict[str, str], compared: list[str]) -> None:
    print(f"Binance diff depth, {n} messages (~20 level changes each), best of runs")
    ours = results["crossbook"]
    for name, rate in results.items():
        if rate is None:
            print(f"  {name:13s} {missing.get(name, 'failed')}")
            continue
        ratio = f"crossbook is {ours / rate:5.2f}x" if ours and name != "crossbook" else ""
        print(f"  {name:13s} {rate:12,.0f} msg/s  {1e6 / rate:6.2f} us/msg  {ratio}")
    print(f"final books identical across: {', '.join(compared)}")


if __name__ == "__main__":
    raise SystemExit(main())
