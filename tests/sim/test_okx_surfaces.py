"""OKX's remaining surfaces through an unmodified ccxt client: amending an order in place
(/trade/amend-order, spot and SWAP), a SWAP's funding rate (/public/funding-rate) and transfers
between the master account and a sub-account (/asset/transfer)."""

from __future__ import annotations

import time
from decimal import Decimal

import ccxt
import pytest

from crossbook.model import OrderStatus

from ..conftest import run
from .trading_contract import TradingHarness

SYMBOL = "BTC/USDT"
PERP = "BTC/USDT:USDT"
SWAPS = {"fetchMarkets": {"types": ["spot", "swap"]}}
EIGHT_HOURS_MS = 8 * 3600 * 1000


def touch(h: TradingHarness, symbol: str) -> tuple[Decimal, Decimal]:
    ladder = h.sim.ladders[symbol]
    return Decimal(ladder.price_str(max(ladder.bids))), Decimal(ladder.price_str(min(ladder.asks)))


def test_an_amended_spot_order_keeps_its_id_rests_at_its_new_terms_and_fills_at_them() -> None:
    async def body() -> None:
        async with TradingHarness("okx") as h:
            assert h.cluster is not None
            h.cluster.pause()
            ex = h.client()
            await ex.load_markets()
            bid, ask = touch(h, "BTC-USDT")
            placed = await ex.create_order(SYMBOL, "limit", "buy", 0.002, float(bid * Decimal("0.98")), {"clientOrderId": "am1"})
            lower = float(ex.price_to_precision(SYMBOL, float(bid * Decimal("0.97"))))
            edited = await ex.edit_order(placed["id"], SYMBOL, "limit", "buy", 0.003, lower, {"reqId": "r1"})
            assert edited["id"] == placed["id"] and edited["info"]["reqId"] == "r1" and edited["info"]["sCode"] == "0"
            resting = await ex.fetch_order(placed["id"], SYMBOL)
            assert resting["status"] == "open" and resting["amount"] == 0.003 and resting["price"] == lower
            assert resting["clientOrderId"] == "am1"
            await ex.edit_order(placed["id"], SYMBOL, "limit", "buy", None, float(ask))  # crosses: takes at once
            filled = await ex.fetch_order(placed["id"], SYMBOL)
            assert filled["status"] == "closed" and filled["filled"] == 0.003 and filled["average"] <= float(ask)
            (trade,) = await ex.fetch_my_trades(SYMBOL)
            assert trade["order"] == placed["id"] and trade["amount"] == 0.003
            with pytest.raises(ccxt.ExchangeError, match="51510"):  # completed
                await ex.edit_order(placed["id"], SYMBOL, "limit", "buy", 0.004, lower)

    run(body())


def test_amend_refusals_and_cancel_on_fail() -> None:
    async def body() -> None:
        async with TradingHarness("okx") as h:
            assert h.cluster is not None
            h.cluster.pause()
            ex = h.client()
            await ex.load_markets()
            bid, ask = touch(h, "BTC-USDT")
            with pytest.raises(ccxt.OrderNotFound, match="51503"):
                await ex.edit_order("123456", SYMBOL, "limit", "buy", 0.002, float(bid))
            below = float(ex.price_to_precision(SYMBOL, float(bid * Decimal("0.98"))))
            maker = await ex.create_order(SYMBOL, "limit", "buy", 0.002, below, {"postOnly": True})
            with pytest.raises(ccxt.ExchangeError, match="51511"):  # post-only would take: the order stays
                await ex.edit_order(maker["id"], SYMBOL, "limit", "buy", None, float(ask))
            kept = await ex.fetch_order(maker["id"], SYMBOL)
            assert kept["status"] == "open" and kept["price"] == below
            with pytest.raises(ccxt.InsufficientFunds, match="51502"):  # far beyond the balance, and cancelled for it
                await ex.edit_order(maker["id"], SYMBOL, "limit", "buy", 10_000, None, {"cxlOnFail": True})
            assert (await ex.fetch_order(maker["id"], SYMBOL))["status"] == "canceled"
            with pytest.raises(ccxt.OrderNotFound, match="51509"):
                await ex.edit_order(maker["id"], SYMBOL, "limit", "buy", 0.002, float(bid))
            assert h.sim.engine.account("main").locked.get("USDT", Decimal(0)) == 0

    run(body())


