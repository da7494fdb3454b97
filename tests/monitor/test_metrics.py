"""Metrics on a real simulated desk (127.0.0.1, port 0): the exposition has every family of the
contract with values once books are live, and a real route, a refused order, a sequence gap and a
reconciliation move the right series by the right amounts."""

from __future__ import annotations

import math
from collections import defaultdict
from decimal import Decimal

import pytest
from prometheus_client.parser import text_string_to_metric_families

from crossbook import Desk
from crossbook.errors import CrossbookError
from crossbook.feeds.latency import LATENCY_BUCKETS, LatencyStats
from crossbook.model import OrderRequest, OrderStatus, OrderType, Side
from crossbook.monitor import Metrics, RouteRecord, Slippage
from crossbook.trading.events import ended_as

from ..conftest import run, wait_for

VENUES = ["binance", "okx", "kraken"]
SYMBOL = "BTC-USDT"

CONTRACT_FAMILIES = [
    "crossbook_feed_connected", "crossbook_feed_messages", "crossbook_feed_latency_seconds", "crossbook_book_state",
    "crossbook_book_age_seconds", "crossbook_book_gaps", "crossbook_book_checksum_failures", "crossbook_book_resyncs",
    "crossbook_ratelimit_usage_ratio", "crossbook_orders", "crossbook_slippage_bps", "crossbook_fees_paid",
    "crossbook_volume_quote", "crossbook_router_savings_quote", "crossbook_router_savings_bps", "crossbook_routes",
    "crossbook_arbitrage_opportunities", "crossbook_arbitrage_profit", "crossbook_reconcile_findings",
    "crossbook_alerts_firing", "crossbook_api_requests", "process_cpu_seconds", "process_resident_memory_bytes",
]

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(metrics: Metrics) -> tuple[set[str], Samples]:
    body, content_type = metrics.exposition()
    assert content_type.startswith("text/plain")
    names: set[str] = set()
    samples: Samples = {}
    for family in text_string_to_metric_families(body.decode()):
        names.add(family.name)
        for s in family.samples:
            samples[(s.name, frozenset(s.labels.items()))] = s.value
    return names, samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def matching(samples: Samples, name: str, **labels: str) -> list[float]:
    want = set(labels.items())
    return [v for (n, ls), v in samples.items() if n == name and want <= ls]


def test_latency_stats_count_every_sample_in_its_bucket() -> None:
    stats = LatencyStats(window=2)
    for latency in (0.0005, 0.003, 0.003, 7.0, 60.0):
        stats.add(100.0, 100.0 + latency)
    cumulative = dict(stats.cumulative())
    assert cumulative[0.001] == 1 and cumulative[0.005] == 3 and cumulative[5.0] == 3 and cumulative[10.0] == 4
    assert cumulative[math.inf] == 5 == stats.count  # the window keeps 2 samples, the histogram all of them
    assert stats.total == pytest.approx(0.0005 + 0.006 + 67.0)
    assert len(stats.cumulative()) == len(LATENCY_BUCKETS) + 1


def test_push_families_check_their_labels_and_total_net() -> None:
    metrics = Metrics()
    with pytest.raises(ValueError, match="order outcome"):
        metrics.order("binance", "lost")
    metrics.route(RouteRecord("USDT", "partial", savings_bps=-3.0, savings_quote=-1.5,
                              slippage=(Slippage("okx", "arrival", 2.0), Slippage("okx", "arrival", 4.0))))
    metrics.arbitrage_profit("USDT", 5.0)
    metrics.arbitrage_profit("USDT", -2.0)
    _, samples = scrape(metrics)
    assert value(samples, "crossbook_router_savings_quote_total", quote="USDT") == 0.0  # a counter never goes down
    assert value(samples, "crossbook_router_savings_bps_count") == 1
    assert value(samples, "crossbook_arbitrage_profit_total", currency="USDT") == 5.0
    assert value(samples, "crossbook_arbitrage_loss_total", currency="USDT") == 2.0
    totals = metrics.totals()
    assert totals.savings_quote == {"USDT": -1.5} and totals.arbitrage_profit == {"USDT": 3.0}
    okx = totals.venue("okx")
    assert okx is not None and okx.slippage_bps == {"arrival": 3.0, "plan": None}
    assert totals.to_json()["routes"] == {"partial": 1}


