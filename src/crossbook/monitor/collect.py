"""Market-data metrics read at scrape time: feeds, books and rate limiters keep plain counters on
their hot paths, and this collector turns what they hold into Prometheus families when scraped.

``monitor`` may not import the market layer, so the collector is handed a ``MarketSource``: a
callable returning the feeds (each with its venue id) and the per-venue limiters as they are now.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from ..book.l2 import L2Book
from ..feeds.latency import LATENCY_BUCKETS
from ..feeds.manager import VenueFeed
from ..model import BookState
from ..venues.spec.limiter import Limiter

BOOK_STATES = tuple(state.value for state in BookState)


@dataclass(frozen=True, slots=True)
class WatchedFeed:
    venue: str  # the venue id (binance), where ``feed.venue`` is the feed id (binanceusdm)
    feed: VenueFeed


@dataclass(frozen=True, slots=True)
class MarketView:
    feeds: Sequence[WatchedFeed] = ()
    limiters: Mapping[str, Limiter] = field(default_factory=dict)  # venue -> its REST limiter


MarketSource = Callable[[], MarketView]


@dataclass(slots=True)
class _FeedTally:
    """One (venue, feed id) over every VenueFeed and socket carrying it."""

    sockets: int = 0
    connected: int = 0
    messages: int = 0


@dataclass(slots=True)
class _LatencyTally:
    buckets: list[int] = field(default_factory=lambda: [0] * (len(LATENCY_BUCKETS) + 1))
    total: float = 0.0


class MarketCollector(Collector):
    def __init__(self, source: MarketSource, clock: Callable[[], float] = time.time) -> None:
        self.source = source
        self.clock = clock

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily | HistogramMetricFamily]:
        view = self.source()
        yield from self._feed_families(view.feeds)
        yield from self._book_families(view.feeds, self.clock())
        yield self._ratelimit_family(view.limiters)

    def describe(self) -> list[CounterMetricFamily | GaugeMetricFamily | HistogramMetricFamily]:
        """The families without samples: registering the collector does not read the market."""
        return [*self._feed_families(()), *self._book_families((), 0.0), self._ratelimit_family({})]

    @staticmethod
    def _feed_families(feeds: Sequence[WatchedFeed]) -> list[CounterMetricFamily | GaugeMetricFamily | HistogramMetricFamily]:
        connected = GaugeMetricFamily("crossbook_feed_connected", "1 while every WebSocket of the feed is connected, else 0",
                                      labels=["venue", "feed"])
        messages = CounterMetricFamily("crossbook_feed_messages", "Frames received by the feed's handlers",
                                       labels=["venue", "feed"])
        latency = HistogramMetricFamily("crossbook_feed_latency_seconds",
                                        "Exchange event time to local receive time (includes clock skew)", labels=["venue"])
        tallies: dict[tuple[str, str], _FeedTally] = {}
        latencies: dict[str, _LatencyTally] = {}
        for watched in feeds:
            tally = tallies.setdefault((watched.venue, watched.feed.venue), _FeedTally())
            lat = latencies.setdefault(watched.venue, _LatencyTally())
            for conn in watched.feed.connections:
                tally.sockets += 1
                tally.connected += conn.connected
                tally.messages += conn.handler.messages
                stats = conn.handler.latency
                lat.buckets = [a + b for a, b in zip(lat.buckets, stats.buckets, strict=True)]
                lat.total += stats.total
        for (venue, feed_id), tally in tallies.items():
            connected.add_metric([venue, feed_id], 1.0 if tally.sockets and tally.connected == tally.sockets else 0.0)
            messages.add_metric([venue, feed_id], tally.messages)
        for venue, lat in latencies.items():
            running, buckets = 0, []
            for bound, n in zip((*LATENCY_BUCKETS, float("inf")), lat.buckets, strict=True):
                running += n
                buckets.append(("+Inf" if bound == float("inf") else repr(bound), running))
            latency.add_metric([venue], buckets, lat.total)
        return [connected, messages, latency]

    @staticmethod
    def _book_families(feeds: Sequence[WatchedFeed], now: float) -> list[CounterMetricFamily | GaugeMetricFamily]:
        labels = ["venue", "symbol"]
        state = GaugeMetricFamily("crossbook_book_state", "1 for the book's current state, 0 for the others",
                                  labels=[*labels, "state"])
        age = GaugeMetricFamily("crossbook_book_age_seconds", "Seconds since the book last changed", labels=labels)
        gaps = CounterMetricFamily("crossbook_book_gaps", "Sequence gaps seen (each resyncs the book)", labels=labels)
        checksums = CounterMetricFamily("crossbook_book_checksum_failures", "Checksums that did not match the book",
                                        labels=labels)
        resyncs = CounterMetricFamily("crossbook_book_resyncs", "Times the book was cleared and synced again", labels=labels)
        books: dict[tuple[str, str], L2Book] = {}
        for watched in feeds:
            for symbol, book in watched.feed.books.items():
                books[(watched.venue, symbol)] = book
        for key, book in books.items():
            current = book.status(now).value
            for name in BOOK_STATES:
                state.add_metric([*key, name], 1.0 if name == current else 0.0)
            if book.updated_at > 0:  # never changed yet: its state (syncing) says so, no age to give
                age.add_metric(list(key), max(0.0, now - book.updated_at))
            gaps.add_metric(list(key), book.stats.gaps)
            checksums.add_metric(list(key), book.stats.checksums_failed)
            resyncs.add_metric(list(key), book.stats.resyncs)
        return [state, age, gaps, checksums, resyncs]

    @staticmethod
    def _ratelimit_family(limiters: Mapping[str, Limiter]) -> GaugeMetricFamily:
        usage = GaugeMetricFamily("crossbook_ratelimit_usage_ratio",
                                  "Share of the venue's REST budget in use now, per pool (0..1)", labels=["venue", "pool"])
        for venue, limiter in limiters.items():
            try:
                used = limiter.usage()
            except RuntimeError:  # its clock is the event loop's, and none runs (a scrape from another thread)
                continue
            for pool, ratio in used.items():
                usage.add_metric([venue, pool], ratio)
        return usage
