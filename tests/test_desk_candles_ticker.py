"""desk.candles and desk.ticker: typed candles and tickers read through the venues' REST APIs with
unmodified ccxt clients, on a simulated desk and on a configured desk whose [endpoints] name the
running simulators."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from crossbook import Desk
from crossbook.errors import ConfigError, CrossbookError, UnknownSymbol, UnknownVenue
from crossbook.model import Candle, Interval, Ticker

from .conftest import run


async def printed_candles(desk: Desk, venue: str, symbol: str, interval: str, deadline: float = 30.0) -> list[Candle]:
    """The candles once the simulator has printed a trade of ``symbol`` (a fresh one has none yet)."""
    until = time.monotonic() + deadline
    while not (candles := await desk.candles(venue, symbol, interval)):
        assert time.monotonic() < until, f"no {venue} {symbol} trade printed within {deadline} s"
        await asyncio.sleep(0.2)
    return candles


def test_candles_are_typed_and_the_newest_is_forming() -> None:
    async def body() -> None:
        async with Desk.sim(["binance", "okx"]) as desk:
            candles = await printed_candles(desk, "okx", "btc-usdt-perp", "1h")
            assert all(isinstance(c, Candle) for c in candles)
            newest = candles[-1]
            assert (newest.venue, newest.symbol, newest.interval) == ("okx", "BTC-USDT-PERP", Interval.H1)
            assert newest.open_time == Interval.H1.open_of(time.time()) or newest.open_time < time.time()
            assert not newest.closed  # an hour has not passed since the simulator started
            await printed_candles(desk, "binance", "BTC-USDT", "1m")
            spot = await desk.candles("binance", "BTC-USDT", Interval.M1, limit=2)
            assert 1 <= len(spot) <= 2 and spot[-1].interval is Interval.M1
            later = await desk.candles("binance", "BTC-USDT", "1m", since=spot[-1].open_time + 60)
            assert later == [] or later[0].open_time >= spot[-1].open_time + 60  # since is honoured

    run(body())


def test_bad_requests_name_what_is_wrong() -> None:
    async def body() -> None:
        desk = Desk.sim(["binance"])
        with pytest.raises(CrossbookError, match="not started"):
            await desk.candles("binance", "BTC-USDT")
        async with desk:
            with pytest.raises(ConfigError, match="1m, 5m, 15m, 1h, 4h, 1d"):
                await desk.candles("binance", "BTC-USDT", "2m")
            with pytest.raises(UnknownVenue, match="okx"):
                await desk.candles("okx", "BTC-USDT")
            with pytest.raises(UnknownSymbol, match="binance does not list DOGE-EUR"):
                await desk.candles("binance", "DOGE-EUR")
            with pytest.raises(UnknownSymbol, match="DOGE-EUR"):
                await desk.ticker("DOGE-EUR")

    run(body())


def test_ticker_board_reads_each_venue_and_says_which_could_not(tmp_path: Path) -> None:
    async def body() -> None:
        async with Desk.sim(["okx", "dydx", "kraken"]) as desk:
            board = await desk.ticker("BTC-USD-PERP")
            assert [t.venue for t in board.tickers] == ["okx"] and isinstance(board.of("okx"), Ticker)
            assert "fetchTicker" in board.unavailable["dydx"] and board.not_listed == ("kraken",)
            book = await desk.book("okx", "BTC-USDT")
            bid, ask = book.best_bid(), book.best_ask()
            assert bid is not None and ask is not None
            spot = (await desk.ticker("BTC-USDT", venues=["okx"])).of("okx")
            assert spot is not None and spot.volume is not None and spot.volume >= 0
            assert bid[0] * 0.995 <= spot.last <= ask[0] * 1.005
            assert board.to_json()["tickers"][0]["venue"] == "okx"

            # a configured desk whose [endpoints] name these simulators reads them, and them only
            path = desk.write_config(tmp_path / "crossbook.toml")
            async with Desk.from_config(path, venues=["okx"]) as configured:
                mine = await printed_candles(desk, "okx", "BTC-USDT", "1m")
                candles = await configured.candles("okx", "BTC-USDT", "1m")
                assert candles and candles[0].venue == "okx"
                assert candles[0].open_time == mine[0].open_time  # the same simulator's tape
                assert [t.venue for t in (await configured.ticker("BTC-USDT")).tickers] == ["okx"]

    run(body(), timeout=120)
