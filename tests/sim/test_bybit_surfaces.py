"""Bybit's remaining surfaces through an unmodified ccxt client: amending an order in place
(/v5/order/amend, spot and linear), a perpetual's funding rate as ccxt reads it from
/v5/market/tickers, and universal transfers between a master account and its sub-accounts."""

from __future__ import annotations

import time
import uuid
from decimal import Decimal
from typing import Any

import ccxt
import ccxt.async_support as ccxt_async
import pytest

from crossbook.sim.venues.bybit import BybitSpotSim

from ..conftest import run
from .trading_contract import TradingHarness

ACK = {"acknowledged": True}
EIGHT_HOURS_MS = 8 * 3600 * 1000


def touch(h: TradingHarness) -> tuple[Decimal, Decimal]:
    ladder = h.sim.ladders[h.symbol]
    return Decimal(ladder.price_str(max(ladder.bids))), Decimal(ladder.price_str(min(ladder.asks)))


async def bybit_client(h: TradingHarness) -> Any:
    assert h.key is not None
    ex = ccxt_async.bybit({**h.sim.ccxt_config(h.key), "enableRateLimit": False})
    h.clients.append(ex)
    await ex.load_markets()
    return ex


def test_an_amended_spot_order_keeps_its_ids_rests_at_its_new_terms_and_fills_at_them() -> None:
    async def body() -> None:
        async with TradingHarness("bybit") as h:
            assert h.cluster is not None
            h.cluster.pause()
            ex = await bybit_client(h)
            bid, ask = touch(h)
            below = float(ex.price_to_precision("BTC/USDT", float(bid * Decimal("0.98"))))
            placed = await ex.create_order("BTC/USDT", "limit", "buy", 0.002, below, {"clientOrderId": "am-1"})
            lower = float(ex.price_to_precision("BTC/USDT", float(bid * Decimal("0.97"))))
            edited = await ex.edit_order(placed["id"], "BTC/USDT", "limit", "buy", 0.003, lower)
            assert edited["id"] == placed["id"] and edited["clientOrderId"] == "am-1"
            resting = await ex.fetch_order(placed["id"], "BTC/USDT", ACK)
            assert resting["status"] == "open" and resting["amount"] == 0.003 and resting["price"] == lower
            with pytest.raises(ccxt.ExchangeError, match="remains unchanged"):
                await ex.edit_order(placed["id"], "BTC/USDT", "limit", "buy", 0.003, lower)
            await ex.edit_order(placed["id"], "BTC/USDT", "limit", "buy", None, float(ask), {"clientOrderId": "am-1"})
            filled = await ex.fetch_order(placed["id"], "BTC/USDT", ACK)
            assert filled["status"] == "closed" and filled["filled"] == 0.003 and filled["clientOrderId"] == "am-1"
            (trade,) = await ex.fetch_my_trades("BTC/USDT")
            assert trade["order"] == placed["id"] and trade["amount"] == 0.003
            with pytest.raises(ccxt.OrderNotFound, match="170213"):  # filled: nothing to amend
                await ex.edit_order(placed["id"], "BTC/USDT", "limit", "buy", 0.004, lower)

    run(body())


def test_a_spot_amend_that_would_take_as_post_only_is_refused_and_the_order_stays() -> None:
    async def body() -> None:
        async with TradingHarness("bybit") as h:
            assert h.cluster is not None
            h.cluster.pause()
            ex = await bybit_client(h)
            bid, ask = touch(h)
            below = float(ex.price_to_precision("BTC/USDT", float(bid * Decimal("0.98"))))
            maker = await ex.create_order("BTC/USDT", "limit", "buy", 0.002, below, {"postOnly": True})
            with pytest.raises(ccxt.InvalidOrder, match="170218"):
                await ex.edit_order(maker["id"], "BTC/USDT", "limit", "buy", None, float(ask))
            kept = await ex.fetch_order(maker["id"], "BTC/USDT", ACK)
            assert kept["status"] == "open" and kept["price"] == below
            with pytest.raises(ccxt.InsufficientFunds, match="170131"):
                await ex.edit_order(maker["id"], "BTC/USDT", "limit", "buy", 10_000, None)
            assert (await ex.fetch_order(maker["id"], "BTC/USDT", ACK))["amount"] == 0.002

    run(body())


