"""Kraken spot trading through an unmodified ccxt client: every order type and flag the simulator
serves placed, filled or resting, canceled and fetched; Kraken's auth rule (its documented signature
example, raw requests, the nonce) and its error words."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import aiohttp
import ccxt
import orjson
import pytest

from crossbook.model import OrderStatus
from crossbook.sim.access import ApiKey, new_key
from crossbook.sim.venues.kraken import KrakenSpotSim, api_sign

from ..conftest import run
from .trading_contract import TradingHarness

SYMBOL = "BTC/USD"
LOT = Decimal("0.00001")  # BTC-USD's lot in the simulator


def kraken(h: TradingHarness) -> KrakenSpotSim:
    assert isinstance(h.sim, KrakenSpotSim)
    return h.sim


def client(h: TradingHarness, key: ApiKey | None = None) -> Any:
    """ccxt's Kraken throttles private calls to one per 3 s; the simulator sets no limits."""
    return h.client(key, enableRateLimit=False)


def level(h: TradingHarness, bids: bool, index: int = 0) -> tuple[Decimal, int]:
    """The price and lots of a level of the book (0 = the touch)."""
    ladder = h.sim.ladders[h.symbol]
    ticks, lots = ladder.top(bids, index + 1)[index]
    return Decimal(ladder.price_str(ticks)), lots


def signed(key: ApiKey, path: str, body: bytes, nonce: str) -> dict[str, str]:
    """Kraken's documented recipe, computed here independently of the simulator."""
    message = path.encode() + hashlib.sha256(nonce.encode() + body).digest()
    sign = base64.b64encode(hmac.new(base64.b64decode(key.secret), message, hashlib.sha512).digest()).decode()
    return {"API-Key": key.key, "API-Sign": sign, "Content-Type": "application/x-www-form-urlencoded"}


async def post(h: TradingHarness, path: str, headers: dict[str, str], body: bytes) -> Any:
    async with aiohttp.ClientSession() as session, session.post(h.sim.rest_url + path, headers=headers, data=body) as resp:
        assert resp.status == 200  # Kraken answers refusals with 200 and the error array
        return orjson.loads(await resp.read())


async def private(h: TradingHarness, method: str, params: dict[str, str], key: ApiKey, nonce: int | None = None) -> Any:
    """A signed form request. Its nonce is in nanoseconds, above any a ccxt client (milliseconds)
    sends, so a test that also trades through ccxt gives these requests a key of their own."""
    text = str(nonce if nonce is not None else time.time_ns())
    body = urlencode({"nonce": text, **params}).encode()
    path = f"/0/private/{method}"
    return await post(h, path, signed(key, path, body, text), body)


# ---- signing and the nonce -----------------------------------------------------------------------


def test_api_sign_reproduces_the_documented_example() -> None:
    # docs.kraken.com Spot REST Authentication: buy 1.25 XBTUSD at 37500
    secret = "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="
    body = b"nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25"
    expected = "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ=="
    assert api_sign(secret, "/0/private/AddOrder", "1616492376594", body) == expected


def test_issued_keys_look_like_krakens() -> None:
    async def body() -> None:
        async with TradingHarness("kraken") as h:
            assert h.key is not None
            assert len(h.key.key) == 56 and len(base64.b64decode(h.key.secret, validate=True)) == 64

    run(body())


def test_raw_requests_meet_the_key_signature_and_nonce_rules() -> None:
    async def body() -> None:
        async with TradingHarness("kraken") as h:
            assert h.key is not None
            path = "/0/private/Balance"
            form = b"nonce=1000"
            reply = await post(h, path, signed(h.key, path, form, "1000"), form)
            assert reply["error"] == [] and reply["result"]["ZUSD"] == "10000000.0000"
            assert reply["result"]["XXBT"] == "1000.0000000000"
            # the same nonce again, and a lower one, are refused; a higher one passes
            assert (await post(h, path, signed(h.key, path, form, "1000"), form)) == {"error": ["EAPI:Invalid nonce"]}
            assert (await private(h, "Balance", {}, h.key, 999))["error"] == ["EAPI:Invalid nonce"]
            assert (await private(h, "Balance", {}, h.key, 1001))["error"] == []
            # the signature covers the exact body: the same one over another body is an invalid key
            headers = signed(h.key, path, b"nonce=2000", "2000")
            assert (await post(h, path, headers, b"nonce=2000&asset=XXBT")) == {"error": ["EAPI:Invalid key"]}
            assert (await post(h, path, {**headers, "API-Sign": "not base64!"}, b"nonce=2000")) == {
                "error": ["EAPI:Invalid signature"]}
            stranger = new_key("nobody")
            assert (await private(h, "Balance", {}, stranger))["error"] == ["EAPI:Invalid key"]
            # refused requests used no nonce: 2000 still passes
            assert (await post(h, path, headers, b"nonce=2000"))["error"] == []
            assert (await private(h, "Balance", {}, h.key, 2000))["error"] == ["EAPI:Invalid nonce"]

    run(body())


