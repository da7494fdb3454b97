"""Simulated Gate v4 market data, spot and USDT perpetuals. Spot: ``/ws/v4/`` with ``spot.order_book_update`` (100 ms, the
top-100 window, ``U``/``u`` update ids, an occasional ``full: true`` push), ``spot.trades``,
``spot.ping`` -> ``spot.pong``; REST ``/api/v4/spot/order_book?with_id=true`` (``id``, at most
100 levels) and ``/api/v4/spot/currency_pairs``.

Like the venue, the stream is a diff of the 100-level window: a level pushed out of the window is
sent with amount "0", a level that moves up into it is sent as new. The update id counts every
book change, inside the window or not, and each message covers the ids since the last message, so
a change that leaves the window as it was moves the id without a message.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

import orjson
from aiohttp import web

from ...symbols import parse_standard
from ..market import Ladder
from ..server import Change, Frame, SimConnection, SimVenue, json_response

View = dict[int, int]  # ticks -> lots of one side's window


def _plain(text: str) -> str:
    """Gate's book strings carry no trailing zeros: "60000.10" -> "60000.1", "5.000" -> "5"."""
    return text.rstrip("0").rstrip(".") if "." in text else text


class GateSpotSim(SimVenue):
    venue = "gate"
    markets: ClassVar[tuple[str, ...]] = ("BTC-USDT", "ETH-USDT", "SOL-USDT", "ETH-BTC", "BTC-USDC")
    ws_paths = ("/ws/v4/",)
    server_ping_interval = 30.0  # protocol-level ping/pong; Gate sends no application ping
    faults_supported = frozenset({"drop", "skip", "stall", "delay"})
    book_channel: ClassVar[str] = "spot.order_book_update"
    trade_channel: ClassVar[str] = "spot.trades"
    book_path: ClassVar[str] = "/api/v4/spot/order_book"
    pair_param: ClassVar[str] = "currency_pair"
    instruments_path: ClassVar[str] = "/api/v4/spot/currency_pairs"
    intervals: ClassVar[tuple[str, ...]] = ("100ms",)
    depth: ClassVar[int] = 100  # the 100 ms window and the REST limit maximum
    full_every: ClassVar[int] = 64  # messages between unsolicited full pushes, per symbol
    trade_places: ClassVar[int] = 10  # trades pad to 10 decimals ("0.2010000000")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.update_id: dict[str, int] = {s: 2_000_000 + 31 * i for i, s in enumerate(self.markets)}
        self.sent_id: dict[str, int] = dict(self.update_id)  # last u a message carried
        self.sent_count: dict[str, int] = {s: 0 for s in self.markets}
        self.views: dict[str, tuple[View, View]] = {s: self._window(s) for s in self.markets}

    def native(self, symbol: str) -> str:
        base, quote, _, _ = parse_standard(symbol)
        return f"{base}_{quote}"

    def _window(self, symbol: str) -> tuple[View, View]:
        ladder = self.ladders[symbol]
        return dict(ladder.top(True, self.depth)), dict(ladder.top(False, self.depth))

    def level(self, ladder: Ladder, ticks: int, lots: int) -> Any:
        return [_plain(ladder.price_str(ticks)), _plain(ladder.size_str(lots))]

    # ---- REST -------------------------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        return [web.get(self.instruments_path, self.instruments), web.get(self.book_path, self.order_book)]

    async def instruments(self, request: web.Request) -> web.Response:
        return json_response([self.pair_info(s) for s in self.markets])

    def pair_info(self, symbol: str) -> dict[str, Any]:
        base, quote, _, _ = parse_standard(symbol)
        ladder = self.ladders[symbol]
        return {
            "id": self.native(symbol),
            "base": base,
            "base_name": base,
            "quote": quote,
            "quote_name": quote,
            "fee": "0.1",
            "min_base_amount": ladder.size_str(1),
            "min_quote_amount": "3",
            "amount_precision": ladder.size_decimals,
            "precision": ladder.price_decimals,
            "trade_status": "tradable",
            "sell_start": 1516378650,
            "buy_start": 1516378650,
            "delisting_time": 0,
            "type": "normal",
            "trade_url": f"https://www.gate.io/trade/{self.native(symbol)}",
            "st_tag": False,
        }

    async def order_book(self, request: web.Request) -> web.Response:
        symbol = self.symbol_of(request.query.get(self.pair_param, ""))
        if symbol is None:
            return json_response({"label": "INVALID_CURRENCY_PAIR", "message": "Invalid currency pair"}, status=400)
        limit = int(request.query.get("limit", "10"))
        if not 1 <= limit <= self.depth:
            return json_response({"label": "INVALID_PARAM_VALUE", "message": f"limit must be 1..{self.depth}"}, status=400)
        ladder = self.ladders[symbol]
        body = self.rest_times(time.time())
        if request.query.get("with_id") == "true":
            body = {"id": self.update_id[symbol], **body}
        body["asks"] = [self.level(ladder, p, q) for p, q in ladder.top(False, limit)]
        body["bids"] = [self.level(ladder, p, q) for p, q in ladder.top(True, limit)]
        return json_response(body)

    def rest_times(self, now: float) -> dict[str, Any]:
        return {"current": int(now * 1000), "update": int(now * 1000)}

    # ---- WebSocket --------------------------------------------------------------------------

    async def on_client_message(self, conn: SimConnection, data: str | bytes) -> None:
        msg = orjson.loads(data)
        channel = msg.get("channel", "")
        if channel.endswith(".ping"):
            self.client_pings += 1
            conn.send(self.envelope(channel[: -len("ping")] + "pong", "", {"error": None, "result": None}))
            return
        event = msg.get("event")
        payload = msg.get("payload") or []
        error = self.subscription_error(channel, event, payload)
        if error is not None:
            reply = {"payload": payload, "error": {"code": 2, "message": error}, "result": {"status": "fail"}}
        else:
            for symbol in self.subscribed_symbols(channel, payload):
                self.set_subscription(conn, symbol, channel, event == "subscribe")
            reply = {"payload": payload, "result": {"status": "success"}}
        if "id" in msg:
            reply["id"] = msg["id"]
        conn.send(self.envelope(channel, event or "", reply))

    def subscription_error(self, channel: str, event: Any, payload: list[Any]) -> str | None:
        if event not in ("subscribe", "unsubscribe"):
            return f"unknown event {event!r}"
        if channel == self.book_channel:
            if not self.valid_book_payload(payload):
                return f"Invalid argument provided: {payload}"
            pairs = payload[:1]
        elif channel == self.trade_channel:
            pairs = payload
        else:
            return f"unknown channel {channel}"
        unknown = [p for p in pairs if self.symbol_of(p) is None]
        return f"unknown currency pair {unknown[0]}" if unknown else None

    def valid_book_payload(self, payload: list[Any]) -> bool:
        return len(payload) == 2 and payload[1] in self.intervals

    def subscribed_symbols(self, channel: str, payload: list[str]) -> list[str]:
        pairs = payload[:1] if channel == self.book_channel else payload
        return [s for s in (self.symbol_of(p) for p in pairs) if s is not None]

    def set_subscription(self, conn: SimConnection, symbol: str, channel: str, on: bool) -> None:
        channels: set[str] = conn.subs.setdefault(symbol, set())
        if on:
            channels.add(channel)
        else:
            channels.discard(channel)
            if not channels:
                del conn.subs[symbol]

    def envelope(self, channel: str, event: str, fields: dict[str, Any]) -> bytes:
        now = time.time()
        return orjson.dumps({"time": int(now), "time_ms": int(now * 1000), "channel": channel, "event": event, **fields})

    def encode(self, symbol: str, changes: list[Change]) -> bytes | None:
        self.update_id[symbol] += len(changes)
        old_bids, old_asks = self.views[symbol]
        new_bids, new_asks = self.views[symbol] = self._window(symbol)
        bids = self._diff(old_bids, new_bids)
        asks = self._diff(old_asks, new_asks)
        if not bids and not asks:
            return None
        self.sent_count[symbol] += 1
        full = self.sent_count[symbol] % self.full_every == 0 and symbol not in self.faults.skip
        if full:
            bids, asks = list(new_bids.items()), list(new_asks.items())
        first = self.sent_id[symbol] + 1
        if self.faults.take("skip", symbol):
            self.update_id[symbol] += 1  # an update this client never hears of
            first += 1
        self.sent_id[symbol] = self.update_id[symbol]
        return self.book_frame(symbol, first, self.update_id[symbol], bids, asks, full)

    def _diff(self, old: View, new: View) -> list[tuple[int, int]]:
        return [(p, new.get(p, 0)) for p in old.keys() | new.keys() if new.get(p, 0) != old.get(p, 0)]

    def book_frame(
        self, symbol: str, first: int, last: int, bids: list[tuple[int, int]], asks: list[tuple[int, int]], full: bool
    ) -> bytes:
        ladder = self.ladders[symbol]
        now = time.time()
        result: dict[str, Any] = {"t": int(now * 1000)}
        if full:
            result["full"] = True
        result.update(
            {
                "l": str(self.depth),
                **self.update_extras(now),
                "s": self.native(symbol),
                "U": first,
                "u": last,
                "b": [self.level(ladder, p, q) for p, q in sorted(bids, reverse=True)],
                "a": [self.level(ladder, p, q) for p, q in sorted(asks)],
            }
        )
        return self.envelope(self.book_channel, "update", {"result": result})

    def update_extras(self, now: float) -> dict[str, Any]:
        return {"e": "depthUpdate", "E": int(now)}

    def frames_for(self, conn: SimConnection, symbol: str, encoded: bytes | None) -> list[Frame]:
        if encoded is None or self.book_channel not in conn.subs[symbol]:
            return []
        return [encoded]

    def trade_frames_for(self, conn: SimConnection, symbol: str, encoded: list[Frame]) -> list[Frame]:
        return encoded if self.trade_channel in conn.subs[symbol] else []

    def trade_frame(self, symbol: str, ticks: int, lots: int, buy: bool, trade_id: int) -> bytes:
        ladder = self.ladders[symbol]
        now = time.time()
        result = {
            "id": trade_id,
            "id_market": trade_id,
            "create_time": int(now),
            "create_time_ms": f"{now * 1000:.4f}",
            "side": "buy" if buy else "sell",
            "currency_pair": self.native(symbol),
            "amount": ladder.size_str(lots, self.trade_places),
            "price": ladder.price_str(ticks, self.trade_places),
            "range": f"{trade_id}-{trade_id}",
        }
        return self.envelope(self.trade_channel, "update", {"result": result})


