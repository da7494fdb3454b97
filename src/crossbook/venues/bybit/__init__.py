"""Bybit v5 public WebSocket: spot, linear (USDT/USDC perpetuals and futures) and inverse contracts,
one socket per category (wss://stream.bybit.com/v5/public/{spot,linear,inverse}).

Book topic ``orderbook.{depth}.{symbol}``: the first message after subscribing is a ``snapshot``,
then ``delta`` messages with absolute sizes ("0" deletes a level). Any new snapshot replaces the
book, and so does ``u == 1`` (the service restarted). A delta must carry ``u == previous u + 1``;
``u <= previous`` is stale and dropped, anything else is a gap: resubscribe for a fresh snapshot.
``seq`` is a cross sequence shared by every depth of a symbol and is not contiguous, so it is not
checked. There is no checksum.

Depth 50 on every category: it is the deepest book pushed every 20 ms (200 and 1000 come every
100-200 ms, level 1 is snapshot-only). Bybit keeps the subscribed window itself: a level pushed out
of the top 50 arrives as a size-0 delete and a level moving into it as an insert, so the local
book never needs truncating (the v5 page only says "apply the deltas"; the recorded top-25 feed in
shared/data/captures holds exactly 25 levels a side through 3260 messages this way).

Beyond the book: ``kline.{interval}.{symbol}`` (final when ``confirm``), ``tickers.{symbol}`` (spot:
snapshots of the rolling day; contracts: a snapshot, then deltas carrying only the fields that
changed, merged into the last full state per symbol, with mark, index, funding and open interest)
and, on contracts, ``allLiquidation.{symbol}``. A candle gap is filled from GET /v5/market/kline.

Keep-alive: send ``{"op":"ping"}`` every 20 s (answered by a pong frame); the server drops a
connection after 10 minutes without ping-pong or data.
Docs: bybit-exchange.github.io/docs/v5/ws/connect, /docs/v5/websocket/public/orderbook,
/docs/v5/websocket/public/trade, /ticker, /kline, /all-liquidation, /docs/v5/market/instrument, /kline
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any, ClassVar

import orjson

from ...book.l2 import L2Book, RawLevel
from ...errors import VenueUnavailable
from ...feeds.candles import Gap
from ...feeds.handler import Channels, FeedHandler, Frame, Resync
from ...model import (
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
from ..spec.funding import FundingClient, FundingSpec
from ..spec.keys import KeyPermissions, from_iso, ip_list
from ..spec.limits import Breach, ByParam, LimitTable, Scope, SubscribeLimits, Window
from ..spec.withdrawals import WithdrawalRules

log = logging.getLogger(__name__)
loads = orjson.loads

_KINDS: dict[str, Kind] = {
    "LinearPerpetual": Kind.PERP,
    "InversePerpetual": Kind.PERP,
    "LinearFutures": Kind.FUTURE,
    "InverseFutures": Kind.FUTURE,
}


# crossbook's intervals -> Bybit's (minutes, or D; Bybit also has 3 30 120 360 720 W M)
INTERVAL_NAMES: dict[Interval, str] = {
    Interval.M1: "1", Interval.M5: "5", Interval.M15: "15", Interval.H1: "60", Interval.H4: "240", Interval.D1: "D",
}
INTERVALS = {name: interval for interval, name in INTERVAL_NAMES.items()}
# the fields of a ticker that make a new Ticker when a delta carries one of them
TICKER_FIELDS = frozenset({"lastPrice", "prevPrice24h", "highPrice24h", "lowPrice24h", "volume24h", "turnover24h",
                           "bid1Price", "ask1Price"})


def expiry_of(delivery_ms: str) -> str:
    """``deliveryTime`` in ms -> YYYYMMDD (UTC)."""
    return datetime.fromtimestamp(int(delivery_ms) / 1000.0, tz=UTC).strftime("%Y%m%d")


# what one public spot socket may send: over 10 topics in one request Bybit answers
# {"success": false, "ret_msg": "args size >10"} and subscribes none of them
SPOT_SUBSCRIBE_LIMITS = SubscribeLimits(
    "bybit-exchange.github.io/docs/v5/ws/connect: spot accepts up to 10 args per subscription request",
    topics_per_message=10,
)

class BybitSpot(FeedHandler):
    book_markers = (b"orderbook.",)  # an unreadable frame resyncs a book only if it carries these
    venue = "bybit"
    product = "spot"
    ws_url = "wss://stream.bybit.com"
    rest_url = "https://api.bybit.com"
    url_hosts: ClassVar[tuple[str, ...]] = ("stream.bybit.com", "api.bybit.com")
    resync_by = Resync.RESUBSCRIBE
    # A public connection may hold at most 21,000 characters of topics (no count limit): 250
    # symbols x 2 topics of <= 40 quoted characters ("orderbook.50." + a 20-character symbol).
    max_streams = 500
    streams_per_symbol = 2
    ping_interval = 20.0
    stale_after = 30.0  # a healthy socket hears at least the pong to our 20 s ping
    category: ClassVar[str] = "spot"
    depth: ClassVar[int] = 50
    # spot refuses a subscribe with more topics ("args size >10")
    args_per_request: ClassVar[int | None] = SPOT_SUBSCRIBE_LIMITS.topics_per_message
    interval_names = INTERVAL_NAMES
    derivatives: ClassVar[bool] = False  # liquidations, and mark, index, funding in the ticker

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._req_id = 0
        self.ticker_state: dict[str, dict[str, Any]] = {}  # native -> its ticker, deltas merged in

    # ---- subscribe -----------------------------------------------------------------------

    def connect_url(self, natives: list[str]) -> str:
        return f"{self.ws_base}/v5/public/{self.category}"

    def subscribe_messages(self, natives: list[str]) -> list[Frame]:
        return self._requests("subscribe", natives)

    def unsubscribe_messages(self, natives: list[str]) -> list[Frame]:
        return self._requests("unsubscribe", natives)

    def _requests(self, op: str, natives: list[str]) -> list[Frame]:
        names = (f"orderbook.{self.depth}", "publicTrade", *self.market_topic_names(self.channels))
        topics = [f"{name}.{n}" for n in natives for name in names]
        size = self.args_per_request or len(topics)
        frames: list[Frame] = []
        for i in range(0, len(topics), size):
            self._req_id += 1
            frames.append(orjson.dumps({"op": op, "args": topics[i : i + size], "req_id": str(self._req_id)}))
        return frames

    @classmethod
    def market_topic_names(cls, channels: Channels) -> list[str]:
        """The topics ``channels`` subscribe per symbol, without the symbol."""
        names = [f"kline.{cls.interval_names[i]}" for i in channels.candles]
        if channels.ticker or (cls.derivatives and channels.funding):
            names.append("tickers")
        if cls.derivatives and channels.liquidations:
            names.append("allLiquidation")
        return names

    @classmethod
    def market_streams(cls, channels: Channels) -> int:
        return len(cls.market_topic_names(channels))

    def ping_message(self) -> Frame:
        return b'{"op":"ping"}'

    # ---- frames (hot path) ---------------------------------------------------------------

    def on_frame(self, data: Frame, ts: float) -> None:
        self.link.last_rx = ts
        self.messages += 1
        msg = loads(data)
        topic = msg.get("topic")
        if topic is None:
            self.on_reply(msg)
        elif topic.startswith("orderbook."):
            self.on_book(msg, ts)
        elif topic.startswith("publicTrade."):
            self.on_trades(msg, ts)
        elif topic.startswith("tickers."):
            self.on_ticker(msg)
        elif topic.startswith("kline."):
            self.on_kline(msg)
        elif topic.startswith("allLiquidation."):
            self.on_liquidations(msg)

    def on_book(self, msg: dict[str, Any], ts: float) -> None:
        d = msg["data"]
        native = d["s"]
        book = self.books.get(native) or self.book(native)
        if book is None:
            return
        self.latency.add(msg.get("cts", msg["ts"]) / 1000.0, ts)
        u = d["u"]
        if msg["type"] == "snapshot" or u == 1:
            book.clear()
            self.apply(book, d["b"], d["a"])
            book.seq = u
            self.go_live(book)
        else:
            last = book.seq
            if last is None or u <= last:
                return  # before this subscription's snapshot, or already applied
            if u != last + 1:
                self.resync(native, "gap")
                return
            self.apply(book, d["b"], d["a"])
            book.seq = u
        book.updated_at = ts
        book.stats.updates += 1

    def apply(self, book: L2Book, bids: list[RawLevel], asks: list[RawLevel]) -> None:
        book.update(bids, asks)

    def on_trades(self, msg: dict[str, Any], ts: float) -> None:
        self.latency.add(msg["ts"] / 1000.0, ts)
        for t in msg["data"]:
            native = t["s"]
            price = float(t["p"])
            self.emit_trade(
                Trade(
                    venue=self.venue,
                    symbol=self.symbols.get(native, native),
                    price=price,
                    amount=self.base_amount(float(t["v"]), price),
                    side=Side.BUY if t["S"] == "Buy" else Side.SELL,  # the taker's side
                    ts=t["T"] / 1000.0,
                    trade_id=str(t["i"]),
                )
            )

    def base_amount(self, size: float, price: float) -> float:
        return size

    # ---- market data beyond the book -------------------------------------------------------

    def on_kline(self, msg: dict[str, Any]) -> None:
        """``kline.{interval}.{symbol}``, final when ``confirm`` (the rows name no symbol: the topic does):
        {"topic":"kline.5.BTCUSDT","data":[{"start":1672324800000,"end":1672325099999,"interval":"5",
        "open":"16649.5","close":"16677","high":"16677","low":"16608","volume":"2.081",
        "turnover":"34666.4005","confirm":false,"timestamp":1672324988882}],"ts":1672324988882,"type":"snapshot"}"""
        native = msg["topic"].rpartition(".")[2]
        symbol = self.symbols.get(native, native)
        for k in msg["data"]:
            interval = INTERVALS.get(k["interval"])
            if interval is None:
                continue  # an interval crossbook does not keep (3, 30, W, ...)
            volume, quote_volume = self.volumes(k["volume"], k["turnover"])
            candle = Candle(self.venue, symbol, interval, k["start"] / 1000.0, float(k["open"]), float(k["high"]),
                            float(k["low"]), float(k["close"]), volume, quote_volume, k["confirm"])
            self.emit_candle(candle, native)

    def volumes(self, volume: str, turnover: str) -> tuple[float, float]:
        """A candle's or ticker's (base, quote) volumes from Bybit's volume and turnover."""
        return float(volume), float(turnover)

    def on_ticker(self, msg: dict[str, Any]) -> None:
        """``tickers.{symbol}``: spot sends snapshots of the rolling day; contracts a snapshot, then
        deltas of the fields that changed, each merged into the symbol's last full state:
        {"topic":"tickers.BTCUSDT","type":"snapshot","data":{"symbol":"BTCUSDT","tickDirection":"PlusTick",
        "price24hPcnt":"0.017103","lastPrice":"17216.00","prevPrice24h":"16926.50","highPrice24h":"17281.50",
        "lowPrice24h":"16915.00","prevPrice1h":"17238.00","markPrice":"17217.33","indexPrice":"17227.36",
        "openInterest":"68744.761","openInterestValue":"1183601235.91","turnover24h":"1570383121.943499",
        "volume24h":"91705.276","nextFundingTime":"1673280000000","fundingRate":"-0.000212","bid1Price":"17215.50",
        "bid1Size":"84.489","ask1Price":"17216.00","ask1Size":"83.020"},"cs":24987956059,"ts":1673272861686}"""
        d = msg["data"]
        native = d["symbol"]
        if msg.get("type") == "delta":
            state = self.ticker_state.get(native)
            if state is None:
                return  # a delta before this subscription's snapshot
            state.update(d)
        else:
            state = self.ticker_state[native] = dict(d)
        symbol, ts = self.symbols.get(native, native), msg["ts"] / 1000.0
        if not TICKER_FIELDS.isdisjoint(d) and state.get("lastPrice"):
            volume, quote_volume = self.volumes(state["volume24h"], state["turnover24h"])
            self.emit_market(Ticker(self.venue, symbol, ts, number(state.get("prevPrice24h")),
                                    number(state.get("highPrice24h")), number(state.get("lowPrice24h")),
                                    float(state["lastPrice"]), volume, quote_volume, number(state.get("bid1Price")),
                                    number(state.get("ask1Price"))))
        if not self.derivatives:
            return
        if "markPrice" in d and state["markPrice"]:
            self.emit_market(MarkPrice(self.venue, symbol, ts, float(state["markPrice"])))
        if "indexPrice" in d and state["indexPrice"]:
            self.emit_market(IndexPrice(self.venue, symbol, ts, float(state["indexPrice"])))
        if ("fundingRate" in d or "nextFundingTime" in d) and state.get("fundingRate"):  # futures have none
            next_ms = state.get("nextFundingTime")
            self.emit_market(FundingRate(self.venue, symbol, ts, float(state["fundingRate"]),
                                         int(next_ms) / 1000.0 if next_ms and next_ms != "0" else None,
                                         float(state.get("fundingIntervalHour") or 8)))
        if ("openInterest" in d or "openInterestValue" in d) and state.get("openInterest"):
            amount, value = self.open_interest(state["openInterest"], state.get("openInterestValue"))
            self.emit_market(OpenInterest(self.venue, symbol, ts, amount, value))

    def open_interest(self, size: str, value: str | None) -> tuple[float, float | None]:
        """(base, quote) of the ticker's openInterest and openInterestValue."""
        return float(size), number(value)

    def on_liquidations(self, msg: dict[str, Any]) -> None:
        """``allLiquidation.{symbol}`` (contracts), ``S`` the liquidated position's side (Buy: a long,
        so the forced order sells), ``p`` the bankruptcy price:
        {"topic":"allLiquidation.ROSEUSDT","type":"snapshot","ts":1739502303204,"data":[{"T":1739502302929,
        "s":"ROSEUSDT","S":"Sell","v":"20000","p":"0.04499"}]}"""
        for row in msg["data"]:
            native, price = row["s"], float(row["p"])
            side = Side.SELL if row["S"] == "Buy" else Side.BUY
            self.emit_market(Liquidation(self.venue, self.symbols.get(native, native), row["T"] / 1000.0, side, price,
                                         self.base_amount(float(row["v"]), price)))

    def candles_url(self, gap: Gap) -> str:
        name = self.interval_names[gap.interval]
        start, end = int(gap.start * 1000), int(gap.end * 1000)
        return (f"{self.rest_base}/v5/market/kline?category={self.category}&symbol={gap.native}&interval={name}"
                f"&start={start}&end={end}&limit=1000")

    def parse_candles(self, gap: Gap, body: bytes | str) -> list[Candle]:
        """``GET /v5/market/kline``: rows of start, OHLC, volume, turnover, newest first:
        {"retCode":0,"retMsg":"OK","result":{"symbol":"BTCUSD","category":"inverse","list":[["1670608800000",
        "17071","17073","17027","17055.5","268611","15.74462667"]]},"retExtInfo":{},"time":1672025956592}"""
        doc = loads(body)
        if doc.get("retCode") != 0:
            raise VenueUnavailable(f"{self.venue}: kline answered {doc.get('retCode')} {doc.get('retMsg')!r}")
        symbol = self.symbols.get(gap.native, gap.native)
        out = []
        for row in reversed(doc["result"]["list"]):
            volume, quote_volume = self.volumes(row[5], row[6])
            out.append(Candle(self.venue, symbol, gap.interval, int(row[0]) / 1000.0, float(row[1]), float(row[2]),
                              float(row[3]), float(row[4]), volume, quote_volume, True))
        return out

    def on_reply(self, msg: dict[str, Any]) -> None:
        """Subscribe/unsubscribe acks and pongs. A refused request is the one reply that matters."""
        if msg.get("success") is False:
            self.errors += 1
            log.warning("%s refused %s: %s", self.venue, msg.get("op"), msg.get("ret_msg"))

    # ---- instruments ---------------------------------------------------------------------

    def instruments_urls(self) -> list[str]:
        return [f"{self.rest_base}/v5/market/instruments-info?category={self.category}"]

    def parse_instruments(self, bodies: list[bytes]) -> list[Instrument]:
        out: list[Instrument] = []
        for body in bodies:
            doc = loads(body)
            if doc.get("retCode") != 0:
                raise VenueUnavailable(f"{self.venue}: instruments-info answered {doc.get('retCode')} {doc.get('retMsg')!r}")
            result = doc["result"]
            if result.get("nextPageCursor"):
                log.warning("%s: instruments-info has more than one page; only the first is used", self.venue)
            out.extend(self.instrument(s) for s in result["list"] if s.get("status") == "Trading")
        return out

    def instrument(self, s: dict[str, Any]) -> Instrument:
        kind = _KINDS.get(s.get("contractType", ""), Kind.SPOT)
        expiry = expiry_of(s["deliveryTime"]) if kind is Kind.FUTURE else None
        lots = s["lotSizeFilter"]
        return Instrument(
            venue=self.venue,
            native=s["symbol"],
            symbol=standard_symbol(s["baseCoin"], s["quoteCoin"], kind, expiry),
            base=s["baseCoin"],
            quote=s["quoteCoin"],
            kind=kind,
            tick=float(s["priceFilter"]["tickSize"]),
            lot=float(lots.get("qtyStep") or lots["basePrecision"]),
            expiry=expiry,
        )