def test_a_json_body_is_signed_as_sent_and_a_read_only_key_cannot_trade() -> None:
    async def body() -> None:
        async with TradingHarness("kraken") as h:
            assert h.key is not None
            path = "/0/private/OpenOrders"
            payload = orjson.dumps({"nonce": 5, "trades": True})
            headers = {**signed(h.key, path, payload, "5"), "Content-Type": "application/json"}
            assert (await post(h, path, headers, payload)) == {"error": [], "result": {"open": {}}}
            reader = h.sim.issue_key("main", frozenset({"read"}))
            order = {"pair": "XBTUSD", "type": "buy", "ordertype": "market", "volume": "0.001"}
            assert (await private(h, "AddOrder", order, reader))["error"] == ["EGeneral:Permission denied"]
            assert (await private(h, "BalanceEx", {}, reader))["error"] == []
            assert h.sim.engine.fills == []

    run(body())


def test_a_slow_clock_is_an_invalid_nonce_once_the_key_has_been_used() -> None:
    async def body() -> None:
        async with TradingHarness("kraken") as h:
            fresh = h.sim.issue_key("main")
            slow = client(h, fresh)
            slow.milliseconds = lambda: ccxt.Exchange.milliseconds() - 120_000
            # a key's first nonce is never too low: Kraken has no clock window, only the order
            assert (await slow.fetch_balance())["BTC"]["total"] == 1000
            await client(h).fetch_balance()
            late = client(h)
            late.milliseconds = lambda: ccxt.Exchange.milliseconds() - 120_000
            with pytest.raises(ccxt.InvalidNonce, match="EAPI:Invalid nonce"):
                await late.fetch_balance()

    run(body())


# ---- markets and account ---------------------------------------------------------------------------


def test_load_markets_reads_assets_and_asset_pairs_with_krakens_names() -> None:
    async def body() -> None:
        async with TradingHarness("kraken") as h:
            ex = client(h)
            await ex.load_markets()
            sim = kraken(h)
            assert sorted(ex.markets) == ["BTC/USD", "BTC/USDC", "BTC/USDT", "ETH/BTC", "ETH/USD", "ETH/USDT",
                                          "SOL/USDT", "USDT/USD"]
            assert {m["id"] for m in ex.markets.values()} == {sim.pair_id(s) for s in sim.markets}
            btc, eth_btc = ex.market("BTC/USD"), ex.market("ETH/BTC")
            assert (btc["id"], btc["altname"], btc["wsId"]) == ("XXBTZUSD", "XBTUSD", "XBT/USD")
            assert (eth_btc["id"], ex.market("BTC/USDT")["id"]) == ("XETHXXBT", "XBTUSDT")
            assert btc["precision"] == {"amount": 1e-8, "price": 0.01} and btc["limits"]["amount"]["min"] == 1e-5
            assert (btc["maker"], btc["taker"]) == (0.0025, 0.004)
            assert ex.currencies["BTC"]["id"] == "XXBT" and ex.currencies["USD"]["precision"] == 1e-4

    run(body())


def test_order_book_balances_and_fee_tier() -> None:
    async def body() -> None:
        async with TradingHarness("kraken") as h:
            ex, raw = client(h), h.sim.issue_key("main")
            h.cluster.pause()  # type: ignore[union-attr]
            book = await ex.fetch_order_book(SYMBOL, 5)
            bids, asks = h.sim.expected_top(h.symbol, 5)
            assert [tuple(b[:2]) for b in book["bids"]] == bids and [tuple(a[:2]) for a in book["asks"]] == asks
            reply = await private(h, "BalanceEx", {}, raw)
            assert reply["result"]["XXBT"] == {"balance": "1000.0000000000", "credit": "0.0000000000",
                                               "credit_used": "0.0000000000", "hold_trade": "0.0000000000"}
            fee = await ex.fetch_trading_fee(SYMBOL)
            assert (fee["maker"], fee["taker"]) == (0.0025, 0.004)
            assert (await private(h, "TradeVolume", {"pair": "NOPE"}, raw))["error"] == ["EQuery:Unknown asset pair"]

    run(body())


