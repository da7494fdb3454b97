"""The API's handlers, each thin over the Desk: inputs parsed into typed values first (a bad one is
a 400 naming it, before any Desk call), then one Desk call, then its ``to_json()``. ``ENDPOINTS``
is the one table that registers them and describes them in the OpenAPI document."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from aiohttp import web

from ..errors import InvalidOrder, UnknownSymbol
from ..model import OrderRequest, OrderType, Side, TimeInForce
from ..routing.executor import RouteRequest
from .errors import bad_input, json_response, not_found
from .openapi import Endpoint, Param, document
from .params import Fields
from .views import BookView, health_of, venues_of

if TYPE_CHECKING:
    from .api import Service

SERVICE_KEY: web.AppKey[Service] = web.AppKey("service")
DEFAULT_DEPTH = 20
MAX_DEPTH = 500
ORDER_TYPES = {"limit": OrderType.LIMIT, "market": OrderType.MARKET}


def service_of(request: web.Request) -> Service:
    return request.app[SERVICE_KEY]


def followed(service: Service, symbol: str, field: str = "symbol") -> str:
    """``symbol`` when the service follows it: the API prices and routes those only (a request
    cannot start feeds for any symbol it names)."""
    if symbol not in service.symbols:
        raise not_found(f"{field}: {symbol} is not followed by this service (it follows {', '.join(service.symbols)})")
    return symbol


def venue_of_desk(service: Service, venue: str, field: str = "venue") -> str:
    venue = venue.lower()
    if venue not in service.desk.venues:
        raise not_found(f"{field}: {venue!r} is not a venue of this service ({', '.join(service.desk.venues)})")
    return venue


# ---- open: health and metrics ------------------------------------------------------------------


async def get_health(request: web.Request) -> web.Response:
    service = service_of(request)
    return json_response(health_of(service.desk.market, service.symbols).to_json())


async def get_metrics(request: web.Request) -> web.Response:
    body, content_type = service_of(request).desk.metrics.exposition()
    return web.Response(body=body, headers={"Content-Type": content_type})


async def get_openapi(request: web.Request) -> web.Response:
    from .api import endpoints

    return json_response(document(endpoints()))


# ---- market data ------------------------------------------------------------------------------


async def get_venues(request: web.Request) -> web.Response:
    service = service_of(request)
    desk = service.desk
    views = venues_of(desk.market, service.symbols, set(desk.accounts), desk.endpoint_overrides())
    return json_response({"venues": [v.to_json() for v in views]})


async def get_book(request: web.Request) -> web.Response:
    service = service_of(request)
    fields = Fields.query(request, ("depth",))
    depth = fields.integer("depth", default=DEFAULT_DEPTH, high=MAX_DEPTH)
    assert depth is not None
    symbol = followed(service, Fields({"symbol": request.match_info["symbol"]}, ("symbol",)).symbol())
    # read as it is: a followed symbol's book does not wait for a venue that is down to come back
    book = service.desk.market.consolidated.get(symbol) or await service.desk.consolidated(symbol)
    return json_response(BookView.of(book, service.desk.precision(symbol), depth).to_json())


async def get_quote(request: web.Request) -> web.Response:
    """The quote ``crossbook quote --json`` prints: Desk.best_price at the desk's equivalent currencies."""
    service = service_of(request)
    fields = Fields.query(request, ("symbol", "side", "amount", "venues"))
    symbol = followed(service, fields.symbol())
    side = fields.side()
    amount = fields.number("amount")
    venues = fields.names("venues", service.desk.venues)
    quote = await service.desk.best_price(symbol, side, amount, venues=venues, equivalents=service.desk.equivalents)
    return json_response(quote.to_json())


# ---- routes -----------------------------------------------------------------------------------


