"""Kraken spot: the WebSocket v2 ``book`` and ``trade`` channels on wss://ws.kraken.com/v2.

Book: subscribe with ``depth`` and ``snapshot: true``; a ``snapshot`` message starts the book, then
``update`` messages carry absolute quantities (qty 0 deletes). There are no sequence numbers.
Every message, the snapshot included, carries a CRC32 of the top 10 levels; after each update the
client truncates the book to the subscribed depth itself (no delete comes for a level pushed out of
the window). A checksum mismatch resubscribes that book. Heartbeats arrive about once a second
when nothing else flows.
Docs: docs.kraken.com/api/docs/websocket-v2/book, docs.kraken.com/api/docs/guides/spot-ws-book-v2
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any, ClassVar

import orjson

from ..book.checksum import crc32_unsigned
from ..book.l2 import L2Book
from ..errors import VenueUnavailable
from ..feeds.candles import Gap
from ..feeds.handler import Channels, FeedHandler, Frame, Resync
from ..model import BookState, Candle, Instrument, Interval, Kind, Side, Ticker, Trade
from ..symbols import canonical_asset, standard_symbol
from .spec import VenueSpec
from .spec.capabilities import (
    CONTRACTS,
    DERIVATIVES,
    SPOT_BOOK,
    Feature,
    OrderWire,
    Product,
    Support,
    VenueCapabilities,
)
from .spec.client_ids import UUID_PATTERN, ClientIdRule, IdStyle
from .spec.fees import FeeSchedule, FeeTier
from .spec.keys import KeyPermissions, from_ms, ip_list
from .spec.limits import ORDER_AGE, Breach, ByTier, Decaying, LimitTable, Window
from .spec.withdrawals import VenueAddress, WithdrawalLimits, WithdrawalRules

log = logging.getLogger(__name__)
loads = orjson.loads

# v2 prints price and qty as JSON numbers at the pair's full precision ("qty":0.10000000) and the
# checksum is taken over those digits, which a float drops; the levels are read as text instead.
_LEVEL = re.compile(r'"price"\s*:\s*([-+.0-9eE]+)\s*,\s*"qty"\s*:\s*([-+.0-9eE]+)')
_BIDS = '"bids"'
_ASKS = '"asks"'
CHECKSUM_LEVELS = 10


def raw_levels(text: str, key: str) -> list[tuple[str, str]]:
    """(price, qty) of one level list of a book message, as the number text Kraken sent."""
    start = text.find(key)
    if start < 0:
        return []
    return _LEVEL.findall(text, start, text.find("]", start))


def checksum_token(number: str) -> str:
    """A price or qty as it enters the checksum: "0.00100000" -> "100000"."""
    return number.replace(".", "").lstrip("0")


def book_checksum(book: L2Book) -> int:
    """CRC32 (unsigned) of the top 10 asks low -> high, then the top 10 bids high -> low, each level
    as price token + qty token (the same rule in v1 and v2)."""
    levels = book.top_strings(Side.SELL, CHECKSUM_LEVELS) + book.top_strings(Side.BUY, CHECKSUM_LEVELS)
    return crc32_unsigned("".join([checksum_token(p) + checksum_token(q) for p, q in levels]))


def rfc3339_seconds(stamp: str) -> float:
    """``2024-10-03T02:46:57.050170Z`` -> seconds since the epoch."""
    return datetime.fromisoformat(stamp).timestamp()


@lru_cache(maxsize=256)
def whole_seconds(stamp: str) -> float:
    """An ``interval_begin`` (on a whole minute, nanoseconds printed) -> seconds since the epoch."""
    return datetime.fromisoformat(stamp[:19]).replace(tzinfo=UTC).timestamp()


# ``ohlc`` intervals are minutes (Kraken also has 30, 10080 and 21600)
INTERVAL_MINUTES: dict[Interval, int] = {Interval.M1: 1, Interval.M5: 5, Interval.M15: 15, Interval.H1: 60,
                                         Interval.H4: 240, Interval.D1: 1440}
REST_CODES = {"BTC": "XBT", "DOGE": "XDG"}  # v2 names a pair's assets as REST's altnames do not
INTERVAL_NAMES: dict[Interval, str] = {interval: str(minutes) for interval, minutes in INTERVAL_MINUTES.items()}
BY_MINUTES = {minutes: interval for interval, minutes in INTERVAL_MINUTES.items()}


class KrakenSpot(FeedHandler):
    book_markers = (b'"book"',)  # an unreadable frame resyncs a book only if it carries these
    venue = "kraken"
    product = "spot"
    ws_url = "wss://ws.kraken.com"
    rest_url = "https://api.kraken.com"
    url_hosts = ("ws.kraken.com", "api.kraken.com")
    resync_by = Resync.RESUBSCRIBE
    keep_strings = True
    # Kraken publishes no per-connection subscription cap, only a rate limit on subscribe requests;
    # 50 pairs (book + trade) per socket keeps a reconnect's burst of snapshots small.
    max_streams = 100
    streams_per_symbol = 2
    ping_interval = 30.0  # optional {"method":"ping"}; heartbeats already keep the socket busy
    stale_after = 5.0  # a subscribed socket hears at least a heartbeat about every second
    # 10/25/100/500/1000 are offered. 100 levels cover the sweeps of routine order sizes, while
    # 500/1000 multiply snapshot size and update traffic for levels the checksum never verifies.
    depth: ClassVar[int] = 100
    pairs_path: ClassVar[str] = "/0/public/AssetPairs"
    ohlc_path: ClassVar[str] = "/0/public/OHLC"
    interval_names = INTERVAL_NAMES

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._req_id = 0
        # native -> the newest candle of each interval: it closes when a later interval_begin comes
        self.forming: dict[tuple[str, Interval], Candle] = {}

    # ---- subscribe -----------------------------------------------------------------------

    def connect_url(self, natives: list[str]) -> str:
        return f"{self.ws_base}/v2"

    def subscribe_messages(self, natives: list[str]) -> list[Frame]:
        return [
            self._request("subscribe", {"channel": "book", "symbol": natives, "depth": self.depth, "snapshot": True}),
            self._request("subscribe", {"channel": "trade", "symbol": natives, "snapshot": False}),
            *(self._request("subscribe", {**p, "symbol": natives, "snapshot": True}) for p in self.market_params()),
        ]

    def unsubscribe_messages(self, natives: list[str]) -> list[Frame]:
        return [
            self._request("unsubscribe", {"channel": "book", "symbol": natives, "depth": self.depth}),
            self._request("unsubscribe", {"channel": "trade", "symbol": natives}),
            *(self._request("unsubscribe", {**p, "symbol": natives}) for p in self.market_params()),
        ]

    def market_params(self) -> list[dict[str, Any]]:
        """The ``ticker`` and ``ohlc`` subscriptions of this feed's channels, less the symbols."""
        params: list[dict[str, Any]] = [{"channel": "ohlc", "interval": INTERVAL_MINUTES[i]} for i in self.channels.candles]
        return [{"channel": "ticker"}, *params] if self.channels.ticker else params

    @classmethod
    def market_streams(cls, channels: Channels) -> int:
        return len(channels.candles) + (1 if channels.ticker else 0)

    def ping_message(self) -> Frame:
        self._req_id += 1
        return orjson.dumps({"method": "ping", "req_id": self._req_id})

    def _request(self, method: str, params: dict[str, Any]) -> bytes:
        self._req_id += 1
        return orjson.dumps({"method": method, "params": params, "req_id": self._req_id})

    # ---- frames (hot path) ---------------------------------------------------------------

    def on_frame(self, data: Frame, ts: float) -> None:
        self.link.last_rx = ts
        self.messages += 1
        text = data.decode() if isinstance(data, bytes) else data
        msg = loads(text)
        if type(msg) is not dict:
            self.errors += 1
            return
        channel = msg.get("channel")
        if channel == "book":
            self.on_book(msg, text, ts)
        elif channel == "trade":
            self.on_trades(msg["data"])
        elif channel == "ohlc":
            self.on_ohlc(msg["data"])
        elif channel == "ticker":
            self.on_ticker(msg["data"], ts)
        elif channel in ("heartbeat", "status"):
            return
        elif "method" in msg:
            self.on_response(msg)
        else:
            self.errors += 1

    def on_book(self, msg: dict[str, Any], text: str, ts: float) -> None:
        entry = msg["data"][0]
        native = entry["symbol"]
        book = self.books.get(native) or self.book(native)
        if book is None:
            return
        stamp = entry.get("timestamp")  # recorded snapshots have gone without one
        if stamp is not None:
            self.latency.add(rfc3339_seconds(stamp), ts)
        if msg["type"] == "snapshot":
            book.snapshot(raw_levels(text, _BIDS), raw_levels(text, _ASKS))
        elif book.state is BookState.LIVE:
            book.update(raw_levels(text, _BIDS), raw_levels(text, _ASKS))
            book.truncate(self.depth)
            book.stats.updates += 1
        else:
            return  # the tail of a subscription being replaced: its snapshot restarts the book
        book.updated_at = ts
        if book_checksum(book) != entry["checksum"]:
            book.stats.checksums_failed += 1
            self.resync(native, "checksum")
            return
        book.stats.checksums_ok += 1
        if book.state is not BookState.LIVE:
            self.go_live(book)

    def on_trades(self, trades: list[dict[str, Any]]) -> None:
        for t in trades:
            native = t["symbol"]
            self.emit_trade(
                Trade(
                    venue=self.venue,
                    symbol=self.symbols.get(native, native),
                    price=float(t["price"]),
                    amount=float(t["qty"]),
                    side=Side.BUY if t["side"] == "buy" else Side.SELL,
                    ts=rfc3339_seconds(t["timestamp"]),
                    trade_id=str(t["trade_id"]),
                )
            )

    # ---- market data beyond the book -------------------------------------------------------

    def on_ticker(self, data: list[dict[str, Any]], ts: float) -> None:
        """``ticker`` (on every trade by default), the rolling 24 hours: open is ``last - change``, the
        quote volume ``vwap * volume`` (Kraken publishes neither); stamped on receipt where the
        entry has no ``timestamp``:
        {"channel":"ticker","type":"update","data":[{"symbol":"ALGO/USD","bid":0.10025,"bid_qty":740.0,
        "ask":0.10036,"ask_qty":1361.44813783,"last":0.10035,"volume":997038.98383185,"vwap":0.10148,
        "low":0.09979,"high":0.10285,"change":-0.00017,"change_pct":-0.17}]}"""
        for t in data:
            native = t["symbol"]
            stamp = t.get("timestamp")
            last, volume = t["last"], t["volume"]
            self.emit_market(Ticker(self.venue, self.symbols.get(native, native),
                                    rfc3339_seconds(stamp) if stamp else ts, last - t["change"], t["high"], t["low"],
                                    last, volume, t["vwap"] * volume, t["bid"], t["ask"]))

    def on_ohlc(self, data: list[dict[str, Any]]) -> None:
        """``ohlc`` (on every trade): the candle as it stands; the one before closes when a later
        ``interval_begin`` comes (Kraken sends no final frame), its quote volume ``vwap * volume``:
        {"channel":"ohlc","type":"update","timestamp":"2023-10-04T16:26:30.524394914Z","data":[{"symbol":"MATIC/USD",
        "open":0.5624,"high":0.5628,"low":0.5622,"close":0.5627,"trades":12,"volume":30927.68066226,"vwap":0.5626,
        "interval_begin":"2023-10-04T16:25:00.000000000Z","interval":5,"timestamp":"2023-10-04T16:30:00.000000Z"}]}"""
        for c in data:
            interval = BY_MINUTES.get(c["interval"])
            if interval is None:
                continue  # 30 minutes, a week, 15 days: not kept
            native = c["symbol"]
            candle = Candle(self.venue, self.symbols.get(native, native), interval, whole_seconds(c["interval_begin"]),
                            c["open"], c["high"], c["low"], c["close"], c["volume"], c["vwap"] * c["volume"], False)
            self.forming_candle(candle, native)

    def forming_candle(self, candle: Candle, native: str) -> None:
        """Emit ``candle`` as forming, first closing the one it follows (an older one is stale: dropped)."""
        key = (native, candle.interval)
        held = self.forming.get(key)
        if held is not None and held.open_time > candle.open_time:
            return
        if held is not None and held.open_time < candle.open_time:
            self.emit_candle(replace(held, closed=True), native)
        self.forming[key] = candle
        self.emit_candle(candle, native)

    def connection_opened(self) -> None:
        super().connection_opened()
        self.forming.clear()  # a candle held across a disconnect may have missed its last trades

    def candles_url(self, gap: Gap) -> str:
        """From the candle before the gap: ``since`` returns those after it."""
        minutes = INTERVAL_MINUTES[gap.interval]
        since = int(gap.start) - gap.interval.seconds
        pair = "".join(REST_CODES.get(code, code) for code in gap.native.split("/"))  # BTC/USD -> XBTUSD, an altname
        return f"{self.rest_base}{self.ohlc_path}?pair={pair}&interval={minutes}&since={since}"

    def parse_candles(self, gap: Gap, body: bytes | str) -> list[Candle]:
        """``GET /0/public/OHLC``: per pair rows of time, open, high, low, close, vwap, volume, count
        (oldest first, the newest still forming), and ``last``:
        {"error":[],"result":{"XXBTZUSD":[[1688671200,"30306.1","30306.2","30305.7","30305.7","30306.1",
        "3.39243896",23]],"last":1688672160}}"""
        msg = loads(body)
        if msg.get("error"):
            raise VenueUnavailable(f"kraken OHLC: {', '.join(msg['error'])}")
        rows = next(v for k, v in msg["result"].items() if k != "last")
        symbol = self.symbols.get(gap.native, gap.native)
        return [Candle(self.venue, symbol, gap.interval, float(r[0]), float(r[1]), float(r[2]), float(r[3]),
                       float(r[4]), float(r[6]), float(r[5]) * float(r[6]), True) for r in rows]

    def on_response(self, msg: dict[str, Any]) -> None:
        """Acks of subscribe/unsubscribe and pongs; a refused request is logged, the book it was
        for stays out of LIVE."""
        if msg.get("success", True) is False:
            log.warning("kraken %s refused: %s (%s)", msg.get("method"), msg.get("error"), msg.get("symbol"))

    # ---- instruments ---------------------------------------------------------------------

    def instruments_urls(self) -> list[str]:
        return [f"{self.rest_base}{self.pairs_path}"]

    def parse_instruments(self, bodies: list[bytes]) -> list[Instrument]:
        body = loads(bodies[0])
        if body.get("error"):
            raise VenueUnavailable(f"kraken AssetPairs: {', '.join(body['error'])}")
        return [self.instrument(p) for p in body["result"].values() if p.get("wsname")]  # dark pools have none

    def instrument(self, pair: dict[str, Any]) -> Instrument:
        """v2 names a pair by its ``wsname`` with XBT and XDG spelt BTC and DOGE: XBT/USD -> BTC/USD."""
        base, quote = (canonical_asset(code) for code in pair["wsname"].split("/"))
        return Instrument(
            venue=self.venue,
            native=f"{base}/{quote}",
            symbol=standard_symbol(base, quote),
            base=base,
            quote=quote,
            kind=Kind.SPOT,
            tick=float(pair.get("tick_size") or 10.0 ** -pair["pair_decimals"]),
            lot=10.0 ** -pair["lot_decimals"],
        )


