"""The alerts of deploy/prometheus/alerts.yml, evaluated inside the process for users without Prometheus.

``AlertEngine`` reads the ``Metrics`` registry (``registry.collect()``) every ``every`` seconds and
evaluates the same eight conditions with the same defaults (``AlertThresholds``; a test checks they
agree with the rule file). A condition that holds opens one ``Alert`` per (name, labels): pending
until it has held for the alert's ``for`` duration, then firing, resolved once the condition clears.
Every transition is an ``AlertEvent`` handed to the sinks (log, webhook) and the subscribers, and
``crossbook_alerts_firing{alert}`` is 1 while an alert of that name fires.

Rates over windows (PromQL's ``increase()``) come from a bounded ring of past samples per series
(monitor/windows.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import deque
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, fields
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

from prometheus_client import CollectorRegistry

from ..errors import ConfigError
from .metrics import alerts_firing_gauge
from .windows import History, Scrape, group_increases, histogram_quantile

log = logging.getLogger(__name__)

ALERT_NAMES = ("ConnectionLost", "HighLatency", "RateLimitWarning", "OrderFailures", "UnusualSlippage",
               "StaleBook", "ResyncStorm", "KeyAudit")
SEVERITY: Mapping[str, str] = {
    "ConnectionLost": "critical", "HighLatency": "warning", "RateLimitWarning": "warning", "OrderFailures": "critical",
    "UnusualSlippage": "warning", "StaleBook": "warning", "ResyncStorm": "warning", "KeyAudit": "warning",
}
AUDIT_SEVERITIES = ("high", "medium")  # the key audit findings KeyAudit fires on
FAILED_OUTCOMES = ("rejected", "error")
RECENT = 256  # events kept for recent()
State = Literal["pending", "firing", "resolved"]


@dataclass(frozen=True)
class AlertThresholds:
    """The bounds, windows and ``for`` durations (seconds) of the eight alerts; the defaults are
    deploy/prometheus/alerts.yml's. ``webhook``: where WebhookSink posts (crossbook.toml's
    ``[alerts] webhook``), None for none."""

    connection_lost_for: float = 30.0
    latency_p99_seconds: float = 1.0
    latency_window: float = 300.0
    high_latency_for: float = 120.0
    ratelimit_usage_ratio: float = 0.8
    rate_limit_for: float = 30.0
    order_failure_ratio: float = 0.2
    order_failure_min_count: float = 3.0
    order_failures_window: float = 300.0
    order_failures_for: float = 0.0
    slippage_mean_bps: float = 25.0
    slippage_min_count: float = 3.0
    slippage_window: float = 900.0
    unusual_slippage_for: float = 0.0
    stale_book_age_seconds: float = 60.0
    stale_book_for: float = 30.0
    resync_storm_count: float = 5.0
    resync_window: float = 300.0
    resync_storm_for: float = 0.0
    key_audit_for: float = 0.0
    webhook: str | None = None

    @classmethod
    def from_mapping(cls, table: Mapping[str, Any]) -> AlertThresholds:
        """Thresholds from crossbook.toml's ``[alerts]`` table (field names, seconds for durations);
        ConfigError naming the key that is wrong."""
        known = {f.name for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, value in table.items():
            if key not in known:
                raise ConfigError(f"[alerts]: unknown setting {key!r}; known: {', '.join(sorted(known))}")
            values[key] = _webhook(value) if key == "webhook" else _threshold(key, value)
        return cls(**values)

    def for_seconds(self, name: str) -> float:
        """How long alert ``name``'s condition must hold before it fires."""
        return float(getattr(self, FOR_FIELD[name]))

    @property
    def windows(self) -> dict[str, float]:
        """The sample names whose increases the alerts read, each with its window."""
        return {
            "crossbook_feed_latency_seconds_bucket": self.latency_window,
            "crossbook_orders_total": self.order_failures_window,
            "crossbook_slippage_bps_sum": self.slippage_window,
            "crossbook_slippage_bps_count": self.slippage_window,
            "crossbook_book_resyncs_total": self.resync_window,
        }


