"""Simulated OKX: market data over REST and the public WebSocket."""

from __future__ import annotations

import itertools
import secrets
from decimal import Decimal
from typing import Any, ClassVar

import orjson
from aiohttp import web

from ....book.checksum import crc32_signed, interleaved
from ....symbols import parse_standard
from ....venues.spec.limits import OTHER_FRAME, SUBSCRIBE_FRAME
from ...engine import SimOrder
from ...interest import open_interest
from ...perp_prices import RATE_PLACES
from ...ratelimit import Over
from ...refusal import ErrorShape, Reason, Refusal
from ...server import Change, Frame, SimConnection, SimVenue, json_response
from ...tape import Candle, DayStats, Print
from .errors import REFUSALS, render
from .streams import OkxStreams, StreamFrames, frames_subscribed
from .wire import (
    CHECKSUM_DEPTH,
    CONTRACTS,
    DEPTH,
    Level,
    Placement,
    View,
    _diff,
    _now_ms,
    _trim,
    envelope,
    num,
    require,
)

SUBSCRIBE_OPS = frozenset({"subscribe", "unsubscribe", "login"})  # the requests OKX counts per connection

class OkxPublic(OkxStreams, SimVenue):
    """OKX's public side: instruments, books and funding over REST, the public WebSocket's books and
    trades, its other public channels (``streams.py``)."""
    venue = "okx"
    markets = (
        "BTC-USDT",
        "BTC-USDT-PERP",
        "ETH-USDT",
        "SOL-USDT",
        "ETH-BTC",
        "BTC-USDC",
        "USDC-USDT",
        "ETH-USDT-PERP",
        "BTC-USD-PERP",
        "ETH-USD-PERP",
    )
    ws_paths = ("/ws/v5/public", "/ws/v5/business")  # candles on business, everything else on public
    private_ws_paths = ("/ws/v5/private",)
    faults_supported = frozenset({"drop", "skip", "corrupt", "stall", "delay"})
    snapshot_paths = ("/api/v5/market/books",)
    instruments_paths = ("/api/v5/public/instruments",)
    unavailable = ErrorShape("50001", "Service temporarily unavailable. Please try again later.", 503)
    inband_snapshot: ClassVar[bool] = True
    ccxt_id = "okx"
    ccxt_hosts = ("https://{hostname}",)  # ccxt's OKX base is a template on its hostname option
    ccxt_options: ClassVar[dict[str, Any]] = {"fetchMarkets": {"types": ["spot"]}}
    key_needs_passphrase = True
    api_key_header = "OK-ACCESS-KEY"
    limit_symbol_param = "instId"

    def rate_limit_refusal(self, over: Over, now: float) -> Refusal:
        return REFUSALS[Reason.RATE_LIMITED].refuse()

    def render_refusal(self, refusal: Refusal) -> web.Response:
        return render(refusal)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.seq: dict[str, int] = {s: 2_000_000 + 31 * i for i, s in enumerate(self.markets)}
        self.views: dict[str, tuple[View, View]] = {s: self._window(s) for s in self.markets}
        self.placements: dict[str, Placement] = {}  # order id -> what its place request said
        self.killed: dict[str, SimOrder] = {}  # post-only orders OKX accepted and canceled at once
        self._killed_ids = itertools.count(9_000_000_001)  # beyond the engine's order ids
        self._placing: Placement | None = None  # the request being placed: its first push precedes the answer
        self._transfer_ids = itertools.count(700_001)
        self.init_streams()

    def native(self, symbol: str) -> str:
        base, quote, _, _ = parse_standard(symbol)
        return f"{base}-{quote}-SWAP" if symbol in CONTRACTS else f"{base}-{quote}"

    def size_decimals(self, symbol: str) -> int:
        contract = CONTRACTS.get(symbol)
        return contract[2] if contract else self.ladders[symbol].size_decimals

    def size_text(self, symbol: str, lots: int) -> str:
        places = self.size_decimals(symbol)
        whole, frac = divmod(lots, 10**places)
        return _trim(f"{whole}.{frac:0{places}d}") if places else str(whole)

    def price_text(self, symbol: str, ticks: int) -> str:
        return _trim(self.ladders[symbol].price_str(ticks))

    def expected_top(self, symbol: str, n: int) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
        ladder = self.ladders[symbol]
        return (
            [(ladder.price(p), float(self.size_text(symbol, q))) for p, q in ladder.top(True, n)],
            [(ladder.price(p), float(self.size_text(symbol, q))) for p, q in ladder.top(False, n)],
        )

    def _levels(self, symbol: str, levels: list[tuple[int, int]]) -> list[Level]:
        return [[self.price_text(symbol, p), self.size_text(symbol, q), "0", str(1 + q % 5 if q else 0)] for p, q in levels]

    def _window(self, symbol: str) -> tuple[View, View]:
        ladder = self.ladders[symbol]
        return dict(ladder.top(True, DEPTH)), dict(ladder.top(False, DEPTH))

    def _checksum(self, symbol: str) -> int:
        bids, asks = self.views[symbol]
        top_b = sorted(bids, reverse=True)[:CHECKSUM_DEPTH]
        top_a = sorted(asks)[:CHECKSUM_DEPTH]
        return crc32_signed(
            interleaved(
                [(self.price_text(symbol, p), self.size_text(symbol, bids[p])) for p in top_b],
                [(self.price_text(symbol, p), self.size_text(symbol, asks[p])) for p in top_a],
            )
        )

    async def instruments(self, request: web.Request) -> web.Response:
        inst_type = request.query.get("instType")
        if inst_type not in ("SPOT", "SWAP", "FUTURES", "OPTION", "MARGIN"):
            return json_response({"code": "51000", "msg": "Parameter instType error", "data": []}, status=400)
        listed = [self.instrument(s) for s in self.markets]
        return json_response({"code": "0", "msg": "", "data": [i for i in listed if i["instType"] == inst_type]})

    def instrument(self, symbol: str) -> dict[str, Any]:
        base, quote, _, _ = parse_standard(symbol)
        lot = self.size_text(symbol, 1)
        info: dict[str, Any] = {
            "instType": "SPOT",
            "instId": self.native(symbol),
            "uly": "",
            "instFamily": "",
            "category": "1",
            "baseCcy": base,
            "quoteCcy": quote,
            "settleCcy": "",
            "ctVal": "",
            "ctMult": "",
            "ctValCcy": "",
            "ctType": "",
            "optType": "",
            "stk": "",
            "listTime": "1611916800000",
            "expTime": "",
            "lever": "10",
            "tickSz": self.price_text(symbol, 1),
            "lotSz": lot,
            "minSz": lot,
            "maxLmtSz": "9999999999",
            "maxMktSz": "1000000",
            "alias": "",
            "state": "live",
            "ruleType": "normal",
        }
        contract = CONTRACTS.get(symbol)
        if contract is not None:
            ct_val, ct_ccy, _ = contract
            info.update(
                instType="SWAP",
                uly=f"{base}-{quote}",
                instFamily=f"{base}-{quote}",
                baseCcy="",
                quoteCcy="",
                settleCcy=base if ct_ccy == quote else quote,
                ctVal=ct_val,
                ctMult="1",
                ctValCcy=ct_ccy,
                ctType="inverse" if ct_ccy == quote else "linear",
                lever="100",
            )
        return info

    async def books(self, request: web.Request) -> web.Response:
        symbol = self.symbol_of(request.query.get("instId", ""))
        if symbol is None:
            return json_response({"code": "51001", "msg": "Instrument ID does not exist", "data": []})
        depth = min(DEPTH, int(request.query.get("sz", "1")))
        bids, asks = self.views[symbol]
        data = {
            "asks": self._levels(symbol, [(p, asks[p]) for p in sorted(asks)[:depth]]),
            "bids": self._levels(symbol, [(p, bids[p]) for p in sorted(bids, reverse=True)[:depth]]),
            "ts": str(_now_ms()),
            "seqId": self.seq[symbol],
        }
        return json_response({"code": "0", "msg": "", "data": [data]})

    def market_data_routes(self) -> list[web.RouteDef]:
        return [web.get("/api/v5/market/ticker", self.ticker), web.get("/api/v5/market/trades", self.trades),
                web.get("/api/v5/market/candles", self.candles)]

    def inst_type(self, symbol: str) -> str:
        return "SWAP" if symbol in CONTRACTS else "SPOT"

    def contracts(self, symbol: str, base: str) -> str:
        """A base amount in a SWAP's contracts (SPOT: unchanged)."""
        if symbol not in CONTRACTS:
            return base
        per_contract = self.engine.markets[symbol].lot * 10 ** self.size_decimals(symbol)
        return num(Decimal(base) / per_contract)

    async def ticker(self, request: web.Request) -> web.Response:
        """``GET /api/v5/market/ticker?instId=``: the touch and the rolling day; ``vol24h`` in the
        base (SPOT) or contracts (SWAP), ``volCcy24h`` in the quote (SPOT) or base (SWAP)."""
        symbol = self.symbol_of(request.query.get("instId", ""))
        if symbol is None:
            return json_response({"code": "51001", "msg": "Instrument ID does not exist", "data": []})
        return envelope([self.ticker_row(symbol, self.tape.day(symbol))])

    def ticker_row(self, symbol: str, day: DayStats) -> dict[str, Any]:
        """The ``/market/ticker`` row, also the ``tickers`` channel's."""
        ladder = self.ladders[symbol]
        (bid, bid_lots), (ask, ask_lots) = ladder.top(True, 1)[0], ladder.top(False, 1)[0]
        swap = symbol in CONTRACTS
        return {
            "instType": self.inst_type(symbol), "instId": self.native(symbol),
            "last": _trim(day.last), "lastSz": self.contracts(symbol, day.last_size),
            "askPx": self.price_text(symbol, ask), "askSz": self.size_text(symbol, ask_lots),
            "bidPx": self.price_text(symbol, bid), "bidSz": self.size_text(symbol, bid_lots),
            "open24h": _trim(day.open), "high24h": _trim(day.high), "low24h": _trim(day.low),
            "volCcy24h": day.volume if swap else day.quote_volume, "vol24h": self.contracts(symbol, day.volume),
            "ts": str(day.close_ms), "sodUtc0": _trim(day.open), "sodUtc8": _trim(day.open),
        }

    async def trades(self, request: web.Request) -> web.Response:
        """``GET /api/v5/market/trades``: the newest ``limit`` (default 100, at most 500), newest first."""
        symbol = self.symbol_of(request.query.get("instId", ""))
        if symbol is None:
            return json_response({"code": "51001", "msg": "Instrument ID does not exist", "data": []})
        prints = self.tape.recent(symbol, min(int(request.query.get("limit", "100")), 500))
        return envelope([self.trade_row(symbol, p) for p in reversed(prints)])

    def trade_row(self, symbol: str, p: Print) -> dict[str, Any]:
        return {"instId": self.native(symbol), "side": "buy" if p.buy else "sell", "sz": self.size_text(symbol, p.lots),
                "px": self.price_text(symbol, p.ticks), "tradeId": str(p.trade_id), "ts": str(p.ms), "source": "0"}

    async def candles(self, request: web.Request) -> web.Response:
        """``GET /api/v5/market/candles``: ``bar`` (default 1m), ``limit`` (default 100, at most 300),
        ``after`` / ``before`` (older / newer than), newest first; ``confirm`` 0 for the bar in progress."""
        query = request.query
        symbol = self.symbol_of(query.get("instId", ""))
        if symbol is None:
            return json_response({"code": "51001", "msg": "Instrument ID does not exist", "data": []})
        seconds = OKX_BARS.get(query.get("bar", "1m"))
        if seconds is None:
            return json_response({"code": "51000", "msg": "Parameter bar error", "data": []})
        after, before = query.get("after"), query.get("before")
        candles = self.tape.candles(symbol, seconds, min(int(query.get("limit", "100")), 300),
                                    int(before) + 1 if before else None, int(after) - 1 if after else None)
        now = self.tape.clock()
        return envelope([self.candle_row(symbol, c, c.start_ms + seconds * 1000 <= now) for c in reversed(candles)])

    def candle_row(self, symbol: str, c: Candle, closed: bool) -> list[str]:
        swap = symbol in CONTRACTS
        return [str(c.start_ms), _trim(c.open), _trim(c.high), _trim(c.low), _trim(c.close),
                self.contracts(symbol, c.volume), c.volume if swap else c.quote_volume, c.quote_volume, "1" if closed else "0"]

    async def funding_rate_now(self, request: web.Request) -> web.Response:
        """A SWAP's funding (``PerpPrices``): the rate from its premium now, settled at the next
        8-hour boundary (``fundingTime``), the one after it ``nextFundingTime``."""
        symbol = self.symbol_of(request.query.get("instId", ""))
        if symbol not in CONTRACTS:
            raise REFUSALS[Reason.UNKNOWN_SYMBOL].refuse()
        return envelope([self.funding_row(symbol)])

    def funding_row(self, symbol: str) -> dict[str, str]:
        """The ``/public/funding-rate`` row, also the ``funding-rate`` channel's."""
        settles = self.next_funding_ms(symbol)
        rate, settled = self.funding_rate(symbol), self.funding_history(symbol, limit=1)
        rule = self.funding_rule
        return {
            "instType": "SWAP", "instId": self.native(symbol), "method": "current_period", "formulaType": "noRate",
            "fundingRate": num(rate), "nextFundingRate": "", "fundingTime": str(settles),
            "nextFundingTime": str(settles + rule.interval_ms), "minFundingRate": num(-rule.cap),
            "maxFundingRate": num(rule.cap), "interestRate": num(rule.interest), "impactValue": "",
            "premium": num(self.premium(symbol).quantize(RATE_PLACES)),
            "settFundingRate": num(settled[-1].rate if settled else rate), "settState": "settled", "ts": str(self.tape.clock()),
        }

    async def funding_rate_history(self, request: web.Request) -> web.Response:
        """``GET /api/v5/public/funding-rate-history?instId=[&before=][&after=][&limit=]``: settled
        rates newer than ``before`` and older than ``after`` (ms), newest first, ``limit`` (at
        most 400, default 100)."""
        symbol = self.symbol_of(request.query.get("instId", ""))
        if symbol not in CONTRACTS:
            raise REFUSALS[Reason.UNKNOWN_SYMBOL].refuse()
        query = request.query
        try:
            before, after = (int(query[k]) if query.get(k) else None for k in ("before", "after"))
            limit = min(int(query.get("limit") or 100), 400)
        except ValueError:
            raise REFUSALS[Reason.BAD_PARAMETER].refuse() from None
        start = None if before is None else before + 1
        end = None if after is None else after - 1
        rows = [{"instType": "SWAP", "instId": self.native(symbol), "formulaType": "noRate", "fundingRate": num(s.rate),
                 "realizedRate": num(s.rate), "fundingTime": str(s.ms), "method": "current_period"}
                for s in self.funding_history(symbol, start, end, limit)]
        return envelope(rows[::-1])

    async def open_interest(self, request: web.Request) -> web.Response:
        """``GET /api/v5/public/open-interest?instType=SWAP[&instId=]``: the simulator's open
        interest (``sim/interest.py``), ``oi`` in contracts, ``oiCcy`` in the base coin, ``oiUsd``
        at the book's mid."""
        if request.query.get("instType") != "SWAP":
            raise REFUSALS[Reason.BAD_PARAMETER].refuse()
        wanted = request.query.get("instId")
        symbols = [s for s in CONTRACTS if wanted in (None, self.native(s))]
        if not symbols:
            raise REFUSALS[Reason.UNKNOWN_SYMBOL].refuse()
        return envelope([self.open_interest_row(s) for s in symbols])

    def open_interest_row(self, symbol: str) -> dict[str, str]:
        amount, mid = open_interest(self.engine, symbol), Decimal(self.tape.mid(symbol))
        contracts = Decimal(self.contracts(symbol, str(amount)))
        value, unit, _ = CONTRACTS[symbol]
        if unit == "USD":  # inverse: contracts of a fixed USD value
            usd = contracts * Decimal(value)
            base = usd / mid if mid else Decimal(0)
        else:
            base, usd = amount, amount * mid
        return {"instType": "SWAP", "instId": self.native(symbol), "oi": num(contracts), "oiCcy": num(base),
                "oiUsd": num(usd), "ts": str(_now_ms())}

    def listed_symbol(self, params: dict[str, Any]) -> str:
        symbol = self.symbol_of(require(params, "instId"))
        if symbol is None:
            raise REFUSALS[Reason.UNKNOWN_SYMBOL].refuse()
        return symbol

    def swap_symbol(self, params: dict[str, Any]) -> str:
        symbol = self.listed_symbol(params)
        if symbol not in CONTRACTS:
            raise REFUSALS[Reason.UNKNOWN_SYMBOL].refuse()
        return symbol

    def contracts_to_base(self, symbol: str, contracts: Decimal) -> Decimal:
        """A SWAP ``sz`` in contracts as the engine's amount: whole ladder lots, or 51121."""
        lots = contracts * 10 ** self.size_decimals(symbol)
        if lots != lots.to_integral_value():
            raise REFUSALS[Reason.AMOUNT_OFF_GRID].refuse()
        return int(lots) * self.engine.markets[symbol].lot

    def size_of(self, symbol: str, amount: Decimal) -> str:
        """An engine amount as OKX states it: base units on SPOT, contracts on SWAP."""
        if symbol not in CONTRACTS:
            return num(amount)
        text = self.size_text(symbol, int(abs(amount) / self.engine.markets[symbol].lot))
        return f"-{text}" if amount < 0 else text

    def on_connect(self, conn: SimConnection) -> None:
        conn.state["connId"] = secrets.token_hex(4)

    async def on_client_message(self, conn: SimConnection, data: str | bytes) -> None:
        if data == "ping":
            self.client_pings += 1
            conn.send("pong")
            return
        try:
            msg = orjson.loads(data)
        except orjson.JSONDecodeError:
            conn.send(self._event(conn, "error", code="60012", msg=f"Invalid request: {data!r}"))
            return
        op = msg.get("op")
        if op not in ("subscribe", "unsubscribe"):
            conn.send(self._event(conn, "error", code="60012", msg=f"Invalid request: {msg}"))
            return
        snapshots: list[str] = []  # OKX acks every channel of a request before it sends data
        for arg in msg.get("args", []):
            if self.follows_inst_type(conn, op, arg):
                continue
            channel, native = arg.get("channel"), arg.get("instId", "")
            symbol = self.stream_symbol(conn, channel, native)
            if symbol is None:
                conn.send(self._event(conn, "error", code="60018", msg=f"Wrong URL or channel:{channel},instId:{native} doesn't exist."))
                continue
            channels: set[str] = conn.subs.setdefault(symbol, set())
            if op == "subscribe":
                channels.add(channel)
            else:
                channels.discard(channel)
                if not channels:
                    del conn.subs[symbol]
            conn.send(self._event(conn, op, arg={"channel": channel, "instId": native}))
            if op == "subscribe" and channel == "books" and self.inband_snapshot:
                snapshots.append(self._snapshot_frame(symbol))
        for frame in snapshots:
            conn.send(frame)

    def frame_kind(self, data: str | bytes) -> str:
        """OKX counts subscribe, unsubscribe and login requests per connection (its SPEC's limit)."""
        try:
            msg = orjson.loads(data)
        except orjson.JSONDecodeError:
            return OTHER_FRAME  # "ping", or what on_client_message refuses
        return SUBSCRIBE_FRAME if isinstance(msg, dict) and msg.get("op") in SUBSCRIBE_OPS else OTHER_FRAME

    async def refuse_message_rate(self, conn: SimConnection, data: str | bytes) -> None:
        """Over 480 subscribe requests an hour on one connection: OKX's error event, the request ignored."""
        conn.send(self._event(conn, "error", code="60014", msg="Requests too frequent."))

    def _event(self, conn: SimConnection, event: str, **fields: Any) -> str:
        return orjson.dumps({"event": event, **fields, "connId": conn.state["connId"]}).decode()

    def _snapshot_frame(self, symbol: str) -> str:
        bids, asks = self.views[symbol]
        data = {
            "asks": self._levels(symbol, sorted(asks.items())),
            "bids": self._levels(symbol, sorted(bids.items(), reverse=True)),
            "ts": str(_now_ms()),
            "checksum": self._checksum(symbol),
            "prevSeqId": -1,
            "seqId": self.seq[symbol],
        }
        return self._book_frame(symbol, "snapshot", data)

    def _book_frame(self, symbol: str, action: str, data: dict[str, Any]) -> str:
        arg = {"channel": "books", "instId": self.native(symbol)}
        return orjson.dumps({"arg": arg, "action": action, "data": [data]}).decode()

    def encode(self, symbol: str, changes: list[Change]) -> str | None:
        """The change of the 400-level window since the last tick; None when it did not move."""
        old_bids, old_asks = self.views[symbol]
        new_bids, new_asks = self._window(symbol)
        bids = _diff(old_bids, new_bids)
        asks = _diff(old_asks, new_asks)
        if not bids and not asks:
            return None
        self.views[symbol] = (new_bids, new_asks)
        prev = self.seq[symbol] + (1 if self.faults.take("skip", symbol) else 0)
        self.seq[symbol] = prev + len(bids) + len(asks)
        checksum = self._checksum(symbol)
        if self.faults.take("corrupt", symbol):
            checksum = (checksum ^ 1) or 2
        data = {
            "asks": self._levels(symbol, sorted(asks)),
            "bids": self._levels(symbol, sorted(bids, reverse=True)),
            "ts": str(_now_ms()),
            "checksum": checksum,
            "prevSeqId": prev,
            "seqId": self.seq[symbol],
        }
        return self._book_frame(symbol, "update", data)

    def frames_for(self, conn: SimConnection, symbol: str, encoded: str | None) -> list[Frame]:
        return [encoded] if encoded is not None and "books" in conn.subs[symbol] else []

    def trade_frames_for(self, conn: SimConnection, symbol: str, encoded: tuple[list[Frame], StreamFrames]) -> list[Frame]:
        trades, streams = encoded
        return [*(trades if "trades" in conn.subs[symbol] else []), *frames_subscribed(conn, symbol, streams)]

    def trade_frame(self, symbol: str, ticks: int, lots: int, buy: bool, trade_id: int) -> str:
        native = self.native(symbol)
        trade = {
            "instId": native,
            "tradeId": str(trade_id),
            "px": self.price_text(symbol, ticks),
            "sz": self.size_text(symbol, lots),
            "side": "buy" if buy else "sell",
            "ts": str(_now_ms()),
            "count": "1",
        }
        return orjson.dumps({"arg": {"channel": "trades", "instId": native}, "data": [trade]}).decode()


OKX_BARS: dict[str, int] = {
    "1s": 1, "1m": 60, "3m": 180, "5m": 300, "15m": 900, "30m": 1800, "1H": 3600, "2H": 7200, "4H": 14_400,
    "6H": 21_600, "12H": 43_200, "1D": 86_400, "1W": 604_800, "1M": 2_592_000,
}
