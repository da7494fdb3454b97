"""OKX v5 public market data: the ``books`` channel (400 levels, 100 ms) and ``trades``, for SPOT,
SWAP and FUTURES instruments on one socket; beside them ``tickers``, and on contracts ``mark-price``,
``index-tickers`` (the underlying's index), ``funding-rate`` (SWAP) and ``open-interest``; and
``liquidation-orders``, one subscription by instType for every SWAP (the feed's own emitted).
Candles (``candle1m`` .. ``candle1D``) are served on another endpoint, /ws/v5/business: ``OkxCandles``
is the handler of that socket (a feed of its own, subscribing candles only).

Sync: a ``snapshot`` action (prevSeqId -1) replaces the book. OKX announced removing that in-band
snapshot, so the book can also be built from REST GET /api/v5/market/books (``seqId``): updates
are buffered, those with ``seqId <= snap.seqId`` dropped, the first applied one has
``prevSeqId <= snap.seqId < seqId``, and every later one ``prevSeqId == previous seqId``. That
one rule also covers the idle keepalive (empty, ``prevSeqId == seqId``) and the reset after
maintenance (``seqId < prevSeqId``).
Resync is by REST snapshot, the only path that works whether or not OKX still sends the in-band
snapshot (a resubscribe brings no book once it is gone).
Checksum: signed CRC32 of ``bid1px:bid1sz:ask1px:ask1sz:...`` over up to 25 levels a side with
OKX's own strings; 0 means "none" (OKX sends 0 since June 2026). Records from 2022 carry no
seqId/prevSeqId: the checksum is their only continuity check.
Sizes stay in OKX's units: base currency for SPOT, contracts (``ctVal``) for SWAP and FUTURES.
Docs: www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-order-book-channel
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import ccxt
import orjson

from ...book.checksum import crc32_signed, interleaved
from ...book.l2 import L2Book
from ...errors import InvalidOrder, VenueUnavailable
from ...feeds.candles import Gap
from ...feeds.handler import Channels, FeedHandler, Frame, Resync, query_param
from ...model import (
    BookState,
    Candle,
    FundingRate,
    IndexPrice,
    Instrument,
    Interval,
    Kind,
    Liquidation,
    MarkPrice,
    OpenInterest,
    Side,
    Ticker,
    Trade,
)
from ...symbols import standard_symbol
from ..spec import VenueSpec
from ..spec.capabilities import (
    BASIC_ORDERS,
    CONTRACTS,
    DERIVATIVES,
    SPOT_BOOK,
    Feature,
    OrderWire,
    PositionSideParam,
    Product,
    Support,
    VenueCapabilities,
)
from ..spec.client_ids import ClientIdRule, IdStyle
from ..spec.fees import FeeSchedule, FeeTier
from ..spec.hooks import MASTER_ACCOUNT, OcoAck, OcoLegs, OcoStatus
from ..spec.keys import KeyPermissions, ip_list
from ..spec.limits import HOUR, Breach, LimitTable, Scope, SubscribeLimits, Window
from ..spec.withdrawals import WithdrawalRules

log = logging.getLogger(__name__)
loads = orjson.loads

CHECKSUM_DEPTH = 25
BOOK_DEPTH = 400
INST_TYPES = ("SPOT", "SWAP", "FUTURES")
WS_PATH = "/ws/v5/public"
BUSINESS_PATH = "/ws/v5/business"  # candles
BOOKS_PATH = "/api/v5/market/books"
CANDLES_PATH = "/api/v5/market/candles"
CANDLES_LIMIT = 300  # the most one candles request returns
# crossbook's intervals -> OKX's bar names (OKX also has 1s, 3m, 30m, 2H, 6H, 12H, 1W, 1M, 3M)
INTERVAL_NAMES: dict[Interval, str] = {
    Interval.M1: "1m", Interval.M5: "5m", Interval.M15: "15m", Interval.H1: "1H", Interval.H4: "4H", Interval.D1: "1D",
}
BARS = {f"candle{name}": interval for interval, name in INTERVAL_NAMES.items()}


def is_contract(native: str) -> bool:
    """SWAP (``BTC-USDT-SWAP``) and FUTURES (``BTC-USD-220527``) ids have three parts, SPOT ids two."""
    return native.count("-") >= 2


def underlying(native: str) -> str:
    """A contract's index: ``BTC-USDT-SWAP`` -> ``BTC-USDT``."""
    return native.rsplit("-", 1)[0]


def optional(text: str | None) -> float | None:
    """OKX sends "" for a figure it does not have."""
    return float(text) if text else None
INSTRUMENTS_PATH = "/api/v5/public/instruments"


