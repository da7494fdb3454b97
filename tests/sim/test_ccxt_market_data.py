"""Unmodified ccxt's market-data reads succeed against every simulator that has a ccxt client:
fetch_ohlcv, fetch_ticker, fetch_funding_rate, fetch_open_interest and fetch_funding_rate_history, wherever ccxt implements
the call for the id (``client.has``), the venue serves it for the market type (Bybit has no option
candles) and the simulator lists the market type it needs (funding and open interest: a perpetual);
candles and the ticker on its spot, perpetual and option markets. Each answer is checked against the simulator's own market: the
candles are its tape's, the ticker's last is its last print and sits in its book, the funding
rate is the venue's formula on the premium of its mark over its index, with its next settlement,
its history is its own settlements, and open interest is positive and grows by what a
market order opens.

One cluster of every simulator for the module, on its own event loop; the market is paused once
every tested symbol has prints, so the venue's tape and book can be compared exactly."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import ccxt.async_support as ccxt_async
import pytest

from crossbook.desk.funding import funding_client, funding_client_config
from crossbook.model import Kind, OrderType, Side
from crossbook.sim.access import confined
from crossbook.sim.cluster import SimCluster
from crossbook.sim.perp_prices import PerpPrices
from crossbook.sim.server import SimVenue
from crossbook.sim.venues import sim_class
from crossbook.symbols import parse_standard
from crossbook.venues.registry import spec

from ..conftest import wait_for

# every simulator: an unmodified ccxt client reads each (bybitinverse and bitgetfutures trade through
# none yet: the keyless client their venue's SPEC reads funding with reads them, ``funding_client``)
FEEDS = ("binance", "binanceusdm", "binancecoinm", "okx", "bybit", "bybitlinear", "bybitinverse", "dydx", "coinbase",
         "kraken", "kucoin", "gate", "gateswap", "mexc", "bitget", "bitgetfutures", "binanceoptions", "okxoptions",
         "bybitoption")
CALLS = ("fetchOHLCV", "fetchTicker", "fetchFundingRate", "fetchOpenInterest", "fetchFundingRateHistory")
PERP_CALLS = frozenset({"fetchFundingRate", "fetchOpenInterest", "fetchFundingRateHistory"})
EIGHT_HOURS_MS = 8 * 3_600_000

# (feed, call) left out, and why: ccxt 4.5.90 lacks the call for the id, or the simulator lists
# no perpetual. A ccxt upgrade or a new simulated market shows up here.
NOT_APPLICABLE: dict[tuple[str, str], str] = {
    **{(f, c): "spot only" for f in ("binance", "bybit", "kucoin", "gate", "mexc", "bitget") for c in sorted(PERP_CALLS)},
    ("gate", "fetchOpenInterest"): "ccxt", ("mexc", "fetchOpenInterest"): "ccxt",
    **{(f, c): "ccxt" for f in ("coinbase", "kraken") for c in sorted(PERP_CALLS)},
    ("dydx", "fetchTicker"): "ccxt", ("dydx", "fetchFundingRate"): "ccxt", ("dydx", "fetchOpenInterest"): "ccxt",
    ("gateswap", "fetchOpenInterest"): "ccxt",
    **{(f, c): "options only" for f in ("binanceoptions", "okxoptions", "bybitoption") for c in sorted(PERP_CALLS)},
    ("bybitoption", "fetchOHLCV"): "venue",
}
# calls ccxt has for the id that the venue does not serve for the simulator's market type: Bybit's
# /v5/market/kline takes spot, linear and inverse only (ccxt 4.5.90 asks it for category=linear)
VENUE_LACKS: frozenset[tuple[str, str]] = frozenset({("bybitoption", "fetchOHLCV")})


def trading_ccxt_id(feed: str) -> str | None:
    """The ccxt client that trades on ``feed``'s simulator, None where only a keyless one reads it."""
    cls = sim_class(feed)
    return cls.ccxt_id or cls.client_ccxt_id


def ccxt_class(feed: str) -> Any:
    reader = funding_client(feed)
    ccxt_id = trading_ccxt_id(feed) or (reader.ccxt_id if reader is not None else None)
    assert ccxt_id is not None, feed
    return getattr(ccxt_async, ccxt_id)