FOR_FIELD: Mapping[str, str] = {
    "ConnectionLost": "connection_lost_for", "HighLatency": "high_latency_for", "RateLimitWarning": "rate_limit_for",
    "OrderFailures": "order_failures_for", "UnusualSlippage": "unusual_slippage_for", "StaleBook": "stale_book_for",
    "ResyncStorm": "resync_storm_for", "KeyAudit": "key_audit_for",
}
RATIOS = ("ratelimit_usage_ratio", "order_failure_ratio")
WINDOWS = ("latency_window", "order_failures_window", "slippage_window", "resync_window")


def _threshold(key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ConfigError(f"[alerts] {key} must be a number >= 0, got {value!r}")
    if key in RATIOS and not 0 < value <= 1:
        raise ConfigError(f"[alerts] {key} is a share: a number above 0 and at most 1, got {value!r}")
    if key in WINDOWS and value <= 0:
        raise ConfigError(f"[alerts] {key} is a window in seconds: it must be above 0, got {value!r}")
    return float(value)


def _webhook(value: Any) -> str:
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError("[alerts] webhook must be an http:// or https:// URL")  # the URL may hold a secret: not echoed
    return str(value)


@dataclass
class Alert:
    """One alert (one name, one label set) that is pending or firing: ``since`` its condition
    began to hold, ``at`` it entered its state, ``value`` the condition's value at the last evaluation."""

    name: str
    state: State
    severity: str
    labels: dict[str, str]
    summary: str
    value: float
    since: float
    at: float

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "state": self.state, "severity": self.severity, "labels": dict(self.labels),
                "summary": self.summary, "value": self.value, "since": self.since, "at": self.at}


@dataclass(frozen=True)
class AlertEvent:
    """An alert entering ``state`` at ``at`` (its condition holding since ``since``)."""

    name: str
    state: State
    severity: str
    labels: Mapping[str, str]
    summary: str
    value: float
    since: float
    at: float

    @classmethod
    def of(cls, alert: Alert, state: State, at: float) -> AlertEvent:
        return cls(alert.name, state, alert.severity, dict(alert.labels), alert.summary, alert.value, alert.since, at)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "state": self.state, "severity": self.severity, "labels": dict(self.labels),
                "summary": self.summary, "value": self.value, "since": self.since, "at": self.at}


class AlertSink(Protocol):
    """Where transitions go (monitor/sinks.py): ``emit`` must return at once."""

    def emit(self, event: AlertEvent) -> None: ...


@dataclass(frozen=True)
class Finding:
    """One alert's condition holding for one label set, with its value."""

    name: str
    labels: dict[str, str]
    value: float

    @property
    def key(self) -> tuple[str, tuple[tuple[str, str], ...]]:
        return self.name, tuple(sorted(self.labels.items()))


def summary_of(finding: Finding) -> str:
    """One line naming the venue and what is wrong."""
    labels, value = finding.labels, finding.value
    venue = labels.get("venue", "?")
    match finding.name:
        case "ConnectionLost":
            return f"{venue}: feed {labels.get('feed', '?')} is disconnected"
        case "HighLatency":
            return f"{venue}: feed latency p99 {value:.3g} s"
        case "RateLimitWarning":
            return f"{venue}: rate-limit pool {labels.get('pool', '?')} at {value:.0%}"
        case "OrderFailures":
            return f"{venue}: {value:.0%} of orders rejected or failed"
        case "UnusualSlippage":
            return f"{venue}: mean slippage {value:.1f} bps against {labels.get('against', '?')}"
        case "StaleBook":
            return f"{venue}: {labels.get('symbol', '?')} book is stale"
        case "KeyAudit":
            return f"{venue}: key audit finding {labels.get('finding', '?')}"
        case _:
            return f"{venue}: {labels.get('symbol', '?')} book resynced {value:.0f} times"


