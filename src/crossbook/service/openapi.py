"""The OpenAPI 3.1 document, built from the one table of endpoints that also registers them on the
application: an endpoint cannot be served without being described."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

HandlerFn = Callable[[web.Request], Awaitable[web.StreamResponse]]

ERROR = {"$ref": "#/components/schemas/Error"}


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    schema: dict[str, Any]
    description: str
    where: str = "query"  # or "path"
    required: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "in": self.where, "required": self.required or self.where == "path",
                "description": self.description, "schema": self.schema}


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One method on one path: its handler and its description. ``response``: the name of a schema
    in ``SCHEMAS``; ``body``: the request body's."""

    method: str
    path: str
    handler: HandlerFn
    summary: str
    response: str
    params: tuple[Param, ...] = ()
    body: str | None = None
    auth: bool = True
    content_type: str = "application/json"
    errors: tuple[int, ...] = field(default=(400,))

    def operation(self) -> dict[str, Any]:
        responses: dict[str, Any] = {"200": {"description": self.summary, "content": {
            self.content_type: {"schema": {"$ref": f"#/components/schemas/{self.response}"}}}}}
        if self.path == "/stream":
            responses = {"101": {"description": "switched to the WebSocket protocol (see the stream's description)"}}
        for status in (*self.errors, *((401,) if self.auth else ())):
            responses[str(status)] = {"description": DESCRIPTIONS[status],
                                      "content": {"application/json": {"schema": ERROR}}}
        op: dict[str, Any] = {"operationId": f"{self.method.lower()}{self.path.replace('/', '_').replace('{', '').replace('}', '')}",
                              "summary": self.summary, "parameters": [p.to_json() for p in self.params],
                              "responses": responses}
        if self.body is not None:
            op["requestBody"] = {"required": True, "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{self.body}"}}}}
        if not self.auth:
            op["security"] = []
        return op


DESCRIPTIONS = {
    400: "bad input: the error names the field; nothing was sent to a venue",
    401: "missing or wrong bearer token: nothing was done",
    403: "a withdrawal refused before sending: not on the whitelist, or no valid fresh TOTP code",
    404: "unknown symbol, venue or order",
    409: "the account is traded by another process (it holds the account's bus lease): nothing was sent",
    422: "refused by the venue's rules or the account's funds before sending",
    429: "a venue's rate limit",
    502: "a venue failed or refused",
    503: "a venue cannot be reached, or the service is stopping",
}

OBJECT: dict[str, Any] = {"type": "object", "additionalProperties": True}
NUMBER_OR_NULL: dict[str, Any] = {"type": ["number", "null"]}


def _object(properties: dict[str, Any], required: Sequence[str] = (), *, closed: bool = False) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties, "required": list(required)}
    if closed:
        schema["additionalProperties"] = False
    return schema


SYMBOL = {"type": "string", "pattern": "^[A-Za-z0-9]+-[A-Za-z0-9]+(-[A-Za-z0-9]+)*$", "examples": ["BTC-USDT"]}
SIDE = {"type": "string", "enum": ["buy", "sell"]}
POSITIVE = {"type": ["number", "string"], "description": "a positive finite number"}
VENUE_TOP = _object({"bid": NUMBER_OR_NULL, "ask": NUMBER_OR_NULL, "state": {"type": "string"}}, ["bid", "ask", "state"])
LEVEL = _object({"venue": {"type": "string"}, "price": {"type": "number"}, "size": {"type": "number"}})

# /health's "bus" (a desk on the bus: service/bus_view.py), units in the names and descriptions
_MS = {"type": ["number", "null"], "description": "milliseconds"}
BUS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "present when the desk reads its books from feed processes over NATS ([bus] / --bus)",
    "properties": {
        "connected": {"type": "boolean"},
        "publishers": {"type": "array", "items": {"type": "object", "properties": {
            "name": {"type": "string"},
            "heartbeat_age_s": {"type": "number", "description": "seconds since its last heartbeat"},
            "venues": {"type": "object", "additionalProperties": {"type": "integer"},
                       "description": "venue -> books it publishes there"}}, "required": ["name", "heartbeat_age_s", "venues"]}},
        "venues": {"type": "array", "items": {"type": "object", "properties": {
            "venue": {"type": "string"}, "publishers": {"type": "array", "items": {"type": "string"}},
            "lag_ms": {**_MS, "description": "receive time minus the frame's time, last frame, ms"},
            "max_lag_ms": {**_MS, "description": "the most over the last 100 frames, ms"}},
            "required": ["venue", "publishers", "lag_ms", "max_lag_ms"]}},
        "counters": {"type": "object", "additionalProperties": {"type": "integer"}},
    },
    "required": ["connected", "publishers", "venues", "counters"],
}

