"""The service's HTTP and WebSocket API over one Desk: ``build_app(Service(desk, symbols, token))``.

Every endpoint is one row of ``endpoints()``, which registers it and describes it in the OpenAPI
document at /openapi.json. The ``Service`` keeps what the API adds to the Desk: the recent route
reports, the routes in flight (which the process's shutdown policy finishes or cancels), the
arbitrage opportunities open now, and the stream hub's background publishers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..arbitrage.model import Opportunity
from ..desk import Desk, ExecutionReport, OpportunityEvent
from ..desk.funding_view import rate_json
from ..desk.market_queries import candle_json, ticker_json
from ..errors import ConfigError
from ..feeds.handler import Channels, MarketEvent
from ..market.mid_candles import MidCandles, MidSampler
from ..model import Candle, FundingRate, IndexPrice, Interval, MarkPrice, Ticker, Trade
from ..monitor.metrics import api_requests_counter
from ..routing.executor import RouteRequest
from .auth import TOKEN_KEY, auth_middleware
from .errors import Handler, errors_middleware
from .handlers import ENDPOINTS, SERVICE_KEY
from .market_api import MARKET_ENDPOINTS
from .openapi import Endpoint, register
from .stream import StreamHub
from .views import PriceView, fill_json, health_of

if TYPE_CHECKING:
    from ..monitor.alerts import AlertEngine, AlertEvent

log = logging.getLogger(__name__)

PRICE_EVERY = 0.25  # seconds: at most 4 price messages a second per symbol
HEALTH_EVERY = 1.0
FILLS_EVERY = 1.0
KEEP_ROUTES = 100
KEEP_OPPORTUNITIES = 100
ARBITRAGE_KINDS = ("cross", "triangular")
# the streams the service follows for its symbols (where the venues publish them), for the stream's
# ticker, funding and candles channels and the desk's candle and ticker reads
SERVICE_CHANNELS = Channels(candles=(Interval.M1,), ticker=True, funding=True)
MARKET_CHANNELS = ("ticker", "funding", "candles")  # the stream's channels those streams feed


@dataclass(eq=False)
class Service:
    """What the API serves: ``desk`` (started by the caller), the ``symbols`` it follows (the only
    ones the API prices and routes), the bearer ``token``, the alert engine if one runs."""

    desk: Desk
    symbols: list[str]
    token: str = field(repr=False)
    alerts: AlertEngine | None = None
    hub: StreamHub = field(default_factory=StreamHub)
    keep_routes: int = KEEP_ROUTES
    routes: deque[ExecutionReport] = field(init=False)
    in_flight: set[asyncio.Task[ExecutionReport]] = field(default_factory=set)
    taking_routes: bool = True  # False once the process is stopping: POST /route answers 503
    opportunities: dict[tuple[Any, ...], OpportunityEvent] = field(default_factory=dict)  # open now, by key
    recent_opportunities: deque[OpportunityEvent] = field(default_factory=lambda: deque(maxlen=KEEP_OPPORTUNITIES))
    mid_candles: MidCandles = field(default_factory=MidCandles)  # the consolidated mid of each followed symbol
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _fills_seen: set[tuple[str, str, str]] = field(default_factory=set)
    _trades_hooked: bool = False

    def __post_init__(self) -> None:
        self.symbols = [s.upper() for s in self.symbols]
        self.routes = deque(maxlen=self.keep_routes)
        self.api_requests = api_requests_counter(self.desk.metrics.registry)

    # ---- routes ------------------------------------------------------------------------------

    async def route(self, request: RouteRequest, dry_run: bool) -> ExecutionReport:
        """Run one route as a task kept in ``in_flight`` until it ends; its report is kept for GET
        /routes and published on the ``routes`` channel even if the HTTP client has gone."""
        if not self.taking_routes:
            raise web.HTTPServiceUnavailable(reason="the service is stopping: no new routes")
        task = asyncio.create_task(self._route(request, dry_run), name=f"route:{request.symbol}")
        self.in_flight.add(task)
        task.add_done_callback(self.in_flight.discard)
        return await asyncio.shield(task)

    async def _route(self, request: RouteRequest, dry_run: bool) -> ExecutionReport:
        report = await self.desk.route_request(request, dry_run=dry_run)
        self.routes.append(report)
        self.hub.publish("routes", report.to_json())
        return report

    def stop_taking_routes(self) -> None:
        self.taking_routes = False

    async def finish_routes(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the routes in flight; True when none is left."""
        if self.in_flight:
            await asyncio.wait(list(self.in_flight), timeout=timeout)
        return not self.in_flight

    async def cancel_routes(self) -> None:
        """Cancel the routes in flight (their executors cancel what they have open) and wait for them."""
        tasks = list(self.in_flight)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # ---- the stream's publishers -------------------------------------------------------------

    async def start_publishing(self) -> None:
        """Start the stream's background publishers (prices, health, fills, opportunities) and
        hook the desk's trades and the alert engine's events; ``stop_publishing`` undoes it."""
        if not self._trades_hooked:  # a desk keeps its callbacks: hook once
            self.desk.on_trade(self._trade)
            self.desk.on_market(self._market_event)
            if self.alerts is not None:
                self.alerts.subscribe(self._alert)
            self._trades_hooked = True
        self._seed_fills()
        for name, work in (("prices", self._publish_prices()), ("health", self._publish_health()),
                           ("fills", self._publish_fills()), ("arbitrage", self._scan_arbitrage()),
                           ("streams", self._follow_streams()), ("mid candles", self._sample_mids())):
            self._tasks.append(asyncio.create_task(self._guarded(name, work), name=f"service:{name}"))

    async def stop_publishing(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.hub.close_all()

    @staticmethod
    async def _guarded(name: str, work: Coroutine[Any, Any, None]) -> None:
        try:
            await work
        except asyncio.CancelledError:
            raise
        except Exception:  # a publisher that fails says so; the API serves on
            log.exception("service: the %s publisher stopped", name)

    def _trade(self, trade: Trade) -> None:
        if self.hub.subscribers("trades"):
            self.hub.publish("trades", {"venue": trade.venue, "symbol": trade.symbol, "price": trade.price,
                                        "amount": trade.amount, "side": trade.side.value, "ts": trade.ts,
                                        "trade_id": trade.trade_id})

    def _market_event(self, event: MarketEvent) -> None:
        published = market_message(event)
        if published is not None and self.hub.subscribers(published[0]):
            self.hub.publish(*published)

    async def _follow_streams(self) -> None:
        """The symbols' ticker, funding and candle streams, once a client asks for one of them: a
        feed's socket carries them only when it started with them, else a companion socket does."""
        await self.hub.first_asked(MARKET_CHANNELS)
        await self.desk.follow_market(self.symbols, SERVICE_CHANNELS)

    async def _sample_mids(self) -> None:
        books = {s: b for s, b in self.desk.market.consolidated.items() if s in self.symbols}
        await MidSampler(books, self.mid_candles, time.time).run()

    def _alert(self, event: AlertEvent) -> None:
        self.hub.publish("alerts", event.to_json())

    async def _publish_prices(self) -> None:
        last: dict[str, tuple[Any, ...]] = {}
        while True:
            if self.hub.subscribers("prices"):
                for symbol in self.symbols:
                    book = self.desk.market.consolidated.get(symbol)
                    if book is None:
                        continue
                    view = PriceView.of(book, self.desk.precision(symbol))
                    key = (view.bid, view.ask, tuple((v, t.state, t.bid, t.ask) for v, t in view.venues.items()))
                    if last.get(symbol) != key:
                        last[symbol] = key
                        self.hub.publish("prices", view.to_json())
            await asyncio.sleep(PRICE_EVERY)

    async def _publish_health(self) -> None:
        while True:
            if self.hub.subscribers("health"):
                self.hub.publish("health", health_of(self.desk.market, self.symbols).to_json())
            await asyncio.sleep(HEALTH_EVERY)

    def _journals(self) -> dict[str, Any]:
        return {venue: account.journal for venue, account in self.desk.accounts.items()}

    def _seed_fills(self) -> None:
        """The fills journaled before the service started are not news."""
        for venue, journal in self._journals().items():
            self._fills_seen |= {(f.venue, f.client_order_id, f.trade_id) for f in journal.recent_fills(venue, 0.0)}

    async def _publish_fills(self) -> None:
        since = time.time() - 60.0
        while True:
            await asyncio.sleep(FILLS_EVERY)
            checked = time.time()
            for venue, journal in self._journals().items():
                for fill in journal.recent_fills(venue, since):
                    key = (fill.venue, fill.client_order_id, fill.trade_id)
                    if key not in self._fills_seen:
                        self._fills_seen.add(key)
                        self.hub.publish("fills", fill_json(fill))
            since = checked - 60.0  # a venue's fill time runs behind ours: look back a while

    async def _scan_arbitrage(self) -> None:
        async for event in self.desk.arbitrage(self.symbols, ARBITRAGE_KINDS):
            key = _key(event.opportunity)
            if event.kind == "open":
                self.opportunities[key] = event
            else:
                self.opportunities.pop(key, None)
            self.recent_opportunities.append(event)
            self.hub.publish("opportunities", event.to_json())

    def open_opportunities(self) -> list[OpportunityEvent]:
        return list(self.opportunities.values())


def market_message(event: MarketEvent) -> tuple[str, dict[str, Any]] | None:
    """The stream channel and message of a market event (None: one the stream does not carry)."""
    if isinstance(event, Ticker):
        return "ticker", ticker_json(event)
    if isinstance(event, Candle):
        return "candles", candle_json(event)
    if isinstance(event, FundingRate):
        return "funding", {"kind": "funding", **rate_json(event)}
    if isinstance(event, (MarkPrice, IndexPrice)):
        kind = "mark" if isinstance(event, MarkPrice) else "index"
        return "funding", {"kind": kind, "venue": event.venue, "symbol": event.symbol, "ts": event.ts, "price": event.price}
    return None


def _key(opportunity: Opportunity) -> tuple[Any, ...]:
    return (opportunity.kind, *((leg.venue, leg.symbol, leg.side) for leg in opportunity.legs))


@web.middleware
async def requests_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Count every request by its route's pattern (never the raw path: the label set stays bounded)."""
    route = request.match_info.route.resource
    pattern = route.canonical if route is not None else "unmatched"
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        request.app[SERVICE_KEY].api_requests.labels(pattern, str(exc.status)).inc()
        raise
    request.app[SERVICE_KEY].api_requests.labels(pattern, str(response.status)).inc()
    return response


def endpoints() -> list[Endpoint]:
    """Every endpoint of the API, as registered and as described at /openapi.json."""
    return [*ENDPOINTS, *MARKET_ENDPOINTS]


def build_app(service: Service) -> web.Application:
    """The aiohttp application over ``service`` (its desk started by the caller): the API, the
    stream, the dashboard; the stream's publishers run while the application does."""
    from .dashboard import add_dashboard_routes

    app = web.Application(middlewares=[requests_middleware, errors_middleware, auth_middleware])
    app[SERVICE_KEY] = service
    app[TOKEN_KEY] = service.token
    register(app, endpoints())
    add_dashboard_routes(app)

    async def start(_: web.Application) -> None:
        await service.start_publishing()

    async def stop(_: web.Application) -> None:
        with contextlib.suppress(Exception):
            await service.stop_publishing()

    app.on_startup.append(start)
    app.on_shutdown.append(stop)
    return app


async def listen(service: Service, host: str, port: int, shutdown_timeout: float) -> tuple[web.AppRunner, int]:
    """Serve ``service`` on ``host``:``port`` (0: a free port); returns the runner (its
    ``cleanup()`` stops serving) and the port listened on."""
    runner = web.AppRunner(build_app(service), access_log=None, shutdown_timeout=shutdown_timeout)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:
        await runner.cleanup()
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    return runner, int(runner.addresses[0][1])