class OkxFeed(FeedHandler):
    book_markers = (b'"books',)  # an unreadable frame resyncs a book only if it carries these
    venue = "okx"
    product = "spot"  # the primary feed; the same socket also carries SWAP and FUTURES books
    ws_url = "wss://ws.okx.com:8443"
    rest_url = "https://www.okx.com"
    url_hosts = ("ws.okx.com", "wsaws.okx.com", "www.okx.com", "aws.okx.com")
    resync_by = Resync.SNAPSHOT
    snapshot_grace = 1.0  # the in-band snapshot, while OKX still sends it, spares 29 REST calls a socket
    keep_strings = True
    # OKX asks for fewer than 30 400-level book channels per connection; trades are light
    max_streams = 58
    streams_per_symbol = 2
    ping_interval = 20.0  # OKX drops a socket after 30 s without traffic from the client
    stale_after = 30.0  # a healthy socket answers every 20 s ping; quiet books only say so after ~60 s
    interval_names = INTERVAL_NAMES

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pending: dict[str, list[dict[str, Any]]] = {}
        self.check_channels(self.channels)
        self.index_users: dict[str, list[str]] = {}  # index (BTC-USDT) -> the contracts subscribed to it

    def check_channels(self, channels: Channels) -> None:
        if channels.candles:
            raise ValueError("okx serves candles on /ws/v5/business: subscribe them with the OkxCandles feed")

    # ---- subscribe -----------------------------------------------------------------------

    def connect_url(self, natives: list[str]) -> str:
        return f"{self.ws_base}{WS_PATH}"

    def subscribe_messages(self, natives: list[str]) -> list[Frame]:
        return [self._request("subscribe", natives, self.inst_type_args(natives))]

    def unsubscribe_messages(self, natives: list[str]) -> list[Frame]:
        return [self._request("unsubscribe", natives)]  # subscriptions by instType serve the socket's others

    def _request(self, op: str, natives: list[str], shared: list[dict[str, str]] | None = None) -> str:
        args = [{"channel": channel, "instId": self.channel_inst(channel, n)}
                for n in natives for channel in self.native_channels(n)]
        return orjson.dumps({"op": op, "args": [*args, *(shared or [])]}).decode()

    def inst_type_args(self, natives: list[str]) -> list[dict[str, str]]:
        """Subscriptions by instType: ``liquidation-orders`` of every SWAP, once SWAPs are subscribed."""
        if self.channels.liquidations and any(n.endswith("-SWAP") for n in natives):
            return [{"channel": "liquidation-orders", "instType": "SWAP"}]
        return []

    def native_channels(self, native: str) -> list[str]:
        """The channels one instrument subscribes on this socket."""
        return ["books", "trades", *self.market_channels(self.channels, is_contract(native))]

    @classmethod
    def market_channels(cls, channels: Channels, contract: bool) -> list[str]:
        names = ["tickers"] if channels.ticker else []
        if contract and channels.funding:
            names += ["mark-price", "index-tickers", "funding-rate", "open-interest"]
        return names

    @classmethod
    def market_streams(cls, channels: Channels) -> int:
        return len(cls.market_channels(channels, contract=True))

    def channel_inst(self, channel: str, native: str) -> str:
        """The ``instId`` of a subscription: the contract's own, its underlying for ``index-tickers``."""
        if channel != "index-tickers":
            return native
        index = underlying(native)
        users = self.index_users.setdefault(index, [])
        if native not in users:
            users.append(native)
        return index

    def ping_message(self) -> Frame:
        return "ping"

    # ---- frames (hot path) ---------------------------------------------------------------

    def on_frame(self, data: Frame, ts: float) -> None:
        self.link.last_rx = ts
        self.messages += 1
        if data == "pong" or data == b"pong":
            return
        try:
            msg = loads(data)
        except orjson.JSONDecodeError:
            self.errors += 1
            log.warning("okx: unreadable frame %r", data[:200])
            return
        if "data" in msg:
            arg = msg["arg"]
            channel = arg["channel"]
            if channel == "books":
                self.on_books(arg["instId"], msg.get("action"), msg["data"], ts)
            elif channel == "trades":
                self.on_trades(msg["data"])
            else:
                # opt-summary's arg names an instrument family (BTC-USD), every other channel's an instrument
                self.on_market_channel(channel, arg.get("instId") or arg.get("instFamily", ""), msg["data"])
        elif msg.get("event") == "subscribe":
            self.on_subscribed(msg["arg"])
        elif msg.get("event") == "error":
            self.errors += 1
            log.warning("okx: error %s: %s", msg.get("code"), msg.get("msg"))

    def on_books(self, native: str, action: str | None, data: list[dict[str, Any]], ts: float) -> None:
        book = self.books.get(native) or self.book(native)
        if book is None:
            return
        for d in data:
            self.latency.add(int(d["ts"]) / 1000.0, ts)
            if action == "snapshot":
                self._snapshot(native, book, d, ts)
            elif book.state is BookState.LIVE:
                prev = d.get("prevSeqId")
                if prev is not None and prev != book.seq:
                    self.resync(native, "gap")
                    self._buffer(native, d, ts)
                    return
                if not self._apply(native, book, d, ts):
                    return
            elif "seqId" in d:  # an unsequenced (pre-2023) update cannot bridge a snapshot
                self._buffer(native, d, ts)

    def _snapshot(self, native: str, book: L2Book, d: dict[str, Any], ts: float) -> None:
        self.pending.pop(native, None)  # everything buffered is older than this book
        book.snapshot(d["bids"], d["asks"])
        book.seq = d.get("seqId")
        book.updated_at = ts
        if self._checksum_ok(native, book, d):
            self.go_live(book)

    def _apply(self, native: str, book: L2Book, d: dict[str, Any], ts: float) -> bool:
        """Apply one update; False if its checksum failed (the book is resyncing then)."""
        book.update(d["bids"], d["asks"])
        book.seq = d.get("seqId")
        book.updated_at = ts
        book.stats.updates += 1
        return self._checksum_ok(native, book, d)

    def _checksum_ok(self, native: str, book: L2Book, d: dict[str, Any]) -> bool:
        expected = d.get("checksum")
        if not expected:
            return True
        text = interleaved(book.top_strings(Side.BUY, CHECKSUM_DEPTH), book.top_strings(Side.SELL, CHECKSUM_DEPTH))
        if crc32_signed(text) == expected:
            book.stats.checksums_ok += 1
            return True
        book.stats.checksums_failed += 1
        self.resync(native, "checksum")
        return False

    def _buffer(self, native: str, d: dict[str, Any], ts: float) -> None:
        self.pending.setdefault(native, []).append(d)
        if self.books[native].seq is not None:  # REST snapshot in, waiting for a bridging update
            self._drain(native, ts)

    def _drain(self, native: str, ts: float) -> None:
        """Apply buffered updates on top of the REST snapshot; live from the bridging one on."""
        book = self.books[native]
        for d in self.pending.pop(native, []):
            if d["prevSeqId"] != book.seq:
                if book.state is BookState.LIVE or d["prevSeqId"] > book.seq:
                    self.resync(native, "gap")
                    return
                if d["seqId"] <= book.seq:  # already in the snapshot
                    continue
            if not self._apply(native, book, d, ts):
                return
            self.go_live(book)

    def on_trades(self, data: list[dict[str, Any]]) -> None:
        for t in data:
            native = t["instId"]
            self.emit_trade(
                Trade(
                    venue=self.venue,
                    symbol=self.symbols.get(native, native),
                    price=float(t["px"]),
                    amount=float(t["sz"]),
                    side=Side.BUY if t["side"] == "buy" else Side.SELL,
                    ts=int(t["ts"]) / 1000.0,
                    trade_id=t["tradeId"],
                )
            )

    def reset_sync(self, native: str) -> None:
        self.pending.pop(native, None)

    def on_subscribed(self, arg: dict[str, Any]) -> None:
        """A subscription acknowledged (only the candle socket, which has no book, acts on it)."""

    # ---- market data beyond the book -------------------------------------------------------

    def on_market_channel(self, channel: str, inst_id: str, data: list[Any]) -> None:
        if channel.startswith("candle"):
            interval = BARS.get(channel)
            if interval is not None:  # else a bar crossbook does not keep (1s, 3m, 1W, ...)
                for row in data:
                    self.emit_candle(self.candle(inst_id, interval, row), inst_id)
        elif channel == "tickers":
            for d in data:
                self.on_ticker(d)
        elif channel == "mark-price":
            for d in data:
                self.on_mark_price(d)
        elif channel == "index-tickers":
            for d in data:
                self.on_index(d)
        elif channel == "funding-rate":
            for d in data:
                self.on_funding(d)
        elif channel == "open-interest":
            for d in data:
                self.on_open_interest(d)
        elif channel == "liquidation-orders":
            for d in data:
                self.on_liquidations(d)

    def symbol(self, native: str) -> str:
        return self.symbols.get(native, native)

    def candle(self, native: str, interval: Interval, row: list[str]) -> Candle:
        """``candle<bar>`` rows (and REST ``/market/candles`` rows): open time, OHLC, ``vol`` (base on
        SPOT, contracts on contracts), ``volCcy`` (quote on SPOT, base on contracts), ``volCcyQuote``,
        ``confirm`` "1" once closed:
        {"arg":{"channel":"candle1D","instId":"BTC-USDT"},"data":[["1597026383085","8533.02","8553.74",
        "8527.17","8548.26","45247","529.5858061","529.58","0"]]}"""
        contract = is_contract(native)
        volume = float(row[6] if contract else row[5])
        quote = float(row[7]) if len(row) > 8 else (None if contract else float(row[6]))
        return Candle(self.venue, self.symbol(native), interval, int(row[0]) / 1000.0, float(row[1]), float(row[2]),
                      float(row[3]), float(row[4]), volume, quote, row[-1] == "1")

    def on_ticker(self, d: dict[str, Any]) -> None:
        """``tickers``, the rolling 24 hours and the touch; ``vol24h`` in the base (SPOT) or contracts,
        ``volCcy24h`` in the quote (SPOT) or the base (contracts):
        {"arg":{"channel":"tickers","instId":"BTC-USDT"},"data":[{"instType":"SPOT","instId":"BTC-USDT",
        "last":"30220","lastSz":"0.00010001","askPx":"30220.1","askSz":"0.14066325","bidPx":"30220",
        "bidSz":"0.01187463","open24h":"29599.1","high24h":"31033","low24h":"27953","sodUtc0":"28977.4",
        "sodUtc8":"30328.9","volCcy24h":"745424478.86940853","vol24h":"25307.93950617","ts":"1652459223108"}]}"""
        native = d["instId"]
        contract = is_contract(native)
        volume = optional(d["volCcy24h"] if contract else d["vol24h"])
        quote = None if contract else optional(d["volCcy24h"])
        self.emit_market(Ticker(self.venue, self.symbol(native), int(d["ts"]) / 1000.0, optional(d["open24h"]),
                                optional(d["high24h"]), optional(d["low24h"]), float(d["last"]), volume, quote,
                                optional(d["bidPx"]), optional(d["askPx"])))

    def on_mark_price(self, d: dict[str, Any]) -> None:
        """``mark-price``:
        {"arg":{"channel":"mark-price","instId":"BTC-USDT-SWAP"},"data":[{"instType":"SWAP",
        "instId":"BTC-USDT-SWAP","markPx":"42310.6","ts":"1630049139746"}]}"""
        native = d["instId"]
        self.emit_market(MarkPrice(self.venue, self.symbol(native), int(d["ts"]) / 1000.0, float(d["markPx"])))

    def on_index(self, d: dict[str, Any]) -> None:
        """``index-tickers`` of an underlying, emitted for each contract subscribed to it (under the
        index's own name when none is known, as in replay):
        {"arg":{"channel":"index-tickers","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","idxPx":"0.1",
        "high24h":"0.5","low24h":"0.1","open24h":"0.1","sodUtc0":"0.1","sodUtc8":"0.1","ts":"1597026383085"}]}"""
        index, ts, price = d["instId"], int(d["ts"]) / 1000.0, float(d["idxPx"])
        for native in self.index_users.get(index) or [index]:
            self.emit_market(IndexPrice(self.venue, self.symbol(native), ts, price))

    def on_funding(self, d: dict[str, Any]) -> None:
        """``funding-rate`` (SWAP): ``fundingRate`` of the period settling at ``fundingTime``,
        ``nextFundingRate`` the predicted one ("" where OKX does not predict it):
        {"arg":{"channel":"funding-rate","instId":"BTC-USD-SWAP"},"data":[{"formulaType":"noRate",
        "fundingRate":"0.0001","fundingTime":"1703088000000","impactValue":"","instId":"BTC-USD-SWAP",
        "instType":"SWAP","interestRate":"","maxFundingRate":"0.00375","method":"current_period",
        "minFundingRate":"-0.00375","nextFundingRate":"","nextFundingTime":"1703116800000","premium":"0.0001",
        "settFundingRate":"0.0001","settState":"settled","ts":"1703070685309"}]}"""
        native, settles = d["instId"], int(d["fundingTime"])
        following = d.get("nextFundingTime")
        hours = (int(following) - settles) / 3_600_000 if following else 8.0
        self.emit_market(FundingRate(self.venue, self.symbol(native), int(d["ts"]) / 1000.0, float(d["fundingRate"]),
                                     settles / 1000.0, hours, optional(d.get("nextFundingRate"))))

    def on_open_interest(self, d: dict[str, Any]) -> None:
        """``open-interest``: ``oi`` in contracts, ``oiCcy`` in the base coin, ``oiUsd`` in USD:
        {"arg":{"channel":"open-interest","instId":"LTC-USD-SWAP"},"data":[{"instId":"LTC-USD-SWAP",
        "instType":"SWAP","oi":"5000","oiCcy":"555.55","oiUsd":"50000","ts":"1597026383085"}]}"""
        native = d["instId"]
        self.emit_market(OpenInterest(self.venue, self.symbol(native), int(d["ts"]) / 1000.0, float(d["oiCcy"]),
                                      optional(d.get("oiUsd"))))

    def on_liquidations(self, d: dict[str, Any]) -> None:
        """``liquidation-orders`` (every SWAP of the venue: those of the feed's books are emitted),
        ``side`` the forced order's, ``bkPx`` the bankruptcy price, ``sz`` in contracts (in base
        units once the feed read the contract's size; contracts where it did not, as in replay):
        {"arg":{"channel":"liquidation-orders","instType":"SWAP"},"data":[{"details":[{"bkLoss":"0",
        "bkPx":"0.007831","ccy":"","posSide":"short","side":"buy","sz":"13","ts":"1692266434010"}],
        "instFamily":"IOST-USDT","instId":"IOST-USDT-SWAP","instType":"SWAP","uly":"IOST-USDT"}]}"""
        native = d["instId"]
        if native not in self.books and not self.auto_books:
            return
        instrument = self.instruments.get(native)
        for x in d["details"]:
            price, size = float(x["bkPx"]), float(x["sz"])
            if instrument is not None:
                size *= instrument.contract_size / price if instrument.inverse else instrument.contract_size
            side = Side.SELL if x["side"] == "sell" else Side.BUY
            self.emit_market(Liquidation(self.venue, self.symbol(native), int(x["ts"]) / 1000.0, side, price, size))

    def candles_url(self, gap: Gap) -> str:
        """``after``: older than (the gap's end, included), ``before``: newer than (its start, included)."""
        bar, start, end = self.interval_names[gap.interval], int(gap.start * 1000), int(gap.end * 1000)
        return (f"{self.rest_base}{CANDLES_PATH}?instId={gap.native}&bar={bar}&after={end + 1}&before={start - 1}"
                f"&limit={CANDLES_LIMIT}")

    def parse_candles(self, gap: Gap, body: bytes | str) -> list[Candle]:
        """``GET /api/v5/market/candles``, newest first; the closed ones (``confirm`` "1"), oldest first:
        {"code":"0","msg":"","data":[["1597026383085","3.721","3.743","3.677","3.708","8422410","22698348.04828491",
        "12698348.04828491","1"]]}"""
        reply = loads(body)
        if reply.get("code") != "0":
            raise VenueUnavailable(f"okx candles: code {reply.get('code')}: {reply.get('msg')}")
        candles = [self.candle(gap.native, gap.interval, row) for row in reply["data"]]
        return sorted((c for c in candles if c.closed), key=lambda c: c.open_time)

    # ---- snapshots -----------------------------------------------------------------------

    def snapshot_url(self, native: str) -> str:
        return f"{self.rest_base}{BOOKS_PATH}?instId={native}&sz={BOOK_DEPTH}"

    def snapshot_native(self, url: str) -> str | None:
        return query_param(url, BOOKS_PATH, "instId")

    def on_snapshot(self, native: str, body: bytes | str, ts: float) -> None:
        book = self.book(native)
        if book is None or book.state is BookState.LIVE:
            return  # an in-band snapshot got there first
        reply = loads(body)
        if reply.get("code") != "0" or not reply.get("data"):
            log.warning("okx: %s snapshot refused: %s %s", native, reply.get("code"), reply.get("msg"))
            self.resync(native, "snapshot refused")
            return
        d = reply["data"][0]
        seq = d.get("seqId")
        if seq is None:  # a snapshot without a sequence cannot be bridged to the updates
            self.errors += 1
            self.resync(native, "snapshot without seqId")
            return
        pending = self.pending.get(native)
        if pending and pending[0]["prevSeqId"] > seq:
            self.resync(native, "stale snapshot")
            return
        book.snapshot(d["bids"], d["asks"])
        book.seq = seq
        book.updated_at = ts
        self._drain(native, ts)

    # ---- instruments ---------------------------------------------------------------------

    def instruments_urls(self) -> list[str]:
        return [f"{self.rest_base}{INSTRUMENTS_PATH}?instType={t}" for t in INST_TYPES]

    def parse_instruments(self, bodies: list[bytes]) -> list[Instrument]:
        out: list[Instrument] = []
        for body in bodies:
            reply = loads(body)
            if reply.get("code") != "0":
                raise VenueUnavailable(f"okx instruments: code {reply.get('code')}: {reply.get('msg')}")
            out.extend(self._instrument(i) for i in reply["data"] if i["state"] == "live")
        return out

    def _instrument(self, i: dict[str, Any]) -> Instrument:
        native: str = i["instId"]
        if i["instType"] == "SPOT":
            base, quote, kind, expiry = i["baseCcy"], i["quoteCcy"], Kind.SPOT, None
        else:
            base, quote = (i.get("instFamily") or i["uly"]).split("-")
            kind = Kind.PERP if i["instType"] == "SWAP" else Kind.FUTURE
            expiry = None if kind is Kind.PERP else "20" + native.rsplit("-", 1)[-1]
        return Instrument(
            venue=self.venue,
            native=native,
            symbol=standard_symbol(base, quote, kind, expiry),
            base=base,
            quote=quote,
            kind=kind,
            tick=float(i["tickSz"]),
            lot=float(i["lotSz"]),
            expiry=expiry,
            contract_size=float(i["ctVal"]) * float(i.get("ctMult") or 1) if i.get("ctVal") else 1.0,
            inverse=i.get("ctType") == "inverse",
        )