# REST limits (docs.kraken.com/api/docs/guides/spot-rest-ratelimits and .../spot-ratelimits): a call
# counter per API key (history calls cost 2) and, in the matching engine, a counter per pair for
# AddOrder and CancelOrder, which a cancel raises by 8 down to 0 the longer the order rested (pass
# ORDER_AGE; unknown counts as 8). Maxima and decay per second by verification tier; public calls
# about 1 per second per IP (ccxt 4.5.90). The SPEC's limits are Starter's, the strictest.
def _limits_for_tier(counter_max: float, counter_decay: float, trading_max: float, trading_decay: float) -> LimitTable:
    return LimitTable(
        venue="kraken",
        pools=(
            Window("public", 1, 1),
            Decaying("counter", counter_max, counter_decay),
            Decaying("trading", trading_max, trading_decay, per_symbol=True),
        ),
        endpoints={
            "GET /0/public/{method}": {"public": 1},
            "POST /0/private/AddOrder": {"trading": 1},
            "POST /0/private/CancelOrder": ByTier(
                ORDER_AGE,
                (
                    (5, {"trading": 8}),
                    (10, {"trading": 6}),
                    (15, {"trading": 5}),
                    (45, {"trading": 4}),
                    (90, {"trading": 2}),
                    (300, {"trading": 1}),
                ),
                absent={"trading": 8},
                above={},
            ),
            # an amend: 1, plus 3 / 2 / 1 for an order younger than 5 / 10 / 15 s
            "POST /0/private/AmendOrder": ByTier(
                ORDER_AGE,
                ((5, {"trading": 4}), (10, {"trading": 3}), (15, {"trading": 2})),
                absent={"trading": 4},
                above={"trading": 1},
            ),
            "POST /0/private/TradesHistory": {"counter": 2},
            "POST /0/private/QueryTrades": {"counter": 2},
            "POST /0/private/Ledgers": {"counter": 2},
            "POST /0/private/QueryLedgers": {"counter": 2},
            "POST /0/private/{method}": {"counter": 1},
        },
        default={"counter": 1},
        # Errors come in the body's error list, mostly with HTTP 200.
        breach=Breach(
            statuses={429: 1 / counter_decay},
            messages={
                "EAPI:Rate limit exceeded": 1 / counter_decay,
                "EGeneral:Too many requests": 1 / counter_decay,
                "EOrder:Rate limit exceeded": 1 / trading_decay,
                "EService: Throttled": 1.0,
            },
            until=r"EService: ?Throttled: ?(\d+)",
        ),
    )


