"""One candle stream's continuity: which candles it saw open and close, and the gap a later candle
reveals (a frame lost, a reconnect), to be filled from the venue's REST candles.

A stream publishes every candle while it forms and once more, final, when it closes. A candle that
opens while the one before it never closed on the stream, or more than one interval after it,
leaves a gap: the candles from the first one not seen closed to the one before the new candle.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..model import Interval

KEPT_CLOSED = 1000  # closed open times remembered per stream, against a late duplicate


@dataclass(frozen=True, slots=True)
class Gap:
    """The candles of ``native`` whose open times run from ``start`` to ``end`` (epoch seconds,
    both included) that the stream lost."""

    native: str
    interval: Interval
    start: float
    end: float


class CandleSeries:
    def __init__(self, native: str, interval: Interval) -> None:
        self.native = native
        self.interval = interval
        self.latest: float | None = None  # open time of the newest candle seen on the stream
        self.closed: set[float] = set()  # open times of the closed candles emitted

    def seen(self, open_time: float) -> Gap | None:
        """A frame of the candle opening at ``open_time``: the gap it reveals, if any."""
        latest = self.latest
        if latest is None or open_time <= latest:
            self.latest = open_time if latest is None else latest
            return None
        self.latest = open_time
        step = self.interval.seconds
        start = latest if latest not in self.closed else latest + step
        end = open_time - step
        return Gap(self.native, self.interval, start, end) if start <= end else None

    def close(self, open_time: float) -> bool:
        """Whether the closed candle at ``open_time`` is new (to be emitted), remembering it."""
        if open_time in self.closed:
            return False
        self.closed.add(open_time)
        if len(self.closed) > 2 * KEPT_CLOSED:
            keep = sorted(self.closed)[-KEPT_CLOSED:]
            self.closed = set(keep)
        return True
