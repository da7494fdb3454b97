"""Trader on the simulated venues: orders, OCO lists, transfers and account settings reach the
venue as asked, and what a venue (or crossbook there) cannot do is refused before sending."""

from __future__ import annotations

from decimal import Decimal

import pytest

from crossbook.desk import Desk
from crossbook.errors import InvalidOrder, UnsupportedFeature
from crossbook.model import OrderRequest, OrderStatus, OrderType, Side, TimeInForce
from crossbook.trading.trader import Trader

from ..conftest import run

D = Decimal


async def touch(trader: Trader, side: Side) -> Decimal:
    book = await trader.account.client.fetch_order_book(trader.market("BTC-USDT").ccxt_symbol, 5)
    return D(str(book["bids" if side is Side.BUY else "asks"][0][0]))


def limit(venue: str, price: Decimal, amount: str = "0.01", side: Side = Side.BUY) -> OrderRequest:
    return OrderRequest(venue, "BTC-USDT", side, OrderType.LIMIT, D(amount), price=price)


def test_place_amend_show_cancel_reach_the_venue() -> None:
    async def body() -> None:
        async with Desk.sim(["binance"], symbols=["BTC-USDT"]) as desk:
            trader = await desk.account("binance")
            price = (await touch(trader, Side.BUY)) - 100
            placed = await trader.place(limit("binance", price))
            assert placed.status is OrderStatus.OPEN and placed.to_json()["price"] == float(price)
            remote = await trader.account.client.fetch_order(placed.venue_order_id, "BTC/USDT")
            assert remote["status"] == "open" and remote["price"] == float(price) and remote["amount"] == 0.01
            amended = await trader.amend(placed.client_order_id, price=price - 5)
            assert amended.price == price - 5 and (await trader.order(amended.venue_order_id or "")).status is OrderStatus.OPEN
            assert [v.client_order_id for v in await trader.open_orders()] == [placed.client_order_id]
            canceled = await trader.cancel(placed.client_order_id)
            assert canceled.status is OrderStatus.CANCELED and await trader.open_orders() == []
            assert [v.status for v in trader.orders()] == [OrderStatus.CANCELED]

    run(body())


def test_refusals_name_the_venue_and_send_nothing() -> None:
    async def body() -> None:
        async with Desk.sim(["binance", "kraken"], symbols=["BTC-USDT"]) as desk:
            binance, kraken = await desk.account("binance"), await desk.account("kraken")
            engine = desk.simulator.trading_sim("binance").engine  # type: ignore[union-attr]
            with pytest.raises(InvalidOrder, match=r"^binance: price 50000\.001 is off the BTC-USDT tick 0\.01$"):
                await binance.place(limit("binance", D("50000.001")))
            with pytest.raises(UnsupportedFeature, match=r"^kraken does not offer fill-or-kill"):
                await kraken.place(OrderRequest("kraken", "BTC-USDT", Side.BUY, OrderType.LIMIT, D("0.01"), price=D(50000),
                                                time_in_force=TimeInForce.FOK))
            with pytest.raises(InvalidOrder, match=r"^binance: BTC-USDT is spot; leverage is set on derivatives$"):
                await binance.set_leverage("BTC-USDT", 5)
            with pytest.raises(InvalidOrder, match="binance has no such market"):
                await binance.place(OrderRequest("binance", "BTC-EUR", Side.BUY, OrderType.LIMIT, D(1), price=D(1)))
            with pytest.raises(InvalidOrder, match=r"^kraken: an OCO's legs have one amount, not 0\.01 and 0\.02$"):
                await kraken.oco_pair(limit("kraken", D(50000)), limit("kraken", D(70000), "0.02", Side.SELL))
            with pytest.raises(UnsupportedFeature, match=r"^kraken offers sub-accounts, but crossbook does not transfer"):
                await kraken.transfer("USDT", D(1), "main", "sub1")
            assert engine.open_orders("main") == [] and binance.orders() == [] and kraken.orders() == []
            assert await binance.positions() == []

    run(body())


def test_an_oco_rests_both_legs_and_the_list_is_journaled() -> None:
    async def body() -> None:
        async with Desk.sim(["binance"], symbols=["BTC-USDT"]) as desk:
            trader = await desk.account("binance")
            bid = await touch(trader, Side.BUY)
            pair = await trader.oco("BTC-USDT", Side.SELL, D("0.01"), price=bid + 300, stop_price=bid - 300,
                                    stop_limit=bid - 310)
            open_ids = {o["id"] for o in await trader.account.client.fetch_open_orders("BTC/USDT")}
            assert open_ids == {leg.venue_order_id for leg in pair.legs}
            assert [leg.type for leg in pair.legs] == [OrderType.LIMIT, OrderType.STOP_LIMIT]
            await trader.cancel(pair.legs[0].client_order_id)  # one leg canceled: the venue cancels the list
            assert await trader.account.client.fetch_open_orders("BTC/USDT") == []
            with pytest.raises(InvalidOrder, match=r"^binance: an OCO sell takes profit above its stop"):
                await trader.oco("BTC-USDT", Side.SELL, D("0.01"), price=bid - 300, stop_price=bid + 300)

    run(body())


def test_transfers_move_funds_to_a_sub_account_and_back() -> None:
    async def body() -> None:
        async with Desk.sim(["binance", "okx"], symbols=["BTC-USDT"]) as desk:
            for venue in ("binance", "okx"):
                engine = desk.simulator.trading_sim(venue).engine  # type: ignore[union-attr]
                engine.open_account("desk1", {}, parent="main")
                trader = await desk.account(venue)
                before = engine.account("main").balances["USDT"]
                moved = await trader.transfer("usdt", D("250"), "main", "desk1")
                assert moved.to_json()["amount"] == 250.0 and moved.transfer_id
                assert engine.account("desk1").balances["USDT"] == 250
                await trader.transfer("USDT", D("50"), "desk1", "main")
                assert engine.account("main").balances["USDT"] == before - 200
                with pytest.raises(InvalidOrder, match=f"^{venue}: transfer amount -1 must be a positive number$"):
                    await trader.transfer("USDT", D(-1), "main", "desk1")
            okx = desk.simulator.trading_sim("okx").engine  # type: ignore[union-attr]
            okx.open_account("desk2", {}, parent="main")
            with pytest.raises(InvalidOrder, match=r"^okx: a transfer goes between the master account and a sub-account"):
                await (await desk.account("okx")).transfer("USDT", D(1), "desk1", "desk2")  # OKX's hook refuses
            assert (okx.account("desk1").balances["USDT"], okx.account("desk2").balances.get("USDT", 0)) == (200, 0)

    run(body())


def test_a_notional_buys_whole_lots_at_its_price() -> None:
    async def body() -> None:
        async with Desk.sim(["binance"], symbols=["BTC-USDT"]) as desk:
            trader = await desk.account("binance")
            assert trader.amount_for_notional("BTC-USDT", D(1000), D(60000)) == D("0.01666")
            with pytest.raises(InvalidOrder, match="buys less than one lot"):
                trader.amount_for_notional("BTC-USDT", D("0.1"), D(60000))

    run(body())
