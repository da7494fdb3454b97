"""Refusals go through one mechanism: each simulated venue answers a refused request with the
shape in its own module's ``REFUSALS`` table (code, message, HTTP status), rendered in the venue's
body, and an unmodified ccxt client maps that answer to the ccxt exception for it."""

from __future__ import annotations

import time
from decimal import Decimal
from importlib import import_module
from typing import Any

import ccxt
import orjson
import pytest

from crossbook.sim.ratelimit import Over
from crossbook.sim.refusal import ErrorShape, Reason, Refusal
from crossbook.sim.venues import sim_class
from crossbook.venues.registry import venue_of

from ..conftest import run
from .trading_contract import TradingHarness, trading_feeds

RATE_LIMITED = (ccxt.RateLimitExceeded, ccxt.DDoSProtection)
# an order id in each venue's own format that names no order
UNKNOWN_ORDER_IDS = {
    "coinbase": "00000000-0000-4000-8000-000000000000",
    "kraken": "OAAAAA-AAAAA-AAAAAA",
    "kucoin": "5c35c02703aa673ceec2a168",
    "bitget": "1000000000000000000",
}
# a market id in each venue's own format that the venue does not list
UNLISTED_IDS = {
    "binance": "ZZZUSDT", "okx": "ZZZ-USDT", "bybit": "ZZZUSDT", "coinbase": "ZZZ-USD", "kraken": "ZZZUSD",
    "kucoin": "ZZZ-USDT", "gate": "ZZZ_USDT", "mexc": "ZZZUSDT", "bitget": "ZZZUSDT",
}
# what ccxt raises where its own tables map the venue's answer to another class than the rule's
CANCEL_UNKNOWN_RAISES: dict[str, type[Exception]] = {
    "coinbase": ccxt.BadRequest,  # ccxt reads a batch_cancel with success false as "cancelOrders() has failed"
    "mexc": ccxt.BadRequest,  # ccxt maps MEXC's -2011 to BadRequest
}
UNKNOWN_SYMBOL_RAISES: dict[str, type[Exception]] = {
    "bybit": ccxt.InvalidOrder,  # ccxt maps 170121 Invalid symbol to InvalidOrder
    "coinbase": ccxt.ExchangeError,  # ccxt has no entry for INVALID_PRODUCT_ID
    "kraken": ccxt.ExchangeError,  # nor for EQuery:Unknown asset pair
    "bitget": ccxt.ExchangeError,  # nor for 40034
}
FEEDS = [*trading_feeds(), "dydx"]


def refusals(feed_id: str) -> dict[Reason, ErrorShape]:
    table: dict[Reason, ErrorShape] = import_module(f"crossbook.sim.venues.{venue_of(feed_id)}.errors").REFUSALS
    return table


def ccxt_raises(client: Any, status: int, headers: dict[str, str], body: bytes) -> type[Exception] | None:
    """What ccxt raises for this HTTP answer, as its fetch does: the exchange's own error handler,
    then the generic HTTP status mapping."""
    text = body.decode()
    try:
        client.handle_errors(status, "", "http://127.0.0.1/", "GET", headers, text, orjson.loads(text), {}, "")
        client.handle_http_status_code(status, "", "http://127.0.0.1/", "GET", text)
    except ccxt.BaseError as exc:
        return type(exc)
    return None


@pytest.mark.parametrize("feed_id", FEEDS)
def test_a_rate_limit_refusal_comes_from_the_venues_table_in_its_shape(feed_id: str) -> None:
    cls = sim_class(feed_id)
    shape = refusals(feed_id)[Reason.RATE_LIMITED]
    refusal = cls.rate_limit_refusal(object.__new__(cls), Over("requests", 2.0), time.time())
    assert isinstance(refusal, Refusal)
    assert refusal.shape == shape
    response = cls.render_refusal(object.__new__(cls), refusal)
    assert response.status == shape.status
    assert isinstance(response.body, bytes)
    assert str(shape.code) in response.body.decode() or shape.code == shape.status  # dYdX's code is the status
    assert shape.message in response.body.decode()
    ccxt_id = cls.ccxt_id or cls.client_ccxt_id
    if ccxt_id is not None:
        client = getattr(ccxt, ccxt_id)()
        raised = ccxt_raises(client, response.status, dict(response.headers), response.body)
        assert raised is not None and issubclass(raised, RATE_LIMITED), f"{feed_id}: ccxt raised {raised}"


