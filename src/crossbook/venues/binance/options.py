"""Binance options (the European options API, ``eapi``): books and marks of ``BTC-261225-100000-C``.

Production serves them on two sockets, so they are two handlers. ``BinanceOptions``, on
``fstream.binance.com/public/stream``: books from ``<symbol>@depth@100ms`` diff events with ``U``,
``u`` and ``pu``, synced as USD-M's are against ``GET /eapi/v1/depth`` (whose update id is ``u``),
and trades from ``<symbol>@optionTrade`` (the retired nbstream host called it ``<symbol>@trade``).
Its companion ``BinanceOptionMarks``, on ``/market/stream``: ``<underlying>@optionMarkPrice``
(every series of the underlying, each second) as ``OptionMark``s of the options it follows;
Binance's vega is per volatility point, crossbook's per 1.00 of volatility. Instruments:
``GET /eapi/v1/exchangeInfo`` ``optionSymbols``; the standard symbol names the underlying's quote,
``BTC-USDT-20261225-100000-C``.
Docs: developers.binance.com/docs/derivatives/options-trading (Exchange-Information, Order-Book,
websocket-market-streams: Connect, Mark-Price "URL PATH /market", Diff-Book-Depth-Streams and
Trade-Streams on ``/public``); ccxt 4.5's pro binance reads the same paths (``option``: /public,
``optionMarket``: /market for marks and klines).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

import orjson

from ...feeds.handler import Channels, FeedHandler, Frame, Resync
from ...model import BookState, Instrument, Interval, Kind, OptionMark, OptionRight, Side, Trade
from ...symbols import option_symbol
from . import BinanceUsdm, _filter

loads = orjson.loads
WS_URL = "wss://fstream.binance.com"
REST_URL = "https://eapi.binance.com"
URL_HOSTS = ("eapi.binance.com", "nbstream.binance.com")
MARK_STREAM = "optionMarkPrice"
TRADE_STREAM = "optionTrade"
_TRADE_FRAME = b"@" + TRADE_STREAM.encode()


class BinanceOptionMarks(FeedHandler):
    """The ``/market/stream`` socket of Binance options: the ``<underlying>@optionMarkPrice`` of
    the underlyings of the options it is given, as OptionMarks of those options only.

    It keeps no book: an option's (empty) book goes LIVE with its first mark, so the connection's
    watchdog leaves it be, and one no mark names within the bound is subscribed again."""

    venue = "binanceoptions"
    product = "option"
    ws_url = WS_URL
    rest_url = REST_URL
    url_hosts = URL_HOSTS
    resync_by = Resync.RESUBSCRIBE
    max_streams = 200
    streams_per_symbol = 1  # at most one stream per option: its underlying's, which the underlying's series share

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._sub_id = 0

    def connect_url(self, natives: list[str]) -> str:
        return f"{self.ws_base}/market/stream"

    def subscribe_messages(self, natives: list[str]) -> list[Frame]:
        self._sub_id += 1
        params = [f"{u.lower()}@{MARK_STREAM}" for u in dict.fromkeys(underlying_of(n) for n in natives)]
        return [orjson.dumps({"method": "SUBSCRIBE", "params": params, "id": self._sub_id})]

    def unsubscribe_messages(self, natives: list[str]) -> list[Frame]:
        return []  # the underlying's stream stays: its other followed series still read it

    def on_frame(self, data: Frame, ts: float) -> None:
        self.link.last_rx = ts
        self.messages += 1
        msg = loads(data)
        if "error" in msg:  # a refused subscribe: {"error":{"code":2,"msg":"Invalid request"},"id":1}
            self.errors += 1
            return
        events = msg.get("data")
        if type(events) is list and events:
            self.latency.add(events[0]["E"] / 1000.0, ts)
            self.on_marks(events)

    def on_marks(self, events: list[dict[str, Any]]) -> None:
        """``<underlying>@optionMarkPrice``, the followed series of it as OptionMarks:
        {"stream":"btcusdt@optionMarkPrice","data":[{"s":"BTC-251120-126000-C","mp":"770.543",
        "E":1762867543321,"e":"markPrice","i":"104334.60217391","P":"0.000","bo":"0.000","ao":"900.000",
        "bq":"0.0000","aq":"0.2000","b":"-1.0","a":"0.98161161","hl":"924.652","ll":"616.435",
        "vo":"0.9408058","rf":"0.0","d":"0.11111964","t":"-164.26702615","g":"0.00001245","v":"30.63855919"}]}"""
        for ev in events:
            native = ev["s"]
            book = self.books.get(native)
            if book is None:
                continue
            if book.state is not BookState.LIVE:
                self.go_live(book)
            bid_iv, ask_iv, iv = float(ev["b"]), float(ev["a"]), float(ev["vo"])
            self.emit_market(OptionMark(
                self.venue, self.symbols.get(native, native), ev["E"] / 1000.0, float(ev["mp"]),
                underlying=float(ev["i"]), iv=iv if iv > 0 else None,
                bid_iv=bid_iv if bid_iv > 0 else None, ask_iv=ask_iv if ask_iv > 0 else None,
                delta=float(ev["d"]), gamma=float(ev["g"]), vega=float(ev["v"]) * 100, theta=float(ev["t"]),
            ))

    def frame_natives(self, data: Frame) -> list[str]:
        return []  # a lost frame of marks has no book to rebuild: the next second's marks replace it

    def instruments_urls(self) -> list[str]:
        return [f"{self.rest_base}/eapi/v1/exchangeInfo"]

    def parse_instruments(self, bodies: list[bytes]) -> list[Instrument]:
        return option_instruments(self.venue, bodies[0])


class BinanceOptions(BinanceUsdm):
    venue = "binanceoptions"
    product = "option"
    ws_url = WS_URL
    rest_url = REST_URL
    url_hosts = URL_HOSTS
    max_streams = 200
    streams_per_symbol = 2  # its depth and its trades
    companions: ClassVar[tuple[type[FeedHandler], ...]] = (BinanceOptionMarks,)  # the marks, on /market
    depth_path = "/eapi/v1/depth"
    depth_limit = 100  # 10, 20, 50, 100, 500 or 1000; option books are a few levels deep
    snapshot_id = "u"
    info_path = "/eapi/v1/exchangeInfo"
    klines_path = "/eapi/v1/klines"
    interval_names: ClassVar[dict[Interval, str]] = {}  # no candle, ticker or funding streams here

    def connect_url(self, natives: list[str]) -> str:
        return f"{self.ws_base}/public/stream"

    @classmethod
    def market_stream_names(cls, channels: Channels) -> list[str]:
        return []

    def _request(self, method: str, natives: list[str]) -> bytes:
        self._sub_id += 1
        params = [f"{n.lower()}@{s}" for n in natives for s in (self.depth_stream, TRADE_STREAM)]
        return orjson.dumps({"method": method, "params": params, "id": self._sub_id})

    def on_frame(self, data: Frame, ts: float) -> None:
        raw = data.encode() if type(data) is str else data
        if _TRADE_FRAME in raw[:64]:  # type: ignore[operator]
            self.link.last_rx = ts
            self.messages += 1
            self.on_option_trade(loads(raw)["data"])
            return
        super().on_frame(data, ts)

    def on_option_trade(self, ev: dict[str, Any]) -> None:
        """``<symbol>@optionTrade``, ``S`` the taker's side, ``X`` MARKET (the book) or BLOCK:
        {"stream":"btc-251123-126000-c@optionTrade","data":{"e":"trade","E":1762856064204,
        "T":1762856064203,"s":"BTC-251123-126000-C","t":4,"p":"1300.000","q":"0.1000","X":"MARKET",
        "S":"BUY","m":false}}"""
        native = ev["s"]
        self.emit_trade(Trade(
            venue=self.venue, symbol=self.symbols.get(native, native), price=float(ev["p"]), amount=float(ev["q"]),
            side=Side.BUY if ev["S"] == "BUY" else Side.SELL, ts=ev["T"] / 1000.0, trade_id=str(ev["t"]),
        ))

    def parse_instruments(self, bodies: list[bytes]) -> list[Instrument]:
        return option_instruments(self.venue, bodies[0])


def option_instruments(venue: str, body: bytes) -> list[Instrument]:
    """``GET /eapi/v1/exchangeInfo``: ``optionSymbols``, settled in their contract's ``settleAsset``:
    {"contractId":2,"expiryDate":1660521600000,"filters":[{"filterType":"PRICE_FILTER","minPrice":"0.02",
    "maxPrice":"80000.01","tickSize":"0.01"},{"filterType":"LOT_SIZE","minQty":"0.01","maxQty":"100",
    "stepSize":"0.01"}],"id":17,"symbol":"BTC-220815-50000-C","side":"CALL","strikePrice":"50000",
    "underlying":"BTCUSDT","unit":1,"makerFeeRate":"0.0002","takerFeeRate":"0.0002","minQty":"0.01",
    "maxQty":"100","initialMargin":"0.15","maintenanceMargin":"0.075","minInitialMargin":"0.1",
    "minMaintenanceMargin":"0.05","priceScale":2,"quantityScale":2,"quoteAsset":"USDT"}"""
    info = loads(body)
    contracts = {c["underlying"]: c for c in info.get("optionContracts", [])}
    return [option_instrument(venue, s, contracts.get(s["underlying"], {})) for s in info["optionSymbols"]]


def option_instrument(venue: str, s: dict[str, Any], contract: dict[str, Any]) -> Instrument:
    native: str = s["symbol"]
    base = contract.get("baseAsset") or native.split("-", 1)[0]
    quote = s["quoteAsset"]
    expiry = datetime.fromtimestamp(s["expiryDate"] / 1000.0, UTC).strftime("%Y%m%d")
    strike = float(s["strikePrice"])
    right = OptionRight.CALL if s["side"] == "CALL" else OptionRight.PUT
    return Instrument(
        venue=venue, native=native, symbol=option_symbol(base, quote, expiry, strike, right), base=base,
        quote=quote, kind=Kind.OPTION, tick=_filter(s["filters"], "PRICE_FILTER", "tickSize"),
        lot=_filter(s["filters"], "LOT_SIZE", "stepSize"), expiry=expiry, contract_size=float(s.get("unit", 1)),
        strike=strike, right=right, settle=contract.get("settleAsset", quote), premium_in_base=False,
    )


def underlying_of(native: str) -> str:
    """BTC-261225-100000-C -> BTCUSDT (every Binance option is on a USDT index)."""
    return native.split("-", 1)[0] + "USDT"
