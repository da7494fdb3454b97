"""OKX spot and SWAP trading through an unmodified ccxt client: every order type the simulator
serves placed, filled or resting, canceled and fetched; the unified account's position mode,
leverage, positions, reduce-only and attached TP/SL; OKX's own auth rule (checked against a
reference signature and with raw requests) and its error codes."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import aiohttp
import ccxt
import orjson
import pytest

from crossbook.model import MarginMode, OrderStatus, PositionSide
from crossbook.sim.access import READ_TRADE, ApiKey
from crossbook.sim.venues.okx import OkxSim, sign

from ..conftest import run
from .trading_contract import TradingHarness

SYMBOL = "BTC/USDT"


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def signed_headers(key: ApiKey, method: str, target: str, body: str = "", *, stamp: str | None = None) -> dict[str, str]:
    """OKX's documented recipe, computed here independently of the simulator."""
    stamp = stamp or iso(datetime.now(UTC))
    digest = hmac.new(key.secret.encode(), (stamp + method + target + body).encode(), hashlib.sha256).digest()
    assert key.passphrase is not None
    return {
        "OK-ACCESS-KEY": key.key,
        "OK-ACCESS-SIGN": base64.b64encode(digest).decode(),
        "OK-ACCESS-TIMESTAMP": stamp,
        "OK-ACCESS-PASSPHRASE": key.passphrase,
        "Content-Type": "application/json",
    }


async def raw(h: TradingHarness, method: str, target: str, headers: dict[str, str], body: str = "") -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, h.sim.rest_url + target, headers=headers, data=body or None) as resp,
    ):
        return resp.status, orjson.loads(await resp.read())


def okx(h: TradingHarness) -> OkxSim:
    assert isinstance(h.sim, OkxSim)
    return h.sim


def level(h: TradingHarness, bids: bool, index: int = 0) -> tuple[Decimal, int]:
    """The price and market-maker lots of a level of the book (0 = the touch)."""
    ladder = h.sim.ladders[h.symbol]
    ticks, lots = ladder.top(bids, index + 1)[index]
    return Decimal(ladder.price_str(ticks)), lots


LOT = Decimal("0.00001")  # BTC-USDT's lot in the simulator


# ---- signing ---------------------------------------------------------------------------------


def test_sign_reproduces_the_reference_vector_for_the_docs_example() -> None:
    # OKX's docs example secret and timestamp; the signature was computed with OpenSSL
    prehash = (
        b'2020-12-08T09:08:57.715ZPOST/api/v5/trade/order'
        b'{"instId":"BTC-USDT","tdMode":"cash","clOrdId":"b15","side":"buy","ordType":"limit","px":"2.15","sz":"2"}'
    )
    assert sign("22582BD0CFF14C41EDBF1AB98506286D", prehash) == "dI6rrL9rXW/HdaPKJ/6LC1OgvH4/PYju6R3CqixMTNQ="


def test_a_get_signs_its_query_and_a_post_its_exact_body() -> None:
    async def body() -> None:
        async with TradingHarness("okx") as h:
            assert h.key is not None
            target = "/api/v5/account/balance?ccy=BTC"  # the docs' own example request
            status, reply = await raw(h, "GET", target, signed_headers(h.key, "GET", target))
            assert status == 200 and reply["code"] == "0"
            assert [d["ccy"] for d in reply["data"][0]["details"]] == ["BTC"]
            # the query is part of what is signed
            status, reply = await raw(h, "GET", target, signed_headers(h.key, "GET", "/api/v5/account/balance"))
            assert (status, reply) == (401, {"msg": "Invalid Sign", "code": "50113"})
            order = orjson.dumps({"instId": "BTC-USDT", "tdMode": "cash", "side": "buy", "ordType": "limit",
                                  "px": "1000", "sz": "0.001", "clOrdId": "b15"}).decode()
            path = "/api/v5/trade/order"
            status, reply = await raw(h, "POST", path, signed_headers(h.key, "POST", path, order), order)
            assert status == 200 and reply["code"] == "0" and reply["data"][0]["sCode"] == "0"
            assert reply["data"][0]["clOrdId"] == "b15" and reply["data"][0]["ordId"]
            # the same body re-serialized (a space after each colon) no longer matches its signature
            status, reply = await raw(h, "POST", path, signed_headers(h.key, "POST", path, order), order.replace(":", ": "))
            assert reply["code"] == "50113"

    run(body())