class OkxCandles(OkxFeed):
    """The /ws/v5/business socket: the ``candle<bar>`` channels of each instrument, nothing else.

    The handler interface gives a feed one URL, so OKX's candles are a feed of their own. It has no
    book: an instrument's (empty) book goes LIVE once OKX acknowledges its candle subscriptions, so
    the connection's watchdog leaves it be; a lost subscription is a resubscribe."""

    resync_by = Resync.RESUBSCRIBE
    streams_per_symbol = 0

    def check_channels(self, channels: Channels) -> None:
        if not channels.candles:
            raise ValueError("the okx candle feed needs at least one candle interval")

    @classmethod
    def market_streams(cls, channels: Channels) -> int:
        return len(channels.candles)

    def connect_url(self, natives: list[str]) -> str:
        return f"{self.ws_base}{BUSINESS_PATH}"

    def native_channels(self, native: str) -> list[str]:
        return [f"candle{self.interval_names[i]}" for i in self.channels.candles]

    def inst_type_args(self, natives: list[str]) -> list[dict[str, str]]:
        return []  # liquidations are on the public socket

    def on_subscribed(self, arg: dict[str, Any]) -> None:
        book = self.books.get(arg.get("instId", ""))
        if book is not None and str(arg.get("channel", "")).startswith("candle"):
            self.go_live(book)


