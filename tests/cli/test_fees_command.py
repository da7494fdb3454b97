"""`crossbook fees`: what an order costs in fees on each venue, on the simulated venues."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ccxt.pro
import orjson
import pytest
from typer.testing import CliRunner

from crossbook.cli import app

runner = CliRunner()

ROW = {"status", "price", "maker_price", "taker_rate", "maker_rate", "taker_fee", "maker_fee", "tier", "source"}


def nowhere(node: Any) -> Any:
    """ccxt's URLs with every host replaced by a closed port on 127.0.0.1 (paths kept)."""
    if isinstance(node, dict):
        return {k: nowhere(v) for k, v in node.items()}
    if isinstance(node, str) and "://" in node:
        scheme, _, rest = node.partition("://")
        return f"{'ws' if scheme.startswith('ws') else 'http'}://127.0.0.1:9/{rest.partition('/')[2]}"
    return node


def fees_json(*args: str) -> dict[str, Any]:
    result = runner.invoke(app, ["fees", *args, "--json"])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = orjson.loads(result.stdout.strip().splitlines()[-1])
    return data


def test_fees_json_reads_the_simulated_accounts_rates() -> None:
    data = fees_json("BTC-USDT", "1", "--sim", "--venues", "binance,mexc,dydx")
    assert (data["symbol"], data["side"], data["amount"]) == ("BTC-USDT", "buy", 1.0)
    binance = data["venues"]["binance"]
    assert set(binance) == ROW
    assert binance["status"] == "live" and binance["source"] == "account"
    assert (binance["maker_rate"], binance["taker_rate"]) == (0.001, 0.001)  # what the simulator charges
    # prices are rounded to the 0.01 tick, fees to its hundredths (0.0001 USDT)
    assert binance["taker_fee"] == pytest.approx(binance["price"] * 1 * 0.001, abs=0.5e-4 + 0.5e-2 * 0.001)
    assert binance["maker_fee"] == pytest.approx(binance["maker_price"] * 1 * 0.001, abs=0.5e-4 + 0.5e-2 * 0.001)
    assert binance["maker_price"] < binance["price"]  # a buyer rests at the bid, sweeps the asks
    mexc = data["venues"]["mexc"]
    assert mexc["source"] == "account" and mexc["maker_fee"] == 0.0 and mexc["taker_rate"] == 0.0005
    dydx = data["venues"]["dydx"]
    assert dydx["status"] == "unlisted" and dydx["taker_fee"] is None and dydx["maker_fee"] is None


def test_a_declared_tier_prices_a_venue_whose_fee_endpoint_does_not_answer(tmp_path: Path) -> None:
    """Keys are configured but the venue cannot be reached: the schedule at the declared tier."""
    urls = {"api": nowhere(ccxt.pro.binance().urls["api"])}
    (tmp_path / "dead.json").write_bytes(orjson.dumps({"binance": {"apiKey": "k", "secret": "s", "urls": urls}}))
    (tmp_path / "crossbook.toml").write_text(
        'journal = "j.db"\n[[accounts]]\nvenue = "binance"\nccxt_config = "dead.json"\n'
        'fee_tier = "VIP 3"\npay_fees_with_token = true\n'
    )
    data = fees_json("BTC-USDT-PERP", "2", "--sim", "--side", "sell", "--venues", "binance,dydx",
                     "--config", str(tmp_path / "crossbook.toml"))
    binance = data["venues"]["binance"]
    assert (binance["source"], binance["tier"]) == ("schedule", "VIP 3")
    assert (binance["maker_rate"], binance["taker_rate"]) == pytest.approx((0.00012 * 0.9, 0.00032 * 0.9))
    # BTC-USDT-PERP's tick is 0.1: prices rounded to it, fees to 0.001
    assert binance["taker_fee"] == pytest.approx(binance["price"] * 2 * binance["taker_rate"], abs=0.5e-3 + 0.5e-1 * 2 * 0.001)
    assert binance["maker_price"] > binance["price"]  # a seller rests at the ask, sweeps the bids
    dydx = data["venues"]["dydx"]  # lists BTC-USD-PERP only: its base-tier rates, no fee
    assert (dydx["status"], dydx["source"], dydx["tier"], dydx["maker_rate"]) == ("unlisted", "schedule", "Tier 1", 0.0001)
    assert dydx["taker_fee"] is None and dydx["price"] is None


def test_fees_rejects_bad_input_before_anything_starts(tmp_path: Path) -> None:
    config = tmp_path / "crossbook.toml"
    config.write_text('[[accounts]]\nvenue = "okx"\nccxt_config = "x.json"\nfee_tier = "Diamond"\n')
    for args, message in (
        (["BTC-USDT", "0"], "positive finite"),
        (["BTC-USDT", "1", "--venues", "nasdaq"], "unknown venue"),
        (["BTC-USDT", "1", "--side", "hold"], "side must be buy or sell"),
        (["BTC/USDT", "1", "--sim"], "not a standard symbol"),
        (["BTC-USDT", "1", "--config", str(config)], "okx has no spot fee tier 'Diamond'"),
    ):
        result = runner.invoke(app, ["fees", *args])
        assert result.exit_code == 2, (args, result.output)
        assert message in " ".join(result.output.split()), (args, result.output)
