"""Binance spot beyond the trading contract, through an unmodified ccxt client: OCO order lists
(``orderList/oco`` and the legacy ``order/oco``), iceberg orders, take-profit orders."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import aiohttp
import ccxt
import pytest

from crossbook.model import OrderType, Side
from crossbook.sim.market import SimTrade

from ..conftest import run
from .trading_contract import TradingHarness

Body = Callable[[TradingHarness, Any, str], Awaitable[None]]
OTHER = "other"  # a second account, the counterparty that trades with ours


def trading(body: Body) -> None:
    """Run ``body`` on a paused book (prices read from it stay valid) with a keyed, loaded ccxt
    client on BTC/USDT and a funded counterparty account."""

    async def main() -> None:
        async with TradingHarness("binance") as h:
            assert h.cluster is not None
            h.cluster.pause()
            h.sim.engine.open_account(OTHER, {"USDT": Decimal(10_000_000), "BTC": Decimal(1_000)})
            ex = h.client()
            await ex.load_markets()
            await body(h, ex, h.ccxt_symbol(ex))

    run(main())


def level(h: TradingHarness, bids: bool, depth: int = 0) -> tuple[Decimal, Decimal]:
    """(price, size) of the ``depth``-th level (0 = the touch) of one side of the book."""
    ladder = h.sim.ladders[h.symbol]
    ticks, lots = ladder.top(bids, depth + 1)[depth]
    return Decimal(ladder.price_str(ticks)), Decimal(ladder.size_str(lots))


def counterparty(h: TradingHarness, side: Side, amount: Decimal) -> None:
    """The other account's market order, taking the book (and our resting orders in it)."""
    h.sim.engine.submit(OTHER, h.symbol, side, OrderType.MARKET, amount)


def prints_at(h: TradingHarness, price: Decimal) -> None:
    """A public trade at ``price``: what fires stop and take-profit triggers."""
    ticks = int(price / h.sim.engine.markets[h.symbol].tick)
    h.sim.engine.on_trades(h.symbol, [SimTrade(ticks, 1, True, 1)])


def px(value: Decimal) -> str:
    return f"{value:f}"


# ---- the signature -------------------------------------------------------------------------------

DOC_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"  # Binance's SIGNED example


def sign(secret: str, payload: str) -> str:
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def test_the_documented_signatures() -> None:
    """Binance's examples: the query string alone, and a query string followed by a body with no
    ``&`` between them."""
    query = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC"
    body = "quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
    assert sign(DOC_SECRET, f"{query}&{body}") == "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
    assert sign(DOC_SECRET, query + body) == "0fd168b8ddb4876a0358a8d14d0c9f3da0e9b20c5d52b2a00fcf7d1c602f9a77"


def test_the_sim_verifies_a_request_split_between_query_and_body() -> None:
    async def body(h: TradingHarness, ex: Any, symbol: str) -> None:
        assert h.key is not None
        key = dataclasses.replace(h.key, secret=DOC_SECRET)
        h.sim.api_keys[key.key] = key
        bid, _ = level(h, True, 3)
        query = "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC"
        form = f"quantity=0.01&price={px(bid)}&recvWindow=5000&timestamp={int(time.time() * 1000)}"
        headers = {"X-MBX-APIKEY": key.key, "Content-Type": "application/x-www-form-urlencoded"}
        async with aiohttp.ClientSession() as session:
            url = f"{h.sim.rest_url}/api/v3/order?{query}"
            async with session.post(url, data=f"{form}&signature={sign(DOC_SECRET, query + form)}", headers=headers) as resp:
                assert resp.status == 200 and (await resp.json())["status"] == "NEW"
            async with session.post(url, data=f"{form}&signature={sign(DOC_SECRET, query + '&' + form)}", headers=headers) as resp:
                assert resp.status == 400 and (await resp.json()) == {"code": -1022, "msg": "Signature for this request is not valid."}

    trading(body)


# ---- OCO --------------------------------------------------------------------------------------


