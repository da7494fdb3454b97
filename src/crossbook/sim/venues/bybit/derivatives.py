"""Simulated Bybit linear and inverse perpetuals."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from decimal import Decimal
from functools import partial
from typing import Any, ClassVar

from aiohttp import web

from ....model import (
    MarginMode,
    OrderStatus,
    OrderType,
    PositionSide,
    Side,
)
from ....symbols import parse_standard
from ...access import ApiKey
from ...engine import Reject, SimOrder
from ...interest import open_interest
from ...market import Ladder
from ...perp_prices import PerpPrices
from ...refusal import Reason, refuse
from ...tape import Candle
from .stream import BybitSpotSim
from .wire import (
    LINEAR_ERRORS,
    PARAMS_ERROR,
    POSITION_IDX,
    RECENT_CLOSED,
    STABLE,
    ZERO,
    OrderRequest,
    Params,
    bybit_error,
    ms,
    plain,
)

# Bybit's ``intervalTime`` names -> milliseconds
OPEN_INTEREST_INTERVALS_MS = {"5min": 300_000, "15min": 900_000, "30min": 1_800_000, "1h": 3_600_000, "4h": 14_400_000, "1d": 86_400_000}


class BybitLinearSim(PerpPrices, BybitSpotSim):
    venue = "bybitlinear"
    ccxt_id = None  # "bybit" in ccxt_configs is the spot venue's
    client_ccxt_id: ClassVar[str | None] = "bybit"
    # a client of this server alone: its markets, balances and orders are not the spot server's
    ccxt_options: ClassVar[dict[str, Any]] = {
        "fetchMarkets": {"types": ["linear"]},
        "fetchOrder": {"acknowledged": True},
        "defaultType": "swap",
        "defaultSubType": "linear",
    }
    markets: ClassVar[tuple[str, ...]] = ("BTC-USDT-PERP", "ETH-USDT-PERP")
    ws_paths = ("/v5/public/linear",)
    category = "linear"
    errors = LINEAR_ERRORS
    args_per_request = None
    contract_type: ClassVar[str] = "LinearPerpetual"
    max_leverage: ClassVar[Decimal] = Decimal(100)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.voided: dict[str, SimOrder] = {}  # post-only orders Bybit took and then cancelled itself

    def trading_routes(self) -> list[web.RouteDef]:
        return [
            *super().trading_routes(),
            web.post("/v5/position/switch-mode", self.signed(self.switch_mode)),
            web.post("/v5/account/set-margin-mode", self.signed(self.set_margin_mode)),
            web.post("/v5/position/set-leverage", self.signed(self.set_leverage)),
            web.get("/v5/position/list", self.signed(self.position_list)),
        ]

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/v5/market/tickers", self.tickers), web.get("/v5/market/open-interest", self.open_interest),
                web.get("/v5/market/funding/history", self.funding_rate_history), *super().routes()]

    async def tickers(self, request: web.Request) -> web.Response:
        """The contracts' tickers as ccxt's fetch_funding_rate reads them: ``fundingRate`` (from the
        premium, ``PerpPrices``), ``nextFundingTime`` (the next 8-hour boundary), mark and index."""
        if request.query.get("category") != self.category:
            return self.envelope({}, ret_code=10001, ret_msg="params error: category is invalid")
        wanted = request.query.get("symbol")
        symbols = [s for s in self.markets if wanted in (None, self.native(s))]
        if wanted is not None and not symbols:
            return self.envelope({}, ret_code=10001, ret_msg="params error: symbol invalid")
        return self.envelope({"category": self.category, "list": [self.ticker(s) for s in symbols]})

    async def funding_rate_history(self, request: web.Request) -> web.Response:
        """``GET /v5/market/funding/history?category=&symbol=[&startTime=][&endTime=][&limit=]``:
        settled rates within the times (ms), newest first, ``limit`` 1 to 200 (default 200)."""
        query = request.query
        if query.get("category") != self.category:
            return self.envelope({}, ret_code=10001, ret_msg="params error: category is invalid")
        symbol = self.symbol_of(query.get("symbol", ""))
        if symbol is None:
            return self.envelope({}, ret_code=10001, ret_msg="params error: symbol invalid")
        try:
            start, end = (int(query[k]) if k in query else None for k in ("startTime", "endTime"))
            limit = int(query.get("limit") or 200)
        except ValueError:
            return self.envelope({}, ret_code=10001, ret_msg="params error: startTime, endTime or limit invalid")
        if not 1 <= limit <= 200:
            return self.envelope({}, ret_code=10001, ret_msg="params error: limit must be 1 to 200")
        rows = [{"symbol": self.native(symbol), "fundingRate": plain(s.rate), "fundingRateTimestamp": str(s.ms)}
                for s in self.funding_history(symbol, start, end, limit)]
        return self.envelope({"category": self.category, "list": rows[::-1]})

    async def open_interest(self, request: web.Request) -> web.Response:
        """``GET /v5/market/open-interest?category=&symbol=&intervalTime=``: the simulator's open
        interest now (``sim/interest.py``), one row stamped with the interval's start."""
        query = request.query
        if query.get("category") != self.category:
            return self.envelope({}, ret_code=10001, ret_msg="params error: category is invalid")
        symbol = self.symbol_of(query.get("symbol", ""))
        if symbol is None:
            return self.envelope({}, ret_code=10001, ret_msg="params error: symbol invalid")
        interval = OPEN_INTEREST_INTERVALS_MS.get(query.get("intervalTime", ""))
        if interval is None:
            return self.envelope({}, ret_code=10001, ret_msg="params error: intervalTime is invalid")
        now = ms(time.time())
        row = {"openInterest": self.open_interest_text(symbol), "timestamp": str(now - now % interval)}
        return self.envelope({"symbol": self.native(symbol), "category": self.category, "list": [row], "nextPageCursor": ""})

    def open_interest_text(self, symbol: str) -> str:
        """The open interest in the base coin."""
        return plain(open_interest(self.engine, symbol))

    def open_interest_value(self, symbol: str) -> str:
        """The open interest's value in the settle coin, at the mark."""
        return plain(open_interest(self.engine, symbol) * self.mark(symbol))

    def ticker(self, symbol: str) -> dict[str, Any]:
        ladder = self.ladders[symbol]
        bid, ask = ladder.top(True, 1), ladder.top(False, 1)
        mark_text, index_text = f"{self.mark(symbol):f}", f"{self.index(symbol):f}"
        day = self.tape.day(symbol)  # the last price and the rolling day from the public trades printed
        return {
            "symbol": self.native(symbol), "lastPrice": day.last, "indexPrice": index_text, "markPrice": mark_text,
            "prevPrice24h": day.open, "price24hPcnt": f"{day.change_ratio:.6f}", "highPrice24h": day.high,
            "lowPrice24h": day.low, "prevPrice1h": day.open, "openInterest": self.open_interest_text(symbol),
            "openInterestValue": self.open_interest_value(symbol),
            "turnover24h": day.quote_volume, "volume24h": day.volume,
            "fundingRate": plain(self.funding_rate(symbol)), "nextFundingTime": str(self.next_funding_ms(symbol)),
            "predictedDeliveryPrice": "", "basisRate": "", "deliveryFeeRate": "", "deliveryTime": "0",
            "bid1Price": ladder.price_str(bid[0][0]) if bid else "", "bid1Size": self.size_str(ladder, *bid[0]) if bid else "",
            "ask1Price": ladder.price_str(ask[0][0]) if ask else "", "ask1Size": self.size_str(ladder, *ask[0]) if ask else "",
            "basis": "", "curPreListingPhase": "", "fundingIntervalHour": str(self.funding_rule.interval_hours),
            "fundingCap": plain(self.funding_rule.cap),
        }

    def stream_ticker(self, symbol: str) -> dict[str, Any]:
        """The ``tickers`` topic carries what ``/v5/market/tickers`` answers."""
        return self.ticker(symbol)

    def page(self, rows: list[dict[str, Any]], query: Mapping[str, str]) -> dict[str, Any]:
        limit = min(1000, int(query.get("limit", "500")))
        start = int(query.get("cursor") or 0)
        end = start + limit
        return {"category": self.category, "list": rows[start:end], "nextPageCursor": str(end) if end < len(rows) else ""}

    def instrument(self, symbol: str) -> dict[str, Any]:
        base, quote, _, _ = parse_standard(symbol)
        ladder = self.ladders[symbol]
        tick = f"{ladder.spec.tick:.{ladder.price_decimals}f}"
        step = self.lot_step(ladder)
        return {
            "symbol": self.native(symbol),
            "contractType": self.contract_type,
            "status": "Trading",
            "baseCoin": base,
            "quoteCoin": quote,
            "settleCoin": self.settle_coin(base, quote),
            "launchTime": "1585526400000",
            "deliveryTime": "0",
            "deliveryFeeRate": "",
            "priceScale": str(ladder.price_decimals),
            "leverageFilter": {"minLeverage": "1", "maxLeverage": "100.00", "leverageStep": "0.01"},
            "priceFilter": {"minPrice": tick, "maxPrice": "1999999.80", "tickSize": tick},
            "lotSizeFilter": {
                "maxOrderQty": "1000000",
                "minOrderQty": step,
                "qtyStep": step,
                "postOnlyMaxOrderQty": "1000000",
                "maxMktOrderQty": "100000",
                "minNotionalValue": "5",
            },
            "unifiedMarginTrade": True,
            "fundingInterval": 480,
            "copyTrading": "both",
            "upperFundingRate": "0.005",
            "lowerFundingRate": "-0.005",
            "isPreListing": False,
        }

    def lot_step(self, ladder: Ladder) -> str:
        return ladder.size_str(1)

    def settle_coin(self, base: str, quote: str) -> str:
        return quote

    # ---- orders ---------------------------------------------------------------------------------

    def trigger_price(self, params: Params, symbol: str, side: Side) -> Decimal | None:
        """A conditional order: ``triggerPrice`` with ``triggerDirection`` (1: fires when the last
        price rises to it, 2: when it falls to it)."""
        if params.get("triggerPrice") in (None, ""):
            return None
        stop = self.decimal_param(params, "triggerPrice")
        if str(params.get("triggerDirection") or "") not in ("1", "2"):
            raise bybit_error(10001, "params error: triggerDirection must be 1 or 2 with triggerPrice")
        return stop

    @staticmethod
    def cancel_filter(params: Params) -> str | None:
        """orderFilter is spot-only: a contract order cancels by its id, conditional or not."""
        return None

    def trigger_direction(self, params: Params, stop: Decimal | None) -> bool | None:
        return None if stop is None else str(params.get("triggerDirection")) == "1"

    def position_args(self, account: str, params: Params, side: Side, kind: OrderType) -> tuple[bool, PositionSide]:
        """positionIdx must match the account's position mode: 0 one-way, 1 (long) or 2 (short)
        in hedge mode, where an order against its side's direction closes that side and so can
        only reduce it."""
        try:
            position_side = {v: k for k, v in POSITION_IDX.items()}[int(params.get("positionIdx") or 0)]
        except (KeyError, ValueError):
            raise bybit_error(10001, "params error: positionIdx must be 0, 1 or 2") from None
        if (position_side is not PositionSide.BOTH) != self.engine.account(account).hedge_mode:
            raise LINEAR_ERRORS[Reason.POSITION_SIDE_REQUIRED].refuse()
        closing = position_side is not PositionSide.BOTH and (position_side is PositionSide.LONG) != (side is Side.BUY)
        return params.get("reduceOnly") in (True, "true") or closing, position_side

    def place(self, request: OrderRequest) -> SimOrder:
        """A post-only order that would take is accepted, then cancelled: the answer carries its
        id and the order reads back Cancelled."""
        try:
            return super().place(request)
        except Reject as exc:
            if exc.reason != "post_only_would_take":
                raise
        return self.void(request)

    def void(self, r: OrderRequest) -> SimOrder:
        market = self.engine.markets[r.symbol]
        assert r.price is not None
        order = SimOrder(
            order_id=str(uuid.uuid4()), client_id=r.client_id or "", account=r.account, symbol=r.symbol, side=r.side,
            type=r.kind, amount=int(r.amount / market.lot), price=int(r.price / market.tick), tif=r.tif, post_only=True,
            reduce_only=r.reduce_only, position_side=r.position_side, status=OrderStatus.CANCELED,
        )
        order.updated = order.created
        self.voided[order.order_id] = order
        return order

    def lookup(self, account: str, params: Params) -> SimOrder | None:
        found = super().lookup(account, params)
        if found is not None:
            return found
        order_id, link_id = params.get("orderId") or None, params.get("orderLinkId") or None
        for order in self.voided.values():
            if order.account == account and (order.order_id == order_id if order_id else order.client_id == link_id):
                return order
        return None

    def recent_closed(self, account: str) -> list[SimOrder]:
        voided = [o for o in self.voided.values() if o.account == account]
        return sorted([*super().recent_closed(account), *voided], key=lambda o: o.updated)[-RECENT_CLOSED:]

    def order_json(self, order: SimOrder) -> dict[str, Any]:
        row = super().order_json(order)
        row.update({"isLeverage": "", "marketUnit": "", "feeCurrency": "", "cumFeeDetail": {}})
        if order.order_id in self.voided:
            row.update({"rejectReason": "EC_PostOnlyWillTakeLiquidity", "cancelType": "UNKNOWN"})
        return row

    # ---- positions --------------------------------------------------------------------------------

    async def switch_mode(self, key: ApiKey, params: Params) -> dict[str, Any]:
        """mode 0 one-way, 3 hedge, for every USDT contract (coin) or the one symbol named; the
        engine keeps one mode per account, so naming a symbol switches them all."""
        self.check_category(params)
        if params.get("symbol") is None and params.get("coin") is None:
            raise bybit_error(10001, "params error: symbol or coin is required")
        if params.get("symbol") is not None:
            self.symbol_param(params)
        mode = str(params.get("mode"))
        if mode not in ("0", "3"):
            raise bybit_error(10001, "params error: mode must be 0 (one-way) or 3 (hedge)")
        hedge = mode == "3"
        if self.engine.account(key.account).hedge_mode == hedge:
            raise bybit_error(110025, "Position mode is not modified")
        self.apply(lambda: self.engine.set_position_mode(key.account, hedge))
        return {}

    async def set_margin_mode(self, key: ApiKey, params: Params) -> dict[str, Any]:
        """A unified account's margin mode is the account's: every contract turns cross or isolated."""
        choice = params.get("setMarginMode")
        mode = {"REGULAR_MARGIN": MarginMode.CROSS, "ISOLATED_MARGIN": MarginMode.ISOLATED}.get(str(choice))
        if mode is None:
            # portfolio margin is not simulated
            raise bybit_error(3400045, f"Set margin mode failed: {choice} is not available to this account")
        if any(p.size for p in self.engine.account(key.account).positions.values()):
            raise bybit_error(3400045, "Set margin mode failed: close your positions first")
        for symbol in self.markets:
            self.apply(partial(self.engine.set_margin_mode, key.account, symbol, mode))
        return {"reasons": []}

    async def set_leverage(self, key: ApiKey, params: Params) -> dict[str, Any]:
        self.check_category(params)
        symbol = self.symbol_param(params)
        buy, sell = self.decimal_param(params, "buyLeverage"), self.decimal_param(params, "sellLeverage")
        if buy is None or buy != sell:
            raise bybit_error(10001, "params error: buyLeverage must equal sellLeverage")
        if not Decimal(1) <= buy <= self.max_leverage or buy != buy.quantize(Decimal("0.01")):
            raise bybit_error(10001, f"params error: leverage {plain(buy)} is outside [1, {self.max_leverage}] or its 0.01 step")
        if self.leverage(key.account, symbol) == buy:
            raise bybit_error(110043, "Set leverage not modified")
        self.apply(lambda: self.engine.set_leverage(key.account, symbol, buy))
        return {}

    def apply(self, change: Callable[[], None]) -> None:
        try:
            change()
        except Reject as exc:
            raise refuse(self.errors, exc, PARAMS_ERROR) from None

    def leverage(self, account: str, symbol: str) -> Decimal:
        return self.engine.account(account).leverages.get(symbol, Decimal(1))

    def margin_mode(self, account: str) -> MarginMode:
        modes = self.engine.account(account).margin_modes
        return modes.get(self.markets[0], MarginMode.CROSS)

    async def account_info(self, key: ApiKey, params: Params) -> dict[str, Any]:
        info = await super().account_info(key, params)
        mode = self.margin_mode(key.account)
        return {**info, "marginMode": "ISOLATED_MARGIN" if mode is MarginMode.ISOLATED else "REGULAR_MARGIN"}

    async def position_list(self, key: ApiKey, params: Params) -> dict[str, Any]:
        """By symbol: its positions, empty ones too; by settleCoin: the open ones."""
        self.check_category(params)
        if params.get("symbol") is not None:
            symbols, open_only = [self.symbol_param(params)], False
        elif params.get("settleCoin") is not None or params.get("baseCoin") is not None:
            symbols = [s for s in self.markets if params.get("settleCoin") in (None, parse_standard(s)[1])
                       and params.get("baseCoin") in (None, parse_standard(s)[0])]
            open_only = True
        else:
            raise bybit_error(10001, "params error: symbol or settleCoin is required")
        account = self.engine.account(key.account)
        sides = (PositionSide.LONG, PositionSide.SHORT) if account.hedge_mode else (PositionSide.BOTH,)
        rows = [self.position_json(key.account, s, side) for s in symbols for side in sides]
        rows = [r for r in rows if not open_only or r["size"] != "0"]
        page, cursor = self.page_of(rows, params, 20, 200)
        return {"category": self.category, "list": page, "nextPageCursor": cursor}

    def position_json(self, account: str, symbol: str, side: PositionSide) -> dict[str, Any]:
        pos = self.engine.position(account, symbol, side)
        ladder = self.ladders[symbol]
        size = abs(pos.size)
        long = pos.size > 0 if side is PositionSide.BOTH else side is PositionSide.LONG
        mark = self.mark(symbol)
        upl = (mark - pos.entry) * size * (1 if long else -1) if size else ZERO
        now = str(ms(time.time()))
        return {
            "positionIdx": POSITION_IDX[side],
            "riskId": 1,
            "riskLimitValue": "2000000",
            "symbol": self.native(symbol),
            "side": ("Buy" if long else "Sell") if size else "",
            "size": plain(size),
            "avgPrice": plain(pos.entry),
            "positionValue": plain(pos.entry * size),
            "tradeMode": 0,  # deprecated on UTA 2.0: the account info tells the margin mode
            "autoAddMargin": 0,
            "positionStatus": "Normal",
            "leverage": plain(self.leverage(account, symbol)),
            "markPrice": ladder.price_str(int(mark / self.engine.markets[symbol].tick)) if mark else "",
            "liqPrice": "",  # no liquidation is simulated
            "bustPrice": "",
            "positionIM": plain(pos.margin),
            "positionMM": "0",
            "positionBalance": plain(pos.margin),
            "takeProfit": "",
            "stopLoss": "",
            "trailingStop": "0",
            "sessionAvgPrice": "",
            "delta": "",
            "gamma": "",
            "vega": "",
            "theta": "",
            "unrealisedPnl": plain(upl),
            "curRealisedPnl": "0",
            "cumRealisedPnl": "0",
            "adlRankIndicator": 2 if size else 0,
            "createdTime": now,
            "updatedTime": now,
            "seq": 0,
            "isReduceOnly": False,
            "mmrSysUpdatedTime": "",
            "leverageSysUpdatedTime": "",
            "tpslMode": "Full",
        }

    # ---- the unified wallet ---------------------------------------------------------------------------

    async def wallet_balance(self, key: ApiKey, params: Params) -> dict[str, Any]:
        """What the engine locks for a contract is initial margin: for orders (totalOrderIM) and
        for positions (totalPositionIM), not a spot lock."""
        result = await super().wallet_balance(key, params)
        summary = result["list"][0]
        account = self.engine.account(key.account)
        upl_total = ZERO
        for row in summary["coin"]:
            order_im, position_im, upl = self.margins(key.account, row["coin"])
            locked = account.locked.get(row["coin"], ZERO) - order_im - position_im
            row.update({
                "locked": plain(locked), "totalOrderIM": plain(order_im), "totalPositionIM": plain(position_im),
                "unrealisedPnl": plain(upl), "equity": plain(Decimal(row["walletBalance"]) + upl),
            })
            upl_total += self.usd_value(row["coin"], upl)
        initial = sum((Decimal(r["totalOrderIM"]) + Decimal(r["totalPositionIM"]) for r in summary["coin"] if r["coin"] in STABLE), ZERO)
        summary.update({
            "totalPerpUPL": plain(upl_total), "totalEquity": plain(Decimal(summary["totalEquity"]) + upl_total),
            "totalInitialMargin": plain(initial),
        })
        return result

    def margins(self, account: str, coin: str) -> tuple[Decimal, Decimal, Decimal]:
        """(order IM, position IM, unrealised PnL) in ``coin``, the settle coin of its contracts."""
        orders = [o for o in self.engine.open_orders(account) if self.engine.markets[o.symbol].quote == coin]
        positions = [
            (symbol, side) for (symbol, side), pos in self.engine.account(account).positions.items()
            if pos.size and self.engine.markets[symbol].quote == coin
        ]
        rows = [self.position_json(account, symbol, side) for symbol, side in positions]
        return (
            sum((o.reserved for o in orders), ZERO),
            sum((Decimal(r["positionIM"]) for r in rows), ZERO),
            sum((Decimal(r["unrealisedPnl"]) for r in rows), ZERO),
        )