# ---- orders --------------------------------------------------------------------------------------


def test_a_resting_limit_order_is_fetched_with_krakens_fields_then_canceled() -> None:
    async def body() -> None:
        async with TradingHarness("kraken") as h:
            ex, raw = client(h), h.sim.issue_key("main")
            await ex.load_markets()
            h.cluster.pause()  # type: ignore[union-attr]
            bid, _ = level(h, True)
            price = bid - 100
            order = await ex.create_order(SYMBOL, "limit", "buy", 0.02, float(price), {"clientOrderId": "mine-1"})
            assert order["info"]["descr"] == {"order": f"buy 0.02000000 XBTUSD @ limit {price}"}
            assert order["id"][0] == "O" and [len(p) for p in order["id"].split("-")] == [6, 5, 6]
            reply = await private(h, "QueryOrders", {"txid": order["id"], "trades": "true"}, raw)
            info = reply["result"][order["id"]]
            assert info["status"] == "open" and info["cl_ord_id"] == "mine-1" and info["oflags"] == "fciq"
            assert info["descr"]["pair"] == "XBTUSD" and info["descr"]["price"] == str(price)
            assert (info["vol"], info["vol_exec"], info["userref"]) == ("0.02000000", "0.00000000", None)
            assert "trades" not in info and "closetm" not in info
            reserved = float(price) * 0.02
            used = (await ex.fetch_balance())["USD"]["used"]
            assert reserved <= used <= reserved * 1.004 + 1e-4  # with or without the fee (4 decimals shown)
            await ex.cancel_order(order["id"], SYMBOL, {"clientOrderId": "mine-1"})
            closed = await ex.fetch_order(order["id"], SYMBOL)
            assert closed["status"] == "canceled" and closed["info"]["reason"] == "User requested"
            assert [o["id"] for o in await ex.fetch_closed_orders(SYMBOL)] == [order["id"]]
            with pytest.raises(ccxt.OrderNotFound):
                await ex.cancel_order(order["id"], SYMBOL)  # already closed: EOrder:Unknown order
            with pytest.raises(ccxt.OrderNotFound):
                await ex.fetch_order("OAAAAA-BBBBB-CCCCCC", SYMBOL)

    run(body())


def test_a_market_sweep_is_one_consolidated_taker_trade() -> None:
    async def body() -> None:
        async with TradingHarness("kraken") as h:
            ex, raw = client(h), h.sim.issue_key("main")
            await ex.load_markets()
            h.cluster.pause()  # type: ignore[union-attr]
            _, first = level(h, False)
            amount = (first + 1) * LOT  # one lot more than the best ask holds
            order = await ex.create_order(SYMBOL, "market", "buy", float(amount))
            assert order["info"]["descr"]["order"] == f"buy {amount:.8f} XBTUSD @ market"
            fills = [f for f in h.sim.engine.fills if f.taker]
            assert len(fills) == 2
            trades = await ex.fetch_my_trades(SYMBOL)
            assert len(trades) == 1 and trades[0]["order"] == order["id"] and trades[0]["takerOrMaker"] == "taker"
            cost = sum(f.price * f.amount for f in fills)
            assert trades[0]["amount"] == float(amount) and trades[0]["cost"] == pytest.approx(float(cost))
            assert trades[0]["price"] == pytest.approx(float(cost / amount), abs=0.01)
            each = await private(h, "TradesHistory", {"consolidate_taker": "false"}, raw)
            assert each["result"]["count"] == 2 and {t["maker"] for t in each["result"]["trades"].values()} == {False}
            fetched = await ex.fetch_order(order["id"], SYMBOL)
            assert fetched["status"] == "closed" and fetched["filled"] == float(amount)
            assert fetched["trades"][0]["id"] == trades[0]["id"]

    run(body())


