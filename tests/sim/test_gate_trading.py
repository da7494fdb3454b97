"""Gate v4 spot trading through an unmodified ccxt client: the documented signature, the account
probe, limit orders with every time-in-force, iceberg, market buys in quote and sells in base,
price-triggered orders, and Gate's error labels on the wire."""

from __future__ import annotations

import dataclasses
import time
from decimal import Decimal
from typing import Any

import aiohttp
import ccxt
import orjson
import pytest

from crossbook.sim.access import new_key
from crossbook.sim.venues.gate import gate_signature

from ..conftest import run, wait_for
from .trading_contract import TradingHarness


def test_signature_matches_the_documented_examples() -> None:
    """The two worked examples of Gate's APIv4 docs (key ``key``, secret ``secret``)."""
    assert gate_signature(
        "secret", "GET", "/api/v4/futures/orders", "contract=BTC_USD&status=finished&limit=50", b"", "1541993715"
    ) == (
        "55f84ea195d6fe57ce62464daaa7c3c02fa9d1dde954e4c898289c9a2407a3d6"
        "fb3faf24deff16790d726b66ac9f74526668b13bd01029199cc4fcc522418b8a"
    )
    body = b'{"contract":"BTC_USD","type":"limit","size":100,"price":6800,"time_in_force":"gtc"}'
    assert gate_signature("secret", "POST", "/api/v4/futures/orders", "", body, "1541993715") == (
        "eae42da914a590ddf727473aff25fc87d50b64783941061f47a3fdb92742541f"
        "c4c2c14017581b4199a1418d54471c269c03a38d788d802e2c306c37636389f0"
    )


async def raw_call(
    h: TradingHarness, method: str, path: str, query: str = "", body: dict[str, Any] | None = None, **headers: str
) -> tuple[int, Any]:
    """One request signed by hand, to check the wire where ccxt would round or refuse first."""
    assert h.key is not None
    payload = orjson.dumps(body) if body is not None else b""
    stamp = str(int(time.time()))
    signed = {
        "KEY": h.key.key,
        "Timestamp": stamp,
        "SIGN": gate_signature(h.key.secret, method, path, query, payload, stamp),
        "Content-Type": "application/json",
    }
    signed.update(headers)
    url = f"{h.sim.rest_url}{path}" + (f"?{query}" if query else "")
    async with aiohttp.ClientSession() as session, session.request(method, url, data=payload, headers=signed) as resp:
        return resp.status, await resp.json()


def test_load_markets_probes_a_classic_account_and_reads_fees() -> None:
    async def body() -> None:
        async with TradingHarness("gate") as h:
            ex = h.client()
            await ex.load_markets()
            assert ex.options["unifiedAccount"] is False  # /account/detail answered key mode 1
            assert {m["id"] for m in ex.markets.values()} == {h.sim.native(s) for s in h.sim.markets}
            market = ex.markets["BTC/USDT"]
            assert market["limits"]["cost"]["min"] == 3 and market["margin"] is False
            assert market["precision"]["price"] == 0.01 and market["precision"]["amount"] == 0.00001
            assert market["taker"] == float(h.sim.engine.taker_fee)
            assert {"BTC", "USDT", "ETH", "SOL", "USDC"} <= set(ex.currencies)
            fees = await ex.fetch_trading_fees()
            assert fees["BTC/USDT"]["maker"] == float(h.sim.engine.maker_fee)
            assert fees["ETH/BTC"]["taker"] == float(h.sim.engine.taker_fee)

    run(body())


def test_limit_orders_rest_fetch_by_text_cancel_and_show_iceberg() -> None:
    async def body() -> None:
        async with TradingHarness("gate") as h:
            ex = h.client()
            await ex.load_markets()
            bid, _ = h.touch()
            price = ex.price_to_precision("BTC/USDT", float(bid * Decimal("0.98")))
            order = await ex.create_order("BTC/USDT", "limit", "buy", 0.02, price, {"clientOrderId": "grid-1"})
            assert order["clientOrderId"] == "t-grid-1" and order["status"] == "open"
            assert order["timeInForce"] == "GTC" and order["remaining"] == 0.02
            by_text = await ex.fetch_order("ignored", "BTC/USDT", {"clientOrderId": "grid-1"})
            assert by_text["id"] == order["id"]
            hidden = await ex.create_order("BTC/USDT", "limit", "buy", 0.05, price, {"iceberg": "0.01"})
            assert hidden["info"]["iceberg"] == "0.01"
            ticks = int(Decimal(price) / Decimal("0.01"))
            assert h.sim.ladders["BTC-USDT"].user_bids[ticks] == 2_000 + 1_000  # 0.02 shown + the 0.01 slice
            assert {o["id"] for o in await ex.fetch_open_orders("BTC/USDT")} == {order["id"], hidden["id"]}
            canceled = await ex.cancel_order(order["id"], "BTC/USDT")
            assert canceled["status"] == "canceled"
            with pytest.raises(ccxt.InvalidOrder, match="ORDER_CANCELLED"):
                await ex.cancel_order(order["id"], "BTC/USDT")
            await ex.cancel_order(hidden["id"], "BTC/USDT")
            closed = await ex.fetch_closed_orders("BTC/USDT")
            assert {o["id"] for o in closed} == {order["id"], hidden["id"]}
            assert (await ex.fetch_balance())["USDT"]["used"] == 0

    run(body())