def stream_trade(trade: Mapping[str, Any]) -> Mapping[str, Any]:
    """A fill from the private ``orders`` channel with the fee's sign put right: OKX reports
    ``fillFee`` negative for a charge (positive for a rebate) and ccxt.pro 4.5.90 passes it on
    as is, where its REST parser negates it."""
    fee = trade.get("fee") or {}
    if fee.get("cost") is None:
        return trade
    return {**trade, "fee": {**fee, "cost": -float(fee["cost"])}}


async def transfer(client: Any, asset: str, amount: Decimal, source: str, target: str) -> str:
    """ccxt's transfer() between the master (OKX's "master") and one sub-account, funding to
    funding: OKX moves funds between a sub-account and its master only."""
    if MASTER_ACCOUNT not in (source, target):
        raise InvalidOrder(f"okx: a transfer goes between the master account and a sub-account, not {source} -> {target}")
    named = {MASTER_ACCOUNT: "master"}
    reply = await client.transfer(asset, float(amount), named.get(source, source), named.get(target, target))
    return str(reply["id"])


async def place_oco(client: Any, legs: OcoLegs) -> OcoAck:
    """``POST /api/v5/trade/order-algo`` ordType oco on spot (tdMode cash, ``sz`` in base units):
    the limit leg as the take-profit (a limit order at its price once a trade prints there), the
    stop as the stop-loss (at market, or a limit at ``stop_limit``). Both are triggers, no orders,
    until one fires; the algo order carries the limit leg's client id as ``algoClOrdId``."""
    market = (client.markets_by_id or {}).get(legs.market_id) or [{}]
    if not market[0].get("spot"):
        raise ccxt.NotSupported(f"okx: crossbook sends OCO algo orders on spot markets only, not {legs.market_id}")
    params = {"instId": legs.market_id, "tdMode": "cash", "side": legs.side.value, "ordType": "oco", "sz": legs.amount,
              "tpTriggerPx": legs.price, "tpOrdPx": legs.price, "slTriggerPx": legs.stop_price,
              "slOrdPx": legs.stop_limit if legs.stop_limit is not None else "-1", "algoClOrdId": str(legs.limit_client_id)}
    entry = (await client.private_post_trade_order_algo(params))["data"][0]
    if str(entry.get("sCode", "0")) != "0":
        raise ccxt.InvalidOrder(f"okx refused the OCO: {entry.get('sCode')} {entry.get('sMsg', '')}")
    return OcoAck(str(entry["algoId"]), None, None)


