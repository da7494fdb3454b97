"""Bybit v5 spot trading on the simulator through an unmodified ccxt client: the unified-account
discovery, each order type and time in force, conditional orders, maker and taker fills, fees,
and the signature and error codes in Bybit's own words."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import aiohttp
import ccxt
import ccxt.async_support as ccxt_async
import pytest

from crossbook.model import MarginMode, PositionSide
from crossbook.sim.access import ApiKey, new_key
from crossbook.sim.market import SimMarket
from crossbook.sim.venues.bybit import BybitInverseSim, BybitLinearSim, BybitSpotSim, sign

from ..conftest import run
from .trading_contract import TradingHarness

ACK = {"acknowledged": True}  # ccxt's fetch_order asks for it on unified accounts

Body = Callable[[TradingHarness, Any, str], Awaitable[None]]


def trading(body: Body, *, paused: bool = True) -> None:
    """Run ``body`` with a keyed, loaded ccxt client on the spot BTC/USDT market; paused, the
    book stands still so prices read from it stay valid."""

    async def main() -> None:
        async with TradingHarness("bybit") as h:
            assert h.cluster is not None
            if paused:
                h.cluster.pause()
            ex = h.client()
            await ex.load_markets()
            await body(h, ex, h.ccxt_symbol(ex))

    run(main())


def level(h: TradingHarness, bids: bool, depth: int) -> tuple[Decimal, Decimal]:
    """(price, size) of the ``depth``-th level (0 = the touch) of one side of the venue's book."""
    ladder = h.sim.ladders[h.symbol]
    ticks, lots = ladder.top(bids, depth + 1)[depth]
    return Decimal(ladder.price_str(ticks)), Decimal(ladder.size_str(lots))


async def signed_request(h: TradingHarness, method: str, path: str, payload: str, *, key: ApiKey | None = None,
                         signed_payload: str | None = None, stamp: int | None = None,
                         recv_window: str = "5000") -> dict[str, Any]:
    """A hand-made private request, signed the documented way over ``signed_payload`` (by default
    the payload sent): the query string of a GET or the raw body of a POST."""
    key = key or h.key
    assert key is not None
    ts = str(stamp if stamp is not None else int(time.time() * 1000))
    headers = {
        "X-BAPI-API-KEY": key.key,
        "X-BAPI-TIMESTAMP": ts,
        "X-BAPI-RECV-WINDOW": recv_window,
        "X-BAPI-SIGN": sign(key.secret, ts, key.key, recv_window, payload if signed_payload is None else signed_payload),
        "Content-Type": "application/json",
    }
    url = f"{h.sim.rest_url}{path}" + (f"?{payload}" if method == "GET" else "")
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, url, data=payload if method == "POST" else None, headers=headers) as resp,
    ):
        reply: dict[str, Any] = await resp.json()
    assert set(reply) == {"retCode", "retMsg", "result", "retExtInfo", "time"}
    return reply


# ---- the signature ------------------------------------------------------------------------------


def test_the_signature_is_the_documented_concatenation() -> None:
    """Bybit's example: timestamp + api key + recv window + query string, hex HMAC-SHA256."""
    secret = "example-secret"
    origin = b"1658384314791XXXXXXXXXX5000category=option&symbol=BTC-29JUL22-25000-C"
    expected = hmac.new(secret.encode(), origin, hashlib.sha256).hexdigest()
    assert sign(secret, "1658384314791", "XXXXXXXXXX", "5000", "category=option&symbol=BTC-29JUL22-25000-C") == expected


