"""The tape: the public trades a simulated venue printed, kept per symbol, and what a venue's market
data endpoints derive from them (recent trades, candles, the rolling 24-hour ticker statistics).

Prices and sizes come out as the venue's ladder formats them, so each venue module only lays the
values out in its own wire format."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from .market import Ladder, SimTrade

DAY_MS = 86_400_000
KEPT = 5_000  # prints kept per symbol: enough for every limit a venue's trades endpoint allows


@dataclass(frozen=True, slots=True)
class Print:
    """One public trade as printed (``price`` and ``size`` as the ladder formats its ``ticks`` and
    ``lots``): ``buy`` if the taker bought."""

    ms: int
    price: str
    size: str
    buy: bool
    trade_id: int
    ticks: int
    lots: int

    @property
    def notional(self) -> Decimal:
        return Decimal(self.price) * Decimal(self.size)


@dataclass(frozen=True, slots=True)
class Candle:
    start_ms: int
    open: str
    high: str
    low: str
    close: str
    volume: str  # base
    quote_volume: str
    count: int


@dataclass(frozen=True, slots=True)
class DayStats:
    """The rolling 24 hours of one symbol; ``last_*`` from the newest print."""

    open_ms: int
    close_ms: int
    open: str
    high: str
    low: str
    last: str
    last_size: str
    volume: str
    quote_volume: str
    count: int
    first_id: int
    last_id: int

    @property
    def change(self) -> Decimal:
        return Decimal(self.last) - Decimal(self.open)

    @property
    def change_ratio(self) -> Decimal:
        """The change as a fraction of the open (0.01 is 1 %)."""
        return self.change / Decimal(self.open) if Decimal(self.open) else Decimal(0)

    @property
    def vwap(self) -> Decimal:
        volume = Decimal(self.volume)
        return Decimal(self.quote_volume) / volume if volume else Decimal(self.last)


def now_ms() -> int:
    return int(time.time() * 1000)


class Tape:
    """One venue's prints per symbol, newest last, the newest ``KEPT`` of each."""

    def __init__(self, ladders: Mapping[str, Ladder]) -> None:
        self.ladders = ladders
        self.prints: dict[str, deque[Print]] = {s: deque(maxlen=KEPT) for s in ladders}
        self.clock: Callable[[], int] = now_ms  # the venue's time in ms (a test may run it faster)

    def record(self, symbol: str, trades: Iterable[SimTrade], ms: int | None = None) -> None:
        """Print ``trades`` at ``ms`` (now by default)."""
        ladder = self.ladders[symbol]
        stamp = self.clock() if ms is None else ms
        for t in trades:
            self.prints[symbol].append(Print(stamp, ladder.price_str(t.ticks), ladder.size_str(t.lots), t.buy, t.trade_id, t.ticks, t.lots))

    def recent(self, symbol: str, limit: int, since_ms: int | None = None) -> list[Print]:
        """The newest ``limit`` prints (at or after ``since_ms``), oldest first."""
        prints = [p for p in self.prints[symbol] if since_ms is None or p.ms >= since_ms]
        return prints[-limit:] if limit > 0 else []

    def candles(self, symbol: str, seconds: int, limit: int, start_ms: int | None = None, end_ms: int | None = None) -> list[Candle]:
        """Candles of ``seconds`` each, oldest first: the newest ``limit`` that have trades and start
        within [start_ms, end_ms] (a candle without a trade is not printed)."""
        width = seconds * 1000
        buckets: dict[int, list[Print]] = {}
        for p in self.prints[symbol]:
            buckets.setdefault(p.ms - p.ms % width, []).append(p)
        starts = [s for s in sorted(buckets) if (start_ms is None or s >= start_ms) and (end_ms is None or s <= end_ms)]
        return [candle(s, buckets[s]) for s in starts[-limit:]] if limit > 0 else []

    def day(self, symbol: str) -> DayStats:
        """The last 24 hours of the kept prints (the newest ``KEPT``); with no print yet, a flat day
        at the touch's mid and no volume."""
        now = self.clock()
        prints = [p for p in self.prints[symbol] if p.ms > now - DAY_MS]
        if not prints:
            mid = self.mid(symbol)
            return DayStats(now - DAY_MS, now, mid, mid, mid, mid, "0", "0", "0", 0, -1, -1)
        prices = [Decimal(p.price) for p in prints]
        high = max(range(len(prints)), key=prices.__getitem__)
        low = min(range(len(prints)), key=prices.__getitem__)
        return DayStats(
            open_ms=now - DAY_MS, close_ms=now,
            open=prints[0].price, high=prints[high].price, low=prints[low].price,
            last=prints[-1].price, last_size=prints[-1].size,
            volume=plain(sum((Decimal(p.size) for p in prints), Decimal(0))),
            quote_volume=plain(sum((p.notional for p in prints), Decimal(0))),
            count=len(prints), first_id=prints[0].trade_id, last_id=prints[-1].trade_id,
        )

    def mid(self, symbol: str) -> str:
        ladder = self.ladders[symbol]
        bid, ask = ladder.top(True, 1), ladder.top(False, 1)
        ticks = [level[0][0] for level in (bid, ask) if level]
        return ladder.price_str(sum(ticks) // len(ticks)) if ticks else "0"


def plain(value: Decimal) -> str:
    """A decimal without trailing zeros or exponent: "12.5", "0"."""
    return format(value.normalize(), "f") if value else "0"


def candle(start_ms: int, prints: list[Print]) -> Candle:
    prices = [Decimal(p.price) for p in prints]
    return Candle(
        start_ms=start_ms,
        open=prints[0].price, high=prints[prices.index(max(prices))].price,
        low=prints[prices.index(min(prices))].price, close=prints[-1].price,
        volume=plain(sum((Decimal(p.size) for p in prints), Decimal(0))),
        quote_volume=plain(sum((p.notional for p in prints), Decimal(0))),
        count=len(prints),
    )