class BybitLinear(BybitSpot):
    venue = "bybitlinear"
    product = "linear"
    url_hosts = ("stream.bybit.com/v5/public/linear",)
    category = "linear"
    args_per_request = None  # no per-request limit outside spot
    derivatives = True

    def instruments_urls(self) -> list[str]:
        # 1000 is the page maximum; Bybit lists well under that per derivatives category
        return [f"{self.rest_base}/v5/market/instruments-info?category={self.category}&limit=1000"]


class BybitInverse(BybitLinear):
    """Inverse contracts are worth 1 USD each: sizes arrive in contracts and are kept in the base
    coin (contracts / price) like every other book, so sweeps and trades compare across venues."""

    venue = "bybitinverse"
    product = "inverse"
    url_hosts = ("stream.bybit.com/v5/public/inverse",)
    category = "inverse"

    def apply(self, book: L2Book, bids: list[RawLevel], asks: list[RawLevel]) -> None:
        book.update(in_base(bids), in_base(asks))

    def base_amount(self, size: float, price: float) -> float:
        return size / price

    def volumes(self, volume: str, turnover: str) -> tuple[float, float]:
        """Inverse volume counts USD contracts, turnover the base coin."""
        return float(turnover), float(volume)

    def open_interest(self, size: str, value: str | None) -> tuple[float, float | None]:
        """openInterest in USD contracts, openInterestValue in the base coin."""
        return (float(value), float(size)) if value else (0.0, float(size))