def test_missing_headers_bad_timestamps_and_a_read_only_key_get_okx_codes() -> None:
    async def body() -> None:
        async with TradingHarness("okx") as h:
            assert h.key is not None
            path = "/api/v5/account/balance"
            good = signed_headers(h.key, "GET", path)
            for header, code in (("OK-ACCESS-KEY", "50103"), ("OK-ACCESS-PASSPHRASE", "50104"),
                                 ("OK-ACCESS-SIGN", "50106"), ("OK-ACCESS-TIMESTAMP", "50107")):
                _, reply = await raw(h, "GET", path, {k: v for k, v in good.items() if k != header})
                assert reply["code"] == code
            _, reply = await raw(h, "GET", path, signed_headers(h.key, "GET", path, stamp="1700000000"))
            assert reply == {"msg": "Invalid OK-ACCESS-TIMESTAMP", "code": "50112"}
            early = iso(datetime.now(UTC) + timedelta(seconds=45))
            _, reply = await raw(h, "GET", path, signed_headers(h.key, "GET", path, stamp=early))
            assert reply == {"msg": "Timestamp request expired", "code": "50102"}
            reader = h.sim.issue_key("main", frozenset({"read"}))
            order = '{"instId":"BTC-USDT","tdMode":"cash","side":"buy","ordType":"market","sz":"10"}'
            place = "/api/v5/trade/batch-orders"
            status, reply = await raw(h, "POST", place, signed_headers(reader, "POST", place, f"[{order}]"), f"[{order}]")
            assert status == 401 and reply["code"] == "50120"
            assert h.sim.engine.open_orders("main") == [] and h.sim.engine.fills == []

    run(body())


def test_a_wrong_passphrase_is_an_authentication_error() -> None:
    async def body() -> None:
        async with TradingHarness("okx") as h:
            assert h.key is not None and h.key.permissions >= READ_TRADE
            ex = h.client(dataclasses.replace(h.key, passphrase="not-the-passphrase"))
            with pytest.raises(ccxt.AuthenticationError, match="50105"):
                await ex.fetch_balance()
            with pytest.raises(ccxt.AuthenticationError, match="password"):
                await h.client(password=None).fetch_balance()  # ccxt itself insists on one

    run(body())


# ---- markets and account ---------------------------------------------------------------------


def test_keyed_load_markets_reads_the_signed_currency_list_and_spot_instruments() -> None:
    async def body() -> None:
        async with TradingHarness("okx") as h:
            ex = h.client()
            await ex.load_markets()
            assert sorted(ex.markets) == ["BTC/USDC", "BTC/USDT", "ETH/BTC", "ETH/USDT", "SOL/USDT", "USDC/USDT"]
            market = ex.markets[SYMBOL]
            assert market["spot"] and market["active"] and market["precision"] == {"amount": 0.00001, "price": 0.01}
            assert {"BTC", "ETH", "SOL", "USDT", "USDC"} <= set(ex.currencies)  # ccxt adds fiat codes of its own
            assert ex.currencies["USDT"]["networks"]["TRC20"]["id"] == "USDT-TRC20"
            assert ex.currencies["BTC"]["name"] == "Bitcoin"
            fee = await ex.fetch_trading_fee(SYMBOL)
            assert (fee["maker"], fee["taker"]) == (0.0008, 0.001)

    run(body())


# ---- orders ----------------------------------------------------------------------------------


