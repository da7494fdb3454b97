"""A Trader trades every product its venue's desk has an account for: an order's standard symbol
picks the spot or the derivatives account, its leverage and margin mode reach the simulated venue
(or the order is refused before anything is sent), positions are read back, a reduce-only order
closes them, and orders are found across the venue's accounts."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from crossbook import Desk
from crossbook.errors import UnsupportedFeature
from crossbook.model import MarginMode, OrderRequest, OrderStatus, OrderType, Side
from crossbook.sim.server import SimVenue

from ..conftest import run

# venue -> (the perpetual as the trading layer names it, its simulator's feed id, the engine's
# symbol, amount in contracts, leverage and margin mode asked (None: the venue has no setting))
PERPS: dict[str, tuple[str, str, str, D, D | None, MarginMode | None]] = {
    "binance": ("BTC-USDT-PERP", "binanceusdm", "BTC-USDT-PERP", D("0.01"), D(5), MarginMode.ISOLATED),
    "okx": ("BTC-USDT-PERP", "okx", "BTC-USDT-PERP", D(1), D(4), MarginMode.ISOLATED),  # 1 contract = 0.01 BTC
    "bybit": ("BTC-USDT-PERP", "bybitlinear", "BTC-USDT-PERP", D("0.01"), D(3), MarginMode.ISOLATED),
    "dydx": ("BTC-USD-PERP", "dydx", "BTC-USD-PERP", D("0.01"), None, None),  # ccxt's BTC/USDC:USDC
}


def engine_position(sim: SimVenue, symbol: str) -> D:
    return sum((p.size for (s, _), p in sim.engine.account("main").positions.items() if s == symbol), D(0))


def test_perpetual_positions_open_with_their_settings_and_close_reduce_only() -> None:
    async def body() -> None:
        async with Desk.sim(list(PERPS)) as desk:
            assert desk.simulator is not None
            for venue, (symbol, feed, engine_symbol, amount, leverage, margin) in PERPS.items():
                sim = desk.simulator.cluster.venues[feed]
                trader = await desk.account(venue)
                assert trader.market(symbol).derivative
                opened = await trader.place(OrderRequest(venue, symbol, Side.BUY, OrderType.MARKET, amount, leverage=leverage,
                                                         margin_mode=margin))
                assert opened.status is OrderStatus.FILLED, (venue, opened)
                settings = sim.engine.account("main")
                if leverage is not None:
                    assert settings.leverages[engine_symbol] == leverage, venue
                if margin is not None:
                    assert settings.margin_modes[engine_symbol] is margin, venue
                size = amount * trader.market(symbol).contract_size
                assert engine_position(sim, engine_symbol) == size, venue

                report = await desk.positions([venue])
                assert report.unavailable == {}, venue
                (position,) = [p.view for p in report.positions if p.view.symbol == symbol]
                assert position.side in ("long", "both") and position.size == size, (venue, position)
                assert position.entry_price is not None and opened.avg_price is not None
                assert abs(position.entry_price - opened.avg_price) / opened.avg_price < D("0.001"), venue

                closed = await trader.place(OrderRequest(venue, symbol, Side.SELL, OrderType.MARKET, amount, reduce_only=True))
                assert closed.status is OrderStatus.FILLED and closed.reduce_only, venue
                last = max((o for o in sim.engine.orders.values() if o.account == "main"), key=lambda o: int(o.order_id))
                assert last.reduce_only and last.side is Side.SELL, venue
                assert engine_position(sim, engine_symbol) == 0, venue
                assert [p for p in (await desk.positions([venue])).positions if p.view.symbol == symbol] == [], venue

    run(body(), timeout=120)


@pytest.mark.parametrize(("venue", "symbol", "feed", "asked", "says"), [
    ("dydx", "BTC-USD-PERP", "dydx", {"leverage": D(5)}, "dydx: crossbook cannot do --leverage"),
    ("dydx", "BTC-USD-PERP", "dydx", {"margin_mode": MarginMode.ISOLATED}, "dydx: crossbook cannot do --margin isolated"),
    ("gate", "BTC-USDT-PERP", "gateswap", {"leverage": D(5), "margin_mode": MarginMode.ISOLATED},
     "gate: crossbook cannot do --margin isolated"),
])
def test_a_setting_the_venue_cannot_take_is_refused_before_anything_is_sent(
        venue: str, symbol: str, feed: str, asked: dict[str, object], says: str) -> None:
    async def body() -> None:
        async with Desk.sim([venue]) as desk:
            assert desk.simulator is not None
            sim = desk.simulator.cluster.venues[feed]
            trader = await desk.account(venue)
            before = dict(sim.engine.account("main").leverages), dict(sim.engine.account("main").margin_modes)
            request = OrderRequest(venue, symbol, Side.BUY, OrderType.MARKET, trader.market(symbol).lot * 10, **asked)  # type: ignore[arg-type]
            with pytest.raises(UnsupportedFeature, match=says):
                await trader.place(request)
            assert sim.engine.open_orders("main") == [] and sim.engine.account_fills("main") == []
            assert (dict(sim.engine.account("main").leverages), dict(sim.engine.account("main").margin_modes)) == before
            assert trader.orders() == []

    run(body(), timeout=90)


def test_orders_are_listed_shown_and_cancelled_across_the_venues_accounts() -> None:
    async def body() -> None:
        async with Desk.sim(["binance"], symbols=["BTC-USDT", "BTC-USDT-PERP"]) as desk:
            trader = await desk.account("binance")
            placed = []
            for symbol in ("BTC-USDT", "BTC-USDT-PERP"):
                bid = (await desk.book("binance", symbol)).best_bid()
                assert bid is not None
                price = (D(repr(bid[0])) * D("0.9")).quantize(trader.market(symbol).tick)
                placed.append(await trader.place(OrderRequest("binance", symbol, Side.BUY, OrderType.LIMIT, D("0.01"), price)))
            spot, perp = placed
            assert trader.account_for("BTC-USDT") is not trader.account_for("BTC-USDT-PERP")
            assert {o.client_order_id for o in await trader.open_orders()} == {spot.client_order_id, perp.client_order_id}
            shown = await trader.order(perp.client_order_id)
            assert shown.status is OrderStatus.OPEN and shown.symbol == "BTC-USDT-PERP"
            amended = await trader.amend(perp.client_order_id, price=perp.price - trader.market("BTC-USDT-PERP").tick * 10)
            assert amended.price == perp.price - trader.market("BTC-USDT-PERP").tick * 10
            for order in placed:
                assert (await trader.cancel(order.client_order_id)).status is OrderStatus.CANCELED
            assert await trader.open_orders() == []

    run(body(), timeout=90)
