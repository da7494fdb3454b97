"""Gate v4 spot: ``spot.order_book_update`` (100 ms, the top-100 window) synced against the REST
book ``GET /api/v4/spot/order_book?limit=100&with_id=true``.

Sync (docs "How to maintain local order book"): buffer updates, load the snapshot (``id``), drop
updates with ``u < id + 1``, the first applied update has ``U <= id + 1 <= u``, afterwards every
update has ``U == local id + 1``; otherwise rebuild from a new snapshot. A dropped update that
ends exactly at ``id`` shows the stream has reached the snapshot, so the book is in sync without
waiting for the next update (quiet pairs in the recorded traffic hear nothing more for minutes).
An update carrying ``full: true`` is a complete 100-level book at id ``u``: it replaces the local
book, continuity or not, and a REST snapshot that arrives after it is ignored.

The 100 ms stream is a diff of the venue's 100-level window, not of the whole book: when a level
is pushed out of the window the venue sends it with amount 0, and when one moves up into the
window it arrives as a new level (seen in the recorded traffic). The REST snapshot at limit=100 is
that same window, so the local book is exactly the venue's top 100 and nothing beyond it.

Live channel choice: ``spot.order_book_update`` rather than the newer ``spot.obu`` (400 levels,
in-band full snapshot, resubscribe on a gap). It is the channel Gate documents for local books
against the REST ``id``, the one recorded traffic exercises (so replay and live run one code
path), and 100 levels every 100 ms covers top-of-book pricing; ``spot.obu`` would buy depth
beyond 100 levels at the cost of a second sync machine.

Beside books and trades: ``spot.tickers`` (the rolling day and the touch, every second) and
``spot.candlesticks`` ([interval, pair]; the candle as it forms, ``w`` true on its final push). A
candle whose final push never came (Gate says ``w`` "may be missing") is a gap, repaired from REST
``/spot/candlesticks``. Futures: ``futures.tickers`` (the day, funding rate and the indicative
next one, mark, index, ``total_size`` the open interest in contracts) and ``futures.candlesticks``.
``futures.public_liquidates`` is not subscribed: the simulator has no liquidations to check it on.

Docs: gate.com/docs/developers/apiv4/ws/en/#changed-order-book-levels, #candlesticks-channel;
gate.com/docs/developers/futures/ws/en (tickers, candlesticks)
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any, ClassVar

import orjson

from ..book.l2 import L2Book
from ..errors import VenueUnavailable
from ..feeds.candles import Gap
from ..feeds.handler import Channels, FeedHandler, Frame, Resync, query_param
from ..model import (
    BookState,
    Candle,
    FundingRate,
    IndexPrice,
    Instrument,
    Interval,
    Kind,
    MarkPrice,
    OpenInterest,
    OrderStatus,
    Side,
    Ticker,
    Trade,
)
from ..symbols import standard_symbol
from .spec import VenueSpec
from .spec.capabilities import (
    BASIC_ORDERS,
    DERIVATIVES,
    PERPETUALS,
    Feature,
    IcebergParam,
    OrderWire,
    Product,
    Support,
    VenueCapabilities,
)
from .spec.client_ids import ClientIdRule, IdStyle
from .spec.fees import FeeSchedule, FeeTier
from .spec.limits import Breach, LimitTable, Scope, Window
from .spec.withdrawals import WithdrawalLimits, WithdrawalRules

log = logging.getLogger(__name__)

loads = orjson.loads
dumps = orjson.dumps

Event = dict[str, Any]

# crossbook's intervals -> Gate's (Gate also has 10s, 30m, 8h and 7d)
INTERVAL_NAMES: dict[Interval, str] = {
    Interval.M1: "1m", Interval.M5: "5m", Interval.M15: "15m", Interval.H1: "1h", Interval.H4: "4h", Interval.D1: "1d",
}
BY_NAME = {name: interval for interval, name in INTERVAL_NAMES.items()}
FUNDING_HOURS = 8.0  # when the contract's own funding_interval is not known


def optional(text: str | None) -> float | None:
    """Gate sends "" (or nothing) for a figure it does not have."""
    return float(text) if text else None


def stamp(msg: Event) -> float:
    """A push's time: ``time_ms``, or ``time`` (seconds) in older pushes."""
    ms = msg.get("time_ms")
    return ms / 1000.0 if ms is not None else float(msg["time"])


