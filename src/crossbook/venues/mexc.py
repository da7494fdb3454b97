"""MEXC spot v3: protobuf diff-depth pushes synced against REST snapshots.

Since August 2025 the market streams on wss://wbs-api.mexc.com/ws push only protobuf: JSON text
subscribes ``spot@public.aggre.depth.v3.api.pb@100ms@SYM`` and
``spot@public.aggre.deals.v3.api.pb@100ms@SYM`` (acked ``{"id":0,"code":0,"msg":<channels>}``), and
the data arrives as binary ``PushDataV3ApiWrapper`` messages (schema: github.com/mexcdevelop/websocket-proto).

Sync (docs: spot-v3/websocket-market-streams/how-to-properly-maintain-a-local-copy-of-the-order-book):
buffer pushes, GET /api/v3/depth?limit=5000 (``lastUpdateId``), drop pushes with
``toVersion <= lastUpdateId``; if the first one left has ``fromVersion > lastUpdateId + 1`` the
snapshot predates the stream: fetch another. Afterwards every push has
``fromVersion == previous toVersion + 1``, else resync. No checksum.
Beside books and trades: ``spot@public.kline.v3.api.pb@SYM@Min1`` (``PublicSpotKlineV3Api``, body 308:
the candle as it stands, ``windowStart``/``windowEnd`` in seconds; no "closed" flag: a push sent at or
after ``windowEnd`` is final, and a candle a later one follows without one is left to REST, as the
candle series sees the gap) and ``spot@public.miniTicker.v3.api.pb@SYM@UTC+8`` (``PublicMiniTickerV3Api``,
body 309: last ``price``, 24 h ``rate`` (a fraction), ``high``, ``low``, ``quantity`` in the base,
``volume`` in the quote; no touch).
Keep-alive: the client sends ``{"method":"PING"}`` (answer ``{"id":0,"code":0,"msg":"PONG"}``); the
server drops a socket with no subscription after 30 s or no data for 60 s, and every socket at 24 h.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

import orjson

from ..errors import VenueUnavailable
from ..feeds.candles import Gap
from ..feeds.handler import Channels, FeedHandler, Frame, Resync, query_param
from ..model import BookState, Candle, Instrument, Interval, Kind, Side, Ticker, Trade
from ..symbols import standard_symbol
from .protowire import (
    LEN,
    DecodeError,
    as_bytes,
    as_int,
    as_str,
    fields,
    read_field,
    signed64,
)
from .spec import VenueSpec
from .spec.capabilities import (
    BASIC_ORDERS,
    PERPETUALS,
    Feature,
    Product,
    Support,
    VenueCapabilities,
)
from .spec.client_ids import ClientIdRule, IdStyle
from .spec.fees import FeeSchedule, FeeTier
from .spec.limits import Breach, LimitTable, Scope, SubscribeLimits, Window
from .spec.withdrawals import VenueAddress, WithdrawalLimits, WithdrawalRules

log = logging.getLogger(__name__)

loads = orjson.loads

# PushDataV3ApiWrapper
WRAPPER_CHANNEL = 1
WRAPPER_SYMBOL = 3
WRAPPER_SEND_TIME = 6  # int64 ms
WRAPPER_KLINE = 308  # oneof body: PublicSpotKlineV3Api
WRAPPER_MINI_TICKER = 309  # oneof body: PublicMiniTickerV3Api
WRAPPER_AGGRE_DEPTHS = 313  # oneof body: PublicAggreDepthsV3Api
WRAPPER_AGGRE_DEALS = 314  # oneof body: PublicAggreDealsV3Api
# PublicAggreDepthsV3Api; its items (PublicAggreDepthV3ApiItem) are price = 1, quantity = 2
DEPTHS_ASKS = 1
DEPTHS_BIDS = 2
DEPTHS_FROM_VERSION = 4  # a decimal string
DEPTHS_TO_VERSION = 5
LEVEL_PRICE = 1
LEVEL_QUANTITY = 2
# PublicAggreDealsV3Api, and its PublicAggreDealsV3ApiItem
DEALS_ITEMS = 1
DEAL_PRICE = 1
DEAL_QUANTITY = 2
DEAL_TRADE_TYPE = 3  # 1 = buy, 2 = sell (the taker's side)
DEAL_TIME = 4  # int64 ms
DEAL_TRADE_ID = 5  # newer schema versions only
# one-byte keys of length-delimited fields: field number << 3 | wire type 2
_ASK_KEY = DEPTHS_ASKS << 3 | LEN
_BID_KEY = DEPTHS_BIDS << 3 | LEN
_PRICE_KEY = LEVEL_PRICE << 3 | LEN
_QUANTITY_KEY = LEVEL_QUANTITY << 3 | LEN

# PublicSpotKlineV3Api: interval 1, windowStart 2 (s), opening 3, closing 4, highest 5, lowest 6 prices,
# volume 7 (base), amount 8 (quote), windowEnd 9 (s)
KLINE_START, KLINE_END = 2, 9
# PublicMiniTickerV3Api: symbol 1, price 2, rate 3, zonedRate 4, high 5, low 6, volume 7 (quote), quantity 8 (base)
TICKER_FIELDS = 8
# crossbook's intervals -> MEXC's kline stream names (MEXC also has Min30, Hour8, Week1, Month1)
INTERVAL_NAMES: dict[Interval, str] = {
    Interval.M1: "Min1", Interval.M5: "Min5", Interval.M15: "Min15", Interval.H1: "Min60", Interval.H4: "Hour4",
    Interval.D1: "Day1",
}
KLINE_INTERVALS = {name: interval for interval, name in INTERVAL_NAMES.items()}
# the same intervals as REST /api/v3/klines names them
REST_INTERVALS: dict[Interval, str] = {
    Interval.M1: "1m", Interval.M5: "5m", Interval.M15: "15m", Interval.H1: "60m", Interval.H4: "4h", Interval.D1: "1d",
}
KLINES_LIMIT = 1000
ONLINE = "1"  # exchangeInfo status: 1 online, 2 paused, 3 offline
PENDING_MAX = 2000  # pushes buffered per book while its snapshot is on the way

Level = tuple[str, str]


# what one public socket may hold: a subscription past the 30th is refused
SUBSCRIBE_LIMITS = SubscribeLimits(
    "mexcdevelop.github.io/apidocs/spot_v3_en (WebSocket market streams): one connection supports at most "
    "30 subscriptions", topics_per_connection=30,
)


@dataclass(slots=True)
class DepthPush:
    bids: list[Level]
    asks: list[Level]
    from_version: int
    to_version: int


@dataclass(slots=True)
class Deal:
    price: str
    quantity: str
    buy: bool
    time_ms: int
    trade_id: str


@dataclass(slots=True)
class Push:
    """One decoded ``PushDataV3ApiWrapper``; ``depth`` or ``deals`` is set by its body."""

    channel: str
    symbol: str
    send_time_ms: int
    depth: DepthPush | None = None
    deals: list[Deal] | None = None
    kline: bytes | None = None  # an undecoded PublicSpotKlineV3Api
    ticker: bytes | None = None  # an undecoded PublicMiniTickerV3Api


# ---- protobuf decoding ---------------------------------------------------------------------


def decode_push(frame: bytes) -> Push:
    push = Push("", "", 0)
    for field, value in fields(frame):
        if field == WRAPPER_AGGRE_DEPTHS:
            push.depth = decode_depths(as_bytes(value))
        elif field == WRAPPER_AGGRE_DEALS:
            push.deals = decode_deals(as_bytes(value))
        elif field == WRAPPER_KLINE:
            push.kline = as_bytes(value)
        elif field == WRAPPER_MINI_TICKER:
            push.ticker = as_bytes(value)
        elif field == WRAPPER_CHANNEL:
            push.channel = as_str(value)
        elif field == WRAPPER_SYMBOL:
            push.symbol = as_str(value)
        elif field == WRAPPER_SEND_TIME:
            push.send_time_ms = signed64(as_int(value))
    if not push.symbol:  # optional in the schema; the channel ends with it
        push.symbol = push.channel.rpartition("@")[2]
    return push


def decode_depths(body: bytes) -> DepthPush:
    bids: list[Level] = []
    asks: list[Level] = []
    versions = {DEPTHS_FROM_VERSION: "", DEPTHS_TO_VERSION: ""}
    pos = 0
    stop = len(body)
    while pos < stop:
        key = body[pos]
        if key in (_ASK_KEY, _BID_KEY) and pos + 1 < stop and body[pos + 1] < 0x80:
            end = pos + 2 + body[pos + 1]  # a level shorter than 128 bytes: the common case, inlined
            if end > stop:
                raise DecodeError("a depth level runs past the end of its message")
            (asks if key == _ASK_KEY else bids).append(_level(body[pos + 2 : end]))
            pos = end
            continue
        field, value, pos = read_field(body, pos)
        if field == DEPTHS_BIDS:
            bids.append(_level(as_bytes(value)))
        elif field == DEPTHS_ASKS:
            asks.append(_level(as_bytes(value)))
        elif field in versions:
            versions[field] = as_str(value)
    try:
        return DepthPush(bids, asks, int(versions[DEPTHS_FROM_VERSION]), int(versions[DEPTHS_TO_VERSION]))
    except ValueError:
        raise DecodeError(f"depth push without versions: {versions}") from None


def _level(item: bytes) -> Level:
    # fast path: the canonical layout, price (key 0x0A) then quantity (key 0x12), both non-empty
    # and shorter than 128 bytes so each length takes one byte
    size = len(item)
    if size > 3 and item[0] == _PRICE_KEY and 0 < item[1] < 0x80:
        mid = 2 + item[1]
        if mid + 2 < size and item[mid] == _QUANTITY_KEY and 0 < item[mid + 1] < 0x80 and mid + 2 + item[mid + 1] == size:
            try:
                return item[2:mid].decode(), item[mid + 2 :].decode()
            except UnicodeDecodeError:
                pass  # the general walk reports it
    return _level_any_layout(item)


def _level_any_layout(item: bytes) -> Level:
    price = quantity = ""
    for field, value in fields(item):
        if field == LEVEL_PRICE:
            price = as_str(value)
        elif field == LEVEL_QUANTITY:
            quantity = as_str(value)
    if not price or not quantity:
        raise DecodeError(f"depth level without price or quantity: {item!r}")
    return price, quantity


def decode_deals(body: bytes) -> list[Deal]:
    return [_deal(as_bytes(value)) for field, value in fields(body) if field == DEALS_ITEMS]


def _deal(item: bytes) -> Deal:
    deal = Deal("", "", False, 0, "")
    for field, value in fields(item):
        if field == DEAL_PRICE:
            deal.price = as_str(value)
        elif field == DEAL_QUANTITY:
            deal.quantity = as_str(value)
        elif field == DEAL_TRADE_TYPE:
            deal.buy = as_int(value) == 1
        elif field == DEAL_TIME:
            deal.time_ms = signed64(as_int(value))
        elif field == DEAL_TRADE_ID:
            deal.trade_id = as_str(value)
    if not deal.price or not deal.quantity:
        raise DecodeError(f"deal without price or quantity: {item!r}")
    return deal


def decode_strings(body: bytes, count: int) -> list[str]:
    """Fields 1..``count`` of a flat message as strings (a varint as its decimal text, a field not
    sent as ""), by field number: one list, no object per field."""
    out = [""] * (count + 1)
    for field, value in fields(body):
        if field <= count:
            out[field] = value.decode() if isinstance(value, bytes) else str(signed64(value))
    return out


# ---- the feed ------------------------------------------------------------------------------


class MexcSpot(FeedHandler):
    book_markers = (b"depth",)  # an unreadable frame resyncs a book only if it carries these
    venue = "mexc"
    product = "spot"
    ws_url = "wss://wbs-api.mexc.com"
    rest_url = "https://api.mexc.com"
    url_hosts = ("wbs-api.mexc.com", "api.mexc.com")
    resync_by = Resync.SNAPSHOT
    max_streams = SUBSCRIBE_LIMITS.topics_per_connection or 30
    streams_per_symbol = 2
    ping_interval = 20.0
    # with a PONG every 20 s a healthy socket is never quiet this long; the venue itself cuts a
    # subscribed socket after 60 s without data
    stale_after = 60.0
    ws_path: ClassVar[str] = "/ws"
    depth_path: ClassVar[str] = "/api/v3/depth"
    depth_limit: ClassVar[int] = 5000  # what the sync procedure asks for; weight 1
    info_path: ClassVar[str] = "/api/v3/exchangeInfo"
    depth_stream: ClassVar[str] = "spot@public.aggre.depth.v3.api.pb@100ms"
    deals_stream: ClassVar[str] = "spot@public.aggre.deals.v3.api.pb@100ms"
    kline_stream: ClassVar[str] = "spot@public.kline.v3.api.pb"
    ticker_stream: ClassVar[str] = "spot@public.miniTicker.v3.api.pb"
    ticker_zone: ClassVar[str] = "UTC+8"
    klines_path: ClassVar[str] = "/api/v3/klines"
    interval_names = INTERVAL_NAMES

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pending: dict[str, deque[DepthPush]] = {}

    # ---- subscribe -----------------------------------------------------------------------

    def connect_url(self, natives: list[str]) -> str:
        return f"{self.ws_base}{self.ws_path}"

    def subscribe_messages(self, natives: list[str]) -> list[Frame]:
        return [self._request("SUBSCRIPTION", natives)]

    def unsubscribe_messages(self, natives: list[str]) -> list[Frame]:
        return [self._request("UNSUBSCRIPTION", natives)]

    def _request(self, method: str, natives: list[str]) -> bytes:
        params = [p for n in natives for p in (f"{self.depth_stream}@{n}", f"{self.deals_stream}@{n}", *self.market_params(n))]
        return orjson.dumps({"method": method, "params": params})

    def market_params(self, native: str) -> list[str]:
        """The kline and miniTicker streams of ``native`` (the symbol before the interval or zone)."""
        params = [f"{self.kline_stream}@{native}@{self.interval_names[i]}" for i in self.channels.candles]
        return [f"{self.ticker_stream}@{native}@{self.ticker_zone}", *params] if self.channels.ticker else params

    @classmethod
    def market_streams(cls, channels: Channels) -> int:
        return len(channels.candles) + (1 if channels.ticker else 0)

    def ping_message(self) -> Frame:
        return b'{"method":"PING"}'

    # ---- frames (hot path) ---------------------------------------------------------------

    def on_frame(self, data: Frame, ts: float) -> None:
        self.link.last_rx = ts
        self.messages += 1
        if isinstance(data, str) or data[:1] == b"{":
            self.on_json(data)
            return
        try:
            push = decode_push(data)
        except DecodeError as exc:
            self.errors += 1
            self.frame_failed(data, exc)
            return
        if push.depth is not None:
            self.on_depth(push.symbol, push.depth, push.send_time_ms, ts)
        elif push.deals is not None:
            self.on_deals(push.symbol, push.deals)
        elif push.kline is not None:
            self.on_kline(push.symbol, push.kline, push.send_time_ms)
        elif push.ticker is not None:
            self.on_mini_ticker(push.symbol, push.ticker, push.send_time_ms / 1000.0 if push.send_time_ms else ts)

    def on_json(self, data: Frame) -> None:
        """Subscription acks and PONGs; a refused subscription is acked with code 0 too."""
        try:
            msg = loads(data)
        except orjson.JSONDecodeError:
            self.errors += 1
            return
        if not isinstance(msg, dict) or "msg" not in msg:
            self.errors += 1
            return
        if msg.get("code") != 0 or str(msg["msg"]).startswith("Not Subscribed"):
            log.warning("mexc refused a request: %s", msg)

    def on_depth(self, native: str, push: DepthPush, send_time_ms: int, ts: float) -> None:
        book = self.books.get(native) or self.book(native)
        if book is None:
            return
        if send_time_ms:  # optional in the schema
            self.latency.add(send_time_ms / 1000.0, ts)
        if book.state is not BookState.LIVE:
            self._buffer(native, push, ts)
            return
        if push.from_version - 1 != book.seq:
            self.resync(native, "gap")
            self._buffer(native, push, ts)
            return
        book.update(push.bids, push.asks)
        book.seq = push.to_version
        book.updated_at = ts
        book.stats.updates += 1

    def _buffer(self, native: str, push: DepthPush, ts: float) -> None:
        pending = self.pending.get(native)
        if pending is None:
            pending = self.pending[native] = deque(maxlen=PENDING_MAX)
        pending.append(push)
        self._drain(native, ts)

    def on_deals(self, native: str, deals: list[Deal]) -> None:
        symbol = self.symbols.get(native, native)
        for deal in deals:
            self.emit_trade(
                Trade(
                    venue=self.venue,
                    symbol=symbol,
                    price=float(deal.price),
                    amount=float(deal.quantity),
                    side=Side.BUY if deal.buy else Side.SELL,
                    ts=deal.time_ms / 1000.0,
                    trade_id=deal.trade_id,
                )
            )

    # ---- market data beyond the book -------------------------------------------------------

    def on_kline(self, native: str, body: bytes, send_time_ms: int) -> None:
        """``PublicSpotKlineV3Api`` (shown as MEXC's docs decode it to JSON):
        {"channel":"spot@public.kline.v3.api.pb@BTCUSDT@Min15","symbol":"BTCUSDT","sendTime":1736410200121,
        "publicSpotKline":{"interval":"Min15","windowStart":1736409600,"openingPrice":"94500.49",
        "closingPrice":"94545.01","highestPrice":"94561.56","lowestPrice":"94488.85","volume":"12.93",
        "amount":"1222262.14","windowEnd":1736410500}}"""
        k = decode_strings(body, KLINE_END)
        interval = KLINE_INTERVALS.get(k[1])
        if interval is None:
            return  # Min30, Hour8, Week1, Month1: not kept
        closed = send_time_ms >= int(k[KLINE_END]) * 1000
        self.emit_candle(Candle(self.venue, self.symbols.get(native, native), interval, float(k[KLINE_START]), float(k[3]),
                                float(k[5]), float(k[6]), float(k[4]), float(k[7]), float(k[8]), closed), native)

    def on_mini_ticker(self, native: str, body: bytes, ts: float) -> None:
        """``PublicMiniTickerV3Api``: the open is ``price / (1 + rate)``; MEXC sends no touch:
        {"channel":"spot@public.miniTicker.v3.api.pb@BTCUSDT@UTC+8","symbol":"BTCUSDT","sendTime":1736412107015,
        "publicMiniTicker":{"symbol":"BTCUSDT","price":"94600.12","rate":"-0.0161","zonedRate":"-0.0105",
        "high":"97265.6","low":"93911.05","volume":"1327427580.28","quantity":"13868.12","lastCloseRate":"-0.0165",
        "lastCloseZonedRate":"-0.0105","lastCloseHigh":"97265.6","lastCloseLow":"93911.05"}}"""
        t = decode_strings(body, TICKER_FIELDS)
        last = float(t[2])
        rate = float(t[3]) if t[3] else None
        self.emit_market(Ticker(self.venue, self.symbols.get(native, native), ts,
                                last / (1 + rate) if rate is not None and rate != -1 else None, float(t[5]), float(t[6]),
                                last, float(t[8]), float(t[7]), None, None))

    def candles_url(self, gap: Gap) -> str:
        end = int(gap.end * 1000) + gap.interval.seconds * 1000 - 1
        return (f"{self.rest_base}{self.klines_path}?symbol={gap.native}&interval={REST_INTERVALS[gap.interval]}"
                f"&startTime={int(gap.start * 1000)}&endTime={end}&limit={KLINES_LIMIT}")

    def parse_candles(self, gap: Gap, body: bytes | str) -> list[Candle]:
        """``GET /api/v3/klines``, oldest first: open time, OHLC, base volume, close time, quote volume
        (a gap's candles all precede one that has opened: final):
        [[1640804880000,"47482.36","47482.36","47416.57","47436.1","3.550717",1640804940000,"168387.3"]]"""
        rows = loads(body)
        if not isinstance(rows, list):
            raise VenueUnavailable(f"mexc klines: {rows}")
        symbol = self.symbols.get(gap.native, gap.native)
        return [Candle(self.venue, symbol, gap.interval, r[0] / 1000.0, float(r[1]), float(r[2]), float(r[3]), float(r[4]),
                       float(r[5]), float(r[7]), True) for r in rows]

    # ---- snapshots -----------------------------------------------------------------------

    def snapshot_url(self, native: str) -> str:
        return f"{self.rest_base}{self.depth_path}?symbol={native}&limit={self.depth_limit}"

    def snapshot_native(self, url: str) -> str | None:
        return query_param(url, self.depth_path, "symbol")

    def on_snapshot(self, native: str, body: bytes | str, ts: float) -> None:
        book = self.book(native)
        if book is None:
            return
        snap = loads(body)
        book.snapshot(snap["bids"], snap["asks"])
        book.seq = int(snap["lastUpdateId"])  # documented as a long; older replies sent a string
        book.updated_at = ts
        self._drain(native, ts)

    def _drain(self, native: str, ts: float) -> None:
        """Apply buffered pushes on top of the snapshot, once it is in; the book goes live at the
        first push that covers ``lastUpdateId + 1``."""
        book = self.books[native]
        seq = book.seq
        if seq is None:
            return
        for push in self.pending.pop(native, ()):
            if book.state is BookState.LIVE:
                if push.from_version != seq + 1:
                    self.resync(native, "gap")
                    return
            elif push.to_version <= seq:
                continue  # already in the snapshot
            elif push.from_version > seq + 1:
                self.resync(native, "stale snapshot")  # the snapshot predates the first push
                return
            else:
                self.go_live(book)
            book.update(push.bids, push.asks)
            seq = book.seq = push.to_version
            book.updated_at = ts
            book.stats.updates += 1

    def reset_sync(self, native: str) -> None:
        self.pending.pop(native, None)

    # ---- instruments ---------------------------------------------------------------------

    def instruments_urls(self) -> list[str]:
        return [f"{self.rest_base}{self.info_path}"]

    def parse_instruments(self, bodies: list[bytes]) -> list[Instrument]:
        return [self._instrument(s) for s in loads(bodies[0])["symbols"] if str(s.get("status")) == ONLINE]

    def _instrument(self, s: dict[str, Any]) -> Instrument:
        base, quote = s["baseAsset"], s["quoteAsset"]
        return Instrument(
            venue=self.venue,
            native=s["symbol"],
            symbol=standard_symbol(base, quote, Kind.SPOT),
            base=base,
            quote=quote,
            kind=Kind.SPOT,
            # MEXC lists no tick or step size, only decimal places
            tick=_step(s.get("quotePrecision")),
            lot=_step(s.get("baseAssetPrecision")),
        )


def _step(places: int | str | None) -> float:
    return float(f"1e-{int(places)}") if places is not None else 0.0


def stream_trade(trade: Mapping[str, Any]) -> Mapping[str, Any]:
    """A fill from the private deals stream with its liquidity put right: the protobuf deal says
    ``isMaker``, and ccxt.pro 4.5.90 reads only the JSON stream's ``m`` (so every protobuf fill
    would be a taker's)."""
    info = trade.get("info")
    if not isinstance(info, Mapping) or "isMaker" not in info:
        return trade
    return {**trade, "takerOrMaker": "maker" if info["isMaker"] else "taker"}


async def withdraw_addresses(client: Any) -> list[VenueAddress]:
    """``GET /api/v3/capital/withdraw/address``: the account's withdrawal address book, page by page."""
    found: list[VenueAddress] = []
    page = 1
    while True:
        reply = await client.spotPrivateGetCapitalWithdrawAddress({"page": page, "limit": 50})
        found += [VenueAddress(str(r["coin"]), str(r["address"]), r.get("network") or None, r.get("memo") or None)
                  for r in reply.get("data") or []]
        if page >= int(reply.get("totalPage") or 1):
            return found
        page += 1


async def withdrawal_limits(client: Any, asset: str, network: str | None) -> WithdrawalLimits:
    """``GET /api/v3/capital/config/getall``: the network's ``withdrawFee``, ``withdrawMin`` and
    ``withdrawEnable`` (the coin's only network when none is named)."""
    coins = await client.spotPrivateGetCapitalConfigGetall()
    coin = next((c for c in coins if c.get("coin") == asset), None)
    networks = (coin or {}).get("networkList") or []
    chosen = next((n for n in networks if network in (n.get("netWork"), n.get("network"))), None)
    if chosen is None and network is None and len(networks) == 1:
        chosen = networks[0]
    if chosen is None or chosen.get("withdrawFee") is None:
        return WithdrawalLimits(asset, network, None, None, enabled=False)
    return WithdrawalLimits(asset, str(chosen.get("netWork") or chosen["network"]), Decimal(str(chosen["withdrawFee"])),
                            Decimal(str(chosen["withdrawMin"])), bool(chosen.get("withdrawEnable")))


SPEC: VenueSpec[type[FeedHandler]] = VenueSpec(
    venue="mexc",
    kind="cex",
    tier=3,
    ccxt_id="mexc",
    feeds={
        "mexc": MexcSpot,
    },
    # Sources: MEXC spot v3 and contract API docs (mexcdevelop.github.io/apidocs); ccxt 4.5.90
    # ``mexc.features`` (spot: no trigger orders) and ``has`` (margin; no dated futures). Contract
    # order placement has been "under maintenance" for most API users for years (secondary sources
    # only: third-party libraries that work around it).
    capabilities=VenueCapabilities(
        venue="mexc",
        products={
            Product.SPOT: Support.yes(feeds=("mexc",)),
            Product.MARGIN: Support.yes("isolated margin; not checked against MEXC's current docs"),
            Product.LINEAR_PERP: Support.yes("USDT-M; contract order API restricted for most users"),
            Product.INVERSE_PERP: Support.yes("coin-M; contract order API restricted for most users"),
            Product.FUTURES: Support.no(),
            Product.OPTIONS: Support.no(),
        },
        features={
            Feature.LIMIT: Support.yes(),
            Feature.MARKET: Support.yes(),
            Feature.STOP: Support.yes("contract plan orders; spot v3 has no stop orders", only=PERPETUALS),
            Feature.STOP_LIMIT: Support.yes("contract plan orders; spot v3 has no stop orders", only=PERPETUALS),
            Feature.POST_ONLY: Support.yes("LIMIT_MAKER on spot"),
            Feature.IOC: Support.yes("IMMEDIATE_OR_CANCEL on spot"),
            Feature.FOK: Support.yes("FILL_OR_KILL on spot"),
            Feature.REDUCE_ONLY: Support.yes(only=PERPETUALS),
            Feature.ICEBERG: Support.no(),
            Feature.OCO: Support.no(),
            Feature.TP_SL: Support.yes("stopLossPrice / takeProfitPrice on contract orders", only=PERPETUALS),
            Feature.HEDGE_MODE: Support.yes("contract positionMode", only=PERPETUALS),
            Feature.CROSS_MARGIN: Support.yes("contract openType 2", only=PERPETUALS),
            Feature.ISOLATED_MARGIN: Support.yes("contract openType 1; spot margin is isolated"),
            Feature.UNIFIED_ACCOUNT: Support.no(),
            Feature.PORTFOLIO_MARGIN: Support.no(),
            Feature.SUB_ACCOUNTS: Support.yes("virtual sub-accounts"),
            Feature.TESTNET: Support.no(),
            Feature.KEY_PERMISSIONS: Support.no("none documented: audited from a read call and the declared permissions"),
        },
    ).traded((Product.SPOT, *BASIC_ORDERS, Feature.SUB_ACCOUNTS)),
    # REST limits (mexcdevelop.github.io/apidocs/spot_v3_en/#limits): each endpoint has its own 500 per
    # 10 s, per IP or per account as the endpoint is marked, in the endpoint's weight (weights as in ccxt
    # 4.5.90, at least the documented ones); the contract API that ccxt calls for swap markets allows 20
    # per 2 s per IP.
    limits=LimitTable(
        venue="mexc",
        pools=(
            Window("ip", 500, 10, per_endpoint=True),
            Window("uid", 500, 10, Scope.ACCOUNT, per_endpoint=True),
            Window("contract", 20, 2),
        ),
        endpoints={
            "GET /api/v3/capital/config/getall": {"ip": 10},
            "GET /api/v3/exchangeInfo": {"ip": 25},
            "GET /api/v1/contract/detail": {"contract": 1},
            "GET /api/v3/depth": {"ip": 3},
            "GET /api/v3/account": {"ip": 10},
            "POST /api/v3/order": {"ip": 1, "uid": 1},
            "DELETE /api/v3/order": {"ip": 1},
            "GET /api/v3/order": {"ip": 2},
            "GET /api/v3/openOrders": {"ip": 3},
            "GET /api/v3/myTrades": {"ip": 10},
        },
        default={"ip": 10},
        # 429 with Retry-After; repeat offenders get 418 bans of 2 min to 3 days.
        breach=Breach(statuses={429: 10.0, 418: 120.0}, code_field="code", codes={"429": 10.0, "510": 10.0}),
        subscribe={"mexc": SUBSCRIBE_LIMITS},
    ),
    # the request an unmodified ccxt client places a spot order with (dYdX: its order transaction);
    # the router asks the limiter how many of these the venue grants now
    order_endpoint="POST /api/v3/order",
    # the client order id this venue accepts (crossbook derives one per journaled order)
    client_id=ClientIdRule(
        "mexc", "newClientOrderId", "clientOrderId", r"[A-Za-z0-9_-]{1,32}", IdStyle.TOKEN,
        "MEXC v3 newClientOrderId (futures: externalOid): the docs state no limit; hummingbot's "
        "MEXC connector caps it at 32",
    ),
    # Fees (mexc.com/fee; mexc.com/learn/article/how-to-use-mx-token-for-mexc-trading-fee-discounts-get-
    # up-to-50-off/1): one tier, zero maker fee; some pairs trade at 0 / 0. Paying with MX: 20% off
    # spot and USDT-M futures.
    fees=FeeSchedule(
        venue="mexc",
        spot=(FeeTier("Regular", 0, 0.0, 0.0005),),
        derivatives=(FeeTier("Regular", 0, 0.0, 0.0002),),
        discount_token="MX",
        discounts={Kind.SPOT: 0.20, Kind.PERP: 0.20},
    ),
    stream_trade=stream_trade,
    # the fee comes out of the amount (ccxt subtracts it from the history's amount)
    withdrawals=WithdrawalRules("withdrawOrderId", address_book=withdraw_addresses, limits=withdrawal_limits),
)
