"""The router's executor on the simulated venues through unmodified ccxt: split child orders,
journaled, rejects and partial fills re-routed, a lost answer reconciled before re-routing, the
limit respected, the execution report's figures consistent with the journal."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path

import ccxt.async_support as ccxt_async
import pytest

from crossbook.desk.simulated import SimDesk
from crossbook.errors import InvalidOrder
from crossbook.model import OrderStatus, Side
from crossbook.routing.executor import (
    ExecutionReport,
    Outcome,
    Router,
    RouteRequest,
    Urgency,
    order_budget,
)
from crossbook.routing.fees import FeeBook

from ..conftest import run

VENUES = ["binance", "okx", "bybit", "gate"]
SYMBOL = "BTC-USDT"


def on_desk(tmp_path: Path, body: Callable[[SimDesk], Awaitable[None]]) -> None:
    async def go() -> None:
        async with SimDesk(VENUES, [SYMBOL], journal=tmp_path / "journal.sqlite", levels=120) as desk:
            assert desk.market.all_live()
            desk.cluster.pause()  # books hold still: what is planned is what is there
            await body(desk)

    run(go(), timeout=120)


def router(desk: SimDesk) -> Router:
    return Router(desk.market.consolidated[SYMBOL], desk.accounts)


def held(desk: SimDesk, asset: str) -> Decimal:
    """What the desk's accounts hold of ``asset`` across the venues, as the simulators see it."""
    return sum((desk.trading_sim(v).engine.accounts["main"].balances.get(asset, Decimal(0)) for v in VENUES), Decimal(0))


def fees_in(desk: SimDesk, report: ExecutionReport, asset: str) -> float:
    """Fees the venues took in ``asset`` for the report's children, from the journal's fills."""
    fills = [f for c in report.children if c.client_order_id for f in desk.journal.fills(c.client_order_id)]
    return float(sum(f.fee for f in fills if f.fee_currency == asset))


async def route_with_fault(desk: SimDesk, fault: str) -> tuple[str, ExecutionReport]:
    """Buy 8 BTC with ``fault`` injected on the venue the plan gives the largest share."""
    r = router(desk)
    target = largest_share(await r.route(RouteRequest(SYMBOL, Side.BUY, 8.0), dry_run=True))
    desk.trading_sim(target).inject_trading(fault)
    return target, await r.route(RouteRequest(SYMBOL, Side.BUY, 8.0))


def assert_journaled(desk: SimDesk, report: ExecutionReport) -> None:
    """Every child that was sent is in the journal, final, with the fills the report counts."""
    for child in report.children:
        if child.client_order_id is None:
            continue
        order = desk.journal.order(child.client_order_id)
        assert order is not None and order.status.final, child
        fills = desk.journal.fills(child.client_order_id)
        assert float(sum(f.amount for f in fills)) == pytest.approx(child.filled, abs=1e-9)


def largest_share(report: ExecutionReport) -> str:
    return max(report.plan.children, key=lambda c: c.amount).venue


def test_a_large_buy_is_split_filled_and_costs_no_more_than_the_best_single_venue(tmp_path: Path) -> None:
    on_desk(tmp_path, _a_large_buy_is_split_filled_and_costs_no_more_than_the_best_single_venue)


async def _a_large_buy_is_split_filled_and_costs_no_more_than_the_best_single_venue(desk: SimDesk) -> None:
    r = router(desk)
    cheapest = largest_share(await r.route(RouteRequest(SYMBOL, Side.BUY, 8.0), dry_run=True))
    desk.trading_sim(cheapest).engine.accounts["main"].balances["USDT"] = Decimal(200_000)  # about 3.3 BTC there
    btc_before = held(desk, "BTC")
    report = await r.route(RouteRequest(SYMBOL, Side.BUY, 8.0))
    assert report.outcome is Outcome.FILLED
    assert report.filled == pytest.approx(8.0, abs=1e-9)
    assert len({c.venue for c in report.children}) >= 2
    assert_journaled(desk, report)
    # the venues saw exactly what the report says (a buy's fee may be taken in the base)
    assert float(held(desk, "BTC") - btc_before) == pytest.approx(8.0 - fees_in(desk, report, "BTC"), rel=1e-9)
    assert report.best_single is not None and report.best_single.all_in_price is not None
    assert report.best_single.filled == pytest.approx(8.0) and report.best_single.children[0].venue != cheapest
    assert report.all_in_avg_price is not None
    assert report.all_in_avg_price <= report.best_single.all_in_price * (1 + 1e-9)
    out = report.to_json()
    for key in ("symbol", "side", "amount", "plan", "filled", "avg_price", "fees", "all_in_avg_price",
                "best_single_venue_all_in_price", "savings_bps"):
        assert key in out
    assert out["savings_bps"] is not None and out["savings_bps"] >= -1e-6
    assert {"venue", "amount", "expected_vwap", "fee"} <= set(out["plan"][0])