def test_post_only_rests_or_is_accepted_and_canceled_at_once() -> None:
    async def body() -> None:
        async with TradingHarness("kraken") as h:
            ex = client(h)
            await ex.load_markets()
            h.cluster.pause()  # type: ignore[union-attr]
            bid, _ = level(h, True)
            _, ask_lots = level(h, False)
            ask, _ = level(h, False)
            resting = await ex.create_order(SYMBOL, "limit", "buy", 0.01, float(bid), {"postOnly": True})
            fetched = await ex.fetch_order(resting["id"], SYMBOL)
            assert fetched["status"] == "open" and fetched["postOnly"] and fetched["info"]["oflags"] == "post,fciq"
            taking = await ex.create_order(SYMBOL, "limit", "buy", 0.01, float(ask), {"postOnly": True})
            killed = await ex.fetch_order(taking["id"], SYMBOL)
            assert killed["status"] == "canceled" and killed["filled"] == 0
            assert killed["info"]["reason"] == "Post only order"
            assert level(h, False) == (ask, ask_lots) and not [f for f in h.sim.engine.fills if f.account == "main"]
            assert [o["id"] for o in await ex.fetch_open_orders(SYMBOL)] == [resting["id"]]

    run(body())


def test_ioc_fills_what_it_can_and_kraken_has_no_fok() -> None:
    async def body() -> None:
        async with TradingHarness("kraken") as h:
            ex = client(h)
            await ex.load_markets()
            h.cluster.pause()  # type: ignore[union-attr]
            ask, lots = level(h, False)
            amount = (lots + 5) * LOT
            order = await ex.create_order(SYMBOL, "limit", "buy", float(amount), float(ask), {"timeInForce": "IOC"})
            fetched = await ex.fetch_order(order["id"], SYMBOL)
            assert fetched["status"] == "canceled" and fetched["filled"] == float(lots * LOT)
            assert fetched["average"] == float(ask) and await ex.fetch_open_orders(SYMBOL) == []
            with pytest.raises(ccxt.ExchangeError, match="EGeneral:Invalid arguments:timeinforce"):
                await ex.create_order(SYMBOL, "limit", "buy", 0.01, float(ask), {"timeInForce": "FOK"})

    run(body())


def test_stop_loss_waits_for_a_trade_through_its_trigger() -> None:
    async def body() -> None:
        async with TradingHarness("kraken") as h:
            ex = client(h)
            await ex.load_markets()
            h.cluster.pause()  # type: ignore[union-attr]
            ask, _ = level(h, False)
            # a sell stop at the ask: the next trade at or below it triggers a market sell
            stop = await ex.create_order(SYMBOL, "market", "sell", 0.01, None, {"stopLossPrice": float(ask)})
            assert stop["info"]["descr"]["order"] == f"sell 0.01000000 XBTUSD @ stop loss {ask}"
            waiting = await ex.fetch_order(stop["id"], SYMBOL)
            assert waiting["status"] == "open" and waiting["info"]["descr"]["ordertype"] == "stop-loss"
            assert waiting["stopLossPrice"] == float(ask) and waiting["type"] == "market"
            bid, _ = level(h, True)
            trigger, limit = bid - 400, bid - 500
            held = await ex.create_order(SYMBOL, "limit", "sell", 0.01, float(limit), {"stopLossPrice": float(trigger)})
            assert held["info"]["descr"]["order"] == f"sell 0.01000000 XBTUSD @ stop loss {trigger} -> limit {limit}"
            info = (await ex.fetch_order(held["id"], SYMBOL))["info"]
            assert (info["descr"]["ordertype"], info["descr"]["price"], info["descr"]["price2"]) == (
                "stop-loss-limit", str(trigger), str(limit))
            order = h.sim.engine.find("main", kraken(h).order_ids[stop["id"]])
            for _ in range(500):
                if order.status.final:
                    break
                h.cluster.tick()  # type: ignore[union-attr]
            assert order.status is OrderStatus.FILLED
            assert (await ex.fetch_order(stop["id"], SYMBOL))["status"] == "closed"
            await ex.cancel_order(held["id"], SYMBOL)

    run(body())


