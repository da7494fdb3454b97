"""Simulated Bitget USDT-M futures: the mix market reads ccxt's ``bitget`` makes of a swap
(``productType=USDT-FUTURES``): contracts, candles, the ticker (with mark, index, funding and open
interest), open interest and the current and past funding rates. Trading is not simulated."""

from __future__ import annotations

from typing import Any, ClassVar

from aiohttp import web

from ....symbols import parse_standard
from ...interest import open_interest
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
            web.get("/api/v2/mix/market/ticker", self.mix_ticker),
            web.get("/api/v2/mix/market/tickers", self.mix_tickers),
            web.get("/api/v2/mix/market/open-interest", self.open_interest),
        ]

    def product_type(self, request: web.Request) -> None:
        if _required(dict(request.query), "productType").upper() != self.inst_type:
            raise unknown_symbol("productType")

    async def mix_ticker(self, request: web.Request) -> web.Response:
        """``GET /api/v2/mix/market/ticker?symbol=&productType=``: one contract's row."""
        return json_response(_envelope([self.contract_ticker(self.funding_symbol(request))]))

    async def mix_tickers(self, request: web.Request) -> web.Response:
        """``GET /api/v2/mix/market/tickers?productType=``: every contract's row."""
        self.product_type(request)
        return json_response(_envelope([self.contract_ticker(s) for s in self.markets]))

    def contract_ticker(self, symbol: str) -> dict[str, Any]:
        """The spot row's touch and rolling day, and the contract's mark, index, funding rate and
        open interest (``holdingAmount``, in the base coin):
        {"symbol":"BTCUSDT","lastPr":"104823.8","askPr":"104823.8","bidPr":"104823.5","bidSz":"0.703",
        "askSz":"13.894","high24h":"105289.3","low24h":"103447.9","ts":"1750332210370","change24h":"0.00471",
        "baseVolume":"79089.5675","quoteVolume":"8274870921.80485","usdtVolume":"8274870921.80485",
        "openUtc":"104833","changeUtc24h":"-0.00009","indexPrice":"104881.953125","fundingRate":"-0.000014",
        "holdingAmount":"7452.6421","deliveryStartTime":null,"deliveryTime":null,"deliveryStatus":"",
        "open24h":"104332.3","markPrice":"104824.2"}"""
        row: dict[str, Any] = dict(self.ticker(symbol))
        row["open24h"] = row.pop("open")
        row.update({
            "indexPrice": _num(self.index(symbol)), "fundingRate": _num(self.funding_rate(symbol)),
            "holdingAmount": _num(open_interest(self.engine, symbol)), "deliveryStartTime": None,
            "deliveryTime": None, "deliveryStatus": "", "markPrice": _num(self.mark(symbol)),
        })
        return row

    async def open_interest(self, request: web.Request) -> web.Response:
        """``GET /api/v2/mix/market/open-interest?symbol=&productType=``: the simulator's open
        interest in the base coin (``sim/interest.py``):
        {"openInterestList":[{"symbol":"BTCUSDT","size":"52234.134"}],"ts":"1700866041023"}"""
        symbol = self.funding_symbol(request)
        size = _num(open_interest(self.engine, symbol))
        return json_response(_envelope({"openInterestList": [{"symbol": self.native(symbol), "size": size}], "ts": str(_ms())}))

    def funding_symbol(self, request: web.Request) -> str:
        """The contract a mix market request names (``symbol`` and ``productType``)."""
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