def test_a_sell_is_routed_with_fees_taken_from_what_it_receives(tmp_path: Path) -> None:
    on_desk(tmp_path, _a_sell_is_routed_with_fees_taken_from_what_it_receives)


async def _a_sell_is_routed_with_fees_taken_from_what_it_receives(desk: SimDesk) -> None:
    report = await router(desk).route(RouteRequest(SYMBOL, Side.SELL, 3.0))
    assert report.outcome is Outcome.FILLED and report.filled == pytest.approx(3.0, abs=1e-9)
    assert report.avg_price is not None and report.all_in_avg_price is not None
    assert report.all_in_avg_price < report.avg_price  # a seller nets less than the price
    assert_journaled(desk, report)


def test_a_rejected_child_is_routed_again_on_the_other_venues(tmp_path: Path) -> None:
    on_desk(tmp_path, _a_rejected_child_is_routed_again_on_the_other_venues)


async def _a_rejected_child_is_routed_again_on_the_other_venues(desk: SimDesk) -> None:
    target, report = await route_with_fault(desk, "reject")
    rejected = [c for c in report.children if c.venue == target]
    assert rejected and rejected[0].status == OrderStatus.REJECTED.value and rejected[0].filled == 0
    assert report.rounds >= 2
    assert all(c.venue != target for c in report.children if c.round > 1)
    assert report.outcome is Outcome.FILLED and report.filled == pytest.approx(8.0, abs=1e-9)
    assert_journaled(desk, report)


def test_a_partial_fill_leaves_a_remainder_that_is_routed_again(tmp_path: Path) -> None:
    on_desk(tmp_path, _a_partial_fill_leaves_a_remainder_that_is_routed_again)


async def _a_partial_fill_leaves_a_remainder_that_is_routed_again(desk: SimDesk) -> None:
    target, report = await route_with_fault(desk, "partial_fill")
    first = next(c for c in report.children if c.venue == target and c.round == 1)
    assert 0 < first.filled < first.planned_amount
    assert report.rounds >= 2
    assert report.outcome is Outcome.FILLED and report.filled == pytest.approx(8.0, abs=1e-9)
    assert_journaled(desk, report)


def test_a_lost_answer_is_reconciled_before_anything_is_routed_again(tmp_path: Path) -> None:
    on_desk(tmp_path, _a_lost_answer_is_reconciled_before_anything_is_routed_again)


async def _a_lost_answer_is_reconciled_before_anything_is_routed_again(desk: SimDesk) -> None:
    r = router(desk)
    target = largest_share(await r.route(RouteRequest(SYMBOL, Side.BUY, 8.0), dry_run=True))
    desk.trading_sim(target).inject_trading("lost_ack")
    btc_before = held(desk, "BTC")
    report = await r.route(RouteRequest(SYMBOL, Side.BUY, 8.0))
    lost = next(c for c in report.children if c.venue == target)
    assert lost.client_order_id is not None
    assert lost.filled == pytest.approx(lost.planned_amount, abs=1e-9)  # the venue did it; reconcile found it
    assert report.filled == pytest.approx(8.0, abs=1e-9)  # not doubled
    assert float(held(desk, "BTC") - btc_before) == pytest.approx(8.0 - fees_in(desk, report, "BTC"), rel=1e-9)
    assert_journaled(desk, report)


def test_nothing_is_sent_past_the_limit_price(tmp_path: Path) -> None:
    on_desk(tmp_path, _nothing_is_sent_past_the_limit_price)


