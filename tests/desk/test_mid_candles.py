"""Candles of the consolidated mid: equal to an independent computation from the same sequence of
mids, and sampled from live consolidated books only when one of them changed."""

from __future__ import annotations

import random
from collections import defaultdict

import pytest

from crossbook.book.consolidated import ConsolidatedBook
from crossbook.book.l2 import L2Book
from crossbook.market.mid_candles import MidCandles, MidSampler
from crossbook.model import BookState


def _by_hand(samples: list[tuple[float, float]]) -> list[tuple[float, float, float, float, float, int]]:
    """(open time, open, high, low, close, samples) per minute, from a plain grouping."""
    minutes: dict[float, list[float]] = defaultdict(list)
    for ts, mid in samples:
        minutes[ts // 60 * 60].append(mid)
    return [(t, m[0], max(m), min(m), m[-1], len(m)) for t, m in sorted(minutes.items())]


def test_candles_equal_an_independent_computation() -> None:
    rng = random.Random(5)
    ts, mid = 1_800_000_030.0, 60_000.0
    samples = []
    for _ in range(3000):
        ts += rng.choice((0.05, 0.4, 2.0, 45.0))  # some minutes get no sample at all
        mid = round(mid + rng.gauss(0, 3), 2)
        samples.append((ts, mid))
    candles = MidCandles(keep=1000)
    for t, m in samples:
        candles.sample("BTC-USDT", t, m)
    got = candles.candles("BTC-USDT", now=ts)
    assert [(c.open_time, c.open, c.high, c.low, c.close, c.samples) for c in got] == _by_hand(samples)
    assert all(c.closed for c in got[:-1]) and not got[-1].closed
    assert candles.candles("BTC-USDT", now=got[-1].open_time + 60)[-1].closed
    assert [c.open_time for c in candles.candles("BTC-USDT", ts, limit=5)] == [c.open_time for c in got[-5:]]
    assert candles.candles("ETH-USDT", ts) == []
    with pytest.raises(ValueError, match="older"):
        candles.sample("BTC-USDT", ts - 600, mid)


def _book(venue: str, bid: float, ask: float, at: float) -> L2Book:
    book = L2Book(venue, "BTC-USDT")
    book.snapshot([(str(bid), "1")], [(str(ask), "1")])
    book.state = BookState.LIVE
    book.updated_at = at
    return book


def test_the_sampler_samples_the_consolidated_mid_when_a_book_changed() -> None:
    now = [1_800_000_000.0]
    consolidated = ConsolidatedBook("BTC-USDT")
    a, b = _book("binance", 100.0, 104.0, now[0]), _book("okx", 101.0, 105.0, now[0])
    consolidated.add("binance", a, 0.001)
    consolidated.add("okx", b, 0.001)
    candles = MidCandles()
    sampler = MidSampler({"BTC-USDT": consolidated}, candles, lambda: now[0])
    assert sampler.look() == 1  # best bid 101 (okx), best ask 104 (binance)
    assert sampler.look() == 0, "no book changed: no sample"
    now[0] += 1
    b.update([("103", "1")], [])
    b.updated_at = now[0]
    assert sampler.look() == 1
    (candle,) = candles.candles("BTC-USDT", now[0])
    assert (candle.open, candle.high, candle.low, candle.close, candle.samples) == (102.5, 103.5, 102.5, 103.5, 2)
