"""Simulated Bitget USDT-M futures."""

from __future__ import annotations

from typing import Any, ClassVar

from aiohttp import web

from ....symbols import parse_standard
from ...perp_prices import BITGET, FundingRule, PerpPrices
from ...refusal import Reason
from ...server import json_response
from .errors import REFUSALS, unknown_symbol
from .trading import BitgetSpotSim
from .wire import (
    _envelope,
    _ms,
    _num,
    _required,
)


class BitgetFuturesSim(PerpPrices, BitgetSpotSim):
    funding_rule: ClassVar[FundingRule] = BITGET
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
            web.get("/api/v2/mix/market/history-fund-rate", self.history_fund_rate),
        ]

    def funding_symbol(self, request: web.Request) -> str:
        """The contract a funding request names (``symbol`` and ``productType``)."""
        product = _required(dict(request.query), "productType").upper()
        symbol = self.symbol_of(_required(dict(request.query), "symbol"))
        if symbol is None or product != self.inst_type:
            raise unknown_symbol("symbol")
        return symbol

    async def current_fund_rate(self, request: web.Request) -> web.Response:
        """The current funding rate, as ccxt's fetch_funding_rate reads it: the premium's rate
        (``PerpPrices``) and the next 8-hour boundary."""
        symbol = self.funding_symbol(request)
        rule = self.funding_rule
        row = {
            "symbol": self.native(symbol),
            "fundingRate": _num(self.funding_rate(symbol)),
            "fundingRateInterval": str(rule.interval_hours),
            "nextUpdate": str(self.next_funding_ms(symbol)),
            "minFundingRate": _num(-rule.cap),
            "maxFundingRate": _num(rule.cap),
        }
        return json_response(_envelope([row]))

    async def history_fund_rate(self, request: web.Request) -> web.Response:
        """``GET /api/v2/mix/market/history-fund-rate?symbol=&productType=[&pageSize=][&pageNo=]``:
        settled rates newest first, ``pageSize`` up to 100 (default 20), page ``pageNo`` (from 1)."""
        symbol = self.funding_symbol(request)
        try:
            size, page = min(int(request.query.get("pageSize", "20")), 100), int(request.query.get("pageNo", "1"))
        except ValueError:
            raise REFUSALS[Reason.BAD_NUMBER].refuse() from None
        settled = self.funding_history(symbol, limit=size * max(page, 1))[::-1][size * (max(page, 1) - 1):]
        rows = [{"symbol": self.native(symbol), "fundingRate": _num(s.rate), "fundingTime": str(s.ms)} for s in settled]
        return json_response(_envelope(rows))

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
