"""The simulators serve what ccxt asks: each of the eleven ccxt ids crossbook trades through (and the
perpetuals' servers that "bybit" and "gate" also trade), as an
unmodified ccxt async client configured for its simulator, through every unified read and the order
round trip: load_markets, fetch_ticker, fetch_order_book, fetch_trades, fetch_ohlcv,
fetch_balance, create / fetch / cancel order, fetch_open_orders, fetch_my_trades and the trading fee
reads. A method ccxt does not implement for an id is named from ``client.has`` (and must raise
NotSupported); every other answer is checked for sane values, not only for success.

One simulator per venue (the cluster lives inside the test's own event loop); the book is paused
once the tape has prints, so the ticker and the book can be compared exactly."""

from __future__ import annotations

import time
from typing import Any

import ccxt
import pytest

from crossbook.sim.venues import sim_class

from ..conftest import run, wait_for
from .trading_contract import TradingHarness

CCXT_IDS = ("binance", "binanceusdm", "okx", "bybit", "dydx", "coinbase", "kraken", "kucoin", "gate", "mexc", "bitget")
# the perpetuals' servers that a ccxt id of the list trades too (as "bybit" and "gate")
DERIVATIVE_SERVERS = ("bybitlinear", "gateswap")

# What ccxt 4.5.90 itself does not implement per id (``has[...]`` False): the test asserts exactly
# these raise NotSupported, so a ccxt upgrade that adds one shows up here.
CCXT_LACKS: dict[str, frozenset[str]] = {
    "binance": frozenset(),
    "binanceusdm": frozenset(),
    "okx": frozenset({"fetchTradingFees"}),
    "bybit": frozenset(),
    "dydx": frozenset({"fetchTicker", "fetchMyTrades", "fetchTradingFee", "fetchTradingFees"}),
    "coinbase": frozenset(),
    "kraken": frozenset({"fetchTradingFees"}),
    "kucoin": frozenset({"fetchTradingFees"}),
    "gate": frozenset(),
    "mexc": frozenset({"fetchTradingFees"}),
    "bitget": frozenset(),
    "bybitlinear": frozenset(),
    "gateswap": frozenset(),
}
RESTING = 0.01  # base amount of the resting limit buy
TAKEN = 0.05  # base amount of the market sell


class Surface:
    """One venue's unmodified ccxt client, its first market, and the methods ccxt lacks there."""

    def __init__(self, h: TradingHarness, ex: Any) -> None:
        self.h = h
        self.ex = ex
        self.symbol = h.ccxt_symbol(ex)
        self.market = ex.markets[self.symbol]
        self.lacking: set[str] = set()
        # order amounts in ccxt's unit for the market: contracts where a contract is not one base unit
        per_contract = self.market["contractSize"] or 1
        self.resting = round(RESTING / per_contract, 8)
        self.taken = round(TAKEN / per_contract, 8)

    async def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """``method`` (ccxt's camelCase name) if ccxt has it for this id; else assert ccxt refuses it
        itself (NotSupported, nothing sent) and return None."""
        if self.ex.has.get(method) is False:
            self.lacking.add(method)
            with pytest.raises(ccxt.NotSupported):
                await getattr(self.ex, method)(*args, **kwargs)
            return None
        return await getattr(self.ex, method)(*args, **kwargs)

    def touch(self) -> tuple[float, float]:
        bid, ask = self.h.touch()
        return float(bid), float(ask)

    def price(self, value: float) -> Any:
        return self.ex.price_to_precision(self.symbol, value)


def test_the_ids_are_the_ccxt_map() -> None:
    """The eleven ids ../shared/CCXT_MAP.md measures, each with a simulator whose ccxt id it is."""
    assert [sim_class(i).ccxt_id for i in CCXT_IDS] == list(CCXT_IDS)