LIMITS_BY_TIER = {
    "starter": _limits_for_tier(15, 0.33, 60, 1.0),
    "intermediate": _limits_for_tier(20, 0.5, 125, 2.34),
    "pro": _limits_for_tier(20, 1.0, 180, 3.75),
}


async def key_permissions(client: Any) -> KeyPermissions:
    """``POST /0/private/GetApiKeyInfo``: ``permissions`` (query-funds, modify-trades,
    withdraw-funds...), ``ipAllowlist``, ``createdTime`` and ``validUntil`` (unix seconds; 0:
    never). Kraken's WalletTransfer takes the withdraw-funds permission."""
    r = (await client.privatePostGetApiKeyInfo()).get("result") or {}
    perms = set(r.get("permissions") or [])
    return KeyPermissions(
        read=any(p.startswith("query-") for p in perms),
        trade=bool(perms & {"modify-trades", "cancel-close-trades"}),
        withdraw="withdraw-funds" in perms,
        transfer="withdraw-funds" in perms,
        ips=ip_list(r.get("ipAllowlist")),
        created=from_ms(float(r["createdTime"]) * 1000) if r.get("createdTime") else None,
        expires=from_ms(float(r["validUntil"]) * 1000) if r.get("validUntil") else None,
        source="POST /0/private/GetApiKeyInfo",
    )


