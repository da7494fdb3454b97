"""Simulated Bitget USDT-M futures."""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from ....symbols import parse_standard
from ...server import json_response
from .errors import unknown_symbol
from .trading import BitgetSpotSim
from .wire import (
    FUNDING_HOURS,
    FUNDING_RATE,
    _envelope,
    _ms,
    _num,
    _required,
)


class BitgetFuturesSim(BitgetSpotSim):
    venue = "bitgetfutures"
    snapshot_paths = ()  # its mix market book is not simulated
    instruments_paths = ("/api/v2/mix/market/contracts",)
    ccxt_id = None  # futures trading (mix endpoints) is not simulated yet; only the funding rate
    private_ws_paths = ()
    markets = ("BTC-USDT-PERP", "ETH-USDT-PERP")
    inst_type = "USDT-FUTURES"

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/api/v2/mix/market/contracts", self.contracts),
            web.get("/api/v2/mix/market/current-fund-rate", self.current_fund_rate),
        ]

    async def current_fund_rate(self, request: web.Request) -> web.Response:
        """The current funding rate, as ccxt's fetch_funding_rate reads it: a fixed rate (the
        engine settles no funding) and the next 8-hour boundary."""
        product = _required(dict(request.query), "productType").upper()
        symbol = self.symbol_of(_required(dict(request.query), "symbol"))
        if symbol is None or product != self.inst_type:
            raise unknown_symbol("symbol")
        interval = FUNDING_HOURS * 3600
        row = {
            "symbol": self.native(symbol),
            "fundingRate": FUNDING_RATE,
            "fundingRateInterval": str(FUNDING_HOURS),
            "nextUpdate": str((int(time.time()) // interval + 1) * interval * 1000),
            "minFundingRate": "-0.003",
            "maxFundingRate": "0.003",
        }
        return json_response(_envelope([row]))

    async def contracts(self, request: web.Request) -> web.Response:
        product = request.query.get("productType", "").upper()
        if not product:
            error = {"code": "40019", "msg": "Parameter productType cannot be empty", "requestTime": _ms(), "data": None}
            return json_response(error, status=400)
        wanted = request.query.get("symbol")
        listed = self.markets if product == self.inst_type else ()  # other product types: none simulated
        rows = [self.contract_info(s) for s in listed if wanted in (None, self.native(s))]
        return json_response(_envelope(rows))

    def contract_info(self, symbol: str) -> dict[str, Any]:
        base, quote, _, _ = parse_standard(symbol)
        ladder = self.ladders[symbol]
        return {
            "symbol": self.native(symbol),
            "baseCoin": base,
            "quoteCoin": quote,
            "buyLimitPriceRatio": "0.9",
            "sellLimitPriceRatio": "0.9",
            "feeRateUpRatio": "0.1",
            "makerFeeRate": _num(self.engine.maker_fee),
            "takerFeeRate": _num(self.engine.taker_fee),
            "openCostUpRatio": "0.1",
            "supportMarginCoins": [quote],
            "minTradeNum": ladder.size_str(1),
            "priceEndStep": "1",
            "volumePlace": str(ladder.size_decimals),
            "pricePlace": str(ladder.price_decimals),
            "sizeMultiplier": ladder.size_str(1),
            "symbolType": "perpetual",
            "minTradeUSDT": "5",
            "maxSymbolOrderNum": "999999",
            "maxProductOrderNum": "999999",
            "maxPositionNum": "150",
            "symbolStatus": "normal",
            "offTime": "-1",
            "limitOpenTime": "-1",
            "deliveryTime": "",
            "deliveryStartTime": "",
            "launchTime": "",
            "fundInterval": "8",
            "minLever": "1",
            "maxLever": "125",
            "posLimit": "0.05",
            "maintainTime": "",
        }
