"""KuCoin spot trading through an unmodified ccxt client: both order families (high-frequency and
classic), market orders by size and by funds, post-only, IOC, FOK, iceberg and stop orders, the
signed full book and fees, and KuCoin's signing checked against its documented recipe."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
import time
from decimal import Decimal
from typing import Any

import aiohttp
import ccxt
import pytest

from crossbook.sim.access import new_key

from ..conftest import run
from .trading_contract import TradingHarness

FEED = "kucoin"


async def ready(h: TradingHarness, **overrides: Any) -> tuple[Any, str]:
    ex = h.client(**overrides)
    await ex.load_markets()
    return ex, h.ccxt_symbol(ex)


def below_market(h: TradingHarness, ex: Any, symbol: str) -> str:
    bid, _ = h.touch()
    return str(ex.price_to_precision(symbol, float(bid * Decimal("0.99"))))


def test_load_markets_finds_an_hf_account_and_orders_go_through_the_hf_endpoints() -> None:
    async def body() -> None:
        async with TradingHarness(FEED) as h:
            ex, symbol = await ready(h)
            assert ex.options["hf"] is True and ex.options["uta"] is False
            precision = ex.markets[symbol]["precision"]
            assert (precision["amount"], precision["price"]) == (0.00001, 0.01)
            assert ex.currencies["BTC"]["type"] == "crypto"
            order = await ex.create_order(symbol, "limit", "buy", 0.01, below_market(h, ex, symbol), {"clientOid": "kc-rest-1"})
            assert order["clientOrderId"] == "kc-rest-1" and len(order["id"]) == 24
            fetched = await ex.fetch_order(order["id"], symbol)
            assert fetched["status"] == "open" and fetched["info"]["inOrderBook"] is True  # an HF record
            by_client = await ex.fetch_order(None, symbol, {"clientOrderId": "kc-rest-1"})
            assert by_client["id"] == order["id"]
            assert [o["id"] for o in await ex.fetch_open_orders(symbol)] == [order["id"]]
            await ex.cancel_order(None, symbol, {"clientOrderId": "kc-rest-1"})
            closed = await ex.fetch_closed_orders(symbol)
            assert [(o["id"], o["status"]) for o in closed] == [(order["id"], "canceled")]
            assert h.sim.engine.open_orders("main") == []

    run(body())


def test_the_classic_family_when_the_account_is_not_hf() -> None:
    async def body() -> None:
        async with TradingHarness(FEED) as h:
            h.sim.hf_account = False  # type: ignore[attr-defined]
            ex, symbol = await ready(h)
            assert ex.options["hf"] is False
            assert (await ex.fetch_balance())["USDT"]["free"] == 10_000_000  # the "trade" account now
            resting = await ex.create_order(symbol, "limit", "buy", 0.01, below_market(h, ex, symbol))
            fetched = await ex.fetch_order(resting["id"], symbol)
            assert fetched["status"] == "open" and fetched["info"]["isActive"] is True
            assert [o["id"] for o in await ex.fetch_open_orders(symbol)] == [resting["id"]]
            canceled = await ex.cancel_order(resting["id"], symbol)
            assert canceled["id"] == resting["id"]
            assert (await ex.fetch_order(resting["id"], symbol))["status"] == "canceled"
            sold = await ex.create_order(symbol, "market", "sell", 0.02)
            assert (await ex.fetch_order(sold["id"], symbol))["status"] == "closed"
            trades = await ex.fetch_my_trades(symbol)
            assert {t["order"] for t in trades} == {sold["id"]} and sum(t["amount"] for t in trades) == pytest.approx(0.02)
            assert all(t["takerOrMaker"] == "taker" and t["fee"]["rate"] == 0.001 for t in trades)
            with pytest.raises(ccxt.OrderNotFound):
                await ex.cancel_order(resting["id"], symbol)

    run(body())


def test_market_orders_by_size_and_by_funds_fill_as_taker() -> None:
    async def body() -> None:
        async with TradingHarness(FEED) as h:
            ex, symbol = await ready(h)
            h.cluster.pause()  # type: ignore[union-attr]
            by_funds = await ex.create_market_buy_order_with_cost(symbol, 1000)
            order = await ex.fetch_order(by_funds["id"], symbol)
            assert order["status"] == "closed" and order["info"]["funds"] == "1000"
            assert 999 < order["cost"] <= 1000  # whole lots of 0.00001 BTC (about 0.6 USDT) only
            assert order["fee"]["cost"] == pytest.approx(order["filled"] * 0.001)  # a buy pays in the base it receives
            by_size = await ex.create_order(symbol, "market", "sell", 0.03)
            sold = await ex.fetch_order(by_size["id"], symbol)
            assert sold["filled"] == 0.03 and sold["side"] == "sell"
            trades = await ex.fetch_my_trades(symbol, params={"orderId": by_size["id"]})
            assert sum(t["amount"] for t in trades) == pytest.approx(0.03)

    run(body())


def test_post_only_rests_or_is_refused_when_it_would_take() -> None:
    async def body() -> None:
        async with TradingHarness(FEED) as h:
            ex, symbol = await ready(h)
            maker = await ex.create_order(symbol, "limit", "buy", 0.01, below_market(h, ex, symbol), {"postOnly": True})
            assert (await ex.fetch_order(maker["id"], symbol))["postOnly"] is True
            h.cluster.pause()  # type: ignore[union-attr]
            _, ask = h.touch()
            with pytest.raises(ccxt.InvalidOrder):
                await ex.create_order(symbol, "limit", "buy", 0.01, str(ask), {"postOnly": True})
            assert [o["id"] for o in await ex.fetch_open_orders(symbol)] == [maker["id"]]

    run(body())


def test_ioc_and_fok_never_rest() -> None:
    async def body() -> None:
        async with TradingHarness(FEED) as h:
            ex, symbol = await ready(h)
            h.cluster.pause()  # type: ignore[union-attr]
            ladder = h.sim.ladders[h.symbol]
            ask_ticks, ask_lots = ladder.top(False, 1)[0]
            ask, at_ask = ladder.price_str(ask_ticks), Decimal(ladder.size_str(ask_lots))
            ioc = await ex.create_order(symbol, "limit", "buy", 0.01, below_market(h, ex, symbol), {"timeInForce": "IOC"})
            ioc_done = await ex.fetch_order(ioc["id"], symbol)
            assert ioc_done["status"] == "canceled" and ioc_done["filled"] == 0 and ioc_done["timeInForce"] == "IOC"
            too_big = await ex.create_order(symbol, "limit", "buy", str(at_ask + Decimal("0.00001")), ask, {"timeInForce": "FOK"})
            assert (await ex.fetch_order(too_big["id"], symbol))["filled"] == 0
            whole = await ex.create_order(symbol, "limit", "buy", str(at_ask), ask, {"timeInForce": "FOK"})
            filled = await ex.fetch_order(whole["id"], symbol)
            assert filled["status"] == "closed" and filled["filled"] == float(at_ask)
            assert await ex.fetch_open_orders(symbol) == []

    run(body())


def test_an_iceberg_shows_only_its_visible_size() -> None:
    async def body() -> None:
        async with TradingHarness(FEED) as h:
            ex, symbol = await ready(h)
            price = below_market(h, ex, symbol)
            order = await ex.create_order(symbol, "limit", "buy", 0.01, price, {"iceberg": True, "visibleSize": "0.002"})
            info = (await ex.fetch_order(order["id"], symbol))["info"]
            assert info["iceberg"] is True and info["visibleSize"] == "0.002" and info["size"] == "0.01"
            ladder = h.sim.ladders[h.symbol]
            assert ladder.user_bids[round(Decimal(price) / Decimal("0.01"))] == 200  # 0.002 BTC in 0.00001 lots

    run(body())


def test_stop_orders_wait_on_the_stop_endpoints_then_trade() -> None:
    async def body() -> None:
        async with TradingHarness(FEED) as h:
            ex, symbol = await ready(h)
            h.cluster.pause()  # type: ignore[union-attr]
            _, ask = h.touch()
            stop = await ex.create_order(symbol, "market", "buy", 0.01, None, {"triggerPrice": str(ask)})
            waiting = await ex.fetch_order(stop["id"], symbol, {"trigger": True})
            assert waiting["status"] == "open" and waiting["info"]["stop"] == "entry" and waiting["triggerPrice"] == float(ask)
            assert [o["id"] for o in await ex.fetch_open_orders(symbol, params={"trigger": True})] == [stop["id"]]
            with pytest.raises(ccxt.OrderNotFound):
                await ex.fetch_order(stop["id"], symbol)  # untriggered stops are not on the order endpoints
            await ex.create_order(symbol, "market", "buy", 0.001)  # prints at the ask: the stop triggers
            done = await ex.fetch_order(stop["id"], symbol)
            assert done["status"] == "closed" and done["filled"] == 0.01
            assert (await ex.fetch_order(stop["id"], symbol, {"trigger": True}))["info"]["status"] == "TRIGGERED"
            bid, _ = h.touch()
            loss_price = str(ex.price_to_precision(symbol, float(bid * Decimal("0.95"))))
            protect = await ex.create_order(symbol, "limit", "sell", 0.01, loss_price, {"stopLossPrice": loss_price})
            assert h.sim.engine.account("main").locked["BTC"] == Decimal("0.01")
            await ex.cancel_order(protect["id"], symbol, {"trigger": True})
            with pytest.raises(ccxt.OrderNotFound):
                await ex.fetch_order(protect["id"], symbol, {"trigger": True})
            with pytest.raises(ccxt.BadRequest):  # a take-profit sell triggers on a rise: not simulated
                await ex.create_order(symbol, "limit", "sell", 0.01, str(ask), {"takeProfitPrice": str(ask)})

    run(body())


def test_the_signed_full_book_fees_and_held_balance() -> None:
    async def body() -> None:
        async with TradingHarness(FEED) as h:
            ex, symbol = await ready(h)
            h.cluster.pause()  # type: ignore[union-attr]
            ladder = h.sim.ladders[h.symbol]
            full = await ex.fetch_order_book(symbol)  # keyed, no limit: /api/v3/market/orderbook/level2
            assert len(full["bids"]) == len(ladder.bids) and len(full["asks"]) == len(ladder.asks)
            assert len((await ex.fetch_order_book(symbol, 20))["bids"]) == 20  # the public level2_20
            fee = await ex.fetch_trading_fee(symbol)
            assert (fee["maker"], fee["taker"]) == (0.001, 0.001)
            _, ask = h.touch()
            await ex.create_order(symbol, "limit", "sell", 0.5, str(ex.price_to_precision(symbol, float(ask * 2))))
            btc = (await ex.fetch_balance())["BTC"]
            assert (btc["free"], btc["used"], btc["total"]) == (999.5, 0.5, 1000)

    run(body())


def test_refusals_reach_ccxt_as_the_right_errors() -> None:
    async def body() -> None:
        async with TradingHarness(FEED) as h:
            ex, symbol = await ready(h)
            with pytest.raises(ccxt.InsufficientFunds, match="200004"):
                await ex.create_order(symbol, "limit", "buy", 1000, below_market(h, ex, symbol))
            with pytest.raises(ccxt.OrderNotFound):
                await ex.cancel_order("65f0a1b2000000000000abcd", symbol)
            with pytest.raises(ccxt.BadRequest, match="GTT"):
                await ex.create_order(symbol, "limit", "buy", 0.01, below_market(h, ex, symbol), {"timeInForce": "GTT"})
            assert h.sim.engine.open_orders("main") == []

    run(body())


def test_credentials_are_checked_as_kucoin_checks_them() -> None:
    async def body() -> None:
        async with TradingHarness(FEED) as h:
            assert h.key is not None
            wrong_phrase = dataclasses.replace(h.key, passphrase="not-the-passphrase")
            with pytest.raises(ccxt.AuthenticationError, match="400004"):
                await h.client(wrong_phrase).fetch_balance()
            with pytest.raises(ccxt.AuthenticationError, match="400004"):  # the passphrase is checked first
                await h.client(dataclasses.replace(h.key, secret=new_key("x").secret)).fetch_balance()
            with pytest.raises(ccxt.AuthenticationError, match="400003"):
                await h.client(new_key("nobody", passphrase=True)).fetch_balance()
            late = h.client()
            late.milliseconds = lambda: ccxt.Exchange.milliseconds() - 6_000
            with pytest.raises(ccxt.InvalidNonce, match="400002"):
                await late.fetch_balance()
            reader, symbol = await ready(h, **h.sim.ccxt_config(h.sim.issue_key("main", frozenset({"read"}))))
            assert (await reader.fetch_balance())["USDT"]["free"] == 10_000_000
            with pytest.raises(ccxt.AuthenticationError, match="400007"):
                await reader.create_order(symbol, "market", "buy", 0.001)

    run(body())


def documented_headers(api_key: str, secret: str, passphrase: str, method: str, endpoint: str, body: str = "") -> dict[str, str]:
    """KuCoin's own Python recipe ("Signing a Message"), key version 2."""
    now = int(time.time() * 1000)
    str_to_sign = str(now) + method + endpoint + body
    signature = base64.b64encode(hmac.new(secret.encode("utf-8"), str_to_sign.encode("utf-8"), hashlib.sha256).digest())
    phrase = base64.b64encode(hmac.new(secret.encode("utf-8"), passphrase.encode("utf-8"), hashlib.sha256).digest())
    return {"KC-API-SIGN": signature.decode(), "KC-API-TIMESTAMP": str(now), "KC-API-KEY": api_key,
            "KC-API-PASSPHRASE": phrase.decode(), "KC-API-KEY-VERSION": "2", "Content-Type": "application/json"}


