"""Binance futures' public open interest (``GET /fapi/v1/openInterest``, ``/dapi/v1/openInterest``),
as ccxt's fetch_open_interest reads it, mixed into the futures simulators."""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from ...interest import open_interest
from ...server import json_response
from .accounts import BinanceSpotSim
from .errors import binance_error
from .wire import ms


class FuturesOpenInterest(BinanceSpotSim):
    async def open_interest(self, request: web.Request) -> web.Response:
        """``openInterest?symbol=``: the simulator's open interest (``sim/interest.py``) in the
        orders' unit, base coin on USD-M, contracts on COIN-M:
        ``{"symbol": "BTCUSDT", "openInterest": "1000.00000000", "time": 1796654006815}``."""
        symbol = self.symbol_of(request.query.get("symbol", ""))
        if symbol is None:
            raise binance_error(-1121, "Invalid symbol.")
        return json_response(self.open_interest_json(symbol))

    def open_interest_json(self, symbol: str) -> dict[str, Any]:
        return {"symbol": self.native(symbol), "openInterest": self.num(open_interest(self.engine, symbol)), "time": ms(time.time())}
