"""Option orders the way a user places them: ``desk.account(venue)`` on ``Desk.sim(..., options=True)``
and ``crossbook order place VENUE OPTION ... --sim``. Each order reaches the venue's option
simulator and rests in its engine exactly as asked (limit, post-only, reduce-only), cancels there;
the option position shows in ``desk.positions()`` and the premium in ``desk.balances()``; a
reduce-only with no position is refused with the venue's reason; an option the venue does not
list sends nothing."""

from __future__ import annotations

import json
from decimal import Decimal as D

import pytest
from typer.testing import CliRunner

from crossbook import Desk
from crossbook.cli import app
from crossbook.errors import CrossbookError, InvalidOrder
from crossbook.model import OrderRequest, OrderStatus, OrderType, Side
from crossbook.sim.options import listed_series
from crossbook.sim.server import SimVenue
from crossbook.symbols import option_symbol, parse_option
from crossbook.trading.trader import OrderView

from ..conftest import run, wait_for

# venue -> (its options feed, the currency its option symbols are quoted in, its settle coin for BTC,
# the venue's own words for a reduce-only with nothing to reduce)
VENUES = {
    "binance": ("binanceoptions", "USDT", "USDT", "ReduceOnly Order is rejected"),
    "okx": ("okxoptions", "USD", "BTC", "51169"),  # its sMsg is cut from the refusal's text: its code names it
    "bybit": ("bybitoption", "USD", "USDC", "Reduce-only rule not satisfied"),
}
FUNDED = {"USDT": D(1_000_000), "USDC": D(1_000_000), "BTC": D(100)}  # sim.serve.fund's
runner = CliRunner()


