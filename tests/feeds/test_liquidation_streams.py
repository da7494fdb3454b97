"""Liquidations from the simulators through the real feeds: Binance USD-M's ``forceOrder``, Bybit
linear's ``allLiquidation`` and OKX's ``liquidation-orders`` (by instType), each a forced order the
simulator drew from its own book, on the side the liquidated position closes, at or through the
touch; only to a feed that subscribed them."""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp
import orjson
import pytest

from crossbook.feeds.handler import Channels, FeedHandler, MarketEvent
from crossbook.feeds.manager import VenueFeed
from crossbook.model import Liquidation, Side, Trade
from crossbook.sim.cluster import SimCluster
from crossbook.sim.liquidations import ForcedOrder
from crossbook.sim.market import SimMarket
from crossbook.sim.server import SimVenue
from crossbook.sim.venues import sim_class
from crossbook.sim.venues.okx.wire import CONTRACTS
from crossbook.venues.binance import BinanceUsdm
from crossbook.venues.bybit import BybitLinear
from crossbook.venues.okx import OkxFeed

from ..conftest import run, wait_for


@dataclass(frozen=True)
class Case:
    feed: str
    handler: type[FeedHandler]
    symbols: tuple[str, ...]  # the feed's; those that liquidate are ``perps``
    perps: tuple[str, ...]
    average_price: bool  # the feed's price is the order's average fill to the tick (Binance), else its last level


CASES = [
    Case("binanceusdm", BinanceUsdm, ("BTC-USDT-PERP", "ETH-USDT-PERP"), ("BTC-USDT-PERP", "ETH-USDT-PERP"), True),
    Case("bybitlinear", BybitLinear, ("BTC-USDT-PERP", "ETH-USDT-PERP"), ("BTC-USDT-PERP", "ETH-USDT-PERP"), False),
    # OKX: a linear and an inverse SWAP (sizes in contracts of 0.01 BTC and of 100 USD), and spot, which has none
    Case("okx", OkxFeed, ("BTC-USDT-PERP", "BTC-USD-PERP", "BTC-USDT"), ("BTC-USDT-PERP", "BTC-USD-PERP"), False),
]


def base_amount(sim: SimVenue, order: ForcedOrder, price: float) -> float:
    """The order's size in base units: OKX's SWAPs count contracts of ``ctVal`` (USD on an inverse one)."""
    if sim.venue != "okx":
        return sim.ladders[order.symbol].size(order.lots)
    value, unit, _ = CONTRACTS[order.symbol]
    contracts = float(sim.size_text(order.symbol, order.lots))  # type: ignore[attr-defined]
    return contracts * float(value) / (price if unit == "USD" else 1.0)


def published(sim: SimVenue, liq: Liquidation, case: Case) -> ForcedOrder:
    """The simulator's forced order ``liq`` is, by time, symbol, side, price and size."""
    tick = sim.ladders[liq.symbol].spec.tick
    for order in sim.liquidator.orders:  # type: ignore[attr-defined]
        price = (order.average if case.average_price else order.ticks) * tick
        side = Side.SELL if order.sell else Side.BUY
        if (order.symbol, order.ms / 1000, side) == (liq.symbol, liq.ts, liq.side) and \
                liq.price == pytest.approx(price, abs=tick / 2 if case.average_price else 1e-9) and \
                liq.amount == pytest.approx(base_amount(sim, order, liq.price), rel=1e-6):
            return order
    raise AssertionError(f"{liq} is none of the simulator's forced orders")