def test_a_desks_metrics_follow_its_books_orders_routes_and_faults() -> None:
    async def body() -> None:
        async with Desk.sim(VENUES, seed=5, symbols=[SYMBOL]) as desk:
            metrics = desk.metrics

            def fed() -> bool:
                _, samples = scrape(metrics)
                return all(value(samples, "crossbook_feed_latency_seconds_count", venue=v) > 0 for v in VENUES)

            await wait_for(fed, 30, "latency samples from every venue")
            names, samples = scrape(metrics)
            assert not [n for n in CONTRACT_FAMILIES if n not in names]
            for venue in VENUES:
                assert matching(samples, "crossbook_feed_connected", venue=venue) == [1.0], venue
                assert sum(matching(samples, "crossbook_feed_messages_total", venue=venue)) > 0
                assert value(samples, "crossbook_book_state", venue=venue, symbol=SYMBOL, state="live") == 1.0
                assert value(samples, "crossbook_book_state", venue=venue, symbol=SYMBOL, state="resyncing") == 0.0
                assert 0 <= value(samples, "crossbook_book_age_seconds", venue=venue, symbol=SYMBOL) < 30
            usage = matching(samples, "crossbook_ratelimit_usage_ratio", venue="binance")
            assert usage and all(0.0 <= u <= 1.0 for u in usage) and max(usage) > 0  # the accounts' markets were loaded
            assert value(samples, "process_resident_memory_bytes") > 0

            # a real route: orders, fills, slippage, savings and the route itself, each by the report's amounts
            report = await desk.route(SYMBOL, "buy", 0.5)
            _, after = scrape(metrics)
            sent = [c for c in report.children if c.client_order_id is not None]
            assert sent and report.filled > 0
            expected_orders: dict[tuple[str, str], int] = defaultdict(int)
            fees: dict[tuple[str, str], float] = defaultdict(float)
            for child in sent:
                assert child.client_order_id is not None
                account = desk.accounts[child.venue]
                order = account.journal.order(child.client_order_id)
                assert order is not None
                outcome = ended_as(OrderStatus(child.status), order.filled)
                assert outcome is not None
                expected_orders[(child.venue, outcome.value)] += 1
                for fill in account.journal.fills(child.client_order_id):
                    fees[(child.venue, fill.fee_currency)] += float(fill.fee)
            for (venue, outcome), n in expected_orders.items():
                assert value(after, "crossbook_orders_total", venue=venue, outcome=outcome) == n
            assert sum(matching(after, "crossbook_orders_total")) == len(sent)
            for (venue, currency), fee in fees.items():
                assert value(after, "crossbook_fees_paid_total", venue=venue, currency=currency) == pytest.approx(fee)
            assert sum(matching(after, "crossbook_volume_quote_total", quote="USDT")) == pytest.approx(report.notional, rel=1e-9)
            filled = [c for c in report.children if c.filled > 0]
            assert sum(matching(after, "crossbook_slippage_bps_count", against="arrival")) == len(filled)
            assert report.arrival_mid is not None
            arrival = sum((c.avg_price or 0.0) - report.arrival_mid for c in filled) / report.arrival_mid * 1e4
            assert sum(matching(after, "crossbook_slippage_bps_sum", against="arrival")) == pytest.approx(arrival)
            assert value(after, "crossbook_routes_total", outcome="filled" if report.outcome.value == "filled" else "partial") == 1
            if report.savings_bps is not None:
                assert value(after, "crossbook_router_savings_bps_count") == 1
                assert value(after, "crossbook_router_savings_bps_sum") == pytest.approx(report.savings_bps)
            totals = desk.metrics.totals()
            assert sum(sum(v.orders.values()) for v in totals.venues) == len(sent)
            assert sum(v.volume.get("USDT", 0.0) for v in totals.venues) == pytest.approx(report.notional, rel=1e-9)

            # a refused order counts as rejected on its venue
            sim = desk.simulator.trading_sim("okx") if desk.simulator is not None else None
            assert sim is not None
            sim.inject_trading("reject")
            okx = desk.accounts["okx"]
            mid = (await desk.consolidated(SYMBOL)).books["okx"].mid()
            assert mid is not None
            request = OrderRequest("okx", SYMBOL, Side.BUY, OrderType.LIMIT, Decimal("0.01"), Decimal(int(mid * 0.9)))
            with pytest.raises(CrossbookError):
                await okx.create_order(request)
            _, samples = scrape(metrics)
            assert value(samples, "crossbook_orders_total", venue="okx", outcome="rejected") == 1

            # a sequence gap on Binance's socket: a gap and a resync counted on its book
            binance = desk.simulator.cluster.venues["binance"] if desk.simulator is not None else None
            assert binance is not None
            binance.inject("skip", SYMBOL)

            def resynced() -> bool:
                _, now = scrape(metrics)
                return (value(now, "crossbook_book_gaps_total", venue="binance", symbol=SYMBOL) >= 1
                        and value(now, "crossbook_book_resyncs_total", venue="binance", symbol=SYMBOL) >= 1)

            await wait_for(resynced, 30, "binance's gap and resync counted")

            # reconciliation: each account's findings, the series there even when nothing was found
            reports = await desk.reconcile_all()
            _, samples = scrape(metrics)
            for venue in VENUES:
                assert len(matching(samples, "crossbook_reconcile_findings_total", venue=venue)) == 4
            assert sum(matching(samples, "crossbook_reconcile_findings_total", finding="fills")) == sum(r.new_fills for r in reports)

    run(body(), timeout=150)