def at_the_money_call(quote: str) -> str:
    """The nearest expiry's middle BTC strike, a call, as ``quote``'s venue names it."""
    btc = [s for s in listed_series() if s.base == "BTC"]
    expiry = min(s.expiry for s in btc)
    strikes = sorted({s.strike for s in btc if s.expiry == expiry})
    call = next(s for s in btc if s.expiry == expiry and s.strike == strikes[len(strikes) // 2])
    return option_symbol("BTC", quote, expiry, call.strike, call.right)


def touch(sim: SimVenue, symbol: str) -> tuple[D, D]:
    ladder = sim.ladders[symbol]
    return D(ladder.price_str(max(ladder.bids))), D(ladder.price_str(min(ladder.asks)))


def assert_held_as_asked(sim: SimVenue, view: OrderView, request: OrderRequest, contract_size: D) -> None:
    """The simulator's engine holds the order: its symbol, side, price, size, flags, open."""
    held = sim.engine.orders[str(view.venue_order_id)]
    market = sim.engine.markets[request.symbol]
    assert held.status is OrderStatus.OPEN and view.status is OrderStatus.OPEN, (held, view)
    assert (held.symbol, held.side, held.type) == (request.symbol, request.side, OrderType.LIMIT)
    assert held.price is not None and held.price * market.tick == request.price
    assert held.amount * market.lot == request.amount * contract_size  # lots of the base coin
    assert (held.post_only, held.reduce_only) == (request.post_only, request.reduce_only)


async def place_and_cancel_each_kind(desk: Desk, venue: str) -> None:
    feed, quote, settle, _ = VENUES[venue]
    sim, symbol = desk.simulator.cluster.venues[feed], at_the_money_call(quote)  # type: ignore[union-attr]
    trader = await desk.account(venue)
    rules = trader.market(symbol)
    lot, tick = rules.lot, rules.tick
    bid, ask = touch(sim, symbol)
    assert bid > 4 * tick, (venue, bid)

    def order(side: Side, price: D, *, post_only: bool = False, reduce_only: bool = False) -> OrderRequest:
        return OrderRequest(venue, symbol, side, OrderType.LIMIT, 2 * lot, price, post_only=post_only, reduce_only=reduce_only)

    asked = [order(Side.BUY, bid - 4 * tick), order(Side.BUY, bid - 2 * tick, post_only=True)]
    placed = [await trader.place(request) for request in asked]
    for view, request in zip(placed, asked, strict=True):
        assert_held_as_asked(sim, view, request, rules.contract_size)

    bought = await trader.place(OrderRequest(venue, symbol, Side.BUY, OrderType.LIMIT, 2 * lot, ask + 4 * tick))
    await wait_for(lambda: sim.engine.position("main", symbol).size > 0, 30, f"{venue}: the bought {symbol}")
    bid, ask = touch(sim, symbol)
    closing = order(Side.SELL, ask + 20 * tick, reduce_only=True)
    placed.append(await trader.place(closing))
    assert_held_as_asked(sim, placed[-1], closing, rules.contract_size)

    for view in placed:
        canceled = await trader.cancel(view.client_order_id)
        assert canceled.status is OrderStatus.CANCELED, canceled
        assert sim.engine.orders[str(view.venue_order_id)].status is OrderStatus.CANCELED
    assert (await trader.order(bought.client_order_id)).filled == 2 * lot * rules.contract_size

    mine = [p for p in (await desk.positions([venue])).positions if p.view.symbol == symbol]
    assert [(p.view.side, p.view.contracts, p.view.size) for p in mine] == [("long", 2 * lot, 2 * lot * rules.contract_size)]
    balances = await desk.balances([venue], value_in=None)
    paid = [r for r in balances.rows if r.asset == settle and r.total < FUNDED[settle]]
    assert paid, f"{venue}: no wallet paid the premium in {settle}"  # the option's wallet, beside the untouched others


def test_option_orders_rest_in_each_venues_option_simulator_as_asked() -> None:
    async def body() -> None:
        async with Desk.sim(list(VENUES), options=True) as desk:
            for venue in VENUES:
                await place_and_cancel_each_kind(desk, venue)

    run(body(), timeout=240)


def test_a_reduce_only_with_no_position_is_refused_with_the_venues_reason() -> None:
    async def body() -> None:
        async with Desk.sim(list(VENUES), options=True) as desk:
            for venue, (feed, quote, _, reason) in VENUES.items():
                sim, symbol = desk.simulator.cluster.venues[feed], at_the_money_call(quote)  # type: ignore[union-attr]
                trader = await desk.account(venue)
                rules = trader.market(symbol)
                _, ask = touch(sim, symbol)
                with pytest.raises(CrossbookError, match=reason):  # InvalidOrder, or VenueRefused where ccxt has no finer class
                    await trader.place(OrderRequest(venue, symbol, Side.SELL, OrderType.LIMIT, rules.lot, ask, reduce_only=True))
                assert sim.engine.position("main", symbol).size == 0 and not _open(sim)

    run(body(), timeout=240)


def test_an_option_the_venue_does_not_list_sends_nothing() -> None:
    async def body() -> None:
        async with Desk.sim(list(VENUES), options=True) as desk:
            for venue, (feed, quote, _, _) in VENUES.items():
                sim, listed = desk.simulator.cluster.venues[feed], parse_option(at_the_money_call(quote))  # type: ignore[union-attr]
                trader = await desk.account(venue)
                unlisted = option_symbol("BTC", quote, listed.expiry, listed.strike + 1, listed.right)
                with pytest.raises(InvalidOrder, match=f"{unlisted}.*no such market"):
                    await trader.place(OrderRequest(venue, unlisted, Side.BUY, OrderType.LIMIT, D(1), D(1)))
                assert not sim.engine.orders and trader.orders() == []

    run(body(), timeout=240)


def _open(sim: SimVenue) -> list[object]:
    return [o for o in sim.engine.orders.values() if o.status is OrderStatus.OPEN]


def test_order_place_sim_trades_an_option_by_its_standard_symbol() -> None:
    symbol = at_the_money_call("USD")
    result = runner.invoke(app, ["order", "place", "okx", symbol, "buy", "0.02", "--price", "0.0005", "--post-only",
                                 "--sim", "--json"])
    assert result.exit_code == 0, result.output
    view = json.loads(result.stdout)
    assert (view["symbol"], view["status"], view["post_only"], view["contracts"]) == (symbol, "open", True, 2)
    assert view["venue_order_id"] and view["amount"] == 0.02 and view["price"] == 0.0005

    listed = parse_option(symbol)
    unlisted = option_symbol("BTC", "USD", listed.expiry, listed.strike + 1, listed.right)
    result = runner.invoke(app, ["order", "place", "okx", unlisted, "buy", "0.02", "--price", "0.0005", "--sim"])
    assert result.exit_code == 2 and unlisted in result.output, result.output