async def post_route(request: web.Request) -> web.Response:
    service = service_of(request)
    fields = await Fields.body(request, ("symbol", "side", "amount", "limit", "max_slippage_bps", "max_venues", "dry_run"))
    symbol = followed(service, fields.symbol())
    side = fields.side()
    amount = fields.number("amount")
    assert amount is not None
    limit = fields.number("limit", required=False)
    max_slippage = fields.number("max_slippage_bps", required=False, positive=False)
    max_venues = fields.integer("max_venues", high=len(service.desk.venues) or 1)
    dry_run = fields.flag("dry_run")
    route = RouteRequest(symbol, side, amount, limit=limit, max_slippage_bps=max_slippage, max_venues=max_venues)
    report = await service.route(route, dry_run)
    return json_response(report.to_json())


async def get_routes(request: web.Request) -> web.Response:
    service = service_of(request)
    limit = Fields.query(request, ("limit",)).integer("limit", default=20, high=service.keep_routes)
    newest_first = list(reversed(service.routes))[:limit]
    return json_response({"routes": [r.to_json() for r in newest_first]})


# ---- orders -----------------------------------------------------------------------------------


async def get_orders(request: web.Request) -> web.Response:
    service = service_of(request)
    fields = Fields.query(request, ("venue", "open", "account", "symbol"))
    venue = fields.text("venue", required=False)
    venues = service.desk.venues if venue is None else [venue_of_desk(service, venue)]
    open_only = fields.flag("open")
    account = fields.text("account", required=False, default="main")
    symbol = fields.symbol() if fields.values.get("symbol") else None
    assert account is not None
    orders = []
    for name in venues:
        if name not in service.desk.accounts:
            continue
        trader = await service.desk.account(name, account)
        orders += await trader.open_orders(symbol) if open_only else trader.orders(symbol)
    return json_response({"orders": [o.to_json() for o in orders]})


async def post_order(request: web.Request) -> web.Response:
    service = service_of(request)
    fields = await Fields.body(request, ("venue", "symbol", "side", "amount", "type", "price", "time_in_force",
                                         "post_only", "reduce_only", "account"))
    venue = venue_of_desk(service, fields.text("venue") or "")
    symbol = fields.symbol()
    side = fields.side()
    amount = fields.decimal("amount")
    assert amount is not None
    kind = ORDER_TYPES.get(str(fields.values.get("type") or "limit").lower())
    if kind is None:
        raise bad_input("type", f"must be one of {', '.join(ORDER_TYPES)}, not {fields.values.get('type')!r}")
    price = fields.decimal("price", required=kind is OrderType.LIMIT)
    if kind is OrderType.MARKET and price is not None:
        raise bad_input("price", "a market order takes no price")
    tif = fields.choice("time_in_force", TimeInForce, default=TimeInForce.GTC)
    post_only, reduce_only = fields.flag("post_only"), fields.flag("reduce_only")
    account = fields.text("account", required=False, default="main")
    assert account is not None
    trader = await service.desk.account(venue, account)
    order = OrderRequest(venue, symbol, side, kind, trader.amount_in_base(symbol, amount), price=price,
                         time_in_force=tif, post_only=post_only, reduce_only=reduce_only, account=account)
    reference = await _touch(service, venue, symbol, side) if kind is OrderType.MARKET else None
    view = await trader.place(order, reference_price=reference)
    return json_response(view.to_json())


async def post_withdrawal(request: web.Request) -> web.Response:
    """A withdrawal to a whitelist entry, with a TOTP code: refused (403) before anything is sent
    when the entry is not whitelisted or the code is missing, wrong or used."""
    service = service_of(request)
    fields = await Fields.body(request, ("venue", "asset", "amount", "to", "network", "code", "account"))
    venue = venue_of_desk(service, fields.text("venue") or "")
    asset, to = fields.text("asset") or "", fields.text("to") or ""
    amount = fields.decimal("amount")
    assert amount is not None
    done = await service.desk.withdraw(venue, asset, amount, to, network=fields.text("network", required=False),
                                       code=fields.text("code", required=False),
                                       account=fields.text("account", required=False, default="main") or "main")
    return json_response(done.to_json())


