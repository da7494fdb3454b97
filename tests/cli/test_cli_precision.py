"""Precision in the CLI, on the simulated venues: JSON prices on the instrument's tick, amounts on its
lot, money on the tick's hundredths, no float noise (``12.000000000000002``); tables with the
tick's decimals in every price column and the lot's in every amount column."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from crossbook import Desk
from crossbook.cli import app
from crossbook.precision import Precision, fmt_bps, fmt_rate

from ..conftest import run

runner = CliRunner()

SYMBOL = "BTC-USDT"
VENUES = "binance,okx,bybit"


@dataclass(frozen=True)
class Grid:
    tick: Decimal  # the finest among the venues, as the instruments say
    lot: Decimal

    @property
    def money(self) -> Decimal:  # fees and notionals: two decimals finer than the tick
        return self.tick / 100


@pytest.fixture(scope="module")
def grid() -> Iterator[Grid]:
    """BTC-USDT's tick and lot as the simulated venues' own instrument endpoints list them."""

    async def read() -> Grid:
        async with Desk.sim(VENUES.split(","), symbols=[SYMBOL]) as desk:
            instruments = desk.market.instruments(SYMBOL)
            assert len(instruments) == 3
            return Grid(min(Decimal(repr(i.tick)) for i in instruments), min(Decimal(repr(i.lot)) for i in instruments))

    yield run(read())


def on_grid(value: float, step: Decimal) -> bool:
    """``value`` as JSON carries it (its shortest repr) is an exact multiple of ``step``: 0.1 on a
    0.01 grid is, 12.000000000000002 on any grid is not."""
    return Decimal(repr(value)) % step == 0


def cli_json(*args: str) -> dict[str, Any]:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = orjson.loads(result.stdout.strip().splitlines()[-1])
    return data


def table_rows(*args: str) -> list[list[str]]:
    """The cells of every body row of the tables the command prints (rows drawn with │)."""
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    rows = [[cell.strip() for cell in line.split("│")[1:-1]] for line in result.stdout.splitlines() if line.startswith("│")]
    assert rows, result.stdout
    return [row for row in rows if row[0]]  # a row's wrapped continuation lines start empty


def decimals_shown(cell: str) -> int:
    assert re.fullmatch(r"-?\d{1,3}(,\d{3})*(\.\d+)?", cell), f"not a number as a table shows one: {cell!r}"
    return len(cell.partition(".")[2])


def places(step: Decimal) -> int:
    return -step.normalize().as_tuple().exponent  # type: ignore[operator]


def test_quote_json_and_table_are_on_the_grid(grid: Grid) -> None:
    data = cli_json("quote", SYMBOL, "buy", "1.23456789", "--venues", VENUES, "--sim")
    assert on_grid(data["amount"], grid.lot) and data["amount"] == pytest.approx(1.23456789, abs=float(grid.lot))
    rows = [data["venues"][v] for v in VENUES.split(",")]
    for row in rows:
        assert row["status"] == "live"
        assert on_grid(row["vwap"], grid.tick) and on_grid(row["all_in_price"], grid.tick), row
        assert on_grid(row["filled"], grid.lot), row
        assert on_grid(row["fee_rate"], Decimal("1e-8")), row
    assert on_grid(data["best"]["all_in_price"], grid.tick)

    for cells in table_rows("quote", SYMBOL, "buy", "2", "--venues", VENUES, "--sim"):
        _venue, status, filled, vwap, taker, all_in = cells[:6]
        assert status == "live", cells
        assert decimals_shown(filled) == places(grid.lot), cells
        assert decimals_shown(vwap) == decimals_shown(all_in) == places(grid.tick), cells
        assert re.fullmatch(r"\d+\.\d{3,4}%", taker), cells


def test_route_dry_run_json_and_table_are_on_the_grid(grid: Grid) -> None:
    data = cli_json("route", SYMBOL, "buy", "40", "--venues", VENUES, "--sim", "--dry-run")
    assert data["outcome"] == "dry_run" and len(data["plan"]) >= 2, data  # 40 BTC takes more than one venue
    assert on_grid(data["amount"], grid.lot)
    for child in data["plan"]:
        assert on_grid(child["amount"], grid.lot), child
        assert on_grid(child["expected_vwap"], grid.tick), child
        assert on_grid(child["fee"], grid.money), child
    assert sum(Decimal(repr(c["amount"])) for c in data["plan"]) == Decimal(40)
    for price in ("expected_all_in_price", "arrival_mid"):
        assert on_grid(data[price], grid.tick), (price, data[price])

    for cells in table_rows("route", SYMBOL, "buy", "40", "--venues", VENUES, "--sim", "--dry-run"):
        _venue, amount, vwap, fee = cells
        assert decimals_shown(amount) == places(grid.lot), cells
        assert decimals_shown(vwap) == places(grid.tick) and decimals_shown(fee) == places(grid.tick), cells


def test_fees_json_and_table_are_on_the_grid(grid: Grid) -> None:
    data = cli_json("fees", SYMBOL, "0.3", "--venues", VENUES, "--sim")
    assert data["amount"] == 0.3
    for venue in VENUES.split(","):
        row = data["venues"][venue]
        assert row["status"] == "live", row
        assert on_grid(row["price"], grid.tick) and on_grid(row["maker_price"], grid.tick), row
        assert on_grid(row["taker_fee"], grid.money) and on_grid(row["maker_fee"], grid.money), row
        # the fee is the rate on the price, to within the roundings of the three
        slack = float(grid.money) / 2 + float(grid.tick) / 2 * 0.3 * row["taker_rate"] + 1e-12
        assert row["taker_fee"] == pytest.approx(row["price"] * 0.3 * row["taker_rate"], abs=slack)

    for cells in table_rows("fees", SYMBOL, "0.3", "--venues", VENUES, "--sim"):
        _venue, status, taker, taker_fee, maker, maker_fee, _source = cells
        assert status == "live" and "%" in taker and "%" in maker, cells
        assert decimals_shown(taker_fee) == decimals_shown(maker_fee) == places(grid.tick), cells


def test_arb_json_is_on_the_grid(grid: Grid) -> None:
    result = runner.invoke(app, ["arb", "--sim", "--venues", VENUES, "--symbols", SYMBOL, "--seconds", "3",
                                 "--dislocate", "okx:-45", "--json"])
    assert result.exit_code == 0, result.output
    seen = orjson.loads(result.stdout.strip().splitlines()[-1])
    assert seen, "the dislocation opened no opportunity"
    for opportunity in seen:
        for leg in opportunity["legs"]:
            assert on_grid(leg["price"], grid.tick) and on_grid(leg["amount"], grid.lot), leg
        assert on_grid(opportunity["net_profit"], grid.money) and on_grid(opportunity["net_bps"], Decimal("0.01"))
        assert on_grid(opportunity["opened_at"], Decimal("0.001"))


def test_precision_rounds_and_formats_without_noise() -> None:
    p = Precision.of([0.01, 0.5, 0.0], [1e-5, 1e-8])  # the finest grids; an unknown (0) tick is skipped
    assert (p.price_decimals, p.amount_decimals, p.money_decimals) == (2, 8, 4)
    assert Precision.of([], []) == Precision()  # nothing known: the default grid
    assert p.price(0.1 + 0.2) == 0.3 and p.amount(12.000000000000002) == 12.0 and p.money(-0.00001) == 0.0
    assert str(p.money(-0.00001)) == "0.0"  # not -0.0
    assert p.fmt_price(60012.345) in ("60,012.34", "60,012.35") and p.fmt_price(None) == "-"
    assert p.fmt_money(-0.001, "USDT") == "0.00 USDT" and p.fmt_money(1234.5) == "1,234.50"
    assert p.fmt_amount(2) == "2.00000000"
    assert (fmt_rate(0.00075), fmt_rate(0.001), fmt_rate(0.000125), fmt_rate(-0.00005)) == ("0.075%", "0.100%", "0.0125%", "-0.005%")
    assert fmt_bps(-0.0001) == "0.00 bps" and fmt_bps(1.625) in ("1.62 bps", "1.63 bps")