def number(text: str | None) -> float | None:
    """A field Bybit may leave empty ("") or out."""
    return float(text) if text else None


def in_base(levels: list[RawLevel]) -> list[tuple[str, float]]:
    """[price, USD contracts] -> (price, base coin); size 0 stays 0 and still deletes."""
    return [(lv[0], float(lv[1]) / float(lv[0])) for lv in levels]


async def key_permissions(client: Any) -> KeyPermissions:
    """``GET /v5/user/query-api``: ``readOnly``, ``permissions`` by area (``Wallet`` holds
    AccountTransfer, SubMemberTransfer and Withdraw), ``ips`` (``["*"]``: unbound), ``createdAt``
    and ``expiredAt`` (set for keys bound to no IP)."""
    r = (await client.privateGetV5UserQueryApi()).get("result") or {}
    areas = r.get("permissions") or {}
    wallet = set(areas.get("Wallet") or [])
    trading = ("ContractTrade", "Spot", "Options", "Derivatives")
    return KeyPermissions(
        read=True,
        trade=str(r.get("readOnly")) == "0" and any(areas.get(area) for area in trading),
        withdraw="Withdraw" in wallet,
        transfer=bool(wallet & {"AccountTransfer", "SubMemberTransfer", "SubMemberTransferList"}),
        ips=ip_list(r.get("ips")),
        created=from_iso(r.get("createdAt")),
        expires=from_iso(r.get("expiredAt")),
        source="GET /v5/user/query-api",
    )


