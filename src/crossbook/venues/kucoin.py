"""KuCoin spot: ``/market/level2`` increments synced against a REST snapshot, ``/market/match`` trades.

Connecting needs a token: POST /api/v1/bullet-public answers the token, the endpoint to open and the
``pingInterval`` the client must keep (``{"type":"ping"}`` -> ``{"type":"pong"}``).

Sync (docs: kucoin.com/docs-new, "Orderbook - Increment"): cache the increments, GET a snapshot
with its ``sequence``, replay the cache. Every change carries its own sequence number and a
message covers ``sequenceStart..sequenceEnd``; a message continues the book when
``sequenceStart <= last + 1``, changes numbered ``<= last`` are already in it, a change with price
"0" only consumes its number, size "0" deletes. ``sequenceStart > last + 1`` is a gap: resync.

Snapshot depth: the full book (/api/v3/market/orderbook/level2, what the recorded capture used)
needs an API key, so live sync uses the public /api/v1/market/orderbook/level2_100. Levels past the
100th are then unknown: the handler remembers the price window the snapshot vouched for. Every
change the stream brings is exact (sizes are absolute), so the book stays right while its top is
inside that window; once the top has left it, a level that rested beyond the window and never
changed could be missing, and the book is refreshed from a new snapshot (at most once per
``depth_refresh_after`` seconds, so a fast market does not turn into a snapshot storm).

Beside books and trades: ``/market/snapshot:{symbol}`` (the rolling day and the touch, every 2 s)
and ``/market/candles:{symbol}_{type}`` (``trade.candles.update`` on each trade, ``trade.candles.add``
when a new candle starts). KuCoin sends no final candle: a candle closes when a later one comes,
and one never seen (a lost frame, a reconnect) is repaired from REST ``/api/v1/market/candles``.
``/market/ticker`` (last trade and the touch, no day), which recorded traffic carries, is read too.
"""

from __future__ import annotations

import logging
import math
import uuid
from dataclasses import replace
from typing import Any, ClassVar, NamedTuple
from urllib.parse import urlencode

import orjson

from ..errors import VenueUnavailable
from ..feeds.candles import Gap
from ..feeds.handler import Channels, FeedHandler, Frame, Resync, query_param
from ..model import BookState, Candle, Instrument, Interval, Kind, Side, Ticker, Trade
from ..symbols import standard_symbol
from .spec import VenueSpec
from .spec.capabilities import (
    BASIC_ORDERS,
    CONTRACTS,
    DERIVATIVES,
    SPOT_BOOK,
    Feature,
    IcebergParam,
    OrderWire,
    Product,
    Support,
    VenueCapabilities,
)
from .spec.client_ids import ClientIdRule, IdStyle
from .spec.fees import FeeSchedule, FeeTier
from .spec.keys import KeyPermissions, from_ms, ip_list
from .spec.limits import Breach, LimitTable, Scope, SubscribeLimits
from .spec.limits import Window as LimitWindow
from .spec.withdrawals import WithdrawalRules

loads = orjson.loads
log = logging.getLogger(__name__)

OK = "200000"
# what one public socket may send (kucoin.com/docs-new, WebSocket rate limits): 100 messages per
# 10 s, at most 100 topics in one subscribe, 400 topics per connection; over them the server
# answers an error frame and ignores the request
SUBSCRIBE_LIMITS = SubscribeLimits(
    "kucoin.com/docs-new/websocket-api/base-info/introduction: 100 messages per 10 s, 100 topics per "
    "subscribe, 400 topics per connection (spot)",
    messages=LimitWindow("uplink messages", 100, 10), topics_per_message=100, topics_per_connection=400,
)
PARTIAL_DEPTHS = (20, 100)  # what /level2_20 and /level2_100 return when the book is deeper
SNAPSHOT_PATHS = (
    "/api/v1/market/orderbook/level2_20",
    "/api/v1/market/orderbook/level2_100",
    "/api/v1/market/orderbook/level2",
    "/api/v2/market/orderbook/level2",
    "/api/v3/market/orderbook/level2",
)

