"""A trader reads amounts in base units: an order, its fills and the position on a contract market
show the base amount asked, filled and held, at the lot's precision, with the venue's contract
count beside it (OKX's BTC-USDT-SWAP contract is 0.01 BTC)."""

from __future__ import annotations

from decimal import Decimal as D

from crossbook import Desk
from crossbook.model import OrderRequest, OrderStatus, OrderType, Side

from ..conftest import run


def test_okx_perpetual_order_fills_and_position_read_in_base_units() -> None:
    async def body() -> None:
        async with Desk.sim(["okx"], symbols=["BTC-USDT-PERP"]) as desk:
            trader = await desk.account("okx")
            rules = trader.market("BTC-USDT-PERP")
            assert rules.contract_size == D("0.01")
            contracts = trader.amount_in_base("BTC-USDT-PERP", D("0.02"))
            assert contracts == 2
            opened = await trader.place(OrderRequest("okx", "BTC-USDT-PERP", Side.BUY, OrderType.MARKET, contracts))
            assert opened.status is OrderStatus.FILLED
            assert (opened.amount, opened.filled, opened.contracts, opened.filled_contracts) == (D("0.02"), D("0.02"), 2, 2)
            shown = opened.to_json()
            assert (shown["amount"], shown["filled"], shown["remaining"], shown["contracts"]) == (0.02, 0.02, 0.0, 2.0)

            fills = trader.fills("BTC-USDT-PERP")
            assert fills and sum(f.amount for f in fills) == D("0.02")
            assert sum(f.to_json()["contracts"] for f in fills) == 2.0
            assert round(sum(f.to_json()["amount"] for f in fills), 8) == 0.02

            (position,) = await trader.positions(["BTC-USDT-PERP"])
            assert (position.contracts, position.size) == (2, D("0.02"))
            assert position.to_json()["size"] == 0.02 and position.to_json()["contracts"] == 2.0

            bid = (await desk.book("okx", "BTC-USDT-PERP")).best_bid()
            assert bid is not None
            price = (D(repr(bid[0])) * D("0.9")).quantize(rules.tick)
            resting = await trader.place(OrderRequest("okx", "BTC-USDT-PERP", Side.BUY, OrderType.LIMIT, D(1), price))
            assert (resting.amount, resting.contracts) == (D("0.01"), 1)
            amended = await trader.amend(resting.client_order_id, amount=D("0.03"))
            assert (amended.amount, amended.contracts) == (D("0.03"), 3)
            venue_side = await trader.account_for("BTC-USDT-PERP").client.fetch_order(amended.venue_order_id, rules.ccxt_symbol)
            assert venue_side["amount"] == 3  # the venue counts contracts

    run(body(), timeout=90)


def test_spot_orders_carry_no_contract_count() -> None:
    async def body() -> None:
        async with Desk.sim(["binance"], symbols=["BTC-USDT"]) as desk:
            trader = await desk.account("binance")
            bought = await trader.place(OrderRequest("binance", "BTC-USDT", Side.BUY, OrderType.MARKET, D("0.01")))
            assert bought.amount == D("0.01") and bought.contracts is None
            assert "contracts" not in bought.to_json() and bought.to_json()["amount"] == 0.01

    run(body(), timeout=90)