def test_a_client_order_id_places_fetches_and_cancels() -> None:
    async def body() -> None:
        async with TradingHarness("okx") as h:
            ex = h.client()
            await ex.load_markets()
            bid, _ = h.touch()
            price = ex.price_to_precision(SYMBOL, float(bid * Decimal("0.98")))
            placed = await ex.create_order(SYMBOL, "limit", "buy", 0.002, price, {"clientOrderId": "mine42"})
            assert placed["clientOrderId"] == "mine42" and placed["info"]["sCode"] == "0"
            fetched = await ex.fetch_order(None, SYMBOL, {"clientOrderId": "mine42"})
            assert fetched["id"] == placed["id"] and fetched["status"] == "open"
            assert fetched["info"]["ordType"] == "limit" and fetched["info"]["tdMode"] == "cash"
            await ex.cancel_order(None, SYMBOL, {"clientOrderId": "mine42"})
            canceled = await ex.fetch_order(placed["id"], SYMBOL)
            assert canceled["status"] == "canceled" and canceled["info"]["cancelSource"] == "1"
            assert [o["id"] for o in await ex.fetch_canceled_orders(SYMBOL)] == [placed["id"]]
            with pytest.raises(ccxt.OrderNotFound):
                await ex.cancel_order(placed["id"], SYMBOL)

    run(body())


def test_post_only_rests_and_one_that_would_take_is_accepted_then_canceled() -> None:
    async def body() -> None:
        async with TradingHarness("okx") as h:
            ex = h.client()
            await ex.load_markets()
            assert h.cluster is not None
            h.cluster.pause()
            bid, ask = h.touch()
            resting = await ex.create_order(SYMBOL, "limit", "buy", 0.001, str(bid), {"postOnly": True})
            fetched = await ex.fetch_order(resting["id"], SYMBOL)
            assert fetched["status"] == "open" and fetched["postOnly"] and fetched["info"]["ordType"] == "post_only"
            taking = await ex.create_order(SYMBOL, "limit", "buy", 0.001, str(ask), {"postOnly": True})
            assert taking["info"]["sCode"] == "0"  # OKX takes the order ...
            killed = await ex.fetch_order(taking["id"], SYMBOL)
            assert killed["status"] == "canceled" and killed["filled"] == 0  # ... and cancels it at once
            assert killed["info"]["cancelSource"] == "31"
            assert [o["id"] for o in await ex.fetch_open_orders(SYMBOL)] == [resting["id"]]
            assert await ex.fetch_my_trades(SYMBOL) == []

    run(body())


def test_ioc_fills_the_touch_and_cancels_the_rest() -> None:
    async def body() -> None:
        async with TradingHarness("okx") as h:
            ex = h.client()
            await ex.load_markets()
            assert h.cluster is not None
            h.cluster.pause()
            ask, lots = level(h, bids=False)
            amount = (lots + 7) * LOT
            order = await ex.create_order(SYMBOL, "limit", "buy", float(amount), str(ask), {"timeInForce": "IOC"})
            order = await ex.fetch_order(order["id"], SYMBOL)
            assert order["timeInForce"] == "IOC" and order["status"] == "canceled"
            assert Decimal(str(order["filled"])) == lots * LOT and order["average"] == float(ask)
            assert order["info"]["cancelSource"] == "14"
            trades = await ex.fetch_my_trades(SYMBOL)
            assert {t["takerOrMaker"] for t in trades} == {"taker"} and {t["order"] for t in trades} == {order["id"]}

    run(body())


def test_fok_fills_whole_or_not_at_all() -> None:
    async def body() -> None:
        async with TradingHarness("okx") as h:
            ex = h.client()
            await ex.load_markets()
            assert h.cluster is not None
            h.cluster.pause()
            ask, lots = level(h, bids=False)
            too_much = await ex.create_order(SYMBOL, "limit", "buy", float((lots + 1) * LOT), str(ask), {"timeInForce": "FOK"})
            too_much = await ex.fetch_order(too_much["id"], SYMBOL)
            assert too_much["status"] == "canceled" and too_much["filled"] == 0
            assert too_much["info"]["cancelSource"] == "13"
            enough = await ex.create_order(SYMBOL, "limit", "buy", float(lots * LOT), str(ask), {"timeInForce": "FOK"})
            enough = await ex.fetch_order(enough["id"], SYMBOL)
            assert enough["status"] == "closed" and Decimal(str(enough["filled"])) == lots * LOT
            assert [o["id"] for o in await ex.fetch_closed_orders(SYMBOL)] == [enough["id"]]

    run(body())