async def _nothing_is_sent_past_the_limit_price(desk: SimDesk) -> None:
    book = desk.market.consolidated[SYMBOL]
    ask = book.best_ask()
    assert ask is not None
    report = await router(desk).route(RouteRequest(SYMBOL, Side.BUY, 1.0, limit=ask.price * 0.999))
    assert report.outcome is Outcome.LIMIT and report.children == [] and report.filled == 0
    assert all(not desk.journal.in_flight(v) and not desk.journal.open_orders(v) for v in VENUES)


def test_max_slippage_caps_the_prices_taken(tmp_path: Path) -> None:
    on_desk(tmp_path, _max_slippage_caps_the_prices_taken)


async def _max_slippage_caps_the_prices_taken(desk: SimDesk) -> None:
    r = router(desk)
    report = await r.route(RouteRequest(SYMBOL, Side.BUY, 40.0, max_slippage_bps=0.5))
    assert report.arrival_mid is not None
    cap = report.arrival_mid * (1 + 0.5 / 1e4)
    assert report.children and all(c.limit_price <= cap + 1e-9 for c in report.children)
    assert report.outcome in (Outcome.LIMIT, Outcome.FILLED)


def test_a_dry_run_plans_and_sends_nothing(tmp_path: Path) -> None:
    on_desk(tmp_path, _a_dry_run_plans_and_sends_nothing)


async def _a_dry_run_plans_and_sends_nothing(desk: SimDesk) -> None:
    report = await router(desk).route(RouteRequest(SYMBOL, Side.BUY, 8.0), dry_run=True)
    assert report.outcome is Outcome.DRY_RUN and report.plan.children and report.children == []
    assert report.to_json()["savings_bps"] is not None
    assert all(not desk.journal.in_flight(v) and not desk.journal.open_orders(v) for v in VENUES)


def test_a_venue_share_is_capped_by_the_balance_there(tmp_path: Path) -> None:
    on_desk(tmp_path, _a_venue_share_is_capped_by_the_balance_there)


async def _a_venue_share_is_capped_by_the_balance_there(desk: SimDesk) -> None:
    r = router(desk)
    target = largest_share(await r.route(RouteRequest(SYMBOL, Side.BUY, 8.0), dry_run=True))
    desk.trading_sim(target).engine.accounts["main"].balances["USDT"] = Decimal(30_000)  # about half a BTC
    report = await r.route(RouteRequest(SYMBOL, Side.BUY, 8.0), dry_run=True)
    share = sum(c.amount for c in report.plan.children if c.venue == target)
    assert 0 < share * 60_000 * 0.95 < 30_000


def test_bad_requests_are_refused_before_anything_is_sent(tmp_path: Path) -> None:
    on_desk(tmp_path, _bad_requests_are_refused_before_anything_is_sent)


async def _bad_requests_are_refused_before_anything_is_sent(desk: SimDesk) -> None:
    with pytest.raises(InvalidOrder, match="amount"):
        RouteRequest(SYMBOL, Side.BUY, -1.0)
    with pytest.raises(InvalidOrder, match="limit"):
        RouteRequest(SYMBOL, Side.BUY, 1.0, limit=0.0)
    with pytest.raises(InvalidOrder, match="ETH-USDT"):
        await router(desk).route(RouteRequest("ETH-USDT", Side.BUY, 1.0))
    assert all(not desk.journal.in_flight(v) for v in VENUES)


def test_every_venue_names_its_order_endpoint_in_its_limit_table() -> None:
    from crossbook.venues.registry import VENUES as ALL
    from crossbook.venues.registry import spec

    for venue in ALL:
        method, path = spec(venue).order_request
        key, cost = spec(venue).limit_table().resolve(method, path, {})
        assert key == spec(venue).order_endpoint and cost, venue  # counted in a named pool, not the default


def test_the_order_budget_shrinks_as_orders_are_sent(tmp_path: Path) -> None:
    async def body(desk: SimDesk) -> None:
        account = desk.accounts["binance"]
        rules = account.market(SYMBOL)
        assert account.limiter is not None
        market_id = account.client.market_id(rules.ccxt_symbol)
        full = account.limiter.headroom("POST", "/api/v3/order", account=account.account, symbol=market_id, most=10_000)
        assert order_budget(account, rules) == min(full, 10)
        for _ in range(full - 4):  # spend all but four of the venue's order budget
            assert not await account.limiter.acquire("POST", "/api/v3/order", account=account.account, symbol=market_id)
        assert order_budget(account, rules) == 4

    on_desk(tmp_path, body)


