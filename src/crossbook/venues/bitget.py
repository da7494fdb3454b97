"""Bitget v2 spot and USDT-M futures: the ``books`` channel, kept in sync by checksum.

Subscribing to ``books`` brings a full-depth ``snapshot``, then ``update`` messages with absolute
sizes per price (size 0 deletes). ``seq`` grows but is not promised to step by one and there is
no previous-seq field, so the only continuity check is the checksum every message carries: a
signed CRC32 of ``bid1px:bid1sz:ask1px:ask1sz:...`` over the best 25 levels per side, built from
the exchange's own strings. A mismatch on an update means an update was lost or misapplied: the
book is resubscribed for a fresh snapshot. A checksum of 0 means none was sent.
Keep-alive: the text ``ping`` every 30 s, answered by ``pong``; the server drops a connection
that sent no ping for 2 minutes and cuts every connection after 24 h.

Beside books and trades: ``ticker`` (the rolling day and the touch; on USDT-FUTURES also the funding
rate and its next time, the mark and index prices and ``holdingAmount``, the open interest in the
base coin) and ``candle<bar>`` (1m, 5m, 15m, 1H, 4H, 1D kept). A candle push has no "closed" flag: a
row pushed at or after its window's end (the push's ``ts``) is final; a candle that a later one
follows without a final push is left to REST (the candle series sees the gap), so a lost push never
closes a candle on stale figures.
Docs: bitget.com/api-doc/spot/websocket/public/Depth-Channel, .../common/websocket-intro,
.../spot/websocket/public/Tickers-Channel, .../contract/websocket/public/Tickers-Channel,
.../spot/websocket/public/Candlesticks-Channel
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any, ClassVar

import orjson

from ..book.checksum import crc32_signed, interleaved
from ..book.l2 import L2Book
from ..errors import VenueUnavailable
from ..feeds.candles import Gap
from ..feeds.handler import Channels, FeedHandler, Frame, Resync
from ..model import (
    Candle,
    FundingRate,
    IndexPrice,
    Instrument,
    Interval,
    Kind,
    MarkPrice,
    OpenInterest,
    Side,
    Ticker,
    Trade,
)
from ..symbols import standard_symbol
from .spec import VenueSpec
from .spec.capabilities import (
    BASIC_ORDERS,
    CONTRACTS,
    DERIVATIVES,
    Feature,
    Product,
    Support,
    VenueCapabilities,
)
from .spec.client_ids import ClientIdRule, IdStyle
from .spec.fees import FeeSchedule, FeeTier
from .spec.funding import FundingClient, FundingSpec
from .spec.keys import KeyPermissions, ip_list
from .spec.limits import HOUR, MINUTE, Breach, LimitTable, Scope, SubscribeLimits, Window
from .spec.withdrawals import WithdrawalRules

log = logging.getLogger(__name__)
loads = orjson.loads

CHECKSUM_DEPTH = 25
PONG = ("pong", b"pong")
OK_CODE = "00000"
BAD_FRAME = (orjson.JSONDecodeError, KeyError, IndexError, TypeError, ValueError, AttributeError)
# crossbook's intervals -> the bar of Bitget's ``candle<bar>`` channel (Bitget also has 30m, 6H, 12H, 1W, ...)
INTERVAL_NAMES: dict[Interval, str] = {
    Interval.M1: "1m", Interval.M5: "5m", Interval.M15: "15m", Interval.H1: "1H", Interval.H4: "4H", Interval.D1: "1D",
}
BARS = {f"candle{name}": interval for interval, name in INTERVAL_NAMES.items()}
# the ``granularity`` of the spot REST candles (the mix endpoint takes the channel's own names)
SPOT_GRANULARITIES: dict[Interval, str] = {
    Interval.M1: "1min", Interval.M5: "5min", Interval.M15: "15min", Interval.H1: "1h", Interval.H4: "4h", Interval.D1: "1day",
}
CANDLES_LIMIT = 1000  # the most one REST candles request returns
FUNDING_HOURS = 8.0  # USDT-M settles every 8 hours (the ticker names the next time only)


def optional(text: str | None) -> float | None:
    """Bitget sends "" (or nothing) for a figure it does not have."""
    return float(text) if text else None


def checksum(book: L2Book) -> int:
    """Bitget's checksum of a book built with ``keep_strings``."""
    bids = book.top_strings(Side.BUY, CHECKSUM_DEPTH)
    asks = book.top_strings(Side.SELL, CHECKSUM_DEPTH)
    return crc32_signed(interleaved(bids, asks))


