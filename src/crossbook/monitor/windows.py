"""What PromQL's ``increase()`` and ``histogram_quantile()`` compute, over a registry read in-process.

``Scrape`` is one read of a ``CollectorRegistry`` (every sample by name); ``History`` keeps a bounded
ring of past values per series, so an increase over a window is the value now less the value the
window ago.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Collection, Iterable, Mapping

from prometheus_client import CollectorRegistry

Labels = tuple[tuple[str, str], ...]  # sorted (name, value) pairs: one series of a sample name
SeriesKey = tuple[str, Labels]
RING = 256  # samples kept per series: a window is seen at window / RING resolution


class Scrape:
    """Every sample of a registry at one moment, by sample name (``crossbook_orders_total``,
    ``crossbook_slippage_bps_bucket``...)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.samples: dict[str, dict[Labels, float]] = {}
        for family in registry.collect():
            for sample in family.samples:
                self.samples.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = float(sample.value)

    def series(self, name: str) -> Mapping[Labels, float]:
        return self.samples.get(name, {})


class History:
    """Past values of the series whose increases are asked for, each sample name over its own window."""

    def __init__(self, windows: Mapping[str, float]) -> None:
        self.windows = dict(windows)
        self._rings: dict[SeriesKey, deque[tuple[float, float]]] = {}
        self._last: float | None = None  # the previous observation's time

    def observe(self, now: float, scrape: Scrape) -> None:
        """Record the values of ``scrape``. A series first seen after the first observation was
        created since then: it was 0 at the previous one (a counter starts at 0)."""
        seen: set[SeriesKey] = set()
        for name, window in self.windows.items():
            spacing = window / RING
            for labels, value in scrape.series(name).items():
                key = (name, labels)
                seen.add(key)
                ring = self._rings.get(key)
                if ring is None:
                    ring = self._rings[key] = deque(maxlen=RING + 2)
                    if self._last is not None:
                        ring.append((self._last, 0.0))
                if not ring or now - ring[-1][0] >= spacing:
                    ring.append((now, value))
        for key in self._rings.keys() - seen:  # a series gone for a whole window is forgotten
            if now - self._rings[key][-1][0] > self.windows[key[0]]:
                del self._rings[key]
        self._last = now

    def increase(self, name: str, labels: Labels, value: float, now: float) -> float:
        """How much the series grew over its window up to ``now`` (its current ``value``): from
        its newest kept value at least a window old, else its oldest (a younger series). A value
        below that one is a counter reset: the increase is the value since the reset."""
        ring = self._rings.get((name, labels))
        if not ring:
            return 0.0
        start = now - self.windows[name]
        base = ring[0][1]
        for at, past in ring:
            if at > start:
                break
            base = past
        return value - base if value >= base else value


def group_increases(history: History, scrape: Scrape, name: str, by: tuple[str, ...], now: float,
                    where: Mapping[str, Collection[str]] | None = None) -> dict[tuple[str, ...], float]:
    """``sum by (by) (increase(name{where}[window]))``: label values of ``by`` -> summed increase."""
    sums: dict[tuple[str, ...], float] = {}
    for labels, value in scrape.series(name).items():
        named = dict(labels)
        if where and any(named.get(k) not in allowed for k, allowed in where.items()):
            continue
        group = tuple(named.get(k, "") for k in by)
        sums[group] = sums.get(group, 0.0) + history.increase(name, labels, value, now)
    return sums


def histogram_quantile(q: float, buckets: Iterable[tuple[float, float]]) -> float:
    """Prometheus's ``histogram_quantile``: ``buckets`` are (upper bound, cumulative count) pairs,
    +Inf among them; linear interpolation inside the bucket the rank falls in; NaN without
    observations."""
    ordered = sorted(buckets)
    if len(ordered) < 2 or not math.isinf(ordered[-1][0]):
        return math.nan
    counts: list[float] = []
    for _, count in ordered:  # increases over a window can be a hair off cumulative: keep them monotonic
        counts.append(max(count, counts[-1]) if counts else count)
    total = counts[-1]
    if total <= 0:
        return math.nan
    rank = q * total
    b = next(i for i, count in enumerate(counts) if count >= rank)
    if b == len(ordered) - 1:
        return ordered[-2][0]
    upper = ordered[b][0]
    if b == 0:
        return upper if upper <= 0 else upper * rank / counts[0]
    lower, below = ordered[b - 1][0], counts[b - 1]
    return lower + (upper - lower) * (rank - below) / (counts[b] - below)