from .options import BybitOption  # noqa: E402  (it subclasses BybitLinear, above)

SPEC: VenueSpec[type[FeedHandler]] = VenueSpec(
    venue="bybit",
    kind="cex",
    tier=1,
    ccxt_id="bybit",
    feeds={
        "bybit": BybitSpot,
        "bybitlinear": BybitLinear,
        "bybitinverse": BybitInverse,
        "bybitoption": BybitOption,
    },
    # Sources: Bybit v5 API docs (bybit-exchange.github.io/docs/v5: order/create-order, position,
    # account); ccxt 4.5.90 ``bybit.features`` (no iceberg, attached TP/SL everywhere).
    capabilities=VenueCapabilities(
        venue="bybit",
        products={
            Product.SPOT: Support.yes(feeds=("bybit",)),
            Product.MARGIN: Support.yes("spot margin in the unified account (isLeverage=1)", feeds=("bybit",)),
            Product.LINEAR_PERP: Support.yes("USDT and USDC perpetuals", feeds=("bybitlinear",)),
            Product.INVERSE_PERP: Support.yes(feeds=("bybitinverse",)),
            Product.FUTURES: Support.yes("linear and inverse", feeds=("bybitlinear", "bybitinverse")),
            Product.OPTIONS: Support.yes("USDC-settled options: limit, post-only, reduce-only", feeds=("bybitoption",)),
        },
        features={
            Feature.LIMIT: Support.yes(),
            Feature.MARKET: Support.yes("not claimed on options", only=SPOT_BOOK | CONTRACTS),
            Feature.STOP: Support.yes("conditional order: triggerPrice with orderType Market", only=SPOT_BOOK | CONTRACTS),
            Feature.STOP_LIMIT: Support.yes("conditional order: triggerPrice with orderType Limit", only=SPOT_BOOK | CONTRACTS),
            Feature.POST_ONLY: Support.yes("timeInForce PostOnly"),
            Feature.IOC: Support.yes(),
            Feature.FOK: Support.yes(),
            Feature.REDUCE_ONLY: Support.yes(only=DERIVATIVES),
            Feature.ICEBERG: Support.no("not in /v5/order/create"),
            Feature.OCO: Support.no("spot OCO is a web-UI order; /v5/order/create has none"),
            Feature.TP_SL: Support.yes("takeProfit / stopLoss on /v5/order/create, spot limit orders included",
                                       only=SPOT_BOOK | CONTRACTS),
            Feature.HEDGE_MODE: Support.yes(
                "/v5/position/switch-mode: USDT perpetuals and inverse futures",
                only={Product.LINEAR_PERP, Product.FUTURES},
            ),
            Feature.CROSS_MARGIN: Support.yes(),
            Feature.ISOLATED_MARGIN: Support.yes(),
            Feature.UNIFIED_ACCOUNT: Support.yes("Unified Trading Account"),
            Feature.PORTFOLIO_MARGIN: Support.yes("a margin mode of the unified account"),
            Feature.SUB_ACCOUNTS: Support.yes(),
            Feature.TESTNET: Support.yes("api-testnet.bybit.com"),
            Feature.KEY_PERMISSIONS: Support.yes("GET /v5/user/query-api: permissions, ips, createdAt, expiredAt"),
        },
    ).traded((Feature.KEY_PERMISSIONS, Product.SPOT, Product.LINEAR_PERP, Product.OPTIONS,
              *BASIC_ORDERS, Feature.REDUCE_ONLY, Feature.SUB_ACCOUNTS, Feature.HEDGE_MODE,
              Feature.CROSS_MARGIN, Feature.ISOLATED_MARGIN, Feature.STOP, Feature.STOP_LIMIT, Feature.TP_SL),
             # a spot conditional order is read back and cancelled under orderFilter=StopOrder (ccxt: trigger)
             OrderWire(position_side=PositionSideParam("positionIdx", 1, 2), trigger_direction=DERIVATIVES,
                       triggers_apart=SPOT_BOOK)),
    # REST limits (bybit-exchange.github.io/docs/v5/rate-limit): 600 requests per 5 s per IP on all
    # traffic (over it: HTTP 403 and a 10 min ban); per UID, each endpoint has its own per-second limit,
    # order create and cancel 20/s on spot, 10/s on derivatives. Per-endpoint figures as in ccxt 4.5.90.
    limits=LimitTable(
        venue="bybit",
        pools=(
            Window("ip", 600, 5),
            Window("create-spot", 20, 1, Scope.ACCOUNT),
            Window("create", 10, 1, Scope.ACCOUNT),
            Window("cancel-spot", 20, 1, Scope.ACCOUNT),
            Window("cancel", 10, 1, Scope.ACCOUNT),
            Window("amend-spot", 20, 1, Scope.ACCOUNT),
            Window("amend", 10, 1, Scope.ACCOUNT),
            Window("universal-transfer", 5, 1, Scope.ACCOUNT),
            Window("realtime", 10, 1, Scope.ACCOUNT),
            Window("execution", 10, 1, Scope.ACCOUNT),
            Window("wallet-balance", 50, 1, Scope.ACCOUNT),
            Window("fee-rate", 5, 1, Scope.ACCOUNT),
            Window("account-info", 10, 1, Scope.ACCOUNT),
            Window("query-api", 10, 1, Scope.ACCOUNT),
            Window("coin-info", 1, 1, Scope.ACCOUNT),
            Window("other", 10, 1, Scope.ACCOUNT, per_endpoint=True),
        ),
        endpoints={
            "GET /v5/market/instruments-info": {},
            "GET /v5/market/orderbook": {},
            "GET /v5/asset/coin/query-info": {"coin-info": 1},
            "GET /v5/user/query-api": {"query-api": 1},
            "GET /v5/account/info": {"account-info": 1},
            "GET /v5/account/wallet-balance": {"wallet-balance": 1},
            "GET /v5/account/fee-rate": {"fee-rate": 1},
            "POST /v5/order/create": ByParam(
                "category", present={"create": 1}, absent={"create": 1}, values={"spot": {"create-spot": 1}}
            ),
            "POST /v5/order/cancel": ByParam(
                "category", present={"cancel": 1}, absent={"cancel": 1}, values={"spot": {"cancel-spot": 1}}
            ),
            "POST /v5/order/amend": ByParam(
                "category", present={"amend": 1}, absent={"amend": 1}, values={"spot": {"amend-spot": 1}}
            ),
            "POST /v5/asset/transfer/universal-transfer": {"universal-transfer": 1},
            "GET /v5/market/tickers": {},
            "GET /v5/order/realtime": {"realtime": 1},
            "GET /v5/execution/list": {"execution": 1},
        },
        default={"other": 1},
        every_request={"ip": 1},
        breach=Breach(
            statuses={429: 1.0, 403: 600.0},
            code_field="retCode",
            codes={"10006": 1.0, "10018": 5.0},
            reset_at="X-Bapi-Limit-Reset-Timestamp",
        ),
        subscribe={"bybit": SPOT_SUBSCRIBE_LIMITS},
    ),
    # the request an unmodified ccxt client places a spot order with (dYdX: its order transaction);
    # the router asks the limiter how many of these the venue grants now
    order_endpoint="POST /v5/order/create",
    # the client order id this venue accepts (crossbook derives one per journaled order)
    client_id=ClientIdRule(
        "bybit", "orderLinkId", "clientOrderId", r"[A-Za-z0-9_-]{1,36}", IdStyle.TOKEN,
        "Bybit v5 place order: orderLinkId, max 36 of letters, digits, '-' and '_'",
    ),
    # Fees (bybit.com/en/help-center/article/Trading-Fee-Structure, base rates before regional
    # differences; VIP 4 and up also cap the API share of volume). Supreme VIP is by invitation.
    fees=FeeSchedule(
        venue="bybit",
        spot=(
            FeeTier("VIP 0", 0, 0.0010, 0.0010),
            FeeTier("VIP 1", 1e6, 0.000675, 0.0008),
            FeeTier("VIP 2", 5e6, 0.00065, 0.000775),
            FeeTier("VIP 3", 10e6, 0.000625, 0.00075),
            FeeTier("VIP 4", 25e6, 0.0005, 0.0006),
            FeeTier("VIP 5", 50e6, 0.0004, 0.0005),
            FeeTier("Supreme VIP", 0, 0.0003, 0.00045, requires="by invitation"),
        ),
        derivatives=(
            FeeTier("VIP 0", 0, 0.0002, 0.00055),
            FeeTier("VIP 1", 10e6, 0.00018, 0.0004),
            FeeTier("VIP 2", 25e6, 0.00016, 0.000375),
            FeeTier("VIP 3", 50e6, 0.00014, 0.00035),
            FeeTier("VIP 4", 100e6, 0.00012, 0.00032),
            FeeTier("VIP 5", 250e6, 0.0001, 0.00032),
            FeeTier("Supreme VIP", 0, 0.0, 0.0003, requires="by invitation"),
        ),
    ),
    key_permissions=key_permissions,
    # POST /v5/asset/withdraw/create: its ``requestId`` is an idempotency key its withdrawal records
    # do not echo, so crossbook reconciles by amount, address and time; with feeType 0 (the
    # default) the fee comes on top of ``amount``. Fees and minimums: /v5/asset/coin/query-info.
    withdrawals=WithdrawalRules(None, fee_on_top=True),
    # the inverse perpetuals' feed trades through no client of its own: ccxt's bybit on inverse reads them
    funding=FundingSpec(clients={"bybitinverse": FundingClient(
        "bybit", {"options": {"fetchMarkets": {"types": ["inverse"]}, "defaultSubType": "inverse"}})}),
)