def test_an_amended_linear_order_rests_then_fills_into_a_position() -> None:
    async def body() -> None:
        async with TradingHarness("bybitlinear") as h:
            assert h.cluster is not None
            h.cluster.pause()
            ex = await bybit_client(h)
            symbol = "BTC/USDT:USDT"
            bid, ask = touch(h)
            below = float(ex.price_to_precision(symbol, float(bid * Decimal("0.99"))))
            placed = await ex.create_order(symbol, "limit", "buy", 0.002, below)
            await ex.edit_order(placed["id"], symbol, "limit", "buy", 0.004, None)
            resting = await ex.fetch_order(placed["id"], symbol, ACK)
            assert resting["amount"] == 0.004 and resting["price"] == below and resting["status"] == "open"
            await ex.edit_order(placed["id"], symbol, "limit", "buy", None, float(ask))
            assert (await ex.fetch_order(placed["id"], symbol, ACK))["status"] == "closed"
            (position,) = await ex.fetch_positions([symbol])
            assert position["side"] == "long" and position["contracts"] == 0.004
            with pytest.raises(ccxt.OrderNotFound, match="110001"):
                await ex.edit_order("no-such-order", symbol, "limit", "buy", 0.004, below)

    run(body())


def test_the_funding_rate_and_its_next_time() -> None:
    async def body() -> None:
        async with TradingHarness("bybitlinear") as h:
            ex = await bybit_client(h)
            rate = await ex.fetch_funding_rate("BTC/USDT:USDT")
            now = int(time.time() * 1000)
            assert rate["symbol"] == "BTC/USDT:USDT" and rate["fundingRate"] == 0.0001 and rate["interval"] == "8h"
            assert rate["fundingTimestamp"] % EIGHT_HOURS_MS == 0 and now < rate["fundingTimestamp"] <= now + EIGHT_HOURS_MS
            assert rate["markPrice"] is not None and rate["markPrice"] > 0
            rates = await ex.fetch_funding_rates()
            assert set(rates) == {"BTC/USDT:USDT", "ETH/USDT:USDT"}

    run(body())


def universal(amount: str, source: str, target: str, transfer_id: str | None = None) -> dict[str, Any]:
    return {"transferId": transfer_id or str(uuid.uuid4()), "coin": "USDT", "amount": amount,
            "fromMemberId": BybitSpotSim.uid(source), "toMemberId": BybitSpotSim.uid(target),
            "fromAccountType": "UNIFIED", "toAccountType": "UNIFIED"}


def test_universal_transfers_between_the_master_and_its_sub_accounts() -> None:
    async def body() -> None:
        async with TradingHarness("bybit") as h:
            engine = h.sim.engine
            engine.open_account("sub1", {"USDT": Decimal(50)}, parent="main")
            engine.open_account("sub2", {}, parent="main")
            engine.open_account("stranger", {"USDT": Decimal(50)})
            ex = await bybit_client(h)
            reply = await ex.private_post_v5_asset_transfer_universal_transfer(universal("100", "main", "sub1", "t-1"))
            assert reply["retCode"] == 0 and reply["result"] == {"transferId": "t-1", "status": "SUCCESS"}
            assert engine.account("sub1").balances["USDT"] == 150 and engine.account("main").balances["USDT"] == 10_000_000 - 100
            await ex.private_post_v5_asset_transfer_universal_transfer(universal("30", "sub1", "sub2"))
            assert engine.account("sub2").balances["USDT"] == 30
            with pytest.raises(ccxt.BadRequest, match="131214"):  # a transferId is used once
                await ex.private_post_v5_asset_transfer_universal_transfer(universal("1", "main", "sub1", "t-1"))
            with pytest.raises(ccxt.InsufficientFunds, match="131212"):  # would overdraw the sub-account
                await ex.private_post_v5_asset_transfer_universal_transfer(universal("121", "sub1", "main"))
            with pytest.raises(ccxt.BadRequest, match="131209"):  # not in this master's family
                await ex.private_post_v5_asset_transfer_universal_transfer(universal("1", "main", "stranger"))
            sub = ccxt_async.bybit({**h.sim.ccxt_config(h.sim.issue_key("sub1")), "enableRateLimit": False})
            h.clients.append(sub)
            await sub.private_post_v5_asset_transfer_universal_transfer(universal("20", "sub1", "main"))
            with pytest.raises(ccxt.BadRequest, match="131209"):  # a sub-account sends to its master only
                await sub.private_post_v5_asset_transfer_universal_transfer(universal("1", "sub1", "sub2"))
            assert engine.account("sub1").balances["USDT"] == 100 and engine.account("main").balances["USDT"] == 10_000_000 - 80

    run(body())