class GateSwapSim(GateSpotSim):
    """USDT perpetuals on ``/v4/ws/usdt``: ``futures.order_book_update`` with ``{"p", "s"}`` levels
    in whole contracts (one contract = one lot here, the ``quanto_multiplier``), ``futures.trades``
    with a signed size, REST ``/api/v4/futures/usdt/order_book`` and ``/contracts``."""

    venue = "gateswap"
    markets = ("BTC-USDT-PERP", "ETH-USDT-PERP")
    ws_paths = ("/v4/ws/usdt",)
    book_channel = "futures.order_book_update"
    trade_channel = "futures.trades"
    book_path = "/api/v4/futures/usdt/order_book"
    pair_param = "contract"
    instruments_path = "/api/v4/futures/usdt/contracts"
    levels_allowed: ClassVar[tuple[str, ...]] = ("100",)

    def expected_top(self, symbol: str, n: int) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
        ladder = self.ladders[symbol]
        return (
            [(ladder.price(p), float(q)) for p, q in ladder.top(True, n)],
            [(ladder.price(p), float(q)) for p, q in ladder.top(False, n)],
        )

    def level(self, ladder: Ladder, ticks: int, lots: int) -> Any:
        return {"p": _plain(ladder.price_str(ticks)), "s": lots}

    def pair_info(self, symbol: str) -> dict[str, Any]:
        ladder = self.ladders[symbol]
        return {
            "name": self.native(symbol),
            "type": "direct",
            "quanto_multiplier": _plain(f"{ladder.spec.lot:.8f}"),
            "order_price_round": _plain(f"{ladder.spec.tick:.8f}"),
            "mark_price_round": _plain(f"{ladder.spec.tick:.8f}"),
            "order_size_min": 1,
            "order_size_max": 1000000,
            "leverage_min": "1",
            "leverage_max": "100",
            "maker_fee_rate": "-0.0001",
            "taker_fee_rate": "0.00075",
            "in_delisting": False,
            "status": "trading",
        }

    def rest_times(self, now: float) -> dict[str, Any]:
        return {"current": round(now, 3), "update": round(now, 3)}

    def valid_book_payload(self, payload: list[Any]) -> bool:
        return len(payload) in (2, 3) and payload[1] in self.intervals and all(lv in self.levels_allowed for lv in payload[2:])

    def update_extras(self, now: float) -> dict[str, Any]:
        return {}

    def trade_frame(self, symbol: str, ticks: int, lots: int, buy: bool, trade_id: int) -> bytes:
        now = time.time()
        trade = {
            "size": lots if buy else -lots,
            "id": trade_id,
            "create_time": int(now),
            "create_time_ms": int(now * 1000),
            "price": _plain(self.ladders[symbol].price_str(ticks)),
            "contract": self.native(symbol),
        }
        return self.envelope(self.trade_channel, "update", {"result": [trade]})


SIMS: dict[str, type[SimVenue]] = {
    "gate": GateSpotSim,
    "gateswap": GateSwapSim,
}
