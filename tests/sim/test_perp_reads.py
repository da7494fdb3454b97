"""What an unmodified ccxt client reads on the perpetual simulators: dYdX's indexer positions
(``GET /v4/perpetualPositions``, fetch_positions) and Bybit's REST order book
(``GET /v5/market/orderbook``, fetch_order_book), spot and linear."""

from __future__ import annotations

from decimal import Decimal

import aiohttp
import ccxt
import pytest

from ..conftest import run
from .trading_contract import TradingHarness


def price(client: object, value: Decimal) -> float:
    return float(client.price_to_precision("BTC/USDC:USDC", float(value)))  # type: ignore[attr-defined]


def test_dydx_positions_are_served_in_the_indexers_shape() -> None:
    async def body() -> None:
        async with TradingHarness("dydx") as h:
            ex = h.client()
            await ex.load_markets()
            assert await ex.fetch_positions() == []
            bid, _ = h.touch()
            sold = await ex.create_order("BTC/USDC:USDC", "market", "sell", 0.05, price(ex, bid * Decimal("0.95")))
            assert sold["id"]
            (short,) = await ex.fetch_positions()
            engine = h.sim.engine.account("main").positions[("BTC-USD-PERP", next(iter(h.sim.engine.account("main").positions))[1])]
            assert short["symbol"] == "BTC/USDC:USDC" and short["side"] == "short" and short["contracts"] == 0.05
            assert Decimal(str(short["entryPrice"])) == engine.entry and short["info"]["size"] == "-0.05"
            assert short["info"]["status"] == "OPEN" and short["unrealizedPnl"] is not None
            async with aiohttp.ClientSession() as session:
                base = f"{h.sim.rest_url}/v4/perpetualPositions"
                address = ex.walletAddress
                async with session.get(base, params={"address": address, "subaccountNumber": "0", "status": "CLOSED"}) as r:
                    assert r.status == 200 and await r.json() == {"positions": []}  # closed ones are not kept
                async with session.get(base, params={"address": address}) as r:
                    assert r.status == 400 and (await r.json())["errors"][0]["param"] == "subaccountNumber"
                async with session.get(base, params={"address": address, "subaccountNumber": "0", "status": "GONE"}) as r:
                    assert r.status == 400

    run(body())


def test_a_dydx_market_order_needs_its_worst_price_as_the_chain_does() -> None:
    async def body() -> None:
        async with TradingHarness("dydx") as h:
            ex = h.client()
            await ex.load_markets()
            with pytest.raises(ccxt.BaseError, match="subticks"):
                await ex.create_order("BTC/USDC:USDC", "market", "buy", 0.01)
            assert await ex.fetch_positions() == []

    run(body())


@pytest.mark.parametrize(("feed_id", "symbol", "default"), [("bybit", "BTC/USDT", 1), ("bybitlinear", "BTC/USDT:USDT", 25)])
def test_bybit_serves_its_rest_order_book(feed_id: str, symbol: str, default: int) -> None:
    async def body() -> None:
        async with TradingHarness(feed_id) as h:
            ex = h.client()
            await ex.load_markets()
            assert h.cluster is not None
            h.cluster.pause()  # the book holds still: what ccxt reads is the venue's top now
            book = await ex.fetch_order_book(symbol, 5)
            bid, ask = h.touch()
            assert len(book["bids"]) == len(book["asks"]) == 5
            assert (Decimal(str(book["bids"][0][0])), Decimal(str(book["asks"][0][0]))) == (bid, ask)
            assert [p for p, _ in book["bids"]] == sorted((p for p, _ in book["bids"]), reverse=True)
            native = h.sim.native(h.symbol)
            async with aiohttp.ClientSession() as session:
                url = f"{h.sim.rest_url}/v5/market/orderbook"
                async with session.get(url, params={"category": h.sim.category, "symbol": native}) as r:
                    result = (await r.json())["result"]
                    assert len(result["b"]) == default and result["s"] == native
                other = "linear" if h.sim.category == "spot" else "spot"
                async with session.get(url, params={"category": other, "symbol": native}) as r:
                    assert (await r.json())["retCode"] == 10001

    run(body())