def test_an_oco_sell_rests_both_legs_and_a_limit_fill_cancels_the_stop() -> None:
    async def body(h: TradingHarness, ex: Any, symbol: str) -> None:
        ask, ask_size = level(h, False)
        bid, _ = level(h, True)
        reply = await ex.private_post_orderlist_oco({
            "symbol": "BTCUSDT", "side": "SELL", "quantity": "0.01",
            "aboveType": "LIMIT_MAKER", "abovePrice": px(ask),
            "belowType": "STOP_LOSS_LIMIT", "belowStopPrice": px(bid - 100), "belowPrice": px(bid - 110),
            "belowTimeInForce": "GTC",
        })
        assert reply["contingencyType"] == "OCO" and reply["listStatusType"] == "EXEC_STARTED"
        assert reply["listOrderStatus"] == "EXECUTING" and reply["listClientOrderId"]
        stop_leg, limit_leg = reply["orderReports"]
        assert (stop_leg["type"], limit_leg["type"]) == ("STOP_LOSS_LIMIT", "LIMIT_MAKER")
        assert [o["orderId"] for o in reply["orders"]] == [stop_leg["orderId"], limit_leg["orderId"]]
        assert stop_leg["orderListId"] == limit_leg["orderListId"] == reply["orderListId"]
        assert sorted(o["id"] for o in await ex.fetch_open_orders(symbol)) == sorted(
            [str(stop_leg["orderId"]), str(limit_leg["orderId"])])
        counterparty(h, Side.BUY, ask_size + Decimal("0.01"))  # the makers' lots go first, then our leg
        assert (await ex.fetch_order(str(limit_leg["orderId"]), symbol))["status"] == "closed"
        assert (await ex.fetch_order(str(stop_leg["orderId"]), symbol))["status"] == "canceled"
        listed = await ex.private_get_orderlist({"orderListId": reply["orderListId"]})
        assert listed["listStatusType"] == "ALL_DONE" and "orderReports" not in listed
        trades = await ex.fetch_my_trades(symbol)
        assert [t["order"] for t in trades] == [str(limit_leg["orderId"])] and trades[0]["takerOrMaker"] == "maker"
        assert await ex.fetch_open_orders(symbol) == []
        assert (await ex.fetch_balance())["BTC"]["used"] == 0

    trading(body)


def test_a_legacy_oco_buy_triggers_its_stop_and_cancels_the_limit() -> None:
    async def body(h: TradingHarness, ex: Any, symbol: str) -> None:
        bid, _ = level(h, True)
        ask, _ = level(h, False)
        reply = await ex.private_post_order_oco({
            "symbol": "BTCUSDT", "side": "BUY", "quantity": "0.01", "price": px(bid - 100),
            "stopPrice": px(ask + 100), "stopLimitPrice": px(ask + 200), "stopLimitTimeInForce": "GTC",
        })
        stop_leg, limit_leg = reply["orderReports"]
        assert (stop_leg["type"], limit_leg["type"]) == ("STOP_LOSS_LIMIT", "LIMIT_MAKER")
        assert not stop_leg["isWorking"] and limit_leg["isWorking"]
        prints_at(h, ask + 50)  # below a buy stop: nothing happens
        assert len(await ex.fetch_open_orders(symbol)) == 2
        prints_at(h, ask + 100)
        assert (await ex.fetch_order(str(limit_leg["orderId"]), symbol))["status"] == "canceled"
        stop = await ex.fetch_order(str(stop_leg["orderId"]), symbol)
        assert stop["status"] == "closed" and stop["filled"] == 0.01  # its limit is above the asks
        assert (await ex.private_get_orderlist({"orderListId": reply["orderListId"]}))["listOrderStatus"] == "ALL_DONE"

    trading(body)


def test_canceling_one_leg_or_the_list_cancels_both() -> None:
    async def body(h: TradingHarness, ex: Any, symbol: str) -> None:
        bid, _ = level(h, True)
        ask, _ = level(h, False)
        params = {"symbol": "BTCUSDT", "side": "SELL", "quantity": "0.01", "aboveType": "LIMIT_MAKER",
                  "abovePrice": px(ask + 100), "belowType": "STOP_LOSS", "belowStopPrice": px(bid - 100)}
        first = await ex.private_post_orderlist_oco(params)
        await ex.cancel_order(str(first["orderReports"][1]["orderId"]), symbol)
        assert await ex.fetch_open_orders(symbol) == []
        second = await ex.private_post_orderlist_oco({**params, "listClientOrderId": "my-list"})
        assert [o["listClientOrderId"] for o in await ex.private_get_openorderlist()] == ["my-list"]
        canceled = await ex.private_delete_orderlist({"symbol": "BTCUSDT", "orderListId": second["orderListId"]})
        assert canceled["listStatusType"] == "ALL_DONE"
        assert {r["status"] for r in canceled["orderReports"]} == {"CANCELED"}
        assert await ex.fetch_open_orders(symbol) == [] and await ex.private_get_openorderlist() == []
        with pytest.raises(ccxt.OrderNotFound):
            await ex.private_delete_orderlist({"symbol": "BTCUSDT", "orderListId": second["orderListId"]})
        with pytest.raises(ccxt.OrderNotFound):
            await ex.private_get_orderlist({"orderListId": 987654})
        assert (await ex.fetch_balance())["BTC"]["used"] == 0

    trading(body)


