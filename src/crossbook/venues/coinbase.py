"""Coinbase Advanced Trade spot: the public market-data WebSocket, books synced in-band.

Subscribe ``level2``, ``market_trades`` and ``heartbeats`` (one channel per message, no JWT: the
docs list none of the three as needing authentication). ``level2`` answers with a ``snapshot``
event on channel ``l2_data``, then ``update`` events; ``new_quantity`` is the level's absolute size
and "0" removes it. Heartbeats arrive every second and keep quiet channels open (they close after
60-90 s without updates).

``sequence_num`` is one counter per connection across every channel (observed; the docs say per
product), so a gap means an unknown message of any book was lost: every book being updated on the
connection resyncs by resubscribing ``level2``, batched into one unsubscribe and one subscribe, once
the socket has gone ``loss_quiet`` without another gap (books awaiting their snapshot are left to it).
Docs: docs.cdp.coinbase.com/coinbase-app/advanced-trade-apis/websocket/websocket-channels
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import orjson

from ..book.l2 import L2Book
from ..feeds.candles import Gap
from ..feeds.handler import Channels, FeedHandler, Frame, Resync
from ..model import BookState, Candle, Instrument, Interval, Kind, Side, Ticker, Trade
from ..symbols import standard_symbol
from .spec import VenueSpec
from .spec.capabilities import (
    BASIC_ORDERS,
    Feature,
    Product,
    Support,
    VenueCapabilities,
)
from .spec.client_ids import UUID_PATTERN, ClientIdRule, IdStyle
from .spec.fees import FeeSchedule, FeeTier
from .spec.keys import KeyPermissions
from .spec.limits import HOUR, Breach, LimitTable, Scope, SubscribeLimits, Window

loads = orjson.loads

BOOK_CHANNEL = "level2"
SEQUENCE_NUM = re.compile(rb'"sequence_num":(\d+)')  # near the start of every message
TRADES_CHANNEL = "market_trades"
HEARTBEATS_CHANNEL = "heartbeats"
TICKER_CHANNEL = "ticker"
CANDLES_CHANNEL = "candles"  # 5-minute candles only
INTERVAL_NAMES: dict[Interval, str] = {Interval.M5: "FIVE_MINUTE"}  # the REST granularity of the socket's one length


@lru_cache(maxsize=64)
def _whole_seconds(prefix: str) -> float:
    return datetime.fromisoformat(prefix).replace(tzinfo=UTC).timestamp()


def rfc3339_seconds(text: str) -> float:
    """``2023-02-09T20:32:50.714964855Z`` -> unix seconds (digits past a float's precision drop)."""
    fraction = text[19:].rstrip("Z")
    whole = _whole_seconds(text[:19])
    return whole + float(fraction) if fraction else whole


# Coinbase counts unauthenticated messages per IP; crossbook paces each socket by the whole budget and
# staggers its sockets (connect_interval), each of which sends its few subscribes at once
SUBSCRIBE_LIMITS = SubscribeLimits(
    "docs.cdp.coinbase.com/coinbase-app/advanced-trade-apis/websocket/websocket-rate-limits: "
    "unauthenticated messages are limited to 8 per second per IP",
    messages=Window("unauthenticated messages", 8, 1),
)

class CoinbaseSpot(FeedHandler):
    book_markers = (b'"l2_data"',)  # an unreadable frame resyncs a book only if it carries these
    venue = "coinbase"
    product = "spot"
    ws_url = "wss://advanced-trade-ws.coinbase.com"
    rest_url = "https://api.coinbase.com"
    url_hosts = ("advanced-trade-ws.coinbase.com", "api.coinbase.com")
    resync_by = Resync.RESUBSCRIBE
    sequence_scope = "connection"
    # undocumented: "too many L2 streams requested in a single session" past 16 level2 products
    # (github.com/JKorf/Coinbase.Net/issues/19: 16 worked, 32 failed)
    connect_interval = 0.5  # each socket opens with 3 subscribes; 8 messages/s per IP unauthenticated
    max_streams = 32
    streams_per_symbol = 2  # level2 + market_trades; heartbeats is one per connection
    stale_after = 5.0  # heartbeats come every second
    loss_quiet = 2.0  # heartbeats come every second: a socket still losing messages shows a gap within one
    products_path = "/api/v3/brokerage/market/products"
    interval_names = INTERVAL_NAMES

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._seq: int | None = None
        # what this socket is subscribed to, so a resubscribe asks only for what is missing
        self._book_subs: set[str] = set()
        self._trade_subs: set[str] = set()
        self._heartbeats = False
        self._awaiting: set[str] = set()  # resynced books whose level2 is not unsubscribed yet
        self._market_subs: set[tuple[str, str]] = set()  # (channel, native) of ticker and candles
        self.forming: dict[str, Candle] = {}  # native -> its newest candle, closed when a later start comes

    # ---- subscribe -----------------------------------------------------------------------

    def subscribe_messages(self, natives: list[str]) -> list[Frame]:
        """Whatever of ``natives`` (and of books unsubscribed for a resync) this socket lacks."""
        frames: list[Frame] = []
        books = [n for n in dict.fromkeys([*natives, *self.books]) if n not in self._book_subs]
        trades = [n for n in natives if n not in self._trade_subs]
        if books:
            frames.append(self._request("subscribe", BOOK_CHANNEL, books))
            self._book_subs.update(books)
        if trades:
            frames.append(self._request("subscribe", TRADES_CHANNEL, trades))
            self._trade_subs.update(trades)
        for channel in self.market_channels():
            wanted = [n for n in natives if (channel, n) not in self._market_subs]
            if wanted:
                frames.append(self._request("subscribe", channel, wanted))
                self._market_subs.update((channel, n) for n in wanted)
        if not self._heartbeats:
            frames.append(orjson.dumps({"type": "subscribe", "channel": HEARTBEATS_CHANNEL}))
            self._heartbeats = True
        return frames

    def unsubscribe_messages(self, natives: list[str]) -> list[Frame]:
        """The driver resubscribes each resynced book with this then ``subscribe_messages``. A gap
        resyncs every book at once, so the first call unsubscribes level2 for all books awaiting
        a resubscribe (and the subscribe that follows takes them all back); the calls for books
        already served send nothing. Coinbase allows 8 unauthenticated messages/s per IP."""
        batch = [n for n in self.books if n in self._awaiting and n in self._book_subs]
        self._awaiting.clear()
        if not batch:
            return []
        self._book_subs.difference_update(batch)
        return [self._request("unsubscribe", BOOK_CHANNEL, batch)]

    def market_channels(self) -> list[str]:
        return ([TICKER_CHANNEL] if self.channels.ticker else []) + ([CANDLES_CHANNEL] if self.channels.candles else [])

    @classmethod
    def market_streams(cls, channels: Channels) -> int:
        return (1 if channels.ticker else 0) + (1 if channels.candles else 0)

    def _request(self, kind: str, channel: str, natives: list[str]) -> bytes:
        return orjson.dumps({"type": kind, "product_ids": natives, "channel": channel})

    def connection_opened(self) -> None:
        super().connection_opened()
        self._seq = None
        self._book_subs.clear()
        self._trade_subs.clear()
        self._heartbeats = False
        self._awaiting.clear()
        self._market_subs.clear()
        self.forming.clear()  # a candle held across a disconnect may have missed its last update

    def resync(self, native: str, reason: str) -> None:
        self._awaiting.add(native)
        super().resync(native, reason)

    # ---- frames (hot path) ---------------------------------------------------------------

    def on_frame(self, data: Frame, ts: float) -> None:
        self.link.last_rx = ts
        self.messages += 1
        try:
            self._dispatch(loads(data), ts)
        except (KeyError, TypeError, ValueError) as exc:  # a frame we cannot read may have held a book update
            self.errors += 1
            self._spend_sequence(data)
            self.frame_failed(data, exc, "bad frame")

    def _dispatch(self, msg: dict[str, Any], ts: float) -> None:
        seq = msg.get("sequence_num")
        if seq is not None and not self._in_sequence(seq):
            return
        channel = msg.get("channel")
        if channel == "l2_data":
            self.on_l2(msg, seq, ts)
        elif channel == "market_trades":
            self.on_trades(msg)
        elif channel == TICKER_CHANNEL:
            self.on_ticker(msg)
        elif channel == CANDLES_CHANNEL:
            self.on_candle_events(msg)
        elif msg.get("type") == "error":  # a refused subscription: that book never goes live
            self.errors += 1

    def _in_sequence(self, seq: int) -> bool:
        """True if the message should be read: the next number, the first one, or past a gap
        (every book being updated is resynced first). A number already seen is a duplicate: dropped."""
        last = self._seq
        if last is not None and seq != last + 1:
            if seq <= last:
                return False
            self.forming.clear()  # the lost message may have been a candle's last: REST fills it in
            self.message_lost("gap")
        self._seq = seq
        return True

    def _spend_sequence(self, data: Frame) -> None:
        """An unreadable message whose number can still be read spends it: the next message is no
        gap, and only the book the message named has lost something."""
        found = SEQUENCE_NUM.search(data.encode() if isinstance(data, str) else data)
        if found is not None:
            self._in_sequence(int(found.group(1)))

    def on_l2(self, msg: dict[str, Any], seq: int | None, ts: float) -> None:
        self.latency.add(rfc3339_seconds(msg["timestamp"]), ts)
        for ev in msg["events"]:
            native = ev["product_id"]
            book = self.books.get(native) or self.book(native)
            if book is None:
                continue
            if ev["type"] == "snapshot":
                self._apply(book, ev["updates"], snapshot=True)
                self.go_live(book)
            elif book.state is BookState.LIVE:
                self._apply(book, ev["updates"], snapshot=False)
                book.stats.updates += 1
            else:
                continue  # updates before this subscription's snapshot
            book.seq = seq
            book.updated_at = ts

    def _apply(self, book: L2Book, updates: list[dict[str, str]], *, snapshot: bool) -> None:
        bids: list[tuple[str, str]] = []
        asks: list[tuple[str, str]] = []
        for u in updates:
            (bids if u["side"] == "bid" else asks).append((u["price_level"], u["new_quantity"]))
        if snapshot:
            book.snapshot(bids, asks)
        else:
            book.update(bids, asks)

    def on_trades(self, msg: dict[str, Any]) -> None:
        for ev in msg["events"]:
            if ev.get("type") != "update":
                continue  # the snapshot on subscribe repeats trades from before it
            for t in ev["trades"]:
                native = t["product_id"]
                self.emit_trade(
                    Trade(
                        venue=self.venue,
                        symbol=self.symbols.get(native, native),
                        price=float(t["price"]),
                        amount=float(t["size"]),
                        # public trades carry the maker's side; crossbook reports the taker's
                        side=Side.SELL if t["side"] == "BUY" else Side.BUY,
                        ts=rfc3339_seconds(t["time"]),
                        trade_id=str(t["trade_id"]),
                    )
                )

    # ---- market data beyond the book -------------------------------------------------------

    def on_ticker(self, msg: dict[str, Any]) -> None:
        """``ticker``: the rolling 24 hours and the touch; open from ``price_percent_chg_24_h``, no
        quote volume:
        {"channel":"ticker","client_id":"","timestamp":"2023-02-09T20:30:37.167359596Z","sequence_num":0,
        "events":[{"type":"snapshot","tickers":[{"type":"ticker","product_id":"BTC-USD","price":"21932.98",
        "volume_24_h":"16038.28770938","low_24_h":"21835.29","high_24_h":"23011.18","low_52_w":"15460",
        "high_52_w":"48240","price_percent_chg_24_h":"-4.15775596190603","best_bid":"21931.98",
        "best_bid_quantity":"8000.21000000","best_ask":"21933.98","best_ask_quantity":"8038.07770938"}]}]}"""
        ts = rfc3339_seconds(msg["timestamp"])
        for ev in msg["events"]:
            for t in ev["tickers"]:
                native = t["product_id"]
                last = float(t["price"])
                growth = 1 + float(t["price_percent_chg_24_h"]) / 100
                bid, ask = t.get("best_bid"), t.get("best_ask")
                self.emit_market(Ticker(self.venue, self.symbols.get(native, native), ts, last / growth if growth else None,
                                        float(t["high_24_h"]), float(t["low_24_h"]), last, float(t["volume_24_h"]), None,
                                        float(bid) if bid else None, float(ask) if ask else None))

    def on_candle_events(self, msg: dict[str, Any]) -> None:
        """``candles``: the 5-minute candle as it stands (no final frame: the one before closes when
        a later ``start`` comes), ``start`` in epoch seconds, no quote volume:
        {"channel":"candles","client_id":"","timestamp":"2023-06-09T20:19:35.39625135Z","sequence_num":0,
        "events":[{"type":"snapshot","candles":[{"start":"1688998200","high":"1867.72","low":"1865.63",
        "open":"1867.38","close":"1866.81","volume":"0.20269406","product_id":"ETH-USD"}]}]}"""
        for ev in msg["events"]:
            for c in ev["candles"]:
                native = c["product_id"]
                candle = Candle(self.venue, self.symbols.get(native, native), Interval.M5, float(c["start"]),
                                float(c["open"]), float(c["high"]), float(c["low"]), float(c["close"]),
                                float(c["volume"]), None, False)
                held = self.forming.get(native)
                if held is not None and held.open_time > candle.open_time:
                    continue  # stale
                if held is not None and held.open_time < candle.open_time:
                    self.emit_candle(replace(held, closed=True), native)
                self.forming[native] = candle
                self.emit_candle(candle, native)

    def candles_url(self, gap: Gap) -> str:
        end = int(gap.end) + gap.interval.seconds
        return (f"{self.rest_base}{self.products_path}/{gap.native}/candles?start={int(gap.start)}&end={end}"
                f"&granularity={self.interval_names[gap.interval]}")

    def parse_candles(self, gap: Gap, body: bytes | str) -> list[Candle]:
        """``GET /api/v3/brokerage/market/products/{id}/candles``, newest first:
        {"candles":[{"start":"1639508050","low":"140.21","high":"140.21","open":"140.21","close":"140.21",
        "volume":"56437345"}]}"""
        symbol = self.symbols.get(gap.native, gap.native)
        return [Candle(self.venue, symbol, gap.interval, float(c["start"]), float(c["open"]), float(c["high"]),
                       float(c["low"]), float(c["close"]), float(c["volume"]), None, True)
                for c in reversed(loads(body)["candles"])]

    # ---- instruments ---------------------------------------------------------------------

    def instruments_urls(self) -> list[str]:
        return [f"{self.rest_base}{self.products_path}?product_type=SPOT"]

    def parse_instruments(self, bodies: list[bytes]) -> list[Instrument]:
        out = []
        for body in bodies:
            for p in loads(body)["products"]:
                if not _listed_spot(p):
                    continue
                base, quote = p["base_currency_id"], p["quote_currency_id"]
                out.append(
                    Instrument(
                        venue=self.venue,
                        native=p["product_id"],
                        symbol=standard_symbol(base, quote),
                        base=base,
                        quote=quote,
                        kind=Kind.SPOT,
                        tick=float(p.get("price_increment") or p["quote_increment"]),
                        lot=float(p["base_increment"]),
                    )
                )
        return out


def _listed_spot(p: dict[str, Any]) -> bool:
    """A tradable spot product with its own book. An ``alias`` (BTC-USDC -> BTC-USD) is another
    name for that product: its public channels carry the aliased product's data and id."""
    return (
        p.get("product_type") == "SPOT"
        and p.get("status") == "online"
        and not p.get("trading_disabled")
        and not p.get("is_disabled")
        and not p.get("alias")
    )


async def key_permissions(client: Any) -> KeyPermissions:
    """``GET /api/v3/brokerage/key_permissions``: ``can_view``, ``can_trade``, ``can_transfer``
    (sending funds out, which is Coinbase's withdrawal too); it reports no IP allowlist and no age."""
    r = await client.v3PrivateGetBrokerageKeyPermissions()
    return KeyPermissions(
        read=bool(r.get("can_view")),
        trade=bool(r.get("can_trade")),
        withdraw=bool(r.get("can_transfer")),
        transfer=bool(r.get("can_transfer")),
        ips=(),
        created=None,
        expires=None,
        source="GET /api/v3/brokerage/key_permissions",
    )


SPEC: VenueSpec[type[FeedHandler]] = VenueSpec(
    venue="coinbase",
    kind="cex",
    tier=2,
    ccxt_id="coinbase",
    feeds={
        "coinbase": CoinbaseSpot,
    },
    # Sources: Coinbase Advanced Trade API docs (docs.cdp.coinbase.com: orders guide, Create Order,
    # portfolios); ccxt 4.5.90 ``coinbase.features`` and ``urls`` (no test URL).
    capabilities=VenueCapabilities(
        venue="coinbase",
        products={
            Product.SPOT: Support.yes(feeds=("coinbase",)),
            Product.MARGIN: Support.no("Advanced Trade has no spot margin"),
            Product.LINEAR_PERP: Support.yes("perpetual-style futures (US) and INTX perpetuals, product_type FUTURE"),
            Product.INVERSE_PERP: Support.no(),
            Product.FUTURES: Support.yes("dated futures through Coinbase Financial Markets"),
            Product.OPTIONS: Support.no(),
        },
        features={
            Feature.LIMIT: Support.yes(),
            Feature.MARKET: Support.yes(),
            Feature.STOP: Support.no("stop orders are stop-limit only (stop_limit_stop_limit_gtc/gtd)"),
            Feature.STOP_LIMIT: Support.yes(),
            Feature.POST_ONLY: Support.yes("limit_limit_gtc/gtd post_only"),
            Feature.IOC: Support.yes("sor_limit_ioc, market_market_ioc"),
            Feature.FOK: Support.yes("limit_limit_fok"),
            Feature.REDUCE_ONLY: Support.no("no reduce-only field in the documented order configurations"),
            Feature.ICEBERG: Support.no(),
            Feature.OCO: Support.no("trigger_bracket orders bracket a position; there is no general OCO"),
            Feature.TP_SL: Support.no("trigger_bracket is a separate exit order, not attached to an entry"),
            Feature.HEDGE_MODE: Support.no(),
            Feature.CROSS_MARGIN: Support.yes(
                "futures and perpetuals, margin_type CROSS", only={Product.LINEAR_PERP, Product.FUTURES}
            ),
            Feature.ISOLATED_MARGIN: Support.yes("INTX perpetuals, margin_type ISOLATED", only={Product.LINEAR_PERP}),
            Feature.UNIFIED_ACCOUNT: Support.no(),
            Feature.PORTFOLIO_MARGIN: Support.no(),
            Feature.SUB_ACCOUNTS: Support.yes("portfolios, with funds moved between them"),
            Feature.TESTNET: Support.no("only a static sandbox with canned responses"),
            Feature.KEY_PERMISSIONS: Support.yes(
                "GET /api/v3/brokerage/key_permissions: can_view, can_trade, can_transfer; no IPs, no age"
            ),
        },
    ).traded((Feature.KEY_PERMISSIONS,
              Product.SPOT, *BASIC_ORDERS, Feature.SUB_ACCOUNTS)),
    # REST limits: Advanced Trade allows 30 requests per second per user on private endpoints and 10 per
    # second per IP on public ones; the v2 (Coinbase App) endpoints ccxt also calls allow 10,000 per hour,
    # per key or, unsigned, per IP. Secondary sources and ccxt 4.5.90; Coinbase sends no limit headers.
    limits=LimitTable(
        venue="coinbase",
        pools=(
            Window("private", 30, 1, Scope.ACCOUNT),
            Window("public", 10, 1),
            Window("v2-private", 10_000, HOUR, Scope.ACCOUNT),
            Window("v2-public", 10_000, HOUR),
        ),
        endpoints={
            "GET /v2/currencies": {"v2-public": 1},
            "GET /v2/currencies/crypto": {"v2-public": 1},
            "GET /v2/exchange-rates": {"v2-public": 1},
            "GET /v2/accounts": {"v2-private": 1},
            "GET /api/v3/brokerage/market/products": {"public": 1},
            "GET /api/v3/brokerage/market/product_book": {"public": 1},
            "GET /api/v3/brokerage/transaction_summary": {"private": 1},
            "POST /api/v3/brokerage/orders": {"private": 1},
            "POST /api/v3/brokerage/orders/batch_cancel": {"private": 1},
            "POST /api/v3/brokerage/orders/edit": {"private": 1},
            "GET /api/v3/brokerage/portfolios": {"private": 1},
            "POST /api/v3/brokerage/portfolios/move_funds": {"private": 1},
            "GET /api/v3/brokerage/orders/historical/batch": {"private": 1},
            "GET /api/v3/brokerage/orders/historical/fills": {"private": 1},
            "GET /api/v3/brokerage/orders/historical/{order_id}": {"private": 1},
        },
        default={"private": 1},
        breach=Breach(statuses={429: 1.0}),
        subscribe={"coinbase": SUBSCRIBE_LIMITS},
    ),
    # the request an unmodified ccxt client places a spot order with (dYdX: its order transaction);
    # the router asks the limiter how many of these the venue grants now
    order_endpoint="POST /api/v3/brokerage/orders",
    # the client order id this venue accepts (crossbook derives one per journaled order)
    client_id=ClientIdRule(
        "coinbase", "client_order_id", "client_order_id", UUID_PATTERN, IdStyle.UUID,
        "Coinbase Advanced Trade create order: client_order_id, a UUID by convention",
    ),
    # Fees (Coinbase Advanced; help.coinbase.com/en/coinbase/trading-and-funding/advanced-trade/
    # advanced-trade-fees points to the signed-in fee page: the ladder here is from secondary sources,
    # the account's tier comes from /api/v3/brokerage/transaction_summary).
    fees=FeeSchedule(
        venue="coinbase",
        spot=(
            FeeTier("Intro 1", 0, 0.006, 0.012),
            FeeTier("Intro 2", 10e3, 0.004, 0.006),
            FeeTier("Advanced 1", 50e3, 0.0025, 0.004),
            FeeTier("Advanced 2", 100e3, 0.00125, 0.0025),
            FeeTier("Advanced 3", 1e6, 0.00075, 0.002),
            FeeTier("VIP 1", 15e6, 0.0005, 0.0018),
            FeeTier("VIP 2", 75e6, 0.0, 0.0016),
            FeeTier("VIP 3", 250e6, 0.0, 0.0012),
        ),
    ),
    key_permissions=key_permissions,
)
