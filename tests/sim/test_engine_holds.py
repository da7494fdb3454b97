"""For every venue and every order field its capability matrix claims crossbook sends (beyond the
basic orders tests/trading/test_crossbook_trades.py places), an order placed through VenueAccount
is held by the simulator's engine exactly as asked: an iceberg's amount, price and visible slice;
a derivatives order's margin mode, leverage and position side; a reduce-only flag; a stop's and
a stop-limit's type, trigger and limit, and the trigger firing; an entry's attached take-profit
and stop-loss, held on the entry and placed as trigger orders once it fills. A claim with no case
here fails ``test_the_matrix_claims_what_these_tests_place``."""

from __future__ import annotations

import asyncio
from decimal import Decimal as D
from pathlib import Path

import pytest

from crossbook.model import Kind, MarginMode, OrderRequest, OrderStatus, OrderType, PositionSide, Side
from crossbook.sim.venues import sim_class, venue_sims
from crossbook.symbols import parse_standard
from crossbook.trading.account import VenueAccount
from crossbook.trading.client_ids import client_id_rule
from crossbook.trading.journal import Journal
from crossbook.venues.registry import VENUES, capabilities, spec
from crossbook.venues.spec.capabilities import Feature, Product

from ..conftest import run
from .trading_contract import TradingHarness, trading_feeds

SPOT_FEEDS = trading_feeds()
# the simulators that trade a linear perpetual through crossbook, with the contracts one order asks
PERP_FEEDS = {"binanceusdm": D("0.01"), "bybitlinear": D("0.01"), "okx": D(1), "gateswap": D(1)}


def claimed(venue: str, feature: Feature, product: Product) -> bool:
    support = capabilities(venue).features[feature]
    return support.crossbook and support.offered_on(product)


def iceberg_feeds() -> list[str]:
    return [f for f in SPOT_FEEDS if claimed(venue_of(f), Feature.ICEBERG, Product.SPOT)]


def perp_cases(feature: Feature) -> list[str]:
    return [f for f in PERP_FEEDS if claimed(venue_of(f), feature, Product.LINEAR_PERP)]


def venue_of(feed: str) -> str:
    return next(v for v in VENUES if feed in venue_sims(v))


# every simulated market crossbook trades a trigger order on: (feed, symbol) -> (product, amount)
TRIGGER_MARKETS: dict[tuple[str, str], tuple[Product, D]] = {
    **{(f, sim_class(f).markets[0]): (Product.SPOT, D(0)) for f in SPOT_FEEDS},  # spot: 100 lots, 10 minimums at least
    **{(f, next(s for s in sim_class(f).markets if parse_standard(s)[2] is Kind.PERP)): (Product.LINEAR_PERP, a)
       for f, a in PERP_FEEDS.items()},
    ("binancecoinm", "BTC-USD-PERP"): (Product.INVERSE_PERP, D(1)),
}
TRIGGER_FEATURES = (Feature.STOP, Feature.STOP_LIMIT, Feature.TP_SL)


def sent(venue: str, feature: Feature, product: Product) -> bool:
    """The matrix claims crossbook sends ``feature`` on ``product`` of ``venue``."""
    table = capabilities(venue)
    return table.products[product].crossbook and claimed(venue, feature, product) and table.wire.sends(feature, product) is None


def trigger_cases(feature: Feature) -> list[tuple[str, str]]:
    return [(f, s) for (f, s), (product, _) in TRIGGER_MARKETS.items() if sent(venue_of(f), feature, product)]


def test_the_matrix_claims_what_these_tests_place() -> None:
    """Every venue whose matrix marks an iceberg, a setting or a trigger order traded is placed below."""
    for venue in VENUES:
        table = capabilities(venue)
        if table.features[Feature.ICEBERG].crossbook:
            assert any(venue_of(f) == venue for f in iceberg_feeds()), venue
        for feature in (Feature.HEDGE_MODE, Feature.ISOLATED_MARGIN, Feature.CROSS_MARGIN):
            if table.features[feature].crossbook:
                assert any(venue_of(f) == venue for f in perp_cases(feature)), (venue, feature)
        for feature in TRIGGER_FEATURES:
            for product in Product:
                if sent(venue, feature, product):
                    assert any(venue_of(f) == venue and TRIGGER_MARKETS[(f, s)][0] is product for f, s in trigger_cases(feature)), (
                        f"{venue} claims {feature.value} on {product.value}: no simulated market places it here")


