"""What the desk tells its Metrics: its market's feeds and limiters (read at scrape time), every
order outcome and fill of its accounts, its route reports and its arbitrage."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..market.data import MarketData
from ..model import Side
from ..monitor.collect import MarketView, WatchedFeed
from ..monitor.metrics import Metrics, RouteRecord, Slippage
from ..routing.executor import ExecutionReport, Outcome
from ..symbols import parse_standard
from ..trading.account import VenueAccount
from ..trading.events import FillEvent, OrderOutcome
from ..venues.registry import venue_of


def market_view(market: MarketData) -> MarketView:
    return MarketView(tuple(WatchedFeed(venue_of(feed.venue), feed) for feed in market.feeds), market.limiters.made())


def route_outcome(report: ExecutionReport) -> str:
    if report.outcome is Outcome.DRY_RUN:
        return "dry_run"
    if report.outcome is Outcome.FILLED:
        return "filled"
    return "partial" if report.filled > 0 else "failed"


def _bps_worse(side: Side, price: float, reference: float) -> float:
    sign = 1.0 if side is Side.BUY else -1.0
    return sign * (price - reference) / reference * 1e4


def route_record(report: ExecutionReport) -> RouteRecord:
    """The report as metrics count it: each filled child's slippage against the arrival mid and
    against its own planned VWAP, and what the route saved against the best single venue."""
    side = report.request.side
    slippage: list[Slippage] = []
    for child in report.children:
        if child.filled <= 0 or child.avg_price is None:
            continue
        if report.arrival_mid:
            slippage.append(Slippage(child.venue, "arrival", _bps_worse(side, child.avg_price, report.arrival_mid)))
        if child.planned_vwap > 0:
            slippage.append(Slippage(child.venue, "plan", _bps_worse(side, child.avg_price, child.planned_vwap)))
    outcome = route_outcome(report)
    saved_bps = report.savings_bps if outcome != "dry_run" and report.filled > 0 else None
    reference = report.best_single_venue_all_in_price
    saved = saved_bps / 1e4 * reference * report.filled if saved_bps is not None and reference else None
    return RouteRecord(parse_standard(report.request.symbol)[1], outcome, saved_bps, saved, tuple(slippage))


def arbitrage_executed(metrics: Metrics, entry: Mapping[str, Any]) -> None:
    """Count the realised profit of an executed opportunity's ``--json`` entry (``executed`` in it)."""
    executed = entry.get("executed")
    if not isinstance(executed, Mapping):
        return
    profit = executed.get("realised_profit")
    if isinstance(profit, (int, float)):
        metrics.arbitrage_profit(str(entry.get("profit_currency", "")), float(profit))


class AccountMeter:
    """Subscribes metrics to accounts' events; one meter per desk, so an account is metered once."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def watch(self, account: VenueAccount) -> VenueAccount:
        account.events.subscribe(self.outcome, self.fill)
        return account

    def outcome(self, event: OrderOutcome) -> None:
        self.metrics.order(event.venue, event.outcome.value)

    def fill(self, event: FillEvent) -> None:
        fill = event.fill
        self.metrics.fill(fill.venue, event.quote, float(event.notional), float(fill.fee), fill.fee_currency)
