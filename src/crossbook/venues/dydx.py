"""dYdX v4 perpetuals: the indexer's ``v4_orderbook`` and ``v4_trades`` WebSocket channels.

Subscribing to ``v4_orderbook`` brings a ``subscribed`` snapshot (levels as ``{price, size}``
objects), then ``channel_data`` messages with ``[price, size]`` pairs (absolute sizes, "0"
deletes; either side may be missing), or ``channel_batch_data`` (a list of such contents) for a
batched subscription.

Sequence: ``message_id`` is ONE counter per socket, across channels. A lost message cannot be
pinned to a book, so a gap resyncs every synced book on the connection (a resubscribe brings a
fresh snapshot). The indexer takes the id of a ``subscribed`` (or failed-subscribe ``error``)
answer when the request arrives but sends the answer only after fetching the initial state, so
those answers come late, out of order: a missing id is a gap only when more ids are missing
than subscribe answers are outstanding. A frame that cannot be applied counts as lost too. A
resync resubscribes the book alone; the trades subscription stays for the socket's life.

Crossed books: there is no central book, so the indexer's book can cross. Each level keeps the
message_id that last set it; while best bid >= best ask the side whose top level is older is
dropped, the ask on a tie (the rule of dYdX's "How to uncross the orderbook" guide), so a LIVE
book is never crossed.

Keep-alive: the server sends a protocol ping every 30 s and closes the socket without a pong
within 10 s; aiohttp answers them. Book messages carry no time: latency comes from trades'
``createdAt``. At most 32 ``v4_orderbook`` and 32 ``v4_trades`` subscriptions per connection.
Docs: docs.dydx.exchange/api_integration-indexer/indexer_websocket,
docs.dydx.exchange/api_integration-guides/how_to_uncross_orderbook;
source: github.com/dydxprotocol/v4-chain indexer/services/socks.

Beside books and trades: ``v4_markets`` (one subscription per socket, every market: the oracle price,
which dYdX margins and liquidates at, so it is the mark price (dYdX publishes no separate index);
``nextFundingRate``, the rate of the hourly period in progress, paid at the next hour; the open
interest in the base; the 24 h change and USD volume) and ``v4_candles`` (id ``BTC-USD/1MIN``; no
"closed" flag: a candle closes when a later one opens; after a lost message the candle held is
dropped, so the candle series sees the gap and REST fills it in).

Private stream: ccxt.pro has no watch_orders for dYdX, so ``private_source`` follows the indexer's
``v4_subaccounts`` channel (id ``{address}/{subaccountNumber}``, no signature) on the socket
ccxt's ``urls['api']['ws']`` names. ``subscribed`` carries the open orders, ``channel_data`` the
subaccount's ``orders`` and ``fills``; they are handed out in ccxt's unified shapes. A closed
socket or a missing message_id raises ccxt.NetworkError; the next call reconnects and, since the
channel replays nothing, fetches the fills and orders the indexer updated since the drop.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, ClassVar

import aiohttp
import ccxt
import orjson

from ..book.l2 import L2Book
from ..feeds.candles import Gap
from ..feeds.handler import Channels, FeedHandler, Frame, Resync
from ..model import Candle, FundingRate, Instrument, Interval, Kind, MarkPrice, OpenInterest, Side, Ticker, Trade
from ..symbols import standard_symbol
from .spec import VenueSpec
from .spec.capabilities import Feature, Product, Support, VenueCapabilities
from .spec.client_ids import ClientIdRule, IdStyle
from .spec.fees import FeeSchedule, FeeTier
from .spec.funding import FundingSpec
from .spec.hooks import TradingAccount
from .spec.limits import Breach, LimitTable, Scope, Window

log = logging.getLogger(__name__)
loads = orjson.loads

BOOK = "v4_orderbook"
TRADES = "v4_trades"
SUBACCOUNTS = "v4_subaccounts"
MARKETS = "v4_markets"
CANDLES = "v4_candles"
# crossbook's intervals -> dYdX's candle resolutions (dYdX also has 30MINS)
INTERVAL_NAMES: dict[Interval, str] = {
    Interval.M1: "1MIN", Interval.M5: "5MINS", Interval.M15: "15MINS", Interval.H1: "1HOUR", Interval.H4: "4HOURS",
    Interval.D1: "1DAY",
}
RESOLUTIONS = {name: interval for interval, name in INTERVAL_NAMES.items()}
CANDLES_LIMIT = 1000  # the most one REST candles request returns
FUNDING_HOURS = 1.0  # dYdX pays funding every hour
CATCH_UP_SLACK = 5.0  # seconds before a drop from which a reconnect fetches updates (clock skew)
LISTED = "ACTIVE"
BATCH_SHIFT = 16  # a level's age: message_id, then its update's place within a batch
BAD_FRAME = (orjson.JSONDecodeError, KeyError, IndexError, TypeError, ValueError, AttributeError)

Ages = tuple[dict[float, int], dict[float, int]]  # bids, asks: price -> age of the last set


def iso_seconds(text: str) -> float:
    """``2023-04-04T00:29:19.353Z`` -> seconds since the epoch."""
    return datetime.fromisoformat(text).timestamp()


def apply_levels(book: L2Book, ages: Ages, contents: dict[str, Any], age: int) -> None:
    """Absolute sizes per price; size 0 deletes. Records ``age`` on every level set."""
    bids = [(float(p), float(q)) for p, q in contents.get("bids", ())]
    asks = [(float(p), float(q)) for p, q in contents.get("asks", ())]
    book.update_floats(bids, asks)
    _stamp(ages[0], bids, age)
    _stamp(ages[1], asks, age)


def _stamp(ages: dict[float, int], levels: Iterable[tuple[float, float]], age: int) -> None:
    for p, q in levels:
        if q > 0.0:
            ages[p] = age
        else:
            ages.pop(p, None)


def uncross(book: L2Book, ages: Ages) -> int:
    """While best bid >= best ask, drop the top level that was set earlier (the ask on a tie).
    Returns how many levels were dropped."""
    dropped = 0
    while book.crossed():
        bids, asks = book.depth(1)
        bid, ask = bids[0][0], asks[0][0]
        if ages[0].get(bid, -1) < ages[1].get(ask, -1):
            book.remove(Side.BUY, bid)
            ages[0].pop(bid, None)
        else:
            book.remove(Side.SELL, ask)
            ages[1].pop(ask, None)
        dropped += 1
    return dropped


class DydxPerp(FeedHandler):
    book_markers = (BOOK.encode(),)  # an unreadable frame resyncs a book only if it carries these
    venue = "dydx"
    product = "linear"
    ws_url = "wss://indexer.dydx.trade"
    rest_url = "https://indexer.dydx.trade"
    url_hosts = ("indexer.dydx.trade",)
    resync_by = Resync.RESUBSCRIBE
    sequence_scope = "connection"
    resync_min_interval = 1.0  # the indexer closes a socket that subscribes an id twice within 1 s
    max_streams = 64  # 32 v4_orderbook + 32 v4_trades per connection
    streams_per_symbol = 2
    # No application heartbeat reaches the handler (the 30 s pings are protocol frames), and
    # active dYdX books change every block (~1 s): a minute of silence means a dead feed.
    stale_after = 60.0
    ws_path: ClassVar[str] = "/v4/ws"
    batched: ClassVar[bool] = False
    interval_names = INTERVAL_NAMES

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.ages: dict[str, Ages] = {}
        self.last_id: int | None = None
        self.missing: set[int] = set()  # ids skipped so far, maybe late subscribe answers
        self.awaiting = 0  # subscribe requests sent whose answer has not arrived
        self.trading: set[str] = set()  # natives with a v4_trades subscription on this socket
        self.candling: set[str] = set()  # natives with their v4_candles subscriptions on this socket
        self.marketing = False  # whether this socket subscribed v4_markets
        self.market_state: dict[str, dict[str, Any]] = {}  # ticker -> its v4_markets fields as last heard
        # (native, interval) -> the newest candle: it closes when a later one opens
        self.forming: dict[tuple[str, Interval], Candle] = {}

    # ---- subscribe -----------------------------------------------------------------------

    def connect_url(self, natives: list[str]) -> str:
        return f"{self.ws_base}{self.ws_path}"

    def subscribe_messages(self, natives: list[str]) -> list[Frame]:
        """The book subscription, plus trades where this socket has none yet: a resync
        resubscribes the book alone, so no trades are lost to it."""
        frames: list[Frame] = [self._request("subscribe", BOOK, n) for n in natives]
        for native in natives:
            if native not in self.trading:
                self.trading.add(native)
                frames.append(self._request("subscribe", TRADES, native))
            if native not in self.candling:
                self.candling.add(native)
                frames += [self._request("subscribe", CANDLES, f"{native}/{self.interval_names[i]}") for i in self.channels.candles]
        if (self.channels.ticker or self.channels.funding) and not self.marketing:
            self.marketing = True
            frames.append(orjson.dumps({"type": "subscribe", "channel": MARKETS, "batched": self.batched}))
        self.awaiting += len(frames)
        return frames

    @classmethod
    def market_streams(cls, channels: Channels) -> int:
        return len(channels.candles) + (1 if channels.ticker or channels.funding else 0)

    def unsubscribe_messages(self, natives: list[str]) -> list[Frame]:
        return [self._request("unsubscribe", BOOK, n) for n in natives]

    def _request(self, kind: str, channel: str, native: str) -> bytes:
        msg: dict[str, Any] = {"type": kind, "channel": channel, "id": native}
        if kind == "subscribe":
            msg["batched"] = self.batched
        return orjson.dumps(msg)

    # ---- frames (hot path) ---------------------------------------------------------------

    def on_frame(self, data: Frame, ts: float) -> None:
        self.link.last_rx = ts
        self.messages += 1
        try:
            msg = loads(data)
            kind = msg["type"]
            mid = msg["message_id"]
            if not self._in_sequence(mid, kind):
                self.message_lost("gap")
            if kind == "channel_data":
                self.on_data(msg["channel"], msg["id"], (msg["contents"],), mid, ts)
            elif kind == "channel_batch_data":
                self.on_data(msg["channel"], msg["id"], msg["contents"], mid, ts)
            elif kind == "subscribed":
                self.on_subscribed(msg, ts)
            elif kind == "error":
                self.errors += 1
                log.warning("%s: error frame: %s", self.venue, msg.get("message"))
        except BAD_FRAME as exc:
            # a message we could not apply is lost, maybe half applied to the book it names
            self.errors += 1
            self.frame_failed(data, exc, "unreadable frame")

    def on_data(self, channel: str, native: str, batch: Iterable[dict[str, Any]], mid: int, ts: float) -> None:
        if channel == BOOK:
            self.on_book(native, batch, mid, ts)
        elif channel == TRADES:
            for contents in batch:
                self.on_trades(native, contents["trades"], ts)
        elif channel == CANDLES:
            for contents in batch:
                self.on_candle(contents)
        elif channel == MARKETS:
            for contents in batch:
                self.on_markets(contents.get("trading") or {}, contents.get("oraclePrices") or {}, ts)

    def on_book(self, native: str, batch: Iterable[dict[str, Any]], mid: int, ts: float) -> None:
        book = self.book(native)
        if book is None or book.seq is None:
            return  # not ours, or data from before the snapshot still to come
        ages = self.ages[native]
        for i, contents in enumerate(batch):
            apply_levels(book, ages, contents, (mid << BATCH_SHIFT) + i)
            uncross(book, ages)
            book.stats.updates += 1
        book.seq = mid
        book.updated_at = ts

    def on_subscribed(self, msg: dict[str, Any], ts: float) -> None:
        channel = msg["channel"]
        if channel == MARKETS:
            self.on_markets(msg["contents"]["markets"], {}, ts)
            return
        if channel == CANDLES:
            for c in sorted(msg["contents"]["candles"], key=lambda c: str(c["startedAt"])):
                self.on_candle(c)
            return
        if channel != BOOK:
            return  # the trades answer is recent history, not new trades
        native = msg["id"]
        book = self.book(native)
        if book is None:
            return
        contents = msg["contents"]
        ages: Ages = ({}, {})
        self.ages[native] = ages
        book.clear()
        apply_levels(book, ages, _pairs(contents), msg["message_id"] << BATCH_SHIFT)
        uncross(book, ages)
        book.seq = msg["message_id"]
        book.updated_at = ts
        self.go_live(book)

    def on_trades(self, native: str, trades: list[dict[str, Any]], ts: float) -> None:
        if not trades:
            return
        symbol = self.symbols.get(native, native)
        self.latency.add(iso_seconds(trades[0]["createdAt"]), ts)
        for t in trades:
            self.emit_trade(
                Trade(
                    venue=self.venue,
                    symbol=symbol,
                    price=float(t["price"]),
                    amount=float(t["size"]),
                    side=Side.BUY if t["side"] == "BUY" else Side.SELL,
                    ts=iso_seconds(t["createdAt"]),
                    trade_id=str(t.get("id", "")),
                )
            )

    # ---- market data beyond the book -------------------------------------------------------

    def on_candle(self, c: dict[str, Any]) -> None:
        """One ``v4_candles`` candle as it stands (the REST candles' shape); the one before it closes
        when it opens:
        {"type":"channel_data","connection_id":"8c25ab80-2124-4f60-82bf-9040cabc03af","message_id":3,
        "id":"ETH-USD/1MIN","channel":"v4_candles","version":"1.0.0","contents":{"baseTokenVolume":"6.364",
        "close":"3247.6","high":"3247.6","low":"3246.5","open":"3246.5","resolution":"1MIN",
        "startedAt":"2024-07-26T17:54:00.000Z","startingOpenInterest":"16119.209","ticker":"ETH-USD","trades":10,
        "usdVolume":"20663.2167"}}"""
        interval = RESOLUTIONS.get(c["resolution"])
        if interval is None:
            return  # 30 minutes: not kept
        native = c["ticker"]
        candle = self.candle(native, interval, c, closed=False)
        key = (native, interval)
        held = self.forming.get(key)
        if held is not None and held.open_time > candle.open_time:
            return  # older than the one held
        if held is not None and held.open_time < candle.open_time:
            self.emit_candle(replace(held, closed=True), native)
        self.forming[key] = candle
        self.emit_candle(candle, native)

    def candle(self, native: str, interval: Interval, c: dict[str, Any], closed: bool) -> Candle:
        return Candle(self.venue, self.symbols.get(native, native), interval, iso_seconds(c["startedAt"]), float(c["open"]),
                      float(c["high"]), float(c["low"]), float(c["close"]), float(c["baseTokenVolume"]),
                      float(c["usdVolume"]), closed)

    def on_markets(self, trading: dict[str, dict[str, Any]], oracles: dict[str, dict[str, Any]], ts: float) -> None:
        """``v4_markets``: the full markets on subscribe, then the fields that changed (``trading``) and
        oracle prices (``oraclePrices``); stamped on receipt (the frames carry no time):
        {"type":"channel_data","connection_id":"1f4ec0e3-ff95-48cc-94f1-7118a19412ff","message_id":2,
        "channel":"v4_markets","version":"0.0.1","contents":{"trading":{"BTC-USD":{"nextFundingRate":"0.00006821875"},
        "ETH-USD":{"volume24H":"1462890959.6541","nextFundingRate":"0.00007478125"}}}}"""
        for native, fields in trading.items():
            if native in self.books or self.auto_books:
                self.on_market_fields(native, fields, ts)
        for native, oracle in oracles.items():
            if native in self.books or self.auto_books:
                self.on_market_fields(native, {"oraclePrice": oracle["price"]}, ts)

    def on_market_fields(self, native: str, fields: dict[str, Any], ts: float) -> None:
        state = self.market_state.setdefault(native, {})
        state.update(fields)
        symbol = self.symbols.get(native, native)
        oracle = state.get("oraclePrice")
        if "oraclePrice" in fields:
            self.emit_market(MarkPrice(self.venue, symbol, ts, float(fields["oraclePrice"])))
        if "nextFundingRate" in fields:
            rate = float(fields["nextFundingRate"])
            hour = FUNDING_HOURS * 3600
            self.emit_market(FundingRate(self.venue, symbol, ts, rate, ts - ts % hour + hour, FUNDING_HOURS, rate))
        if "openInterest" in fields:
            self.emit_market(OpenInterest(self.venue, symbol, ts, float(fields["openInterest"]), None))
        if oracle and ("priceChange24H" in fields or "volume24H" in fields):
            last = float(oracle)
            change = state.get("priceChange24H")
            volume = state.get("volume24H")
            self.emit_market(Ticker(self.venue, symbol, ts, last - float(change) if change is not None else None, None, None,
                                    last, None, float(volume) if volume is not None else None, None, None))

    def message_lost(self, reason: str) -> None:
        super().message_lost(reason)
        self.forming.clear()  # the lost message may have been a candle's last figures: REST fills it in

    def candles_url(self, gap: Gap) -> str:
        start, end = (datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z") for t in (gap.start, gap.end))
        return (f"{self.rest_base}/v4/candles/perpetualMarkets/{gap.native}?resolution={self.interval_names[gap.interval]}"
                f"&fromISO={start}&toISO={end}&limit={CANDLES_LIMIT}")

    def parse_candles(self, gap: Gap, body: bytes | str) -> list[Candle]:
        """``GET /v4/candles/perpetualMarkets/{ticker}``, newest first (a gap's candles all precede one
        that has opened: final):
        {"candles":[{"startedAt":"2024-05-06T17:24:00.000Z","ticker":"LINK-USD","resolution":"1MIN","low":"14.688",
        "high":"14.688","open":"14.688","close":"14.688","baseTokenVolume":"0","usdVolume":"0","trades":0,
        "startingOpenInterest":"11132"}]}"""
        return [self.candle(gap.native, gap.interval, c, closed=True) for c in reversed(loads(body)["candles"])]

    # ---- sequence ------------------------------------------------------------------------

    def _in_sequence(self, mid: int, kind: str) -> bool:
        """Track the socket's message_id; False when a message was lost.

        Only a subscribe answer (``subscribed``, or an ``error`` carrying a new or missing id)
        may fill a missing id; other error frames repeat the current id."""
        last = self.last_id
        answer = kind == "subscribed" or (kind == "error" and (last is None or mid > last or mid in self.missing))
        if answer and self.awaiting:
            self.awaiting -= 1
        if last is None or mid == last + 1:
            self.last_id = mid
        elif mid > last:
            self.last_id = mid
            if len(self.missing) + mid - last - 1 > self.awaiting:
                self.missing.clear()
                return False
            self.missing.update(range(last + 1, mid))
        else:
            self.missing.discard(mid)
        if len(self.missing) > self.awaiting:
            self.missing.clear()
            return False
        return True

    def reset_sync(self, native: str) -> None:
        self.ages.pop(native, None)

    def connection_opened(self) -> None:
        super().connection_opened()
        self.last_id = None
        self.missing.clear()
        self.awaiting = 0
        self.trading.clear()
        self.candling.clear()
        self.marketing = False
        self.forming.clear()  # a candle held across a disconnect may have missed its last figures

    # ---- instruments ---------------------------------------------------------------------

    def instruments_urls(self) -> list[str]:
        return [f"{self.rest_base}/v4/perpetualMarkets"]

    def parse_instruments(self, bodies: list[bytes]) -> list[Instrument]:
        out: list[Instrument] = []
        for ticker, m in loads(bodies[0])["markets"].items():
            base, sep, quote = ticker.rpartition("-")
            if m.get("status") != LISTED or not sep:
                continue  # baseAsset/quoteAsset are served empty: the ticker names the pair
            out.append(
                Instrument(
                    venue=self.venue,
                    native=ticker,
                    symbol=standard_symbol(base, quote, Kind.PERP),
                    base=base,
                    quote=quote,
                    kind=Kind.PERP,
                    tick=float(m["tickSize"]),
                    lot=float(m["stepSize"]),
                )
            )
        return out


Batch = list[dict[str, Any]]


class SubaccountStream:
    """One subaccount's orders and fills from the indexer socket, in ccxt's unified shapes.

    No reader task: whichever watch call finds its batch queue empty reads the socket (one at a
    time) and files what it reads for both. A call made while a socket was live fails once that
    socket is gone, so both of OrderStream's loops see the break; the next call reconnects."""

    def __init__(self, client: Any, url: str, address: str, number: int = 0) -> None:
        self.client = client
        self.url = url
        self.id = f"{address}/{number}"
        self.address = address
        self.number = number
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._live = 0  # the current socket's number; 0 when there is none
        self._sockets = 0
        self._last_id = 0
        self._dropped_at: float | None = None
        self._lock = asyncio.Lock()
        self._orders: deque[Batch] = deque()
        self._trades: deque[Batch] = deque()

    async def watch_orders(self) -> Batch:
        return await self._next(self._orders)

    async def watch_my_trades(self) -> Batch:
        return await self._next(self._trades)

    async def _next(self, batches: deque[Batch]) -> Batch:
        followed = self._live
        while not batches:
            async with self._lock:
                if followed and self._live != followed:
                    raise ccxt.NetworkError(f"dydx {SUBACCOUNTS} socket closed")
                if not self._live:
                    await self._open()
                    followed = self._live
                elif not batches:
                    await self._read()
        return batches.popleft()

    # ---- the socket ----------------------------------------------------------------------

    async def _open(self) -> None:
        self.client.open()  # ccxt's aiohttp session: the socket closes with the client
        try:
            self._ws = await self.client.session.ws_connect(self.url)
            await self._ws.send_bytes(orjson.dumps({"type": "subscribe", "channel": SUBACCOUNTS, "id": self.id}))
            while True:
                msg = await self._receive()
                if msg["type"] == "subscribed" and msg.get("channel") == SUBACCOUNTS:
                    break
                if msg["type"] == "error":
                    raise ccxt.ExchangeError(f"dydx {SUBACCOUNTS}: {msg.get('message')}")
        except (TimeoutError, aiohttp.ClientError) as exc:
            await self._drop()
            raise ccxt.NetworkError(f"dydx {SUBACCOUNTS}: {type(exc).__name__}") from None
        except ccxt.BaseError:
            await self._drop()
            raise
        self._sockets += 1
        self._live = self._sockets
        self._last_id = int(msg["message_id"])
        self._file(msg["contents"].get("orders", ()), ())
        if self._dropped_at is not None:
            await self._catch_up(self._dropped_at - CATCH_UP_SLACK)

    async def _read(self) -> None:
        msg = await self._receive()
        if msg["type"] not in ("channel_data", "channel_batch_data") or msg.get("channel") != SUBACCOUNTS:
            return
        mid = int(msg["message_id"])
        if mid != self._last_id + 1:
            await self._drop()
            raise ccxt.NetworkError(f"dydx {SUBACCOUNTS}: message_id {mid} after {self._last_id}")
        self._last_id = mid
        batch = msg["contents"] if msg["type"] == "channel_batch_data" else [msg["contents"]]
        for contents in batch:
            self._file(contents.get("orders", ()), contents.get("fills", ()))

    async def _receive(self) -> dict[str, Any]:
        """The next JSON message; pings are answered by aiohttp."""
        assert self._ws is not None
        frame = await self._ws.receive()
        if frame.type in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
            msg: dict[str, Any] = loads(frame.data)
            return msg
        await self._drop()
        raise ccxt.NetworkError(f"dydx {SUBACCOUNTS} socket closed ({frame.type.name})")

    async def _drop(self) -> None:
        if self._live:
            self._dropped_at = time.time()
        self._live = 0
        if self._ws is not None:
            await self._ws.close()
            self._ws = None

    async def _catch_up(self, since: float) -> None:
        """What the indexer updated while no socket listened, over its REST API."""
        query = {"address": self.address, "subaccountNumber": self.number}
        orders = await self.client.indexerGetOrders(query)
        fills = (await self.client.indexerGetFills(query))["fills"]
        self._file([o for o in orders if iso_seconds(o["updatedAt"]) >= since],
                   [f for f in fills if iso_seconds(f["createdAt"]) >= since])

    # ---- shapes --------------------------------------------------------------------------

    def _file(self, orders: Iterable[dict[str, Any]], fills: Iterable[dict[str, Any]]) -> None:
        parsed = [self.client.parse_order(o) for o in orders]
        trades = [trade_of_fill(self.client, f) for f in fills]
        if parsed:
            self._orders.append(parsed)
        if trades:
            self._trades.append(trades)


def trade_of_fill(client: Any, fill: dict[str, Any]) -> dict[str, Any]:
    """An indexer fill as a ccxt unified trade (ccxt's dydx parse_trade reads public trades only:
    a fill's order, fee and liquidity are mapped here)."""
    market = client.safe_market(fill.get("ticker") or fill.get("market"))
    timestamp = client.parse8601(fill["createdAt"])
    trade: dict[str, Any] = client.safe_trade({
        "id": fill["id"],
        "order": fill.get("orderId"),
        "timestamp": timestamp,
        "datetime": client.iso8601(timestamp),
        "symbol": market["symbol"],
        "type": str(fill.get("type", "")).lower() or None,
        "side": fill["side"].lower(),
        "takerOrMaker": fill["liquidity"].lower(),
        "price": fill["price"],
        "amount": fill["size"],
        "cost": None,
        "fee": {"cost": fill["fee"], "currency": "USDC"},
        "info": fill,
    }, market)
    return trade


async def fetch_my_trades(client: Any, symbol: str, since: int | None = None) -> list[dict[str, Any]]:
    """The account's fills in ``symbol`` since ``since`` (ms), from the indexer (ccxt 4.5.90's
    dydx has no fetch_my_trades)."""
    query = {"address": client.get_wallet_address(), "subaccountNumber": int(client.safe_string(client.options, "subAccountNumber", "0")),
             "market": client.market(symbol)["id"]}
    fills = (await client.indexerGetFills(query))["fills"]
    trades = [trade_of_fill(client, f) for f in fills]
    return [t for t in trades if since is None or t["timestamp"] >= since]


def private_source(account: TradingAccount) -> SubaccountStream:
    """The account's subaccount channel (ccxt signs for ``walletAddress``, subaccount 0)."""
    client = account.client
    number = int(client.safe_string(client.options, "subAccountNumber", "0"))
    return SubaccountStream(client, client.urls["api"]["ws"], client.get_wallet_address(), number)


FUNDING_HOURS = 1.0  # the protocol pays funding at the end of every hour


def funding_of_market(symbol: str, market: dict[str, Any], now: float) -> FundingRate:
    """A FundingRate from an indexer ``/v4/perpetualMarkets`` market, e.g.
    ``{"ticker": "BTC-USD", "status": "ACTIVE", "oraclePrice": "60000", "nextFundingRate": "0.00000125", ...}``:
    the rate paid at the end of this hour."""
    period = FUNDING_HOURS * 3600
    return FundingRate("dydx", symbol, now, float(market["nextFundingRate"]), now - now % period + period, FUNDING_HOURS)


async def read_funding(client: Any, symbols: list[str]) -> dict[str, FundingRate]:
    """The funding of ``symbols`` the indexer lists (ccxt reads no funding rate on dydx)."""
    answer = await client.indexerGetPerpetualMarkets()
    markets, now = answer.get("markets") or {}, time.time()
    found = {s: markets.get(s.removesuffix("-PERP")) for s in symbols}
    return {s: funding_of_market(s, m, now) for s, m in found.items() if m and m.get("nextFundingRate") is not None}


def _pairs(contents: dict[str, Any]) -> dict[str, list[tuple[str, str]]]:
    """A snapshot's ``{price, size}`` objects as the ``[price, size]`` pairs updates use."""
    return {side: [(lv["price"], lv["size"]) for lv in contents.get(side, ())] for side in ("bids", "asks")}


SPEC: VenueSpec[type[FeedHandler]] = VenueSpec(
    venue="dydx",
    kind="cex",
    tier=1,
    ccxt_id="dydx",
    ccxt_quotes={"USDC": "USD"},  # the markets are USD-quoted (BTC-USD), settled in USDC
    market_price_bps=500,  # a 5% bound: a market order fills within it, the rest expires (IOC)
    feeds={
        "dydx": DydxPerp,
    },
    # Sources: dYdX v4 docs (docs.dydx.xyz: orders, time in force) and the protocol v4.0.0 release
    # notes (reduce-only only on IOC/FOK orders); ccxt 4.5.90 ``dydx.features``.
    capabilities=VenueCapabilities(
        venue="dydx",
        products={
            Product.SPOT: Support.no("the v4 chain lists perpetuals only"),
            Product.MARGIN: Support.no(),
            Product.LINEAR_PERP: Support.yes("USDC-settled perpetuals", feeds=("dydx",)),
            Product.INVERSE_PERP: Support.no(),
            Product.FUTURES: Support.no(),
            Product.OPTIONS: Support.no(),
        },
        features={
            Feature.LIMIT: Support.yes(),
            Feature.MARKET: Support.yes("an IOC order at a slippage-bounded worst price"),
            Feature.STOP: Support.yes("conditional order, stateful"),
            Feature.STOP_LIMIT: Support.yes("conditional order, stateful"),
            Feature.POST_ONLY: Support.yes(),
            Feature.IOC: Support.yes(),
            Feature.FOK: Support.yes(),
            Feature.REDUCE_ONLY: Support.yes("only on IOC or FOK orders"),
            Feature.ICEBERG: Support.no(),
            Feature.OCO: Support.no(),
            Feature.TP_SL: Support.no("take-profit and stop-loss are separate conditional orders"),
            Feature.HEDGE_MODE: Support.no("one position per market and subaccount"),
            Feature.CROSS_MARGIN: Support.yes(),
            Feature.ISOLATED_MARGIN: Support.yes("isolated positions are held in their own subaccounts"),
            Feature.UNIFIED_ACCOUNT: Support.no(),
            Feature.PORTFOLIO_MARGIN: Support.no(),
            Feature.SUB_ACCOUNTS: Support.yes("numbered subaccounts of one address"),
            Feature.TESTNET: Support.yes("dydx-testnet-4"),
            Feature.KEY_PERMISSIONS: Support.no("no API keys: orders are signed by the wallet; audited from a read call"),
        },
    ).traded((Product.LINEAR_PERP, Feature.LIMIT, Feature.MARKET, Feature.IOC, Feature.REDUCE_ONLY)),
    # REST limits: the indexer allows 100 requests per 10 s per IP (secondary sources). Long-term
    # orders, which ccxt places, are limited per account to 2 per block and 20 per 100 blocks
    # (docs.dydx.xyz/concepts/trading/limits/rate-limits; served at /dydxprotocol/clob/block_rate). A
    # broadcast tx is opaque here, so cancels are counted like orders. A block is taken as 1.5 s, longer
    # than dYdX's ~1 s, so that each window spans at least its blocks. The public nodes' own limits are
    # their operators', not dYdX's.
    limits=LimitTable(
        venue="dydx",
        pools=(
            Window("indexer", 100, 10),
            Window("stateful-per-block", 2, 1.5, Scope.ACCOUNT),
            Window("stateful-per-100-blocks", 20, 150, Scope.ACCOUNT),
        ),
        endpoints={
            "GET /v4/perpetualMarkets": {"indexer": 1},
            "GET /v4/orderbooks/perpetualMarket/{market}": {"indexer": 1},
            "GET /v4/addresses/{address}/subaccountNumber/{number}": {"indexer": 1},
            "GET /v4/orders": {"indexer": 1},
            "GET /v4/orders/{id}": {"indexer": 1},
            "GET /broadcast_tx_sync": {"stateful-per-block": 1, "stateful-per-100-blocks": 1},
            "GET /abci_info": {},
            "GET /cosmos/auth/v1beta1/account_info/{address}": {},
        },
        default={"indexer": 1},
        breach=Breach(statuses={429: 10.0}, messages={"exceeds configured block rate limit": 1.5}),
    ),
    # the request an unmodified ccxt client places a spot order with (dYdX: its order transaction);
    # the router asks the limiter how many of these the venue grants now
    order_endpoint="GET /broadcast_tx_sync",
    # the client order id this venue accepts (crossbook derives one per journaled order)
    client_id=ClientIdRule(
        "dydx", "clientId", "clientOrderId", r"0|[1-9][0-9]{0,9}", IdStyle.UINT32,
        "dYdX v4 clob OrderId.client_id: uint32, unique per subaccount",
    ),
    # Fees (docs.dydx.exchange/introduction-trading_fees; set by governance, served on-chain by
    # /dydxprotocol/v4/feetiers/perpetual_fee_params): zero maker fee from Tier 4, maker rebates from
    # Tier 6, which also needs a share of the exchange's (maker) volume.
    fees=FeeSchedule(
        venue="dydx",
        spot=(),
        derivatives=(
            FeeTier("Tier 1", 0, 0.0001, 0.0005),
            FeeTier("Tier 2", 1e6, 0.0001, 0.00045),
            FeeTier("Tier 3", 5e6, 0.00005, 0.0004),
            FeeTier("Tier 4", 25e6, 0.0, 0.00035),
            FeeTier("Tier 5", 125e6, 0.0, 0.0003),
            FeeTier("Tier 6", 125e6, -0.00005, 0.00025, requires=">= 0.5% exchange market share"),
            FeeTier("Tier 7", 125e6, -0.00007, 0.00025, requires=">= 1% maker market share"),
            FeeTier("Tier 8", 125e6, -0.00009, 0.00025, requires=">= 2% maker market share"),
            FeeTier("Tier 9", 125e6, -0.00011, 0.00025, requires=">= 4% maker market share"),
        ),
    ),
    fetch_my_trades=fetch_my_trades,
    private_source=private_source,
    funding=FundingSpec(interval_hours=FUNDING_HOURS, read=read_funding),
)