async def _account(h: TradingHarness, venue: str, journal: Journal, symbol: str | None = None) -> VenueAccount:
    perp = symbol is not None and parse_standard(symbol)[2] is not Kind.SPOT
    options = {"options": dict(spec(venue).perp_ccxt_options)} if h.feed_id == "okx" and (perp or symbol is None) else {}
    account = VenueAccount(venue, h.client(**options), journal)
    await account.load()
    return account


def _engine_order(h: TradingHarness, cid: str) -> object:
    return h.sim.engine.find("main", client_id=str(client_id_rule(h.sim.venue_id).wire_value(cid)))


@pytest.mark.parametrize("feed_id", iceberg_feeds())
def test_an_iceberg_is_held_with_its_visible_slice(feed_id: str, tmp_path: Path) -> None:
    async def body() -> None:
        async with TradingHarness(feed_id) as h:
            venue = h.sim.venue_id
            with Journal(tmp_path / "j.db") as journal:
                account = await _account(h, venue, journal)
                rules = account.market(h.symbol)
                price = (h.touch()[0] * D("0.95")).quantize(rules.tick)
                amount, visible = rules.lot * 500, rules.lot * 100
                placed = await account.create_order(OrderRequest(venue, h.symbol, Side.BUY, OrderType.LIMIT, amount, price,
                                                                 iceberg_visible=visible))
                assert placed.status is OrderStatus.OPEN
                order = _engine_order(h, placed.client_order_id)
                lot = h.sim.engine.markets[h.symbol].lot
                assert (order.amount * lot, order.visible * lot, order.shown * lot) == (amount, visible, visible)  # type: ignore[attr-defined]
                assert order.price * h.sim.engine.markets[h.symbol].tick == price  # type: ignore[attr-defined]

    run(body(), timeout=60)


def _perp_symbol(h: TradingHarness) -> str:
    return next(s for s in sim_class(h.feed_id).markets if parse_standard(s)[2].value == "perp")


@pytest.mark.parametrize("feed_id", perp_cases(Feature.ISOLATED_MARGIN))
@pytest.mark.parametrize("margin", [MarginMode.ISOLATED, MarginMode.CROSS])
def test_a_derivatives_order_is_held_with_its_margin_mode_and_leverage(feed_id: str, margin: MarginMode, tmp_path: Path) -> None:
    async def body() -> None:
        async with TradingHarness(feed_id) as h:
            venue = venue_of(feed_id)
            symbol = _perp_symbol(h)
            with Journal(tmp_path / "j.db") as journal:
                account = await _account(h, venue, journal)
                rules = account.market(symbol)
                bid = D(h.sim.ladders[symbol].price_str(max(h.sim.ladders[symbol].bids)))
                price = (bid * D("0.95")).quantize(rules.tick)
                request = OrderRequest(venue, symbol, Side.BUY, OrderType.LIMIT, PERP_FEEDS[feed_id], price,
                                       margin_mode=margin, leverage=D(4))
                placed = await account.create_order(request)
                order = _engine_order(h, placed.client_order_id)
                assert (order.margin_mode, order.leverage, order.type) == (margin, D(4), OrderType.LIMIT)  # type: ignore[attr-defined]

    run(body(), timeout=60)


@pytest.mark.parametrize("feed_id", perp_cases(Feature.REDUCE_ONLY))
def test_a_reduce_only_order_is_held_reduce_only(feed_id: str, tmp_path: Path) -> None:
    async def body() -> None:
        async with TradingHarness(feed_id) as h:
            venue = venue_of(feed_id)
            symbol = _perp_symbol(h)
            with Journal(tmp_path / "j.db") as journal:
                account = await _account(h, venue, journal)
                ladder = h.sim.ladders[symbol]
                bid, ask = (D(ladder.price_str(x)) for x in (max(ladder.bids), min(ladder.asks)))
                amount = PERP_FEEDS[feed_id]
                await account.create_order(OrderRequest(venue, symbol, Side.BUY, OrderType.MARKET, amount), reference_price=ask)
                placed = await account.create_order(OrderRequest(venue, symbol, Side.SELL, OrderType.MARKET, amount, reduce_only=True),
                                                    reference_price=bid)
                order = _engine_order(h, placed.client_order_id)
                assert order.reduce_only and order.side is Side.SELL  # type: ignore[attr-defined]

    run(body(), timeout=60)