CANDLES_PATH = "/api/v1/market/candles"
# crossbook's intervals -> KuCoin's candle types (KuCoin also has 3min, 30min, 2hour ... 1month)
INTERVAL_NAMES: dict[Interval, str] = {
    Interval.M1: "1min", Interval.M5: "5min", Interval.M15: "15min", Interval.H1: "1hour", Interval.H4: "4hour",
    Interval.D1: "1day",
}
BY_TYPE = {name: interval for interval, name in INTERVAL_NAMES.items()}


class Window(NamedTuple):
    """Prices a partial snapshot vouched for: bids >= floor, asks <= ceiling (0 / inf: whole side)."""

    floor: float
    ceiling: float
    taken: float


def _priced(levels: list[list[str]]) -> list[list[str]]:
    return [lv for lv in levels if lv[0] != "0"]


def _newer(levels: list[list[str]], last: int) -> list[list[str]]:
    return [lv for lv in levels if lv[0] != "0" and int(lv[2]) > last]


class KucoinSpot(FeedHandler):
    book_markers = (b"level2", b"l2update")  # an unreadable frame resyncs a book only if it carries these
    venue = "kucoin"
    product = "spot"
    ws_url = "wss://ws-api-spot.kucoin.com"  # the bullet names the endpoint to use
    rest_url = "https://api.kucoin.com"
    url_hosts = ("api.kucoin.com", "ws-api-spot.kucoin.com", "push-private.kucoin.com", "push1-v2.kucoin.com")
    resync_by = Resync.SNAPSHOT
    max_streams = 400  # topics per connection (spot)
    streams_per_symbol = 2
    ping_interval = 18.0  # replaced by the bullet's pingInterval on every connect
    stale_after = 28.0  # pingInterval + pingTimeout: a pong is due at least every 18 s
    bullet_path: ClassVar[str] = "/api/v1/bullet-public"
    symbols_path: ClassVar[str] = "/api/v2/symbols"
    snapshot_path: ClassVar[str] = "/api/v1/market/orderbook/level2_100"
    topics_per_message: ClassVar[int] = SUBSCRIBE_LIMITS.topics_per_message or 100
    depth_refresh_after: ClassVar[float] = 60.0
    interval_names = INTERVAL_NAMES

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pending: dict[str, list[dict[str, Any]]] = {}
        self.windows: dict[str, Window] = {}
        self.token = ""
        self.endpoint = ""
        self._request_id = 0
        self.forming: dict[tuple[str, Interval], Candle] = {}  # each stream's newest candle, closed by a later one

    # ---- connect -------------------------------------------------------------------------

    async def prepare(self, session: Any) -> None:
        async with session.post(f"{self.rest_base}{self.bullet_path}") as resp:
            self.use_bullet(await resp.read())

    def use_bullet(self, body: bytes | str) -> None:
        msg = loads(body)
        if msg.get("code") != OK:
            raise VenueUnavailable(f"kucoin bullet-public refused: {msg.get('code')} {msg.get('msg')}")
        server = msg["data"]["instanceServers"][0]
        self.token = msg["data"]["token"]
        self.endpoint = server["endpoint"]
        self.ping_interval = server["pingInterval"] / 1000.0  # type: ignore[misc]  # per connection

    def connect_url(self, natives: list[str]) -> str:
        if not self.token:
            raise VenueUnavailable("kucoin: no bullet token; prepare() runs before every connect")
        return f"{self.endpoint}?{urlencode({'token': self.token, 'connectId': uuid.uuid4().hex})}"

    def subscribe_messages(self, natives: list[str]) -> list[Frame]:
        return self._requests("subscribe", natives)

    def unsubscribe_messages(self, natives: list[str]) -> list[Frame]:
        return self._requests("unsubscribe", natives)

    def _requests(self, kind: str, natives: list[str]) -> list[Frame]:
        step = self.topics_per_message
        channels = ("/market/level2", "/market/match", *(("/market/snapshot",) if self.channels.ticker else ()))
        frames: list[Frame] = [
            self._request(kind, f"{channel}:{','.join(natives[i : i + step])}")
            for channel in channels
            for i in range(0, len(natives), step)
        ]
        frames += [self._request(kind, f"/market/candles:{n}_{self.interval_names[i]}") for n in natives for i in self.channels.candles]
        return frames

    @classmethod
    def market_streams(cls, channels: Channels) -> int:
        return len(channels.candles) + (1 if channels.ticker else 0)

    def _request(self, kind: str, topic: str) -> bytes:
        self._request_id += 1
        return orjson.dumps(
            {"id": self._request_id, "type": kind, "topic": topic, "privateChannel": False, "response": True}
        )

    def ping_message(self) -> Frame | None:
        self._request_id += 1
        return orjson.dumps({"id": str(self._request_id), "type": "ping"})

    # ---- frames (hot path) ---------------------------------------------------------------

    def on_frame(self, data: Frame, ts: float) -> None:
        self.link.last_rx = ts
        self.messages += 1
        msg = loads(data)
        kind = msg.get("type")
        if kind == "message":
            subject = msg.get("subject")
            if subject == "trade.l2update":
                self.on_level2(msg["data"], ts)
            elif subject == "trade.l3match":
                self.on_match(msg["data"])
            elif subject == "trade.snapshot":
                self.on_market_snapshot(msg["data"]["data"])
            elif subject == "trade.ticker":
                self.on_ticker(msg["topic"], msg["data"])
            elif subject in ("trade.candles.update", "trade.candles.add"):
                self.on_candle(msg["topic"], msg["data"])
        elif kind == "error":
            self.errors += 1
            log.warning("kucoin error frame: %s", msg)
        # welcome, ack and pong need nothing

    def on_level2(self, data: dict[str, Any], ts: float) -> None:
        native = data["symbol"]
        book = self.books.get(native) or self.book(native)
        if book is None:
            return
        event_ms = data.get("time")  # absent in 2021 traffic
        if event_ms:
            self.latency.add(event_ms / 1000.0, ts)
        if book.state is not BookState.LIVE:
            self._buffer(native, data, ts)
            return
        last = book.seq
        assert last is not None  # a live book always holds its sequence
        if data["sequenceStart"] > last + 1:
            self.resync(native, "gap")
            self._buffer(native, data, ts)
            return
        if data["sequenceEnd"] > last:
            self._apply(native, data, ts)
            self._check_window(native, ts)

    def _apply(self, native: str, data: dict[str, Any], ts: float) -> None:
        book = self.books[native]
        last = book.seq
        assert last is not None
        changes = data["changes"]
        if data["sequenceStart"] > last:
            book.update(_priced(changes["bids"]), _priced(changes["asks"]))
        else:  # overlaps the snapshot: changes numbered <= last are in it already
            book.update(_newer(changes["bids"], last), _newer(changes["asks"], last))
        book.seq = data["sequenceEnd"]
        book.updated_at = ts
        book.stats.updates += 1

    def _buffer(self, native: str, data: dict[str, Any], ts: float) -> None:
        self.pending.setdefault(native, []).append(data)
        if self.books[native].seq is not None:  # snapshot in, no message has bridged it yet
            self._drain(native, ts)

    def _drain(self, native: str, ts: float) -> None:
        """Replay the cache onto the snapshot. The first cached message that starts at or before
        ``snapshot + 1`` proves the stream covers everything after the snapshot: the book is live."""
        book = self.books[native]
        for data in self.pending.pop(native, []):
            assert book.seq is not None
            if data["sequenceStart"] > book.seq + 1:
                self.resync(native, "gap" if book.state is BookState.LIVE else "stale snapshot")
                return
            if book.state is not BookState.LIVE:
                self.go_live(book)
            if data["sequenceEnd"] > book.seq:
                self._apply(native, data, ts)

    def _check_window(self, native: str, ts: float) -> None:
        window = self.windows.get(native)
        if window is None or ts - window.taken < self.depth_refresh_after:
            return
        book = self.books[native]
        bid, ask = book.best_bid(), book.best_ask()
        left = (window.floor > 0.0 and (bid is None or bid[0] < window.floor)) or (
            window.ceiling < math.inf and (ask is None or ask[0] > window.ceiling)
        )
        if left:
            self.resync(native, "depth")

    def on_match(self, data: dict[str, Any]) -> None:
        native = data["symbol"]
        self.emit_trade(
            Trade(
                venue=self.venue,
                symbol=self.symbols.get(native, native),
                price=float(data["price"]),
                amount=float(data["size"]),
                side=Side.BUY if data["side"] == "buy" else Side.SELL,  # the taker's side
                ts=int(data["time"]) / 1e9,
                trade_id=data["tradeId"],
            )
        )

    # ---- market data beyond the book -------------------------------------------------------

    def symbol(self, native: str) -> str:
        return self.symbols.get(native, native)

    def on_market_snapshot(self, d: dict[str, Any]) -> None:
        """``/market/snapshot``: the rolling day (``vol`` base, ``volValue`` quote) and the touch
        (``buy``, ``sell``), numbers not strings; the open is the last less ``changePrice``:
        {"type":"message","topic":"/market/snapshot:KCS-BTC","subject":"trade.snapshot","data":{"sequence":
        "1545896669291","data":{"trading":true,"symbol":"KCS-BTC","buy":0.00011,"sell":0.00012,"sort":100,
        "volValue":3.13851792584,"baseCurrency":"KCS","market":"BTC","quoteCurrency":"BTC","symbolCode":"KCS-BTC",
        "datetime":1548388122031,"high":0.00013,"vol":27514.34842,"low":0.0001,"changePrice":-1.0e-5,
        "changeRate":-0.0769,"lastTradedPrice":0.00012,"board":0,"mark":0}}}"""
        last = float(d["lastTradedPrice"])
        self.emit_market(Ticker(self.venue, self.symbol(d["symbol"]), d["datetime"] / 1000.0, last - float(d["changePrice"]),
                                float(d["high"]), float(d["low"]), last, float(d["vol"]), float(d["volValue"]),
                                float(d["buy"]), float(d["sell"])))

    def on_ticker(self, topic: str, d: dict[str, Any]) -> None:
        """``/market/ticker``: the last trade and the touch, no day:
        {"data":{"sequence":"1612844051653","bestAsk":"0.00028717","size":"0.01745248","bestBidSize":"3.70422021",
        "price":"0.00028676","time":1619378326323,"bestAskSize":"14.04274325","bestBid":"0.00028678"},
        "subject":"trade.ticker","topic":"/market/ticker:SNX-BTC","type":"message"}"""
        native = topic.rpartition(":")[2]
        self.emit_market(Ticker(self.venue, self.symbol(native), d["time"] / 1000.0, None, None, None, float(d["price"]),
                                None, None, float(d["bestBid"]), float(d["bestAsk"])))

    def on_candle(self, topic: str, d: dict[str, Any]) -> None:
        """``/market/candles``: start (seconds), open, close, high, low, volume (base), turnover (quote):
        {"data":{"symbol":"BCHSV-USDT","candles":["1619378340","243.17","243.137","243.17","243.137","9.51280965",
        "2313.0649225905"],"time":1619378354806807372},"subject":"trade.candles.add",
        "topic":"/market/candles:BCHSV-USDT_1min","type":"message"}"""
        interval = BY_TYPE.get(topic.rpartition("_")[2])
        if interval is None:
            return  # 3min, 30min, a week, ...: not kept
        native, c = d["symbol"], d["candles"]
        candle = Candle(self.venue, self.symbol(native), interval, float(c[0]), float(c[1]), float(c[3]), float(c[4]),
                        float(c[2]), float(c[5]), float(c[6]), False)
        key = (native, interval)
        held = self.forming.get(key)
        if held is not None and held.open_time > candle.open_time:
            return  # a late frame of a candle already closed
        if held is not None and held.open_time < candle.open_time:
            self.emit_candle(replace(held, closed=True), native)
        self.forming[key] = candle
        self.emit_candle(candle, native)

    def connection_opened(self) -> None:
        super().connection_opened()
        self.forming.clear()  # a candle held across a disconnect may have missed its last trades

    def candles_url(self, gap: Gap) -> str:
        """``startAt`` and ``endAt`` in seconds (the candle at ``endAt`` may be left out: the range ends a
        candle later)."""
        kind, end = self.interval_names[gap.interval], int(gap.end) + gap.interval.seconds
        return f"{self.rest_base}{CANDLES_PATH}?symbol={gap.native}&type={kind}&startAt={int(gap.start)}&endAt={end}"

    def parse_candles(self, gap: Gap, body: bytes | str) -> list[Candle]:
        """``GET /api/v1/market/candles``, newest first, rows as the stream's:
        {"code":"200000","data":[["1545904980","0.058","0.049","0.058","0.049","0.018","0.000945"]]}"""
        msg = loads(body)
        if msg.get("code") != OK:
            raise VenueUnavailable(f"kucoin candles: {msg.get('code')} {msg.get('msg')}")
        symbol = self.symbol(gap.native)
        return [Candle(self.venue, symbol, gap.interval, float(c[0]), float(c[1]), float(c[3]), float(c[4]), float(c[2]),
                       float(c[5]), float(c[6]), True) for c in reversed(msg["data"])]

    # ---- snapshots -----------------------------------------------------------------------

    def snapshot_url(self, native: str) -> str:
        return f"{self.rest_base}{self.snapshot_path}?symbol={native}"

    def snapshot_native(self, url: str) -> str | None:
        return query_param(url, SNAPSHOT_PATHS, "symbol")

    def on_snapshot(self, native: str, body: bytes | str, ts: float) -> None:
        book = self.book(native)
        if book is None:
            return
        msg = loads(body)
        if msg.get("code") != OK:
            self.errors += 1
            log.warning("kucoin %s snapshot refused: %s %s", native, msg.get("code"), msg.get("msg"))
            self.resync(native, "snapshot refused")
            return
        snap = msg["data"]
        book.snapshot(snap["bids"], snap["asks"])
        book.seq = int(snap["sequence"])
        book.updated_at = ts
        self._remember_window(native, snap["bids"], snap["asks"], ts)
        self._drain(native, ts)

    def _remember_window(self, native: str, bids: list[list[str]], asks: list[list[str]], ts: float) -> None:
        floor = float(bids[-1][0]) if len(bids) in PARTIAL_DEPTHS else 0.0
        ceiling = float(asks[-1][0]) if len(asks) in PARTIAL_DEPTHS else math.inf
        if floor or ceiling < math.inf:
            self.windows[native] = Window(floor, ceiling, ts)
        else:
            self.windows.pop(native, None)

    def reset_sync(self, native: str) -> None:
        self.pending.pop(native, None)
        self.windows.pop(native, None)

    # ---- instruments ---------------------------------------------------------------------

    def instruments_urls(self) -> list[str]:
        return [f"{self.rest_base}{self.symbols_path}"]

    def parse_instruments(self, bodies: list[bytes]) -> list[Instrument]:
        return [
            Instrument(
                venue=self.venue,
                native=s["symbol"],
                symbol=standard_symbol(s["baseCurrency"], s["quoteCurrency"]),
                base=s["baseCurrency"],
                quote=s["quoteCurrency"],
                kind=Kind.SPOT,
                tick=float(s["priceIncrement"]),
                lot=float(s["baseIncrement"]),
            )
            for s in loads(bodies[0])["data"]
            if s.get("enableTrading")
        ]


