"""Balances cover every wallet of a venue's account: Binance's spot, USD-M and COIN-M wallets,
dYdX's subaccount, OKX's unified trading account once (its spot and swap clients read the same
wallet). Each wallet's rows are what ccxt's fetch_balance of that wallet says, valued at live
prices into the total."""

from __future__ import annotations

from decimal import Decimal as D

from crossbook import Desk
from crossbook.model import OrderRequest, OrderType, Side

from ..conftest import run


def test_balances_list_each_wallet_once_and_total_them() -> None:
    async def body() -> None:
        async with Desk.sim(["binance", "okx", "dydx"]) as desk:
            binance = await desk.account("binance")
            await binance.place(OrderRequest("binance", "BTC-USDT-PERP", Side.BUY, OrderType.MARKET, D("0.01")))
            report = await desk.balances()
            wallets = {(r.venue, r.wallet) for r in report.rows}
            assert wallets == {("binance", "spot"), ("binance", "usdm"), ("binance", "coinm"), ("okx", "unified"),
                               ("dydx", "perp")}, wallets
            assert report.unavailable == {}

            usdm = binance.account_for("BTC-USDT-PERP")
            venue_says = await usdm.client.fetch_balance()
            rows = {r.asset: r for r in report.rows if (r.venue, r.wallet) == ("binance", "usdm")}
            assert rows["USDT"].total == D(str(venue_says["total"]["USDT"]))
            assert rows["USDT"].used > 0  # the position's margin, in the USD-M wallet only
            assert report.held("binance", "USDT", wallet="usdm") == rows["USDT"].total
            assert report.held("binance", "USDT") == next(r.total for r in report.rows
                                                          if (r.venue, r.wallet, r.asset) == ("binance", "spot", "USDT"))

            assert all(r.value is not None for r in report.rows if r.asset in ("BTC", "USDT"))
            assert abs(report.total - sum(r.value or 0.0 for r in report.rows)) < 1e-6
            usdm_value = sum(r.value or 0.0 for r in rows.values())
            assert usdm_value > 0 and report.total > usdm_value
            listed = report.to_json()["accounts"]
            assert [(a["venue"], a["wallet"]) for a in listed].count(("okx", "unified")) == 1
            assert {"binance/main usdm", "dydx/main perp"} <= {f"{a['venue']}/{a['account']} {a['wallet']}" for a in listed}

    run(body(), timeout=120)
