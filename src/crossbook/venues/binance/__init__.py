"""Binance spot, USD-M and COIN-M: diff-depth streams synced against REST snapshots.

Spot: buffer ``depthUpdate`` events, GET /api/v3/depth, drop events with ``u <= lastUpdateId``,
the first applied event must have ``U <= lastUpdateId + 1``, then every event ``U == prev u + 1``.
Futures: drop ``u < lastUpdateId``, the first applied event has ``U <= lastUpdateId <= u``, then
every event's ``pu == prev u``.
Docs: developers.binance.com/docs/binance-spot-api-docs/web-socket-streams#how-to-manage-a-local-order-book-correctly
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any, ClassVar

import orjson

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
    IcebergParam,
    OrderWire,
    PositionSideParam,
    Product,
    Support,
    VenueCapabilities,
)
from ..spec.client_ids import ClientIdRule, IdStyle
from ..spec.fees import FeeSchedule, FeeTier
from ..spec.funding import FundingSpec
from ..spec.hooks import MASTER_ACCOUNT, OcoAck, OcoLegs
from ..spec.keys import KeyPermissions, from_ms
from ..spec.limits import DAY, MINUTE, Breach, ByParam, ByTier, LimitTable, Scope, SubscribeLimits, Window
from ..spec.withdrawals import VenueAddress, WithdrawalLimits, WithdrawalRules

loads = orjson.loads

# Binance names its kline intervals as crossbook does (it also has 1s, 3m, 30m, 2h, 6h, 8h, 12h, 3d, 1w, 1M)
INTERVAL_NAMES: dict[Interval, str] = {i: i.value for i in Interval}
INTERVALS = {name: interval for interval, name in INTERVAL_NAMES.items()}


def _filter(filters: list[dict[str, Any]], kind: str, field: str) -> float:
    for f in filters:
        if f.get("filterType") == kind:
            return float(f[field])
    return 0.0


def decode_depth(raw: bytes) -> dict[str, Any] | None:
    """A depthUpdate event with its levels parsed straight to floats, or None for anything else.

    Binance quotes every price and size ("60000.01000000"); turning 40 such strings into floats
    one by one costs more than the JSON parse itself. Binance puts ``b`` and ``a`` last in the
    event, so the header parses alone and each level array, unquoted, parses in one call to
    correctly rounded floats: the same floats float(str) gives."""
    i = raw.find(b',"b":[')
    if i < 0:
        return None
    j = raw.find(b',"a":[', i)
    end = raw.rfind(b"]") + 1
    if j < 0 or end <= j:
        return None
    try:
        msg = loads(raw[:i] + raw[end:])
        ev = msg.get("data", msg)
        if ev.get("e") != "depthUpdate":
            return None
        ev["b"] = loads(raw[i + 5 : j].translate(None, b'"'))
        ev["a"] = loads(raw[j + 5 : end].translate(None, b'"'))
    except orjson.JSONDecodeError:
        return None
    return ev


class BinanceSpot(FeedHandler):
    book_markers = (b"depth",)  # an unreadable frame resyncs a book only if it carries these
    venue = "binance"
    product = "spot"
    ws_url = "wss://stream.binance.com:9443"
    rest_url = "https://api.binance.com"
    url_hosts: ClassVar[tuple[str, ...]] = ("stream.binance.com", "api.binance.com", "data-stream.binance.vision")
    resync_by = Resync.SNAPSHOT
    max_streams = 1024
    streams_per_symbol = 2
    stale_after = 60.0  # the server pings every 20 s; quiet books get no depth events
    depth_path: ClassVar[str] = "/api/v3/depth"
    depth_limit: ClassVar[int] = 1000  # weight 50; 5000 costs 250 of the 6000/min budget
    snapshot_id: ClassVar[str] = "lastUpdateId"  # the REST snapshot's update id (options: "u")
    info_path: ClassVar[str] = "/api/v3/exchangeInfo"
    depth_stream: ClassVar[str] = "depth@100ms"
    klines_path: ClassVar[str] = "/api/v3/klines"
    interval_names = INTERVAL_NAMES
    derivatives: ClassVar[bool] = False  # mark price, funding and liquidation streams

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pending: dict[str, list[dict[str, Any]]] = {}
        self._sub_id = 0
        self.tickers: dict[str, Ticker] = {}  # native -> the latest Ticker emitted
        self.touch: dict[str, tuple[float, float]] = {}  # native -> (bid, ask) of its latest bookTicker
        self.last_price: dict[str, float] = {}  # native -> its latest trade's price

    # ---- subscribe -----------------------------------------------------------------------

    def connect_url(self, natives: list[str]) -> str:
        return f"{self.ws_base}/stream"

    def subscribe_messages(self, natives: list[str]) -> list[Frame]:
        return [self._request("SUBSCRIBE", natives)]

    def unsubscribe_messages(self, natives: list[str]) -> list[Frame]:
        return [self._request("UNSUBSCRIBE", natives)]

    def _request(self, method: str, natives: list[str]) -> bytes:
        self._sub_id += 1
        streams = (self.depth_stream, "aggTrade", *self.market_stream_names(self.channels))
        params = [f"{n.lower()}@{s}" for n in natives for s in streams]
        return orjson.dumps({"method": method, "params": params, "id": self._sub_id})

    @classmethod
    def market_stream_names(cls, channels: Channels) -> list[str]:
        """The streams ``channels`` subscribe per symbol, without the symbol."""
        names = [f"kline_{cls.interval_names[i]}" for i in channels.candles]
        if channels.ticker:
            names += ["ticker", "bookTicker"]
        if cls.derivatives and channels.funding:
            names.append("markPrice@1s")
        if cls.derivatives and channels.liquidations:
            names.append("forceOrder")
        return names

    @classmethod
    def market_streams(cls, channels: Channels) -> int:
        return len(cls.market_stream_names(channels))

    # ---- frames (hot path) ---------------------------------------------------------------

    def on_frame(self, data: Frame, ts: float) -> None:
        self.link.last_rx = ts
        self.messages += 1
        raw = data.encode() if type(data) is str else data
        ev = decode_depth(raw)  # type: ignore[arg-type]
        if ev is not None:
            self.on_depth(ev, ts)
            return
        msg = loads(raw)
        ev = msg.get("data", msg)  # combined-stream envelope or a raw stream
        e = ev.get("e")
        if e == "depthUpdate":
            ev["b"] = [(float(p), float(q)) for p, q, *_ in ev["b"]]
            ev["a"] = [(float(p), float(q)) for p, q, *_ in ev["a"]]
            self.on_depth(ev, ts)
        elif e == "aggTrade":
            self.on_agg_trade(ev)
        elif e == "kline":
            self.on_kline(ev["k"])
        elif e == "24hrTicker":
            self.on_ticker(ev)
        elif e == "bookTicker" or (e is None and "u" in ev and "A" in ev):  # spot's bookTicker names no event
            self.on_book_ticker(ev, ts)
        elif e == "markPriceUpdate":
            self.on_mark_price(ev)
        elif e == "forceOrder":
            self.on_force_order(ev["o"])

    def on_depth(self, ev: dict[str, Any], ts: float) -> None:
        native = ev["s"]
        book = self.books.get(native) or self.book(native)
        if book is None:
            return
        self.latency.add(ev["E"] / 1000.0, ts)
        if book.state is not BookState.LIVE:
            self._buffer(native, ev)
            return
        if not self._continues(book.seq, ev):  # type: ignore[arg-type]  # a LIVE book has a seq
            self.resync(native, "gap")
            self._buffer(native, ev)
            return
        book.update_floats(ev["b"], ev["a"])
        book.seq = ev["u"]
        book.updated_at = ts
        book.stats.updates += 1

    def _buffer(self, native: str, ev: dict[str, Any]) -> None:
        self.pending.setdefault(native, []).append(ev)
        if self.books[native].seq is not None:  # snapshot already in, waiting for a bridging event
            self._drain(native)

    def on_agg_trade(self, ev: dict[str, Any]) -> None:
        native = ev["s"]
        price = self.last_price[native] = float(ev["p"])
        self.emit_trade(
            Trade(
                venue=self.venue,
                symbol=self.symbols.get(native, native),
                price=price,
                amount=float(ev["q"]),
                side=Side.SELL if ev["m"] else Side.BUY,
                ts=ev["T"] / 1000.0,
                trade_id=str(ev["a"]),
            )
        )

    # ---- market data beyond the book -------------------------------------------------------

    def on_kline(self, k: dict[str, Any]) -> None:
        """``<symbol>@kline_<interval>``, final when ``x``:
        {"stream":"nknusdt@kline_1m","data":{"e":"kline","E":1633998523963,"s":"NKNUSDT","k":{"t":1633998480000,
        "T":1633998539999,"s":"NKNUSDT","i":"1m","f":19862761,"L":19862790,"o":"0.35270000","c":"0.35280000",
        "h":"0.35280000","l":"0.35220000","v":"25877.00000000","n":30,"x":false,"q":"9116.04600000",
        "V":"58.00000000","Q":"20.46240000","B":"0"}}}"""
        interval = INTERVALS.get(k["i"])
        if interval is None:
            return  # an interval crossbook does not keep (1s, 3m, 1w, ...)
        native = k["s"]
        candle = Candle(self.venue, self.symbols.get(native, native), interval, k["t"] / 1000.0, float(k["o"]),
                        float(k["h"]), float(k["l"]), float(k["c"]), float(k["v"]), float(k["q"]), k["x"])
        self.emit_candle(candle, native)

    def on_ticker(self, ev: dict[str, Any]) -> None:
        """``<symbol>@ticker``, the rolling 24 hours (spot also carries the touch, ``b`` and ``a``):
        {"e":"24hrTicker","E":1672515782136,"s":"BNBBTC","p":"0.0015","P":"250.00","w":"0.0018","x":"0.0009",
        "c":"0.0025","Q":"10","b":"0.0024","B":"10","a":"0.0026","A":"100","o":"0.0010","h":"0.0025",
        "l":"0.0010","v":"10000","q":"18","O":0,"C":86400000,"F":0,"L":18150,"n":18151}"""
        native = ev["s"]
        if "b" in ev:
            self.touch[native] = (float(ev["b"]), float(ev["a"]))
        bid, ask = self.touch.get(native, (None, None))
        ticker = Ticker(self.venue, self.symbols.get(native, native), ev["E"] / 1000.0, float(ev["o"]), float(ev["h"]),
                        float(ev["l"]), float(ev["c"]), float(ev["v"]), float(ev["q"]), bid, ask)
        self.tickers[native] = ticker
        self.emit_market(ticker)

    def on_book_ticker(self, ev: dict[str, Any], ts: float) -> None:
        """``<symbol>@bookTicker``, the touch (futures add ``e``, ``E`` and ``T``): the latest Ticker
        with this bid and ask, once a last price is known (a 24 h ticker's, else the latest trade's):
        {"u":499869768,"s":"NKNUSDT","b":"0.35210000","B":"672.00000000","a":"0.35260000","A":"3199.00000000"}"""
        native = ev["s"]
        bid, ask = self.touch[native] = (float(ev["b"]), float(ev["a"]))
        stamp = ev["E"] / 1000.0 if "E" in ev else ts
        held = self.tickers.get(native)
        if held is not None:
            ticker = replace(held, ts=stamp, bid=bid, ask=ask)
        elif native in self.last_price:
            ticker = Ticker(self.venue, self.symbols.get(native, native), stamp, None, None, None,
                            self.last_price[native], None, None, bid, ask)
        else:
            return
        self.tickers[native] = ticker
        self.emit_market(ticker)

    def on_mark_price(self, ev: dict[str, Any]) -> None:
        """``<symbol>@markPrice@1s`` (futures): mark, index, the funding rate of the period ending at ``T``:
        {"e":"markPriceUpdate","E":1562305380000,"s":"BTCUSDT","p":"11794.15000000","i":"11784.62659091",
        "P":"11784.25641265","r":"0.00038167","T":1562306400000}"""
        native = ev["s"]
        symbol, ts = self.symbols.get(native, native), ev["E"] / 1000.0
        self.emit_market(MarkPrice(self.venue, symbol, ts, float(ev["p"])))
        self.emit_market(IndexPrice(self.venue, symbol, ts, float(ev["i"])))
        if ev.get("r"):  # a quarterly future has no funding: "r" and "T" are empty
            self.emit_market(FundingRate(self.venue, symbol, ts, float(ev["r"]), ev["T"] / 1000.0))

    def on_force_order(self, o: dict[str, Any]) -> None:
        """``<symbol>@forceOrder`` (futures), a liquidation order, ``S`` its side:
        {"e":"forceOrder","E":1568014460893,"o":{"s":"BTCUSDT","S":"SELL","o":"LIMIT","f":"IOC","q":"0.014",
        "p":"9910","ap":"9910","X":"FILLED","l":"0.014","z":"0.014","T":1568014460893}}"""
        native = o["s"]
        side = Side.SELL if o["S"] == "SELL" else Side.BUY
        price = float(o["ap"]) or float(o["p"])  # the average fill price, once filled
        self.emit_market(Liquidation(self.venue, self.symbols.get(native, native), o["T"] / 1000.0, side, price,
                                     float(o["z"]) or float(o["q"])))

    def candles_url(self, gap: Gap) -> str:
        name = self.interval_names[gap.interval]
        start, end = int(gap.start * 1000), int(gap.end * 1000)
        return f"{self.rest_base}{self.klines_path}?symbol={gap.native}&interval={name}&startTime={start}&endTime={end}&limit=1000"

    def parse_candles(self, gap: Gap, body: bytes | str) -> list[Candle]:
        """``GET /api/v3/klines`` (``/fapi/v1/klines``): rows of open time, OHLC, volume, close time,
        quote volume, ...: [[1499040000000,"0.01634790","0.80000000","0.01575800","0.01577100",
        "148976.11427815",1499644799999,"2434.19055334",308,"1756.87402397","28.46694368","0"]]"""
        symbol = self.symbols.get(gap.native, gap.native)
        return [Candle(self.venue, symbol, gap.interval, row[0] / 1000.0, float(row[1]), float(row[2]),
                       float(row[3]), float(row[4]), float(row[5]), float(row[7]), True)
                for row in loads(body)]

    # ---- snapshots -----------------------------------------------------------------------

    def snapshot_url(self, native: str) -> str:
        return f"{self.rest_base}{self.depth_path}?symbol={native}&limit={self.depth_limit}"

    def snapshot_native(self, url: str) -> str | None:
        return query_param(url, self.depth_path, "symbol")

    def on_snapshot(self, native: str, body: bytes | str, ts: float) -> None:
        snap = loads(body)
        book = self.book(native)
        if book is None:
            return
        last = snap[self.snapshot_id]
        pending = self.pending.get(native, [])
        if pending and self._snapshot_too_old(last, pending[0]):
            self.resync(native, "stale snapshot")
            return
        book.snapshot(snap["bids"], snap["asks"])
        book.seq = last
        book.updated_at = ts
        self._drain(native)

    def _snapshot_too_old(self, last: int, first: dict[str, Any]) -> bool:
        return last + 1 < first["U"]

    def _drain(self, native: str) -> None:
        """Apply buffered events on top of the snapshot; the book goes live once one bridges it."""
        book = self.books[native]
        for ev in self.pending.pop(native, []):
            seq = book.seq
            assert seq is not None, "drained before a snapshot"
            if book.state is BookState.LIVE:
                if not self._continues(seq, ev):
                    self.resync(native, "gap")
                    return
            elif self._stale_event(seq, ev):
                continue
            elif self._bridges(seq, ev):
                self.go_live(book)
            else:
                self.resync(native, "gap")
                return
            book.update_floats(ev["b"], ev["a"])
            book.seq = ev["u"]
            book.stats.updates += 1

    def _continues(self, seq: int, ev: dict[str, Any]) -> bool:
        return ev["U"] == seq + 1

    def _stale_event(self, last: int, ev: dict[str, Any]) -> bool:
        return ev["u"] <= last

    def _bridges(self, last: int, ev: dict[str, Any]) -> bool:
        return ev["U"] <= last + 1 <= ev["u"]

    def reset_sync(self, native: str) -> None:
        self.pending.pop(native, None)

    # ---- instruments ---------------------------------------------------------------------

    def instruments_urls(self) -> list[str]:
        return [f"{self.rest_base}{self.info_path}"]

    def parse_instruments(self, bodies: list[bytes]) -> list[Instrument]:
        out = []
        for s in loads(bodies[0])["symbols"]:
            if s.get("status", s.get("contractStatus")) != "TRADING":
                continue
            kind, expiry = self.kind_of(s)
            out.append(
                Instrument(
                    venue=self.venue,
                    native=s["symbol"],
                    symbol=standard_symbol(s["baseAsset"], s["quoteAsset"], kind, expiry),
                    base=s["baseAsset"],
                    quote=s["quoteAsset"],
                    kind=kind,
                    tick=_filter(s["filters"], "PRICE_FILTER", "tickSize"),
                    lot=_filter(s["filters"], "LOT_SIZE", "stepSize"),
                    expiry=expiry,
                    contract_size=float(s.get("contractSize", 1.0)),
                    inverse=self.product == "inverse",
                )
            )
        return out

    def kind_of(self, s: dict[str, Any]) -> tuple[Kind, str | None]:
        return Kind.SPOT, None


class BinanceUsdm(BinanceSpot):
    venue = "binanceusdm"
    product = "linear"
    ws_url = "wss://fstream.binance.com"
    rest_url = "https://fapi.binance.com"
    url_hosts = ("fstream.binance.com", "fapi.binance.com")
    max_streams = 200
    depth_path = "/fapi/v1/depth"
    info_path = "/fapi/v1/exchangeInfo"
    depth_stream = "depth@100ms"
    klines_path = "/fapi/v1/klines"
    derivatives = True

    def _snapshot_too_old(self, last: int, first: dict[str, Any]) -> bool:
        return last < first["U"] - 1

    def _continues(self, seq: int, ev: dict[str, Any]) -> bool:
        return ev["pu"] == seq

    def _stale_event(self, last: int, ev: dict[str, Any]) -> bool:
        return ev["u"] < last

    def _bridges(self, last: int, ev: dict[str, Any]) -> bool:
        # the documented rule, or the event that directly follows a snapshot taken between events
        return ev["U"] <= last <= ev["u"] or ev["pu"] == last

    def kind_of(self, s: dict[str, Any]) -> tuple[Kind, str | None]:
        if s.get("contractType") == "PERPETUAL":
            return Kind.PERP, None
        native: str = s["symbol"]
        return Kind.FUTURE, "20" + native.rsplit("_", 1)[-1]


class BinanceCoinm(BinanceUsdm):
    venue = "binancecoinm"
    product = "inverse"
    ws_url = "wss://dstream.binance.com"
    rest_url = "https://dapi.binance.com"
    url_hosts = ("dstream.binance.com", "dapi.binance.com")
    depth_path = "/dapi/v1/depth"
    info_path = "/dapi/v1/exchangeInfo"
    klines_path = "/dapi/v1/klines"


from .options import BinanceOptions  # noqa: E402  (it subclasses BinanceUsdm, above)


async def place_oco(client: Any, legs: OcoLegs) -> OcoAck:
    """``POST /api/v3/orderList/oco``: the leg above the market and the one below it. A sell takes
    profit above (LIMIT_MAKER) and stops out below; a buy the reverse."""
    stop_type = "STOP_LOSS_LIMIT" if legs.stop_limit is not None else "STOP_LOSS"
    limit = {"Type": "LIMIT_MAKER", "Price": legs.price, "ClientOrderId": legs.limit_client_id}
    stop: dict[str, Any] = {"Type": stop_type, "StopPrice": legs.stop_price, "ClientOrderId": legs.stop_client_id}
    if legs.stop_limit is not None:
        stop.update({"Price": legs.stop_limit, "TimeInForce": "GTC"})
    above, below = (limit, stop) if legs.side is Side.SELL else (stop, limit)
    params: dict[str, Any] = {"symbol": legs.market_id, "side": legs.side.value.upper(), "quantity": legs.amount}
    params.update({f"above{k}": v for k, v in above.items()})
    params.update({f"below{k}": v for k, v in below.items()})
    reply = await client.private_post_orderlist_oco(params)
    by_client = {str(r["clientOrderId"]): str(r["orderId"]) for r in reply["orderReports"]}
    return OcoAck(str(reply["orderListId"]), by_client[str(legs.limit_client_id)], by_client[str(legs.stop_client_id)])


async def transfer(client: Any, asset: str, amount: Decimal, source: str, target: str) -> str:
    """``POST /sapi/v1/sub-account/universalTransfer`` with the master's key, SPOT to SPOT; a
    sub-account is named by its email, the master by none."""
    params = {"fromAccountType": "SPOT", "toAccountType": "SPOT", "asset": asset, "amount": format(amount, "f")}
    if source != MASTER_ACCOUNT:
        params["fromEmail"] = source
    if target != MASTER_ACCOUNT:
        params["toEmail"] = target
    reply = await client.sapiPostSubAccountUniversalTransfer(params)
    return str(reply["tranId"])


async def withdraw_addresses(client: Any) -> list[VenueAddress]:
    """``GET /sapi/v1/capital/withdraw/address/list``: the address book; only entries with
    ``whiteStatus`` true are the account's withdrawal whitelist."""
    rows = await client.sapiGetCapitalWithdrawAddressList()
    return [VenueAddress(str(r["coin"]), str(r["address"]), r.get("network") or None, r.get("addressTag") or None)
            for r in rows if r.get("whiteStatus")]