def test_market_orders_sized_in_base_or_in_quote() -> None:
    async def body() -> None:
        async with TradingHarness("okx") as h:
            ex = h.client()
            await ex.load_markets()
            sold = await ex.fetch_order((await ex.create_order(SYMBOL, "market", "sell", 0.02))["id"], SYMBOL)
            assert sold["status"] == "closed" and sold["filled"] == 0.02 and sold["info"]["tgtCcy"] == "base_ccy"
            bought = await ex.create_market_buy_order_with_cost(SYMBOL, 500)
            bought = await ex.fetch_order(bought["id"], SYMBOL)
            assert bought["info"]["tgtCcy"] == "quote_ccy" and bought["info"]["sz"] == "500"
            assert bought["status"] == "closed" and 0 < bought["filled"] * bought["average"] <= 500
            trades = [t for t in await ex.fetch_my_trades(SYMBOL) if t["order"] == bought["id"]]
            assert sum(t["cost"] for t in trades) == pytest.approx(bought["filled"] * bought["average"])
            assert sum(t["cost"] for t in trades) > 500 - float(level(h, bids=False)[0]) * float(LOT) * 2

    run(body())


def test_a_resting_order_fills_as_maker_with_the_maker_fee() -> None:
    async def body() -> None:
        async with TradingHarness("okx") as h:
            ex = h.client()
            await ex.load_markets()
            assert h.cluster is not None
            h.cluster.pause()
            bid, lots = level(h, bids=True)
            mine = await ex.create_order(SYMBOL, "limit", "buy", 0.003, str(bid), {"postOnly": True})
            h.sim.engine.open_account("other", {"BTC": Decimal(10)})
            other = h.sim.issue_key("other")
            await h.client(other).create_order(SYMBOL, "limit", "sell", float(lots * LOT + Decimal("0.003")), str(bid))
            order = await ex.fetch_order(mine["id"], SYMBOL)
            assert order["status"] == "closed" and order["filled"] == 0.003
            (trade,) = await ex.fetch_my_trades(SYMBOL)
            assert trade["takerOrMaker"] == "maker" and trade["price"] == float(bid)
            assert trade["fee"]["cost"] == pytest.approx(trade["amount"] * 0.0008)  # a buy pays in the base it receives
            assert trade["fee"]["currency"] == "BTC" and trade["info"]["execType"] == "M"

    run(body())


def test_a_batch_reports_each_order_and_one_failure_does_not_sink_the_rest() -> None:
    async def body() -> None:
        async with TradingHarness("okx") as h:
            ex = h.client()
            await ex.load_markets()
            bid, _ = h.touch()
            price = ex.price_to_precision(SYMBOL, float(bid * Decimal("0.97")))
            good = {"symbol": SYMBOL, "type": "limit", "side": "buy", "amount": 0.001, "price": price}
            broke = {"symbol": SYMBOL, "type": "limit", "side": "sell", "amount": 5_000, "price": price}
            placed, refused = await ex.create_orders([good, broke])
            assert placed["id"] and placed["status"] is None  # OKX's place answer carries no state
            assert refused["status"] == "rejected" and refused["info"]["sCode"] == "51008"
            assert refused["info"]["sMsg"] == "Order failed. Insufficient BTC balance in account."
            assert [o["id"] for o in await ex.fetch_open_orders(SYMBOL)] == [placed["id"]]

    run(body())