def test_the_documented_signing_recipe_is_accepted_and_tampering_is_not() -> None:
    async def body() -> None:
        async with TradingHarness(FEED) as h, aiohttp.ClientSession() as http:
            assert h.key is not None and h.key.passphrase is not None
            creds = (h.key.key, h.key.secret, h.key.passphrase)
            url = h.sim.rest_url
            endpoint = "/api/v1/accounts?currency=USDT"
            async with http.get(url + endpoint, headers=documented_headers(*creds, "GET", endpoint)) as resp:
                answer = await resp.json()
            assert answer["code"] == "200000" and [a["currency"] for a in answer["data"]] == ["USDT"]
            data = json.dumps({"clientOid": "doc-1", "side": "sell", "symbol": "BTC-USDT", "type": "market", "size": "0.001"})
            signed = documented_headers(*creds, "POST", "/api/v1/hf/orders", data)
            async with http.post(url + "/api/v1/hf/orders", data=data, headers=signed) as resp:
                placed = await resp.json()
            assert placed["code"] == "200000" and placed["data"]["clientOid"] == "doc-1"
            unsigned_query = documented_headers(*creds, "GET", "/api/v1/accounts")
            async with http.get(url + endpoint, headers=unsigned_query) as resp:
                assert (resp.status, await resp.json()) == (401, {"code": "400005", "msg": "Invalid KC-API-SIGN"})
            tampered = data.replace("0.001", "0.002")
            signed_over_data = documented_headers(*creds, "POST", "/api/v1/hf/orders", data)
            async with http.post(url + "/api/v1/hf/orders", data=tampered, headers=signed_over_data) as resp:
                assert (await resp.json())["code"] == "400005"
            async with http.get(url + endpoint) as resp:
                assert (resp.status, (await resp.json())["code"]) == (401, "400001")
            assert len(h.sim.engine.account_fills("main")) >= 1

    run(body())