@dataclass
class Conditions:
    """The eight conditions over one scrape (and the history of past ones)."""

    scrape: Scrape
    history: History
    limits: AlertThresholds
    now: float

    def all(self) -> list[Finding]:
        return [*self.connection_lost(), *self.high_latency(), *self.rate_limit(), *self.order_failures(),
                *self.unusual_slippage(), *self.stale_book(), *self.resync_storm(), *self.key_audit()]

    def gauge_above(self, name: str, sample: str, bound: float, keep: tuple[str, ...]) -> list[Finding]:
        found = []
        for labels, value in self.scrape.series(sample).items():
            if value > bound:
                named = dict(labels)
                found.append(Finding(name, {k: named.get(k, "") for k in keep}, value))
        return found

    def connection_lost(self) -> list[Finding]:
        return [Finding("ConnectionLost", {"venue": dict(labels).get("venue", ""), "feed": dict(labels).get("feed", "")}, value)
                for labels, value in self.scrape.series("crossbook_feed_connected").items() if value == 0]

    def high_latency(self) -> list[Finding]:
        by_venue: dict[str, list[tuple[float, float]]] = {}
        increases = self.increases("crossbook_feed_latency_seconds_bucket", ("venue", "le"))
        for (venue, le), count in increases.items():
            by_venue.setdefault(venue, []).append((float(le), count))
        found = []
        for venue, buckets in by_venue.items():
            p99 = histogram_quantile(0.99, buckets)
            if p99 > self.limits.latency_p99_seconds:
                found.append(Finding("HighLatency", {"venue": venue}, p99))
        return found

    def rate_limit(self) -> list[Finding]:
        return self.gauge_above("RateLimitWarning", "crossbook_ratelimit_usage_ratio", self.limits.ratelimit_usage_ratio,
                                ("venue", "pool"))

    def order_failures(self) -> list[Finding]:
        orders = self.increases("crossbook_orders_total", ("venue",))
        failed = self.increases("crossbook_orders_total", ("venue",), {"outcome": FAILED_OUTCOMES})
        found = []
        for (venue,), count in failed.items():
            share = _ratio(count, orders.get((venue,), 0.0))
            if share > self.limits.order_failure_ratio and count >= self.limits.order_failure_min_count:
                found.append(Finding("OrderFailures", {"venue": venue}, share))
        return found

    def unusual_slippage(self) -> list[Finding]:
        sums = self.increases("crossbook_slippage_bps_sum", ("venue", "against"))
        counts = self.increases("crossbook_slippage_bps_count", ("venue", "against"))
        found = []
        for (venue, against), count in counts.items():
            mean = _ratio(sums.get((venue, against), 0.0), count)
            if mean > self.limits.slippage_mean_bps and count >= self.limits.slippage_min_count:
                found.append(Finding("UnusualSlippage", {"venue": venue, "against": against}, mean))
        return found

    def stale_book(self) -> list[Finding]:
        stale = {(dict(labels).get("venue", ""), dict(labels).get("symbol", ""))
                 for labels, value in self.scrape.series("crossbook_book_state").items()
                 if dict(labels).get("state") == "stale" and value == 1}
        found = [Finding("StaleBook", {"venue": venue, "symbol": symbol}, 1.0) for venue, symbol in sorted(stale)]
        for labels, age in self.scrape.series("crossbook_book_age_seconds").items():
            venue, symbol = dict(labels).get("venue", ""), dict(labels).get("symbol", "")
            if (venue, symbol) not in stale and age > self.limits.stale_book_age_seconds:
                found.append(Finding("StaleBook", {"venue": venue, "symbol": symbol}, age))
        return found

    def resync_storm(self) -> list[Finding]:
        return [Finding("ResyncStorm", {"venue": venue, "symbol": symbol}, count)
                for (venue, symbol), count in self.increases("crossbook_book_resyncs_total", ("venue", "symbol")).items()
                if count > self.limits.resync_storm_count]

    def key_audit(self) -> list[Finding]:
        """Keys with a high or medium finding of the last key audit, per venue and finding."""
        worst: dict[tuple[str, str], float] = {}
        for labels, value in self.scrape.series("crossbook_key_findings").items():
            named = dict(labels)
            if named.get("severity") in AUDIT_SEVERITIES and value > 0:
                key = (named.get("venue", ""), named.get("finding", ""))
                worst[key] = max(worst.get(key, 0.0), value)
        return [Finding("KeyAudit", {"venue": venue, "finding": finding}, n) for (venue, finding), n in sorted(worst.items())]

    def increases(self, sample: str, by: tuple[str, ...],
                  where: Mapping[str, Collection[str]] | None = None) -> dict[tuple[str, ...], float]:
        return group_increases(self.history, self.scrape, sample, by, self.now, where)