@pytest.mark.parametrize(
    ("fields", "error", "code"),
    [
        ({"sz": "0.000015"}, ccxt.InvalidOrder, "51121"),  # off the lot grid
        ({"px": "1000.005"}, ccxt.BadRequest, "51000"),  # off the tick grid
        ({"px": ""}, ccxt.BadRequest, "50014"),
        ({"tdMode": "cross"}, ccxt.BadRequest, "51000"),
        ({"ordType": "optimal_limit_ioc"}, ccxt.BadRequest, "51000"),
        ({"instId": "BTC-EUR"}, ccxt.BadSymbol, "51001"),
        ({"instId": "BTC-USDT-SWAP"}, ccxt.BadRequest, "51000"),  # tdMode cash on a SWAP
        ({"clOrdId": "not-alphanumeric"}, ccxt.BadRequest, "51000"),
    ],
)
def test_bad_orders_are_refused_with_okx_codes(fields: dict[str, str], error: type[Exception], code: str) -> None:
    async def body() -> None:
        async with TradingHarness("okx") as h:
            ex = h.client()
            order = {"instId": "BTC-USDT", "tdMode": "cash", "side": "buy", "ordType": "limit", "px": "1000", "sz": "0.001"}
            with pytest.raises(error, match=f'"sCode":"{code}"'):
                await ex.private_post_trade_order({**order, **fields})
            assert h.sim.engine.open_orders("main") == []

    run(body())


def test_duplicate_client_ids_and_unknown_orders() -> None:
    async def body() -> None:
        async with TradingHarness("okx") as h:
            ex = h.client()
            await ex.load_markets()
            bid, _ = h.touch()
            price = ex.price_to_precision(SYMBOL, float(bid * Decimal("0.97")))
            await ex.create_order(SYMBOL, "limit", "buy", 0.001, price, {"clientOrderId": "twice"})
            with pytest.raises(ccxt.InvalidOrder, match="51016"):
                await ex.create_order(SYMBOL, "limit", "buy", 0.001, price, {"clientOrderId": "twice"})
            with pytest.raises(ccxt.OrderNotFound, match="51603"):
                await ex.fetch_order("123456789", SYMBOL)
            with pytest.raises(ccxt.OrderNotFound, match="51400"):
                await ex.cancel_order("123456789", SYMBOL)
            with pytest.raises(ccxt.BadRequest, match="51003"):
                await ex.private_get_trade_order({"instId": "BTC-USDT"})

    run(body())


# ---- SWAP: the unified account -------------------------------------------------------------------

PERP = "BTC/USDT:USDT"
SWAPS = {"fetchMarkets": {"types": ["spot", "swap"]}}


def swap_client(h: TradingHarness, key: ApiKey | None = None) -> Any:
    return h.client(key, options=SWAPS)


def perp_level(h: TradingHarness, bids: bool, index: int) -> tuple[Decimal, int]:
    ladder = h.sim.ladders["BTC-USDT-PERP"]
    ticks, lots = ladder.top(bids, index + 1)[index]
    return Decimal(ladder.price_str(ticks)), lots


def test_swap_markets_are_in_contracts_of_ct_val() -> None:
    async def body() -> None:
        async with TradingHarness("okx") as h:
            ex = swap_client(h)
            await ex.load_markets()
            market = ex.markets[PERP]
            assert market["swap"] and market["linear"] and market["settle"] == "USDT" and market["id"] == "BTC-USDT-SWAP"
            assert market["contractSize"] == 0.01 and market["precision"]["amount"] == 0.1  # one ladder lot, 0.001 BTC
            assert ex.markets["BTC/USD:BTC"]["inverse"] and ex.markets["BTC/USD:BTC"]["contractSize"] == 100

    run(body())


def test_the_unified_account_position_mode_and_leverage() -> None:
    async def body() -> None:
        async with TradingHarness("okx") as h:
            ex = swap_client(h)
            await ex.load_markets()
            (account,) = await ex.fetch_accounts()
            assert account["info"]["acctLv"] == "2"  # single-currency margin
            assert (await ex.fetch_position_mode())["hedged"] is False
            await ex.set_position_mode(True)
            mode = await ex.fetch_position_mode()
            assert mode["hedged"] is True and mode["info"]["posMode"] == "long_short_mode"
            reply = await ex.set_leverage(20, PERP, {"marginMode": "isolated", "posSide": "long"})
            assert reply["data"] == [{"lever": "20", "mgnMode": "isolated", "instId": "BTC-USDT-SWAP", "posSide": "long"}]
            state = h.sim.engine.account("main")
            assert state.leverages["BTC-USDT-PERP"] == 20 and state.margin_modes["BTC-USDT-PERP"] is MarginMode.ISOLATED
            with pytest.raises(ccxt.BadSymbol, match="51001"):
                await ex.set_leverage(5, "BTC/USDT", {"marginMode": "cross"})
            await ex.create_order(PERP, "market", "buy", 1, None, {"hedged": True, "marginMode": "isolated"})
            with pytest.raises(ccxt.ExchangeError, match="59000"):  # not with a position open
                await ex.set_position_mode(False)

    run(body())