# ---- modify (HF alter) and flex transfers --------------------------------------------------------


def test_edit_order_replaces_the_hf_order_with_a_new_id_that_rests_then_fills() -> None:
    async def body() -> None:
        async with TradingHarness(FEED) as h:
            ex, symbol = await ready(h)
            h.cluster.pause()  # type: ignore[union-attr]
            bid, ask = h.touch()
            first = await ex.create_order(symbol, "limit", "buy", 0.01, float(bid - 100), {"clientOid": "kc-alter-1"})
            edited = await ex.edit_order(first["id"], symbol, "limit", "buy", 0.02, float(bid - 50))
            assert len(edited["id"]) == 24 and edited["id"] != first["id"] and edited["clientOrderId"] == "kc-alter-1"
            assert (await ex.fetch_order(first["id"], symbol))["status"] == "canceled"
            new = await ex.fetch_order(edited["id"], symbol)
            assert (new["status"], new["price"], new["amount"]) == ("open", float(bid - 50), 0.02)
            assert (await ex.fetch_order(None, symbol, {"clientOrderId": "kc-alter-1"}))["id"] == edited["id"]
            assert [o["id"] for o in await ex.fetch_open_orders(symbol)] == [edited["id"]]
            taking = await ex.edit_order(edited["id"], symbol, "limit", "buy", None, float(ask))  # by orderId
            filled = await ex.fetch_order(taking["id"], symbol)
            assert (filled["status"], filled["filled"], filled["price"]) == ("closed", 0.02, float(ask))
            with pytest.raises(ccxt.OrderNotFound):  # a done order cannot be modified
                await ex.edit_order(taking["id"], symbol, "limit", "buy", 0.03, float(bid - 50))

    run(body())


