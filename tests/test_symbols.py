from __future__ import annotations

import pytest

from crossbook.errors import UnknownSymbol
from crossbook.model import Instrument, Kind
from crossbook.symbols import SymbolMap, parse_standard, standard_symbol
from crossbook.venues.binance import BinanceUsdm


def test_standard_symbols() -> None:
    assert standard_symbol("xbt", "usd") == "BTC-USD"
    assert standard_symbol("BTC", "USDT", Kind.PERP) == "BTC-USDT-PERP"
    assert standard_symbol("BTC", "USD", Kind.FUTURE, "20261225") == "BTC-USD-20261225"
    with pytest.raises(UnknownSymbol, match="YYYYMMDD"):
        standard_symbol("BTC", "USD", Kind.FUTURE, "261225")
    assert parse_standard("btc-usdt-perp") == ("BTC", "USDT", Kind.PERP, None)
    assert parse_standard("BTC-USD-20261225") == ("BTC", "USD", Kind.FUTURE, "20261225")
    with pytest.raises(UnknownSymbol, match="not a standard symbol"):
        parse_standard("BTC/USDT")


def test_symbol_map_both_ways() -> None:
    m = SymbolMap("okx", [Instrument("okx", "BTC-USDT-SWAP", "BTC-USDT-PERP", "BTC", "USDT", Kind.PERP)])
    assert m.native("btc-usdt-perp") == "BTC-USDT-SWAP"
    assert m.standard("BTC-USDT-SWAP") == "BTC-USDT-PERP"
    assert "BTC-USDT-PERP" in m and len(m) == 1
    with pytest.raises(UnknownSymbol, match="okx has no market 'ETH-USDT'"):
        m.native("ETH-USDT")


def test_binance_futures_metadata_gives_perp_and_dated_symbols() -> None:
    body = b"""{"symbols": [
      {"symbol": "BTCUSDT", "status": "TRADING", "baseAsset": "BTC", "quoteAsset": "USDT", "contractType": "PERPETUAL",
       "filters": [{"filterType": "PRICE_FILTER", "tickSize": "0.10"}, {"filterType": "LOT_SIZE", "stepSize": "0.001"}]},
      {"symbol": "BTCUSDT_261225", "status": "TRADING", "baseAsset": "BTC", "quoteAsset": "USDT", "contractType": "CURRENT_QUARTER",
       "filters": []},
      {"symbol": "OLDUSDT", "status": "SETTLING", "baseAsset": "OLD", "quoteAsset": "USDT", "contractType": "PERPETUAL", "filters": []}
    ]}"""
    m = SymbolMap("binanceusdm", BinanceUsdm().parse_instruments([body]))
    assert m.native("BTC-USDT-PERP") == "BTCUSDT"
    assert m.standard("BTCUSDT_261225") == "BTC-USDT-20261225"
    assert "OLD-USDT-PERP" not in m
    assert m.by_native["BTCUSDT"].tick == 0.1 and m.by_native["BTCUSDT"].lot == 0.001