# Kraken's network names (WithdrawMethods' ``network``) as crossbook's whitelist names them
NETWORKS = {"Bitcoin": "BTC", "Ethereum": "ETH", "Tron": "TRX"}


def network_code(name: str) -> str:
    return NETWORKS.get(name, name.upper())


async def withdraw_methods(client: Any, asset: str | None = None) -> list[dict[str, Any]]:
    """``POST /0/private/WithdrawMethods``: one row per asset and method, with its ``network``,
    ``minimum`` and ``fee``."""
    await client.load_markets()
    params = {} if asset is None else {"asset": client.currency(asset)["id"]}
    return list((await client.privatePostWithdrawMethods(params)).get("result") or [])


async def withdrawal_addresses(client: Any) -> list[VenueAddress]:
    """``POST /0/private/WithdrawAddresses``: the addresses set up for withdrawal, each under its
    withdrawal ``key`` (the name a withdrawal gives); the network is its method's."""
    networks = {row["method"]: network_code(row["network"]) for row in await withdraw_methods(client)}
    rows = (await client.privatePostWithdrawAddresses({"verified": "true"})).get("result") or []
    return [VenueAddress(client.safe_currency_code(r["asset"]), r["address"], networks.get(r.get("method")),
                         r.get("memo") or None, r["key"]) for r in rows]


