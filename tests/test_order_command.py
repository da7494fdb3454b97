"""The trader's commands against a separately running `crossbook sim --write-config cfg.toml`:
what they place, cancel and report is what an unmodified ccxt client (built from
`--print-ccxt-config`) sees; bad input is one line, exit 2, and reaches no venue."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import ccxt.async_support as ccxt_async
import orjson
import pytest
from typer.testing import CliRunner

from crossbook.cli import app

from .conftest import run

CLI = [sys.executable, "-c", "from crossbook.cli import app; app()"]
SYMBOL = "BTC/USDT"


@dataclass
class RunningSim:
    config: Path
    ccxt: dict[str, dict[str, Any]]

    def client(self, ccxt_id: str) -> Any:
        return getattr(ccxt_async, ccxt_id)(dict(self.ccxt[ccxt_id]))


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSim]:
    cfg = tmp_path_factory.mktemp("sim") / "cfg.toml"
    proc = subprocess.Popen([*CLI, "sim", "--write-config", str(cfg), "--print-ccxt-config", "--seconds", "600"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        configs = orjson.loads(proc.stdout.readline())  # printed once the config file is written
        assert cfg.is_file() and cfg.with_name("cfg-ccxt.json").is_file()
        yield RunningSim(cfg, configs)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def crossbook(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=180, check=False)


def json_of(*args: str) -> Any:
    done = crossbook(*args, "--json")
    assert done.returncode == 0, done.stderr
    return orjson.loads(done.stdout)


async def open_orders(sim: RunningSim, ccxt_id: str = "binance") -> list[dict[str, Any]]:
    ex = sim.client(ccxt_id)
    try:
        return list(await ex.fetch_open_orders(SYMBOL))
    finally:
        await ex.close()


async def best_bid(sim: RunningSim) -> Decimal:
    ex = sim.client("binance")
    try:
        return Decimal(str((await ex.fetch_order_book(SYMBOL, 5))["bids"][0][0]))
    finally:
        await ex.close()


# ---- the must-hold ---------------------------------------------------------------------------


def test_a_placed_order_is_open_at_the_venue_and_cancel_cancels_it(running: RunningSim) -> None:
    price = (run(best_bid(running)) - 500).quantize(Decimal("0.01"))
    placed = json_of("order", "place", "binance", "BTC-USDT", "buy", "0.01", "--type", "limit", "--price", str(price),
                     "--config", str(running.config))
    assert placed["status"] == "open" and placed["amount"] == 0.01 and placed["price"] == float(price)
    seen = [o for o in run(open_orders(running)) if o["id"] == placed["venue_order_id"]]
    assert len(seen) == 1 and seen[0]["price"] == float(price) and seen[0]["amount"] == 0.01 and seen[0]["side"] == "buy"

    shown = json_of("order", "show", "binance", placed["client_order_id"], "--config", str(running.config))
    assert shown["status"] == "open" and shown["venue_order_id"] == placed["venue_order_id"]
    canceled = json_of("order", "cancel", "binance", placed["venue_order_id"], "--config", str(running.config))
    assert canceled["status"] == "canceled"
    assert all(o["id"] != placed["venue_order_id"] for o in run(open_orders(running)))


def test_balances_match_what_ccxt_fetches_on_every_venue(running: RunningSim) -> None:
    report = json_of("balances", "--config", str(running.config))
    by_venue: dict[str, Any] = {}
    for entry in report["accounts"]:  # each venue's primary wallet first
        by_venue.setdefault(entry["venue"], entry["balances"])
    wallets = {(entry["venue"], entry["wallet"]): entry["balances"] for entry in report["accounts"]}
    by_venue |= {"binanceusdm": wallets["binance", "usdm"], "binancecoinm": wallets["binance", "coinm"]}
    assert ("okx", "unified") in wallets and [v for v, _ in wallets].count("okx") == 1  # one unified account

    async def fetched() -> dict[str, dict[str, Any]]:
        out = {}
        for ccxt_id in by_venue:
            ex = running.client(ccxt_id)
            try:
                out[ccxt_id] = await ex.fetch_balance()
            finally:
                await ex.close()
        return out

    assert set(by_venue) == {"binance", "okx", "bybit", "dydx", "coinbase", "kraken", "kucoin", "gate", "mexc", "bitget",
                             "binanceusdm", "binancecoinm"}
    for venue, raw in run(fetched()).items():
        held = {asset for asset in raw["free"].keys() | raw["total"].keys() if raw["total"].get(asset) or raw["free"].get(asset)}
        assert held <= set(by_venue[venue]), venue
        for asset, row in by_venue[venue].items():
            free, used, total = (raw[asset][k] for k in ("free", "used", "total"))
            total = total if total is not None else free + (used or 0.0)  # dYdX: ccxt gives free collateral only
            assert [row["free"], row["used"], row["total"]] == [round(x or 0.0, 8) for x in (free, used, total)], (venue, asset)
    assert report["value_in"] == "USDT" and report["total"] > 0


# ---- more of the commands ---------------------------------------------------------------------


def test_amend_list_and_oco_against_the_running_simulator(running: RunningSim) -> None:
    cfg = str(running.config)
    bid = run(best_bid(running))
    placed = json_of("order", "place", "binance", "BTC-USDT", "buy", "0.01", "--price", str(bid - 400), "--config", cfg)
    amended = json_of("order", "amend", "binance", placed["client_order_id"], "--price", str(bid - 450), "--config", cfg)
    assert amended["price"] == float(bid - 450) and amended["status"] == "open"
    at_venue = {o["id"]: o for o in run(open_orders(running))}
    assert at_venue[amended["venue_order_id"]]["price"] == float(bid - 450)

    pair = json_of("order", "oco", "binance", "BTC-USDT", "sell", "0.01", "--price", str(bid + 300),
                   "--stop-price", str(bid - 300), "--config", cfg)
    limit_leg, stop_leg = pair["legs"]
    assert limit_leg["status"] == stop_leg["status"] == "open" and pair["list_id"] and pair["mode"] == "native"
    at_venue = {o["id"]: o for o in run(open_orders(running))}
    assert {limit_leg["venue_order_id"], stop_leg["venue_order_id"]} <= set(at_venue)

    listed = json_of("order", "list", "--venues", "binance", "--open", "--config", cfg)
    assert {o["client_order_id"] for o in listed} >= {placed["client_order_id"], limit_leg["client_order_id"]}
    for order in listed:
        json_of("order", "cancel", "binance", order["client_order_id"], "--config", cfg)
    assert run(open_orders(running)) == []


def test_a_notional_is_converted_at_the_order_price_and_rounded_down_to_the_lot(running: RunningSim) -> None:
    price = (run(best_bid(running)) - 1000).quantize(Decimal(1))
    done = crossbook("order", "place", "binance", "BTC-USDT", "buy", "--notional", "1000", "--price", str(price),
                     "--config", str(running.config), "--json")
    assert done.returncode == 0, done.stderr
    placed = orjson.loads(done.stdout)
    lots = (Decimal(1000) / price / Decimal("0.00001")).to_integral_value(rounding="ROUND_DOWN")
    assert Decimal(str(placed["amount"])) == lots * Decimal("0.00001")
    assert "rounded down to the lot" in done.stderr
    json_of("order", "cancel", "binance", placed["client_order_id"], "--config", str(running.config))


@pytest.mark.parametrize(("args", "says"), [
    (["binance", "BTC-USDT", "buy", "-1", "--price", "50000"], "binance: amount must be positive, not -1"),
    (["binance", "BTC-USDT", "buy", "nan", "--price", "50000"], "binance: amount must be a finite number"),
    (["binance", "BTC-USDT", "buy", "0", "--price", "50000"], "binance: amount must be positive, not 0"),
    (["binance", "BTC-USDT", "buy", "0.01", "--price", "50000.001"], "binance: price 50000.001 is off the BTC-USDT tick 0.01"),
    (["binance", "BTC-USDT", "buy", "0.01", "--price", "-5"], "binance: --price must be positive, not -5"),
    (["binance", "DOGE-EUR", "buy", "1", "--price", "1"], "symbol 'DOGE-EUR': binance has no such market"),
    (["binanse", "BTC-USDT", "buy", "1", "--price", "1"], "unknown venue 'binanse'"),
    (["kraken", "BTC-USDT", "buy", "0.01", "--price", "50000", "--tif", "fok"], "kraken does not offer fill-or-kill"),
    (["binance", "BTC-USDT", "buy", "0.01", "--type", "market", "--post-only"], "binance: post_only"),
    (["binance", "BTC-USDT", "buy", "0.01", "--price", "50000", "--reduce-only"], "binance: reduce_only"),
    (["binance", "BTC-USDT", "buy", "0.01", "--notional", "100", "--price", "50000"], "exactly one of AMOUNT"),
])
def test_bad_input_is_one_line_exit_2_and_nothing_sent(running: RunningSim, args: list[str], says: str) -> None:
    before = run(open_orders(running))
    done = crossbook("order", "place", *args, "--config", str(running.config))
    assert done.returncode == 2, done.stderr
    assert says in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert done.stdout == ""
    assert run(open_orders(running)) == before


def test_a_negative_amount_is_a_number_everywhere() -> None:
    for args, says in ((["route", "BTC-USDT", "buy", "-1", "--sim"], "error: amount must be positive, not -1"),
                       (["quote", "BTC-USDT", "buy", "-1", "--sim"], "error: amount must be positive, not -1"),
                       (["transfer", "binance", "USDT", "-5", "--from", "main", "--to", "sub", "--sim"],
                        "error: binance: amount must be positive, not -5")):
        done = crossbook(*args)
        assert done.returncode == 2 and done.stderr.strip() == says, done.stderr


# ---- derivatives ------------------------------------------------------------------------------


def positions_on(sim: RunningSim, venue: str) -> list[dict[str, Any]]:
    report = json_of("positions", "--venues", venue, "--config", str(sim.config))
    assert report["unavailable"] == {}, report
    return [p for p in report["positions"] if p["venue"] == venue]


@pytest.mark.parametrize(("venue", "symbol", "amount"), [
    ("binance", "BTC-USDT-PERP", "0.01"),  # USD-M, through the binanceusdm entry of the config
    ("okx", "BTC-USDT-PERP", "0.01"),  # 0.01 BTC is one 0.01 BTC contract
    ("bybit", "BTC-USDT-PERP", "0.01"),
])
def test_a_perpetual_position_opens_with_leverage_and_margin_and_closes_reduce_only(
        running: RunningSim, venue: str, symbol: str, amount: str) -> None:
    cfg = str(running.config)
    assert positions_on(running, venue) == []
    opened = json_of("order", "place", venue, symbol, "buy", amount, "--type", "market", "--leverage", "3", "--margin", "isolated",
                     "--config", cfg)
    assert opened["status"] == "filled" and opened["symbol"] == symbol
    (position,) = positions_on(running, venue)
    assert position["symbol"] == symbol and position["side"] in ("long", "both") and position["size"] == float(amount)
    assert abs(position["entry_price"] - opened["avg_price"]) / opened["avg_price"] < 0.001
    assert position["leverage"] in (None, 3.0) and position["margin_mode"] in (None, "isolated")
    shown = json_of("order", "show", venue, opened["client_order_id"], "--config", cfg)
    assert shown["status"] == "filled" and shown["symbol"] == symbol
    closed = json_of("order", "place", venue, symbol, "sell", amount, "--type", "market", "--reduce-only", "--config", cfg)
    assert closed["status"] == "filled" and closed["reduce_only"]
    assert positions_on(running, venue) == []
    listed = {o["client_order_id"] for o in json_of("order", "list", "--venues", venue, "--config", cfg)}
    assert {opened["client_order_id"], closed["client_order_id"]} <= listed


def test_a_binance_perpetual_position_is_what_an_unmodified_ccxt_client_sees(running: RunningSim) -> None:
    cfg = str(running.config)
    opened = json_of("order", "place", "binance", "BTC-USDT-PERP", "sell", "0.002", "--type", "market", "--leverage", "2",
                     "--config", cfg)
    assert opened["status"] == "filled"

    async def seen() -> list[dict[str, Any]]:
        ex = running.client("binanceusdm")
        try:
            return [p for p in await ex.fetch_positions(["BTC/USDT:USDT"]) if p["contracts"]]
        finally:
            await ex.close()

    (at_venue,) = run(seen())
    assert at_venue["side"] == "short" and at_venue["contracts"] == 0.002
    json_of("order", "place", "binance", "BTC-USDT-PERP", "buy", "0.002", "--type", "market", "--reduce-only", "--config", cfg)
    assert run(seen()) == []


@pytest.mark.parametrize(("args", "says"), [
    (["dydx", "BTC-USD-PERP", "buy", "0.01", "--type", "market", "--leverage", "5"], "dydx: crossbook cannot do --leverage"),
    (["dydx", "BTC-USD-PERP", "buy", "0.01", "--type", "market", "--margin", "isolated"],
     "dydx: crossbook cannot do --margin isolated"),
    (["gate", "BTC-USDT-PERP", "buy", "0.01", "--type", "market", "--margin", "isolated"], "gate: crossbook cannot do --margin"),
    (["gate", "BTC-USDT", "sell", "0.01", "--type", "stop-limit", "--price", "40000", "--stop-price", "41000"],
     "gate offers stop-limit orders, but crossbook does not send them there yet"),
    (["okx", "BTC-USDT", "buy", "0.01", "--price", "50000", "--margin", "isolated"], "okx: --margin on spot"),
])
def test_a_flag_the_venue_cannot_honour_is_refused_exit_2_and_nothing_sent(running: RunningSim, args: list[str], says: str) -> None:
    cfg = str(running.config)
    before = json_of("positions", "--venues", args[0], "--config", cfg), json_of("order", "list", "--venues", args[0], "--config", cfg)
    done = crossbook("order", "place", *args, "--config", cfg)
    assert done.returncode == 2, done.stderr
    assert says in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    after = json_of("positions", "--venues", args[0], "--config", cfg), json_of("order", "list", "--venues", args[0], "--config", cfg)
    assert after == before  # nothing journaled, nothing at the venue


def test_a_dydx_market_order_and_its_position_through_the_config(running: RunningSim) -> None:
    cfg = str(running.config)
    opened = json_of("order", "place", "dydx", "BTC-USD-PERP", "sell", "0.01", "--type", "market", "--config", cfg)
    assert opened["status"] == "filled"
    (position,) = positions_on(running, "dydx")
    assert position["side"] == "short" and position["size"] == -0.01 and position["entry_price"] > 0
    json_of("order", "place", "dydx", "BTC-USD-PERP", "buy", "0.01", "--type", "market", "--reduce-only", "--config", cfg)
    assert positions_on(running, "dydx") == []


def test_a_notional_route_off_every_lot_grid_still_has_a_best_single_venue(running: RunningSim) -> None:
    report = json_of("route", "BTC-USDT", "buy", "--notional", "100000", "--dry-run", "--config", str(running.config))
    assert report["outcome"] == "dry_run" and report["best_single_venue"] is not None
    assert report["savings_bps"] is not None and report["savings_bps"] >= -1e-6


def test_a_perpetual_order_on_the_self_started_simulators() -> None:
    done = crossbook("order", "place", "okx", "BTC-USDT-PERP", "buy", "0.01", "--type", "market", "--leverage", "5",
                     "--margin", "isolated", "--sim", "--json")
    assert done.returncode == 0, done.stderr
    placed = orjson.loads(done.stdout)
    assert placed["status"] == "filled" and placed["symbol"] == "BTC-USDT-PERP"
    assert (placed["amount"], placed["filled"]) == (0.01, 0.01)  # base units, as asked
    assert (placed["contracts"], placed["filled_contracts"]) == (1.0, 1.0)  # OKX's contract is 0.01 BTC


def test_a_quote_through_the_config_leaves_out_a_venue_without_the_market(running: RunningSim) -> None:
    done = crossbook("quote", "BTC-USDT", "buy", "0.5", "--config", str(running.config), "--json")
    assert done.returncode == 0, done.stderr
    assert "account unavailable" not in done.stderr, done.stderr  # dYdX lists no BTC-USDT: no account error
    assert done.stderr.count("dydx does not list BTC-USDT") == 1, done.stderr
    quoted = orjson.loads(done.stdout)["venues"]
    assert "dydx" not in quoted and {"binance", "okx"} <= quoted.keys()
    assert all(quoted[v]["affordable"] is not None for v in ("binance", "okx"))  # their accounts were read


# ---- order oco: crossbook's own OCO says who keeps it, and --keep keeps it -----------------------

PERP = ["order", "oco", "binance", "BTC-USDT-PERP", "sell", "0.01"]  # Binance lists are spot only: crossbook's own


def test_crossbooks_own_oco_says_it_is_kept_only_while_crossbook_runs() -> None:
    done = CliRunner().invoke(app, [*PERP, "--price", "1000000", "--stop-price", "1000", "--sim", "--json"])
    assert done.exit_code == 0, done.output
    pair = orjson.loads(done.stdout)
    assert (pair["mode"], pair["kept_by"], pair["ended"], pair["state"]) == ("crossbook", "crossbook", "placed", "open")
    assert "until `crossbook follow` runs" in pair["note"]
    text = CliRunner().invoke(app, [*PERP, "--price", "1000000", "--stop-price", "1000", "--sim"])
    assert text.exit_code == 0, text.output
    assert "kept by crossbook" in text.stdout and "crossbook follow" in text.stdout and "--keep" in text.stdout


def test_keep_stays_until_a_leg_fills_and_the_other_is_canceled() -> None:
    """A limit through the bids fills at once; --keep returns when the keeper has canceled the stop."""
    done = CliRunner().invoke(app, [*PERP, "--price", "1000", "--stop-price", "900", "--sim", "--keep", "--seconds", "60",
                                    "--json"])
    assert done.exit_code == 0, done.output
    pair = orjson.loads(done.stdout)
    assert (pair["state"], pair["ended"], pair["note"]) == ("done", "done", "")
    assert [leg["status"] for leg in pair["legs"]] == ["filled", "canceled"]


@pytest.mark.parametrize(("cancel", "statuses", "state"), [(True, ["canceled", "canceled"], "canceled"),
                                                           (False, ["open", "open"], "open")])
def test_keep_for_seconds_leaves_the_pair_or_cancels_it_on_exit(cancel: bool, statuses: list[str], state: str) -> None:
    args = [*PERP, "--price", "1000000", "--stop-price", "1000", "--sim", "--keep", "--seconds", "1", "--json"]
    done = CliRunner().invoke(app, [*args, "--cancel-on-exit"] if cancel else args)
    assert done.exit_code == 0, done.output
    pair = orjson.loads(done.stdout)
    assert (pair["ended"], pair["canceled_on_exit"], pair["state"]) == ("seconds", cancel, state)
    assert [leg["status"] for leg in pair["legs"]] == statuses
    assert ("crossbook follow" in pair["note"]) is (not cancel)


def test_seconds_and_cancel_on_exit_need_keep() -> None:
    done = CliRunner().invoke(app, [*PERP, "--price", "1000000", "--stop-price", "1000", "--sim", "--cancel-on-exit"])
    assert done.exit_code == 2 and "go with --keep" in done.output
