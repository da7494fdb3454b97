"""The account's actual rates, read through an unmodified ccxt client from each simulated venue's
fee endpoint, and the schedule where a venue has none."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from crossbook.model import Kind, OrderType, Side
from crossbook.routing.fees import FeeBook, FeeProfile, account_rates
from crossbook.symbols import parse_standard
from crossbook.trading.account import VenueAccount
from crossbook.trading.journal import Journal
from crossbook.venues.registry import fee_schedule, venue_of
from crossbook.venues.spec.fees import ACCOUNT, SCHEDULE

from ..conftest import run
from ..sim.trading_contract import TradingHarness, trading_feeds

# rates no schedule lists, so only the venue's answer can produce them
MAKER = Decimal("0.00017")
TAKER = Decimal("0.00033")

FEE_FEEDS = [*trading_feeds(), "binanceusdm", "binancecoinm", "bybitlinear", "gateswap"]


async def open_account(h: TradingHarness, journal: Journal) -> VenueAccount:
    account = VenueAccount(venue_of(h.feed_id), h.client(), journal)
    await account.load()
    return account


@pytest.mark.parametrize("feed_id", FEE_FEEDS)
def test_the_account_rates_are_what_the_engine_charges(feed_id: str, tmp_path: Path) -> None:
    async def body() -> None:
        async with TradingHarness(feed_id) as h:
            h.sim.engine.maker_fee, h.sim.engine.taker_fee = MAKER, TAKER
            with Journal(tmp_path / "j.db") as journal:
                account = await open_account(h, journal)
                venue = venue_of(feed_id)
                book = FeeBook(accounts={venue: account})
                rates = await book.rates(venue, h.symbol)
                assert rates.source == ACCOUNT and rates.tier is None
                assert (rates.maker, rates.taker) == pytest.approx((float(MAKER), float(TAKER)), rel=1e-9)
                # and the engine charges the account exactly that on a taker fill
                engine = h.sim.engine
                _, ask = h.touch()
                lot = engine.markets[h.symbol].lot
                order = engine.submit("main", h.symbol, Side.BUY, OrderType.LIMIT, lot * 10, ask)
                fill = next(f for f in engine.fills if f.order_id == order.order_id)
                notional_rate = fill.fee / (fill.amount if fill.fee_currency == parse_standard(h.symbol)[0] else fill.price * fill.amount)
                assert fill.taker and notional_rate == TAKER
                await account.client.close()

    run(body())


def test_a_venue_without_a_fee_endpoint_falls_back_to_the_schedule(tmp_path: Path) -> None:
    """ccxt has no fetchTradingFee for dYdX: the schedule at the declared tier answers."""
    async def body() -> None:
        async with TradingHarness("dydx") as h:
            h.sim.engine.maker_fee, h.sim.engine.taker_fee = MAKER, TAKER
            with Journal(tmp_path / "j.db") as journal:
                account = await open_account(h, journal)
                assert await account_rates(account, h.symbol) is None
                book = FeeBook({"dydx": FeeProfile(volume_30d_usd=30e6)}, {"dydx": account})
                rates = await book.rates("dydx", h.symbol)
                assert rates.source == SCHEDULE and rates.tier == "Tier 4"
                assert (rates.maker, rates.taker) == (0.0, 0.00035)
                await account.client.close()

    run(body())


def test_an_account_without_keys_or_without_the_symbol_uses_the_schedule(tmp_path: Path) -> None:
    async def body() -> None:
        async with TradingHarness("binance") as h:
            with Journal(tmp_path / "j.db") as journal:
                account = await open_account(h, journal)
                assert await account_rates(account, "DOGE-USDT") is None  # not a market there
                account.client.apiKey = ""
                book = FeeBook({"binance": FeeProfile(tier="VIP 3", pay_with_token=True)}, {"binance": account})
                rates = await book.rates("binance", h.symbol)
                assert rates.source == SCHEDULE and rates.tier == "VIP 3"
                vip3 = fee_schedule("binance").tier_named("VIP 3", Kind.SPOT)
                assert (rates.maker, rates.taker) == pytest.approx((vip3.maker * 0.75, vip3.taker * 0.75))
                await account.client.close()

    run(body())

