"""Simulated Bybit options (category ``option``): the simulator's listed series (``sim/options.py``:
BTC and ETH, two expiries, five strikes, calls and puts) as Bybit's USDC-settled options,
``BTC-6JAN23-17500-C`` (the day without a leading zero), quoted in USD per 1 unit of the base
coin, BTC at a 5 USD tick and a 0.01 BTC step, ETH at 0.1 USD and 0.1 ETH.

Served as Bybit does on its own host paths: ``/v5/market/instruments-info?category=option`` (by
``baseCoin``, BTC when none is named), ``/v5/market/orderbook`` (``limit`` 1 to 25, default 1),
``/v5/market/tickers`` (by ``symbol`` or ``baseCoin``) and the public socket ``/v5/public/option``:
``orderbook.25`` / ``orderbook.100`` snapshots and deltas (the other categories' windows and
``u``), ``tickers.{symbol}`` full snapshots every half second, and the trades of every option on
one underlying on ``publicTrade.{baseCoin}`` (``publicTrade.BTC``). The subscribe answer is the option
socket's ``COMMAND_RESP`` (``successTopics`` / ``failTopics``), a ping is answered by
``{"op": "pong", "args": [ms]}``.

The mark: the book's mid (inside the touch), its Black-76 implied volatility against the
underlying (the USD perpetual's fair price), the touch's bid and ask IVs and the greeks at the
mark IV (``vega`` per 1 % of volatility, ``theta`` per day, as Bybit publishes them).

Trading is the linear server's (``/v5/order/create`` with category=option, orderLinkId required
as Bybit requires it; post-only accepted then cancelled when it would take; reduce-only), on the
engine's derivatives book: the premium is the position's price, settled in USDC, and an open
position (long or short) holds its premium x size as margin.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar

import orjson
from aiohttp import web

from .... import black76
from ....model import OptionRight
from ....symbols import option_symbol, parse_option
from ...access import ApiKey
from ...engine import SimOrder
from ...market import MarketSpec
from ...options import EXPIRY_HOUR, listed_series, surface_vol, years_to
from ...server import Frame, SimConnection
from .derivatives import BybitLinearSim
from .streams import TICKER_EVERY, TopicFrames
from .wire import OrderRequest, Params, bybit_error, ms

SETTLE = "USDC"
QUOTE = "USD"
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
GRID = {"BTC": (5.0, 0.01), "ETH": (0.1, 0.1)}  # base -> (tick in USD, qty step in the base coin)
TICKER_NAMES = {  # /v5/market/tickers' option fields -> the tickers topic's
    "bid1Price": "bidPrice", "bid1Size": "bidSize", "bid1Iv": "bidIv", "ask1Price": "askPrice",
    "ask1Size": "askSize", "ask1Iv": "askIv", "markIv": "markPriceIv",
}


def listed_markets() -> tuple[str, ...]:
    return tuple(option_symbol(s.base, QUOTE, s.expiry, s.strike, s.right) for s in listed_series())


def native_option(symbol: str) -> str:
    """BTC-USD-20230106-17500-C -> BTC-6JAN23-17500-C."""
    o = parse_option(symbol)
    day = datetime.strptime(o.expiry, "%Y%m%d")
    strike = f"{o.strike:.8f}".rstrip("0").rstrip(".")
    return f"{o.base}-{day.day}{MONTHS[day.month - 1]}{day:%y}-{strike}-{o.right.value}"


def expiry_ts(expiry: str) -> float:
    return datetime.strptime(expiry, "%Y%m%d").replace(hour=EXPIRY_HOUR, tzinfo=UTC).timestamp()


@dataclass(frozen=True, slots=True)
class OptionQuote:
    """One option's mark as the venue publishes it (prices in USD, vols annualized)."""

    mark: float
    underlying: float
    iv: float
    bid_iv: float
    ask_iv: float
    greeks: black76.Greeks