class BybitInverseSim(BybitLinearSim):
    """Sizes are whole contracts of 1 USD, so the client's base-coin book holds contracts / price."""

    venue = "bybitinverse"
    markets = ("BTC-USD-PERP", "ETH-USD-PERP")
    ws_paths = ("/v5/public/inverse",)
    category = "inverse"
    contract_type = "InversePerpetual"
    client_ccxt_id = None  # inverse trading is not simulated yet
    private_ws_paths = ()

    def trading_routes(self) -> list[web.RouteDef]:
        return []

    def open_interest_text(self, symbol: str) -> str:
        """The open interest in contracts of 1 USD."""
        return str(round(open_interest(self.engine, symbol) * self.mark(symbol)))

    def open_interest_value(self, symbol: str) -> str:
        """The open interest's value in the base coin (the settle coin)."""
        return plain(open_interest(self.engine, symbol))

    def kline_volumes(self, c: Candle) -> tuple[str, str]:
        """Inverse candles count volume in contracts of 1 USD and turnover in the base coin."""
        return str(round(Decimal(c.quote_volume))), c.volume

    def contracts(self, ladder: Ladder, ticks: int, lots: int) -> int:
        return max(1, round(ladder.size(lots) * ladder.price(ticks)))

    def size_str(self, ladder: Ladder, ticks: int, lots: int) -> str:
        return str(self.contracts(ladder, ticks, lots))

    def lot_step(self, ladder: Ladder) -> str:
        return "1"

    def settle_coin(self, base: str, quote: str) -> str:
        return base

    def expected_top(self, symbol: str, n: int) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
        ladder = self.ladders[symbol]

        def side(bids: bool) -> list[tuple[float, float]]:
            out = []
            for p, q in ladder.top(bids, n):
                price = ladder.price_str(p)
                out.append((float(price), float(self.size_str(ladder, p, q)) / float(price)))
            return out

        return side(True), side(False)