def _envelope_data(body: bytes, feed: str) -> list[dict[str, Any]]:
    """The ``data`` of Bitget's REST envelope; any code but 00000 is an error."""
    reply = loads(body)
    if reply.get("code") != OK_CODE:
        raise VenueUnavailable(f"{feed}: instruments answered code {reply.get('code')}: {reply.get('msg')}")
    data: list[dict[str, Any]] = reply["data"]
    return data


# what one public socket may send (spot and futures alike); over the message rate Bitget closes it
SUBSCRIBE_LIMITS = SubscribeLimits(
    "bitget.com/api-doc/common/websocket-intro: 10 messages per second (the string ping included), 240 "
    "subscription requests per hour per connection, 1000 channels per connection",
    messages=Window("messages", 10, 1), subscribes=Window("subscription requests", 240, HOUR),
    topics_per_connection=1000,
)

class BitgetSpot(FeedHandler):
    book_markers = (b'"books',)  # an unreadable frame resyncs a book only if it carries these
    venue = "bitget"
    product = "spot"
    ws_url = "wss://ws.bitget.com"
    rest_url = "https://api.bitget.com"
    url_hosts = ("ws.bitget.com", "api.bitget.com")
    resync_by = Resync.RESUBSCRIBE
    keep_strings = True
    max_streams = SUBSCRIBE_LIMITS.topics_per_connection or 1000
    streams_per_symbol = 2
    ping_interval = 30.0
    # a healthy socket hears a pong at least every 30 s; the docs allow 30 s more for the answer
    stale_after = 60.0
    ws_path: ClassVar[str] = "/v2/ws/public"
    inst_type: ClassVar[str] = "SPOT"
    interval_names = INTERVAL_NAMES
    candles_path: ClassVar[str] = "/api/v2/spot/market/candles"

    # ---- subscribe -----------------------------------------------------------------------

    def connect_url(self, natives: list[str]) -> str:
        return f"{self.ws_base}{self.ws_path}"

    def subscribe_messages(self, natives: list[str]) -> list[Frame]:
        return [self._request("subscribe", natives)]

    def unsubscribe_messages(self, natives: list[str]) -> list[Frame]:
        return [self._request("unsubscribe", natives)]

    def _request(self, op: str, natives: list[str]) -> bytes:
        args = [
            {"instType": self.inst_type, "channel": channel, "instId": native}
            for native in natives
            for channel in ("books", "trade", *self.market_channels(self.channels))
        ]
        return orjson.dumps({"op": op, "args": args})

    @classmethod
    def market_channels(cls, channels: Channels) -> list[str]:
        """``ticker`` (it also carries a contract's funding, mark, index and open interest), then a
        ``candle<bar>`` per interval."""
        wants_ticker = channels.ticker or (channels.funding and cls.inst_type != "SPOT")
        return (["ticker"] if wants_ticker else []) + [f"candle{cls.interval_names[i]}" for i in channels.candles]

    @classmethod
    def market_streams(cls, channels: Channels) -> int:
        return len(cls.market_channels(channels))

    def ping_message(self) -> Frame:
        return "ping"

    # ---- frames (hot path) ---------------------------------------------------------------

    def on_frame(self, data: Frame, ts: float) -> None:
        self.link.last_rx = ts
        self.messages += 1
        if data in PONG:
            return
        try:
            msg = loads(data)
            action = msg.get("action")
            if action is None:
                self.on_event(msg)
                return
            arg = msg["arg"]
            channel = arg["channel"]
            if channel == "books":
                self.on_books(arg["instId"], action, msg["data"][0], ts)
            elif channel == "trade" and action == "update":
                self.on_trades(arg["instId"], msg["data"])
            elif channel == "ticker":
                for d in msg["data"]:
                    self.on_ticker(d)
            elif channel in BARS:
                self.on_candle_rows(arg["instId"], BARS[channel], msg["data"], int(msg.get("ts") or ts * 1000))
        except BAD_FRAME as exc:
            # a book left half-updated must not be served until its next checksum says so
            self.errors += 1
            self.frame_failed(data, exc)

    def on_books(self, native: str, action: str, d: dict[str, Any], ts: float) -> None:
        book = self.books.get(native) or self.book(native)
        if book is None:
            return
        self.latency.add(int(d["ts"]) / 1000.0, ts)
        if action == "snapshot":
            book.snapshot(d["bids"], d["asks"])
            book.updated_at = ts
            if not self._checksum_holds(book, d):
                self.resync(native, "checksum")
                return
            book.seq = d.get("seq", 0)
            self.go_live(book)
            return
        if book.seq is None:
            return  # left over from before a resubscribe: its snapshot is still to come
        book.update(d["bids"], d["asks"])
        if not self._checksum_holds(book, d):
            # Bitget has no sequence link between updates: a mismatch is how a lost update shows
            self.resync(native, "gap")
            return
        book.seq = d.get("seq", book.seq)
        book.updated_at = ts
        book.stats.updates += 1

    def _checksum_holds(self, book: L2Book, d: dict[str, Any]) -> bool:
        expected = d.get("checksum", 0)
        if not expected:
            return True
        if checksum(book) == expected:
            book.stats.checksums_ok += 1
            return True
        book.stats.checksums_failed += 1
        return False

    def on_trades(self, native: str, data: list[dict[str, Any]]) -> None:
        symbol = self.symbols.get(native, native)
        for t in reversed(data):  # newest first on the wire
            self.emit_trade(
                Trade(
                    venue=self.venue,
                    symbol=symbol,
                    price=float(t["price"]),
                    amount=float(t["size"]),
                    side=Side.BUY if t["side"] == "buy" else Side.SELL,
                    ts=int(t["ts"]) / 1000.0,
                    trade_id=str(t["tradeId"]),
                )
            )

    # ---- market data beyond the book -------------------------------------------------------

    def symbol(self, native: str) -> str:
        return self.symbols.get(native, native)

    def on_ticker(self, d: dict[str, Any]) -> None:
        """``ticker``: the rolling 24 hours in the base (``baseVolume``) and quote (``quoteVolume``)
        and the touch (v1, recorded in 2022, named them ``last``, ``bestBid``, ``bestAsk``):
        {"action":"snapshot","arg":{"instType":"SPOT","channel":"ticker","instId":"ETHUSDT"},"data":[{"instId":"ETHUSDT",
        "lastPr":"2200.10","open24h":"0.00","high24h":"0.00","low24h":"0.00","change24h":"0.00","bidPr":"1792",
        "askPr":"2200.1","bidSz":"0.0084","askSz":"19740.8811","baseVolume":"0.0000","quoteVolume":"0.0000",
        "openUtc":"0.00","changeUtc24h":"0","ts":"1695702438018"}],"ts":1695702438029}"""
        native = d["instId"]
        v2 = "lastPr" in d
        self.emit_market(Ticker(
            self.venue, self.symbol(native), int(d["ts"]) / 1000.0, optional(d.get("open24h")), optional(d.get("high24h")),
            optional(d.get("low24h")), float(d["lastPr"] if v2 else d["last"]), optional(d.get("baseVolume")),
            optional(d.get("quoteVolume")), optional(d["bidPr"] if v2 else d.get("bestBid")),
            optional(d["askPr"] if v2 else d.get("bestAsk"))))

    def on_candle_rows(self, native: str, interval: Interval, rows: list[list[str]], pushed_ms: int) -> None:
        """``candle<bar>`` rows, oldest first: open time, OHLC, volume in the base, in the quote (and
        in USDT); v1 rows (2022) end at the base volume. A row pushed at or after its window's end
        (``pushed_ms``: the push's ``ts``, else its arrival) is final:
        {"action":"update","arg":{"instType":"SPOT","channel":"candle1m","instId":"BTCUSDT"},"data":[["1695685500000",
        "27000","27000.5","26999.5","27000","1.2","32400.6","32400.6"]],"ts":1695685512011}"""
        width = interval.seconds * 1000
        symbol = self.symbol(native)
        for row in rows:
            opened = int(row[0])
            self.emit_candle(Candle(self.venue, symbol, interval, opened / 1000.0, float(row[1]), float(row[2]),
                                    float(row[3]), float(row[4]), float(row[5]),
                                    float(row[6]) if len(row) > 6 else None, pushed_ms >= opened + width), native)

    def candles_url(self, gap: Gap) -> str:
        start, end = int(gap.start * 1000), int(gap.end * 1000)
        return (f"{self.rest_base}{self.candles_path}?symbol={gap.native}&granularity={self.granularity(gap.interval)}"
                f"&startTime={start}&endTime={end}&limit={CANDLES_LIMIT}")

    def granularity(self, interval: Interval) -> str:
        return SPOT_GRANULARITIES[interval]

    def parse_candles(self, gap: Gap, body: bytes | str) -> list[Candle]:
        """``GET /api/v2/spot/market/candles`` (and ``/api/v2/mix/market/candles``), oldest first, the
        channel's rows (a gap's candles all precede one that has opened: final):
        {"code":"00000","msg":"success","requestTime":1695800278693,"data":[["1656604800000","37834.5","37849.5",
        "37773.5","37773.5","428.3462","16198849.1079","16198849.1079"]]}"""
        reply = loads(body)
        if reply.get("code") != OK_CODE:
            raise VenueUnavailable(f"{self.venue} candles: code {reply.get('code')}: {reply.get('msg')}")
        symbol = self.symbol(gap.native)
        return [Candle(self.venue, symbol, gap.interval, int(r[0]) / 1000.0, float(r[1]), float(r[2]), float(r[3]),
                       float(r[4]), float(r[5]), float(r[6]), True) for r in reply["data"]]

    def on_event(self, msg: dict[str, Any]) -> None:
        """Subscribe/unsubscribe acks are routine; an error event means a request failed."""
        if msg.get("event") == "error":
            self.errors += 1
            log.warning("%s: %s %s (%s)", self.venue, msg.get("code"), msg.get("msg"), msg.get("arg"))

    # ---- instruments ---------------------------------------------------------------------

    def instruments_urls(self) -> list[str]:
        return [f"{self.rest_base}/api/v2/spot/public/symbols"]

    def parse_instruments(self, bodies: list[bytes]) -> list[Instrument]:
        out: list[Instrument] = []
        for s in _envelope_data(bodies[0], self.venue):
            if s.get("status") != "online":
                continue
            out.append(
                Instrument(
                    venue=self.venue,
                    native=s["symbol"],
                    symbol=standard_symbol(s["baseCoin"], s["quoteCoin"]),
                    base=s["baseCoin"],
                    quote=s["quoteCoin"],
                    kind=Kind.SPOT,
                    tick=10.0 ** -int(s["pricePrecision"]),
                    lot=10.0 ** -int(s["quantityPrecision"]),
                )
            )
        return out