def kinds(feed: str) -> list[tuple[Kind, str]]:
    """The first spot, the first perpetual and the first option market the simulator lists."""
    first: dict[Kind, str] = {}
    for symbol in sim_class(feed).markets:
        first.setdefault(parse_standard(symbol)[2], symbol)
    return [(k, first[k]) for k in (Kind.SPOT, Kind.PERP, Kind.OPTION) if k in first]


def why_not(feed: str, call: str) -> str | None:
    """Why (feed, call) is not applicable: "ccxt" (the id lacks it), "venue" (the venue serves
    it for none of the simulator's markets), "spot only", "options only"; None if it is."""
    if not ccxt_class(feed)().has.get(call):
        return "ccxt"
    if (feed, call) in VENUE_LACKS:
        return "venue"
    if call in PERP_CALLS and all(kind is not Kind.PERP for kind, _ in kinds(feed)):
        return "options only" if all(kind is Kind.OPTION for kind, _ in kinds(feed)) else "spot only"
    return None


def cases() -> list[tuple[str, str, str]]:
    """(feed, market, call) for every applicable pair: the perpetual for funding and open
    interest, each of the spot, perpetual and option markets for candles and the ticker."""
    out = []
    for feed in FEEDS:
        for call in CALLS:
            if why_not(feed, call) is None:
                out += [(feed, symbol, call) for kind, symbol in kinds(feed) if kind is Kind.PERP or call not in PERP_CALLS]
    return out


@dataclass
class Cluster:
    loop: asyncio.AbstractEventLoop
    cluster: SimCluster
    clients: dict[str, Any]

    def run(self, coro: Coroutine[Any, Any, Any], timeout: float = 60.0) -> Any:
        return self.loop.run_until_complete(asyncio.wait_for(coro, timeout))

    def sim(self, feed: str) -> SimVenue:
        return self.cluster.venues[feed]

    def ccxt_symbol(self, feed: str, symbol: str) -> str:
        client, sim = self.clients[feed], self.sim(feed)
        return str(client.markets_by_id[sim.ccxt_market_id(symbol)][0]["symbol"])


def client_config(sim: SimVenue) -> dict[str, Any]:
    """An unmodified ccxt client of ``sim``'s funded account, every URL on the simulator; one
    that reads both of OKX's market types; the keyless reader where no ccxt client trades there."""
    for symbol in sim.markets:
        base, quote, _, _ = parse_standard(symbol)
        account = sim.engine.accounts.get("main") or sim.engine.open_account("main")
        for asset, amount in ((quote, 10_000_000), (base, 1_000)):
            account.balances.setdefault(asset, Decimal(amount))
        break
    if trading_ccxt_id(sim.venue) is None:
        config = funding_client_config(sim.venue, sim.venue_id, {sim.venue: (sim.ws_url, sim.rest_url)})
        assert config is not None, sim.venue
        return config
    config = confined(sim.ccxt_config(sim.issue_key("main")), sim.rest_url, sim.ws_url)
    config["enableRateLimit"] = False  # the limits have their own tests
    if sim.venue == "okx":
        config["options"] = {**config["options"], "fetchMarkets": {"types": ["spot", "swap"]}}
    elif any(kind is Kind.PERP for kind, _ in kinds(sim.venue)):
        config["options"] = {**config["options"], **spec(sim.venue_id).perp_ccxt_options}
    return config


async def start(cluster: SimCluster, clients: dict[str, Any]) -> None:
    """Start ``cluster``, a loaded client per simulator into ``clients``; then pause the market."""
    await cluster.start()
    clients |= {f: ccxt_class(f)(client_config(sim)) for f, sim in cluster.venues.items()}
    await asyncio.gather(*(c.load_markets() for c in clients.values()))
    symbols = [(sim, s) for f, sim in cluster.venues.items() for _, s in kinds(f)]
    await wait_for(lambda: all(len(sim.tape.recent(s, 3)) == 3 for sim, s in symbols), 60, "three prints on every market")
    cluster.pause()


@pytest.fixture(scope="module")
def venues() -> Iterator[Cluster]:
    loop = asyncio.new_event_loop()
    cluster = SimCluster(list(FEEDS), interval=0.05, levels=80, enforce_limits=False)
    clients: dict[str, Any] = {}
    try:
        loop.run_until_complete(asyncio.wait_for(start(cluster, clients), 120))
        yield Cluster(loop, cluster, clients)
    finally:
        for client in clients.values():
            loop.run_until_complete(client.close())
        loop.run_until_complete(cluster.stop())
        loop.close()


