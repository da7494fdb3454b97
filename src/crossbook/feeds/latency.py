"""Exchange event time -> local receive time, per venue, over a bounded window."""

from __future__ import annotations

from bisect import bisect_left
from collections import deque
from statistics import quantiles

# upper bounds (seconds) of the cumulative histogram every sample is counted in, for Prometheus
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class LatencyStats:
    """A window of recent samples (percentiles) and, since the start, a count per bucket of
    ``LATENCY_BUCKETS`` (the last one past every bound) and their sum: a histogram a scrape reads
    without the hot path calling into a metrics library."""

    __slots__ = ("buckets", "count", "samples", "total")

    def __init__(self, window: int = 2048) -> None:
        self.samples: deque[float] = deque(maxlen=window)
        self.count = 0
        self.total = 0.0  # the sum of every sample since the start
        self.buckets = [0] * (len(LATENCY_BUCKETS) + 1)  # non-cumulative: samples <= each bound and above the previous

    def add(self, event_ts: float, recv_ts: float) -> None:
        """Both in seconds since the epoch; the difference includes clock skew between hosts."""
        latency = recv_ts - event_ts
        self.samples.append(latency)
        self.count += 1
        self.total += latency
        self.buckets[bisect_left(LATENCY_BUCKETS, latency)] += 1

    def cumulative(self) -> list[tuple[float, int]]:
        """(upper bound, samples at or below it) per bucket, the last bound +Inf, as Prometheus counts them."""
        out: list[tuple[float, int]] = []
        running = 0
        for bound, n in zip((*LATENCY_BUCKETS, float("inf")), self.buckets, strict=True):
            running += n
            out.append((bound, running))
        return out

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
