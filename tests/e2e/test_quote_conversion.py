"""Quotes across equivalent quote currencies on the simulated venues (127.0.0.1): BTC-USD on Kraken
and Coinbase and BTC-USDC join a BTC-USDT quote at the live conversion rate, never 1:1, and a venue
whose account cannot pay is flagged and never best."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import aiohttp
import orjson
import pytest
from typer.testing import CliRunner

from crossbook.cli import app
from crossbook.market.data import MarketData
from crossbook.model import Side
from crossbook.routing.conversion import DEFAULT_EQUIVALENTS, conversion_symbols
from crossbook.sim.cluster import SimCluster
from crossbook.sim.serve import ccxt_configs
from crossbook.venues.registry import venue_feeds

from ..conftest import run

VENUES = ["binance", "kraken", "coinbase"]
SYMBOLS = ["BTC-USDT", "BTC-USD", "BTC-USDC", *conversion_symbols(DEFAULT_EQUIVALENTS)]
runner = CliRunner()


def feeds() -> list[str]:
    return [f for v in VENUES for f in venue_feeds(v)]


def test_usd_and_usdc_markets_join_a_usdt_quote_at_the_live_rate() -> None:
    async def body() -> None:
        async with SimCluster(feeds(), interval=0.05, levels=120) as cluster:
            md = MarketData(VENUES, SYMBOLS, endpoints=cluster.urls)
            async with aiohttp.ClientSession() as session:
                await md.start(session)
                try:
                    assert await md.wait_live(30)
                    for side in (Side.BUY, Side.SELL):
                        quote = md.quote("BTC-USDT", side, 0.5)
                        venues = quote["venues"]
                        assert isinstance(venues, dict)
                        assert {"kraken:BTC-USD", "coinbase:BTC-USD", "binance:BTC-USDC", "kraken:BTC-USDC"} <= set(venues)
                        usd_pair = md.consolidated["USDT-USD"]
                        touch = usd_pair.best_bid() if side is Side.BUY else usd_pair.best_ask()
                        assert touch is not None
                        for key in ("kraken:BTC-USD", "coinbase:BTC-USD"):
                            venue = key.split(":")[0]
                            entry = venues[key]
                            own = md.consolidated["BTC-USD"].quote_venue(venue, side, 0.5)
                            assert entry["quote_currency"] == "USD" and entry["symbol"] == "BTC-USD"
                            assert entry["conversion_rate"] == pytest.approx(1 / touch.price)
                            assert entry["conversion_rate"] != 1.0
                            assert entry["all_in_price"] == pytest.approx(own.all_in_price * entry["conversion_rate"])  # type: ignore[operator]
                        usdc = venues["binance:BTC-USDC"]
                        rate = usdc["conversion_rate"]
                        # USDC trades under USDT in the simulator: about 0.9994 USDT per USDC, never 1:1
                        assert rate != 1.0 and abs(rate - cluster.market.fair.fair("USDC-USDT")) < 0.001
                        assert usdc["conversion_via"][0].startswith("USDC-USDT@")
                        prices = [e["all_in_price"] for e in venues.values() if e["all_in_price"] is not None]
                        pick = min if side is Side.BUY else max
                        best = quote["best"]
                        assert isinstance(best, dict) and best["all_in_price"] == pick(prices)
                        assert set(venues["binance"]) == {"status", "filled", "vwap", "fee_rate", "all_in_price"}
                finally:
                    await md.stop()

    run(body(), timeout=90)


def test_a_venue_whose_account_cannot_pay_is_flagged_and_never_best() -> None:
    async def body() -> None:
        async with SimCluster(feeds(), interval=0.05, levels=120) as cluster:
            md = MarketData(VENUES, SYMBOLS, endpoints=cluster.urls)
            async with aiohttp.ClientSession() as session:
                await md.start(session)
                try:
                    assert await md.wait_live(30)
                    balances = {"binance": {"USDT": 3000.0, "USDC": 10_000_000.0}, "kraken": {"USD": 10_000_000.0}}
                    quote = md.quote("BTC-USDT", Side.BUY, 1.0, balances=balances)
                    venues = quote["venues"]
                    assert isinstance(venues, dict)
                    poor = venues["binance"]
                    assert poor["affordable"] is False
                    fair = cluster.market.fair.fair("BTC-USDT")
                    assert 3000 / fair * 0.99 < poor["max_amount"] < 3000 / fair  # the fee comes out of it too
                    assert venues["binance:BTC-USDC"]["affordable"] is True
                    assert venues["kraken:BTC-USD"]["affordable"] is True
                    assert venues["coinbase"]["affordable"] is False and venues["coinbase"]["max_amount"] == 0.0
                    best = quote["best"]
                    assert isinstance(best, dict)
                    affordable = [e["all_in_price"] for e in venues.values() if e.get("affordable")]
                    assert best["all_in_price"] == min(affordable)
                    # the account's fee tier replaces the venue's default fee
                    tiered = md.quote("BTC-USDT", Side.BUY, 1.0, fee_rates={"binance": 0.0})["venues"]
                    assert tiered["binance"]["fee_rate"] == 0.0  # type: ignore[index]
                    assert tiered["binance"]["all_in_price"] == tiered["binance"]["vwap"]  # type: ignore[index]
                    assert tiered["binance:BTC-USDC"]["fee_rate"] == 0.0  # type: ignore[index]
                    # a sell spends the base currency
                    sell = md.quote("BTC-USDT", Side.SELL, 1.0, balances={"binance": {"BTC": 0.25}})
                    assert sell["venues"]["binance"]["max_amount"] == 0.25  # type: ignore[index]
                    assert sell["best"] is None
                finally:
                    await md.stop()

    run(body(), timeout=90)


def test_a_market_without_a_live_conversion_rate_is_listed_without_a_price() -> None:
    async def body() -> None:
        async with SimCluster(["kraken"], interval=0.05, levels=80) as cluster:
            md = MarketData(["kraken"], ["BTC-USDT", "BTC-USD"], endpoints=cluster.urls)  # no USDT-USD book
            async with aiohttp.ClientSession() as session:
                await md.start(session)
                try:
                    assert await md.wait_live(30)
                    quote = md.quote("BTC-USDT", Side.BUY, 0.5)
                    entry = quote["venues"]["kraken:BTC-USD"]  # type: ignore[index]
                    assert entry["status"] == "live" and entry["all_in_price"] is None
                    assert "USD -> USDT" in entry["conversion_error"]
                    assert quote["best"] == {"venue": "kraken", "all_in_price": quote["venues"]["kraken"]["all_in_price"]}  # type: ignore[index]
                finally:
                    await md.stop()

    run(body(), timeout=60)


def test_quote_command_converts_only_the_declared_currencies() -> None:
    args = ["quote", "BTC-USDT", "buy", "0.5", "--sim", "--json", "--venues", "binance,kraken"]
    declared = runner.invoke(app, [*args, "--equivalent", "USDT,USD"])
    assert declared.exit_code == 0, declared.output
    venues = orjson.loads(declared.stdout.strip().splitlines()[-1])["venues"]
    assert "kraken:BTC-USD" in venues and not any(k.endswith("BTC-USDC") for k in venues)
    converted = venues["kraken:BTC-USD"]
    assert converted["conversion_via"] == ["USDT-USD@kraken"] and converted["conversion_rate"] != 1.0
    none = runner.invoke(app, [*args, "--equivalent", ""])
    assert none.exit_code == 0, none.output
    assert set(orjson.loads(none.stdout.strip().splitlines()[-1])["venues"]) == {"binance", "kraken"}


def test_quote_command_reads_balances_from_the_configured_accounts(tmp_path: Path) -> None:
    async def body() -> None:
        async with SimCluster(["binance"], interval=0.05, levels=80) as accounts:
            (tmp_path / "sim.json").write_bytes(orjson.dumps(ccxt_configs(accounts)))
            (tmp_path / "crossbook.toml").write_text(
                'journal = "j.db"\nequivalents = ["USDT", "USDC"]\n[[accounts]]\nvenue = "binance"\nccxt_config = "sim.json"\n')
            accounts.venues["binance"].engine.account("main").balances["USDT"] = Decimal(100)
            accounts.venues["binance"].engine.taker_fee = Decimal("0.00042")  # the account's own (VIP) rate
            result = await asyncio.to_thread(runner.invoke, app, [
                "quote", "BTC-USDT", "buy", "0.5", "--sim", "--json", "--venues", "binance",
                "--config", str(tmp_path / "crossbook.toml")])
            assert result.exit_code == 0, result.output
            quote = orjson.loads(result.stdout.strip().splitlines()[-1])
            assert quote["venues"]["binance"]["affordable"] is False
            assert quote["venues"]["binance:BTC-USDC"]["affordable"] is True  # 1,000,000 USDC funded
            assert quote["best"]["venue"] == "binance" and quote["best"]["symbol"] == "BTC-USDC"
            for entry in (quote["venues"]["binance"], quote["venues"]["binance:BTC-USDC"]):
                assert entry["fee_rate"] == 0.00042  # from the account's fee endpoint, not the schedule

    run(body(), timeout=90)