async def withdrawal_limits(client: Any, asset: str, network: str | None) -> WithdrawalLimits:
    """``GET /sapi/v1/capital/config/getall``: the network's ``withdrawFee``, ``withdrawMin`` and
    ``withdrawEnable`` (the coin's default network when none is named)."""
    coins = await client.sapiGetCapitalConfigGetall()
    coin = next((c for c in coins if c.get("coin") == asset), None)
    if coin is None:
        return WithdrawalLimits(asset, network, None, None, enabled=False)
    networks = coin.get("networkList") or []
    chosen = next((n for n in networks if n.get("network") == network or (network is None and n.get("isDefault"))), None)
    if chosen is None:
        return WithdrawalLimits(asset, network, None, None, enabled=False)
    return WithdrawalLimits(asset, str(chosen["network"]), Decimal(str(chosen["withdrawFee"])),
                            Decimal(str(chosen["withdrawMin"])), bool(chosen.get("withdrawEnable")))


async def key_permissions(client: Any) -> KeyPermissions:
    """``GET /sapi/v1/account/apiRestrictions``: the key's rights, whether it is IP-restricted
    (Binance lists no addresses there: a restricted key shows as ``("restricted",)``), its
    creation time and, where set, when its trading authority expires."""
    r = await client.sapiGetAccountApiRestrictions()
    trading = ("enableSpotAndMarginTrading", "enableFutures", "enableMargin", "enableVanillaOptions",
               "enablePortfolioMarginTrading")
    return KeyPermissions(
        read=bool(r.get("enableReading")),
        trade=any(bool(r.get(name)) for name in trading),
        withdraw=bool(r.get("enableWithdrawals")),
        transfer=bool(r.get("enableInternalTransfer")) or bool(r.get("permitsUniversalTransfer")),
        ips=("restricted",) if r.get("ipRestrict") else (),
        created=from_ms(r.get("createTime")),
        expires=from_ms(r.get("tradingAuthorityExpirationTime")),
        source="GET /sapi/v1/account/apiRestrictions",
    )


