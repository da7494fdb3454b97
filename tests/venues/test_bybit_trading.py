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
import pytest

from crossbook.sim.access import ApiKey
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
    async with aiohttp.ClientSession() as session:
        async with session.request(method, url, data=payload if method == "POST" else None, headers=headers) as resp:
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
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{h.sim.rest_url}/v5/account/info") as resp:
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


def test_only_the_spot_venue_trades() -> None:
    assert BybitSpotSim.ccxt_id == "bybit"
    assert BybitLinearSim.ccxt_id is None and BybitInverseSim.ccxt_id is None