def test_time_in_force_ioc_fok_and_post_only() -> None:
    async def body() -> None:
        async with TradingHarness("gate") as h:
            h.cluster.pause()  # type: ignore[union-attr]
            ex = h.client()
            await ex.load_markets()
            bid, ask = h.touch()
            away = ex.price_to_precision("BTC/USDT", float(bid * Decimal("0.99")))
            ioc = await ex.create_order("BTC/USDT", "limit", "buy", 0.01, away, {"timeInForce": "IOC"})
            assert ioc["info"]["finish_as"] == "ioc" and ioc["status"] == "canceled" and ioc["filled"] == 0
            fok = await ex.create_order("BTC/USDT", "limit", "buy", 0.01, away, {"timeInForce": "FOK"})
            assert fok["info"]["finish_as"] == "fok" and fok["info"]["left"] == "0.01"
            through = ex.price_to_precision("BTC/USDT", float(ask * Decimal("1.01")))
            taking = await ex.create_order("BTC/USDT", "limit", "buy", 0.01, through, {"timeInForce": "FOK"})
            assert taking["status"] == "closed" and taking["filled"] == 0.01
            with pytest.raises(ccxt.OrderImmediatelyFillable, match="POC_FILL_IMMEDIATELY"):
                await ex.create_order("BTC/USDT", "limit", "buy", 0.01, str(ask), {"postOnly": True})
            maker = await ex.create_order("BTC/USDT", "limit", "buy", 0.01, away, {"postOnly": True})
            assert maker["postOnly"] is True and maker["timeInForce"] == "PO" and maker["status"] == "open"
            assert [o["id"] for o in await ex.fetch_open_orders("BTC/USDT")] == [maker["id"]]

    run(body())


def test_market_buy_spends_quote_and_market_sell_sells_base() -> None:
    async def body() -> None:
        async with TradingHarness("gate") as h:
            h.cluster.pause()  # type: ignore[union-attr]
            ex = h.client()
            await ex.load_markets()
            before = await ex.fetch_balance()
            _, ask = h.touch()
            # ccxt's default: amount and price give the quote to spend, sent as the order's amount
            buy = await ex.create_order("BTC/USDT", "market", "buy", 0.001, float(ask))
            quote = ex.cost_to_precision("BTC/USDT", 0.001 * float(ask))  # truncated to the price tick
            assert buy["info"]["amount"] == quote and buy["cost"] == float(quote)
            assert buy["info"]["time_in_force"] == "ioc" and buy["info"]["finish_as"] == "filled"
            spent = Decimal(buy["info"]["filled_total"])
            assert Decimal(buy["info"]["left"]) == Decimal(quote) - spent < ask * Decimal("0.00001")  # under a lot
            assert buy["filled"] == pytest.approx(float(spent / ask)) and 0.00098 <= buy["filled"] <= 0.001
            spend = await ex.create_market_buy_order_with_cost("BTC/USDT", 100)
            assert spend["info"]["amount"] == "100" and 0 <= float(spend["info"]["left"]) < float(ask) * 0.00001
            sell = await ex.create_order("BTC/USDT", "market", "sell", 0.05)
            sell = await ex.fetch_order(sell["id"], "BTC/USDT")
            assert sell["status"] == "closed" and sell["filled"] == 0.05 and sell["amount"] == 0.05
            trades = await ex.fetch_my_trades("BTC/USDT")
            assert {t["order"] for t in trades} == {buy["id"], spend["id"], sell["id"]}
            assert all(t["takerOrMaker"] == "taker" for t in trades)
            buys = [t for t in trades if t["side"] == "buy"]
            sells = [t for t in trades if t["side"] == "sell"]
            rate = float(h.sim.engine.taker_fee)
            for t in buys:  # as on Gate, a buy pays its fee in the base it receives
                assert t["fee"]["currency"] == "BTC" and t["fee"]["cost"] == pytest.approx(t["amount"] * rate)
            for t in sells:
                assert t["fee"]["currency"] == "USDT" and t["fee"]["cost"] == pytest.approx(t["cost"] * rate)
            after = await ex.fetch_balance()
            got = sum(t["amount"] - t["fee"]["cost"] for t in buys)
            assert after["BTC"]["total"] == pytest.approx(before["BTC"]["total"] + got - 0.05)
            flow = sum(t["cost"] - t["fee"]["cost"] for t in sells) - sum(t["cost"] for t in buys)
            assert after["USDT"]["total"] == pytest.approx(before["USDT"]["total"] + flow)
            only_sell = await ex.fetch_order_trades(sell["id"], "BTC/USDT")
            assert sum(t["amount"] for t in only_sell) == pytest.approx(0.05)

    run(body())


