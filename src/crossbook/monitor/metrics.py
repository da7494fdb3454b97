"""Metrics: every crossbook metric family in one prometheus_client registry (never the global one).

Market data is pulled at scrape time (``watch_feeds``, see ``collect.py``): the hot path only bumps
plain ints. Trading events are pushed by the desk as they happen (``order``, ``fill``, ``route``,
``opportunity``, ``arbitrage_profit``, ``reconciled``), and ``totals`` sums them for the service's
``GET /stats``. Labels are bounded: venue and feed ids, configured symbols, fixed outcome names.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest

from .collect import MarketCollector, MarketSource

ORDER_OUTCOMES = ("filled", "partially_filled", "canceled", "expired", "rejected", "error")
ROUTE_OUTCOMES = ("filled", "partial", "failed", "dry_run")
SLIPPAGE_AGAINST = ("arrival", "plan")
RECONCILE_FINDINGS = ("adopted", "never_placed", "updated", "fills")
# bps. No negative bound: prometheus_client exports no _sum for a histogram with one, and the means
# (sum / count) are what dashboards and alerts read; a negative value counts in the 0 bucket.
BPS_BUCKETS = (0.0, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 250.0)


class ReconcileFindings(Protocol):
    """What a reconciliation found on one account (trading's ReconcileReport)."""

    @property
    def adopted(self) -> Sequence[str]: ...
    @property
    def never_placed(self) -> Sequence[str]: ...
    @property
    def updated(self) -> Sequence[str]: ...
    @property
    def new_fills(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Slippage:
    venue: str
    against: str  # arrival | plan
    bps: float  # positive: worse than the reference


@dataclass(frozen=True, slots=True)
class RouteRecord:
    """One route's report as metrics see it (the desk builds it from an ExecutionReport)."""

    quote: str  # the symbol's quote currency
    outcome: str  # filled | partial | failed | dry_run
    savings_bps: float | None = None  # realised, against the best single venue; None when none could fill it
    savings_quote: float | None = None  # the same in the quote currency (negative: routing cost more)
    slippage: Sequence[Slippage] = ()  # per child that filled


@dataclass(frozen=True, slots=True)
class VenueTotals:
    venue: str
    orders: dict[str, int]  # outcome -> orders
    fees: dict[str, float]  # currency -> paid (net of rebates)
    volume: dict[str, float]  # quote currency -> traded notional
    slippage_bps: dict[str, float | None]  # arrival | plan -> mean over filled child orders

    @property
    def success_rate(self) -> float | None:
        total = sum(self.orders.values())
        return (self.orders.get("filled", 0) + self.orders.get("partially_filled", 0)) / total if total else None

    def to_json(self) -> dict[str, Any]:
        return {"venue": self.venue, "orders": self.orders, "success_rate": self.success_rate, "fees": self.fees,
                "volume": self.volume, "slippage_bps": self.slippage_bps}


@dataclass(frozen=True, slots=True)
class MetricTotals:
    venues: tuple[VenueTotals, ...]
    routes: dict[str, int]  # outcome -> routes
    savings_quote: dict[str, float]  # quote currency -> net saved against the best single venue
    savings_bps_mean: float | None
    opportunities: dict[str, int]  # kind -> opened
    arbitrage_profit: dict[str, float]  # currency -> realised, net

    def venue(self, venue: str) -> VenueTotals | None:
        return next((v for v in self.venues if v.venue == venue), None)

    def to_json(self) -> dict[str, Any]:
        return {"venues": {v.venue: v.to_json() for v in self.venues}, "routes": self.routes,
                "savings_quote": self.savings_quote, "savings_bps_mean": self.savings_bps_mean,
                "opportunities": self.opportunities, "arbitrage_profit": self.arbitrage_profit}


@dataclass
class _Tallies:
    """Plain sums behind ``totals`` (a registry is for scraping, not for reading back)."""

    orders: defaultdict[str, defaultdict[str, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    fees: defaultdict[str, defaultdict[str, float]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(float)))
    volume: defaultdict[str, defaultdict[str, float]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(float)))
    slippage: defaultdict[tuple[str, str], list[float]] = field(default_factory=lambda: defaultdict(lambda: [0.0, 0.0]))
    routes: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))
    savings_quote: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    savings_bps: list[float] = field(default_factory=lambda: [0.0, 0.0])  # sum, count
    opportunities: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))
    profit: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))