def test_an_iceberg_shows_its_display_volume_only() -> None:
    async def body() -> None:
        async with TradingHarness("kraken") as h:
            ex = client(h)
            await ex.load_markets()
            h.cluster.pause()  # type: ignore[union-attr]
            bid, _ = level(h, True)
            price = bid - Decimal("0.01")
            ladder = h.sim.ladders[h.symbol]
            ticks = int(price / h.sim.engine.markets[h.symbol].tick)
            before = ladder.bids.get(ticks, 0)
            iceberg = {"ordertype": "iceberg", "displayvol": "0.002"}  # ccxt passes Kraken's own parameters on
            order = await ex.create_order(SYMBOL, "limit", "buy", 0.03, float(price), iceberg)
            assert ladder.bids[ticks] - before == 200  # 0.002 BTC in lots of 0.00001
            info = (await ex.fetch_order(order["id"], SYMBOL))["info"]
            assert info["descr"]["ordertype"] == "iceberg" and info["vol"] == "0.03000000"
            with pytest.raises(ccxt.ExchangeError, match="EGeneral:Invalid arguments:displayvol"):
                await ex.create_order(SYMBOL, "limit", "buy", 0.03, float(price), {**iceberg, "displayvol": "0.001"})

    run(body())


def test_validate_userref_and_cancel_all() -> None:
    async def body() -> None:
        async with TradingHarness("kraken") as h:
            assert h.key is not None
            key = h.key
            h.cluster.pause()  # type: ignore[union-attr]
            bid, _ = level(h, True)
            order = {"pair": "XXBTZUSD", "type": "buy", "ordertype": "limit", "volume": "0.01", "price": str(bid - 50)}
            checked = await private(h, "AddOrder", {**order, "validate": "true"}, key)
            assert checked == {"error": [], "result": {"descr": {"order": f"buy 0.01000000 XBTUSD @ limit {bid - 50}"}}}
            assert h.sim.engine.orders == {}
            for _ in range(2):
                assert (await private(h, "AddOrder", {**order, "userref": "42"}, key))["error"] == []
            third = (await private(h, "AddOrder", order, key))["result"]["txid"][0]
            mine = await private(h, "OpenOrders", {"userref": "42"}, key)
            assert len(mine["result"]["open"]) == 2 and {o["userref"] for o in mine["result"]["open"].values()} == {42}
            assert (await private(h, "CancelOrder", {"txid": "42"}, key))["result"] == {"count": 2}
            assert list((await private(h, "OpenOrders", {}, key))["result"]["open"]) == [third]
            assert (await private(h, "CancelAll", {}, key))["result"] == {"count": 1}
            assert (await private(h, "CancelOrder", {"txid": third}, key))["error"] == ["EOrder:Unknown order"]
            closed = await private(h, "ClosedOrders", {}, key)
            assert closed["result"]["count"] == 3

    run(body())


def test_refusals_reach_ccxt_as_its_own_errors() -> None:
    async def body() -> None:
        async with TradingHarness("kraken") as h:
            ex, raw = client(h), h.sim.issue_key("main")
            await ex.load_markets()
            bid, _ = level(h, True)
            with pytest.raises(ccxt.InsufficientFunds, match="EOrder:Insufficient funds"):
                await ex.create_order(SYMBOL, "limit", "buy", 1000, float(bid - 100))  # 60M USD of 10M
            with pytest.raises(ccxt.InvalidOrder, match="EOrder:Order minimum not met"):
                await ex.create_order(SYMBOL, "limit", "buy", 0.000001, float(bid - 100))
            with pytest.raises(ccxt.InvalidOrder, match="EGeneral:Invalid arguments:volume"):
                await ex.create_order(SYMBOL, "limit", "buy", 0.000015, float(bid - 100))  # off the lot grid
            with pytest.raises(ccxt.InvalidOrder, match="viqc"):
                await ex.create_market_buy_order_with_cost(SYMBOL, 100)  # quote-sized: not simulated
            unknown = {"pair": "DOGEUSD", "type": "buy", "ordertype": "market", "volume": "1"}
            assert (await private(h, "AddOrder", unknown, raw))["error"] == ["EQuery:Unknown asset pair"]
            off_grid = {"pair": "XBTUSD", "type": "buy", "ordertype": "limit", "volume": "0.01", "price": "100.001"}
            assert (await private(h, "AddOrder", off_grid, raw))["error"] == ["EGeneral:Invalid arguments:price"]
            assert h.sim.engine.orders == {}

    run(body())


# ---- AmendOrder: edit_order ----------------------------------------------------------------------