def test_an_amended_swap_order_is_sized_in_contracts() -> None:
    async def body() -> None:
        async with TradingHarness("okx") as h:
            assert h.cluster is not None
            h.cluster.pause()
            ex = h.client(options=SWAPS)
            await ex.load_markets()
            bid, _ = touch(h, "BTC-USDT-PERP")
            price = float(ex.price_to_precision(PERP, float(bid * Decimal("0.99"))))
            placed = await ex.create_order(PERP, "limit", "buy", 2, price, {"marginMode": "cross"})
            await ex.edit_order(placed["id"], PERP, "limit", "buy", 3.5, None)
            order = await ex.fetch_order(placed["id"], PERP)
            assert order["amount"] == 3.5 and order["info"]["sz"] == "3.5" and order["price"] == price
            engine_order = h.sim.engine.orders[placed["id"]]
            assert engine_order.status is OrderStatus.OPEN
            assert engine_order.amount * h.sim.engine.markets["BTC-USDT-PERP"].lot == Decimal("0.035")
            with pytest.raises(ccxt.InvalidOrder, match="51121"):  # half a ladder lot, sent raw past ccxt's rounding
                await ex.private_post_trade_amend_order({"instId": "BTC-USDT-SWAP", "ordId": placed["id"], "newSz": "0.05"})

    run(body())


def test_the_funding_rate_and_its_next_times() -> None:
    async def body() -> None:
        async with TradingHarness("okx") as h:
            ex = h.client(options=SWAPS)
            await ex.load_markets()
            rate = await ex.fetch_funding_rate(PERP)
            now = int(time.time() * 1000)
            # the premium over the index, within OKX's cap (the exact formula: test_ccxt_market_data.py)
            assert rate["symbol"] == PERP and abs(rate["fundingRate"]) <= 0.0075 and rate["interval"] == "8h"
            assert rate["fundingTimestamp"] % EIGHT_HOURS_MS == 0 and now < rate["fundingTimestamp"] <= now + EIGHT_HOURS_MS
            assert rate["nextFundingTimestamp"] == rate["fundingTimestamp"] + EIGHT_HOURS_MS
            assert abs((await ex.fetch_funding_rate("BTC/USD:BTC"))["fundingRate"]) <= 0.0075
            with pytest.raises(ccxt.ExchangeError):  # ccxt itself refuses a spot market
                await ex.fetch_funding_rate(SYMBOL)
            with pytest.raises(ccxt.BadSymbol, match="51001"):
                await ex.public_get_public_funding_rate({"instId": "BTC-USDT"})

    run(body())


def test_transfers_move_funds_between_the_master_and_its_sub_account() -> None:
    async def body() -> None:
        async with TradingHarness("okx") as h:
            engine = h.sim.engine
            engine.open_account("sub1", {"USDT": Decimal(50)}, parent="main")
            engine.open_account("stranger", {"USDT": Decimal(50)})
            ex = h.client()
            await ex.load_markets()
            sent = await ex.transfer("USDT", 100, "master", "sub1")
            assert sent["id"] and sent["currency"] == "USDT" and sent["amount"] == 100
            assert sent["info"]["from"] == "6" and sent["info"]["to"] == "6"
            assert engine.account("sub1").balances["USDT"] == 150 and engine.account("main").balances["USDT"] == 10_000_000 - 100
            await ex.transfer("USDT", 150, "sub1", "master")
            assert engine.account("sub1").balances["USDT"] == 0 and engine.account("main").balances["USDT"] == 10_000_000 + 50
            with pytest.raises(ccxt.InsufficientFunds, match="58350"):  # would overdraw the sub-account
                await ex.transfer("USDT", 1, "sub1", "master")
            with pytest.raises(ccxt.ExchangeError, match="58115"):  # not a sub-account of this master
                await ex.transfer("USDT", 1, "master", "stranger")
            sub = ex.__class__({**h.sim.ccxt_config(h.sim.issue_key("sub1")), "enableRateLimit": False})
            h.clients.append(sub)
            await sub.load_markets()
            with pytest.raises(ccxt.ExchangeError, match="58103"):  # a sub-account's key moves no master funds
                await sub.transfer("USDT", 1, "master", "sub1")

    run(body())