def test_an_oco_with_its_prices_on_the_wrong_sides_is_refused() -> None:
    async def body(h: TradingHarness, ex: Any, symbol: str) -> None:
        bid, _ = level(h, True)
        with pytest.raises(ccxt.InvalidOrder, match="relationship of the prices"):
            await ex.private_post_orderlist_oco({
                "symbol": "BTCUSDT", "side": "SELL", "quantity": "0.01", "aboveType": "LIMIT_MAKER",
                "abovePrice": px(bid - 100), "belowType": "STOP_LOSS", "belowStopPrice": px(bid - 200),
            })
        with pytest.raises(ccxt.BadRequest):
            await ex.private_post_orderlist_oco({
                "symbol": "BTCUSDT", "side": "SELL", "quantity": "0.01", "aboveType": "STOP_LOSS",
                "aboveStopPrice": px(bid + 100), "belowType": "LIMIT_MAKER", "belowPrice": px(bid - 100),
            })
        assert h.sim.engine.open_orders("main") == []

    trading(body)


# ---- iceberg ------------------------------------------------------------------------------------


def test_an_iceberg_shows_one_slice_and_refills_as_it_fills() -> None:
    async def body(h: TradingHarness, ex: Any, symbol: str) -> None:
        bid, bid_size = level(h, True)
        before = dict((await ex.fetch_order_book(symbol, 100))["bids"])
        order = await ex.create_order(symbol, "limit", "buy", 0.05, float(bid), {"icebergQty": 0.01})
        fetched = await ex.fetch_order(order["id"], symbol)
        assert fetched["status"] == "open" and fetched["info"]["icebergQty"] == "0.01000000"
        shown = dict((await ex.fetch_order_book(symbol, 100))["bids"])
        assert shown[float(bid)] == pytest.approx(before[float(bid)] + 0.01)
        counterparty(h, Side.SELL, bid_size + Decimal("0.02"))  # two slices trade
        fetched = await ex.fetch_order(order["id"], symbol)
        assert fetched["status"] == "open" and fetched["filled"] == pytest.approx(0.02)
        assert dict((await ex.fetch_order_book(symbol, 100))["bids"])[float(bid)] == pytest.approx(0.01)
        trades = await ex.fetch_my_trades(symbol)
        assert [t["amount"] for t in trades] == [0.01, 0.01] and {t["takerOrMaker"] for t in trades} == {"maker"}
        await ex.cancel_order(order["id"], symbol)
        assert float(bid) not in dict((await ex.fetch_order_book(symbol, 100))["bids"])

    trading(body)


def test_an_iceberg_slice_not_below_the_amount_is_refused() -> None:
    async def body(h: TradingHarness, ex: Any, symbol: str) -> None:
        bid, _ = level(h, True, 3)
        with pytest.raises(ccxt.BadRequest, match="ICEBERG_PARTS"):  # ccxt's class for -1013
            await ex.create_order(symbol, "limit", "buy", 0.01, float(bid), {"icebergQty": 0.01})

    trading(body)


# ---- take profit ----------------------------------------------------------------------------------


def test_a_take_profit_limit_sell_waits_for_a_rise_then_rests() -> None:
    async def body(h: TradingHarness, ex: Any, symbol: str) -> None:
        ask, _ = level(h, False)
        order = await ex.create_order(symbol, "TAKE_PROFIT_LIMIT", "sell", 0.01, float(ask + 200),
                                      {"stopPrice": float(ask + 100)})
        fetched = await ex.fetch_order(order["id"], symbol)
        assert fetched["info"]["type"] == "TAKE_PROFIT_LIMIT" and fetched["info"]["isWorking"] is False
        assert fetched["triggerPrice"] == float(ask + 100)
        prints_at(h, ask - 500)  # a fall does not fire a sell take-profit
        assert (await ex.fetch_order(order["id"], symbol))["info"]["isWorking"] is False
        prints_at(h, ask + 100)
        fetched = await ex.fetch_order(order["id"], symbol)
        assert fetched["info"]["isWorking"] is True and fetched["status"] == "open" and fetched["filled"] == 0
        await ex.cancel_order(order["id"], symbol)
        assert (await ex.fetch_balance())["BTC"]["used"] == 0

    trading(body)