class BybitOptionSim(BybitLinearSim):
    venue = "bybitoption"
    markets: ClassVar[tuple[str, ...]] = listed_markets()
    specs: ClassVar[dict[str, MarketSpec]] = {s: MarketSpec(s, *GRID[parse_option(s).base]) for s in markets}
    ws_paths = ("/v5/public/option",)
    category = "option"
    depths = frozenset({25, 100})
    ccxt_options: ClassVar[dict[str, Any]] = {
        "fetchMarkets": {"types": ["option"], "options": ["BTC", "ETH"]},
        "fetchOrder": {"acknowledged": True},
        "defaultType": "option",
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.by_native = {native_option(s): s for s in self.markets}
        self.coins = {parse_option(s).base for s in self.markets}
        for symbol, market in self.engine.markets.items():  # premiums and margin move USDC, the settle coin
            self.engine.markets[symbol] = replace(market, quote=SETTLE)

    def native(self, symbol: str) -> str:
        return native_option(symbol)

    def symbol_of(self, native: str) -> str | None:
        return self.by_native.get(native)

    # ---- market data ----------------------------------------------------------------------

    async def instruments_info(self, request: web.Request) -> web.Response:
        query = request.query
        if query.get("category") != self.category:
            return self.envelope({}, ret_code=10001, ret_msg="params error: category is invalid")
        coin = query.get("baseCoin", "BTC")
        wanted = query.get("symbol")
        listed = query.get("status", "Trading") == "Trading"
        rows = [self.instrument(s) for s in self.markets
                if listed and parse_option(s).base == coin and wanted in (None, self.native(s))]
        return self.envelope(self.page(rows, query))

    def instrument(self, symbol: str) -> dict[str, Any]:
        o = parse_option(symbol)
        ladder = self.ladders[symbol]
        step = ladder.size_str(1)
        return {
            "symbol": self.native(symbol), "status": "Trading", "baseCoin": o.base, "quoteCoin": QUOTE,
            "settleCoin": SETTLE, "optionsType": "Call" if o.right is OptionRight.CALL else "Put",
            "launchTime": str(ms(expiry_ts(o.expiry) - 7 * 86_400)), "deliveryTime": str(ms(expiry_ts(o.expiry))),
            "deliveryFeeRate": "0.00015",
            "priceFilter": {"minPrice": ladder.price_str(1), "maxPrice": "10000000", "tickSize": ladder.price_str(1)},
            "lotSizeFilter": {"maxOrderQty": "500", "minOrderQty": step, "qtyStep": step},
            "displayName": "",
        }

    async def orderbook(self, request: web.Request) -> web.Response:
        """``GET /v5/market/orderbook`` for an option: ``limit`` 1 to 25, default 1."""
        symbol, refused = self.queried_symbol(request.query)
        if symbol is None:
            return refused or self.envelope({})
        limit = request.query.get("limit", "1")
        if not limit.isdigit() or not 1 <= int(limit) <= 25:
            return self.envelope({}, ret_code=10001, ret_msg="params error: limit is invalid")
        ladder, now = self.ladders[symbol], ms(time.time())
        return self.envelope({
            "s": self.native(symbol), "b": self.levels(ladder, ladder.top(True, int(limit)), True),
            "a": self.levels(ladder, ladder.top(False, int(limit)), False),
            "ts": now, "u": self.cross_seq[symbol], "seq": self.cross_seq[symbol], "cts": now,
        })

    async def tickers(self, request: web.Request) -> web.Response:
        """``GET /v5/market/tickers?category=option``: by ``symbol`` or ``baseCoin``, one of them required."""
        query = request.query
        if query.get("category") != self.category:
            return self.envelope({}, ret_code=10001, ret_msg="params error: category is invalid")
        wanted, coin = query.get("symbol"), query.get("baseCoin")
        if wanted is None and coin is None:
            return self.envelope({}, ret_code=10001, ret_msg="params error: symbol or baseCoin is required")
        symbols = [s for s in self.markets if wanted in (None, self.native(s)) and coin in (None, parse_option(s).base)]
        if not symbols:
            return self.envelope({}, ret_code=10001, ret_msg="params error: symbol invalid")
        return self.envelope({"category": self.category, "list": [self.ticker(s) for s in symbols]})

    def option_quote(self, symbol: str) -> OptionQuote:
        """The mark (the book's mid, clamped inside the touch), its IV and greeks, the touch's IVs."""
        o = parse_option(symbol)
        ladder = self.ladders[symbol]
        forward = self.market.fair.fair(f"{o.base}-{QUOTE}-PERP")
        years = years_to(expiry_ts(o.expiry), time.time())
        call = o.right is OptionRight.CALL
        bid = ladder.price(max(ladder.bids)) if ladder.bids else None
        ask = ladder.price(min(ladder.asks)) if ladder.asks else None
        surface = surface_vol(o.base, o.strike, forward, years)
        if bid is not None and ask is not None:
            mark = min(max((bid + ask) / 2, bid), ask)
        else:
            mark = bid or ask or black76.price(forward, o.strike, years, surface, call)
        iv = black76.implied_vol(mark, forward, o.strike, years, call) or surface
        bid_iv = black76.implied_vol(bid, forward, o.strike, years, call) if bid else None
        ask_iv = black76.implied_vol(ask, forward, o.strike, years, call) if ask else None
        return OptionQuote(mark, forward, iv, bid_iv or 0.0, ask_iv or 0.0, black76.greeks(forward, o.strike, years, iv, call))

    def mark(self, symbol: str) -> Decimal:
        """The option's mark (positions' unrealised PnL), not a perpetual's."""
        return Decimal(repr(self.option_quote(symbol).mark))

    def ticker(self, symbol: str) -> dict[str, Any]:
        ladder = self.ladders[symbol]
        bid, ask = ladder.top(True, 1), ladder.top(False, 1)
        q = self.option_quote(symbol)
        day = self.tape.day(symbol)
        return {
            "symbol": self.native(symbol),
            "bid1Price": ladder.price_str(bid[0][0]) if bid else "0", "bid1Size": ladder.size_str(bid[0][1]) if bid else "0",
            "bid1Iv": f"{q.bid_iv:.4f}",
            "ask1Price": ladder.price_str(ask[0][0]) if ask else "0", "ask1Size": ladder.size_str(ask[0][1]) if ask else "0",
            "ask1Iv": f"{q.ask_iv:.4f}",
            "lastPrice": day.last or "0", "highPrice24h": day.high or "0", "lowPrice24h": day.low or "0",
            "markPrice": decimal_text(q.mark), "indexPrice": decimal_text(q.underlying), "markIv": f"{q.iv:.4f}",
            "underlyingPrice": decimal_text(q.underlying), "openInterest": self.open_interest_text(symbol),
            "turnover24h": day.quote_volume, "volume24h": day.volume, "totalVolume": day.volume,
            "totalTurnover": day.quote_volume, "delta": f"{q.greeks.delta:.8f}", "gamma": f"{q.greeks.gamma:.8f}",
            "vega": f"{q.greeks.vega / 100:.8f}", "theta": f"{q.greeks.theta:.8f}", "predictedDeliveryPrice": "0",
            "change24h": f"{day.change_ratio:.8f}",
        }

    def stream_ticker(self, symbol: str) -> dict[str, Any]:
        return {TICKER_NAMES.get(k, k): v for k, v in self.ticker(symbol).items()}

    def ticker_frames(self, symbol: str) -> list[bytes]:
        """Option tickers are full snapshots every time."""
        now = time.time()
        if now - self.ticker_sent.get(symbol, 0.0) < TICKER_EVERY:
            return []
        self.ticker_sent[symbol] = now
        self.ticker_state[symbol] = self.stream_ticker(symbol)
        return [self.ticker_frame(symbol, "snapshot", self.ticker_state[symbol])]

    def ticker_snapshot(self, symbol: str) -> bytes:
        return self.ticker_frame(symbol, "snapshot", self.stream_ticker(symbol))

    def ticker_frame(self, symbol: str, kind: str, data: dict[str, Any]) -> bytes:
        now, native = ms(time.time()), self.native(symbol)
        return orjson.dumps({"id": f"tickers.{native}-{self.cross_seq[symbol]}-{now}", "topic": f"tickers.{native}",
                             "ts": now, "data": data, "type": kind})

    # ---- the option socket's answers --------------------------------------------------------

    def reply(self, conn: SimConnection, op: str, req_id: str, success: bool, ret_msg: str) -> bytes:
        """A subscribe or unsubscribe answer (``COMMAND_RESP``) naming the topics asked for: Bybit
        refuses the whole request when one is wrong. A ping's answer is the pong."""
        if op == "ping":
            return orjson.dumps({"req_id": req_id, "op": "pong", "args": [str(ms(time.time()))],
                                 "conn_id": conn.state["conn_id"]})
        asked = conn.state.pop("asked", [])
        return orjson.dumps({"success": success, "ret_msg": ret_msg, "conn_id": conn.state["conn_id"], "req_id": req_id,
                             "data": {"failTopics": [] if success else asked, "successTopics": asked if success else []},
                             "type": "COMMAND_RESP"})

    def on_topics(self, conn: SimConnection, op: str, req_id: str, args: list[str]) -> None:
        """``publicTrade.{baseCoin}`` names an underlying, not an option: held per socket."""
        conn.state["asked"] = [str(a) for a in args]
        coins: set[str] = conn.state.setdefault("trade_coins", set())
        per_coin = [str(a) for a in args if str(a).removeprefix("publicTrade.") in self.coins]
        if per_coin and len(per_coin) == len(args):
            for topic in per_coin:
                (coins.add if op == "subscribe" else coins.discard)(topic.removeprefix("publicTrade."))
            conn.send(self.reply(conn, op, req_id, True, ""))
            return
        if per_coin:  # a request mixing both kinds is answered topic by topic in two halves
            self.on_topics(conn, op, req_id, per_coin)
            conn.state["asked"] = rest = [str(a) for a in args if str(a) not in per_coin]
            super().on_topics(conn, op, req_id, rest)
            return
        super().on_topics(conn, op, req_id, args)

    def trade_frames_for(self, conn: SimConnection, symbol: str, encoded: tuple[list[Frame], TopicFrames]) -> list[Frame]:
        """The option's trades only to a socket holding its underlying's ``publicTrade``; its
        ticker as the other categories send it."""
        trades, topics = encoded
        followed = parse_option(symbol).base in conn.state.get("trade_coins", ())
        return [*(trades if followed else []), *(self.market_frames_for(conn, symbol, topics) if topics else [])]

    def trade_frame(self, symbol: str, ticks: int, lots: int, buy: bool, trade_id: int) -> bytes:
        """{"topic":"publicTrade.BTC","type":"snapshot","ts":1672304486868,"data":[{"T":1672304486865,
        "s":"BTC-30DEC22-17000-C","S":"Buy","v":"0.1","p":"120","L":"PlusTick","i":"...","BT":false,
        "mP":"121.5","iP":"16800","mIv":"0.45","iv":"0.44"}]}: an option trade carries its mark and IVs."""
        ladder, native = self.ladders[symbol], self.native(symbol)
        q = self.option_quote(symbol)
        trade = {"T": ms(time.time()), "s": native, "S": "Buy" if buy else "Sell", "v": self.size_str(ladder, ticks, lots),
                 "p": ladder.price_str(ticks), "L": "PlusTick" if buy else "MinusTick", "i": str(trade_id), "BT": False,
                 "mP": decimal_text(q.mark), "iP": decimal_text(q.underlying), "mIv": f"{q.iv:.4f}", "iv": f"{q.iv:.4f}"}
        return orjson.dumps({"topic": f"publicTrade.{parse_option(symbol).base}", "type": "snapshot",
                             "ts": trade["T"], "data": [trade]})

    # ---- orders and positions ---------------------------------------------------------------

    def place(self, request: OrderRequest) -> SimOrder:
        """Bybit refuses an option order without an orderLinkId."""
        if not request.client_id:
            raise bybit_error(10001, "params error: orderLinkId is required for options")
        return super().place(request)

    async def position_list(self, key: ApiKey, params: Params) -> dict[str, Any]:
        """Options settle in USDC; their standard symbols carry USD, the currency they are quoted in.
        Unlike linear, category=option needs neither symbol nor settleCoin: every open option
        position then (what ccxt's fetch_positions() with no symbol asks)."""
        if params.get("settleCoin") is not None:
            params = {**params, "settleCoin": QUOTE if params["settleCoin"] == SETTLE else "-"}
        elif params.get("symbol") is None and params.get("baseCoin") is None:
            params = {**params, "settleCoin": QUOTE}
        return await super().position_list(key, params)


def decimal_text(value: float) -> str:
    """A float as Bybit writes marks: up to 8 decimals, no trailing zeros."""
    return f"{value:.8f}".rstrip("0").rstrip(".")