async def key_permissions(client: Any) -> KeyPermissions:
    """``GET /api/v1/user/api-key``: ``permission`` (General, Spot, Margin, Futures,
    InnerTransfer, Transfer: KuCoin's name for withdrawal), ``ipWhitelist`` and ``createdAt``."""
    r = (await client.privateGetUserApiKey()).get("data") or {}
    perms = set(ip_list(r.get("permission")))
    return KeyPermissions(
        read="General" in perms,
        trade=bool(perms & {"Spot", "Margin", "Futures"}),
        withdraw="Transfer" in perms,
        transfer="InnerTransfer" in perms,
        ips=ip_list(r.get("ipWhitelist")),
        created=from_ms(r.get("createdAt")),
        expires=None,
        source="GET /api/v1/user/api-key",
    )


SPEC: VenueSpec[type[FeedHandler]] = VenueSpec(
    venue="kucoin",
    kind="cex",
    tier=2,
    ccxt_id="kucoin",
    feeds={"kucoin": KucoinSpot},
    # Sources: KuCoin spot, margin and futures API docs (www.kucoin.com/docs); the futures products
    # trade on KuCoin Futures (api-futures.kucoin.com, ccxt kucoinfutures); ccxt 4.5.90 features
    # (futures time in force GTC/IOC only) and urls (no test URL).
    capabilities=VenueCapabilities(
        venue="kucoin",
        products={
            Product.SPOT: Support.yes(feeds=("kucoin",)),
            Product.MARGIN: Support.yes("cross and isolated; orders trade the spot book", feeds=("kucoin",)),
            Product.LINEAR_PERP: Support.yes("KuCoin Futures"),
            Product.INVERSE_PERP: Support.yes("KuCoin Futures, coin-margined"),
            Product.FUTURES: Support.yes("KuCoin Futures delivery contracts"),
            Product.OPTIONS: Support.no(),
        },
        features={
            Feature.LIMIT: Support.yes(),
            Feature.MARKET: Support.yes(),
            Feature.STOP: Support.yes(),
            Feature.STOP_LIMIT: Support.yes(),
            Feature.POST_ONLY: Support.yes("postOnly"),
            Feature.IOC: Support.yes(),
            Feature.FOK: Support.yes(only=SPOT_BOOK),
            Feature.REDUCE_ONLY: Support.yes(only=DERIVATIVES),
            Feature.ICEBERG: Support.yes("iceberg with visibleSize"),
            Feature.OCO: Support.yes("POST /api/v3/oco/order", only={Product.SPOT}),
            Feature.TP_SL: Support.yes("futures st-orders", only=CONTRACTS),
            Feature.HEDGE_MODE: Support.yes("futures position mode", only=CONTRACTS),
            Feature.CROSS_MARGIN: Support.yes(),
            Feature.ISOLATED_MARGIN: Support.yes(),
            Feature.UNIFIED_ACCOUNT: Support.yes("Unified Trading Account (/api/ua/v1)"),
            Feature.PORTFOLIO_MARGIN: Support.no(),
            Feature.SUB_ACCOUNTS: Support.yes("flex transfer PARENT_TO_SUB / SUB_TO_PARENT (/api/v3/accounts/universal-transfer)"),
            Feature.TESTNET: Support.no("the sandbox is no longer served"),
            Feature.KEY_PERMISSIONS: Support.yes("GET /api/v1/user/api-key: permission, ipWhitelist, createdAt"),
        },
    ).traded((Feature.KEY_PERMISSIONS,
              Product.SPOT, *BASIC_ORDERS, Feature.SUB_ACCOUNTS, Feature.ICEBERG),
             OrderWire(IcebergParam("visibleSize", {"iceberg": True}))),
    # REST limits (www.kucoin.com/docs-new/rate-limit and each endpoint's api-rate-limit-pool and
    # -weight): classic-account resource pools per 30 s, Spot 4,000 and Management 2,000 per account
    # (VIP0), Public 2,000 per IP. High-frequency (/hf) order endpoints included; the unified account's
    # own endpoints are not, beyond ccxt's mode probe.
    limits=LimitTable(
        venue="kucoin",
        pools=(
            LimitWindow("spot", 4000, 30, Scope.ACCOUNT),
            LimitWindow("management", 2000, 30, Scope.ACCOUNT),
            LimitWindow("public", 2000, 30),
        ),
        endpoints={
            "GET /api/ua/v1/account/mode": {"management": 30},
            "GET /api/v3/currencies": {"public": 3},
            "GET /api/v2/symbols": {"public": 4},
            "GET /api/v3/margin/symbols": {"public": 3},
            "GET /api/v1/isolated/symbols": {"public": 3},
            "GET /api/v1/hf/accounts/opened": {"spot": 2},
            "GET /api/v3/market/orderbook/level2": {"spot": 3},
            "GET /api/v1/accounts": {"management": 5},
            "POST /api/v1/orders": {"spot": 2},
            "DELETE /api/v1/orders/{orderId}": {"spot": 3},
            "GET /api/v1/orders/{orderId}": {"spot": 2},
            "GET /api/v1/orders": {"spot": 2},
            "GET /api/v1/fills": {"spot": 10},
            "POST /api/v1/hf/orders": {"spot": 1},
            "POST /api/v1/hf/orders/alter": {"spot": 3},
            "POST /api/v3/accounts/universal-transfer": {"management": 4},
            "DELETE /api/v1/hf/orders/{orderId}": {"spot": 1},
            "GET /api/v1/hf/orders/active": {"spot": 2},
            "GET /api/v1/hf/orders/{orderId}": {"spot": 2},
            "GET /api/v1/hf/fills": {"spot": 2},
            "POST /api/v1/bullet-public": {"public": 10},
            "GET /api/v1/market/orderbook/level2_20": {"public": 2},  # the book snapshots the feed syncs from
            "GET /api/v1/market/orderbook/level2_100": {"public": 2},
            "POST /api/v1/bullet-private": {"spot": 10},
        },
        default={"spot": 3},
        # HTTP 429 with code 429000; gw-ratelimit-reset is milliseconds until the pool resets.
        breach=Breach(statuses={429: 1.0}, code_field="code", codes={"429000": 1.0}, reset_in="gw-ratelimit-reset"),
        subscribe={"kucoin": SUBSCRIBE_LIMITS},
    ),
    # the request an unmodified ccxt client places a spot order with (dYdX: its order transaction);
    # the router asks the limiter how many of these the venue grants now
    order_endpoint="POST /api/v1/orders",
    # the client order id this venue accepts (crossbook derives one per journaled order)
    client_id=ClientIdRule(
        "kucoin", "clientOid", "clientOrderId", r"[A-Za-z0-9_-]{1,40}", IdStyle.TOKEN,
        "KuCoin add order: clientOid, letters, digits, '_' and '-', max 40",
    ),
    # Fees (kucoin.com/vip/privilege/fee, class A coins; class B and C pay 0.2% and 0.3% at VIP 0, and
    # the USD ladder above VIP 0 is not published in a form checked here). Market makers
    # (kucoin.com/institution/marketMaker) earn a maker rebate. Paying with KCS: 20% off spot.
    fees=FeeSchedule(
        venue="kucoin",
        spot=(
            FeeTier("VIP 0", 0, 0.0010, 0.0010),
            FeeTier("MM B", 0, -0.00006, 0.00045, requires="market maker programme"),
            FeeTier("MM A", 0, -0.0001, 0.00035, requires="market maker programme"),
            FeeTier("MM S", 0, -0.00012, 0.00025, requires="market maker programme"),
        ),
        discount_token="KCS",
        discounts={Kind.SPOT: 0.20},
    ),
    key_permissions=key_permissions,
    # POST /api/v3/withdrawals takes no client id, so crossbook reconciles by amount, address and
    # time; without feeDeductType (ccxt sends none) the fee comes on top of ``amount`` while the
    # balance covers it. No API lists the withdrawal whitelist; fees and minimums: /api/v3/currencies.
    withdrawals=WithdrawalRules(None, fee_on_top=True),
)