class GateSpot(FeedHandler):
    book_markers = (b"order_book",)  # an unreadable frame resyncs a book only if it carries these
    venue = "gate"
    product = "spot"
    ws_url = "wss://api.gateio.ws"
    rest_url = "https://api.gateio.ws"
    url_hosts: ClassVar[tuple[str, ...]] = ("api.gateio.ws",)
    resync_by = Resync.SNAPSHOT
    max_streams = 100  # Gate publishes no per-connection cap; a conservative chunk size
    streams_per_symbol = 2
    ping_interval = 10.0  # spot.ping -> spot.pong keeps quiet connections audible
    stale_after = 30.0  # three missed pongs
    ws_path: ClassVar[str] = "/ws/v4/"
    book_channel: ClassVar[str] = "spot.order_book_update"
    trade_channel: ClassVar[str] = "spot.trades"
    ping_channel: ClassVar[str] = "spot.ping"
    interval: ClassVar[str] = "100ms"
    depth: ClassVar[int] = 100  # the 100 ms stream's window; also the REST maximum
    depth_path: ClassVar[str] = "/api/v4/spot/order_book"
    pair_param: ClassVar[str] = "currency_pair"
    instruments_path: ClassVar[str] = "/api/v4/spot/currency_pairs"
    ticker_channel: ClassVar[str] = "spot.tickers"
    candle_channel: ClassVar[str] = "spot.candlesticks"
    candles_path: ClassVar[str] = "/api/v4/spot/candlesticks"
    interval_names = INTERVAL_NAMES

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pending: dict[str, list[Event]] = {}

    # ---- subscribe and ping ----------------------------------------------------------------

    def connect_url(self, natives: list[str]) -> str:
        return f"{self.ws_base}{self.ws_path}"

    def subscribe_messages(self, natives: list[str]) -> list[Frame]:
        return self._requests("subscribe", natives)

    def unsubscribe_messages(self, natives: list[str]) -> list[Frame]:
        return self._requests("unsubscribe", natives)

    def _requests(self, event: str, natives: list[str]) -> list[Frame]:
        now = int(self.clock())
        frames: list[Frame] = [dumps({"time": now, "channel": self.trade_channel, "event": event, "payload": natives})]
        frames.extend(
            dumps({"time": now, "channel": self.book_channel, "event": event, "payload": self.book_payload(n)})
            for n in natives
        )
        if self.wants_ticker(self.channels):
            frames.append(dumps({"time": now, "channel": self.ticker_channel, "event": event, "payload": natives}))
        frames.extend(
            dumps({"time": now, "channel": self.candle_channel, "event": event, "payload": [self.interval_names[i], n]})
            for n in natives
            for i in self.channels.candles
        )
        return frames

    @classmethod
    def wants_ticker(cls, channels: Channels) -> bool:
        return channels.ticker

    @classmethod
    def market_streams(cls, channels: Channels) -> int:
        return len(channels.candles) + (1 if cls.wants_ticker(channels) else 0)

    def book_payload(self, native: str) -> list[str]:
        return [native, self.interval]

    def ping_message(self) -> Frame:
        return dumps({"time": int(self.clock()), "channel": self.ping_channel})

    # ---- frames (hot path) -----------------------------------------------------------------

    def on_frame(self, data: Frame, ts: float) -> None:
        self.link.last_rx = ts
        self.messages += 1
        msg = loads(data)
        if msg.get("event") == "update":
            channel = msg["channel"]
            if channel == self.book_channel:
                self.on_depth(msg["result"], ts)
            elif channel == self.trade_channel:
                self.on_trades(msg["result"])
            elif channel == self.ticker_channel:
                self.on_ticker(msg)
            elif channel == self.candle_channel:
                self.on_candlesticks(msg["result"])
        elif msg.get("error"):
            self.errors += 1
            log.warning("%s rejected %s %s: %s", self.venue, msg.get("event"), msg.get("payload"), msg["error"])

    def on_depth(self, ev: Event, ts: float) -> None:
        native = ev["s"]
        book = self.books.get(native) or self.book(native)
        if book is None:
            return
        self.latency.add(ev["t"] / 1000.0, ts)
        if ev.get("full"):
            self._replace(native, book, ev, ts)
        elif book.seq is None:
            self.pending.setdefault(native, []).append(ev)
        else:
            self._step(native, book, book.seq, [ev], ts)

    def _step(self, native: str, book: L2Book, seq: int, events: list[Event], ts: float) -> None:
        """Apply events to a book that has a base id ``seq`` (LIVE, or a snapshot waiting for the
        stream). On a break the book is rebuilt, keeping the events from the breaking one on."""
        for i, ev in enumerate(events):
            if book.state is BookState.LIVE:
                if ev["U"] != seq + 1:
                    self._restart(native, "gap", events[i:])
                    return
            elif ev["u"] <= seq:
                if ev["u"] == seq:  # the stream has reached the snapshot: in sync at its id
                    self.go_live(book)
                continue
            elif ev["U"] > seq + 1:
                self._restart(native, "stale snapshot", events[i:])
                return
            else:
                self.go_live(book)
            self._apply(book, ev, ts)
            seq = ev["u"]

    def sides(self, bids: list[Any], asks: list[Any]) -> tuple[list[Any], list[Any]]:
        """Levels as the book takes them: spot sends [price, amount] already."""
        return bids, asks

    def _apply(self, book: L2Book, ev: Event, ts: float) -> None:
        book.update(*self.sides(ev["b"], ev["a"]))
        book.truncate(self.depth)
        book.seq = ev["u"]
        book.updated_at = ts
        book.stats.updates += 1

    def _replace(self, native: str, book: L2Book, ev: Event, ts: float) -> None:
        self.pending.pop(native, None)
        book.snapshot(*self.sides(ev["b"], ev["a"]))
        book.seq = ev["u"]
        book.updated_at = ts
        book.stats.updates += 1
        self.go_live(book)

    def _restart(self, native: str, reason: str, keep: list[Event]) -> None:
        self.resync(native, reason)
        self.pending[native] = keep

    def on_trades(self, result: Any) -> None:
        native = result["currency_pair"]
        self.emit_trade(
            Trade(
                venue=self.venue,
                symbol=self.symbols.get(native, native),
                price=float(result["price"]),
                amount=float(result["amount"]),
                side=Side.BUY if result["side"] == "buy" else Side.SELL,
                ts=float(result["create_time_ms"]) / 1000.0,
                trade_id=str(result["id"]),
            )
        )

    # ---- market data beyond the book ---------------------------------------------------------

    def symbol(self, native: str) -> str:
        return self.symbols.get(native, native)

    def on_ticker(self, msg: Event) -> None:
        """``spot.tickers``: the rolling day and the touch; no open (Gate sends only the change, in
        percent and rounded):
        {"time":1619093533,"channel":"spot.tickers","event":"update","result":{"currency_pair":"NEO_BTC",
        "last":"0.0018716","lowest_ask":"0.0018734","highest_bid":"0.0018697","change_percentage":"2.9256",
        "base_volume":"1138.01640718","quote_volume":"2.048263365803126","high_24h":"0.0018754","low_24h":"0.0017148"}}"""
        t = msg["result"]
        self.emit_market(Ticker(self.venue, self.symbol(t["currency_pair"]), stamp(msg), None, optional(t["high_24h"]),
                                optional(t["low_24h"]), float(t["last"]), optional(t["base_volume"]),
                                optional(t["quote_volume"]), optional(t.get("highest_bid")), optional(t.get("lowest_ask"))))

    def on_candlesticks(self, result: Any) -> None:
        """``spot.candlesticks``: ``v`` the quote volume, ``a`` the base amount, ``w`` true on the
        candle's final push. A push without ``a`` (Gate's before 2023) has no base volume: skipped.
        {"time":1606292600,"time_ms":1606292600376,"channel":"spot.candlesticks","event":"update","result":
        {"t":"1606292580","v":"2362.32035","c":"19128.1","h":"19128.1","l":"19128.1","o":"19128.1",
        "n":"1m_BTC_USDT","a":"3.8283","w":true}}"""
        name, _, native = result["n"].partition("_")
        interval = BY_NAME.get(name)
        if interval is None or "a" not in result:
            return
        self.emit_candle(Candle(self.venue, self.symbol(native), interval, float(result["t"]), float(result["o"]),
                                float(result["h"]), float(result["l"]), float(result["c"]), float(result["a"]),
                                float(result["v"]), result.get("w") is True), native)

    def candles_url(self, gap: Gap) -> str:
        """``from`` and ``to``, in seconds, both included."""
        name = self.interval_names[gap.interval]
        return (f"{self.rest_base}{self.candles_path}?{self.pair_param}={gap.native}&interval={name}"
                f"&from={int(gap.start)}&to={int(gap.end)}")

    def parse_candles(self, gap: Gap, body: bytes | str) -> list[Candle]:
        """``GET /api/v4/spot/candlesticks``, oldest first: time, quote volume, close, high, low, open,
        base volume and whether the window closed:
        [["1539852480","971519.677","0.0021724","0.0021922","0.0021724","0.0021737","446.7","true"]]"""
        rows = self.rest_rows(body)
        symbol = self.symbol(gap.native)
        return [Candle(self.venue, symbol, gap.interval, float(r[0]), float(r[5]), float(r[3]), float(r[4]),
                       float(r[2]), float(r[6]), float(r[1]), True) for r in rows if len(r) < 8 or r[7] == "true"]

    def rest_rows(self, body: bytes | str) -> list[Any]:
        reply = loads(body)
        if not isinstance(reply, list):
            raise VenueUnavailable(f"{self.venue} candlesticks: {reply.get('label')}: {reply.get('message')}")
        return reply

    # ---- snapshots -------------------------------------------------------------------------

    def snapshot_url(self, native: str) -> str:
        return f"{self.rest_base}{self.depth_path}?{self.pair_param}={native}&limit={self.depth}&with_id=true"

    def snapshot_native(self, url: str) -> str | None:
        return query_param(url, self.depth_path, self.pair_param)

    def on_snapshot(self, native: str, body: bytes | str, ts: float) -> None:
        book = self.book(native)
        if book is None or book.state is BookState.LIVE:
            return  # a full push synced it in-band meanwhile
        snap = loads(body)
        book.snapshot(*self.sides(snap["bids"], snap["asks"]))
        book.seq = snap["id"]
        book.updated_at = ts
        self._step(native, book, snap["id"], self.pending.pop(native, []), ts)

    def reset_sync(self, native: str) -> None:
        self.pending.pop(native, None)

    # ---- instruments -----------------------------------------------------------------------

    def instruments_urls(self) -> list[str]:
        return [f"{self.rest_base}{self.instruments_path}"]

    def parse_instruments(self, bodies: list[bytes]) -> list[Instrument]:
        return [
            Instrument(
                venue=self.venue,
                native=p["id"],
                symbol=standard_symbol(p["base"], p["quote"]),
                base=p["base"],
                quote=p["quote"],
                kind=Kind.SPOT,
                tick=10.0 ** -p["precision"],
                lot=10.0 ** -p["amount_precision"],
            )
            for p in loads(bodies[0])
            if p.get("trade_status") == "tradable"
        ]