@pytest.mark.parametrize("server", CCXT_IDS + DERIVATIVE_SERVERS)
def test_every_unified_method_ccxt_has_is_served_with_sane_values(server: str) -> None:
    async def body() -> None:
        async with TradingHarness(server) as h:
            ex = h.client()
            await ex.load_markets()
            s = Surface(h, ex)
            await wait_for(lambda: len(h.sim.tape.recent(h.symbol, 3)) == 3, 30, f"{server}: three public trades printed")
            assert h.cluster is not None
            h.cluster.pause()
            book = await check_order_book(s)
            await check_ticker(s, book)
            await check_public_trades(s)
            await check_ohlcv(s)
            await check_balance(s)
            await check_resting_order_round_trip(s)
            await check_fill_and_my_trades(s)
            await check_trading_fees(s)
            assert s.lacking == CCXT_LACKS[server]

    run(body(), timeout=90)


async def check_order_book(s: Surface) -> dict[str, Any]:
    book = await s.call("fetchOrderBook", s.symbol)
    bids, asks = book["bids"], book["asks"]
    assert book["symbol"] == s.symbol and bids and asks
    assert all(level[1] > 0 for level in bids + asks)
    assert [b[0] for b in bids] == sorted((b[0] for b in bids), reverse=True) and len({b[0] for b in bids}) == len(bids)
    assert [a[0] for a in asks] == sorted(a[0] for a in asks) and len({a[0] for a in asks}) == len(asks)
    assert bids[0][0] < asks[0][0], f"crossed book {bids[0]} / {asks[0]}"
    assert (bids[0][0], asks[0][0]) == s.touch()  # the venue's own touch: the market is paused
    return dict(book)


async def check_ticker(s: Surface, book: dict[str, Any]) -> None:
    ticker = await s.call("fetchTicker", s.symbol)
    if ticker is None:
        return
    assert ticker["symbol"] == s.symbol and isinstance(ticker["timestamp"], int | None)  # Bybit's rows carry no time
    best_bid, best_ask = book["bids"][0][0], book["asks"][0][0]
    if ticker["bid"] is not None or ticker["ask"] is not None:  # Binance USD-M's day ticker has no touch
        assert ticker["bid"] <= ticker["ask"]
        assert (ticker["bid"], ticker["ask"]) == (best_bid, best_ask)
    assert abs(ticker["last"] / ((best_bid + best_ask) / 2) - 1) < 0.01, "the last trade is near the book"
    if s.ex.id != "coinbase":  # Coinbase's ticker is its newest trades and the touch: no day statistics
        assert ticker["low"] <= ticker["last"] <= ticker["high"] and ticker["baseVolume"] > 0


async def check_public_trades(s: Surface) -> None:
    trades = await s.call("fetchTrades", s.symbol)
    assert trades, "the tape has prints"
    bid, ask = s.touch()
    now = time.time() * 1000
    for t in trades:
        assert t["symbol"] == s.symbol and t["side"] in ("buy", "sell")
        assert t["amount"] > 0 and abs(t["price"] / ((bid + ask) / 2) - 1) < 0.01
        assert now - 120_000 < t["timestamp"] <= now + 1_000
    assert [t["timestamp"] for t in trades] == sorted(t["timestamp"] for t in trades)


async def check_ohlcv(s: Surface) -> None:
    candles = await s.call("fetchOHLCV", s.symbol, "1m")
    assert candles, "a minute with trades has a candle"
    for ts, open_, high, low, close, volume in candles:
        assert ts % 60_000 == 0 and volume > 0
        assert high >= max(open_, close) and low <= min(open_, close) and low > 0
    assert [c[0] for c in candles] == sorted({c[0] for c in candles})
    assert abs(candles[-1][4] / sum(s.touch()) * 2 - 1) < 0.01


async def check_balance(s: Surface) -> None:
    balance = await s.call("fetchBalance")
    quote, base = s.market["settle"] or s.market["quote"], s.market["base"]
    assert balance[quote]["free"] == 10_000_000
    assert balance[quote]["total"] in (10_000_000, None if s.ex.id == "dydx" else 10_000_000)  # ccxt reads dYdX's free collateral alone
    if s.market["spot"]:
        assert balance[base]["total"] == 1_000