def test_the_venue_verifies_the_exact_query_and_body_it_received() -> None:
    async def body(h: TradingHarness, ex: Any, symbol: str) -> None:
        query = "category=spot&symbol=BTCUSDT"
        ok = await signed_request(h, "GET", "/v5/order/realtime", query)
        assert ok["retCode"] == 0 and ok["result"] == {"category": "spot", "list": [], "nextPageCursor": ""}
        reordered = await signed_request(h, "GET", "/v5/order/realtime", query, signed_payload="symbol=BTCUSDT&category=spot")
        assert (reordered["retCode"], reordered["retMsg"]) == (10004, "Error sign, please check your signature generation algorithm.")
        bid, _ = level(h, True, 0)
        price = f"{bid * Decimal('0.9'):.2f}"
        fields = {"category": "spot", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit", "qty": "0.001", "price": price}
        pretty = "{\n" + ",\n".join(f'  "{k}": "{v}"' for k, v in fields.items()) + "\n}"
        placed = await signed_request(h, "POST", "/v5/order/create", pretty)  # signed over these very bytes
        assert placed["retCode"] == 0 and set(placed["result"]) == {"orderId", "orderLinkId"}
        compact = pretty.replace("\n", "").replace("  ", "").replace(": ", ":")
        tampered = await signed_request(h, "POST", "/v5/order/create", compact, signed_payload=pretty)
        assert tampered["retCode"] == 10004
        assert len(h.sim.engine.open_orders("main")) == 1

    trading(body)


def test_the_receive_window_is_the_one_the_request_names() -> None:
    async def body(h: TradingHarness, ex: Any, symbol: str) -> None:
        query = "accountType=UNIFIED"
        six_seconds_ago = int(time.time() * 1000) - 6_000
        stale = await signed_request(h, "GET", "/v5/account/wallet-balance", query, stamp=six_seconds_ago)
        assert stale["retCode"] == 10002 and "recv_window[5000]" in stale["retMsg"]
        wide = await signed_request(h, "GET", "/v5/account/wallet-balance", query, stamp=six_seconds_ago, recv_window="10000")
        assert wide["retCode"] == 0
        ahead = await signed_request(h, "GET", "/v5/account/wallet-balance", query, stamp=int(time.time() * 1000) + 5_000)
        assert ahead["retCode"] == 10002

    trading(body)


def test_credential_errors_reach_ccxt_as_bybit_raises_them() -> None:
    async def body(h: TradingHarness, ex: Any, symbol: str) -> None:
        assert h.key is not None
        late = h.client()
        late.milliseconds = lambda: ccxt.Exchange.milliseconds() - 120_000
        with pytest.raises(ccxt.InvalidNonce, match="10002"):
            await late.fetch_balance()
        with pytest.raises(ccxt.AuthenticationError, match="10003"):
            await h.client(ApiKey("not-a-key", "x" * 64, "main")).fetch_balance()
        read_only = h.sim.issue_key("main", frozenset({"read"}))
        reader = h.client(read_only)
        assert (await reader.fetch_balance())["USDT"]["free"] == 10_000_000
        bid, _ = level(h, True, 0)
        with pytest.raises(ccxt.PermissionDenied, match="10005"):
            await reader.create_order(symbol, "limit", "buy", 0.001, float(bid * Decimal("0.9")))
        headless = await signed_request(h, "GET", "/v5/account/info", "")
        assert headless["retCode"] == 0
        async with aiohttp.ClientSession() as session, session.get(f"{h.sim.rest_url}/v5/account/info") as resp:
            unsigned = await resp.json()
        assert unsigned["retCode"] == 10001 and unsigned["retMsg"].endswith("openapi sign params error!")

    trading(body)


# ---- the account -----------------------------------------------------------------------------


def test_keyed_ccxt_discovers_a_unified_account_and_reads_its_wallet() -> None:
    async def body(h: TradingHarness, ex: Any, symbol: str) -> None:
        assert {"BTC", "USDT", "ETH", "SOL", "USDC"} <= set(ex.currencies)  # from the signed coin query
        balance = await ex.fetch_balance()
        assert ex.options["enableUnifiedAccount"] is True and ex.options["enableUnifiedMargin"] is False
        assert ex.options["unifiedMarginStatus"] == 5
        assert balance["BTC"] == {"free": 1_000, "used": 0, "total": 1_000, "debt": 0}
        wallet = balance["info"]["result"]["list"][0]
        assert wallet["accountType"] == "UNIFIED"
        assert {c["coin"]: c["availableToWithdraw"] for c in wallet["coin"]} == {"BTC": "", "USDT": ""}
        with pytest.raises(ccxt.BadRequest, match="accountType only support UNIFIED"):
            await ex.private_get_v5_account_wallet_balance({"accountType": "SPOT"})

    trading(body)


def test_trading_fees_are_read_per_spot_symbol() -> None:
    async def body(h: TradingHarness, ex: Any, symbol: str) -> None:
        fee = await ex.fetch_trading_fee(symbol)
        assert (fee["maker"], fee["taker"]) == (float(h.sim.engine.maker_fee), float(h.sim.engine.taker_fee))
        # ccxt's fetch_trading_fees sends no category, which Bybit answers for contracts only
        assert await ex.fetch_trading_fees() == {}

    trading(body)


# ---- orders ---------------------------------------------------------------------------------


def test_a_limit_order_is_acknowledged_by_id_then_rests_and_cancels() -> None:
    async def body(h: TradingHarness, ex: Any, symbol: str) -> None:
        bid, _ = level(h, True, 0)
        price = ex.price_to_precision(symbol, float(bid * Decimal("0.99")))
        ack = await ex.create_order(symbol, "limit", "buy", 0.01, price, {"clientOrderId": "my-bid-1"})
        assert ack["id"] and ack["clientOrderId"] == "my-bid-1"
        assert ack["status"] is None and ack["info"] == {"orderId": ack["id"], "orderLinkId": "my-bid-1"}  # Bybit acks ids only
        order = await ex.fetch_order(ack["id"], symbol, ACK)
        assert (order["status"], order["amount"], order["filled"], order["remaining"]) == ("open", 0.01, 0, 0.01)
        assert order["info"]["orderStatus"] == "New" and order["timeInForce"] == "GTC" and order["price"] == float(price)
        assert (await ex.fetch_balance())["USDT"]["used"] == pytest.approx(0.01 * float(price))
        canceled = await ex.cancel_order(ack["id"], symbol)
        assert canceled["id"] == ack["id"] and canceled["status"] is None
        order = await ex.fetch_order(ack["id"], symbol, ACK)
        assert order["status"] == "canceled" and order["info"]["cancelType"] == "CancelByUser"
        assert await ex.fetch_open_orders(symbol) == [] and (await ex.fetch_balance())["USDT"]["used"] == 0
        with pytest.raises(ccxt.OrderNotFound, match="170213"):
            await ex.cancel_order(ack["id"], symbol)
        with pytest.raises(ccxt.InvalidOrder, match="170141"):
            await ex.create_order(symbol, "limit", "buy", 0.01, price, {"clientOrderId": "my-bid-1"})

    trading(body)


def test_post_only_rests_and_is_refused_when_it_would_take() -> None:
    async def body(h: TradingHarness, ex: Any, symbol: str) -> None:
        bid, _ = level(h, True, 0)
        ask, _ = level(h, False, 0)
        ack = await ex.create_order(symbol, "limit", "buy", 0.01, float(bid), {"postOnly": True})
        order = await ex.fetch_order(ack["id"], symbol, ACK)
        assert order["status"] == "open" and order["info"]["timeInForce"] == "PostOnly"
        with pytest.raises(ccxt.InvalidOrder, match="170218"):
            await ex.create_order(symbol, "limit", "buy", 0.01, float(ask), {"postOnly": True})
        assert [o["id"] for o in await ex.fetch_open_orders(symbol)] == [ack["id"]]

    trading(body)


async def place_and_fetch(ex: Any, symbol: str, amount: float, price: Decimal, tif: str) -> Any:
    """A limit buy with ``tif``, as fetched back after Bybit's id-only acknowledgement."""
    ack = await ex.create_order(symbol, "limit", "buy", amount, float(price), {"timeInForce": tif})
    return await ex.fetch_order(ack["id"], symbol, ACK)


def test_ioc_takes_what_it_can_and_fok_all_or_nothing() -> None:
    async def body(h: TradingHarness, ex: Any, symbol: str) -> None:
        ask, size = level(h, False, 0)
        ioc = await place_and_fetch(ex, symbol, float(size + Decimal("0.5")), ask, "IOC")
        assert ioc["info"]["orderStatus"] == "PartiallyFilledCanceled" and ioc["status"] == "closed"
        assert ioc["filled"] == float(size) and ioc["remaining"] == 0
        ask, size = level(h, False, 0)
        fok = await place_and_fetch(ex, symbol, float(size + Decimal("0.5")), ask, "FOK")
        assert fok["info"]["orderStatus"] == "Cancelled" and fok["status"] == "canceled" and fok["filled"] == 0
        assert level(h, False, 0) == (ask, size)  # the book is untouched
        fok = await place_and_fetch(ex, symbol, float(size), ask, "FOK")
        assert fok["status"] == "closed" and fok["filled"] == float(size)
        assert await ex.fetch_open_orders(symbol) == []

    trading(body)


def test_market_sell_pays_the_taker_fee_and_lists_its_executions() -> None:
    async def body(h: TradingHarness, ex: Any, symbol: str) -> None:
        bid, size = level(h, True, 0)
        next_bid, _ = level(h, True, 1)
        amount = float(size + Decimal("0.01"))  # walks into the second bid level
        ack = await ex.create_order(symbol, "market", "sell", amount)
        order = await ex.fetch_order(ack["id"], symbol, ACK)
        assert order["status"] == "closed" and order["filled"] == amount and order["type"] == "market"
        assert order["info"]["marketUnit"] == "baseCoin" and order["info"]["timeInForce"] == "IOC"
        trades = await ex.fetch_my_trades(symbol)
        assert sorted(t["price"] for t in trades) == [float(next_bid), float(bid)]
        assert len(trades) == 2 and {t["order"] for t in trades} == {ack["id"]} and {t["takerOrMaker"] for t in trades} == {"taker"}
        assert sum(t["amount"] for t in trades) == pytest.approx(amount)
        assert all(t["fee"]["cost"] == pytest.approx(t["cost"] * 0.001) and t["fee"]["rate"] == 0.001 for t in trades)
        assert [t["info"]["feeCurrency"] for t in trades] == ["USDT", "USDT"]
        assert order["cost"] == pytest.approx(sum(t["cost"] for t in trades))
        newest = await ex.fetch_my_trades(symbol, limit=1)
        assert [t["id"] for t in newest] == [max(trades, key=lambda t: (t["timestamp"], int(t["id"])))["id"]]
        balance = await ex.fetch_balance()
        assert balance["BTC"]["total"] == pytest.approx(1_000 - amount)
        fees = sum(t["fee"]["cost"] for t in trades)
        assert balance["USDT"]["total"] == pytest.approx(10_000_000 + order["cost"] - fees)

    trading(body)


def test_a_resting_order_fills_as_maker_at_its_own_price() -> None:
    async def body(h: TradingHarness, ex: Any, symbol: str) -> None:
        bid, _ = level(h, True, 0)
        ask, _ = level(h, False, 0)
        assert ask - bid > Decimal("0.01"), "the spread leaves room inside it"
        inside = ask - Decimal("0.01")
        ack = await ex.create_order(symbol, "limit", "sell", 0.02, float(inside))
        h.sim.engine.open_account("other", {"USDT": Decimal(1_000_000)})
        taker = h.client(h.sim.issue_key("other"))
        await taker.load_markets()
        await taker.create_order(symbol, "market", "buy", 0.02)
        order = await ex.fetch_order(ack["id"], symbol, ACK)
        assert order["status"] == "closed" and order["average"] == float(inside)
        (fill,) = await ex.fetch_my_trades(symbol)
        assert fill["takerOrMaker"] == "maker" and fill["price"] == float(inside) and fill["info"]["isMaker"] is True
        assert fill["fee"]["cost"] == pytest.approx(0.02 * float(inside) * float(h.sim.engine.maker_fee))

    trading(body)


def test_conditional_orders_wait_for_their_trigger() -> None:
    async def body(h: TradingHarness, ex: Any, symbol: str) -> None:
        ask0, size0 = level(h, False, 0)
        ask1, _ = level(h, False, 1)
        ack = await ex.create_order(symbol, "market", "buy", 0.01, None, {"triggerPrice": float(ask1)})
        stop = await ex.fetch_order(ack["id"], symbol, ACK)
        assert stop["info"]["orderStatus"] == "Untriggered" and stop["status"] == "open"
        assert stop["triggerPrice"] == float(ask1) and stop["info"]["stopOrderType"] == "Stop"
        limit = await ex.create_order(symbol, "limit", "buy", 0.01, float(ask1 + 100), {"triggerPrice": float(ask1)})
        with pytest.raises(ccxt.OrderNotFound, match="170213"):
            await ex.cancel_order(limit["id"], symbol)  # a plain cancel looks among active orders only
        await ex.cancel_order(limit["id"], symbol, {"trigger": True})
        assert (await ex.fetch_order(limit["id"], symbol, ACK))["info"]["orderStatus"] == "Deactivated"
        with pytest.raises(ccxt.BadRequest, match="10001"):
            await ex.create_order(symbol, "market", "buy", 0.01, None, {"triggerPrice": float(ask0 - 100)})
        # take the touch and one lot more: the print at the next level fires the trigger
        await ex.create_order(symbol, "limit", "buy", float(size0) + 0.00001, float(ask1), {"timeInForce": "IOC"})
        stop = await ex.fetch_order(ack["id"], symbol, ACK)
        assert stop["status"] == "closed" and stop["filled"] == 0.01 and stop["info"]["orderStatus"] == "Filled"

    trading(body)


def test_order_errors_come_in_bybit_codes() -> None:
    async def body(h: TradingHarness, ex: Any, symbol: str) -> None:
        bid, _ = level(h, True, 0)
        with pytest.raises(ccxt.InsufficientFunds, match="170131"):
            await ex.create_order(symbol, "limit", "sell", 2_000, float(bid))
        off_grid = {"category": "spot", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit", "qty": "0.001", "price": f"{bid}1"}
        with pytest.raises(ccxt.InvalidOrder, match="170134"):
            await ex.private_post_v5_order_create(off_grid)
        with pytest.raises(ccxt.InvalidOrder, match="170137"):
            await ex.private_post_v5_order_create({**off_grid, "price": str(bid), "qty": "0.0000001"})
        with pytest.raises(ccxt.InvalidOrder, match="170121"):
            await ex.private_post_v5_order_create({**off_grid, "symbol": "DOGEUSDT"})
        with pytest.raises(ccxt.BadRequest, match="170036"):
            await ex.create_order(symbol, "limit", "buy", 0.01, float(bid), {"isLeverage": 1})  # no borrowing
        with pytest.raises(ccxt.BadRequest, match="marketUnit"):
            await ex.create_order(symbol, "market", "buy", 0.01, None, {"cost": 100})  # quote-sized
        with pytest.raises(ccxt.OrderNotFound):
            await ex.fetch_order("987654321", symbol, ACK)  # an empty list: ccxt raises it
        with pytest.raises(ccxt.BadRequest, match="Illegal category"):
            await ex.private_get_v5_order_realtime({"category": "linear", "symbol": "BTCUSDT"})
        assert h.sim.engine.open_orders("main") == []

    trading(body)


def test_spot_and_linear_trade_inverse_does_not() -> None:
    assert BybitSpotSim.ccxt_id == BybitLinearSim.client_ccxt_id == "bybit"
    assert BybitInverseSim.client_ccxt_id is None
    # the ccxt configs the sim prints are keyed by ccxt id: "bybit" stays the spot venue's
    assert BybitLinearSim.ccxt_id is None and BybitInverseSim.ccxt_id is None
    with pytest.raises(NotImplementedError):
        BybitInverseSim(SimMarket(levels=20)).ccxt_config(new_key("main"))


# ---- linear perpetuals ---------------------------------------------------------------------------


def linear(body: Body) -> None:
    """Run ``body`` with a keyed ccxt client of the linear server alone (its own markets, account
    and orders) on BTC/USDT:USDT, the book paused."""

    async def main() -> None:
        async with TradingHarness("bybitlinear") as h:
            assert h.cluster is not None
            h.cluster.pause()
            assert h.key is not None
            ex = ccxt_async.bybit({**h.sim.ccxt_config(h.key), "enableRateLimit": False})
            h.clients.append(ex)
            await ex.load_markets()
            await body(h, ex, h.ccxt_symbol(ex))

    run(main())


def test_the_linear_client_sees_only_the_linear_markets() -> None:
    async def body(h: TradingHarness, ex: Any, symbol: str) -> None:
        assert symbol == "BTC/USDT:USDT"
        assert sorted(ex.symbols) == ["BTC/USDT:USDT", "ETH/USDT:USDT"]
        assert all(m["swap"] and m["linear"] and m["settle"] == "USDT" for m in ex.markets.values())
        assert all(len(found) == 1 for found in ex.markets_by_id.values())  # PreLaunch lists none

    linear(body)


def test_a_one_way_position_opens_reduces_and_closes() -> None:
    async def body(h: TradingHarness, ex: Any, symbol: str) -> None:
        _, ask = h.touch()
        opened = await ex.create_order(symbol, "market", "buy", 0.01)
        order = await ex.fetch_order(opened["id"], symbol, ACK)
        assert order["status"] == "closed" and order["filled"] == 0.01 and order["info"]["positionIdx"] == 0
        [position] = await ex.fetch_positions([symbol])
        assert position["side"] == "long" and position["contracts"] == 0.01 and not position["hedged"]
        assert position["entryPrice"] == float(ask) and position["leverage"] == 1
        balance = await ex.fetch_balance()
        assert balance["USDT"]["used"] == pytest.approx(float(ask) * 0.01)
        reduced = await ex.create_order(symbol, "market", "sell", 0.004, None, {"reduceOnly": True})
        assert (await ex.fetch_order(reduced["id"], symbol, ACK))["reduceOnly"] is True
        [position] = await ex.fetch_positions([symbol])
        assert position["contracts"] == 0.006
        await ex.create_order(symbol, "market", "sell", 0.006, None, {"reduceOnly": True})
        assert await ex.fetch_positions(None, {"settleCoin": "USDT"}) == []
        [flat] = await ex.fetch_positions([symbol])
        assert flat["contracts"] == 0 and flat["info"]["side"] == ""

    linear(body)


def test_reduce_only_that_would_increase_is_refused_with_110017() -> None:
    async def body(h: TradingHarness, ex: Any, symbol: str) -> None:
        bid, _ = h.touch()
        with pytest.raises(ccxt.InvalidOrder, match="110017"):  # nothing to reduce
            await ex.create_order(symbol, "market", "sell", 0.01, None, {"reduceOnly": True})
        await ex.create_order(symbol, "market", "buy", 0.01)
        with pytest.raises(ccxt.InvalidOrder, match="110017"):  # a buy adds to the long
            await ex.create_order(symbol, "limit", "buy", 0.01, float(bid), {"reduceOnly": True})
        capped = await ex.create_order(symbol, "market", "sell", 0.05, None, {"reduceOnly": True})
        assert (await ex.fetch_order(capped["id"], symbol, ACK))["filled"] == 0.01  # cut to the position
        assert h.sim.engine.position("main", h.symbol).size == 0

    linear(body)


def test_post_only_that_would_take_is_accepted_then_cancelled() -> None:
    async def body(h: TradingHarness, ex: Any, symbol: str) -> None:
        bid, ask = h.touch()
        taking = await ex.create_order(symbol, "limit", "buy", 0.01, float(ask), {"postOnly": True, "clientOrderId": "po-1"})
        order = await ex.fetch_order(taking["id"], symbol, ACK)
        assert order["status"] == "canceled" and order["filled"] == 0 and order["postOnly"] is True
        assert order["info"]["rejectReason"] == "EC_PostOnlyWillTakeLiquidity"
        by_link = await ex.private_get_v5_order_realtime({"category": "linear", "symbol": "BTCUSDT", "orderLinkId": "po-1"})
        assert [o["orderId"] for o in by_link["result"]["list"]] == [taking["id"]]
        resting = await ex.create_order(symbol, "limit", "buy", 0.01, float(bid), {"timeInForce": "PO"})
        assert (await ex.fetch_order(resting["id"], symbol, ACK))["status"] == "open"
        assert [o["id"] for o in await ex.fetch_open_orders(symbol)] == [resting["id"]]
        assert [o["id"] for o in await ex.fetch_canceled_orders(symbol)] == [taking["id"]]  # /v5/order/history
        assert await ex.fetch_closed_orders(symbol) == []  # orderStatus=Filled
        await ex.cancel_order(resting["id"], symbol)
        with pytest.raises(ccxt.OrderNotFound, match="110001"):
            await ex.cancel_order(taking["id"], symbol)
        assert h.sim.engine.position("main", h.symbol).size == 0

    linear(body)


def test_hedge_mode_holds_a_long_and_a_short_at_once() -> None:
    async def body(h: TradingHarness, ex: Any, symbol: str) -> None:
        await ex.set_position_mode(True)
        with pytest.raises(ccxt.NoChange, match="110025"):
            await ex.set_position_mode(True)
        with pytest.raises(ccxt.BadRequest, match="position idx not match position mode"):
            await ex.create_order(symbol, "market", "buy", 0.01)  # positionIdx 0 in hedge mode
        await ex.create_order(symbol, "market", "buy", 0.02, None, {"hedged": True})  # positionIdx 1
        await ex.create_order(symbol, "market", "sell", 0.01, None, {"hedged": True})  # positionIdx 2
        positions = {p["side"]: p for p in await ex.fetch_positions([symbol])}
        assert positions["long"]["contracts"] == 0.02 and positions["short"]["contracts"] == 0.01
        assert positions["long"]["hedged"] and positions["short"]["hedged"]
        with pytest.raises(ccxt.BadRequest, match="110024"):
            await ex.set_position_mode(False)
        # ccxt sends a hedged reduce-only sell as a sell on the long side (positionIdx 1)
        closing = await ex.create_order(symbol, "market", "sell", 0.05, None, {"hedged": True, "reduceOnly": True})
        order = await ex.fetch_order(closing["id"], symbol, ACK)
        assert order["filled"] == 0.02 and order["info"]["positionIdx"] == 1 and order["reduceOnly"] is True
        with pytest.raises(ccxt.InvalidOrder, match="110017"):  # the long side is flat now
            await ex.create_order(symbol, "market", "sell", 0.01, None, {"positionIdx": 1})
        assert [p["side"] for p in await ex.fetch_positions(None, {"settleCoin": "USDT"})] == ["short"]
        assert h.sim.engine.position("main", h.symbol, PositionSide.SHORT).size == Decimal("0.01")

    linear(body)


def test_leverage_sets_the_margin_an_order_and_a_position_take() -> None:
    async def body(h: TradingHarness, ex: Any, symbol: str) -> None:
        bid, ask = h.touch()
        await ex.set_leverage(10, symbol)
        with pytest.raises(ccxt.BadRequest, match="110043"):
            await ex.set_leverage(10, symbol)
        with pytest.raises(ccxt.BadRequest, match="10001"):
            await ex.set_leverage(101, symbol)
        price = (bid * Decimal("0.9")).quantize(Decimal("0.1"))
        await ex.create_order(symbol, "limit", "buy", 0.1, float(price))
        wallet = (await ex.fetch_balance())["info"]["result"]["list"][0]["coin"]
        usdt = next(c for c in wallet if c["coin"] == "USDT")
        assert Decimal(usdt["totalOrderIM"]) == price * Decimal("0.1") / 10 and Decimal(usdt["locked"]) == 0
        summary = (await ex.fetch_balance())["info"]["result"]["list"][0]
        assert Decimal(summary["totalInitialMargin"]) == Decimal(usdt["totalOrderIM"])
        await ex.create_order(symbol, "market", "buy", 0.1)
        [position] = await ex.fetch_positions([symbol])
        assert position["leverage"] == 10 and Decimal(position["info"]["positionIM"]) == ask * Decimal("0.1") / 10
        assert (await ex.fetch_leverage(symbol))["longLeverage"] == 10

    linear(body)


def test_margin_mode_is_the_unified_accounts_cross_or_isolated() -> None:
    async def body(h: TradingHarness, ex: Any, symbol: str) -> None:
        assert (await ex.fetch_margin_mode(symbol))["marginMode"] == "cross"
        reply = await ex.set_margin_mode("isolated", symbol)  # UTA: POST /v5/account/set-margin-mode
        assert reply["retCode"] == 0 and reply["result"] == {"reasons": []}
        assert (await ex.fetch_margin_mode(symbol))["marginMode"] == "isolated"
        assert h.sim.engine.account("main").margin_modes[h.symbol] is MarginMode.ISOLATED
        with pytest.raises(ccxt.ExchangeError, match="3400045"):
            await ex.set_margin_mode("portfolio", symbol)
        await ex.create_order(symbol, "market", "buy", 0.01)
        with pytest.raises(ccxt.ExchangeError, match="3400045"):
            await ex.set_margin_mode("cross", symbol)  # not with a position open

    linear(body)


def test_linear_fills_charge_fees_in_the_settle_coin() -> None:
    async def body(h: TradingHarness, ex: Any, symbol: str) -> None:
        _, ask = h.touch()
        placed = await ex.create_order(symbol, "market", "buy", 0.01)
        [trade] = await ex.fetch_my_trades(symbol)
        assert trade["order"] == placed["id"] and trade["takerOrMaker"] == "taker"
        assert trade["fee"]["currency"] == "USDT"
        assert Decimal(str(trade["fee"]["cost"])) == ask * Decimal("0.01") * h.sim.engine.taker_fee
        with pytest.raises(ccxt.InsufficientFunds, match="110007"):
            await ex.create_order(symbol, "market", "buy", 1_000)

    linear(body)


def test_the_linear_server_knows_only_its_own_keys() -> None:
    """Spot and linear are separate servers with separate key stores: a key issued elsewhere
    (as the spot server's would be) is unknown here, and the signature is checked as on spot."""

    async def body(h: TradingHarness, ex: Any, symbol: str) -> None:
        stranger = ccxt_async.bybit({**h.sim.ccxt_config(new_key("main")), "enableRateLimit": False})
        h.clients.append(stranger)
        with pytest.raises(ccxt.AuthenticationError, match="10003"):
            await stranger.fetch_positions([symbol])
        assert h.key is not None
        forged = ccxt_async.bybit({**h.sim.ccxt_config(h.key), "secret": "0" * 64, "enableRateLimit": False})
        h.clients.append(forged)
        with pytest.raises(ccxt.AuthenticationError, match="10004"):
            await forged.set_leverage(5, symbol)
        assert h.sim.engine.account("main").leverages == {}

    linear(body)