async def fetch_oco(client: Any, market_id: str, algo_id: str) -> OcoStatus:
    """``GET /api/v5/trade/order-algo``: live, effective (``actualSide`` tp: the limit leg fired,
    sl: the stop; ``ordIdList`` the order it placed), order_failed, or canceled."""
    row = (await client.private_get_trade_order_algo({"algoId": algo_id}))["data"][0]
    leg = {"tp": "limit", "sl": "stop"}.get(str(row.get("actualSide") or ""))
    placed = [str(i) for i in row.get("ordIdList") or [] if i]
    match str(row.get("state")):
        case "live" | "pause" | "partially_effective":
            return OcoStatus("live")
        case "effective":
            return OcoStatus("fired", leg, placed[0] if placed else None)
        case "order_failed" | "partially_failed":
            return OcoStatus("failed", leg)
        case _:
            return OcoStatus("canceled")


async def find_oco(client: Any, market_id: str, client_id: str | int) -> str | None:
    """``GET /api/v5/trade/order-algo`` by ``algoClOrdId`` (the limit leg's client id, as
    ``place_oco`` sends it): the algo id, or None on 51603 (no such algo order)."""
    try:
        rows = (await client.private_get_trade_order_algo({"algoClOrdId": str(client_id)}))["data"]
    except ccxt.OrderNotFound:
        return None
    return str(rows[0]["algoId"]) if rows else None