async def _touch(service: Service, venue: str, symbol: str, side: Side) -> Decimal | None:
    """The price a market order meets, from the desk's live book of a followed symbol; None
    otherwise (the trader then reads the venue's book)."""
    if symbol not in service.symbols:
        return None
    try:
        book = await service.desk.book(venue, symbol)
    except UnknownSymbol:
        return None
    level = book.best_ask() if side is Side.BUY else book.best_bid()
    if level is None:
        raise InvalidOrder(f"{venue}: the {symbol} book has no {'asks' if side is Side.BUY else 'bids'} to price the order")
    return Decimal(repr(level[0]))


async def delete_order(request: web.Request) -> web.Response:
    service = service_of(request)
    account = Fields.query(request, ("account",)).text("account", required=False, default="main")
    assert account is not None
    venue = venue_of_desk(service, request.match_info["venue"])
    trader = await service.desk.account(venue, account)
    order_id = request.match_info["id"]
    if trader.account.journal.order(order_id) is None and all(
            o.venue_order_id != order_id for o in trader.account.journal.orders(venue, account)):
        raise not_found(f"id: {venue} has no order {order_id!r} in the journal of account {account!r}")
    return json_response((await trader.cancel(order_id)).to_json())


# ---- accounts ---------------------------------------------------------------------------------


async def get_balances(request: web.Request) -> web.Response:
    service = service_of(request)
    fields = Fields.query(request, ("venues", "in"))
    venues = fields.names("venues", service.desk.venues)
    value_in = (fields.text("in", required=False, default="USDT") or "USDT").upper()
    if not value_in.isalnum() or len(value_in) > 12:
        raise bad_input("in", f"must be a currency code such as USDT, not {value_in!r}")
    return json_response((await service.desk.balances(venues, value_in=value_in)).to_json())


async def get_positions(request: web.Request) -> web.Response:
    service = service_of(request)
    venues = Fields.query(request, ("venues",)).names("venues", service.desk.venues)
    return json_response((await service.desk.positions(venues)).to_json())


# ---- arbitrage, alerts, stats, stream ---------------------------------------------------------


async def get_arbitrage(request: web.Request) -> web.Response:
    service = service_of(request)
    limit = Fields.query(request, ("limit",)).integer("limit", default=20, high=100)
    recent = list(reversed(service.recent_opportunities))[:limit]
    return json_response({"symbols": service.symbols, "open": [e.to_json() for e in service.open_opportunities()],
                          "recent": [e.to_json() for e in recent]})


async def get_alerts(request: web.Request) -> web.Response:
    service = service_of(request)
    limit = Fields.query(request, ("limit",)).integer("limit", default=50, high=500)
    assert limit is not None
    if service.alerts is None:
        return json_response({"active": [], "recent": []})
    return json_response({"active": [a.to_json() for a in service.alerts.active()],
                          "recent": [e.to_json() for e in service.alerts.recent(limit)]})


async def get_stats(request: web.Request) -> web.Response:
    return json_response(service_of(request).desk.metrics.totals().to_json())


async def get_leases(request: web.Request) -> web.Response:
    """Which process holds each account's bus lease, since when, and the reconciliation that opened
    its trading here; ``process``: this one on the bus (null, and no lease, without ``[bus]``)."""
    leases = service_of(request).desk.leases()
    return json_response({"process": leases[0].process if leases else None, "leases": [v.to_json() for v in leases]})


async def get_stream(request: web.Request) -> web.StreamResponse:
    service = service_of(request)
    return await service.hub.serve(request, service.token, service.symbols)


SYMBOL_PARAM = {"type": "string", "examples": ["BTC-USDT"]}
VENUES_PARAM = Param("venues", {"type": "string"}, "comma-separated venue ids (default: every venue of the service)")
LIMIT = {"type": "integer", "minimum": 1}