def test_the_accounts_own_fee_rate_steers_the_plan(tmp_path: Path) -> None:
    async def body(desk: SimDesk) -> None:
        engine = desk.trading_sim("gate").engine
        engine.taker_fee = engine.maker_fee = Decimal("0.00001")  # a VIP rate no schedule lists
        book = desk.market.consolidated[SYMBOL]
        scheduled = await Router(book, desk.accounts).route(RouteRequest(SYMBOL, Side.BUY, 2.0), dry_run=True)
        assert all(c.fee == pytest.approx(c.amount * c.expected_vwap * 0.001) for c in scheduled.plan.children if c.venue == "gate")
        report = await Router(book, desk.accounts, fee_book=FeeBook(accounts=desk.accounts)).route(RouteRequest(SYMBOL, Side.BUY, 2.0))
        gate = [c for c in report.plan.children if c.venue == "gate"]
        assert gate and gate[0].fee == pytest.approx(gate[0].amount * gate[0].expected_vwap * 0.00001)
        assert gate[0].amount == pytest.approx(2.0)  # 10 bps cheaper than anyone: it takes the whole order
        charged = [c for c in report.children if c.venue == "gate"]
        assert charged and charged[0].fee == pytest.approx(charged[0].filled * charged[0].avg_price * 0.00001, rel=1e-6)

    on_desk(tmp_path, body)


def test_a_passive_route_rests_as_maker_then_takes_what_is_left(tmp_path: Path) -> None:
    async def body(desk: SimDesk) -> None:
        sim = desk.trading_sim("binance")
        sim.engine.maker_fee = Decimal("0.0002")
        sim.engine.open_account("taker", {"BTC": Decimal(10), "USDT": Decimal(1_000_000)})
        seller = ccxt_async.binance(sim.ccxt_config(sim.issue_key("taker")))
        r = Router(desk.market.consolidated[SYMBOL], {"binance": desk.accounts["binance"]})
        try:
            await seller.load_markets()

            async def hit_the_bid() -> None:  # another desk sells into the book once the order rests
                await asyncio.sleep(0.6)
                await seller.create_order("BTC/USDT", "market", "sell", 0.3)

            request = RouteRequest(SYMBOL, Side.BUY, 0.5, urgency=Urgency.PASSIVE, passive_seconds=1.5, deadline=5.0)
            report, _ = await asyncio.gather(r.route(request), hit_the_bid())
        finally:
            await seller.close()
        rested = [c for c in report.children if c.passive]
        assert len(rested) == 1 and rested[0].status == OrderStatus.CANCELED.value
        assert rested[0].filled == pytest.approx(0.3)  # the seller's market order met our bid first
        order = desk.journal.order(rested[0].client_order_id or "")
        assert order is not None and order.request.post_only
        assert rested[0].fee == pytest.approx(rested[0].filled * (rested[0].avg_price or 0) * 0.0002)  # maker
        assert all(not c.passive for c in report.children[1:])
        assert report.outcome is Outcome.FILLED and report.filled == pytest.approx(0.5)
        assert_journaled(desk, report)

    on_desk(tmp_path, body)


def test_a_passive_order_rests_within_the_limit_even_when_nothing_can_be_taken(tmp_path: Path) -> None:
    async def body(desk: SimDesk) -> None:
        book = desk.market.consolidated[SYMBOL]
        bid = book.books["binance"].best_bid()
        assert bid is not None
        r = Router(book, {"binance": desk.accounts["binance"]})
        request = RouteRequest(SYMBOL, Side.BUY, 0.5, limit=bid[0], urgency=Urgency.PASSIVE, passive_seconds=0.3, deadline=1.0)
        report = await r.route(request)
        assert len(report.children) == 1
        rested = report.children[0]
        assert rested.passive and rested.limit_price == bid[0] and rested.status == OrderStatus.CANCELED.value
        assert report.filled == 0 and report.outcome is Outcome.LIMIT  # nothing at or under the limit to take
        assert not desk.journal.open_orders("binance")

    on_desk(tmp_path, body)