async def cancel_oco(client: Any, market_id: str, algo_id: str) -> None:
    """``POST /api/v5/trade/cancel-algos``; 51410 (already final) is no error: reading it tells how it ended."""
    entry = (await client.private_post_trade_cancel_algos([{"algoId": algo_id, "instId": market_id}]))["data"][0]
    if str(entry.get("sCode", "0")) not in ("0", "51410"):
        raise ccxt.InvalidOrder(f"okx refused to cancel OCO algo order {algo_id}: {entry.get('sCode')} {entry.get('sMsg', '')}")


async def key_permissions(client: Any) -> KeyPermissions:
    """``GET /api/v5/account/config``: ``perm`` (read_only, trade, withdraw) and ``ip`` (the
    bound addresses, comma-separated); OKX says nothing of the key's age. OKX has no transfer
    permission of its own (moving funds between accounts comes with trade), so none is reported."""
    rows = (await client.privateGetAccountConfig()).get("data") or [{}]
    perms = set(ip_list(rows[0].get("perm")))
    return KeyPermissions(
        read=True,  # every OKX key reads ("read_only" is the least one holds)
        trade="trade" in perms,
        withdraw="withdraw" in perms,
        transfer=False,
        ips=ip_list(rows[0].get("ip")),
        created=None,
        expires=None,
        source="GET /api/v5/account/config",
    )