class GateSwap(GateSpot):
    """USDT-margined perpetuals: ``futures.order_book_update`` on ``/v4/ws/usdt`` with the same U/u
    rule against ``/api/v4/futures/usdt/order_book?with_id=true``. Levels are ``{"p", "s"}`` objects
    and sizes are whole contracts (``quanto_multiplier`` base units each); the book keeps them in
    contracts, as the venue sends them. Trades carry a signed contract size (negative: taker sold).
    """

    venue = "gateswap"
    product = "linear"
    ws_url = "wss://fx-ws.gateio.ws"
    rest_url = "https://fx-api.gateio.ws"  # the futures REST host, so recorded traffic maps here
    url_hosts = ("fx-ws.gateio.ws", "fx-api.gateio.ws")
    ws_path = "/v4/ws/usdt"
    book_channel = "futures.order_book_update"
    trade_channel = "futures.trades"
    ping_channel = "futures.ping"
    depth_path = "/api/v4/futures/usdt/order_book"
    pair_param = "contract"
    instruments_path = "/api/v4/futures/usdt/contracts"
    ticker_channel = "futures.tickers"
    candle_channel = "futures.candlesticks"
    candles_path = "/api/v4/futures/usdt/candlesticks"

    def book_payload(self, native: str) -> list[str]:
        return [native, self.interval, str(self.depth)]

    @classmethod
    def wants_ticker(cls, channels: Channels) -> bool:
        return channels.ticker or channels.funding  # one channel carries the day, funding, mark, index and open interest

    def contract(self, native: str) -> tuple[float, float] | None:
        """(contract size, funding hours) of ``native``: futures frames count in contracts; None
        where the feed has not read its listing (a replay)."""
        inst = self.instruments.get(native)
        if inst is None:
            return None
        return inst.contract_size, inst.funding_hours or FUNDING_HOURS

    def on_ticker(self, msg: Event) -> None:
        """``futures.tickers``: the day (``volume_24h`` in contracts, ``_base`` and ``_quote``),
        ``funding_rate`` of the current period and ``funding_rate_indicative`` the next, mark and
        index prices, ``total_size`` the open interest in contracts (no touch, no next funding time):
        {"time":1541659086,"time_ms":1541659086123,"channel":"futures.tickers","event":"update","result":[
        {"contract":"BTC_USD","last":"118.4","change_percentage":"0.77","funding_rate":"-0.000114",
        "funding_rate_indicative":"0.01875","mark_price":"118.35","index_price":"118.36","total_size":"73648",
        "volume_24h":"745487577","volume_24h_btc":"117","volume_24h_usd":"419950","quanto_base_rate":"",
        "volume_24h_quote":"1665006","volume_24h_settle":"178","volume_24h_base":"5526","low_24h":"99.2",
        "high_24h":"132.5"}]}"""
        ts = stamp(msg)
        for t in msg["result"]:
            native = t["contract"]
            symbol, mark = self.symbol(native), float(t["mark_price"])
            self.emit_market(Ticker(self.venue, symbol, ts, None, optional(t.get("high_24h")), optional(t.get("low_24h")),
                                    float(t["last"]), optional(t.get("volume_24h_base")), optional(t.get("volume_24h_quote"))))
            contract = self.contract(native)
            hours = contract[1] if contract is not None else FUNDING_HOURS
            self.emit_market(FundingRate(self.venue, symbol, ts, float(t["funding_rate"]), None, hours,
                                         optional(t.get("funding_rate_indicative"))))
            self.emit_market(MarkPrice(self.venue, symbol, ts, mark))
            self.emit_market(IndexPrice(self.venue, symbol, ts, float(t["index_price"])))
            if contract is not None:  # else the contracts' size is unknown (replay)
                amount = round(float(t["total_size"]) * contract[0], 10)
                self.emit_market(OpenInterest(self.venue, symbol, ts, amount, amount * mark))

    def on_candlesticks(self, result: Any) -> None:
        """``futures.candlesticks``: ``v`` in contracts (no quote volume), ``w`` true on the final push:
        {"time":1542162490,"time_ms":1542162490123,"channel":"futures.candlesticks","event":"update","result":[
        {"t":1545129300,"v":27525555,"c":"95.4","h":"96.9","l":"89.5","o":"94.3","n":"1m_BTC_USDT",
        "a":"314732.87412","w":false}]}"""
        for c in result:
            name, _, native = c["n"].partition("_")
            interval, contract = BY_NAME.get(name), self.contract(native)
            if interval is None or contract is None:
                continue
            self.emit_candle(Candle(self.venue, self.symbol(native), interval, float(c["t"]), float(c["o"]), float(c["h"]),
                                    float(c["l"]), float(c["c"]), round(float(c["v"]) * contract[0], 10), None,
                                    c.get("w") is True), native)

    def parse_candles(self, gap: Gap, body: bytes | str) -> list[Candle]:
        """``GET /api/v4/futures/usdt/candlesticks``, oldest first, ``v`` in contracts, ``sum`` the quote volume:
        [{"t":1539852480,"v":97151,"c":"1.032","h":"1.032","l":"1.032","o":"1.032","sum":"3580"}]"""
        contract = self.contract(gap.native)
        if contract is None:
            raise VenueUnavailable(f"gateswap: {gap.native} is not a contract this feed has read")
        symbol = self.symbol(gap.native)
        return [Candle(self.venue, symbol, gap.interval, float(r["t"]), float(r["o"]), float(r["h"]), float(r["l"]),
                       float(r["c"]), round(float(r["v"]) * contract[0], 10), optional(r.get("sum")), True)
                for r in self.rest_rows(body)]

    def sides(self, bids: list[Any], asks: list[Any]) -> tuple[list[Any], list[Any]]:
        return [(lv["p"], lv["s"]) for lv in bids], [(lv["p"], lv["s"]) for lv in asks]

    def on_trades(self, result: Any) -> None:
        for t in result:
            native = t["contract"]
            size = t["size"]
            self.emit_trade(
                Trade(
                    venue=self.venue,
                    symbol=self.symbols.get(native, native),
                    price=float(t["price"]),
                    amount=float(abs(size)),
                    side=Side.BUY if size > 0 else Side.SELL,
                    ts=t["create_time_ms"] / 1000.0,
                    trade_id=str(t["id"]),
                )
            )

    def parse_instruments(self, bodies: list[bytes]) -> list[Instrument]:
        out = []
        for c in loads(bodies[0]):
            if c.get("in_delisting"):
                continue
            base, quote = c["name"].split("_", 1)
            hours = int(c.get("funding_interval") or FUNDING_HOURS * 3600) / 3600
            out.append(
                Instrument(
                    venue=self.venue,
                    native=c["name"],
                    symbol=standard_symbol(base, quote, Kind.PERP),
                    base=base,
                    quote=quote,
                    kind=Kind.PERP,
                    tick=float(c["order_price_round"]),
                    lot=float(c["quanto_multiplier"]),  # one contract, in base units
                    contract_size=float(c["quanto_multiplier"]),
                    funding_hours=hours,
                )
            )
        return out