class BitgetFutures(BitgetSpot):
    """USDT-margined contracts; book and trade sizes are in the base coin, as on spot."""

    venue = "bitgetfutures"
    product = "linear"
    inst_type = "USDT-FUTURES"
    candles_path = "/api/v2/mix/market/candles"

    def candles_url(self, gap: Gap) -> str:
        return f"{super().candles_url(gap)}&productType={self.inst_type}"

    def granularity(self, interval: Interval) -> str:
        return self.interval_names[interval]

    def on_ticker(self, d: dict[str, Any]) -> None:
        """A contract's ``ticker`` also carries its funding (``fundingRate`` paid at ``nextFundingTime``),
        mark and index prices and open interest (``holdingAmount``, base coin):
        {"action":"snapshot","arg":{"instType":"USDT-FUTURES","channel":"ticker","instId":"BTCUSDT"},"data":[{
        "instId":"BTCUSDT","lastPr":"27000.5","bidPr":"27000","askPr":"27000.5","bidSz":"2.71","askSz":"8.76",
        "open24h":"27000.5","high24h":"30668.5","low24h":"26999.0","change24h":"-0.00002","fundingRate":"0.000010",
        "nextFundingTime":"1695722400000","markPrice":"27000.0","indexPrice":"25702.4","holdingAmount":"929.502",
        "baseVolume":"368.900","quoteVolume":"10152429.961","openUtc":"27000.5","symbolType":1,"symbol":"BTCUSDT",
        "deliveryPrice":"0","ts":"1695715383021"}],"ts":1695715383039}"""
        super().on_ticker(d)
        symbol, ts = self.symbol(d["instId"]), int(d["ts"]) / 1000.0
        if d.get("fundingRate"):
            self.emit_market(FundingRate(self.venue, symbol, ts, float(d["fundingRate"]),
                                         int(d["nextFundingTime"]) / 1000.0, FUNDING_HOURS))
        if d.get("markPrice"):
            self.emit_market(MarkPrice(self.venue, symbol, ts, float(d["markPrice"])))
        if d.get("indexPrice"):
            self.emit_market(IndexPrice(self.venue, symbol, ts, float(d["indexPrice"])))
        if d.get("holdingAmount"):
            self.emit_market(OpenInterest(self.venue, symbol, ts, float(d["holdingAmount"]), None))

    def instruments_urls(self) -> list[str]:
        return [f"{self.rest_base}/api/v2/mix/market/contracts?productType={self.inst_type}"]

    def parse_instruments(self, bodies: list[bytes]) -> list[Instrument]:
        out: list[Instrument] = []
        for c in _envelope_data(bodies[0], self.venue):
            if c.get("symbolStatus") != "normal":
                continue
            kind, expiry = _contract_kind(c)
            out.append(
                Instrument(
                    venue=self.venue,
                    native=c["symbol"],
                    symbol=standard_symbol(c["baseCoin"], c["quoteCoin"], kind, expiry),
                    base=c["baseCoin"],
                    quote=c["quoteCoin"],
                    kind=kind,
                    tick=int(c["priceEndStep"]) * 10.0 ** -int(c["pricePlace"]),
                    lot=float(c["sizeMultiplier"]),
                    expiry=expiry,
                )
            )
        return out