from .options import OkxOptions  # noqa: E402  (it builds on OkxFeed, defined above)

OkxFeed.candle_feed = OkxCandles  # the public socket refuses candles: they come on the business one

SPEC: VenueSpec[type[FeedHandler]] = VenueSpec(
    venue="okx",
    kind="cex",
    tier=1,
    ccxt_id="okx",
    feeds={"okx": OkxFeed, "okxoptions": OkxOptions},
    # Sources: OKX v5 API docs (www.okx.com/docs-v5: trade, algo trading, account); ccxt 4.5.90
    # ``okx.features`` (attached TP/SL and iceberg on every product).
    capabilities=VenueCapabilities(
        venue="okx",
        products={
            Product.SPOT: Support.yes(feeds=("okx",)),
            Product.MARGIN: Support.yes("cross and isolated; orders trade the spot book", feeds=("okx",)),
            Product.LINEAR_PERP: Support.yes("USDT- and USDC-margined SWAP", feeds=("okx",)),
            Product.INVERSE_PERP: Support.yes("coin-margined SWAP", feeds=("okx",)),
            Product.FUTURES: Support.yes("FUTURES, linear and inverse", feeds=("okx",)),
            Product.OPTIONS: Support.yes("OPTION, coin-margined: premium in the base coin, 0.01 BTC / 0.1 ETH a contract",
                                         feeds=("okxoptions",)),
        },
        features={
            Feature.LIMIT: Support.yes(),
            Feature.MARKET: Support.yes("not on options", only=SPOT_BOOK | CONTRACTS),
            Feature.STOP: Support.yes("algo order ordType=trigger with orderPx -1", only=SPOT_BOOK | CONTRACTS),
            Feature.STOP_LIMIT: Support.yes("algo order ordType=trigger", only=SPOT_BOOK | CONTRACTS),
            Feature.POST_ONLY: Support.yes("ordType=post_only"),
            Feature.IOC: Support.yes(),
            Feature.FOK: Support.yes(),
            Feature.REDUCE_ONLY: Support.yes("reduceOnly", only=DERIVATIVES | {Product.MARGIN}),
            Feature.ICEBERG: Support.yes("algo order ordType=iceberg", only=SPOT_BOOK | CONTRACTS),
            Feature.OCO: Support.yes("algo order ordType=oco", only=SPOT_BOOK | CONTRACTS),
            Feature.TP_SL: Support.yes("attachAlgoOrds on the order", only=SPOT_BOOK | CONTRACTS),
            Feature.HEDGE_MODE: Support.yes("posMode long_short_mode", only=CONTRACTS),
            Feature.CROSS_MARGIN: Support.yes(),
            Feature.ISOLATED_MARGIN: Support.yes(),
            Feature.UNIFIED_ACCOUNT: Support.yes("every v5 account is unified (acctLv)"),
            Feature.PORTFOLIO_MARGIN: Support.yes("acctLv 4"),
            Feature.SUB_ACCOUNTS: Support.yes(),
            Feature.TESTNET: Support.yes("demo trading: header x-simulated-trading: 1"),
            Feature.KEY_PERMISSIONS: Support.yes("GET /api/v5/account/config: perm and ip; no creation time"),
        },
    ).traded((Feature.KEY_PERMISSIONS,
              Product.SPOT, Product.LINEAR_PERP, Product.OPTIONS, *BASIC_ORDERS, Feature.REDUCE_ONLY, Feature.SUB_ACCOUNTS,
              Feature.HEDGE_MODE,
              Feature.CROSS_MARGIN, Feature.ISOLATED_MARGIN, Feature.OCO, Feature.TP_SL),  # OCO: the spot algo order (place_oco)
             OrderWire(position_side=PositionSideParam("posSide", "long", "short"), unsent={
                 Feature.OCO: (DERIVATIVES, "place_oco sends OKX's spot algo OCO only"),
             })),
    # REST limits (www.okx.com/docs-v5/en/): each endpoint has its own counter per 2 s, by user ID (the
    # trade endpoints by user ID and instrument ID) or by IP. A one-order batch, how ccxt places orders,
    # "consumes the rate limit of Place order"; new and amended orders also count in the sub-account's
    # 1,000 per 2 s. Endpoints not listed get 10 per 2 s each, the lowest common figure.
    limits=LimitTable(
        venue="okx",
        pools=(
            Window("place", 60, 2, Scope.ACCOUNT, per_symbol=True),
            Window("amend", 60, 2, Scope.ACCOUNT, per_symbol=True),
            Window("cancel", 60, 2, Scope.ACCOUNT, per_symbol=True),
            Window("order", 60, 2, Scope.ACCOUNT, per_symbol=True),
            Window("orders-pending", 60, 2, Scope.ACCOUNT),
            Window("fills-history", 10, 2, Scope.ACCOUNT),
            Window("balance", 10, 2, Scope.ACCOUNT),
            Window("currencies", 6, 1, Scope.ACCOUNT),
            Window("instruments", 20, 2),
            Window("books", 40, 2),
            Window("sub-account", 1000, 2, Scope.ACCOUNT),
            Window("funding-rate", 20, 2),
            Window("transfer", 2, 1, Scope.ACCOUNT),
            Window("other", 10, 2, Scope.ACCOUNT, per_endpoint=True),
        ),
        endpoints={
            "GET /api/v5/asset/currencies": {"currencies": 1},
            "GET /api/v5/public/instruments": {"instruments": 1},
            "GET /api/v5/market/books": {"books": 1},
            "GET /api/v5/account/balance": {"balance": 1},
            "POST /api/v5/trade/order": {"place": 1, "sub-account": 1},
            "POST /api/v5/trade/batch-orders": {"place": 1, "sub-account": 1},
            "POST /api/v5/trade/amend-order": {"amend": 1, "sub-account": 1},
            "POST /api/v5/trade/cancel-order": {"cancel": 1},
            "GET /api/v5/trade/order": {"order": 1},
            "GET /api/v5/trade/orders-pending": {"orders-pending": 1},
            "GET /api/v5/trade/fills-history": {"fills-history": 1},
            "GET /api/v5/public/funding-rate": {"funding-rate": 1},
            "POST /api/v5/asset/transfer": {"transfer": 1},
        },
        default={"other": 1},
        # HTTP 429, sometimes 200, with code 50011 (50061: the sub-account limit).
        breach=Breach(statuses={429: 2.0}, code_field="code", codes={"50011": 2.0, "50061": 2.0}),
        subscribe={"okx": SubscribeLimits(
            "okx.com/docs-v5 (WebSocket overview): 480 subscribe/unsubscribe/login requests per hour per connection",
            subscribes=Window("subscribe requests", 480, HOUR))},
    ),
    # the request an unmodified ccxt client places a spot order with (dYdX: its order transaction);
    # the router asks the limiter how many of these the venue grants now
    order_endpoint="POST /api/v5/trade/batch-orders",
    # the client order id this venue accepts (crossbook derives one per journaled order)
    client_id=ClientIdRule(
        "okx", "clOrdId", "clientOrderId", r"[A-Za-z0-9]{1,32}", IdStyle.TOKEN,
        "OKX v5 place order: clOrdId, 1-32 case-sensitive alphanumerics",
    ),
    # Fees (okx.com/fees, USDT and crypto pairs): Lv1-Lv5 by OKB holdings, VIP by 30-day volume; VIP 6+
    # makers earn a rebate. Perpetuals and futures: the base tier only (Lv1).
    fees=FeeSchedule(
        venue="okx",
        spot=(
            FeeTier("Lv1", 0, 0.0008, 0.0010),
            FeeTier("Lv2", 0, 0.00075, 0.00095, requires=">= 500 OKB"),
            FeeTier("Lv3", 0, 0.0007, 0.0009, requires=">= 1,000 OKB"),
            FeeTier("Lv4", 0, 0.00065, 0.00085, requires=">= 1,500 OKB"),
            FeeTier("Lv5", 0, 0.0006, 0.0008, requires=">= 2,000 OKB"),
            FeeTier("VIP 1", 10e6, 0.0006, 0.0008),
            FeeTier("VIP 2", 20e6, 0.0005, 0.0007),
            FeeTier("VIP 3", 50e6, 0.0003, 0.0006),
            FeeTier("VIP 4", 100e6, 0.0002, 0.0005),
            FeeTier("VIP 5", 200e6, 0.0, 0.0004),
            FeeTier("VIP 6", 500e6, -0.00002, 0.0003),
            FeeTier("VIP 7", 1e9, -0.00005, 0.00025),
            FeeTier("VIP 8", 10e9, -0.00005, 0.0002),
        ),
        derivatives=(FeeTier("Lv1", 0, 0.0002, 0.0005),),
    ),
    # ccxt options for a client that reads perpetuals (funding rates): the swap markets, which the
    # simulator's trading configuration leaves out (it loads spot only)
    perp_ccxt_options={"fetchMarkets": {"types": ["swap"]}},
    stream_trade=stream_trade,
    transfer=transfer,
    # OCO: OKX's algo order, whose legs are triggers (no orders) until one fires
    place_oco=place_oco,
    fetch_oco=fetch_oco,
    cancel_oco=cancel_oco,
    find_oco=find_oco,
    key_permissions=key_permissions,
    # POST /api/v5/asset/withdrawal: ``clientId`` (up to 32 alphanumerics, echoed in the withdrawal
    # history); ``amt`` is what the address receives, the fee comes on top. OKX's API lists no
    # withdrawal addresses; fees and minimums are /asset/currencies', which ccxt reads.
    withdrawals=WithdrawalRules("clientId", client_id_length=32, fee_on_top=True),
)