SCHEMAS: dict[str, Any] = {
    "Error": _object({"error": {"type": "string"}, "field": {"type": "string"}}, ["error"]),
    "Health": _object({"status": {"type": "string", "enum": ["ok", "degraded", "down"]}, "venues": {
        "type": "object", "additionalProperties": _object({"ready": {"type": "boolean"}, "connected": {"type": "boolean"},
                                                           "books": {"type": "object", "additionalProperties": {"type": "string"}},
                                                           "down": {"type": ["string", "null"]}}, ["ready", "books", "connected"])},
        "bus": BUS_SCHEMA}, ["status", "venues"]),
    "Metrics": {"type": "string", "description": "the Prometheus text exposition format"},
    "OpenApi": OBJECT,
    "Venues": _object({"venues": {"type": "array", "items": OBJECT}}, ["venues"]),
    "Prices": _object({"symbol": {"type": "string"}, "bid": NUMBER_OR_NULL, "ask": NUMBER_OR_NULL, "at": {"type": "number"},
                       "venues": {"type": "object", "additionalProperties": VENUE_TOP}}, ["symbol", "bid", "ask", "venues", "at"]),
    "Book": _object({"symbol": {"type": "string"}, "bid": NUMBER_OR_NULL, "ask": NUMBER_OR_NULL, "at": {"type": "number"},
                     "venues": {"type": "object", "additionalProperties": VENUE_TOP},
                     "bids": {"type": "array", "items": LEVEL}, "asks": {"type": "array", "items": LEVEL}},
                    ["symbol", "bids", "asks", "venues"]),
    "Quote": _object({"symbol": {"type": "string"}, "side": SIDE, "amount": {"type": "number"}, "best": {"type": ["object", "null"]},
                      "venues": {"type": "object", "additionalProperties": OBJECT}}, ["symbol", "side", "amount", "best", "venues"]),
    "RouteBody": _object({"symbol": SYMBOL, "side": SIDE, "amount": POSITIVE, "limit": POSITIVE,
                          "max_slippage_bps": {"type": ["number", "string"], "minimum": 0},
                          "max_venues": {"type": "integer", "minimum": 1}, "dry_run": {"type": "boolean"}},
                         ["symbol", "side", "amount"], closed=True),
    "ExecutionReport": _object({"symbol": {"type": "string"}, "side": SIDE, "amount": {"type": "number"},
                                "outcome": {"type": "string"}, "plan": {"type": "array", "items": OBJECT},
                                "children": {"type": "array", "items": OBJECT}}, ["symbol", "side", "amount", "outcome", "plan"]),
    "Routes": _object({"routes": {"type": "array", "items": {"$ref": "#/components/schemas/ExecutionReport"}}}, ["routes"]),
    "Order": _object({"venue": {"type": "string"}, "client_order_id": {"type": "string"}, "status": {"type": "string"}},
                     ["venue", "client_order_id", "status"]),
    "Orders": _object({"orders": {"type": "array", "items": {"$ref": "#/components/schemas/Order"}}}, ["orders"]),
    "OrderBody": _object({"venue": {"type": "string"}, "symbol": SYMBOL, "side": SIDE, "amount": POSITIVE,
                          "type": {"type": "string", "enum": ["limit", "market"]}, "price": POSITIVE,
                          "time_in_force": {"type": "string", "enum": ["gtc", "ioc", "fok"]}, "post_only": {"type": "boolean"},
                          "reduce_only": {"type": "boolean"}, "account": {"type": "string"}},
                         ["venue", "symbol", "side", "amount"], closed=True),
    "Withdrawal": _object({"client_id": {"type": "string"}, "venue": {"type": "string"}, "asset": {"type": "string"},
                           "amount": {"type": "string"}, "to": {"type": "string"}, "status": {"type": "string"},
                           "venue_id": {"type": ["string", "null"]}}, ["client_id", "venue", "asset", "amount", "to", "status"]),
    "WithdrawalBody": _object({"venue": {"type": "string"}, "asset": {"type": "string"}, "amount": POSITIVE,
                               "to": {"type": "string"}, "network": {"type": "string"}, "code": {"type": "string"},
                               "account": {"type": "string"}}, ["venue", "asset", "amount", "to", "code"], closed=True),
    "Balances": _object({"value_in": {"type": "string"}, "total": NUMBER_OR_NULL, "accounts": {"type": "array", "items": OBJECT}},
                        ["value_in", "accounts"]),
    "Positions": _object({"positions": {"type": "array", "items": OBJECT}}, ["positions"]),
    "Arbitrage": _object({"symbols": {"type": "array", "items": {"type": "string"}},
                          "open": {"type": "array", "items": OBJECT}, "recent": {"type": "array", "items": OBJECT}},
                         ["symbols", "open", "recent"]),
    "Alerts": _object({"active": {"type": "array", "items": OBJECT}, "recent": {"type": "array", "items": OBJECT}},
                      ["active", "recent"]),
    "Stats": OBJECT,
    "Leases": _object({"process": {"type": ["string", "null"]}, "leases": {"type": "array", "items": OBJECT}},
                      ["process", "leases"]),
}