@pytest.mark.parametrize("case", CASES, ids=[c.feed for c in CASES])
def test_liquidations_reach_the_feed_that_subscribed_them(case: Case) -> None:
    async def body() -> None:
        async with SimCluster([case.feed], interval=0.05, levels=50) as cluster:
            sim = cluster.venues[case.feed]
            ws, rest = cluster.urls(case.feed)
            got: list[tuple[Liquidation, float]] = []  # each with the simulator's mid when it arrived
            others: list[MarketEvent] = []
            quiet_trades: list[Trade] = []

            def on_market(event: MarketEvent) -> None:
                if isinstance(event, Liquidation):
                    ladder = sim.ladders[event.symbol]
                    bid, ask = ladder.top(True, 1)[0][0], ladder.top(False, 1)[0][0]
                    got.append((event, (bid + ask) / 2 * ladder.spec.tick))

            listening = VenueFeed(case.handler, list(case.symbols), ws_url=ws, rest_url=rest, on_market=on_market,
                                  channels=Channels(liquidations=True))
            quiet = VenueFeed(case.handler, list(case.symbols), ws_url=ws, rest_url=rest, on_market=others.append,
                              on_trade=quiet_trades.append, channels=Channels(ticker=True))

            def enough() -> bool:
                events = [e for e, _ in got]
                return {e.symbol for e in events} == set(case.perps) and {e.side for e in events} == {Side.BUY, Side.SELL}

            async with aiohttp.ClientSession() as session:
                await listening.start(session)
                await quiet.start(session)
                try:
                    await wait_for(enough, 30, "liquidations of every perpetual, on both sides")
                    await wait_for(lambda: len(quiet_trades) >= 5, 30, "trades on the feed without liquidations")
                finally:
                    await listening.stop()
                    await quiet.stop()
            assert not [e for e in others if isinstance(e, Liquidation)]
            assert listening.connections[0].handler.errors == 0  # the subscription was accepted
            for liq, mid in got:
                assert liq.venue == case.feed and liq.symbol in case.perps and liq.amount > 0
                order = published(sim, liq, case)
                tick = sim.ladders[liq.symbol].spec.tick
                bid, ask = (t * tick for t in order.touch)
                # a long's forced order sells at or below the best bid, a short's buys at or above the ask
                if liq.side is Side.SELL:
                    assert liq.price <= bid + 1e-9
                else:
                    assert liq.price >= ask - 1e-9
                assert abs(liq.price - mid) / mid < 20e-4, (liq, mid)  # within the top levels of the touch it met

    run(body(), timeout=90)


@pytest.mark.parametrize("feed", [c.feed for c in CASES])
def test_the_same_seed_and_ticks_give_the_same_liquidations(feed: str) -> None:
    def draws(seed: int) -> tuple[list[tuple[str, bool, int, int, float]], int]:
        """The forced orders of 300 market steps, and the ticks of the venue's perpetuals."""
        market = SimMarket(seed=seed, levels=50)
        sim = sim_class(feed)(market)
        ticks = 0
        for _ in range(300):
            for (venue, symbol), changes in market.advance().items():
                if venue == feed and changes:
                    sim.tick(symbol, changes)
                    ticks += symbol.endswith("-PERP")
        orders = [(o.symbol, o.sell, o.ticks, o.lots, o.average) for o in sim.liquidator.orders]  # type: ignore[attr-defined]
        return orders, ticks

    first, ticks = draws(7)
    assert first == draws(7)[0] != draws(8)[0]
    # about one forced order in ten ticks of each perpetual, on both sides
    assert ticks / 20 <= len(first) <= ticks / 5 and {sell for _, sell, *_ in first} == {True, False}


def test_okx_subscribes_liquidations_by_inst_type_once_swaps_are_subscribed() -> None:
    feed = OkxFeed(channels=Channels(liquidations=True))
    args = orjson.loads(feed.subscribe_messages(["BTC-USDT", "BTC-USDT-SWAP", "ETH-USDT-SWAP"])[0])["args"]
    assert args[-1] == {"channel": "liquidation-orders", "instType": "SWAP"}
    assert [a for a in args if a["channel"] == "liquidation-orders"] == [args[-1]]
    assert all(a["channel"] != "liquidation-orders" for a in orjson.loads(feed.subscribe_messages(["BTC-USDT"])[0])["args"])
    assert all(a["channel"] != "liquidation-orders" for a in orjson.loads(feed.unsubscribe_messages(["BTC-USDT-SWAP"])[0])["args"])
    plain = OkxFeed(channels=Channels(ticker=True))
    assert all(a["channel"] != "liquidation-orders" for a in orjson.loads(plain.subscribe_messages(["BTC-USDT-SWAP"])[0])["args"])


def test_okx_liquidation_frame_parses_for_the_feeds_own_swaps() -> None:
    frame = {"arg": {"channel": "liquidation-orders", "instType": "SWAP"}, "data": [{"details": [
        {"bkLoss": "0", "bkPx": "0.007831", "ccy": "", "posSide": "short", "side": "buy", "sz": "13", "ts": "1692266434010"}],
        "instFamily": "IOST-USDT", "instId": "IOST-USDT-SWAP", "instType": "SWAP", "uly": "IOST-USDT"}]}
    events: list[MarketEvent] = []
    replaying = OkxFeed(on_market=events.append, auto_books=True)
    replaying.on_frame(orjson.dumps(frame), 0.0)
    assert events == [Liquidation("okx", "IOST-USDT-SWAP", 1692266434.01, Side.BUY, 0.007831, 13.0)]
    elsewhere: list[MarketEvent] = []
    live = OkxFeed(on_market=elsewhere.append)
    live.add_book("BTC-USDT-SWAP", "BTC-USDT-PERP")
    live.on_frame(orjson.dumps(frame), 0.0)
    assert elsewhere == []  # the channel carries every SWAP of the venue: only the feed's own are emitted