SPEC: VenueSpec[type[FeedHandler]] = VenueSpec(
    venue="binance",
    kind="cex",
    tier=1,
    ccxt_id="binance",
    feeds={
        "binance": BinanceSpot,
        "binanceusdm": BinanceUsdm,
        "binancecoinm": BinanceCoinm,
        "binanceoptions": BinanceOptions,
    },
    # Sources: Binance spot, margin, USD-M, COIN-M and options API docs (developers.binance.com); ccxt
    # 4.5.90 ``binance.features`` agrees (iceberg on spot only, hedged on futures only).
    capabilities=VenueCapabilities(
        venue="binance",
        products={
            Product.SPOT: Support.yes(feeds=("binance",)),
            Product.MARGIN: Support.yes("cross and isolated; orders trade the spot book", feeds=("binance",)),
            Product.LINEAR_PERP: Support.yes("USD-M", feeds=("binanceusdm",)),
            Product.INVERSE_PERP: Support.yes("COIN-M", feeds=("binancecoinm",)),
            Product.FUTURES: Support.yes("USD-M and COIN-M quarterlies", feeds=("binanceusdm", "binancecoinm")),
            Product.OPTIONS: Support.yes("European options API (eapi), USDT-margined: limit (no market), post-only, "
                                         "reduce-only", feeds=("binanceoptions",)),
        },
        features={
            Feature.LIMIT: Support.yes(),
            Feature.MARKET: Support.yes("not on options (eapi takes LIMIT only)", only=SPOT_BOOK | CONTRACTS),
            Feature.STOP: Support.yes("STOP_LOSS on spot, STOP_MARKET algo order (algoOrder) on futures", only=SPOT_BOOK | CONTRACTS),
            Feature.STOP_LIMIT: Support.yes("STOP_LOSS_LIMIT on spot, STOP algo order (algoOrder) on futures",
                                            only=SPOT_BOOK | CONTRACTS),
            Feature.POST_ONLY: Support.yes("LIMIT_MAKER on spot, timeInForce GTX on futures and options"),
            Feature.IOC: Support.yes(),
            Feature.FOK: Support.yes(),
            Feature.REDUCE_ONLY: Support.yes(only=DERIVATIVES),
            Feature.ICEBERG: Support.yes("icebergQty, slices capped by the ICEBERG_PARTS filter", only=SPOT_BOOK),
            Feature.OCO: Support.yes("order list: POST /api/v3/orderList/oco", only=SPOT_BOOK),
            Feature.TP_SL: Support.yes(
                "as an OTOCO order list (POST /api/v3/orderList/otoco) on a LIMIT working order", only=SPOT_BOOK
            ),
            Feature.HEDGE_MODE: Support.yes("dualSidePosition", only=CONTRACTS),
            Feature.CROSS_MARGIN: Support.yes(),
            Feature.ISOLATED_MARGIN: Support.yes(),
            Feature.UNIFIED_ACCOUNT: Support.yes("the Portfolio Margin account (papi) spans margin, USD-M and COIN-M"),
            Feature.PORTFOLIO_MARGIN: Support.yes("papi"),
            Feature.SUB_ACCOUNTS: Support.yes(
                "created and funded by the master account (sapi sub-account; POST /sapi/v1/sub-account/universalTransfer)"
            ),
            Feature.TESTNET: Support.yes("testnet.binance.vision (spot), testnet.binancefuture.com (futures)"),
            Feature.KEY_PERMISSIONS: Support.yes(
                "GET /sapi/v1/account/apiRestrictions: rights, IP-restricted or not (no list), creation time"
            ),
        },
    ).traded((
        Feature.KEY_PERMISSIONS,
        Product.SPOT,
        Product.LINEAR_PERP,
        Product.INVERSE_PERP,
        Product.OPTIONS,
        *BASIC_ORDERS,
        Feature.STOP,
        Feature.STOP_LIMIT,
        Feature.OCO,  # the order list, placed by the SPEC's place_oco hook
        Feature.REDUCE_ONLY,
        Feature.SUB_ACCOUNTS,
        Feature.ICEBERG,
        Feature.HEDGE_MODE,
        Feature.CROSS_MARGIN,
        Feature.ISOLATED_MARGIN,
    ), OrderWire(IcebergParam("icebergQty"), PositionSideParam("positionSide", "LONG", "SHORT", reduce_only=False),
                 # futures stops are Algo Service orders (/fapi/v1/algoOrder, /dapi/v1/algoOrder) since December 2025
                 triggers_apart=CONTRACTS, fired_id="actualOrderId")),
    # REST limits (developers.binance.com/docs/binance-spot-api-docs/rest-api/limits and each endpoint's
    # page). Binance serves the current values in exchangeInfo ``rateLimits``: ``SPEC.limits.with_served(...)``.
    # An order costs 1 weight and counts in both ORDERS windows; an OCO list counts 2 orders, an OTOCO 3.
    # /sapi endpoints have their own IP weight, 12,000 per minute for each endpoint.
    limits=LimitTable(
        venue="binance",
        pools=(
            Window("REQUEST_WEIGHT", 6000, MINUTE),
            Window("RAW_REQUESTS", 61_000, 5 * MINUTE),
            Window("ORDERS", 50, 10, Scope.ACCOUNT),
            Window("ORDERS", 160_000, DAY, Scope.ACCOUNT),
            Window("SAPI_WEIGHT", 12_000, MINUTE, per_endpoint=True),
        ),
        endpoints={
            "GET /api/v3/exchangeInfo": {"REQUEST_WEIGHT": 20},
            "GET /api/v3/depth": ByTier(
                "limit",
                ((100, {"REQUEST_WEIGHT": 5}), (500, {"REQUEST_WEIGHT": 25}), (1000, {"REQUEST_WEIGHT": 50})),
                absent={"REQUEST_WEIGHT": 5},
                above={"REQUEST_WEIGHT": 250},
            ),
            "GET /api/v3/account": {"REQUEST_WEIGHT": 20},
            "POST /api/v3/order": {"REQUEST_WEIGHT": 1, "ORDERS": 1},
            "POST /api/v3/orderList/oco": {"REQUEST_WEIGHT": 1, "ORDERS": 2},
            "POST /api/v3/orderList/otoco": {"REQUEST_WEIGHT": 1, "ORDERS": 3},
            "DELETE /api/v3/order": {"REQUEST_WEIGHT": 1},
            "DELETE /api/v3/orderList": {"REQUEST_WEIGHT": 1},
            "GET /api/v3/order": {"REQUEST_WEIGHT": 4},
            "GET /api/v3/openOrders": ByParam("symbol", present={"REQUEST_WEIGHT": 6}, absent={"REQUEST_WEIGHT": 80}),
            "GET /api/v3/myTrades": ByParam("orderId", present={"REQUEST_WEIGHT": 5}, absent={"REQUEST_WEIGHT": 20}),
            "GET /sapi/v1/asset/tradeFee": {"SAPI_WEIGHT": 1},
            "POST /api/v3/order/cancelReplace": {"REQUEST_WEIGHT": 1, "ORDERS": 1},
            "POST /sapi/v1/sub-account/universalTransfer": {"SAPI_WEIGHT": 1},
            "GET /sapi/v1/sub-account/universalTransfer": {"SAPI_WEIGHT": 1},
            "POST /sapi/v1/sub-account/transfer/subToMaster": {"SAPI_WEIGHT": 1},
            # futures (their own pools on Binance, counted in the spot pools here): order weights
            "PUT /fapi/v1/order": {"REQUEST_WEIGHT": 1, "ORDERS": 1},
            "PUT /dapi/v1/order": {"REQUEST_WEIGHT": 1, "ORDERS": 1},
            "GET /fapi/v1/premiumIndex": ByParam("symbol", present={"REQUEST_WEIGHT": 1}, absent={"REQUEST_WEIGHT": 10}),
            "GET /dapi/v1/premiumIndex": {"REQUEST_WEIGHT": 10},
        },
        default={"REQUEST_WEIGHT": 20},
        every_request={"RAW_REQUESTS": 1},
        # 429 (with Retry-After, except for the ORDERS limit), then 418 bans of 2 min to 3 days.
        breach=Breach(
            statuses={429: 10.0, 418: 120.0},
            code_field="code",
            codes={"-1003": MINUTE, "-1015": 10.0},
            until=r"banned until (\d+)",
        ),
        # WebSocket: every frame a client sends (subscribes, pings, pongs) counts; over the rate the
        # socket is closed (1008)
        subscribe={
            "binance": SubscribeLimits(
                "developers.binance.com/docs/binance-spot-api-docs/web-socket-streams: 5 incoming messages "
                "per second, 1024 streams per connection",
                messages=Window("incoming messages", 5, 1), topics_per_connection=1024),
            "binanceusdm": SubscribeLimits(
                "developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams: "
                "10 incoming messages per second, 200 streams per connection",
                messages=Window("incoming messages", 10, 1), topics_per_connection=200),
            "binancecoinm": SubscribeLimits(
                "developers.binance.com/docs/derivatives/coin-margined-futures/websocket-market-streams: "
                "10 incoming messages per second, 200 streams per connection",
                messages=Window("incoming messages", 10, 1), topics_per_connection=200),
        },
    ),
    # the request an unmodified ccxt client places a spot order with (dYdX: its order transaction);
    # the router asks the limiter how many of these the venue grants now
    order_endpoint="POST /api/v3/order",
    # the client order id this venue accepts (crossbook derives one per journaled order)
    client_id=ClientIdRule(
        "binance", "newClientOrderId", "clientOrderId", r"[.A-Z:/a-z0-9_-]{1,36}", IdStyle.TOKEN,
        "Binance spot and futures API: newClientOrderId ^[\\.A-Z\\:/a-z0-9_-]{1,36}$",
    ),
    # Fees (binance.com/en/fee/schedule and /en/fee/futureFee; VIP levels also need a BNB balance, which
    # the volume-only tiers here leave out). Paying with BNB: 25% off spot, 10% off USD-M and COIN-M.
    fees=FeeSchedule(
        venue="binance",
        spot=(
            FeeTier("VIP 0", 0, 0.0010, 0.0010),
            FeeTier("VIP 1", 1e6, 0.0009, 0.0010),
            FeeTier("VIP 2", 5e6, 0.0008, 0.0010),
            FeeTier("VIP 3", 20e6, 0.0004, 0.0006),
            FeeTier("VIP 4", 75e6, 0.0004, 0.00052),
            FeeTier("VIP 5", 150e6, 0.00025, 0.00031),
            FeeTier("VIP 6", 400e6, 0.0002, 0.00029),
            FeeTier("VIP 7", 800e6, 0.00019, 0.00028),
            FeeTier("VIP 8", 2e9, 0.00019, 0.00025),
            FeeTier("VIP 9", 4e9, 0.00011, 0.00023),
        ),
        derivatives=(
            FeeTier("VIP 0", 0, 0.0002, 0.0005),
            FeeTier("VIP 1", 15e6, 0.00016, 0.0004),
            FeeTier("VIP 2", 50e6, 0.00014, 0.00035),
            FeeTier("VIP 3", 100e6, 0.00012, 0.00032),
            FeeTier("VIP 4", 600e6, 0.0001, 0.0003),
            FeeTier("VIP 5", 1e9, 0.00008, 0.00027),
            FeeTier("VIP 6", 3e9, 0.00006, 0.00025),
            FeeTier("VIP 7", 5e9, 0.00004, 0.00022),
            FeeTier("VIP 8", 12.5e9, 0.00002, 0.0002),
            FeeTier("VIP 9", 25e9, 0.0, 0.00017),
        ),
        discount_token="BNB",
        discounts={Kind.SPOT: 0.25, Kind.PERP: 0.10, Kind.FUTURE: 0.10},
    ),
    place_oco=place_oco,  # ccxt has no unified OCO
    transfer=transfer,  # nor a unified sub-account transfer on binance
    withdrawals=WithdrawalRules("withdrawOrderId", address_book=withdraw_addresses, limits=withdrawal_limits),
    key_permissions=key_permissions,
    # premiumIndex carries no interval; fundingInfo lists only the contracts whose interval changed
    funding=FundingSpec(interval_hours=8.0),
)