def _contract_kind(c: dict[str, Any]) -> tuple[Kind, str | None]:
    if c.get("symbolType") == "perpetual":
        return Kind.PERP, None
    delivery = datetime.fromtimestamp(int(c["deliveryTime"]) / 1000.0, tz=UTC)
    return Kind.FUTURE, delivery.strftime("%Y%m%d")


async def key_permissions(client: Any) -> KeyPermissions:
    """``GET /api/v2/spot/account/info``: ``authorities`` (``stow`` spot trade, ``coow`` futures
    orders, ``wtow`` wallet transfer, ``wwow`` withdrawal; ``...or``: their reads) and ``ips``;
    its ``regisTime`` is the account's, not the key's, so no age."""
    r = (await client.privateSpotGetV2SpotAccountInfo()).get("data") or {}
    rights = set(r.get("authorities") or [])
    return KeyPermissions(
        read=True,
        trade=bool(rights & {"stow", "coow", "cpow", "mow"}),
        withdraw="wwow" in rights,
        transfer="wtow" in rights,
        ips=ip_list(r.get("ips")),
        created=None,
        expires=None,
        source="GET /api/v2/spot/account/info",
    )


SPEC: VenueSpec[type[FeedHandler]] = VenueSpec(
    venue="bitget",
    kind="cex",
    tier=3,
    ccxt_id="bitget",
    feeds={
        "bitget": BitgetSpot,
        "bitgetfutures": BitgetFutures,
    },
    # Sources: Bitget v2/v3 API docs (www.bitget.com/api-doc: spot and futures place-order, plan
    # orders, UTA); ccxt 4.5.90 ``bitget.features`` (attached TP/SL, hedged, sandbox = demo trading).
    capabilities=VenueCapabilities(
        venue="bitget",
        products={
            Product.SPOT: Support.yes(feeds=("bitget",)),
            Product.MARGIN: Support.yes("cross and isolated; orders trade the spot book", feeds=("bitget",)),
            Product.LINEAR_PERP: Support.yes("USDT-M (crossbook feed) and USDC-M", feeds=("bitgetfutures",)),
            Product.INVERSE_PERP: Support.yes("COIN-M"),
            Product.FUTURES: Support.yes("USDT-M (crossbook feed) and COIN-M delivery", feeds=("bitgetfutures",)),
            Product.OPTIONS: Support.no(),
        },
        features={
            Feature.LIMIT: Support.yes(),
            Feature.MARKET: Support.yes(),
            Feature.STOP: Support.yes("plan orders"),
            Feature.STOP_LIMIT: Support.yes("plan orders"),
            Feature.POST_ONLY: Support.yes("force post_only"),
            Feature.IOC: Support.yes(),
            Feature.FOK: Support.yes(),
            Feature.REDUCE_ONLY: Support.yes(only=DERIVATIVES),
            Feature.ICEBERG: Support.no("not in the place-order API"),
            Feature.OCO: Support.no(),
            Feature.TP_SL: Support.yes("preset take-profit / stop-loss prices on place-order"),
            Feature.HEDGE_MODE: Support.yes("posMode hedge_mode", only=CONTRACTS),
            Feature.CROSS_MARGIN: Support.yes(),
            Feature.ISOLATED_MARGIN: Support.yes(),
            Feature.UNIFIED_ACCOUNT: Support.yes("Unified Trading Account (v3 API)"),
            Feature.PORTFOLIO_MARGIN: Support.no("not in the public API docs"),
            Feature.SUB_ACCOUNTS: Support.yes(),
            Feature.TESTNET: Support.yes("demo trading (paptrading header)"),
            Feature.KEY_PERMISSIONS: Support.yes("GET /api/v2/spot/account/info: authorities and ips; no key age"),
        },
    ).traded((Feature.KEY_PERMISSIONS,
              Product.SPOT, *BASIC_ORDERS, Feature.SUB_ACCOUNTS)),
    # REST limits: 6,000 requests per minute per IP overall; each endpoint has its own per-second limit,
    # per IP (public) or per account (figures as in ccxt 4.5.90, which quotes the endpoint pages).
    # Classic (v2) and unified-account (v3) endpoints, as ccxt calls them.
    limits=LimitTable(
        venue="bitget",
        pools=(
            Window("ip", 6000, MINUTE),
            Window("public-3/s", 3, 1, per_endpoint=True),
            Window("public-10/s", 10, 1, per_endpoint=True),
            Window("public-20/s", 20, 1, per_endpoint=True),
            Window("private-3/s", 3, 1, Scope.ACCOUNT, per_endpoint=True),
            Window("private-10/s", 10, 1, Scope.ACCOUNT, per_endpoint=True),
            Window("private-20/s", 20, 1, Scope.ACCOUNT, per_endpoint=True),
        ),
        endpoints={
            "GET /api/v2/spot/public/coins": {"public-3/s": 1},
            "GET /api/v2/spot/public/symbols": {"public-20/s": 1},
            "GET /api/v2/mix/market/current-fund-rate": {"public-20/s": 1},
            "GET /api/v2/margin/currencies": {"public-10/s": 1},
            "GET /api/v2/spot/market/orderbook": {"public-20/s": 1},
            "GET /api/v3/account/settings": {"private-20/s": 1},
            "GET /api/v2/spot/account/assets": {"private-10/s": 1},
            "POST /api/v2/spot/trade/place-order": {"private-10/s": 1},
            "POST /api/v2/spot/trade/cancel-order": {"private-10/s": 1},
            "GET /api/v2/spot/trade/orderInfo": {"private-20/s": 1},
            "GET /api/v2/spot/trade/unfilled-orders": {"private-20/s": 1},
            "GET /api/v2/spot/trade/fills": {"private-10/s": 1},
            "GET /api/v3/market/instruments": {"public-20/s": 1},
            "GET /api/v3/market/orderbook": {"public-20/s": 1},
            "GET /api/v3/account/assets": {"private-20/s": 1},
            "POST /api/v3/trade/place-order": {"private-10/s": 1},
            "POST /api/v3/trade/cancel-order": {"private-10/s": 1},
            "GET /api/v3/trade/order-info": {"private-20/s": 1},
            "GET /api/v3/trade/unfilled-orders": {"private-20/s": 1},
            "GET /api/v3/trade/fills": {"private-20/s": 1},
            "GET /api/v3/account/all-fee-rate": {"private-3/s": 1},
        },
        default={"private-10/s": 1},
        every_request={"ip": 1},
        breach=Breach(statuses={429: 1.0}, code_field="code", codes={"429": 1.0}),
        subscribe={"bitget": SUBSCRIBE_LIMITS, "bitgetfutures": SUBSCRIBE_LIMITS},
    ),
    # the request an unmodified ccxt client places a spot order with (dYdX: its order transaction);
    # the router asks the limiter how many of these the venue grants now
    order_endpoint="POST /api/v2/spot/trade/place-order",
    # the client order id this venue accepts (crossbook derives one per journaled order)
    client_id=ClientIdRule(
        "bitget", "clientOid", "clientOrderId", r"[A-Za-z0-9_]{1,32}", IdStyle.TOKEN,
        "Bitget clientOid: v2 docs allow up to 50; error 43011 is reported for characters outside "
        "letters, digits and '_' with a 1-32 limit, so the stricter reading is kept",
    ),
    # Fees (bitget.com/fee): the base tier (the VIP ladder has changed several times since 2023 and is
    # not encoded). Paying with BGB: 20% off spot.
    fees=FeeSchedule(
        venue="bitget",
        spot=(FeeTier("Non-VIP", 0, 0.0010, 0.0010),),
        derivatives=(FeeTier("Non-VIP", 0, 0.0002, 0.0006),),
        discount_token="BGB",
        discounts={Kind.SPOT: 0.20},
    ),
    key_permissions=key_permissions,
    # POST /api/v2/spot/wallet/withdrawal: ``clientOid`` (echoed in withdrawal-records, where it can
    # be queried; 32 as for its orders' ids); the fee comes out of ``size``. The address book is
    # kept on the web only (43111 for an address off it); fees and minimums: /spot/public/coins.
    withdrawals=WithdrawalRules("clientOid", client_id_length=32),
    # the futures feed trades through no client of its own: ccxt's bitget on swaps reads it (its
    # currencies are a spot endpoint, not the futures server's)
    funding=FundingSpec(clients={"bitgetfutures": FundingClient("bitget", {
        "options": {"fetchMarkets": {"types": ["swap"]}, "defaultType": "swap"}, "has": {"fetchCurrencies": False}})}),
)
