"""Simulated Bitget v2 spot and USDT-M futures market data: ``/v2/ws/public`` with
``{"op": "subscribe", "args": [{instType, channel, instId}]}``, per-arg ``event`` acks and error
events, the ``books`` channel (full-depth ``snapshot`` then ``update`` messages, each with ``seq``
and a signed CRC32 over the best 25 levels per side of the strings sent), ``trade`` (a snapshot
of recent trades on subscribe, then updates), text ``ping`` -> ``pong`` with connections dropped
after ``ping_timeout`` seconds without a ping, and the instruments endpoints
``/api/v2/spot/public/symbols`` and ``/api/v2/mix/market/contracts``.

Faults: ``corrupt`` sends a wrong checksum; ``skip`` loses one update that changes the best 25
levels (its ``seq`` numbers are spent), which the client sees only through the next checksum.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import Any, ClassVar

import orjson
from aiohttp import web

from ...book.checksum import crc32_signed, interleaved
from ...symbols import parse_standard
from ..market import Ladder
from ..server import Change, Frame, SimConnection, SimVenue, json_response

CHECKSUM_DEPTH = 25
RECENT_TRADES = 50
CHANNELS = ("books", "trade")


def _ms() -> int:
    return int(time.time() * 1000)


def _envelope(data: Any) -> dict[str, Any]:
    return {"code": "00000", "msg": "success", "requestTime": _ms(), "data": data}


def _text(payload: Any) -> str:
    """Bitget sends JSON in text frames (the base sends bytes as binary frames)."""
    return orjson.dumps(payload).decode()


def _error(code: int, msg: str, **extra: Any) -> str:
    return _text({"event": "error", "code": code, "msg": msg, **extra})


class BitgetSpotSim(SimVenue):
    venue = "bitget"
    markets: ClassVar[tuple[str, ...]] = ("BTC-USDT", "ETH-USDT", "SOL-USDT", "ETH-BTC", "BTC-USDC")
    ws_paths = ("/v2/ws/public",)
    faults_supported = frozenset({"drop", "skip", "corrupt", "stall", "delay"})
    inst_type: ClassVar[str] = "SPOT"
    ping_timeout: float = 120.0  # the server drops a socket that sent no "ping" for this long

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.seq: dict[str, int] = {s: 4_000_000_000 + 100_000 * i for i, s in enumerate(self.markets)}
        self.last_checksum: dict[str, int] = {s: self.checksum(s) for s in self.markets}
        self.recent: dict[str, deque[dict[str, str]]] = {s: deque(maxlen=RECENT_TRADES) for s in self.markets}
        self._watchdogs: set[asyncio.Task[None]] = set()

    def native(self, symbol: str) -> str:
        base, quote, _, _ = parse_standard(symbol)
        return f"{base}{quote}"

    # ---- REST -------------------------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/api/v2/spot/public/symbols", self.symbols_info)]

    async def symbols_info(self, request: web.Request) -> web.Response:
        wanted = request.query.get("symbol")
        rows = [self.symbol_info(s) for s in self.markets if wanted in (None, self.native(s))]
        return json_response(_envelope(rows))

    def symbol_info(self, symbol: str) -> dict[str, Any]:
        base, quote, _, _ = parse_standard(symbol)
        ladder = self.ladders[symbol]
        return {
            "symbol": self.native(symbol),
            "baseCoin": base,
            "quoteCoin": quote,
            "minTradeAmount": "0",
            "maxTradeAmount": "10000000000",
            "takerFeeRate": "0.001",
            "makerFeeRate": "0.001",
            "pricePrecision": str(ladder.price_decimals),
            "quantityPrecision": str(ladder.size_decimals),
            "quotePrecision": str(ladder.price_decimals),
            "minTradeUSDT": "1",
            "status": "online",
            "buyLimitPriceRatio": "0.05",
            "sellLimitPriceRatio": "0.05",
            "orderQuantity": "200",
            "areaSymbol": "no",
        }

    # ---- WebSocket: requests ----------------------------------------------------------------

    def on_connect(self, conn: SimConnection) -> None:
        conn.state["pinged"] = time.time()
        task = asyncio.create_task(self._ping_watchdog(conn))
        self._watchdogs.add(task)
        task.add_done_callback(self._watchdogs.discard)

    async def stop(self) -> None:
        for task in list(self._watchdogs):
            task.cancel()
        await super().stop()

    async def _ping_watchdog(self, conn: SimConnection) -> None:
        while not conn.ws.closed:
            await asyncio.sleep(min(self.ping_timeout / 4, 5.0))
            if time.time() - conn.state["pinged"] > self.ping_timeout:
                await conn.close()

    async def on_client_message(self, conn: SimConnection, data: str | bytes) -> None:
        if data == "ping":
            self.client_pings += 1
            conn.state["pinged"] = time.time()
            conn.send("pong")
            return
        try:
            msg = orjson.loads(data)
            op = msg["op"]
            args = msg["args"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            conn.send(_error(30002, "illegal request"))
            return
        if op not in ("subscribe", "unsubscribe"):
            conn.send(_error(30003, "invalid op", op=op))
            return
        if not isinstance(args, list):
            conn.send(_error(30016, "Param error", op=op))
            return
        for arg in args:
            symbol = self._symbol_for(arg)
            if symbol is None:
                conn.send(_error(30001, self._missing(arg), arg=arg, op=op))
                continue
            conn.send(_text({"event": op, "arg": arg}))
            if op == "subscribe":
                self._subscribe(conn, symbol, arg["channel"], arg)
            else:
                self._unsubscribe(conn, symbol, arg["channel"])

    def _symbol_for(self, arg: Any) -> str | None:
        if not isinstance(arg, dict) or str(arg.get("instType", "")).upper() != self.inst_type:
            return None
        if arg.get("channel") not in CHANNELS:
            return None
        return self.symbol_of(str(arg.get("instId", "")))

    def _missing(self, arg: Any) -> str:
        if not isinstance(arg, dict):
            return "Param error"
        return f"instType:{arg.get('instType')},channel:{arg.get('channel')},instId:{arg.get('instId')} doesn't exist"

    def _subscribe(self, conn: SimConnection, symbol: str, channel: str, arg: dict[str, Any]) -> None:
        conn.subs.setdefault(symbol, set()).add(channel)
        if channel == "books":
            conn.send(self.book_snapshot(symbol, arg))
        else:
            conn.send(self._push("snapshot", arg, list(self.recent[symbol])))

    def _unsubscribe(self, conn: SimConnection, symbol: str, channel: str) -> None:
        channels: set[str] = conn.subs.get(symbol, set())
        channels.discard(channel)
        if not channels:
            conn.subs.pop(symbol, None)

    # ---- WebSocket: market data -------------------------------------------------------------

    def _arg(self, symbol: str, channel: str) -> dict[str, str]:
        return {"instType": self.inst_type, "channel": channel, "instId": self.native(symbol)}

    def _push(self, action: str, arg: dict[str, Any], data: list[Any]) -> str:
        return _text({"action": action, "arg": arg, "data": data, "ts": _ms()})

    def levels(self, ladder: Ladder, is_bid: bool, n: int) -> list[tuple[str, str]]:
        return [(ladder.price_str(p), ladder.size_str(q)) for p, q in ladder.top(is_bid, n)]

    def checksum(self, symbol: str) -> int:
        ladder = self.ladders[symbol]
        bids = self.levels(ladder, True, CHECKSUM_DEPTH)
        asks = self.levels(ladder, False, CHECKSUM_DEPTH)
        return crc32_signed(interleaved(bids, asks))

    def book_snapshot(self, symbol: str, arg: dict[str, Any]) -> str:
        ladder = self.ladders[symbol]
        book = {
            "asks": self.levels(ladder, False, len(ladder.asks)),
            "bids": self.levels(ladder, True, len(ladder.bids)),
            "checksum": self.checksum(symbol),
            "seq": self.seq[symbol],
            "ts": str(_ms()),
        }
        return self._push("snapshot", arg, [book])

    def encode(self, symbol: str, changes: list[Change]) -> str | None:
        self.seq[symbol] += len(changes)  # Bitget's seq grows but does not step by one
        check = self.checksum(symbol)
        moved_top = check != self.last_checksum[symbol]
        self.last_checksum[symbol] = check
        if moved_top and symbol in self.faults.skip:
            self.faults.take("skip", symbol)
            return None  # lost on the way: only the next checksum can tell
        if self.faults.take("corrupt", symbol):
            check ^= 1
        ladder = self.ladders[symbol]
        book = {
            "asks": [self._level(ladder, p, q) for is_bid, p, q in changes if not is_bid],
            "bids": [self._level(ladder, p, q) for is_bid, p, q in changes if is_bid],
            "checksum": check,
            "seq": self.seq[symbol],
            "ts": str(_ms()),
        }
        return self._push("update", self._arg(symbol, "books"), [book])

    def _level(self, ladder: Ladder, ticks: int, lots: int) -> list[str]:
        return [ladder.price_str(ticks), ladder.size_str(lots) if lots else "0"]

    def frames_for(self, conn: SimConnection, symbol: str, encoded: str | None) -> list[Frame]:
        return [encoded] if encoded is not None and "books" in conn.subs.get(symbol, ()) else []

    def trade_frames_for(self, conn: SimConnection, symbol: str, encoded: list[Frame]) -> list[Frame]:
        return encoded if "trade" in conn.subs.get(symbol, ()) else []

    def trade_frame(self, symbol: str, ticks: int, lots: int, buy: bool, trade_id: int) -> str:
        ladder = self.ladders[symbol]
        trade = {
            "ts": str(_ms()),
            "price": ladder.price_str(ticks),
            "size": ladder.size_str(lots),
            "side": "buy" if buy else "sell",
            "tradeId": str(trade_id),
        }
        self.recent[symbol].appendleft(trade)  # newest first, as the venue lists them
        return self._push("update", self._arg(symbol, "trade"), [trade])


class BitgetFuturesSim(BitgetSpotSim):
    venue = "bitgetfutures"
    markets = ("BTC-USDT-PERP", "ETH-USDT-PERP")
    inst_type = "USDT-FUTURES"

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/api/v2/mix/market/contracts", self.contracts)]

    async def contracts(self, request: web.Request) -> web.Response:
        product = request.query.get("productType", "").upper()
        if not product:
            error = {"code": "40019", "msg": "Parameter productType cannot be empty", "requestTime": _ms(), "data": None}
            return json_response(error, status=400)
        wanted = request.query.get("symbol")
        listed = self.markets if product == self.inst_type else ()  # other product types: none simulated
        rows = [self.contract_info(s) for s in listed if wanted in (None, self.native(s))]
        return json_response(_envelope(rows))

    def contract_info(self, symbol: str) -> dict[str, Any]:
        base, quote, _, _ = parse_standard(symbol)
        ladder = self.ladders[symbol]
        return {
            "symbol": self.native(symbol),
            "baseCoin": base,
            "quoteCoin": quote,
            "buyLimitPriceRatio": "0.9",
            "sellLimitPriceRatio": "0.9",
            "feeRateUpRatio": "0.1",
            "makerFeeRate": "0.0002",
            "takerFeeRate": "0.0006",
            "openCostUpRatio": "0.1",
            "supportMarginCoins": [quote],
            "minTradeNum": ladder.size_str(1),
            "priceEndStep": "1",
            "volumePlace": str(ladder.size_decimals),
            "pricePlace": str(ladder.price_decimals),
            "sizeMultiplier": ladder.size_str(1),
            "symbolType": "perpetual",
            "minTradeUSDT": "5",
            "maxSymbolOrderNum": "999999",
            "maxProductOrderNum": "999999",
            "maxPositionNum": "150",
            "symbolStatus": "normal",
            "offTime": "-1",
            "limitOpenTime": "-1",
            "deliveryTime": "",
            "deliveryStartTime": "",
            "launchTime": "",
            "fundInterval": "8",
            "minLever": "1",
            "maxLever": "125",
            "posLimit": "0.05",
            "maintainTime": "",
        }


SIMS: dict[str, type[SimVenue]] = {
    "bitget": BitgetSpotSim,
    "bitgetfutures": BitgetFuturesSim,
}