def test_price_triggered_order_waits_fires_and_cancels() -> None:
    async def body() -> None:
        async with TradingHarness("gate") as h:
            ex = h.client()
            await ex.load_markets()
            bid, ask = h.touch()
            high = ex.price_to_precision("BTC/USDT", float(ask * Decimal("1.5")))
            low = ex.price_to_precision("BTC/USDT", float(bid * Decimal("0.5")))
            stop = await ex.create_order("BTC/USDT", "limit", "buy", 0.01, high, {"triggerPrice": high})
            dip = await ex.create_order("BTC/USDT", "limit", "buy", 0.01, low, {"takeProfitPrice": low})
            listed = {o["id"]: o for o in await ex.fetch_open_orders("BTC/USDT", params={"trigger": True})}
            assert set(listed) == {stop["id"], dip["id"]} and listed[stop["id"]]["triggerPrice"] == float(high)
            assert listed[stop["id"]]["info"]["trigger"]["rule"] == ">=" and listed[dip["id"]]["info"]["trigger"]["rule"] == "<="
            assert await ex.fetch_open_orders("BTC/USDT") == []  # not spot orders until they fire
            for waiting in (stop, dip):
                canceled = await ex.cancel_order(waiting["id"], "BTC/USDT", {"trigger": True})
                assert canceled["status"] == "canceled"
            # a sell stop above the market fires on the next trade and sells through the bid
            above = ex.price_to_precision("BTC/USDT", float(ask * Decimal("1.01")))
            through = ex.price_to_precision("BTC/USDT", float(bid * Decimal("0.98")))
            sell = await ex.create_order("BTC/USDT", "limit", "sell", 0.01, through, {"triggerPrice": above})
            engine = h.sim.engine
            await wait_for(lambda: engine.orders[sell["id"]].status.final, 10, "the stop to fire and fill")
            fired = await ex.fetch_order(sell["id"], "BTC/USDT", {"trigger": True})
            assert fired["status"] == "closed" and fired["info"]["fired_order_id"] == int(sell["id"])
            placed = await ex.fetch_order(str(fired["info"]["fired_order_id"]), "BTC/USDT")
            assert placed["status"] == "closed" and placed["filled"] == 0.01 and placed["side"] == "sell"
            finished = await ex.fetch_closed_orders("BTC/USDT", params={"trigger": True})
            assert {o["id"] for o in finished} == {stop["id"], dip["id"], sell["id"]}

    run(body())


def test_authentication_errors_in_gates_labels() -> None:
    async def body() -> None:
        async with TradingHarness("gate") as h:
            assert h.key is not None
            wrong_secret = dataclasses.replace(h.key, secret=new_key("x").secret)
            with pytest.raises(ccxt.AuthenticationError, match="INVALID_SIGNATURE"):
                await h.client(wrong_secret).fetch_balance()
            with pytest.raises(ccxt.AuthenticationError, match="INVALID_KEY"):
                await h.client(new_key("nobody")).fetch_balance()
            late = h.client()
            late.milliseconds = lambda: ccxt.Exchange.milliseconds() - 61_000
            with pytest.raises(ccxt.AuthenticationError, match="REQUEST_EXPIRED"):
                await late.fetch_balance()
            reader = h.sim.issue_key("main", frozenset({"read"}))
            read_only = h.client(reader)
            assert (await read_only.fetch_balance())["USDT"]["free"] == 10_000_000
            with pytest.raises(ccxt.PermissionDenied, match="READ_ONLY"):
                await read_only.create_order("BTC/USDT", "market", "sell", 0.01)
            status, reply = await raw_call(h, "GET", "/api/v4/spot/accounts", SIGN="0" * 128)
            assert (status, reply["label"]) == (401, "INVALID_SIGNATURE")
            async with (
                aiohttp.ClientSession() as session,
                session.get(f"{h.sim.rest_url}/api/v4/spot/accounts", headers={"KEY": h.key.key}) as resp,
            ):
                assert resp.status == 400
                assert await resp.json() == {"label": "MISSING_REQUIRED_HEADER", "message": "Missing required header: Timestamp"}

    run(body())