async def withdrawal_limits(client: Any, asset: str, network: str | None) -> WithdrawalLimits:
    """``GET /api/v4/wallet/withdraw_status``: the chain's ``withdraw_fix_on_chains`` fee (else the
    currency's ``withdraw_fix``) and ``withdraw_amount_mini``; a currency not listed withdraws nowhere."""
    rows = await client.privateWalletGetWithdrawStatus({"currency": asset})
    row = next((r for r in rows if r.get("currency") == asset), None)
    if row is None:
        return WithdrawalLimits(asset, network, None, None, enabled=False)
    on_chains = row.get("withdraw_fix_on_chains") or {}
    if network is not None and on_chains and network not in on_chains:
        return WithdrawalLimits(asset, network, None, None, enabled=False)
    fee = on_chains.get(network) if network is not None else None
    return WithdrawalLimits(asset, network, Decimal(str(fee if fee is not None else row["withdraw_fix"])),
                            Decimal(str(row["withdraw_amount_mini"])))


SPEC: VenueSpec[type[FeedHandler]] = VenueSpec(
    venue="gate",
    kind="cex",
    tier=3,
    ccxt_id="gate",
    feeds={
        "gate": GateSpot,
        "gateswap": GateSwap,
    },
    # Sources: Gate API v4 docs (www.gate.io/docs/developers/apiv4: spot, margin, futures,
    # delivery, options, unified account); ccxt 4.5.90 ``gate.features`` (no attached TP/SL).
    capabilities=VenueCapabilities(
        venue="gate",
        products={
            Product.SPOT: Support.yes(feeds=("gate",)),
            Product.MARGIN: Support.yes("cross and isolated; orders trade the spot book", feeds=("gate",)),
            Product.LINEAR_PERP: Support.yes("USDT-settled perpetuals", feeds=("gateswap",)),
            Product.INVERSE_PERP: Support.yes("BTC-settled perpetuals"),
            Product.FUTURES: Support.yes("delivery contracts"),
            Product.OPTIONS: Support.yes(),
        },
        features={
            Feature.LIMIT: Support.yes(),
            Feature.MARKET: Support.yes(),
            Feature.STOP: Support.yes("price-triggered orders (price_orders)"),
            Feature.STOP_LIMIT: Support.yes("price-triggered orders (price_orders)"),
            Feature.POST_ONLY: Support.yes("time_in_force poc"),
            Feature.IOC: Support.yes(),
            Feature.FOK: Support.yes(),
            Feature.REDUCE_ONLY: Support.yes(only=DERIVATIVES),
            Feature.ICEBERG: Support.yes("iceberg: the amount shown"),
            Feature.OCO: Support.no(),
            Feature.TP_SL: Support.no("take-profit and stop-loss are separate price-triggered orders"),
            Feature.HEDGE_MODE: Support.yes("dual mode", only=PERPETUALS),
            Feature.CROSS_MARGIN: Support.yes(),
            Feature.ISOLATED_MARGIN: Support.yes(),
            Feature.UNIFIED_ACCOUNT: Support.yes(),
            Feature.PORTFOLIO_MARGIN: Support.yes("a mode of the unified account"),
            Feature.SUB_ACCOUNTS: Support.yes(),
            Feature.TESTNET: Support.yes("futures testnet (fx-api-testnet.gateio.ws)"),
            Feature.KEY_PERMISSIONS: Support.no(
                "no endpoint for the key's rights (GET /api/v4/account/detail gives its IP whitelist only): "
                "audited from a read call and the declared permissions"
            ),
        },
    ).traded((Product.SPOT, Product.LINEAR_PERP, *BASIC_ORDERS, Feature.REDUCE_ONLY, Feature.SUB_ACCOUNTS, Feature.ICEBERG),
             OrderWire(IcebergParam("iceberg", products=frozenset({Product.SPOT})))),
    # REST limits (www.gate.io/docs/developers/apiv4/en/, "Frequency limit rule"): public endpoints 200
    # per 10 s each per IP; private ones 200 per 10 s each per account ("other private" 150), except spot
    # order placing and amending, together 10/s per account and market, and cancelling, 200/s.
    limits=LimitTable(
        venue="gate",
        pools=(
            Window("public", 200, 10, per_endpoint=True),
            Window("private", 200, 10, Scope.ACCOUNT, per_endpoint=True),
            Window("other-private", 150, 10, Scope.ACCOUNT, per_endpoint=True),
            Window("spot-place", 10, 1, Scope.ACCOUNT, per_symbol=True),
            Window("spot-cancel", 200, 1, Scope.ACCOUNT),
            Window("futures-place", 100, 1, Scope.ACCOUNT),
            Window("futures-cancel", 200, 1, Scope.ACCOUNT),
        ),
        endpoints={
            "GET /api/v4/spot/currencies": {"public": 1},
            "GET /api/v4/spot/currency_pairs": {"public": 1},
            "GET /api/v4/margin/currency_pairs": {"public": 1},
            "GET /api/v4/spot/order_book": {"public": 1},
            "GET /api/v4/account/detail": {"other-private": 1},
            "GET /api/v4/spot/accounts": {"private": 1},
            "POST /api/v4/spot/orders": {"spot-place": 1},
            "PATCH /api/v4/spot/orders/{order_id}": {"spot-place": 1},
            "DELETE /api/v4/spot/orders/{order_id}": {"spot-cancel": 1},
            "GET /api/v4/spot/orders/{order_id}": {"private": 1},
            "GET /api/v4/spot/open_orders": {"private": 1},
            "GET /api/v4/spot/my_trades": {"private": 1},
            "GET /api/v4/wallet/fee": {"private": 1},
            "GET /api/v4/futures/usdt/contracts": {"public": 1},
            "GET /api/v4/futures/usdt/contracts/{contract}": {"public": 1},
            "GET /api/v4/futures/usdt/order_book": {"public": 1},
            "GET /api/v4/futures/usdt/accounts": {"private": 1},
            "POST /api/v4/futures/usdt/orders": {"futures-place": 1},
            "PUT /api/v4/futures/usdt/orders/{order_id}": {"futures-place": 1},
            "DELETE /api/v4/futures/usdt/orders/{order_id}": {"futures-cancel": 1},
            "GET /api/v4/futures/usdt/orders": {"private": 1},
            "GET /api/v4/futures/usdt/orders/{order_id}": {"private": 1},
            "GET /api/v4/futures/usdt/positions": {"private": 1},
            "GET /api/v4/futures/usdt/positions/{contract}": {"private": 1},
        },
        default={"other-private": 1},
        breach=Breach(
            statuses={429: 1.0},
            code_field="label",
            codes={"TOO_MANY_REQUESTS": 1.0, "TOO_FAST": 1.0},
            reset_at="X-Gate-RateLimit-Reset-Timestamp",
        ),
    ),
    # the request an unmodified ccxt client places a spot order with (dYdX: its order transaction);
    # the router asks the limiter how many of these the venue grants now
    order_endpoint="POST /api/v4/spot/orders",
    # the client order id this venue accepts (crossbook derives one per journaled order)
    client_id=ClientIdRule(
        "gate", "text", "clientOrderId", r"t-[0-9A-Za-z_.-]{1,26}", IdStyle.TOKEN,
        "Gate v4 order text: 't-' then at most 28 bytes of [0-9A-Za-z_.-]; ccxt counts the 't-' "
        "in its own 28-character check, so 26 after the prefix",
        prefix="t-",
    ),
    # Fees (gate.com/fee): spot VIP by 30-day volume (GT holdings and assets also qualify); paying
    # with GT takes about 10% off (VIP 0: 0.09% / 0.09%). Futures: the base tier only.
    fees=FeeSchedule(
        venue="gate",
        spot=(
            FeeTier("VIP 0", 0, 0.0010, 0.0010),
            FeeTier("VIP 1", 60e3, 0.00099, 0.00099),
            FeeTier("VIP 2", 120e3, 0.00098, 0.00098),
            FeeTier("VIP 3", 240e3, 0.00097, 0.00097),
            FeeTier("VIP 4", 500e3, 0.00095, 0.00096),
            FeeTier("VIP 5", 1e6, 0.0009, 0.00095),
            FeeTier("VIP 6", 3e6, 0.00085, 0.0009),
            FeeTier("VIP 7", 8e6, 0.0008, 0.00085),
            FeeTier("VIP 8", 20e6, 0.00075, 0.0008),
            FeeTier("VIP 9", 50e6, 0.0007, 0.00075),
            FeeTier("VIP 10", 100e6, 0.0, 0.00058),
            FeeTier("VIP 11", 120e6, 0.0, 0.00045),
            FeeTier("VIP 12", 240e6, 0.0, 0.00037),
            FeeTier("VIP 13", 440e6, 0.0, 0.0003),
            FeeTier("VIP 14", 800e6, 0.0, 0.00025),
            FeeTier("VIP 15", 1.6e9, 0.0, 0.00022),
            FeeTier("VIP 16", 3e9, 0.0, 0.0002),
        ),
        derivatives=(FeeTier("VIP 0", 0, 0.0002, 0.0005),),
        discount_token="GT",
        discounts={Kind.SPOT: 0.10},
    ),
    # finish_as values ccxt 4.5.90 passes through as the order status: a FOK killed, a post-only that
    # would have taken, self-trade prevention
    unparsed_statuses={"fok": OrderStatus.EXPIRED, "poc": OrderStatus.CANCELED, "stp": OrderStatus.CANCELED},
    # the fee comes out of the amount; Gate's saved addresses are listed per currency only, so the
    # venue's whitelist is left to Gate to enforce (ADDRESS_NOT_USED)
    withdrawals=WithdrawalRules("withdraw_order_id", limits=withdrawal_limits),
)
