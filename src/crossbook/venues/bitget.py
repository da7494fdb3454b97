"""Bitget v2 spot and USDT-M futures: the ``books`` channel, kept in sync by checksum.

Subscribing to ``books`` brings a full-depth ``snapshot``, then ``update`` messages with absolute
sizes per price (size 0 deletes). ``seq`` grows but is not promised to step by one and there is
no previous-seq field, so the only continuity check is the checksum every message carries: a
signed CRC32 of ``bid1px:bid1sz:ask1px:ask1sz:...`` over the best 25 levels per side, built from
the exchange's own strings. A mismatch on an update means an update was lost or misapplied: the
book is resubscribed for a fresh snapshot. A checksum of 0 means none was sent.
Keep-alive: the text ``ping`` every 30 s, answered by ``pong``; the server drops a connection
that sent no ping for 2 minutes and cuts every connection after 24 h.
Docs: bitget.com/api-doc/spot/websocket/public/Depth-Channel, .../common/websocket-intro
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any, ClassVar

import orjson

from ..book.checksum import crc32_signed, interleaved
from ..book.l2 import L2Book
from ..errors import VenueUnavailable
from ..feeds.handler import FeedHandler, Frame, Resync
from ..model import Instrument, Kind, Side, Trade
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
from .spec.keys import KeyPermissions, ip_list
from .spec.limits import HOUR, MINUTE, Breach, LimitTable, Scope, SubscribeLimits, Window
from .spec.withdrawals import WithdrawalRules

log = logging.getLogger(__name__)
loads = orjson.loads

CHECKSUM_DEPTH = 25
PONG = ("pong", b"pong")
OK_CODE = "00000"
BAD_FRAME = (orjson.JSONDecodeError, KeyError, IndexError, TypeError, ValueError, AttributeError)


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
            for channel in ("books", "trade")
        ]
        return orjson.dumps({"op": op, "args": args})

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
)