def _market_schemas() -> dict[str, Any]:
    """The schemas of the market data beyond the book (service.market_api)."""
    number = {"type": "number"}
    number_or_null = {"type": ["number", "null"]}
    text = {"type": "string"}
    candle = {"type": "object", "required": ["open_time", "open", "high", "low", "close", "closed"], "properties": {
        "venue": text, "symbol": text, "interval": text, "open_time": {**number, "description": "epoch seconds"},
        "open": number, "high": number, "low": number, "close": number, "volume": {**number, "description": "base units"},
        "quote_volume": number_or_null, "closed": {"type": "boolean"}}}
    ticker = {"type": "object", "required": ["venue", "symbol", "last"], "properties": {
        "venue": text, "symbol": text, "ts": number, "open": number_or_null, "high": number_or_null,
        "low": number_or_null, "last": number, "change_pct": {**number_or_null, "description": "24 h change, %"},
        "volume": number_or_null, "quote_volume": number_or_null, "bid": number_or_null, "ask": number_or_null}}
    rate = {"type": "object", "required": ["venue", "symbol", "rate", "annualized"], "properties": {
        "venue": text, "symbol": text, "ts": number, "rate": {**number, "description": "per interval, a fraction"},
        "next_time": {**number_or_null, "description": "epoch seconds"}, "interval_hours": number,
        "annualized": {**number, "description": "a fraction per year"}, "predicted": number_or_null}}
    mid = {"type": "object", "required": ["open_time", "open", "high", "low", "close"], "properties": {
        "symbol": text, "interval": text, "open_time": number, "open": number, "high": number, "low": number,
        "close": number, "samples": {"type": "integer"}, "closed": {"type": "boolean"}}}
    free = {"type": "object", "additionalProperties": True}
    return {
        "Candles": {"type": "object", "required": ["venue", "symbol", "interval", "candles"], "properties": {
            "venue": text, "symbol": text, "interval": text, "candles": {"type": "array", "items": candle}}},
        "Tickers": {"type": "object", "required": ["symbol", "tickers"], "properties": {
            "symbol": text, "tickers": {"type": "array", "items": ticker}, "unavailable": free,
            "not_listed": {"type": "array", "items": text}}},
        "Funding": {"type": "object", "required": ["symbols", "rates", "spreads"], "properties": {
            "symbols": {"type": "array", "items": text}, "rates": {"type": "array", "items": rate},
            "spreads": {"type": "array", "items": free}, "unavailable": {"type": "array", "items": free}}},
        "MidCandles": {"type": "object", "required": ["symbol", "interval", "candles"], "properties": {
            "symbol": text, "interval": text, "candles": {"type": "array", "items": mid}}},
        "OptionChain": {"type": "object", "required": ["underlying", "expiry", "quotes"], "properties": {
            "underlying": text, "expiry": text, "expiries": {"type": "array", "items": text},
            "venues": {"type": "array", "items": text}, "quotes": {"type": "array", "items": free},
            "unavailable": free}},
    }


SCHEMAS.update(_market_schemas())

STREAM_DESCRIPTION = (
    "WebSocket. Authenticate with the Authorization header, or send {\"op\":\"auth\",\"token\":...} first (an "
    "{\"op\":\"authenticated\"} answers it; a wrong token closes with code 4401). Then send {\"op\":\"subscribe\","
    "\"channels\":[...],\"symbols\":[...]} (answered by {\"op\":\"subscribed\",...}); the server sends {\"channel\",\"data\"} "
    "for prices, trades, fills, routes, opportunities, alerts and health, and the followed symbols' market streams: "
    "ticker, funding (with mark and index prices), candles. A client too slow to keep up is closed with "
    "code 1013.")


def document(endpoints: Sequence[Endpoint], title: str = "crossbook", version: str = "0.1.0") -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in endpoints:
        operation = endpoint.operation()
        if endpoint.path == "/stream":
            operation["description"] = STREAM_DESCRIPTION
        paths.setdefault(endpoint.path, {})[endpoint.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": f"{title} service API", "version": version,
                 "description": "The desk as a service: books, quotes, routes, orders, accounts, alerts."},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {"schemas": SCHEMAS, "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }


def register(app: web.Application, endpoints: Sequence[Endpoint]) -> None:
    for endpoint in endpoints:
        app.router.add_route(endpoint.method, endpoint.path, endpoint.handler)
