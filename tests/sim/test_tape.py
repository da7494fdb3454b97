"""The tape the simulators' market data endpoints read: prints, candles and the rolling day."""

from __future__ import annotations

import random

from crossbook.sim.market import Ladder, MarketSpec, SimTrade
from crossbook.sim.tape import Tape, now_ms


def tape() -> Tape:
    ladder = Ladder(MarketSpec("BTC-USDT", 0.01, 0.001), random.Random(1), offset_bps=0, spread_bps=1, levels=5)
    ladder.seed(60_000.0)
    return Tape({"BTC-USDT": ladder})


def test_candles_bucket_prints_by_their_start_and_keep_open_high_low_close_volume() -> None:
    t = tape()
    minute = now_ms() // 60_000 * 60_000 - 120_000
    t.record("BTC-USDT", [SimTrade(6_000_000, 1_000, True, 1)], minute + 1_000)  # 60000.00 x 1
    t.record("BTC-USDT", [SimTrade(6_000_500, 500, False, 2), SimTrade(5_999_000, 250, True, 3)], minute + 2_000)
    t.record("BTC-USDT", [SimTrade(5_999_900, 2_000, False, 4)], minute + 30_000)
    t.record("BTC-USDT", [SimTrade(6_001_000, 1_000, True, 5)], minute + 61_000)
    first, second = t.candles("BTC-USDT", 60, 10)
    assert (first.start_ms, first.open, first.high, first.low, first.close) == (minute, "60000.00", "60005.00", "59990.00", "59999.00")
    assert (first.volume, first.count) == ("3.75", 4)
    assert first.quote_volume == "224998"  # 60000 + 30002.5 + 14997.5 + 119998
    assert (second.start_ms, second.open, second.close, second.volume) == (minute + 60_000, "60010.00", "60010.00", "1")
    assert t.candles("BTC-USDT", 60, 1) == [second]
    assert t.candles("BTC-USDT", 60, 10, end_ms=minute + 59_999) == [first]
    assert [c.count for c in t.candles("BTC-USDT", 3600, 10)] in ([5], [4, 1])  # an hour may split the two minutes


def test_the_day_reads_the_prints_in_order_and_a_quiet_tape_is_flat_at_the_mid() -> None:
    t = tape()
    quiet = t.day("BTC-USDT")
    assert quiet.open == quiet.last == quiet.high == quiet.low == t.mid("BTC-USDT") and quiet.volume == "0"
    t.record("BTC-USDT", [SimTrade(6_000_000, 1_000, True, 7), SimTrade(6_003_000, 500, False, 8)])
    t.record("BTC-USDT", [SimTrade(5_998_000, 2_000, True, 9)])
    day = t.day("BTC-USDT")
    assert (day.open, day.high, day.low, day.last, day.last_size) == ("60000.00", "60030.00", "59980.00", "59980.00", "2.000")
    assert (day.volume, day.count, day.first_id, day.last_id) == ("3.5", 3, 7, 9)
    assert day.change_ratio < 0 and [p.trade_id for p in t.recent("BTC-USDT", 2)] == [8, 9]