def test_a_take_profit_market_buy_fires_on_a_fall_and_fills() -> None:
    async def body(h: TradingHarness, ex: Any, symbol: str) -> None:
        bid, _ = level(h, True)
        order = await ex.create_order(symbol, "market", "buy", 0.01, None, {"takeProfitPrice": float(bid - 100)})
        assert order["info"]["type"] == "TAKE_PROFIT"
        prints_at(h, bid + 500)
        assert (await ex.fetch_order(order["id"], symbol))["status"] == "open"
        prints_at(h, bid - 100)
        fetched = await ex.fetch_order(order["id"], symbol)
        assert fetched["status"] == "closed" and fetched["filled"] == 0.01
        assert [t["order"] for t in await ex.fetch_my_trades(symbol)] == [order["id"]]

    trading(body)


def test_the_markets_list_the_order_types() -> None:
    async def body(h: TradingHarness, ex: Any, symbol: str) -> None:
        types = ex.markets[symbol]["info"]["orderTypes"]
        assert {"TAKE_PROFIT", "TAKE_PROFIT_LIMIT", "STOP_LOSS", "LIMIT_MAKER"} <= set(types)
        assert ex.markets[symbol]["info"]["ocoAllowed"] is True

    trading(body)


# ---- USD-M futures ------------------------------------------------------------------------------


def futures(body: Body) -> None:
    """Like ``trading``, on the USD-M BTC/USDT:USDT perpetual (the account holds 10 M USDT)."""

    async def main() -> None:
        async with TradingHarness("binanceusdm") as h:
            assert h.cluster is not None
            h.cluster.pause()
            ex = h.client()
            await ex.load_markets()
            await body(h, ex, h.ccxt_symbol(ex))

    run(main())


def test_futures_markets_and_balance_load_through_ccxt() -> None:
    async def body(h: TradingHarness, ex: Any, symbol: str) -> None:
        market = ex.markets[symbol]
        assert symbol == "BTC/USDT:USDT" and market["swap"] and market["linear"] and market["settle"] == "USDT"
        balance = await ex.fetch_balance()
        assert balance["USDT"]["free"] == 10_000_000 and balance["USDT"]["used"] == 0
        config = await ex.fapiPrivateGetAccountConfig()
        assert config["dualSidePosition"] is False and config["canTrade"] is True

    futures(body)


def test_a_futures_limit_order_rests_and_cancels_and_post_only_never_takes() -> None:
    async def body(h: TradingHarness, ex: Any, symbol: str) -> None:
        bid, _ = level(h, True, 2)
        ask, _ = level(h, False)
        order = await ex.create_order(symbol, "limit", "buy", 0.01, float(bid), {"postOnly": True})
        fetched = await ex.fetch_order(order["id"], symbol)
        assert fetched["status"] == "open" and fetched["info"]["timeInForce"] == "GTX" and fetched["postOnly"]
        assert [o["id"] for o in await ex.fetch_open_orders(symbol)] == [order["id"]]
        assert (await ex.fetch_balance())["USDT"]["used"] == pytest.approx(float(bid) * 0.01)
        await ex.cancel_order(order["id"], symbol)
        assert (await ex.fetch_order(order["id"], symbol))["status"] == "canceled"
        with pytest.raises(ccxt.InvalidOrder, match="-5022"):
            await ex.create_order(symbol, "limit", "buy", 0.01, float(ask), {"postOnly": True})
        with pytest.raises(ccxt.OrderNotFound):
            await ex.fetch_order("987654321", symbol)
        assert (await ex.fetch_balance())["USDT"]["used"] == 0

    futures(body)


