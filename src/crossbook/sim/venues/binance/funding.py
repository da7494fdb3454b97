"""Binance futures' public funding endpoints (``premiumIndex``, ``fundingRate``, ``fundingInfo``
on ``/fapi/v1`` and ``/dapi/v1``), read from ``PerpPrices``, mixed into the futures simulators."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ...perp_prices import PerpPrices
from ...server import json_response
from .accounts import BinanceSpotSim
from .errors import binance_error


class FuturesFunding(PerpPrices, BinanceSpotSim):
    def funding_routes(self) -> list[web.RouteDef]:
        return [web.get(f"{self.api}/premiumIndex", self.premium_index), web.get(f"{self.api}/fundingInfo", self.funding_info),
                web.get(f"{self.api}/fundingRate", self.funding_rate_history)]

    async def premium_index(self, request: web.Request) -> web.Response:
        """Mark, index and funding (``PerpPrices``: the premium's rate, the next 8-hour boundary at
        00:00, 08:00, 16:00 UTC). One object for a ``symbol``, else a list of all."""
        wanted = request.query.get("symbol")
        if wanted is None:
            return json_response([self.premium_json(s) for s in self.markets])
        symbol = self.symbol_of(wanted)
        if symbol is None:
            raise binance_error(-1121, "Invalid symbol.")
        return json_response(self.premium_json(symbol))

    def premium_json(self, symbol: str) -> dict[str, Any]:
        mark, index = self.mark(symbol), self.index(symbol)
        return {
            "symbol": self.native(symbol),
            "markPrice": self.num(mark),
            "indexPrice": self.num(index),
            "estimatedSettlePrice": self.num(index),
            "lastFundingRate": self.num(self.funding_rate(symbol)),
            "interestRate": self.num(self.funding_rule.interest),
            "nextFundingTime": self.next_funding_ms(symbol),
            "time": self.tape.clock(),
        }

    async def funding_rate_history(self, request: web.Request) -> web.Response:
        """``fundingRate``: the settled rates of ``symbol`` from ``startTime`` up to ``endTime``
        (``limit``, default 100, at most 1000), oldest first (no historical mark price is kept)."""
        symbol = self.symbol_of(request.query.get("symbol", ""))
        if symbol is None:
            raise binance_error(-1121, "Invalid symbol.")
        query = request.query
        try:
            start, end = (int(query[k]) if k in query else None for k in ("startTime", "endTime"))
            limit = min(int(query.get("limit", "100")), 1000)
        except ValueError:
            raise binance_error(-1100, "Illegal characters found in a parameter.") from None
        return json_response([{"symbol": self.native(symbol), "fundingTime": s.ms, "fundingRate": self.num(s.rate)}
                              for s in self.funding_history(symbol, start, end, limit)])

    async def funding_info(self, request: web.Request) -> web.Response:
        """``fundingInfo``: Binance lists the contracts whose funding interval, cap or floor was
        adjusted; the simulator lists its own, every one paid each 8 hours."""
        hours = self.funding_rule.interval_hours
        return json_response([{"symbol": self.native(s), "adjustedFundingRateCap": "0.02000000", "adjustedFundingRateFloor":
                               "-0.02000000", "fundingIntervalHours": hours, "disclaimer": False} for s in self.markets])