ENDPOINTS: list[Endpoint] = [
    Endpoint("GET", "/health", get_health, "liveness, and readiness per venue", "Health", auth=False, errors=()),
    Endpoint("GET", "/metrics", get_metrics, "Prometheus metrics", "Metrics", auth=False, errors=(),
             content_type="text/plain"),
    Endpoint("GET", "/openapi.json", get_openapi, "this document", "OpenApi", errors=()),
    Endpoint("GET", "/venues", get_venues, "the venues, their feeds and readiness", "Venues", errors=()),
    Endpoint("GET", "/books/{symbol}", get_book, "the consolidated book of a followed symbol", "Book",
             (Param("symbol", SYMBOL_PARAM, "a followed standard symbol", "path"),
              Param("depth", {"type": "integer", "minimum": 1, "maximum": MAX_DEPTH}, "levels per side")), errors=(400, 404)),
    Endpoint("GET", "/quote", get_quote, "best all-in price on every venue (as `crossbook quote --json`)", "Quote",
             (Param("symbol", SYMBOL_PARAM, "a followed standard symbol", required=True),
              Param("side", {"type": "string", "enum": ["buy", "sell"]}, "buy or sell", required=True),
              Param("amount", {"type": "number", "exclusiveMinimum": 0}, "base units", required=True), VENUES_PARAM),
             errors=(400, 404, 503)),
    Endpoint("POST", "/route", post_route, "route an order across venues (dry_run: plan only, nothing sent)",
             "ExecutionReport", body="RouteBody", errors=(400, 404, 422, 503)),
    Endpoint("GET", "/routes", get_routes, "recent route reports, newest first", "Routes",
             (Param("limit", LIMIT, "at most this many"),)),
    Endpoint("GET", "/orders", get_orders, "the journal's orders", "Orders",
             (Param("venue", {"type": "string"}, "one venue"), Param("open", {"type": "boolean"}, "live orders only"),
              Param("account", {"type": "string"}, "sub-account (default main)"),
              Param("symbol", SYMBOL_PARAM, "one symbol")), errors=(400, 404)),
    Endpoint("POST", "/orders", post_order, "place one order on one venue", "Order", body="OrderBody",
             errors=(400, 404, 409, 422, 502, 503)),
    Endpoint("POST", "/withdrawals", post_withdrawal, "withdraw to a whitelisted address, with a TOTP code", "Withdrawal",
             body="WithdrawalBody", errors=(400, 403, 404, 409, 422, 502, 503)),
    Endpoint("DELETE", "/orders/{venue}/{id}", delete_order, "cancel an order", "Order",
             (Param("venue", {"type": "string"}, "venue id", "path"),
              Param("id", {"type": "string"}, "crossbook's client order id or the venue's order id", "path"),
              Param("account", {"type": "string"}, "sub-account (default main)")), errors=(400, 404, 409, 502, 503)),
    Endpoint("GET", "/balances", get_balances, "balances per venue and sub-account, valued at live prices", "Balances",
             (VENUES_PARAM, Param("in", {"type": "string"}, "value in this currency (default USDT)"))),
    Endpoint("GET", "/positions", get_positions, "open derivatives positions", "Positions", (VENUES_PARAM,)),
    Endpoint("GET", "/arbitrage", get_arbitrage, "arbitrage opportunities open now, and recent events", "Arbitrage",
             (Param("limit", LIMIT, "recent events, at most"),)),
    Endpoint("GET", "/alerts", get_alerts, "alerts active now, and recent transitions", "Alerts",
             (Param("limit", LIMIT, "recent transitions, at most"),)),
    Endpoint("GET", "/stats", get_stats, "orders, fees, volume, slippage and routes so far", "Stats", errors=()),
    Endpoint("GET", "/leases", get_leases, "the accounts' bus leases: who trades each, since when", "Leases", errors=()),
    Endpoint("GET", "/stream", get_stream, "WebSocket stream", "OpenApi", errors=()),
]
