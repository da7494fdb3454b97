"""An option's price carries the venue's premium currency, and its wallet reads as ``options``:
OKX quotes BTC-USD options in BTC (ccxt's ``settle``), Binance in USDT, Bybit in USDC; an order
placed through the trading layer says so (``OrderView.price_currency``, the CLI's text and
``--json``), and ``desk.balances`` names each options account's wallet ``options``."""

from __future__ import annotations

import json
import re
from decimal import Decimal as D

from typer.testing import CliRunner

from crossbook import Desk
from crossbook.cli import app
from crossbook.model import OrderRequest, OrderStatus, OrderType, Side

from ..conftest import run
from .test_desk_option_orders import VENUES, at_the_money_call, touch

runner = CliRunner()


def test_order_place_prints_an_okx_option_price_in_btc() -> None:
    symbol = at_the_money_call("USD")
    result = runner.invoke(app, ["order", "place", "okx", symbol, "buy", "0.02", "--price", "0.0005", "--post-only", "--sim"])
    assert result.exit_code == 0, result.output
    line = " ".join(result.stdout.split())
    assert re.search(rf"{re.escape(symbol)} limit @ 0\.0005 BTC", line), line
    assert not re.search(r"\d USD\b", line), f"an OKX option's price is not in USD: {line}"

    result = runner.invoke(app, ["order", "place", "okx", symbol, "buy", "0.02", "--price", "0.0005", "--post-only",
                                 "--sim", "--json"])
    assert result.exit_code == 0, result.output
    view = json.loads(result.stdout)
    assert (view["price"], view["price_currency"], view["status"]) == (0.0005, "BTC", "open")


def test_option_orders_carry_the_premium_currency_and_wallets_read_options() -> None:
    async def body() -> None:
        async with Desk.sim(list(VENUES), options=True) as desk:
            for venue, (feed, quote, settle, _) in VENUES.items():
                sim, symbol = desk.simulator.cluster.venues[feed], at_the_money_call(quote)  # type: ignore[union-attr]
                trader = await desk.account(venue)
                rules = trader.market(symbol)
                assert rules.price_currency == settle, (venue, rules)
                bid, _ = touch(sim, symbol)
                view = await trader.place(OrderRequest(venue, symbol, Side.BUY, OrderType.LIMIT, rules.lot, bid - 4 * rules.tick))
                assert view.status is OrderStatus.OPEN and view.price_currency == settle, view
                assert view.to_json()["price_currency"] == settle
                perp = (await desk.account(venue)).market("BTC-USDT-PERP") if venue != "okx" else None
                assert perp is None or perp.price_currency == "USDT"  # a perpetual's price stays in its quote

            balances = await desk.balances(list(VENUES), value_in=None)
            wallets = {(r.venue, r.wallet) for r in balances.rows}
            for venue in VENUES:
                assert (venue, "options") in wallets, f"{venue}: no options wallet in {sorted(wallets)}"
            assert all(r.wallet != "derivatives" for r in balances.rows), sorted(wallets)
            paid = [r for r in balances.rows if r.wallet == "options" and r.used > D(0)]
            assert paid, "the resting option bids lock premium in the options wallets"

    run(body(), timeout=240)