async def check_resting_order_round_trip(s: Surface) -> None:
    bid, _ = s.touch()
    price = s.price(bid * 0.99)
    order = await s.call("createOrder", s.symbol, "limit", "buy", s.resting, price)
    assert order["id"]
    fetched = await s.call("fetchOrder", order["id"], s.symbol)
    assert fetched["id"] == order["id"] and fetched["symbol"] == s.symbol
    assert fetched["status"] == "open" and fetched["side"] == "buy"
    assert fetched["type"].lower() == "limit"  # ccxt's dYdX parser keeps the indexer's "LIMIT"
    assert fetched["amount"] == s.resting and fetched["filled"] == 0 and fetched["price"] == float(price)
    assert [o["id"] for o in await s.call("fetchOpenOrders", s.symbol)] == [order["id"]]
    # dYdX cancels by the client id (ccxt itself rejects the indexer's uuid there)
    await s.call("cancelOrder", order["clientOrderId"] if s.ex.id == "dydx" else order["id"], s.symbol)
    canceled = await s.call("fetchOrder", order["id"], s.symbol)
    assert canceled["id"] == order["id"] and canceled["status"] == "canceled" and canceled["filled"] == 0
    assert await s.call("fetchOpenOrders", s.symbol) == []


async def check_fill_and_my_trades(s: Surface) -> None:
    """A market sell fills; it prints on the public tape (the market is paused: nothing else does)
    and, where ccxt reads them, in the account's trades with the taker fee."""
    bid, _ = s.touch()
    worst = s.price(bid * 0.95) if s.ex.id == "dydx" else None  # dYdX's market orders carry their worst price
    sent_at = int(time.time() * 1000)
    sent = await s.call("createOrder", s.symbol, "market", "sell", s.taken, worst)
    order = await s.call("fetchOrder", sent["id"], s.symbol)
    assert order["id"] == sent["id"] and order["status"] == "closed" and order["filled"] == s.taken
    assert order["side"] == "sell" and order["remaining"] == 0
    printed = [t for t in await s.call("fetchTrades", s.symbol) if t["timestamp"] >= sent_at]
    # Coinbase prints the maker's side on public trades and ccxt passes it through
    tape_side = "buy" if s.ex.id == "coinbase" else "sell"
    assert {t["side"] for t in printed} == {tape_side} and sum(t["amount"] for t in printed) == pytest.approx(s.taken)
    mine = await s.call("fetchMyTrades", s.symbol)
    if mine is None:
        return
    fills = [t for t in mine if t["order"] == sent["id"]]
    assert fills and sum(t["amount"] for t in fills) == pytest.approx(s.taken)
    taker = float(s.h.sim.engine.taker_fee)
    for t in fills:
        assert t["side"] == "sell" and t["symbol"] == s.symbol and t["price"] > 0 and isinstance(t["timestamp"], int)
        assert t["fee"]["currency"] and t["fee"]["cost"] == pytest.approx(t["cost"] * taker)
    assert order["average"] == pytest.approx(sum(t["cost"] for t in fills) / s.taken / (s.market["contractSize"] or 1))


async def check_trading_fees(s: Surface) -> None:
    """The venue's fee rates: the singular read is the engine's own schedule; the plural one has
    the market (ccxt derives Binance USD-M's from a fee tier table of its own)."""
    engine = s.h.sim.engine
    one = await s.call("fetchTradingFee", s.symbol)
    if one is not None:
        assert one["symbol"] == s.symbol
        assert (one["maker"], one["taker"]) == (float(engine.maker_fee), float(engine.taker_fee))
    every = await s.call("fetchTradingFees")
    if s.ex.id == "bybit" and s.market["spot"]:  # ccxt asks Bybit for the contracts' fees (no category): the spot server lists none
        assert every == {}
    elif every is not None:
        fee = every[s.symbol]
        assert 0 <= fee["maker"] <= fee["taker"] < 0.02
        assert fee["taker"] == float(engine.taker_fee) or s.ex.id == "binanceusdm"