def test_edit_order_amends_in_place_and_the_order_fills_at_its_new_price() -> None:
    async def body() -> None:
        async with TradingHarness("kraken") as h:
            ex = client(h)
            await ex.load_markets()
            h.cluster.pause()  # type: ignore[union-attr]
            bid, _ = level(h, True)
            ask, _ = level(h, False)
            order = await ex.create_order(SYMBOL, "limit", "buy", 0.02, float(bid - 100), {"clientOrderId": "amend-1"})
            amended = await ex.edit_order(order["id"], SYMBOL, "limit", "buy", 0.03, float(bid - 50))
            assert amended["info"]["amend_id"][0] == "T"
            fetched = await ex.fetch_order(order["id"], SYMBOL)  # the txid and cl_ord_id stay
            assert (fetched["status"], fetched["price"], fetched["amount"]) == ("open", float(bid - 50), 0.03)
            assert fetched["info"]["cl_ord_id"] == "amend-1"
            ladder = h.sim.ladders[h.symbol]
            ticks = int((bid - 50) / h.sim.engine.markets[h.symbol].tick)
            assert ladder.user_bids == {ticks: 3000}  # rests at its new price only
            used = (await ex.fetch_balance())["USD"]["used"]
            assert float(bid - 50) * 0.03 <= used <= float(bid - 50) * 0.03 * 1.004 + 1e-4
            await ex.edit_order(order["id"], SYMBOL, "limit", "buy", None, float(ask))  # crosses: takes at once
            filled = await ex.fetch_order(order["id"], SYMBOL)
            assert filled["status"] == "closed" and filled["filled"] == 0.03 and filled["price"] == float(ask)
            assert ladder.user_bids == {}
            with pytest.raises(ccxt.InvalidOrder):  # EOrder:Unknown order
                await ex.edit_order(order["id"], SYMBOL, "limit", "buy", 0.01, float(bid))

    run(body())


def test_a_shrink_keeps_queue_priority_a_price_change_loses_it() -> None:
    async def body() -> None:
        async with TradingHarness("kraken") as h:
            ex = client(h)
            await ex.load_markets()
            h.cluster.pause()  # type: ignore[union-attr]
            bid, _ = level(h, True)
            price = float(bid - 10)
            first = await ex.create_order(SYMBOL, "limit", "buy", 0.02, price)
            second = await ex.create_order(SYMBOL, "limit", "buy", 0.02, price)
            engine = kraken(h).engine
            ids = {kraken(h).order_ids[o["id"]]: o["id"] for o in (first, second)}

            def queue() -> list[str]:
                return [ids[i] for q in engine._queues.values() for i in q if i in ids]

            await ex.edit_order(first["id"], SYMBOL, "limit", "buy", 0.01, price)  # shrinks: keeps its place
            assert queue() == [first["id"], second["id"]]
            await ex.edit_order(first["id"], SYMBOL, "limit", "buy", 0.015, price)  # grows: to the back
            assert queue() == [second["id"], first["id"]]
            await ex.edit_order(second["id"], SYMBOL, "limit", "buy", None, price - 10)
            await ex.edit_order(second["id"], SYMBOL, "limit", "buy", None, price)  # priced away and back
            assert queue() == [first["id"], second["id"]]

    run(body())


def test_refused_amends_leave_the_order_as_it_was() -> None:
    async def body() -> None:
        async with TradingHarness("kraken") as h:
            ex = client(h)
            await ex.load_markets()
            h.cluster.pause()  # type: ignore[union-attr]
            bid, _ = level(h, True)
            ask, _ = level(h, False)
            order = await ex.create_order(SYMBOL, "limit", "buy", 0.02, float(bid - 100))
            with pytest.raises(ccxt.InsufficientFunds):  # 10M USD cannot buy 1000 BTC
                await ex.edit_order(order["id"], SYMBOL, "limit", "buy", 1000, float(bid - 100))
            with pytest.raises(ccxt.ExchangeError, match="EOrder:Post only order"):
                await ex.edit_order(order["id"], SYMBOL, "limit", "buy", None, float(ask), {"postOnly": True})
            fetched = await ex.fetch_order(order["id"], SYMBOL)
            assert (fetched["status"], fetched["price"], fetched["amount"]) == ("open", float(bid - 100), 0.02)
            assert not [f for f in h.sim.engine.fills if f.account == "main"]
            reply = await private(h, "AmendOrder", {"txid": order["id"], "order_qty": "0.000001"}, h.sim.issue_key("main"))
            assert reply["error"] == ["EGeneral:Invalid arguments:order_qty"]  # off the lot grid

    run(body())