def test_the_pairs_left_out_are_exactly_the_ones_ccxt_or_the_simulator_lacks() -> None:
    left_out = {(f, c): why for f in FEEDS for c in CALLS if (why := why_not(f, c)) is not None}
    assert left_out == NOT_APPLICABLE
    assert {(f, c) for f, _, c in cases()} == {(f, c) for f in FEEDS for c in CALLS} - set(NOT_APPLICABLE)


@pytest.mark.parametrize(("feed", "symbol", "call"), cases())
def test_ccxt_reads_the_simulators_own_market(venues: Cluster, feed: str, symbol: str, call: str) -> None:
    check = {"fetchOHLCV": check_ohlcv, "fetchTicker": check_ticker,
             "fetchFundingRate": check_funding, "fetchOpenInterest": check_open_interest,
             "fetchFundingRateHistory": check_funding_history}[call]
    venues.run(check(venues, feed, symbol))


@pytest.mark.parametrize(("feed", "call"), sorted(VENUE_LACKS))
def test_what_the_venue_lacks_is_refused_as_it_refuses_it(venues: Cluster, feed: str, call: str) -> None:
    method = getattr(venues.clients[feed], {"fetchOHLCV": "fetch_ohlcv"}[call])
    for _, symbol in kinds(feed):
        with pytest.raises(ccxt_async.BadRequest):
            venues.run(method(venues.ccxt_symbol(feed, symbol)))


def book_range(sim: SimVenue, symbol: str) -> tuple[float, float, float, float]:
    """(deepest bid, best bid, best ask, deepest ask) of the venue's book now."""
    ladder = sim.ladders[symbol]
    return tuple(float(ladder.price_str(t)) for t in (min(ladder.bids), max(ladder.bids), min(ladder.asks), max(ladder.asks)))  # type: ignore[return-value]


async def check_ohlcv(v: Cluster, feed: str, symbol: str) -> None:
    rows = await v.clients[feed].fetch_ohlcv(v.ccxt_symbol(feed, symbol), "1m")
    assert rows, "minutes with prints have candles"
    for ts, open_, high, low, close, volume in rows:
        assert ts % 60_000 == 0 and volume > 0
        assert 0 < low <= min(open_, close) and max(open_, close) <= high
    assert [r[0] for r in rows] == sorted({r[0] for r in rows}), "ascending, one row a minute"
    own = v.sim(feed).tape.candles(symbol, 60, len(rows))
    assert [tuple(r[:5]) for r in rows[-len(own):]] == [
        (c.start_ms, float(c.open), float(c.high), float(c.low), float(c.close)) for c in own
    ], "the candles are the simulator's own tape's"


async def check_ticker(v: Cluster, feed: str, symbol: str) -> None:
    sim, market = v.sim(feed), v.ccxt_symbol(feed, symbol)
    ticker = await v.clients[feed].fetch_ticker(market)
    deepest_bid, bid, ask, deepest_ask = book_range(sim, symbol)
    assert ticker["symbol"] == market
    assert ticker["last"] == float(sim.tape.day(symbol).last), "the last is the simulator's last print"
    assert deepest_bid <= ticker["last"] <= deepest_ask, "the last is within the book"
    if ticker["bid"] is not None and ticker["ask"] is not None:  # Binance's futures day ticker has no touch
        assert (ticker["bid"], ticker["ask"]) == (bid, ask)
    if ticker["high"] is not None:  # Coinbase's ticker has no day statistics
        assert ticker["low"] <= ticker["last"] <= ticker["high"]


async def check_funding(v: Cluster, feed: str, symbol: str) -> None:
    market = v.ccxt_symbol(feed, symbol)
    now = time.time() * 1000
    funding = await v.clients[feed].fetch_funding_rate(market)
    assert funding["symbol"] == market
    assert math.isfinite(funding["fundingRate"]) and abs(funding["fundingRate"]) < 0.01
    settles = funding["fundingTimestamp"]
    assert isinstance(settles, int) and settles % 3_600_000 == 0, "the next settlement, on the hour"
    assert now < settles <= now + EIGHT_HOURS_MS + 1_000
    sim = v.sim(feed)
    assert isinstance(sim, PerpPrices)
    if funding["markPrice"] is not None:
        _, bid, ask, _ = book_range(sim, symbol)
        assert bid <= funding["markPrice"] <= ask, "the mark is the book's"
        assert funding["markPrice"] == float(sim.mark(symbol))
    if funding["indexPrice"] is not None:
        assert funding["indexPrice"] == float(sim.index(symbol)), "the index is the simulator's"
    premium = sim.mark(symbol) / sim.index(symbol) - 1
    assert funding["fundingRate"] == pytest.approx(float(sim.funding_rule.rate(premium)), abs=1e-8), \
        "the rate is the venue's formula on the premium of the simulator's mark over its index"