def test_one_way_leverage_isolated_margin_and_reduce_only() -> None:
    async def body(h: TradingHarness, ex: Any, symbol: str) -> None:
        assert (await ex.set_leverage(10, symbol))["leverage"] == 10
        await ex.set_margin_mode("isolated", symbol)
        order = await ex.create_order(symbol, "market", "buy", 0.02)
        assert order["status"] == "closed" and order["filled"] == 0.02
        [position] = await ex.fetch_positions([symbol])
        assert position["side"] == "long" and position["contracts"] == 0.02 and not position["hedged"]
        assert position["marginMode"] == "isolated" and position["entryPrice"] == order["average"]
        assert position["initialMargin"] == pytest.approx(order["cost"] / 10)
        assert (await ex.fetch_balance())["USDT"]["used"] == pytest.approx(order["cost"] / 10)
        with pytest.raises(ccxt.OperationRejected, match="-4048"):  # not with a position open
            await ex.set_margin_mode("cross", symbol)
        with pytest.raises(ccxt.ExchangeError, match="-2022"):  # a reduce-only buy would add to the long
            await ex.create_order(symbol, "market", "buy", 0.01, None, {"reduceOnly": True})
        closing = await ex.create_order(symbol, "market", "sell", 0.05, None, {"reduceOnly": True})
        assert closing["filled"] == 0.02 and closing["info"]["reduceOnly"] is True  # capped at the position
        assert await ex.fetch_positions([symbol]) == []
        assert (await ex.fetch_balance())["USDT"]["used"] == 0
        await ex.set_margin_mode("cross", symbol)
        await ex.create_order(symbol, "market", "sell", 0.01)
        [short] = await ex.fetch_positions([symbol])
        assert short["side"] == "short" and short["marginMode"] == "cross" and short["contracts"] == 0.01
        with pytest.raises(ccxt.MarginModeAlreadySet, match="-4046"):
            await ex.set_margin_mode("cross", symbol)

    futures(body)


def test_hedge_mode_keeps_a_long_and_a_short() -> None:
    async def body(h: TradingHarness, ex: Any, symbol: str) -> None:
        await ex.set_position_mode(True)
        assert (await ex.fapiPrivateGetAccountConfig())["dualSidePosition"] is True
        with pytest.raises(ccxt.OperationRejected, match="-4059"):
            await ex.set_position_mode(True)
        with pytest.raises(ccxt.OperationRejected, match="-4061"):  # hedge mode needs LONG or SHORT
            await ex.create_order(symbol, "market", "buy", 0.01)
        with pytest.raises(ccxt.BadRequest, match="-1106"):  # hedge mode takes no reduceOnly
            await ex.create_order(symbol, "market", "sell", 0.01, None, {"positionSide": "LONG", "reduceOnly": True})
        long = await ex.create_order(symbol, "market", "buy", 0.03, None, {"positionSide": "LONG"})
        short = await ex.create_order(symbol, "market", "sell", 0.01, None, {"positionSide": "SHORT"})
        assert long["info"]["positionSide"] == "LONG" and short["info"]["positionSide"] == "SHORT"
        positions = {p["side"]: p for p in await ex.fetch_positions([symbol])}
        assert set(positions) == {"long", "short"} and all(p["hedged"] for p in positions.values())
        assert positions["long"]["contracts"] == 0.03 and positions["short"]["contracts"] == 0.01
        with pytest.raises(ccxt.OperationRejected, match="-4068"):
            await ex.set_position_mode(False)
        await ex.create_order(symbol, "market", "sell", 0.03, None, {"positionSide": "LONG"})  # closes the long
        assert [p["side"] for p in await ex.fetch_positions([symbol])] == ["short"]
        trades = await ex.fetch_my_trades(symbol)
        assert [t["info"]["positionSide"] for t in trades[:1]] == ["LONG"] and len({t["order"] for t in trades}) == 3

    futures(body)


def test_futures_refusals_in_binance_codes() -> None:
    async def body(h: TradingHarness, ex: Any, symbol: str) -> None:
        bid, _ = level(h, True, 2)
        with pytest.raises(ccxt.ExchangeError, match="-2019"):  # ccxt maps it by the production host only
            await ex.create_order(symbol, "limit", "buy", 500, float(bid))
        with pytest.raises(ccxt.BadRequest, match="-4028"):  # ccxt's set_leverage checks 1..125 itself
            await ex.fapiPrivatePostLeverage({"symbol": "BTCUSDT", "leverage": 200})
        assert h.sim.engine.open_orders("main") == []

    futures(body)


# ---- amend (order/cancelReplace) -------------------------------------------------------------------