def test_order_errors_in_gates_labels() -> None:
    async def body() -> None:
        async with TradingHarness("gate") as h:
            ex = h.client()
            await ex.load_markets()
            bid, _ = h.touch()
            with pytest.raises(ccxt.InsufficientFunds, match="BALANCE_NOT_ENOUGH"):
                await ex.create_order("BTC/USDT", "limit", "buy", 500, str(bid))
            with pytest.raises(ccxt.InsufficientFunds, match="BALANCE_NOT_ENOUGH"):
                await ex.create_market_buy_order_with_cost("BTC/USDT", 20_000_000)
            with pytest.raises(ccxt.InsufficientFunds, match="BALANCE_NOT_ENOUGH"):
                await ex.create_order("BTC/USDT", "market", "sell", 2_000)
            with pytest.raises(ccxt.OrderNotFound, match="ORDER_NOT_FOUND"):
                await ex.fetch_order("987654321", "BTC/USDT")
            with pytest.raises(ccxt.OrderNotFound, match="CLIENT_ID_NOT_FOUND"):
                await ex.fetch_order("x", "BTC/USDT", {"clientOrderId": "t-nope"})
            with pytest.raises(ccxt.BadRequest, match=r"is too small\. The minimum is 3 USDT"):
                await ex.create_order("BTC/USDT", "limit", "buy", 0.00001, str(bid))
            order = {"currency_pair": "BTC_USDT", "type": "limit", "account": "spot", "side": "buy", "amount": "0.01"}
            status, reply = await raw_call(h, "POST", "/api/v4/spot/orders", body={**order, "price": f"{bid}1"})
            assert (status, reply["label"]) == (400, "INVALID_PRECISION")
            status, reply = await raw_call(h, "POST", "/api/v4/spot/orders", body=order)
            assert (status, reply["label"]) == (400, "MISSING_REQUIRED_PARAM")
            status, reply = await raw_call(h, "POST", "/api/v4/spot/orders", body={**order, "price": str(bid), "text": "abc"})
            assert (status, reply) == (400, {"label": "INVALID_PARAM_VALUE", "message": "Invalid parameter `text` with value: abc"})
            status, reply = await raw_call(h, "POST", "/api/v4/spot/orders", body={**order, "currency_pair": "NOPE_USDT"})
            assert (status, reply["label"]) == (400, "INVALID_CURRENCY_PAIR")
            market = {**order, "type": "market", "time_in_force": "gtc", "amount": "100"}
            status, reply = await raw_call(h, "POST", "/api/v4/spot/orders", body=market)
            assert (status, reply["label"]) == (400, "INVALID_PARAM_VALUE")
            status, reply = await raw_call(h, "GET", "/api/v4/spot/orders/1")
            assert (status, reply["label"]) == (400, "MISSING_REQUIRED_PARAM")
            assert h.sim.engine.open_orders("main") == [] and not h.sim.engine.fills

    run(body())


def test_amend_moves_a_resting_order_keeps_its_id_and_fills_at_the_new_price() -> None:
    """PATCH /spot/orders/{order_id} as ccxt's edit_order sends it (every field in the query)."""

    async def body() -> None:
        async with TradingHarness("gate") as h:
            ex = h.client()
            await ex.load_markets()
            bid, ask = h.touch()
            tick = h.sim.engine.markets[h.symbol].tick
            order = await ex.create_order("BTC/USDT", "limit", "buy", 0.01, float(bid - 30 * tick))
            edited = await ex.edit_order(order["id"], "BTC/USDT", "limit", "buy", 0.02, float(bid - 40 * tick))
            assert edited["id"] == order["id"] and edited["amount"] == 0.02 and edited["price"] == float(bid - 40 * tick)
            fetched = await ex.fetch_order(order["id"], "BTC/USDT")
            assert fetched["status"] == "open" and fetched["remaining"] == 0.02
            locked = h.sim.engine.account("main").locked["USDT"]
            assert locked == (bid - 40 * tick) * Decimal("0.02")
            done = await ex.edit_order(order["id"], "BTC/USDT", "limit", "buy", 0.02, float(ask))
            assert done["status"] == "closed" and done["filled"] == 0.02
            with pytest.raises(ccxt.InvalidOrder):  # ORDER_CLOSED
                await ex.edit_order(order["id"], "BTC/USDT", "limit", "buy", 0.03, float(bid))
            assert h.sim.engine.account("main").locked.get("USDT", Decimal(0)) == 0

    run(body())