# ---- every trading venue: funds, an unknown order, an unknown symbol ---------------------------

def the_venues_answer(caught: BaseException, shape: ErrorShape) -> bool:
    """ccxt puts the venue's answer in its exception's text: the venue's own code must be there
    (Binance's text is the message alone; a code with a templated message is there as the code)."""
    return str(shape.code) in str(caught) or shape.message in str(caught)


def cancel_of_unknown(feed_id: str) -> ErrorShape:
    """What a cancel of an order the venue does not know answers (some say it otherwise than a lookup)."""
    shape: ErrorShape = import_module(f"crossbook.sim.venues.{venue_of(feed_id)}.errors").CANCEL_UNKNOWN
    return shape


def on_the_grid(h: TradingHarness, amount: Decimal) -> float:
    lot = h.sim.engine.markets[h.symbol].lot
    return float((amount // lot) * lot)


@pytest.mark.parametrize("feed_id", trading_feeds())
def test_an_order_the_account_cannot_fund_answers_in_the_venues_code(feed_id: str) -> None:
    async def body() -> None:
        async with TradingHarness(feed_id) as h:
            client = h.client()
            await client.load_markets()
            price = h.inside_bid()
            with pytest.raises(ccxt.InsufficientFunds) as caught:
                await client.create_order(h.ccxt_symbol(client), "limit", "buy", on_the_grid(h, 100_000_000 / price), float(price))
            assert the_venues_answer(caught.value, refusals(feed_id)[Reason.INSUFFICIENT_BALANCE]), str(caught.value)

    run(body())


@pytest.mark.parametrize("feed_id", trading_feeds())
def test_a_cancel_of_an_unknown_order_answers_in_the_venues_code(feed_id: str) -> None:
    async def body() -> None:
        async with TradingHarness(feed_id) as h:
            client = h.client(enableLastJsonResponse=True)
            await client.load_markets()
            with pytest.raises(CANCEL_UNKNOWN_RAISES.get(feed_id, ccxt.OrderNotFound)) as caught:
                await client.cancel_order(UNKNOWN_ORDER_IDS.get(feed_id, "123456789"), h.ccxt_symbol(client))
            if feed_id == "coinbase":  # ccxt's text for the batch answer carries none of it: read it
                assert client.last_json_response["results"][0]["failure_reason"] == cancel_of_unknown(feed_id).code
            else:
                assert the_venues_answer(caught.value, cancel_of_unknown(feed_id)), str(caught.value)

    run(body())


@pytest.mark.parametrize("feed_id", trading_feeds())
def test_an_order_on_an_unknown_symbol_answers_in_the_venues_code(feed_id: str) -> None:
    """ccxt checks a symbol against its markets before it sends anything, so the client is given
    one more market, a copy of a real one under an id the venue does not list."""

    async def body() -> None:
        async with TradingHarness(feed_id) as h:
            client = h.client()
            await client.load_markets()
            price = h.inside_bid()
            symbol = h.ccxt_symbol(client)
            unknown = {**client.markets[symbol], "symbol": "ZZZ/" + client.markets[symbol]["quote"], "base": "ZZZ",
                       "id": UNLISTED_IDS[feed_id], "baseId": "ZZZ"}
            client.set_markets([*client.markets.values(), unknown])
            with pytest.raises(ccxt.BaseError) as caught:
                await client.create_order(unknown["symbol"], "limit", "buy", on_the_grid(h, Decimal(1)), float(price))
            assert type(caught.value) is UNKNOWN_SYMBOL_RAISES.get(feed_id, ccxt.BadSymbol), repr(caught.value)
            assert the_venues_answer(caught.value, refusals(feed_id)[Reason.UNKNOWN_SYMBOL]), str(caught.value)

    run(body())
