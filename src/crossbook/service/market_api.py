"""The API's market data beyond the book: a venue's candles, a symbol's ticker on every venue,
funding across venues, the consolidated mid's candles, an option chain; each handler thin over the
Desk (``MARKET_ENDPOINTS`` registers and describes them beside ``handlers.ENDPOINTS``)."""

from __future__ import annotations

import time

from aiohttp import web

from ..desk.market_queries import candle_json, parse_interval
from ..errors import ConfigError
from ..model import Interval
from ..symbols import parse_standard
from .errors import bad_input, json_response
from .handlers import followed, service_of, venue_of_desk
from .openapi import Endpoint, Param
from .params import Fields

DEFAULT_CANDLES = 100
MAX_CANDLES = 1000
MAX_MID_CANDLES = 240


async def get_candles(request: web.Request) -> web.Response:
    service = service_of(request)
    fields = Fields.query(request, ("venue", "symbol", "interval", "limit"))
    venue = venue_of_desk(service, fields.text("venue") or "")
    symbol = fields.symbol()
    try:
        interval = parse_interval(fields.text("interval", required=False, default="1m") or "1m")
    except ConfigError as exc:
        raise bad_input("interval", str(exc)) from None
    limit = fields.integer("limit", default=DEFAULT_CANDLES, high=MAX_CANDLES)
    candles = await service.desk.candles(venue, symbol, interval, limit=limit)
    return json_response({"venue": venue, "symbol": symbol, "interval": interval.value,
                          "candles": [candle_json(c) for c in candles]})


async def get_ticker(request: web.Request) -> web.Response:
    service = service_of(request)
    fields = Fields.query(request, ("symbol", "venues"))
    symbol = fields.symbol()
    venues = fields.names("venues", service.desk.venues)
    return json_response((await service.desk.ticker(symbol, venues)).to_json())


def _perpetuals(fields: Fields) -> list[str] | None:
    """The perpetuals asked for (``symbols``); None: the desk's standard ones."""
    given = fields.text("symbols", required=False)
    if given is None:
        return None
    symbols = [s.strip().upper() for s in given.split(",") if s.strip()]
    if not symbols:
        raise bad_input("symbols", "name at least one perpetual (e.g. BTC-USDT-PERP)")
    for symbol in symbols:
        try:
            parse_standard(symbol)
        except ConfigError as exc:
            raise bad_input("symbols", str(exc)) from None
    return symbols


async def get_funding(request: web.Request) -> web.Response:
    service = service_of(request)
    symbols = _perpetuals(Fields.query(request, ("symbols",)))
    return json_response((await service.desk.funding(symbols)).to_json())


async def get_mid_candles(request: web.Request) -> web.Response:
    service = service_of(request)
    fields = Fields.query(request, ("symbol", "limit"))
    symbol = followed(service, fields.symbol())
    limit = fields.integer("limit", default=60, high=MAX_MID_CANDLES)
    candles = service.mid_candles.candles(symbol, time.time(), limit)
    return json_response({"symbol": symbol, "interval": service.mid_candles.interval.value,
                          "candles": [c.to_json() for c in candles]})


async def get_options(request: web.Request) -> web.Response:
    service = service_of(request)
    fields = Fields.query(request, ("underlying", "expiry", "venues"))
    underlying = (fields.text("underlying") or "").upper()
    if not underlying.isalnum() or len(underlying) > 12:
        raise bad_input("underlying", f"must be an asset such as BTC, not {underlying!r}")
    expiry = fields.text("expiry", required=False)
    if expiry is not None and not (len(expiry) == 8 and expiry.isdigit()):
        raise bad_input("expiry", f"must be YYYYMMDD, not {expiry!r}")
    venues = fields.names("venues", service.desk.venues)
    return json_response((await service.desk.option_chain(underlying, expiry, venues=venues)).to_json())


SYMBOL = {"type": "string", "examples": ["BTC-USDT"]}
VENUES = Param("venues", {"type": "string"}, "comma-separated venue ids (default: every venue of the service)")

MARKET_ENDPOINTS: list[Endpoint] = [
    Endpoint("GET", "/candles", get_candles, "one venue's candles of a symbol, oldest first", "Candles",
             (Param("venue", {"type": "string"}, "venue id", required=True),
              Param("symbol", SYMBOL, "a standard symbol", required=True),
              Param("interval", {"type": "string", "enum": [i.value for i in Interval]}, "candle length (default 1m)"),
              Param("limit", {"type": "integer", "minimum": 1, "maximum": MAX_CANDLES}, "the newest this many")),
             errors=(400, 404, 503)),
    Endpoint("GET", "/ticker", get_ticker, "a symbol's rolling 24-hour ticker on every venue", "Tickers",
             (Param("symbol", SYMBOL, "a standard symbol", required=True), VENUES), errors=(400, 404, 503)),
    Endpoint("GET", "/funding", get_funding, "perpetuals' funding on every venue, annualized, and the spread between venues",
             "Funding", (Param("symbols", {"type": "string"},
                               "comma-separated perpetuals (default: BTC and ETH against USDT and USD)"),),
             errors=(400, 404, 503)),
    Endpoint("GET", "/mid-candles", get_mid_candles, "1m candles of a followed symbol's consolidated mid", "MidCandles",
             (Param("symbol", SYMBOL, "a followed standard symbol", required=True),
              Param("limit", {"type": "integer", "minimum": 1, "maximum": MAX_MID_CANDLES}, "the newest this many")),
             errors=(400, 404)),
    Endpoint("GET", "/options", get_options, "an underlying's option chain at one expiry on every options venue",
             "OptionChain", (Param("underlying", {"type": "string", "examples": ["BTC"]}, "BTC or ETH", required=True),
                             Param("expiry", {"type": "string", "pattern": "^[0-9]{8}$"}, "YYYYMMDD (default: the nearest)"),
                             VENUES), errors=(400, 404, 503)),
]

