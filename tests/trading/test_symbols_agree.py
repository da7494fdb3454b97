"""One standard symbol per instrument: the trading layer names every perpetual as the feeds (and so
quote, route and arb) do. dYdX's USD-quoted perpetual, settled in USDC, is BTC-USD-PERP in both,
though ccxt calls it BTC/USDC:USDC."""

from __future__ import annotations

from decimal import Decimal as D

from crossbook import Desk
from crossbook.model import OrderRequest, OrderStatus, OrderType, Side
from crossbook.symbols import requoted

from ..conftest import run

EXPECTED = {  # venue -> BTC perpetuals the trading layer must name so
    "binance": {"BTC-USDT-PERP", "BTC-USD-PERP"},  # USD-M linear, COIN-M inverse
    "okx": {"BTC-USDT-PERP"},
    "bybit": {"BTC-USDT-PERP"},
    "gate": {"BTC-USDT-PERP"},
    "dydx": {"BTC-USD-PERP"},
}


def test_requoted_names_the_quote_currency() -> None:
    assert requoted("BTC-USDC-PERP", "USD") == "BTC-USD-PERP"
    assert requoted("ETH-USDC-20261225", "USD") == "ETH-USD-20261225"


def test_every_perpetual_the_traders_list_is_the_feeds_symbol() -> None:
    async def body() -> None:
        async with Desk.sim(list(EXPECTED)) as desk:
            for venue, expected in EXPECTED.items():
                trader = await desk.account(venue)
                perps = {s for a in trader.accounts for s, r in a.rules.items() if r.derivative and s.endswith("-PERP")}
                assert expected <= perps, (venue, perps)
                assert perps <= desk.market.listed(venue), (venue, perps - desk.market.listed(venue))
            dydx = (await desk.account("dydx")).market("BTC-USD-PERP")
            assert (dydx.quote, dydx.settle, dydx.ccxt_symbol) == ("USD", "USDC", "BTC/USDC:USDC")

    run(body(), timeout=120)


def test_a_dydx_order_and_position_under_the_feeds_symbol() -> None:
    async def body() -> None:
        async with Desk.sim(["dydx"], symbols=["BTC-USD-PERP"]) as desk:
            quote = await desk.best_price("BTC-USD-PERP", "buy", 0.01)
            assert quote.best is not None and quote.best.venue == "dydx"
            trader = await desk.account("dydx")
            opened = await trader.place(OrderRequest("dydx", "BTC-USD-PERP", Side.BUY, OrderType.MARKET, D("0.01")))
            assert opened.status is OrderStatus.FILLED and opened.symbol == "BTC-USD-PERP"
            assert [f.fill.symbol for f in trader.fills()] and {f.fill.symbol for f in trader.fills()} == {"BTC-USD-PERP"}
            (position,) = await trader.positions()
            assert position.symbol == "BTC-USD-PERP" and position.size == D("0.01")

    run(body(), timeout=90)