@pytest.mark.parametrize("feed_id", perp_cases(Feature.HEDGE_MODE))
def test_a_hedge_mode_order_is_held_on_its_position_side(feed_id: str, tmp_path: Path) -> None:
    async def body() -> None:
        async with TradingHarness(feed_id) as h:
            venue = venue_of(feed_id)
            symbol = _perp_symbol(h)
            with Journal(tmp_path / "j.db") as journal:
                account = await _account(h, venue, journal)
                ladder = h.sim.ladders[symbol]
                bid = D(ladder.price_str(max(ladder.bids)))
                placed = await account.create_order(OrderRequest(venue, symbol, Side.SELL, OrderType.MARKET, PERP_FEEDS[feed_id],
                                                                 position_side=PositionSide.SHORT), reference_price=bid)
                order = _engine_order(h, placed.client_order_id)
                assert order.position_side is PositionSide.SHORT and order.side is Side.SELL and h.sim.engine.account("main").hedge_mode  # type: ignore[attr-defined]

    run(body(), timeout=60)


# ---- trigger orders ------------------------------------------------------------------------


def _touch(h: TradingHarness, symbol: str) -> tuple[D, D]:
    ladder = h.sim.ladders[symbol]
    return D(ladder.price_str(max(ladder.bids))), D(ladder.price_str(min(ladder.asks)))


def _amount(h: TradingHarness, symbol: str, account: VenueAccount) -> D:
    amount = TRIGGER_MARKETS[(h.feed_id, symbol)][1]
    rules = account.market(symbol)
    return amount or max(rules.lot * 100, (rules.min_amount or D(0)) * 10)


async def _place_stop(h: TradingHarness, symbol: str, account: VenueAccount, kind: OrderType, trigger_at: D) -> tuple[str, D, D | None]:
    """A sell stop (-limit) triggered at ``trigger_at`` of the bid: its client id, trigger and limit."""
    rules = account.market(symbol)
    bid, _ = _touch(h, symbol)
    trigger = (bid * trigger_at).quantize(rules.tick)
    limit = (trigger * D("0.99")).quantize(rules.tick) if kind is OrderType.STOP_LIMIT else None
    request = OrderRequest(account.venue, symbol, Side.SELL, kind, _amount(h, symbol, account), limit, stop_price=trigger)
    placed = await account.create_order(request, reference_price=bid)
    assert placed.status is OrderStatus.OPEN, placed
    return placed.client_order_id, trigger, limit


@pytest.mark.parametrize(("kind", "feature"), [(OrderType.STOP, Feature.STOP), (OrderType.STOP_LIMIT, Feature.STOP_LIMIT)])
@pytest.mark.parametrize("case", sorted(set(trigger_cases(Feature.STOP)) | set(trigger_cases(Feature.STOP_LIMIT))), ids=str)
def test_a_stop_is_held_with_its_type_trigger_and_limit(case: tuple[str, str], kind: OrderType, feature: Feature, tmp_path: Path) -> None:
    feed_id, symbol = case
    if case not in trigger_cases(feature):
        pytest.skip(f"{venue_of(feed_id)} does not claim {feature.value} on {symbol}")

    async def body() -> None:
        async with TradingHarness(feed_id) as h:
            assert h.cluster is not None
            h.cluster.pause()
            with Journal(tmp_path / "j.db") as journal:
                account = await _account(h, venue_of(feed_id), journal, symbol)
                cid, trigger, limit = await _place_stop(h, symbol, account, kind, D("0.9"))
                order = _engine_order(h, cid)
                market = h.sim.engine.markets[symbol]
                assert (order.type, order.side, order.waiting) == (kind, Side.SELL, True)  # type: ignore[attr-defined]
                assert order.stop * market.tick == trigger  # type: ignore[attr-defined]
                assert (None if order.price is None else order.price * market.tick) == limit  # type: ignore[attr-defined]
                assert order.amount * market.lot == _amount(h, symbol, account)  # type: ignore[attr-defined]
                assert (await account.sync(cid)).status is OrderStatus.OPEN  # crossbook reads the waiting trigger back
                canceled = await account.cancel(cid)
                assert canceled.status is OrderStatus.CANCELED and order.status is OrderStatus.CANCELED  # type: ignore[attr-defined]

    run(body(), timeout=90)


