"""Simulated OKX options (feed ``okxoptions``): the simulator's option series
(``sim.options.listed_series``) as OKX lists them, on a server of their own beside OKX's spot and
SWAP one, with the same signing, error table, records and matching as that one (``OkxSim``).

Coin-margined, as OKX's: ``BTC-USD-261225-100000-C``, uly / instFamily ``BTC-USD``, settleCcy the
base coin, prices in the base coin per unit of underlying (tick 0.0005), sizes in whole contracts of
``ctVal`` 0.01 BTC or 0.1 ETH. Public: ``/public/instruments?instType=OPTION&uly=`` (or
``instFamily=``), ``/market/books`` and ``books`` (as OKX's other books), ``trades``, ``tickers``,
``mark-price`` per option and ``opt-summary`` per family (marks, volatilities and greeks:
``option_marks.py``), REST ``/public/mark-price?instType=OPTION`` and ``/public/opt-summary``.

Orders (``/trade/order``, ``/trade/batch-orders``, amend, cancel and the reads, as on OKX's other
server): ``sz`` in contracts, ``tdMode`` cross or isolated, ``ordType`` limit, post_only, ioc or fok
(market orders are refused: OKX has none on options), ``reduceOnly``; net positions only. The
engine settles an option in its base coin: a position holds its premium (price x contracts x
ctVal) as margin while open and realizes the difference when closed; fees are charged on the
premium. Expiry is not settled (the series outlive a test run)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

import orjson
from aiohttp import web

from ....model import OrderType, PositionSide
from ....symbols import option_symbol, parse_standard
from ...access import ApiKey
from ...engine import Account, OrderEvent, Position, SimFill, SimOrder
from ...market import MarketSpec, SimMarket
from ...options import OptionSeries, listed_series
from ...server import Frame, SimConnection, json_response
from ...tape import DayStats
from .errors import okx_error
from .option_marks import OptionQuote, mark_row, option_quote, summary_row
from .stream import OkxSim
from .wire import (
    POS_SIDES,
    TD_MODES,
    Contract,
    Placement,
    Ticket,
    _now_ms,
    envelope,
    num,
    positive,
)

TICK = 0.0005  # BTC (ETH) per unit of underlying
CT_VAL = {"BTC": "0.01", "ETH": "0.1"}  # base coin per contract
FAMILIES = ("BTC-USD", "ETH-USD")
OPTION_CHANNELS = frozenset({"mark-price", "tickers"})


def standard(series: OptionSeries) -> str:
    return option_symbol(series.base, "USD", series.expiry, series.strike, series.right)


SERIES: dict[str, OptionSeries] = {standard(s): s for s in listed_series()}
SPECS: dict[str, MarketSpec] = {s: MarketSpec(s, TICK, float(CT_VAL[o.base]), in_base=True) for s, o in SERIES.items()}


def family_of(symbol: str) -> str:
    base, quote, _, _ = parse_standard(symbol)
    return f"{base}-{quote}"


class OkxOptionsSim(OkxSim):
    venue = "okxoptions"
    markets: ClassVar[tuple[str, ...]] = tuple(SERIES)  # type: ignore[assignment]  # OkxPublic's is a fixed tuple
    specs: ClassVar[dict[str, MarketSpec]] = SPECS
    ccxt_id: ClassVar[str | None] = None  # type: ignore[assignment]  # OkxPublic's is "okx"
    client_ccxt_id = "okx"  # a second server of OKX's one ccxt client
    ccxt_options: ClassVar[dict[str, Any]] = {"fetchMarkets": {"types": ["option"]}}

    def __init__(self, market: SimMarket) -> None:
        super().__init__(market)
        # an OKX option settles in its base coin: the engine keeps its premium and margin there
        for symbol, m in self.engine.markets.items():
            self.engine.markets[symbol] = type(m)(m.symbol, m.base, m.base, m.kind, m.tick, m.lot)

    # ---- names and units -----------------------------------------------------------------

    def native(self, symbol: str) -> str:
        """BTC-USD-20261225-100000-C -> BTC-USD-261225-100000-C."""
        parts = symbol.split("-")
        return "-".join([*parts[:2], parts[2][2:], *parts[3:]])

    def size_decimals(self, symbol: str) -> int:
        return 0  # whole contracts: one ladder lot is one contract

    def inst_type(self, symbol: str) -> str:
        return "OPTION"

    def contracts(self, symbol: str, base: str) -> str:
        return num(Decimal(base) / self.engine.markets[symbol].lot)

    def size_of(self, symbol: str, amount: Decimal) -> str:
        text = self.size_text(symbol, int(abs(amount) / self.engine.markets[symbol].lot))
        return f"-{text}" if amount < 0 else text

    # ---- instruments and market data -----------------------------------------------------

    async def instruments(self, request: web.Request) -> web.Response:
        query = request.query
        if query.get("instType") != "OPTION":
            return await super().instruments(request)  # SPOT, SWAP, FUTURES: none listed here
        family = query.get("instFamily") or query.get("uly")
        if family is None:
            return json_error("51000", "Parameter uly or instFamily error")
        return envelope([self.instrument(s) for s in self.markets if family_of(s) == family])

    def instrument(self, symbol: str) -> dict[str, Any]:
        if symbol not in SERIES:
            return super().instrument(symbol)
        series = SERIES[symbol]
        return {
            "instType": "OPTION", "instId": self.native(symbol), "uly": family_of(symbol), "instFamily": family_of(symbol),
            "category": "1", "baseCcy": "", "quoteCcy": "", "settleCcy": series.base, "ctVal": CT_VAL[series.base],
            "ctMult": "1", "ctValCcy": series.base, "ctType": "", "optType": series.right.value,
            "stk": num(Decimal(repr(series.strike))), "listTime": "1611916800000", "expTime": str(int(series.expiry_ts * 1000)),
            "lever": "", "tickSz": num(Decimal(repr(TICK))), "lotSz": "1", "minSz": "1", "maxLmtSz": "10000",
            "maxMktSz": "", "alias": "", "state": "live", "ruleType": "normal",
        }

    def ticker_row(self, symbol: str, day: DayStats) -> dict[str, Any]:
        """OKX's option ticker: ``vol24h`` in contracts, ``volCcy24h`` in the base coin."""
        return {**super().ticker_row(symbol, day), "volCcy24h": day.volume}

    def quote_of(self, symbol: str) -> OptionQuote:
        series = SERIES[symbol]
        forward = self.market.fair.fair(f"{family_of(symbol)}-PERP")
        return option_quote(symbol, self.ladders[symbol], forward, series.expiry_ts, _now_ms() / 1000)

    def market_data_routes(self) -> list[web.RouteDef]:
        return [*super().market_data_routes(), web.get("/api/v5/public/opt-summary", self.opt_summary)]

    async def mark_prices(self, request: web.Request) -> web.Response:
        """``GET /api/v5/public/mark-price?instType=OPTION[&instFamily=|&uly=][&instId=]``."""
        query = request.query
        if query.get("instType") != "OPTION":
            return envelope([])
        symbols = self.chosen(query.get("instFamily") or query.get("uly"), query.get("instId"))
        now = _now_ms()
        return envelope([mark_row(self.native(s), self.quote_of(s), now) for s in symbols])

    async def opt_summary(self, request: web.Request) -> web.Response:
        """``GET /api/v5/public/opt-summary?uly=BTC-USD`` (or ``instFamily=``), ``expTime`` YYMMDD optional."""
        family = request.query.get("instFamily") or request.query.get("uly")
        if family is None:
            return json_error("51000", "Parameter uly or instFamily error")
        expiry = request.query.get("expTime")
        symbols = [s for s in self.chosen(family, None) if expiry in (None, SERIES[s].expiry[2:])]
        now = _now_ms()
        return envelope([summary_row(self.native(s), self.quote_of(s), now) for s in symbols])

    def chosen(self, family: str | None, inst_id: str | None) -> list[str]:
        return [s for s in self.markets if family in (None, family_of(s)) and inst_id in (None, self.native(s))]

    # ---- the public socket ---------------------------------------------------------------

    def stream_symbol(self, conn: SimConnection, channel: str, inst_id: str) -> str | None:
        if channel in OPTION_CHANNELS and conn.path != "/ws/v5/business":
            return self.symbol_of(inst_id)
        return super().stream_symbol(conn, channel, inst_id)

    async def on_client_message(self, conn: SimConnection, data: str | bytes) -> None:
        """``opt-summary`` subscriptions name a family: every option of it follows the channel;
        the rest of the request is OKX's other channels'."""
        try:
            msg = orjson.loads(data)
        except orjson.JSONDecodeError:
            msg = None
        if not isinstance(msg, dict) or msg.get("op") not in ("subscribe", "unsubscribe"):
            await super().on_client_message(conn, data)
            return
        args = [a for a in msg.get("args") or [] if isinstance(a, dict)]
        for arg in (a for a in args if a.get("channel") == "opt-summary"):
            self.follow_family(conn, msg["op"], str(arg.get("instFamily", "")))
        rest = [a for a in args if a.get("channel") != "opt-summary"]
        if rest:
            await super().on_client_message(conn, orjson.dumps({**msg, "args": rest}))

    def follow_family(self, conn: SimConnection, op: str, family: str) -> None:
        if family not in FAMILIES:
            conn.send(self._event(conn, "error", code="60018",
                                  msg=f"Wrong URL or channel:opt-summary,instFamily:{family} doesn't exist."))
            return
        for symbol in self.chosen(family, None):
            channels: set[str] = conn.subs.setdefault(symbol, set())
            if op == "subscribe":
                channels.add("opt-summary")
            else:
                channels.discard("opt-summary")
                if not channels:
                    del conn.subs[symbol]
        conn.send(self._event(conn, op, arg={"channel": "opt-summary", "instFamily": family}))

    def channel_frame(self, symbol: str, channel: str) -> str:
        now = _now_ms()
        if channel == "mark-price":
            return self.wrap(channel, self.native(symbol), mark_row(self.native(symbol), self.quote_of(symbol), now))
        if channel == "opt-summary":
            row = summary_row(self.native(symbol), self.quote_of(symbol), now)
            return orjson.dumps({"arg": {"channel": channel, "instFamily": family_of(symbol)}, "data": [row]}).decode()
        return super().channel_frame(symbol, channel)

    # ---- orders --------------------------------------------------------------------------

    def ticket(self, req: dict[str, Any]) -> Ticket:
        """An option order: ``sz`` in contracts, ``tdMode`` cross or isolated, a limit price in
        the base coin, ``reduceOnly``; net mode only."""
        symbol = self.listed_symbol(req)
        margin = TD_MODES.get(str(req.get("tdMode")))
        if margin is None:
            raise okx_error("51000", "Parameter tdMode error", 400)
        if POS_SIDES.get(str(req.get("posSide") or "")) is not PositionSide.BOTH:
            raise okx_error("51000", "Parameter posSide error", 400)
        side, kind, tif, post_only = self.order_kind(req)
        if kind is OrderType.MARKET:
            raise okx_error("51000", "Parameter ordType error", 400)
        amount = self.contracts_to_base(symbol, positive(req, "sz"))
        contract = Contract(margin, PositionSide.BOTH, str(req.get("reduceOnly", "")).lower() == "true")
        return Ticket(symbol, side, kind, tif, post_only, amount, positive(req, "px"), Placement(*self.ids_of(req), ""),
                      contract)

    def amended_terms(self, order: SimOrder, req: dict[str, Any]) -> tuple[int, int]:
        """``newSz`` in contracts."""
        if req.get("newSz") not in (None, ""):
            req = {**req, "newSz": num(self.contracts_to_base(order.symbol, positive(req, "newSz")))}
        return super().amended_terms(order, req)

    def order_json(self, order: SimOrder) -> dict[str, Any]:
        market = self.engine.markets[order.symbol]
        return {**super().order_json(order), **self.swap_fields(order, market), "instType": "OPTION"}

    def fill_json(self, fill: SimFill) -> dict[str, Any]:
        return {**super().fill_json(fill), "instType": "OPTION"}

    async def positions(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        if params.get("instType") not in (None, "", "OPTION"):
            return envelope([])
        return await super().positions(key, {**params, "instType": ""})

    def position_json(self, account: Account, symbol: str, side: PositionSide, pos: Position) -> dict[str, Any]:
        return {**super().position_json(account, symbol, side, pos), "instType": "OPTION", "ccy": self.engine.markets[symbol].quote}

    def private_frames_for(self, conn: SimConnection, event: OrderEvent) -> list[Frame]:
        """As OKX's other server, with instType OPTION."""
        order = event.order
        inst_id = self.native(order.symbol)
        row = self.ws_order_json(order, event.fill)
        frames: list[Frame] = []
        for watched_type, watched_id in sorted(conn.state.get("orders", ())):
            if watched_type in ("OPTION", "ANY") and watched_id in ("", inst_id):
                arg = {"channel": "orders", "instType": watched_type} | ({"instId": watched_id} if watched_id else {})
                frames.append(orjson.dumps({"arg": arg | {"uid": order.account}, "data": [row]}).decode())
        return frames


def json_error(code: str, msg: str) -> web.Response:
    return json_response({"code": code, "msg": msg, "data": []}, status=400)

