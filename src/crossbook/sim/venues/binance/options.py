"""Simulated Binance options (the European options API, ``eapi``): BTC and ETH calls and puts on
USDT, the series ``crossbook.sim.options.listed_series`` lists, as ``BTC-261225-60000-C``.

Public: ``/eapi/v1/exchangeInfo`` (``optionContracts``, ``optionAssets``, ``optionSymbols``),
``/eapi/v1/depth`` (``T``, ``u``), ``/eapi/v1/mark`` (mark, bid/ask/mark IV, greeks),
``/eapi/v1/ticker``, ``/eapi/v1/klines`` (the option's own prints); the combined streams, on
the paths Binance routes them to: ``/public/stream`` ``<symbol>@depth@100ms`` (``U``, ``u``, ``pu``
as on USD-M) and ``<symbol>@optionTrade`` (the option's prints, to the sockets holding that
stream); ``/market/stream`` ``<underlying>@optionMarkPrice`` (every series of the underlying in
one array, each second). A stream asked on the other path is acknowledged and never pushed, as
Binance's routed endpoints do (the USD-M WebSocket notice: a stream of ``/market`` "will not push
data" on another connection). Marks: the book's mid (inside the touch), its Black-76 implied volatility on the
perpetual's fair price, bid/ask IV from the touch (``-1.0`` where none), greeks at the mark IV;
Binance publishes vega per volatility point and theta per day.

Trading, as ccxt's ``binance`` calls it for an option market: ``POST/DELETE/GET /eapi/v1/order``
(LIMIT only; GTC, IOC, FOK; ``postOnly`` or ccxt's ``timeInForce=GTX``; ``reduceOnly``;
``clientOrderId``), ``openOrders``, ``historyOrders``, ``userTrades``, ``position``, ``account``
and ``marginAccount``, and the spot ``/api/v3/account`` ccxt's ``fetch_balance`` reads. Orders
trade through the engine as derivatives: a position per series, margin (a long's premium, a
short's price x size) reserved from USDT, realized PnL settled into it.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar

import orjson
from aiohttp import web

from .... import black76
from ....model import OrderStatus, OrderType, PositionSide, Side, TimeInForce
from ....symbols import option_symbol, parse_option
from ...access import ApiKey
from ...engine import Position, Reject, SimFill, SimOrder
from ...market import MarketSpec, SimTrade
from ...options import EXPIRY_HOUR, listed_series, years_to
from ...refusal import ErrorShape, Reason
from ...server import Change, Frame, SimConnection, json_response
from ...tape import Candle
from .errors import ERRORS, FUTURES_ERRORS, binance_error, rejected
from .futures import BinanceUsdmSim
from .streams import StreamFrames
from .wire import BINANCE_INTERVALS, ms

QUOTE = "USDT"
MARK_STREAM = "optionMarkPrice"
TRADE_STREAM = "optionTrade"
PUBLIC_PATH = "/public/stream"  # depth and trades
MARKET_PATH = "/market/stream"  # the marks
MARK_EVERY = 1.0  # seconds between two optionMarkPrice pushes, as Binance sends them
# ccxt's option table maps -2027 to InsufficientFunds and the common -2010 (NEW_ORDER_REJECTED) to
# InvalidOrder; USD-M's -5022 and -2022 would read as other errors on the eapi
OPTION_ERRORS: dict[Reason, ErrorShape] = {
    Reason.INSUFFICIENT_BALANCE: ErrorShape(-2027, "Option margin is insufficient.", 400),
    Reason.POST_ONLY_WOULD_TAKE: ERRORS[Reason.POST_ONLY_WOULD_TAKE],
    Reason.REDUCE_ONLY_WOULD_INCREASE: ErrorShape(-2010, "ReduceOnly Order is rejected.", 400),
}
# the intervals /eapi/v1/klines takes (no 1s, 8h or 1M there)
KLINE_INTERVALS = {k: v for k, v in BINANCE_INTERVALS.items() if k not in ("1s", "8h", "1M")}
SPECS = {"BTC": (5.0, 0.01), "ETH": (0.1, 0.01)}  # tick (USDT) and lot (contracts of 1 unit)
STATUS = {
    OrderStatus.OPEN: "ACCEPTED",
    OrderStatus.PARTIALLY_FILLED: "PARTIALLY_FILLED",
    OrderStatus.FILLED: "FILLED",
    OrderStatus.CANCELED: "CANCELLED",
    OrderStatus.REJECTED: "REJECTED",
    OrderStatus.EXPIRED: "CANCELLED",
}


def _listed() -> dict[str, MarketSpec]:
    """Standard option symbol -> its tick and lot, for the series listed when the module loads
    (the nearest expiry is at least 12 hours away then)."""
    out = {}
    for s in listed_series():
        symbol = option_symbol(s.base, QUOTE, s.expiry, s.strike, s.right)
        out[symbol] = MarketSpec(symbol, *SPECS[s.base])
    return out


LISTED = _listed()


def strike_text(strike: float) -> str:
    return f"{strike:.8f}".rstrip("0").rstrip(".")


def expiry_ms(expiry: str) -> int:
    """YYYYMMDD -> 08:00 UTC that day, epoch ms."""
    return ms(datetime.strptime(expiry, "%Y%m%d").replace(hour=EXPIRY_HOUR, tzinfo=UTC).timestamp())


class BinanceOptionsSim(BinanceUsdmSim):
    venue = "binanceoptions"
    ccxt_id = None
    client_ccxt_id = "binance"
    # fetch_balance reads the spot /api/v3/account (ccxt 4.5 has no option balance): served here
    ccxt_hosts = ("https://eapi.binance.com", "https://api.binance.com")  # type: ignore[assignment]  # USD-M lists one
    # only the eapi markets; positions from /eapi/v1/position (ccxt's default reads USD-M's positionRisk)
    ccxt_options: ClassVar[dict[str, Any]] = {"fetchMarkets": {"types": ["option"]}, "fetchMargins": False,
                                              "fetchCurrencies": False, "fetchPositions": {"method": "option"}}
    markets = tuple(LISTED)  # type: ignore[assignment]  # USD-M's tuple is typed by its two perpetuals
    specs = LISTED
    api = "/eapi/v1"
    ws_paths = (PUBLIC_PATH, MARKET_PATH)
    snapshot_paths = ("/eapi/v1/depth",)
    instruments_paths = ("/eapi/v1/exchangeInfo",)
    depth_stream = "depth@100ms"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.marks_sent: dict[str, float] = {}  # underlying (BTCUSDT) -> when its marks were last pushed

    def native(self, symbol: str) -> str:
        o = parse_option(symbol)
        return f"{o.base}-{o.expiry[2:]}-{strike_text(o.strike)}-{o.right.value}"

    @staticmethod
    def underlying(symbol: str) -> str:
        return parse_option(symbol).base + QUOTE

    def routes(self) -> list[web.RouteDef]:
        api = self.api
        return [web.get(f"{api}/exchangeInfo", self.exchange_info), web.get(f"{api}/depth", self.depth),
                web.get(f"{api}/mark", self.mark_prices), web.get(f"{api}/ticker", self.option_tickers),
                web.get(f"{api}/klines", self.option_klines), *self.trading_routes()]

    def market_data_routes(self) -> list[web.RouteDef]:
        return []

    def trading_routes(self) -> list[web.RouteDef]:
        api = self.api
        return [
            web.post(f"{api}/order", self.signed(self.create_order)),
            web.delete(f"{api}/order", self.signed(self.cancel_order)),
            web.get(f"{api}/order", self.signed(self.get_order)),
            web.get(f"{api}/openOrders", self.signed(self.open_orders)),
            web.get(f"{api}/historyOrders", self.signed(self.all_orders)),
            web.get(f"{api}/userTrades", self.signed(self.my_trades)),
            web.get(f"{api}/position", self.signed(self.position_risk)),
            web.get(f"{api}/account", self.signed(self.option_account)),
            web.get(f"{api}/marginAccount", self.signed(self.option_account)),
            web.get("/api/v3/account", self.signed(self.spot_account)),
        ]

    # ---- instruments and market data --------------------------------------------------------

    async def exchange_info(self, request: web.Request) -> web.Response:
        bases = sorted({parse_option(s).base for s in self.markets})
        return json_response({
            "timezone": "UTC",
            "serverTime": ms(time.time()),
            "optionContracts": [{"id": i + 1, "baseAsset": b, "quoteAsset": QUOTE, "underlying": b + QUOTE,
                                 "settleAsset": QUOTE} for i, b in enumerate(bases)],
            "optionAssets": [{"id": 1, "name": QUOTE}],
            "optionSymbols": [self.symbol_info(s) for s in self.markets],
            "rateLimits": [{"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 400}],
        })

    def symbol_info(self, symbol: str) -> dict[str, Any]:
        o, spec = parse_option(symbol), self.ladders[symbol].spec
        tick, lot = f"{spec.tick:g}", f"{spec.lot:g}"
        return {
            "id": self.markets.index(symbol) + 1, "contractId": 1 if o.base == "BTC" else 2,
            "expiryDate": expiry_ms(o.expiry), "symbol": self.native(symbol),
            "side": "CALL" if o.right.value == "C" else "PUT", "strikePrice": f"{o.strike:.8f}",
            "underlying": o.base + QUOTE, "unit": 1, "makerFeeRate": "0.00020000", "takerFeeRate": "0.00020000",
            "minQty": lot, "maxQty": "10000", "initialMargin": "0.15000000", "maintenanceMargin": "0.07500000",
            "minInitialMargin": "0.10000000", "minMaintenanceMargin": "0.05000000",
            "priceScale": len(tick.partition(".")[2]), "quantityScale": len(lot.partition(".")[2]), "quoteAsset": QUOTE,
            "filters": [
                {"filterType": "PRICE_FILTER", "minPrice": tick, "maxPrice": "1000000", "tickSize": tick},
                {"filterType": "LOT_SIZE", "minQty": lot, "maxQty": "10000", "stepSize": lot},
            ],
        }

    async def depth(self, request: web.Request) -> web.Response:
        """``GET /eapi/v1/depth``: the levels, ``T`` (ms) and ``u`` (the update id the stream continues)."""
        symbol = self.symbol_of(request.query.get("symbol", ""))
        if symbol is None:
            return json_response({"code": -1121, "msg": "Invalid symbol."}, status=400)
        limit, ladder = int(request.query.get("limit", "100")), self.ladders[symbol]
        return json_response({
            "bids": [[ladder.price_str(p), ladder.size_str(q)] for p, q in ladder.top(True, limit)],
            "asks": [[ladder.price_str(p), ladder.size_str(q)] for p, q in ladder.top(False, limit)],
            "T": ms(time.time()), "u": self.update_id[symbol],
        })

    def wanted(self, request: web.Request) -> list[str]:
        native = request.query.get("symbol")
        if native is None:
            return list(self.markets)
        symbol = self.symbol_of(native)
        if symbol is None:
            raise binance_error(-1121, "Invalid symbol.")
        return [symbol]

    async def mark_prices(self, request: web.Request) -> web.Response:
        return json_response([self.mark_json(s) for s in self.wanted(request)])

    async def option_tickers(self, request: web.Request) -> web.Response:
        return json_response([self.ticker_json(s) for s in self.wanted(request)])

    async def option_klines(self, request: web.Request) -> web.Response:
        """``GET /eapi/v1/klines?symbol=&interval=[&startTime=&endTime=&limit=]``: the option's
        candles from its own prints, oldest first (``limit`` default 500, at most 1500)."""
        query = request.query
        symbol = self.symbol_of(query.get("symbol", ""))
        if symbol is None:
            raise binance_error(-1121, "Invalid symbol.")
        interval = query.get("interval", "")
        seconds = KLINE_INTERVALS.get(interval)
        if seconds is None:
            raise binance_error(-1120, "Invalid interval.")
        start, end = query.get("startTime"), query.get("endTime")
        candles = self.tape.candles(symbol, seconds, min(int(query.get("limit", "500")), 1500),
                                    int(start) if start else None, int(end) if end else None)
        return json_response([option_kline(c, interval, seconds) for c in candles])

    def forward(self, symbol: str) -> float:
        o = parse_option(symbol)
        return self.market.fair.fair(f"{o.base}-{o.quote}-PERP")

    def option_mark(self, symbol: str) -> dict[str, Any]:
        """The mark (the mid, inside the touch), IVs and greeks; ``None`` IVs where no vol prices it."""
        o, ladder = parse_option(symbol), self.ladders[symbol]
        bid, ask = ladder.top(True, 1), ladder.top(False, 1)
        bid_px = ladder.price(bid[0][0]) if bid else None
        ask_px = ladder.price(ask[0][0]) if ask else None
        forward, years, call = self.forward(symbol), years_to(expiry_ms(o.expiry) / 1000, time.time()), o.right.value == "C"
        touch = [p for p in (bid_px, ask_px) if p is not None]
        mark = sum(touch) / len(touch) if touch else black76.price(forward, o.strike, years, 0.5, call)

        def iv(price: float | None) -> float | None:
            return None if price is None else black76.implied_vol(price, forward, o.strike, years, call)

        mark_iv = iv(mark)
        g = black76.greeks(forward, o.strike, years, mark_iv or 0.5, call)
        return {"mark": mark, "forward": forward, "bid": bid_px, "ask": ask_px, "bid_iv": iv(bid_px), "ask_iv": iv(ask_px),
                "iv": mark_iv, "greeks": g, "bid_qty": ladder.size(bid[0][1]) if bid else 0.0,
                "ask_qty": ladder.size(ask[0][1]) if ask else 0.0}

    def mark_json(self, symbol: str) -> dict[str, Any]:
        m, tick = self.option_mark(symbol), self.ladders[symbol].spec.tick
        g: black76.Greeks = m["greeks"]
        return {"symbol": self.native(symbol), "markPrice": f"{m['mark']:.4f}", "bidIV": _vol(m["bid_iv"]),
                "askIV": _vol(m["ask_iv"]), "markIV": _vol(m["iv"]), "delta": f"{g.delta:.8f}", "theta": f"{g.theta:.8f}",
                "gamma": f"{g.gamma:.8f}", "vega": f"{g.vega / 100:.8f}", "highPriceLimit": f"{m['mark'] * 1.5:.4f}",
                "lowPriceLimit": f"{max(tick, m['mark'] * 0.5):.4f}", "riskFreeInterest": "0"}

    def mark_event(self, symbol: str, now: int) -> dict[str, Any]:
        m = self.option_mark(symbol)
        g: black76.Greeks = m["greeks"]
        return {"s": self.native(symbol), "mp": f"{m['mark']:.4f}", "E": now, "e": "markPrice", "i": f"{m['forward']:.8f}",
                "P": "0.000", "bo": f"{m['bid'] or 0:.4f}", "ao": f"{m['ask'] or 0:.4f}", "bq": f"{m['bid_qty']:.4f}",
                "aq": f"{m['ask_qty']:.4f}", "b": _vol(m["bid_iv"]), "a": _vol(m["ask_iv"]), "hl": f"{m['mark'] * 1.5:.4f}",
                "ll": f"{m['mark'] * 0.5:.4f}", "vo": _vol(m["iv"]), "rf": "0.0", "d": f"{g.delta:.8f}",
                "t": f"{g.theta:.8f}", "g": f"{g.gamma:.8f}", "v": f"{g.vega / 100:.8f}"}

    def ticker_json(self, symbol: str) -> dict[str, Any]:
        day, m = self.tape.day(symbol), self.option_mark(symbol)
        o = parse_option(symbol)
        return {"symbol": self.native(symbol), "priceChange": str(day.change),
                "priceChangePercent": f"{day.change_ratio:.4f}", "lastPrice": day.last, "lastQty": day.last_size,
                "open": day.open, "high": day.high, "low": day.low, "volume": day.volume,
                "amount": day.quote_volume, "bidPrice": f"{m['bid'] or 0}", "askPrice": f"{m['ask'] or 0}",
                "openTime": day.open_ms, "closeTime": day.close_ms, "firstTradeId": day.first_id,
                "tradeCount": day.count, "strikePrice": strike_text(o.strike), "exercisePrice": f"{m['forward']:.8f}"}

    # ---- streams ----------------------------------------------------------------------------

    async def on_client_message(self, conn: SimConnection, data: str | bytes) -> None:
        """A ``/market`` socket holds the underlyings' ``@optionMarkPrice`` streams, a ``/public``
        one the options' own streams (as on USD-M); what a socket asks of the other path's streams
        is acknowledged and never pushed."""
        msg = orjson.loads(data)
        params: list[str] = msg.get("params", [])
        marks = [p for p in params if p.endswith("@" + MARK_STREAM)]
        on_market = conn.path == MARKET_PATH
        if on_market and marks:
            held: set[str] = conn.state.setdefault("marks", set())
            underlyings = {p.split("@", 1)[0].upper() for p in marks}
            if msg.get("method") == "SUBSCRIBE":
                held |= underlyings
            elif msg.get("method") == "UNSUBSCRIBE":
                held -= underlyings
        msg["params"] = [] if on_market else [p for p in params if p not in marks]
        if not msg["params"]:
            conn.send(orjson.dumps({"result": None, "id": msg.get("id")}).decode())
            return
        await super().on_client_message(conn, orjson.dumps(msg))

    def encode_trades(self, symbol: str, trades: list[SimTrade]) -> tuple[list[Frame], StreamFrames]:
        """This tick's prints of the option's tape as ``<symbol>@optionTrade`` frames (every print
        is an order-book trade, ``X`` MARKET; ``S`` the taker's side); no other per-symbol stream."""
        if not trades:
            return [], {}
        ladder, native, now = self.ladders[symbol], self.native(symbol), ms(time.time())
        stream = f"{native.lower()}@{TRADE_STREAM}"
        return [orjson.dumps({"stream": stream, "data": {
            "e": "trade", "E": now, "T": now, "s": native, "t": t.trade_id, "p": ladder.price_str(t.ticks),
            "q": ladder.size_str(t.lots), "X": "MARKET", "S": "BUY" if t.buy else "SELL", "m": not t.buy}}).decode()
            for t in trades], {}

    def trade_frames_for(self, conn: SimConnection, symbol: str, encoded: tuple[list[Frame], StreamFrames]) -> list[Frame]:
        """Only a socket holding the option's ``@optionTrade`` stream gets its prints."""
        frames = encoded[0]
        if not frames or f"{self.native(symbol).lower()}@{TRADE_STREAM}" not in conn.state.get("streams", ()):
            return []
        return list(frames)

    def publish(self, symbol: str, changes: list[Change], trades: list[Any]) -> None:
        super().publish(symbol, changes, trades)
        underlying = self.underlying(symbol)
        now = time.time()
        if now - self.marks_sent.get(underlying, 0.0) < MARK_EVERY:
            return
        listeners = [c for c in self.connections if underlying in c.state.get("marks", ()) and not c.ws.closed]
        self.marks_sent[underlying] = now
        if not listeners:
            return
        stamp = ms(now)
        events = [self.mark_event(s, stamp) for s in self.markets if self.underlying(s) == underlying]
        frame = orjson.dumps({"stream": f"{underlying.lower()}@{MARK_STREAM}", "data": events}).decode()
        for conn in listeners:
            conn.send(frame)

    # ---- trading ----------------------------------------------------------------------------

    async def create_order(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        symbol = self.symbol_of(params.get("symbol", ""))
        if symbol is None:
            raise binance_error(-1121, "Invalid symbol.")
        if params.get("type") != "LIMIT":
            raise binance_error(-1116, "Invalid orderType.")
        if "price" not in params:
            raise ERRORS[Reason.MISSING_PRICE].refuse()
        tif = params.get("timeInForce", "GTC")
        if tif not in ("GTC", "IOC", "FOK", "GTX"):
            raise binance_error(-1115, "Invalid timeInForce.")
        post_only = params.get("postOnly", "false").lower() == "true" or tif == "GTX"
        try:
            order = self.engine.submit(
                key.account, symbol, Side.BUY if params.get("side") == "BUY" else Side.SELL, OrderType.LIMIT,
                Decimal(params.get("quantity", "0")), Decimal(params["price"]),
                tif=TimeInForce.GTC if tif == "GTX" else TimeInForce(tif.lower()), post_only=post_only,
                reduce_only=params.get("reduceOnly", "false").lower() == "true", client_id=params.get("clientOrderId"),
            )
        except Reject as exc:
            raise rejected(exc, OPTION_ERRORS, FUTURES_ERRORS, ERRORS) from None
        except (ValueError, ArithmeticError):
            raise ERRORS[Reason.BAD_NUMBER].refuse() from None
        return json_response(self.order_json(order))

    def find(self, key: ApiKey, params: dict[str, str]) -> SimOrder:
        try:
            return self.engine.find(key.account, params.get("orderId"), params.get("clientOrderId"))
        except Reject as exc:
            raise rejected(exc, OPTION_ERRORS, FUTURES_ERRORS, ERRORS) from None

    async def cancel_order(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        return json_response(self.order_json(self.cancel(key, params.get("orderId"), params.get("clientOrderId"))))

    async def get_order(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        return json_response(self.order_json(self.find(key, params)))

    def order_json(self, order: SimOrder) -> dict[str, Any]:
        market, o = self.engine.markets[order.symbol], parse_option(order.symbol)
        spec = self.ladders[order.symbol].spec
        filled = order.filled * market.lot
        return {
            "orderId": int(order.order_id), "symbol": self.native(order.symbol),
            "price": self.num((order.price or 0) * market.tick), "quantity": self.num(order.amount * market.lot),
            "executedQty": self.num(filled), "fee": self.num(order.fee), "side": order.side.value.upper(), "type": "LIMIT",
            "timeInForce": order.tif.value.upper(), "reduceOnly": order.reduce_only, "postOnly": order.post_only,
            "createTime": ms(order.created), "updateTime": ms(order.updated), "status": STATUS.get(order.status, "ACCEPTED"),
            "avgPrice": self.num(order.cost / filled if filled else Decimal(0)), "source": "API",
            "clientOrderId": order.client_id, "priceScale": len(f"{spec.tick:g}".partition(".")[2]),
            "quantityScale": len(f"{spec.lot:g}".partition(".")[2]), "optionSide": "CALL" if o.right.value == "C" else "PUT",
            "quoteAsset": QUOTE, "mmp": False,
        }

    def trade_json(self, fill: SimFill) -> dict[str, Any]:
        o = parse_option(fill.symbol)
        return {"id": fill.trade_id, "tradeId": fill.trade_id, "orderId": int(fill.order_id), "symbol": self.native(fill.symbol),
                "price": self.num(fill.price), "quantity": self.num(fill.amount), "fee": self.num(fill.fee),
                "realizedProfit": "0", "side": fill.side.value.upper(), "type": "LIMIT", "volatility": "0",
                "liquidity": "TAKER" if fill.taker else "MAKER", "quoteAsset": QUOTE, "time": ms(fill.ts),
                "priceScale": 2, "quantityScale": 2, "optionSide": "CALL" if o.right.value == "C" else "PUT"}

    def position_json(self, account: str, symbol: str, side: PositionSide, pos: Position) -> dict[str, Any]:
        """An option position: ``quantity`` unsigned, ``side`` LONG or SHORT."""
        o, mark = parse_option(symbol), Decimal(repr(round(self.option_mark(symbol)["mark"], 4)))
        size = abs(pos.size)
        sign = 1 if pos.size > 0 else -1
        return {"entryPrice": self.num(pos.entry), "symbol": self.native(symbol), "side": "LONG" if sign > 0 else "SHORT",
                "quantity": self.num(size), "reducibleQty": self.num(size), "markValue": self.num(mark * size * sign),
                "ror": "0", "unrealizedPNL": self.num((mark - pos.entry) * size * sign), "markPrice": self.num(mark),
                "strikePrice": f"{o.strike:.8f}", "positionCost": self.num(pos.entry * size), "expiryDate": expiry_ms(o.expiry),
                "priceScale": 2, "quantityScale": 2, "optionSide": "CALL" if o.right.value == "C" else "PUT",
                "quoteAsset": QUOTE, "time": ms(time.time())}

    async def option_account(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        """``account`` / ``marginAccount``: the USDT margin, what open orders and positions lock."""
        account = self.engine.account(key.account)
        assets = [{"asset": a, "marginBalance": self.num(account.balances.get(a, Decimal(0))),
                   "equity": self.num(account.balances.get(a, Decimal(0))), "available": self.num(account.available(a)),
                   "locked": self.num(account.locked.get(a, Decimal(0))), "unrealizedPNL": "0"}
                  for a in sorted(set(account.balances) | set(account.locked))]
        return json_response({"asset": assets, "greek": [], "time": ms(time.time()), "riskLevel": "NORMAL"})

    async def spot_account(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        account = self.engine.account(key.account)
        return json_response({"canTrade": key.may("trade"), "accountType": "SPOT", "updateTime": ms(time.time()), "balances": [
            {"asset": a, "free": self.num(account.available(a)), "locked": self.num(account.locked.get(a, Decimal(0)))}
            for a in sorted(set(account.balances) | set(account.locked))]})


def _vol(value: float | None) -> str:
    """A volatility as Binance writes it; ``-1.0`` where none prices the quote."""
    return "-1.0" if value is None else f"{value:.8f}"


def option_kline(c: Candle, interval: str, seconds: int) -> dict[str, Any]:
    """One candle as ``/eapi/v1/klines`` writes it (no taker split kept: "0", as the other
    markets' klines write it), e.g. ``{"open": "32.2", "high": "32.2", "low": "32.2", "close":
    "32.3", "volume": "0", "interval": "5m", "tradeCount": 0, "takerVolume": "0", "takerAmount":
    "0", "amount": "0", "openTime": 1677096900000, "closeTime": 1677097200000}``."""
    return {"open": c.open, "high": c.high, "low": c.low, "close": c.close, "volume": c.volume, "interval": interval,
            "tradeCount": c.count, "takerVolume": "0", "takerAmount": "0", "amount": c.quote_volume,
            "openTime": c.start_ms, "closeTime": c.start_ms + seconds * 1000}