@pytest.mark.parametrize("case", trigger_cases(Feature.STOP), ids=str)
def test_a_stop_fires_when_a_trade_reaches_its_trigger_and_crossbook_records_the_fill(case: tuple[str, str], tmp_path: Path) -> None:
    feed_id, symbol = case

    async def body() -> None:
        async with TradingHarness(feed_id) as h:
            assert h.cluster is not None
            h.cluster.pause()
            with Journal(tmp_path / "j.db") as journal:
                account = await _account(h, venue_of(feed_id), journal, symbol)
                cid, _, _ = await _place_stop(h, symbol, account, OrderType.STOP, D(1))  # at the bid
                order = _engine_order(h, cid)
                market = h.sim.engine.markets[symbol]
                # another account sells at the bid: the trade prints at the trigger
                h.sim.engine.open_account("other", {market.base: D(10_000), market.quote: D(100_000_000)})
                h.sim.engine.submit("other", symbol, Side.SELL, OrderType.MARKET, market.lot)
                assert order.triggered  # type: ignore[attr-defined]

                deadline = asyncio.get_running_loop().time() + 30
                while (await account.sync(cid)).status is not OrderStatus.FILLED:
                    assert asyncio.get_running_loop().time() < deadline, journal.order(cid)
                    await asyncio.sleep(0.1)
                assert journal.order(cid).filled == _amount(h, symbol, account)  # type: ignore[union-attr]

    run(body(), timeout=90)


@pytest.mark.parametrize("case", trigger_cases(Feature.TP_SL), ids=str)
def test_an_attached_take_profit_and_stop_loss_are_held_and_placed_when_the_entry_fills(case: tuple[str, str], tmp_path: Path) -> None:
    feed_id, symbol = case

    async def body() -> None:
        async with TradingHarness(feed_id) as h:
            assert h.cluster is not None
            h.cluster.pause()
            with Journal(tmp_path / "j.db") as journal:
                account = await _account(h, venue_of(feed_id), journal, symbol)
                rules = account.market(symbol)
                bid, ask = _touch(h, symbol)
                tp, sl = (ask * D("1.1")).quantize(rules.tick), (bid * D("0.9")).quantize(rules.tick)
                amount = _amount(h, symbol, account)
                # a resting entry holds its TP/SL; a marketable one fills and places them
                resting = OrderRequest(account.venue, symbol, Side.BUY, OrderType.LIMIT, amount, (bid * D("0.95")).quantize(rules.tick),
                                       take_profit=tp, stop_loss=sl)
                entry = _engine_order(h, (await account.create_order(resting)).client_order_id)
                market = h.sim.engine.markets[symbol]
                assert (entry.take_profit * market.tick, entry.stop_loss * market.tick) == (tp, sl)  # type: ignore[attr-defined]
                taking = OrderRequest(account.venue, symbol, Side.BUY, OrderType.LIMIT, amount, ask, take_profit=tp, stop_loss=sl)
                filled = _engine_order(h, (await account.create_order(taking)).client_order_id)
                assert filled.status is OrderStatus.FILLED  # type: ignore[attr-defined]
                children = {o.stop * market.tick: o for o in h.sim.engine.orders.values() if o.parent == filled.order_id}  # type: ignore[attr-defined]
                assert set(children) == {tp, sl}
                assert all(o.side is Side.SELL and o.waiting and o.amount == filled.amount for o in children.values())  # type: ignore[attr-defined]

    run(body(), timeout=90)