def test_edit_order_to_a_size_no_larger_than_the_filled_part_only_cancels() -> None:
    async def body() -> None:
        async with TradingHarness(FEED) as h:
            ex, symbol = await ready(h)
            h.cluster.pause()  # type: ignore[union-attr]
            bid, _ = h.touch()
            order = await ex.create_order(symbol, "limit", "buy", 0.01, float(bid - 100))
            edited = await ex.edit_order(order["id"], symbol, "limit", "buy", None, None, {"newSize": "0"})
            assert edited["id"] is None and h.sim.engine.open_orders("main") == []
            assert (await ex.fetch_order(order["id"], symbol))["status"] == "canceled"
            other = await ex.create_order(symbol, "limit", "buy", 0.01, float(bid - 100), {"clientOid": "kc-alter-2"})
            with pytest.raises(ccxt.InsufficientFunds):  # 10M USDT cannot buy 1000 BTC: the new order is refused
                await ex.edit_order(other["id"], symbol, "limit", "buy", 1000, float(bid - 100))
            assert (await ex.fetch_order(None, symbol, {"clientOrderId": "kc-alter-2"}))["status"] == "canceled"

    run(body())


def test_transfer_moves_funds_between_the_master_and_a_sub_account() -> None:
    async def body() -> None:
        async with TradingHarness(FEED) as h:
            sim = h.sim
            sim.engine.open_account("sub-1", {}, parent="main")
            uid = sim.user_id("sub-1")  # type: ignore[attr-defined]
            ex, _ = await ready(h)
            sub = h.client(sim.issue_key("sub-1"))
            await sub.load_markets()
            done = await ex.transfer("USDT", 1500, "spot", "spot", {"transferType": "PARENT_TO_SUB", "toUserId": uid})
            assert done["status"] == "ok" and len(done["id"]) == 24
            assert (await sub.fetch_balance())["USDT"]["free"] == 1500
            assert (await ex.fetch_balance())["USDT"]["free"] == 10_000_000 - 1500
            await ex.transfer("USDT", 500, "spot", "spot", {"transferType": "SUB_TO_PARENT", "fromUserId": uid})
            assert (await sub.fetch_balance())["USDT"]["free"] == 1000
            with pytest.raises(ccxt.InsufficientFunds):  # the sub has 1000
                await ex.transfer("USDT", 1001, "spot", "spot", {"transferType": "SUB_TO_PARENT", "fromUserId": uid})
            with pytest.raises(ccxt.BadRequest, match="sub account not exist"):  # not a sub of the sub's own key
                await sub.transfer("USDT", 1, "spot", "spot", {"transferType": "PARENT_TO_SUB", "toUserId": uid})
            assert sim.engine.account("sub-1").balances["USDT"] == 1000
            assert sim.engine.account("main").balances["USDT"] == 10_000_000 - 1000

    run(body())
