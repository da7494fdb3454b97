"""The simulator's index, mark and funding (sim/perp_prices.py): each venue's formula on the premium
of its book over the spot fair price, settled at the venue's boundaries by its own clock, with a
deterministic history before it ran."""

from __future__ import annotations

from decimal import Decimal

from crossbook.sim.market import SimMarket
from crossbook.sim.perp_prices import BINANCE, DYDX, HOUR_MS, MARK_BAND, OKX
from crossbook.sim.venues import sim_class
from crossbook.sim.venues.binance.futures import BinanceUsdmSim

PERP = "BTC-USDT-PERP"
EIGHT_HOURS_MS = 8 * HOUR_MS


def test_each_formula_on_a_premium() -> None:
    assert BINANCE.rate(Decimal("0.0002")) == Decimal("0.0001"), "inside the band: the interest rate"
    assert BINANCE.rate(Decimal("0.001")) == Decimal("0.0005"), "premium + clamp(0.01 % - premium, -0.05 %)"
    assert BINANCE.rate(Decimal("-0.001")) == Decimal("-0.0005")
    assert BINANCE.rate(Decimal("0.5")) == BINANCE.cap
    assert OKX.rate(Decimal("0.00021234")) == Decimal("0.00021234"), "OKX: the premium itself, no interest"
    assert DYDX.rate(Decimal("0.0008")) == Decimal("0.0001"), "dYdX: premium / 8 an hour"
    assert DYDX.interval_ms == HOUR_MS and BINANCE.interval_ms == EIGHT_HOURS_MS


def venue(clock: list[int], seed: int = 7) -> BinanceUsdmSim:
    sim = BinanceUsdmSim(SimMarket(seed, levels=40))
    sim.tape.clock = lambda: clock[0]
    return sim


def test_index_mark_and_rate_come_from_the_shared_market_and_the_book() -> None:
    sim = venue([1_800_000_000_000])
    index, mark = sim.index(PERP), sim.mark(PERP)
    assert index == Decimal(repr(sim.market.fair.fair("BTC-USDT"))).quantize(Decimal("0.1"))
    ladder = sim.ladders[PERP]
    assert Decimal(ladder.price_str(max(ladder.bids))) <= mark <= Decimal(ladder.price_str(min(ladder.asks)))
    assert sim.funding_rate(PERP) == BINANCE.rate(mark / index - 1)
    sim.market.dislocate("binanceusdm", 500.0, PERP)  # 5 % above: the mark stays within its band
    for _ in range(3):
        sim.market.advance()
    assert sim.mark(PERP) <= (sim.index(PERP) * (1 + MARK_BAND)).quantize(Decimal("0.1"))
    rate = sim.funding_rate(PERP)
    assert rate == BINANCE.rate(sim.mark(PERP) / sim.index(PERP) - 1)
    assert abs(rate - Decimal("0.0095")) < Decimal("0.000002"), "a 1 % premium less the 0.05 % clamp"


def test_settlements_follow_the_venues_clock_and_the_past_is_deterministic() -> None:
    start = 1_800_000_000_000 - 1_800_000_000_000 % EIGHT_HOURS_MS + 1000
    clock = [start]
    sim, twin = venue(clock), venue(clock, seed=8)
    past = sim.funding_history(PERP, limit=5)
    assert [s.ms for s in past] == [start - 1000 - k * EIGHT_HOURS_MS for k in range(4, -1, -1)]
    assert all(s.index is None for s in past), "before the simulator ran"
    assert twin.funding_history(PERP, limit=5) == past, "a function of venue, symbol and time alone"
    assert len({s.rate for s in sim.funding_history(PERP, limit=50)}) > 1
    assert sim.next_funding_ms(PERP) == start - 1000 + EIGHT_HOURS_MS
    rate = sim.funding_rate(PERP)
    clock[0] += 2 * EIGHT_HOURS_MS  # two boundaries pass while nobody looks
    settled = sim.funding_history(PERP, start, None, 10)
    assert [s.ms for s in settled] == [start - 1000 + EIGHT_HOURS_MS, start - 1000 + 2 * EIGHT_HOURS_MS]
    assert all(s.rate == rate and s.index == sim.index(PERP) for s in settled), "the rate in force, settled"


def test_every_simulated_perpetual_venue_prices_its_funding() -> None:
    for feed in ("binanceusdm", "binancecoinm", "okx", "bybitlinear", "bybitinverse", "gateswap", "bitgetfutures", "dydx"):
        sim = sim_class(feed)(SimMarket(7, levels=40))
        perp = next(s for s in sim.markets if s.endswith("-PERP"))
        assert abs(sim.funding_rate(perp)) <= sim.funding_rule.cap, feed  # type: ignore[attr-defined]
        assert sim.next_funding_ms(perp) % sim.funding_rule.interval_ms == 0, feed  # type: ignore[attr-defined]
