"""Simulated Binance spot, USD-M and COIN-M market data: the combined stream with SUBSCRIBE,
``depthUpdate`` events with ``U``/``u`` (and ``pu`` on futures), ``aggTrade``, the REST depth
snapshot with ``lastUpdateId`` and ``exchangeInfo``."""

from __future__ import annotations

import time
from typing import Any, ClassVar

import orjson
from aiohttp import web

from ...symbols import parse_standard
from ..market import MarketSpec
from ..server import Change, SimConnection, SimVenue, json_response


class BinanceSpotSim(SimVenue):
    venue = "binance"
    markets: ClassVar[tuple[str, ...]] = ("BTC-USDT", "ETH-USDT", "SOL-USDT", "ETH-BTC", "BTC-USDC")
    ws_paths = ("/stream", "/ws")
    server_ping_interval = 20.0
    faults_supported = frozenset({"drop", "skip", "stall", "delay"})
    api: ClassVar[str] = "/api/v3"
    depth_stream: ClassVar[str] = "depth@100ms"
    places: ClassVar[int | None] = 8  # Binance spot pads prices and sizes to 8 decimals

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.update_id: dict[str, int] = {s: 1_000_000 + 17 * i for i, s in enumerate(self.markets)}

    def native(self, symbol: str) -> str:
        base, quote, _, _ = parse_standard(symbol)
        return f"{base}{quote}"

    # ---- REST -------------------------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get(f"{self.api}/exchangeInfo", self.exchange_info),
            web.get(f"{self.api}/depth", self.depth),
        ]

    async def exchange_info(self, request: web.Request) -> web.Response:
        return json_response({"timezone": "UTC", "serverTime": int(time.time() * 1000), "symbols": [self.symbol_info(s) for s in self.markets]})

    def symbol_info(self, symbol: str) -> dict[str, Any]:
        base, quote, _, _ = parse_standard(symbol)
        spec = self.ladders[symbol].spec
        return {
            "symbol": self.native(symbol),
            "status": "TRADING",
            "baseAsset": base,
            "quoteAsset": quote,
            "filters": [
                {"filterType": "PRICE_FILTER", "tickSize": f"{spec.tick:.8f}"},
                {"filterType": "LOT_SIZE", "stepSize": f"{spec.lot:.8f}"},
            ],
        }

    async def depth(self, request: web.Request) -> web.Response:
        symbol = self.symbol_of(request.query.get("symbol", ""))
        if symbol is None:
            return json_response({"code": -1121, "msg": "Invalid symbol."}, status=400)
        limit = int(request.query.get("limit", "100"))
        ladder = self.ladders[symbol]
        return json_response(
            {
                "lastUpdateId": self.update_id[symbol],
                "bids": [[ladder.price_str(p, self.places), ladder.size_str(q, self.places)] for p, q in ladder.top(True, limit)],
                "asks": [[ladder.price_str(p, self.places), ladder.size_str(q, self.places)] for p, q in ladder.top(False, limit)],
            }
        )

    # ---- WebSocket --------------------------------------------------------------------------

    async def on_client_message(self, conn: SimConnection, data: str | bytes) -> None:
        msg = orjson.loads(data)
        method = msg.get("method")
        for stream in msg.get("params", []):
            symbol = self.symbol_of(stream.split("@", 1)[0].upper())
            if symbol is None:
                conn.send(orjson.dumps({"error": {"code": 2, "msg": f"Invalid request: unknown stream {stream}"}, "id": msg.get("id")}).decode())
                return
            if method == "SUBSCRIBE":
                conn.subs[symbol] = True
            elif method == "UNSUBSCRIBE":
                conn.subs.pop(symbol, None)
        conn.send(orjson.dumps({"result": None, "id": msg.get("id")}).decode())

    def encode(self, symbol: str, changes: list[Change]) -> str:
        prev = self.update_id[symbol]
        first = prev + 1 + (1 if self.faults.take("skip", symbol) else 0)
        last = first + len(changes) - 1
        self.update_id[symbol] = last
        ladder = self.ladders[symbol]
        bids = [[ladder.price_str(p, self.places), ladder.size_str(q, self.places)] for b, p, q in changes if b]
        asks = [[ladder.price_str(p, self.places), ladder.size_str(q, self.places)] for b, p, q in changes if not b]
        native = self.native(symbol)
        now = int(time.time() * 1000)
        event: dict[str, Any] = {"e": "depthUpdate", "E": now, "s": native, "U": first, "u": last}
        self.add_futures_fields(event, first - 1, now)
        event["b"] = bids
        event["a"] = asks
        return orjson.dumps({"stream": f"{native.lower()}@{self.depth_stream}", "data": event}).decode()

    def add_futures_fields(self, event: dict[str, Any], prev: int, now: int) -> None:
        """Spot events carry nothing more."""

    def trade_frame(self, symbol: str, ticks: int, lots: int, buy: bool, trade_id: int) -> str:
        ladder = self.ladders[symbol]
        native = self.native(symbol)
        now = int(time.time() * 1000)
        event = {
            "e": "aggTrade",
            "E": now,
            "s": native,
            "a": trade_id,
            "p": ladder.price_str(ticks, self.places),
            "q": ladder.size_str(lots, self.places),
            "f": trade_id * 3,
            "l": trade_id * 3,
            "T": now,
            "m": not buy,
        }
        return orjson.dumps({"stream": f"{native.lower()}@aggTrade", "data": event}).decode()


class BinanceUsdmSim(BinanceSpotSim):
    venue = "binanceusdm"
    markets = ("BTC-USDT-PERP", "ETH-USDT-PERP")
    api = "/fapi/v1"
    places = None  # futures send the contract's own precision

    def native(self, symbol: str) -> str:
        base, quote, _, _ = parse_standard(symbol)
        return f"{base}{quote}"

    def symbol_info(self, symbol: str) -> dict[str, Any]:
        info = super().symbol_info(symbol)
        info["contractType"] = "PERPETUAL"
        return info

    def add_futures_fields(self, event: dict[str, Any], prev: int, now: int) -> None:
        event["T"] = now
        event["pu"] = prev


class BinanceCoinmSim(BinanceUsdmSim):
    """COIN-M sizes are contracts of a fixed USD value (100 USD for BTC, 10 USD for others)."""

    venue = "binancecoinm"
    markets = ("BTC-USD-PERP", "ETH-USD-PERP")
    specs = {"BTC-USD-PERP": MarketSpec("BTC-USD-PERP", 0.1, 1.0), "ETH-USD-PERP": MarketSpec("ETH-USD-PERP", 0.01, 1.0)}
    contract_usd: ClassVar[dict[str, int]] = {"BTC-USD-PERP": 100, "ETH-USD-PERP": 10}
    api = "/dapi/v1"

    def native(self, symbol: str) -> str:
        base, quote, _, _ = parse_standard(symbol)
        return f"{base}{quote}_PERP"

    def symbol_info(self, symbol: str) -> dict[str, Any]:
        info = super().symbol_info(symbol)
        del info["status"]
        info["contractStatus"] = "TRADING"
        info["contractSize"] = self.contract_usd[symbol]
        return info


SIMS: dict[str, type[SimVenue]] = {
    "binance": BinanceSpotSim,
    "binanceusdm": BinanceUsdmSim,
    "binancecoinm": BinanceCoinmSim,
}