def test_a_net_mode_position_opens_in_contracts_and_reduce_only_closes_it() -> None:
    async def body() -> None:
        async with TradingHarness("okx") as h:
            ex = swap_client(h)
            await ex.load_markets()
            assert h.cluster is not None
            h.cluster.pause()
            await ex.set_leverage(5, PERP, {"marginMode": "cross"})
            opened = await ex.fetch_order((await ex.create_order(PERP, "market", "sell", 2.5))["id"], PERP)
            assert opened["status"] == "closed" and opened["filled"] == 2.5 and opened["info"]["tdMode"] == "cross"
            assert opened["info"]["posSide"] == "net" and opened["info"]["sz"] == "2.5"
            assert h.sim.engine.position("main", "BTC-USDT-PERP").size == Decimal("-0.025")  # 2.5 x ctVal 0.01 BTC
            (position,) = await ex.fetch_positions([PERP])
            assert position["side"] == "short" and position["contracts"] == 2.5 and position["leverage"] == 5
            assert position["info"]["pos"] == "-2.5" and position["marginMode"] == "cross"
            half_lot = {"instId": "BTC-USDT-SWAP", "tdMode": "cross", "side": "buy", "ordType": "market", "sz": "0.05"}
            with pytest.raises(ccxt.InvalidOrder, match="51121"):  # ccxt would round it: sent raw
                await ex.private_post_trade_order(half_lot)
            with pytest.raises(ccxt.ExchangeError, match="51169"):  # a reduce-only sell would add to the short
                await ex.create_order(PERP, "market", "sell", 1, None, {"reduceOnly": True})
            closing = await ex.create_order(PERP, "market", "buy", 4, None, {"reduceOnly": True})
            closing = await ex.fetch_order(closing["id"], PERP)
            assert closing["reduceOnly"] and closing["filled"] == 2.5  # capped at the position
            assert await ex.fetch_positions([PERP]) == []
            trades = await ex.fetch_my_trades(PERP)
            assert [t["amount"] for t in trades] == [2.5, 2.5] and {t["fee"]["currency"] for t in trades} == {"USDT"}

    run(body())


def test_hedge_mode_needs_a_position_side_and_keeps_long_and_short_apart() -> None:
    async def body() -> None:
        async with TradingHarness("okx") as h:
            ex = swap_client(h)
            await ex.load_markets()
            assert h.cluster is not None
            h.cluster.pause()
            await ex.set_position_mode(True)
            with pytest.raises(ccxt.BadRequest, match="51000"):
                await ex.create_order(PERP, "market", "buy", 1)  # no posSide in long_short_mode
            await ex.create_order(PERP, "market", "buy", 1, None, {"hedged": True})
            await ex.create_order(PERP, "market", "sell", 0.3, None, {"hedged": True})
            sides = {p["side"]: p["contracts"] for p in await ex.fetch_positions([PERP])}
            assert sides == {"long": 1.0, "short": 0.3}
            bid, _ = perp_level(h, bids=True, index=5)
            resting = await ex.create_order(PERP, "limit", "buy", 0.7, str(bid), {"positionSide": "long"})
            assert [o["id"] for o in await ex.fetch_open_orders(PERP)] == [resting["id"]]
            await ex.cancel_order(resting["id"], PERP)
            assert (await ex.fetch_order(resting["id"], PERP))["status"] == "canceled"

    run(body())


