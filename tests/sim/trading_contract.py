"""The trading contract every simulated venue meets through an unmodified ccxt client: markets,
balance, orders resting, filling, cancelled and fetched, fills with fees, and the venue's own
authentication errors."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import aiohttp
import ccxt.async_support as ccxt_async
import ccxt.pro as ccxt_pro
import orjson

from crossbook.model import Kind
from crossbook.sim.access import ApiKey
from crossbook.sim.cluster import SimCluster
from crossbook.sim.server import SimVenue
from crossbook.sim.venues import sim_class, venue_sims
from crossbook.symbols import parse_standard
from crossbook.venues.registry import VENUES


def trading_feeds() -> list[str]:
    """The spot venues that trade (a perpetual-only venue, dYdX, runs its adapted contract in
    its own test file: no base balances, unauthenticated reads, priced market orders)."""
    return [
        f for v in VENUES for f, cls in venue_sims(v).items()
        if cls.ccxt_id is not None and parse_standard(cls.markets[0])[2] is Kind.SPOT
    ]


@dataclass
class TradingHarness:
    feed_id: str
    cluster: SimCluster | None = None
    key: ApiKey | None = None
    clients: list[Any] = field(default_factory=list)

    @property
    def sim(self) -> SimVenue:
        assert self.cluster is not None
        return self.cluster.venues[self.feed_id]

    @property
    def symbol(self) -> str:
        return sim_class(self.feed_id).markets[0]

    async def __aenter__(self) -> TradingHarness:
        # unpaced ccxt clients on purpose: the limits have their own tests (tests/sim/test_rate_limits.py)
        self.cluster = SimCluster([self.feed_id], interval=0.05, levels=80, enforce_limits=False)
        await self.cluster.start()
        base, quote, _, _ = parse_standard(self.symbol)
        self.sim.engine.open_account("main", {quote: Decimal(10_000_000), base: Decimal(1_000)})
        self.key = self.sim.issue_key("main")
        return self

    async def __aexit__(self, *exc: object) -> None:
        for client in self.clients:
            await client.close()
        if self.cluster is not None:
            await self.cluster.stop()

    def client(self, key: ApiKey | None = None, *, pro: bool = False, **overrides: Any) -> Any:
        """An unmodified ccxt client of this venue (``pro``: ccxt.pro's, which also streams)."""
        ccxt_id = self.sim.ccxt_id or self.sim.client_ccxt_id
        assert self.key is not None and ccxt_id is not None
        config = self.sim.ccxt_config(key or self.key)
        config["enableRateLimit"] = False  # ccxt's own pacing only slows the tests down
        config.update(overrides)
        client = getattr(ccxt_pro if pro else ccxt_async, ccxt_id)(config)
        self.clients.append(client)
        return client

    def ccxt_symbol(self, client: Any) -> str:
        return str(client.markets_by_id[self.sim.ccxt_market_id(self.symbol)][0]["symbol"])

    def inside_bid(self) -> Decimal:
        """With the market paused, one tick above the best bid: a buy there rests alone at the top."""
        assert self.cluster is not None
        self.cluster.pause()
        bid, _ = self.touch()
        return bid + self.sim.engine.markets[self.symbol].tick

    def touch(self) -> tuple[Decimal, Decimal]:
        """The venue's best bid and ask now, as Decimals."""
        ladder = self.sim.ladders[self.symbol]
        return Decimal(ladder.price_str(max(ladder.bids))), Decimal(ladder.price_str(min(ladder.asks)))


Socket = aiohttp.ClientWebSocketResponse


async def with_private_socket(feed_id: str, path: str, test: Callable[[TradingHarness, Socket], Awaitable[None]]) -> None:
    """``test`` with a harness for ``feed_id`` and a raw socket on its private stream's ``path``."""
    async with TradingHarness(feed_id) as h, aiohttp.ClientSession() as session, session.ws_connect(h.sim.ws_url + path) as ws:
        await test(h, ws)


async def answer(ws: Socket, request: str) -> Any:
    await ws.send_str(request)
    return orjson.loads(await ws.receive_str(timeout=5))


async def next_push(ws: Socket) -> dict[str, Any]:
    message: dict[str, Any] = orjson.loads(await ws.receive_str(timeout=5))
    return message
