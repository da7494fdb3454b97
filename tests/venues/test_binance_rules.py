"""Binance's documented sync rules, on hand-built events."""

from __future__ import annotations

import orjson

from crossbook.model import BookState
from crossbook.venues.binance import BinanceSpot, BinanceUsdm


def depth(U: int, u: int, bids: list[list[str]], asks: list[list[str]] | None = None, pu: int | None = None) -> bytes:
    ev: dict[str, object] = {"e": "depthUpdate", "E": 1, "s": "BTCUSDT", "U": U, "u": u, "b": bids, "a": asks or []}
    if pu is not None:
        ev["pu"] = pu
    return orjson.dumps({"stream": "btcusdt@depth@100ms", "data": ev})


def snapshot(last: int) -> bytes:
    return orjson.dumps({"lastUpdateId": last, "bids": [["100", "1"]], "asks": [["101", "1"]]})


def spot() -> tuple[BinanceSpot, list[str]]:
    resyncs: list[str] = []
    h = BinanceSpot(on_resync=lambda _h, native, reason: resyncs.append(reason))
    h.add_book("BTCUSDT")
    return h, resyncs


def test_buffers_until_snapshot_then_drops_old_and_bridges() -> None:
    h, resyncs = spot()
    h.on_frame(depth(95, 99, [["99", "9"]]), 1.0)  # older than the snapshot: dropped
    h.on_frame(depth(100, 104, [["100", "2"]]), 1.0)  # bridges lastUpdateId 102
    book = h.books["BTCUSDT"]
    assert book.state is BookState.SYNCING and book.best_bid() is None
    h.on_snapshot("BTCUSDT", snapshot(102), 1.0)
    assert book.state is BookState.LIVE
    assert book.best_bid() == (100.0, 2.0) and book.seq == 104
    assert 99.0 not in book.bids
    h.on_frame(depth(105, 106, [["100", "0"]]), 2.0)
    assert book.best_bid() is None and book.seq == 106
    assert resyncs == []


def test_gap_after_sync_resyncs_that_book() -> None:
    h, resyncs = spot()
    h.add_book("ETHUSDT")
    h.on_snapshot("BTCUSDT", snapshot(10), 1.0)
    h.on_frame(depth(11, 12, [["100", "3"]]), 1.0)
    assert h.books["BTCUSDT"].state is BookState.LIVE
    h.on_frame(depth(14, 15, [["100", "4"]]), 1.0)
    book = h.books["BTCUSDT"]
    assert resyncs == ["gap"] and book.stats.gaps == 1
    assert book.state is BookState.RESYNCING and book.best_bid() is None
    assert h.books["ETHUSDT"].stats.resyncs == 0


def test_snapshot_older_than_buffer_asks_again() -> None:
    h, resyncs = spot()
    h.on_frame(depth(50, 60, [["100", "3"]]), 1.0)
    h.on_snapshot("BTCUSDT", snapshot(40), 1.0)
    assert resyncs == ["stale snapshot"]
    assert h.books["BTCUSDT"].state is not BookState.LIVE


def test_futures_use_pu_continuity() -> None:
    resyncs: list[str] = []
    h = BinanceUsdm(on_resync=lambda _h, native, reason: resyncs.append(reason))
    h.add_book("BTCUSDT")
    h.on_frame(depth(90, 105, [["100", "2"]], pu=89), 1.0)
    h.on_snapshot("BTCUSDT", snapshot(100), 1.0)
    assert h.books["BTCUSDT"].state is BookState.LIVE
    h.on_frame(depth(107, 110, [["100", "5"]], pu=105), 1.0)  # ids may jump; pu links them
    assert h.books["BTCUSDT"].best_bid() == (100.0, 5.0) and resyncs == []
    h.on_frame(depth(115, 120, [["100", "6"]], pu=112), 1.0)
    assert resyncs == ["gap"]


def test_trades_are_normalized() -> None:
    trades = []
    h = BinanceSpot(on_trade=trades.append)
    h.add_book("BTCUSDT", "BTC-USDT")
    trade = {"e": "aggTrade", "E": 5, "s": "BTCUSDT", "a": 7, "p": "60000.5", "q": "0.25", "T": 4000, "m": True}
    msg = {"stream": "btcusdt@aggTrade", "data": trade}
    h.on_frame(orjson.dumps(msg), 5.0)
    (t,) = trades
    assert (t.symbol, t.price, t.amount, t.side.value, t.ts, t.trade_id) == ("BTC-USDT", 60000.5, 0.25, "sell", 4.0, "7")


def test_fast_depth_decoder_gives_the_floats_float_gives() -> None:
    import random

    from crossbook.venues.binance import decode_depth

    rng = random.Random(5)
    bids = [[f"{rng.uniform(1, 99999):.8f}", f"{rng.uniform(0, 50):.{rng.randint(0, 8)}f}"] for _ in range(300)]
    asks = [[f"{rng.uniform(1, 99999):.2f}", "0.00000000"]]
    raw = depth(1, 2, bids, asks)
    ev = decode_depth(raw)
    assert ev is not None and (ev["U"], ev["u"], ev["s"]) == (1, 2, "BTCUSDT")
    assert ev["b"] == [[float(p), float(q)] for p, q in bids]
    assert ev["a"] == [[float(asks[0][0]), 0.0]]
    futures = orjson.dumps({"e": "depthUpdate", "E": 1, "T": 1, "s": "BTCUSDT", "U": 5, "u": 9, "pu": 4, "b": [], "a": [["1.5", "2"]]})
    ev = decode_depth(futures)
    assert ev is not None and ev["pu"] == 4 and ev["b"] == [] and ev["a"] == [[1.5, 2.0]]
    assert decode_depth(b'{"result":null,"id":1}') is None
    assert decode_depth(b'{"e":"depthUpdate","b":[["1","2"]],"a":[["x]]') is None