def _ratio(part: float, whole: float) -> float:
    return part / whole if whole > 0 else math.nan


class AlertEngine:
    """The seven alerts over ``registry`` (the desk's ``Metrics.registry``)."""

    def __init__(self, registry: CollectorRegistry, thresholds: AlertThresholds | None = None,
                 sinks: Iterable[AlertSink] = ()) -> None:
        self.registry = registry
        self.thresholds = thresholds or AlertThresholds()
        self.sinks = list(sinks)
        self._history = History(self.thresholds.windows)
        self._active: dict[tuple[str, tuple[tuple[str, str], ...]], Alert] = {}
        self._recent: deque[AlertEvent] = deque(maxlen=RECENT)
        self._subscribers: list[Callable[[AlertEvent], None]] = []
        self._firing = alerts_firing_gauge(registry)
        for name in ALERT_NAMES:
            self._firing.labels(alert=name).set(0)

    def subscribe(self, callback: Callable[[AlertEvent], None]) -> Callable[[], None]:
        """Call ``callback`` with every transition from now on; returns the unsubscribe."""
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback) if callback in self._subscribers else None

    def active(self) -> list[Alert]:
        """The pending and firing alerts, firing first."""
        return sorted(self._active.values(), key=lambda a: (a.state != "firing", a.name, sorted(a.labels.items())))

    def recent(self, n: int = 50) -> list[AlertEvent]:
        """The last ``n`` transitions, oldest first."""
        return list(self._recent)[-n:] if n > 0 else []

    def evaluate(self, now: float | None = None) -> list[AlertEvent]:
        """Evaluate every alert once; the transitions it made."""
        now = time.time() if now is None else now
        scrape = Scrape(self.registry)
        self._history.observe(now, scrape)
        found = {f.key: f for f in Conditions(scrape, self._history, self.thresholds, now).all() if not math.isnan(f.value)}
        events = [*self._open_or_advance(found, now), *self._resolve(found.keys(), now)]
        for name in ALERT_NAMES:
            self._firing.labels(alert=name).set(any(a.name == name and a.state == "firing" for a in self._active.values()))
        for event in events:
            self._publish(event)
        return events

    async def run(self, every: float = 1.0) -> None:
        """Evaluate every ``every`` seconds until cancelled."""
        while True:
            try:
                self.evaluate()
            except Exception:  # a collector that fails once must not end alerting for good
                log.exception("alert evaluation failed")
            await asyncio.sleep(every)

    def _open_or_advance(self, found: Mapping[Any, Finding], now: float) -> list[AlertEvent]:
        events = []
        for key, finding in found.items():
            alert = self._active.get(key)
            if alert is None:
                alert = self._active[key] = Alert(finding.name, "pending", SEVERITY[finding.name], dict(finding.labels),
                                                  summary_of(finding), finding.value, now, now)
                if self.thresholds.for_seconds(finding.name) > 0:
                    events.append(AlertEvent.of(alert, "pending", now))
            alert.value, alert.summary = finding.value, summary_of(finding)
            if alert.state == "pending" and now - alert.since >= self.thresholds.for_seconds(finding.name):
                alert.state, alert.at = "firing", now
                events.append(AlertEvent.of(alert, "firing", now))
        return events

    def _resolve(self, holding: Iterable[Any], now: float) -> list[AlertEvent]:
        cleared = self._active.keys() - set(holding)
        return [AlertEvent.of(self._active.pop(key), "resolved", now) for key in sorted(cleared)]

    def _publish(self, event: AlertEvent) -> None:
        self._recent.append(event)
        for sink in self.sinks:
            with _logged(f"alert sink {type(sink).__name__}"):
                sink.emit(event)
        for callback in list(self._subscribers):
            with _logged("alert subscriber"):
                callback(event)


@contextlib.contextmanager
def _logged(what: str) -> Iterator[None]:
    """Run the block; an exception in it is logged, not raised (one bad consumer must not stop alerting)."""
    try:
        yield
    except Exception:
        log.exception("%s failed", what)
