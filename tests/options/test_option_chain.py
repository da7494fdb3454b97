"""desk.option_chain and `crossbook options` on the simulated Binance, OKX and Bybit options markets:
one chain across the three, each option's mark inside its live book's spread, its IV and delta as
its venue publishes them; bad input refused with what is wrong."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from crossbook import Desk
from crossbook.cli import app
from crossbook.errors import ConfigError, UnknownSymbol
from crossbook.model import BookState, OptionRight
from crossbook.sim.options import listed_series
from crossbook.symbols import parse_option

from ..conftest import run

OPTION_VENUES = ["binance", "okx", "bybit"]
runner = CliRunner()


def test_one_chain_across_the_three_venues_with_marks_inside_the_spread() -> None:
    async def body() -> None:
        async with Desk.sim(OPTION_VENUES, options=True) as desk:
            chain = await desk.option_chain("btc", within=60)
            again = await desk.option_chain("BTC", chain.expiries[-1], within=60)
        listed = {s.expiry for s in listed_series() if s.base == "BTC"}
        assert set(chain.expiries) == listed and chain.expiry == min(listed)
        assert chain.venues == OPTION_VENUES and not chain.unavailable
        strikes = sorted({s.strike for s in listed_series() if s.base == "BTC"})
        assert chain.strikes == strikes
        for venue in OPTION_VENUES:
            mine = [q for q in chain.quotes if q.venue == venue]
            assert {(q.strike, q.right) for q in mine} == {(k, r) for k in strikes for r in OptionRight}, venue
        for q in chain.quotes:
            option = parse_option(q.symbol)
            assert (option.base, option.expiry, option.strike, option.right) == ("BTC", chain.expiry, q.strike, q.right)
            assert q.book is BookState.LIVE, q
            assert q.bid is not None and q.ask is not None and q.mark is not None, q
            assert q.bid <= q.mark <= q.ask, q
            assert q.iv is not None and 0.05 < q.iv < 5, q
            assert q.delta is not None and (0 < q.delta < 1 if q.right is OptionRight.CALL else -1 < q.delta < 0), q
        units = {q.venue: q.unit for q in chain.quotes}
        assert units["okx"] == "BTC" and units["binance"] == "USDT"  # OKX quotes its options in the coin
        okx = [q for q in chain.quotes if q.venue == "okx"]
        assert all(q.mark_value is not None and q.mark is not None and q.underlying is not None
                   and q.mark_value == pytest.approx(q.mark * q.underlying) for q in okx)
        assert again.expiry == chain.expiries[-1] and len(again.quotes) == len(chain.quotes)

    run(body(), timeout=240)


def test_an_expiry_nobody_lists_names_those_listed() -> None:
    async def body() -> None:
        async with Desk.sim(["bybit"], options=True) as desk:
            with pytest.raises(UnknownSymbol, match="listed expiries: 2"):
                await desk.option_chain("BTC", "20200103")
            with pytest.raises(UnknownSymbol, match="DOGE"):
                await desk.option_chain("DOGE")

    run(body(), timeout=120)


def test_a_simulated_desk_without_options_says_how_to_get_them() -> None:
    async def body() -> None:
        async with Desk.sim(["bybit"]) as desk:
            with pytest.raises(ConfigError, match="options=True"):
                await desk.option_chain("BTC")

    run(body(), timeout=120)


def test_the_options_command_lists_a_chain_for_each_venue_with_marks_inside_the_spread() -> None:
    result = runner.invoke(app, ["options", "BTC", "--sim", "--json"])
    assert result.exit_code == 0, result.output
    chain = json.loads(result.stdout)
    assert chain["underlying"] == "BTC" and chain["venues"] == OPTION_VENUES
    for q in chain["quotes"]:
        assert q["bid"] is not None and q["ask"] is not None and q["bid"] <= q["mark"] <= q["ask"], q
        assert q["iv"] is not None and q["delta"] is not None


@pytest.mark.parametrize(("args", "message"), [
    (["options", "BTC", "--sim", "--expiry", "2026-12-25"], "--expiry must be YYYYMMDD"),
    (["options", "BTC/USDT", "--sim"], "is not an asset"),
    (["options", "BTC"], "exactly one of --sim or --config"),
    (["options", "BTC", "--sim", "--venues", "kraken"], "has an options market"),
])
def test_bad_input_is_refused_before_anything_starts(args: list[str], message: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and message in result.output, result.output