def test_okx_unified_account_with_tp_sl() -> None:
    """An entry with an attached TP and SL; a trade through the TP fires it, which cancels the SL
    and closes the position."""

    async def body() -> None:
        async with TradingHarness("okx") as h:
            ex = swap_client(h)
            await ex.load_markets()
            assert h.cluster is not None
            h.cluster.pause()
            await ex.set_position_mode(True)
            await ex.set_leverage(10, PERP, {"marginMode": "cross"})
            tp, _ = perp_level(h, bids=False, index=6)  # above what the 1-contract entry sweeps
            sl, _ = perp_level(h, bids=True, index=30)
            entry = await ex.create_order(PERP, "market", "buy", 1, None, {
                "hedged": True, "takeProfit": {"triggerPrice": float(tp)}, "stopLoss": {"triggerPrice": float(sl)},
            })
            entry = await ex.fetch_order(entry["id"], PERP)
            assert entry["status"] == "closed" and entry["info"]["posSide"] == "long"
            assert (entry["takeProfitPrice"], entry["stopLossPrice"]) == (float(tp), float(sl))
            (algo,) = entry["info"]["attachAlgoOrds"]
            assert (algo["tpOrdPx"], algo["slOrdPx"]) == ("-1", "-1")
            (position,) = await ex.fetch_positions([PERP])
            assert position["side"] == "long" and position["contracts"] == 1
            tp_child, sl_child = (o for o in h.sim.engine.orders.values() if o.parent == entry["id"])
            assert tp_child.waiting and sl_child.waiting and tp_child.position_side is PositionSide.LONG
            assert [o["id"] for o in await ex.fetch_open_orders(PERP)] == []  # TP/SL are algo orders ...
            (armed,) = await ex.fetch_open_orders(PERP, None, None, {"ordType": "oco"})  # ... one OCO
            assert armed["status"] == "open" and armed["side"] == "sell" and armed["amount"] == 1
            assert (armed["takeProfitPrice"], armed["stopLossPrice"]) == (float(tp), float(sl))

            # another account lifts the asks up to the TP price: a trade prints there
            h.sim.engine.open_account("other", {"USDT": Decimal(1_000_000)})
            other = swap_client(h, h.sim.issue_key("other"))
            await other.load_markets()
            ladder = h.sim.ladders["BTC-USDT-PERP"]
            through = sum(lots for _, lots in ladder.top(False, 7)) / 10  # ladder lots to contracts
            await other.create_order(PERP, "limit", "buy", through, str(tp), {"timeInForce": "IOC"})

            assert tp_child.status is OrderStatus.FILLED and sl_child.status is OrderStatus.CANCELED
            assert await ex.fetch_positions([PERP]) == []
            closing = await ex.fetch_order(tp_child.order_id, PERP)
            assert closing["side"] == "sell" and closing["reduceOnly"] and closing["filled"] == 1
            assert closing["info"]["posSide"] == "long" and closing["type"] == "market"
            assert [t["side"] for t in await ex.fetch_my_trades(PERP)] == ["buy", "sell"]
            assert [o["id"] for o in await ex.fetch_open_orders(PERP)] == []
            assert await ex.fetch_open_orders(PERP, None, None, {"ordType": "oco"}) == []
            # without trigger=True ccxt would ask orders-algo-history for state=filled, not effective
            (fired,) = await ex.fetch_closed_orders(PERP, None, None, {"ordType": "oco", "trigger": True})
            assert fired["id"] == armed["id"] and fired["info"]["state"] == "effective"
            assert fired["info"]["actualSide"] == "tp" and fired["info"]["ordId"] == tp_child.order_id
            assert sl_child.order_id not in [o["id"] for o in await ex.fetch_canceled_orders(PERP)]
            with pytest.raises(ccxt.OrderNotFound):
                await ex.fetch_order(sl_child.order_id, PERP)

    run(body())


def test_attached_tp_sl_execute_at_market_only() -> None:
    async def body() -> None:
        async with TradingHarness("okx") as h:
            ex = swap_client(h)
            await ex.load_markets()
            with pytest.raises(ccxt.BadRequest, match="51000"):
                await ex.create_order(PERP, "market", "buy", 1, None, {"takeProfit": {"triggerPrice": 90000, "price": 90000}})
            assert h.sim.engine.open_orders("main") == []

    run(body())
