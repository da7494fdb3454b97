"""Exchange event time -> local receive time, per venue, over a bounded window."""

from __future__ import annotations

from collections import deque
from statistics import quantiles


class LatencyStats:
    __slots__ = ("count", "samples")

    def __init__(self, window: int = 2048) -> None:
        self.samples: deque[float] = deque(maxlen=window)
        self.count = 0

    def add(self, event_ts: float, recv_ts: float) -> None:
        """Both in seconds since the epoch; the difference includes clock skew between hosts."""
        self.samples.append(recv_ts - event_ts)
        self.count += 1

    def percentile(self, pct: int, recent: int | None = None) -> float:
        """The ``pct`` percentile of the last ``recent`` samples (all kept samples by default)."""
        data = list(self.samples)[-recent:] if recent else list(self.samples)
        if not data:
            raise ValueError("no latency samples yet")
        data.sort()
        return data[min(len(data) - 1, int(len(data) * pct / 100))]

    def percentiles(self) -> dict[str, float] | None:
        if len(self.samples) < 2:
            return None if not self.samples else {"p50": self.samples[0], "p99": self.samples[0]}
        cuts = quantiles(self.samples, n=100, method="inclusive")
        return {"p50": cuts[49], "p99": cuts[98]}