def test_edit_order_cancel_replaces_with_a_new_id_that_rests_and_fills() -> None:
    async def body(h: TradingHarness, ex: Any, symbol: str) -> None:
        ask, _ = level(h, False, 2)
        order = await ex.create_order(symbol, "limit", "sell", 0.01, float(ask + 100))
        edited = await ex.edit_order(order["id"], symbol, "limit", "sell", 0.02, float(ask))
        assert edited["id"] != order["id"] and edited["status"] == "open"
        assert (await ex.fetch_order(order["id"], symbol))["status"] == "canceled"
        fetched = await ex.fetch_order(edited["id"], symbol)
        assert (fetched["price"], fetched["amount"]) == (float(ask), 0.02)
        assert [o["id"] for o in await ex.fetch_open_orders(symbol)] == [edited["id"]]
        levels = sum(level(h, False, d)[1] for d in range(3))
        counterparty(h, Side.BUY, levels + Decimal("0.02"))
        filled = await ex.fetch_order(edited["id"], symbol)
        assert filled["status"] == "closed" and filled["average"] == float(ask)

    trading(body)


def test_a_cancel_replace_that_cannot_cancel_places_nothing() -> None:
    async def body(h: TradingHarness, ex: Any, symbol: str) -> None:
        bid, _ = level(h, True, 3)
        with pytest.raises(ccxt.ExchangeError, match="-2022"):  # ccxt maps codes by the production host only
            await ex.edit_order("987654321", symbol, "limit", "buy", 0.01, float(bid))
        assert await ex.fetch_open_orders(symbol) == []
        order = await ex.create_order(symbol, "limit", "buy", 0.01, float(bid))
        with pytest.raises(ccxt.ExchangeError, match="-2021"):  # canceled, the new order unfundable
            await ex.edit_order(order["id"], symbol, "limit", "buy", 1_000_000, float(bid))
        assert (await ex.fetch_order(order["id"], symbol))["status"] == "canceled"
        assert await ex.fetch_open_orders(symbol) == []
        assert (await ex.fetch_balance())["USDT"]["used"] == 0

    trading(body)


# ---- sub-account transfers ------------------------------------------------------------------------

SUB = "desk1_virtual@sim.example"


def test_a_universal_transfer_moves_funds_between_master_and_sub_account() -> None:
    async def body(h: TradingHarness, ex: Any, symbol: str) -> None:
        h.sim.engine.open_account(SUB, {"USDT": Decimal(50)}, parent="main")
        reply = await ex.sapiPostSubAccountUniversalTransfer({
            "toEmail": SUB, "fromAccountType": "SPOT", "toAccountType": "SPOT", "asset": "USDT", "amount": "1000",
            "clientTranId": "t-1",
        })
        assert reply["tranId"] and reply["clientTranId"] == "t-1"
        assert h.sim.engine.account(SUB).balances["USDT"] == 1050
        assert (await ex.fetch_balance())["USDT"]["total"] == 10_000_000 - 1000
        with pytest.raises(ccxt.ExchangeError, match="-3041"):  # the sub holds 1050
            await ex.sapiPostSubAccountUniversalTransfer({
                "fromEmail": SUB, "fromAccountType": "SPOT", "toAccountType": "SPOT", "asset": "USDT", "amount": "1050.01"})
        with pytest.raises(ccxt.ExchangeError, match="-12022"):  # not a sub-account of this master
            await ex.sapiPostSubAccountUniversalTransfer({
                "toEmail": OTHER, "fromAccountType": "SPOT", "toAccountType": "SPOT", "asset": "USDT", "amount": "1"})
        sub = h.client(h.sim.issue_key(SUB))
        assert (await sub.sapiPostSubAccountTransferSubToMaster({"asset": "USDT", "amount": "50"}))["txnId"]
        with pytest.raises(ccxt.ExchangeError, match="-2015"):  # the master's call, not a sub's
            await sub.sapiPostSubAccountUniversalTransfer({
                "toEmail": SUB, "fromAccountType": "SPOT", "toAccountType": "SPOT", "asset": "USDT", "amount": "1"})
        assert h.sim.engine.account(SUB).balances["USDT"] == 1000
        history = await ex.sapiGetSubAccountUniversalTransfer({"toEmail": SUB})
        assert history["totalCount"] == 1 and history["result"][0]["amount"] == "1000.00000000"
        assert history["result"][0]["fromEmail"] == "" and history["result"][0]["status"] == "SUCCESS"

    trading(body)