async def check_funding_history(v: Cluster, feed: str, symbol: str) -> None:
    """The newest settlements, one per funding interval up to now, are the simulator's own."""
    sim, market = v.sim(feed), v.ccxt_symbol(feed, symbol)
    assert isinstance(sim, PerpPrices)
    rows = await v.clients[feed].fetch_funding_rate_history(market, None, 5)
    assert rows and all(r["symbol"] == market for r in rows)
    times = [r["timestamp"] for r in rows]
    every = sim.funding_rule.interval_ms
    assert times == sorted(set(times)) and all(t % every == 0 for t in times), "ascending, on the venue's boundaries"
    assert times[-1] <= sim.tape.clock() < times[-1] + 2 * every, "up to the last settlement"
    own = {s.ms: float(s.rate) for s in sim.funding_history(symbol, times[0], times[-1], len(times))}
    assert {t: r["fundingRate"] for t, r in zip(times, rows, strict=True)} == own


def test_funding_differs_between_venues_as_each_formula_says(venues: Cluster) -> None:
    """The same underlying's funding is not one constant: the venues' formulas and books differ."""
    perps = [(f, s) for f, s, c in cases() if c == "fetchFundingRate"]
    now = {(f, s): venues.run(venues.clients[f].fetch_funding_rate(venues.ccxt_symbol(f, s)))["fundingRate"] for f, s in perps}
    assert len(set(now.values())) > 1, now
    past = {f: tuple(r.rate for r in sim.funding_history(s, limit=30))
            for f, s in perps if isinstance(sim := venues.sim(f), PerpPrices)}
    assert len(set(past.values())) == len(past), "each venue's past settlements are its own"


async def check_open_interest(v: Cluster, feed: str, symbol: str) -> None:
    """Positive, in ccxt's contracts; a market buy of n contracts from flat raises it by n. ccxt's
    Bybit gives an inverse contract's open interest as its value (contracts of 1 USD), rounded
    to a whole contract by the venue: it grows by n within that rounding."""
    client, market = v.clients[feed], v.ccxt_symbol(feed, symbol)
    inverse = bool(client.markets[market]["inverse"]) and client.id == "bybit"
    field = "openInterestValue" if inverse else "openInterestAmount"
    before = await client.fetch_open_interest(market)
    assert before["symbol"] == market and before[field] > 0 and isinstance(before["timestamp"], int)
    contracts = 5 * client.markets[market]["limits"]["amount"]["min"]
    if trading_ccxt_id(feed) is None:  # no ccxt trading surface: the account buys on the venue's engine
        contracts = buy_on_engine(v.sim(feed), symbol, contracts, client.markets[market])
    else:
        params = {"marginMode": "cross"} if client.id == "okx" else {}
        order = await client.create_order(market, "market", "buy", contracts, None, params)
        assert order["id"]
    after = await client.fetch_open_interest(market)
    assert contracts > 0
    assert after[field] == pytest.approx(before[field] + contracts, abs=1 if inverse else 1e-12)


def buy_on_engine(sim: SimVenue, symbol: str, contracts: float, market: dict[str, Any]) -> float:
    """A market buy of ``contracts`` (ccxt's) on ``sim``'s engine, in the engine's base units:
    an inverse contract is worth ``contractSize`` of the quote, so it buys whole lots of the base
    worth about that much at the mark. The contracts it opened, as ccxt counts them."""
    assert isinstance(sim, PerpPrices)
    lot = sim.engine.markets[symbol].lot
    if market["inverse"]:
        mark = sim.mark(symbol)
        lots = max(Decimal(1), (Decimal(repr(contracts * market["contractSize"])) / mark / lot).to_integral_value())
        opened = float(round(lots * lot * mark))
    else:
        lots = (Decimal(repr(contracts * market["contractSize"])) / lot).to_integral_value()
        opened = contracts
    sim.engine.submit("main", symbol, Side.BUY, OrderType.MARKET, lots * lot)
    return opened