def _mean(sum_count: Sequence[float]) -> float | None:
    return sum_count[0] / sum_count[1] if sum_count[1] else None


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self._orders = Counter("crossbook_orders", "Orders that ended, by outcome", ["venue", "outcome"], registry=r)
        self._slippage = Histogram("crossbook_slippage_bps", "Child order fill price against the arrival mid or its plan, bps "
                                   "(positive: worse)", ["venue", "against"], buckets=BPS_BUCKETS, registry=r)
        self._fees = Counter("crossbook_fees_paid", "Fees paid (rebates not subtracted)", ["venue", "currency"], registry=r)
        self._volume = Counter("crossbook_volume_quote", "Traded notional in the quote currency", ["venue", "quote"], registry=r)
        self._savings_quote = Counter("crossbook_router_savings_quote", "What routing saved against the best single venue, "
                                      "in the quote currency (routes that cost more add nothing here; see the bps histogram)",
                                      ["quote"], registry=r)
        self._savings_bps = Histogram("crossbook_router_savings_bps", "A route's all-in price against the best single "
                                      "venue's, bps (positive: saved)", buckets=BPS_BUCKETS, registry=r)
        self._routes = Counter("crossbook_routes", "Routes by outcome", ["outcome"], registry=r)
        self._opportunities = Counter("crossbook_arbitrage_opportunities", "Arbitrage opportunities opened", ["kind"], registry=r)
        self._profit = Counter("crossbook_arbitrage_profit", "Realised arbitrage profit", ["currency"], registry=r)
        self._loss = Counter("crossbook_arbitrage_loss", "Realised arbitrage losses", ["currency"], registry=r)
        self._findings = Counter("crossbook_reconcile_findings", "What reconciliation found", ["venue", "finding"], registry=r)
        self._key_findings = Gauge("crossbook_key_findings", "Keys with each finding of the last key permission audit",
                                   ["venue", "finding", "severity"], registry=r)
        self.alerts_firing = alerts_firing_gauge(r)
        self.api_requests = api_requests_counter(r)
        ProcessCollector(registry=r)
        self._tallies = _Tallies()
        self._lock = threading.Lock()
        self._market: MarketCollector | None = None

    # ---- pull ------------------------------------------------------------------------------------

    def watch_feeds(self, source: MarketSource) -> None:
        """Read feeds, books and limiters from ``source`` at every scrape (once; a second call replaces it)."""
        if self._market is not None:
            self.registry.unregister(self._market)
        self._market = MarketCollector(source)
        self.registry.register(self._market)

    def exposition(self) -> tuple[bytes, str]:
        """The Prometheus text exposition of every family and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_PLAIN_0_0_4  # the text format every Prometheus 2 reads

    # ---- push ------------------------------------------------------------------------------------

    def order(self, venue: str, outcome: str) -> None:
        if outcome not in ORDER_OUTCOMES:
            raise ValueError(f"order outcome must be one of {', '.join(ORDER_OUTCOMES)}, not {outcome!r}")
        self._orders.labels(venue, outcome).inc()
        with self._lock:
            self._tallies.orders[venue][outcome] += 1

    def fill(self, venue: str, quote: str, notional: float, fee: float, fee_currency: str) -> None:
        """A new fill: ``notional`` in ``quote`` traded, ``fee`` paid in ``fee_currency`` (negative: a rebate)."""
        self._volume.labels(venue, quote).inc(abs(notional))
        if fee > 0 and fee_currency:
            self._fees.labels(venue, fee_currency).inc(fee)
        with self._lock:
            self._tallies.volume[venue][quote] += abs(notional)
            if fee_currency:
                self._tallies.fees[venue][fee_currency] += fee

    def route(self, record: RouteRecord) -> None:
        if record.outcome not in ROUTE_OUTCOMES:
            raise ValueError(f"route outcome must be one of {', '.join(ROUTE_OUTCOMES)}, not {record.outcome!r}")
        self._routes.labels(record.outcome).inc()
        for s in record.slippage:
            if s.against not in SLIPPAGE_AGAINST:
                raise ValueError(f"slippage is against one of {', '.join(SLIPPAGE_AGAINST)}, not {s.against!r}")
            self._slippage.labels(s.venue, s.against).observe(s.bps)
        if record.savings_bps is not None:
            self._savings_bps.observe(record.savings_bps)
        if record.savings_quote is not None and record.savings_quote > 0:
            self._savings_quote.labels(record.quote).inc(record.savings_quote)
        with self._lock:
            t = self._tallies
            t.routes[record.outcome] += 1
            for s in record.slippage:
                tally = t.slippage[(s.venue, s.against)]
                tally[0] += s.bps
                tally[1] += 1
            if record.savings_bps is not None:
                t.savings_bps[0] += record.savings_bps
                t.savings_bps[1] += 1
            if record.savings_quote is not None:
                t.savings_quote[record.quote] += record.savings_quote

    def opportunity(self, kind: str) -> None:
        self._opportunities.labels(kind).inc()
        with self._lock:
            self._tallies.opportunities[kind] += 1

    def arbitrage_profit(self, currency: str, amount: float) -> None:
        """Realised profit of one executed opportunity (negative: a loss, counted apart)."""
        if amount >= 0:
            self._profit.labels(currency).inc(amount)
        else:
            self._loss.labels(currency).inc(-amount)
        with self._lock:
            self._tallies.profit[currency] += amount

    def reconciled(self, venue: str, report: ReconcileFindings) -> None:
        found = {"adopted": len(report.adopted), "never_placed": len(report.never_placed),
                 "updated": len(report.updated), "fills": report.new_fills}
        for finding, n in found.items():
            self._findings.labels(venue, finding).inc(n)  # 0 too: the series exists once a venue reconciled

    def key_audit(self, counts: Mapping[tuple[str, str, str], int]) -> None:
        """The last key audit's findings: (venue, finding, severity) -> how many keys; the
        series of an earlier audit that are gone now drop out."""
        self._key_findings.clear()
        for (venue, finding, severity), n in counts.items():
            self._key_findings.labels(venue, finding, severity).set(n)

    # ---- totals ----------------------------------------------------------------------------------

    def totals(self) -> MetricTotals:
        with self._lock:
            t = self._tallies
            venues = sorted({*t.orders, *t.fees, *t.volume, *(v for v, _ in t.slippage)})
            per_venue = tuple(
                VenueTotals(v, dict(t.orders.get(v, {})), dict(t.fees.get(v, {})), dict(t.volume.get(v, {})),
                            {a: _mean(t.slippage[(v, a)]) if (v, a) in t.slippage else None for a in SLIPPAGE_AGAINST})
                for v in venues
            )
            return MetricTotals(per_venue, dict(t.routes), dict(t.savings_quote), _mean(t.savings_bps),
                                dict(t.opportunities), dict(t.profit))


def alerts_firing_gauge(registry: CollectorRegistry) -> Gauge:
    """``crossbook_alerts_firing{alert}`` in ``registry``: the one already there, else a new one (the
    alert engine sets it)."""
    found = _registered(registry, "crossbook_alerts_firing")
    if found is not None:
        assert isinstance(found, Gauge)
        return found
    return Gauge("crossbook_alerts_firing", "1 while the alert fires, else 0", ["alert"], registry=registry)


def api_requests_counter(registry: CollectorRegistry) -> Counter:
    """``crossbook_api_requests_total{route,status}`` in ``registry``: the one already there, else a new
    one (the service's middleware counts; ``route`` is the route's pattern, never the raw path)."""
    found = _registered(registry, "crossbook_api_requests")
    if found is not None:
        assert isinstance(found, Counter)
        return found
    return Counter("crossbook_api_requests", "API requests by route pattern and status", ["route", "status"], registry=registry)


def _registered(registry: CollectorRegistry, name: str) -> object | None:
    # prometheus_client has no public lookup by name; its registry keeps this map
    return registry._names_to_collectors.get(name)