async def withdrawal_limits(client: Any, asset: str, network: str | None) -> WithdrawalLimits:
    """The ``minimum`` and ``fee`` of the asset's withdrawal method on ``network`` (None: the
    first listed); an asset or network with no method withdraws nowhere."""
    rows = await withdraw_methods(client, asset)
    row = next((r for r in rows if network is None or network_code(r["network"]) == network), None)
    if row is None:
        return WithdrawalLimits(asset, network, None, None, enabled=False)
    fee = (row.get("fee") or {}).get("fee")
    return WithdrawalLimits(asset, network, None if fee is None else Decimal(str(fee)), Decimal(str(row["minimum"])))


SPEC: VenueSpec[type[FeedHandler]] = VenueSpec(
    venue="kraken",
    kind="cex",
    tier=2,
    ccxt_id="kraken",
    feeds={"kraken": KrakenSpot},
    # Sources: Kraken spot REST AddOrder (docs.kraken.com: order types, timeinforce GTC/IOC/GTD,
    # oflags post, displayvol, reduce_only, conditional close) and Kraken Futures docs; the futures
    # products trade on Kraken Futures, a separate API (ccxt krakenfutures).
    capabilities=VenueCapabilities(
        venue="kraken",
        products={
            Product.SPOT: Support.yes(feeds=("kraken",)),
            Product.MARGIN: Support.yes("leverage on AddOrder; orders trade the spot book", feeds=("kraken",)),
            Product.LINEAR_PERP: Support.yes("Kraken Futures"),
            Product.INVERSE_PERP: Support.yes("Kraken Futures"),
            Product.FUTURES: Support.yes("Kraken Futures"),
            Product.OPTIONS: Support.no(),
        },
        features={
            Feature.LIMIT: Support.yes(),
            Feature.MARKET: Support.yes(),
            Feature.STOP: Support.yes("ordertype stop-loss"),
            Feature.STOP_LIMIT: Support.yes("ordertype stop-loss-limit"),
            Feature.POST_ONLY: Support.yes("oflags=post"),
            Feature.IOC: Support.yes(),
            # ccxt 4.5.90 lists FOK for kraken spot; Kraken's AddOrder timeinforce has none.
            Feature.FOK: Support.no("AddOrder timeinforce is GTC, IOC or GTD"),
            Feature.REDUCE_ONLY: Support.yes(only=DERIVATIVES | {Product.MARGIN}),
            Feature.ICEBERG: Support.yes("ordertype iceberg with displayvol", only=SPOT_BOOK),
            Feature.OCO: Support.no(),
            Feature.TP_SL: Support.no("a conditional close attaches one take-profit or stop-loss, not a pair"),
            Feature.HEDGE_MODE: Support.no(),
            Feature.CROSS_MARGIN: Support.yes(),
            Feature.ISOLATED_MARGIN: Support.yes("Kraken Futures leverage preference", only=CONTRACTS),
            Feature.UNIFIED_ACCOUNT: Support.no(),
            Feature.PORTFOLIO_MARGIN: Support.no(),
            Feature.SUB_ACCOUNTS: Support.yes("institutional accounts; ccxt's transfer() is WalletTransfer, spot to futures only"),
            Feature.TESTNET: Support.yes("demo-futures.kraken.com; spot has none", only=CONTRACTS),
            Feature.KEY_PERMISSIONS: Support.yes("POST /0/private/GetApiKeyInfo: permissions, ipAllowlist, createdTime, validUntil"),
        },
    ).traded((Feature.KEY_PERMISSIONS,
              Product.SPOT, Feature.LIMIT, Feature.MARKET, Feature.POST_ONLY, Feature.IOC, Feature.SUB_ACCOUNTS,
              Feature.STOP, Feature.STOP_LIMIT),
             OrderWire(stop_trigger="stopLossPrice")),  # ccxt: ordertype stop-loss(-limit), price the trigger, price2 the limit
    limits=LIMITS_BY_TIER["starter"],
    # the request an unmodified ccxt client places a spot order with (dYdX: its order transaction);
    # the router asks the limiter how many of these the venue grants now
    order_endpoint="POST /0/private/AddOrder",
    # AmendOrder changes the order in place: "the order identifiers assigned by Kraken and/or client
    # will stay the same" (docs.kraken.com, Amend Order); its amend_id is no order id
    amend_keeps_order_id=True,
    # the client order id this venue accepts (crossbook derives one per journaled order)
    client_id=ClientIdRule(
        "kraken", "cl_ord_id", "clientOrderId", UUID_PATTERN + r"|[0-9a-f]{32}", IdStyle.UUID,
        "Kraken spot cl_ord_id: long UUID, short (32 hex) UUID, or free text of at most 18 characters; "
        "only the UUID forms are accepted here (userref, an int32 without uniqueness, is not used)",
    ),
    # Fees (kraken.com/features/fee-schedule, Kraken Pro crypto pairs; stablecoin and FX pairs have
    # their own schedule). The ladder above the base tier is from secondary sources; the account's
    # tier comes from TradeVolume.
    fees=FeeSchedule(
        venue="kraken",
        spot=(
            FeeTier("Pro 0", 0, 0.0025, 0.0040),
            FeeTier("Pro 10K", 10_001, 0.0020, 0.0035),
            FeeTier("Pro 50K", 50_001, 0.0014, 0.0024),
            FeeTier("Pro 100K", 100_001, 0.0012, 0.0022),
            FeeTier("Pro 250K", 250_001, 0.0010, 0.0020),
            FeeTier("Pro 500K", 500_001, 0.0008, 0.0018),
            FeeTier("Pro 1M", 1_000_001, 0.0006, 0.0016),
            FeeTier("Pro 2.5M", 2_500_001, 0.0004, 0.0014),
            FeeTier("Pro 5M", 5_000_001, 0.0002, 0.0012),
            FeeTier("Pro 10M", 10_000_001, 0.0, 0.0010),
        ),
    ),
    key_permissions=key_permissions,
    # Withdraw names the destination by its withdrawal ``key`` (an address set up at Kraken) and
    # takes no client id: crossbook reconciles by amount, address and time; the fee comes on top
    withdrawals=WithdrawalRules(None, address_book=withdrawal_addresses, limits=withdrawal_limits, fee_on_top=True,
                                address_param="key"),
)
