"""The simulator's REST and frame faults, as a client sees them on the wire: every venue's snapshot
and instruments endpoints answer each fault as sim/faults.py says, and ``POST /_crossbook/fault``
injects them from loopback only."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

import aiohttp
import orjson
import pytest

from crossbook.sim.cluster import SimCluster
from crossbook.sim.faults import GARBLED, MALFORMED
from crossbook.sim.server import SimVenue
from crossbook.venues.registry import all_feeds

from ..conftest import run
from ..venues.contract import contract_feeds

FEEDS = contract_feeds()
ENDPOINTS = ("snapshot", "instruments")


@asynccontextmanager
async def cluster(host: str = "127.0.0.1") -> AsyncIterator[SimCluster]:
    """Every venue, still (no ticks: a body read twice is the same) and unlimited."""
    async with SimCluster(FEEDS, host=host, enforce_limits=False) as c:
        c.pause()
        for sim in c.venues.values():
            sim.faults.timeout_seconds = 1.0
        yield c


def url_of(sim: SimVenue, endpoint: str, symbol: str | None = None) -> str:
    """The request the venue's own feed makes of ``endpoint`` (a book request for ``symbol``);
    where the feed takes no REST book, one naming the symbol under the usual parameter names."""
    handler = all_feeds()[sim.venue](ws_url=sim.ws_url, rest_url=sim.rest_url)
    if endpoint == "instruments":
        return handler.instruments_urls()[0]
    native = sim.native(symbol or sim.markets[0])
    with contextlib.suppress(NotImplementedError):
        return handler.snapshot_url(native)
    path = sim.snapshot_paths[0].replace("{ticker}", native)
    query = "&".join(f"{p}={native}" for p in ("symbol", "instId", "pair", "category", "product_id"))
    return f"{sim.rest_url}{path}?{query}"


def endpoints_of(sim: SimVenue) -> list[str]:
    return [e for e in ENDPOINTS if (sim.snapshot_paths if e == "snapshot" else sim.instruments_paths)]


async def fetch(session: aiohttp.ClientSession, url: str, timeout: float = 10.0) -> tuple[int, dict[str, str], bytes]:
    async with session.get(url, timeout=aiohttp.ClientTimeout(total=timeout)) as resp:
        return resp.status, dict(resp.headers), await resp.read()


def every_endpoint(c: SimCluster) -> list[tuple[SimVenue, str]]:
    return [(sim, e) for sim in c.venues.values() for e in endpoints_of(sim)]


def test_every_venue_declares_its_rest_endpoints() -> None:
    missing = [f for f in FEEDS if not SimCluster([f]).venues[f].instruments_paths]
    assert missing == [], f"no instruments endpoint declared for REST faults: {missing}"
    snapshot_feeds = [f for f, h in all_feeds().items() if f in FEEDS and h.resync_by.value == "snapshot"]
    no_book = [f for f in snapshot_feeds if not SimCluster([f]).venues[f].snapshot_paths]
    assert no_book == [], f"feeds that fetch a REST snapshot but declare no snapshot endpoint: {no_book}"


@pytest.mark.parametrize("fault", ["http_5xx", "http_429", "truncated", "malformed"])
def test_a_fault_answers_as_described_on_every_endpoint(fault: str) -> None:
    async def one(session: aiohttp.ClientSession, sim: SimVenue, endpoint: str) -> None:
        where = f"{sim.venue} {endpoint}"
        status, _, normal = await fetch(session, url_of(sim, endpoint))
        assert status == 200, f"{where}: {normal[:200]!r}"
        window = sim.inject(fault, seconds=0, endpoint=endpoint)
        status, headers, body = await fetch(session, url_of(sim, endpoint))
        assert window is not None and window.hits == 1, where
        if fault == "http_5xx":
            assert status == 503, where
            assert isinstance(orjson.loads(body), dict), f"{where}: the venue's error body, not {body!r}"
        elif fault == "http_429":
            assert status == 429 and int(headers["Retry-After"]) >= 1, where
            assert isinstance(orjson.loads(body), dict), where
        elif fault == "truncated":
            assert status == 200 and 0 < len(body) < len(normal), where
            assert normal.startswith(body[:20]), where
            with pytest.raises(orjson.JSONDecodeError):
                orjson.loads(body)
        else:
            assert status == 200 and orjson.loads(body) == MALFORMED, where
        status, _, _ = await fetch(session, url_of(sim, endpoint))
        assert status == 200, f"{where}: a one-request fault hit the next request too"

    async def body() -> None:
        async with cluster() as c, aiohttp.ClientSession() as session:
            await asyncio.gather(*(one(session, sim, e) for sim, e in every_endpoint(c)))

    run(body())


def test_timeout_answers_late_and_hang_never_answers() -> None:
    async def timeout(session: aiohttp.ClientSession, sim: SimVenue, endpoint: str) -> None:
        sim.inject("timeout", seconds=0, endpoint=endpoint)
        with pytest.raises(TimeoutError):
            await fetch(session, url_of(sim, endpoint), timeout=0.3)
        sim.inject("timeout", seconds=0, endpoint=endpoint)
        started = time.monotonic()
        status, _, body = await fetch(session, url_of(sim, endpoint))
        assert status == 200 and isinstance(orjson.loads(body), (dict, list)), f"{sim.venue} {endpoint}"
        assert time.monotonic() - started >= 0.9, f"{sim.venue} {endpoint}: answered before timeout_seconds"

    async def hang(session: aiohttp.ClientSession, sim: SimVenue, endpoint: str) -> None:
        sim.inject("hang", seconds=2.0, endpoint=endpoint)
        with pytest.raises(TimeoutError):
            await fetch(session, url_of(sim, endpoint), timeout=0.5)
        await asyncio.sleep(2.0)  # the first hang's own length
        sim.inject("hang", seconds=1.0, endpoint=endpoint)
        started = time.monotonic()
        assert await raw_get(url_of(sim, endpoint)) == b"", f"{sim.venue} {endpoint}: a hang answered"
        assert time.monotonic() - started >= 0.8, f"{sim.venue} {endpoint}: closed before the hang ended"

    async def body() -> None:
        async with cluster() as c, aiohttp.ClientSession() as session:
            await asyncio.gather(*(timeout(session, sim, e) for sim, e in every_endpoint(c)))
            await asyncio.gather(*(hang(session, sim, e) for sim, e in every_endpoint(c)))

    run(body())


async def raw_get(url: str) -> bytes:
    """What the server sends for one GET on a socket of its own (aiohttp's client would send a GET
    again, once, when its connection closes unanswered)."""
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    writer.write(f"GET {parts.path}?{parts.query} HTTP/1.1\r\nHost: {parts.netloc}\r\n\r\n".encode())
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    return answer


def test_a_fault_lasts_its_seconds_and_keeps_to_its_symbol_and_endpoint() -> None:
    async def body() -> None:
        async with cluster() as c, aiohttp.ClientSession() as session:
            sim = c.venues["binance"]
            target, other = sim.markets[:2]
            sim.inject("http_5xx", target, seconds=1.0)
            assert (await fetch(session, url_of(sim, "snapshot", target)))[0] == 503
            assert (await fetch(session, url_of(sim, "snapshot", target)))[0] == 503, "a window fault hits every request"
            assert (await fetch(session, url_of(sim, "snapshot", other)))[0] == 200, "another symbol's book is not hit"
            assert (await fetch(session, url_of(sim, "instruments")))[0] == 200, "the instruments endpoint is not hit"
            await asyncio.sleep(1.1)  # the fault's own length, not a tuned wait
            assert (await fetch(session, url_of(sim, "snapshot", target)))[0] == 200, "the fault outlived its seconds"
            assert sim.faults.hits["http_5xx"] == 2

    run(body())


def test_a_venue_without_the_endpoint_or_a_bad_fault_is_named() -> None:
    sim = SimCluster(["binance"]).venues["binance"]
    for args, words in (
        (("nonsense",), "unknown fault 'nonsense'"),
        (("http_5xx", "DOGE-EUR"), "symbol 'DOGE-EUR' is not listed"),
        (("http_5xx", None, -1.0), "seconds must be a number >= 0"),
        (("http_5xx", None, 1.0, "candles"), "unknown endpoint 'candles'"),
        (("http_5xx", "BTC-USDT", 1.0, "instruments"), "takes no symbol"),
        (("malformed_frame", None, 1.0, "snapshot"), "takes no endpoint"),
    ):
        with pytest.raises(ValueError, match=words):
            sim.inject(*args)  # type: ignore[arg-type]


def test_malformed_frames_reach_the_socket() -> None:
    """A raw client of the venue's own subscribe messages receives the broken frames."""

    async def one(session: aiohttp.ClientSession, sim: SimVenue) -> None:
        handler = all_feeds()[sim.venue](ws_url=sim.ws_url, rest_url=sim.rest_url)
        symbol = sim.markets[0]
        native = sim.native(symbol)
        await handler.prepare(session)
        async with session.ws_connect(handler.connect_url([native])) as ws:
            for frame in handler.subscribe_messages([native]):
                await ws.send_str(frame.decode() if isinstance(frame, bytes) else frame)
            await wait_subscribed(sim, symbol)
            sim.inject("malformed_frame", symbol, seconds=2.0)
            seen = await broken_frames(ws, 4.0)
        assert seen and sim.faults.hits["malformed_frame"] >= 1, f"{sim.venue}: no malformed frame reached the socket"

    async def body() -> None:
        async with SimCluster(FEEDS, interval=0.05, enforce_limits=False) as c, aiohttp.ClientSession() as session:
            await asyncio.gather(*(one(session, sim) for sim in c.venues.values()))

    run(body())


async def wait_subscribed(sim: SimVenue, symbol: str) -> None:
    deadline = time.monotonic() + 10
    while not any(symbol in conn.subs for conn in sim.connections):
        assert time.monotonic() < deadline, f"{sim.venue}: the raw client never subscribed {symbol}"
        await asyncio.sleep(0.02)


async def broken_frames(ws: aiohttp.ClientWebSocketResponse, seconds: float) -> int:
    """How many of the frames received in ``seconds`` are garbled (or, binary, may be cut)."""
    seen = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            msg = await ws.receive(timeout=max(0.01, deadline - time.monotonic()))
        except TimeoutError:
            break
        if msg.type is aiohttp.WSMsgType.TEXT and GARBLED in msg.data:
            seen += 1
        elif msg.type is aiohttp.WSMsgType.BINARY:
            seen += 1  # protobuf (MEXC): the fault cuts frames in half; the hits below say which
    return seen


def local_address() -> str | None:
    """A non-loopback address of this machine (no packet is sent), or None."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.255.255.255", 1))
        except OSError:
            return None
        address = s.getsockname()[0]
    return None if address.startswith("127.") else address


def test_the_control_endpoint_injects_from_loopback_and_names_bad_input() -> None:
    async def body() -> None:
        async with cluster() as c, aiohttp.ClientSession() as session:
            sim = c.venues["okx"]
            control = sim.rest_url + "/_crossbook/fault"
            async with session.post(control, json={"fault": "http_429", "seconds": 5, "symbol": "ETH-USDT"}) as resp:
                assert resp.status == 200, await resp.text()
                assert await resp.json() == {
                    "venue": "okx", "fault": "http_429", "seconds": 5.0, "symbol": "ETH-USDT", "endpoint": "snapshot",
                }
            assert (await fetch(session, url_of(sim, "snapshot", "ETH-USDT")))[0] == 429
            assert (await fetch(session, url_of(sim, "snapshot", "BTC-USDT")))[0] == 200
            for bad, words in (
                (b"not json", "not JSON"),
                (b"[1]", "JSON object"),
                (b'{"fault": "http_5xx", "colour": 1}', "unknown keys colour"),
                (b'{"seconds": 1}', "'fault' must be"),
                (b'{"fault": "http_5xx", "seconds": "soon"}', "'seconds' must be a number"),
                (b'{"fault": "http_5xx", "endpoint": "candles"}', "unknown endpoint 'candles'"),
                (b'{"fault": "http_5xx", "symbol": "DOGE-EUR"}', "DOGE-EUR"),
                (b'{"fault": "eclipse"}', "unknown fault 'eclipse'"),
            ):
                async with session.post(control, data=bad) as resp:
                    assert resp.status == 400, bad
                    assert words in (await resp.json())["error"], (bad, await resp.text())
            kraken = c.venues["kraken"]  # a protocol without sequence numbers cannot skip one
            async with session.post(kraken.rest_url + "/_crossbook/fault", json={"fault": "skip", "symbol": kraken.markets[0]}) as resp:
                assert resp.status == 400 and "kraken" in (await resp.json())["error"]

    run(body())


def test_the_control_endpoint_refuses_other_hosts() -> None:
    address = local_address()
    if address is None:
        pytest.skip("this machine has no address but loopback")

    async def body() -> None:
        # every address, so a request can come from one that is not loopback
        async with SimCluster(["okx"], host="0.0.0.0") as c, aiohttp.ClientSession() as session:
            port = c.venues["okx"].rest_url.rsplit(":", 1)[1]
            async with session.post(f"http://{address}:{port}/_crossbook/fault", json={"fault": "http_5xx"}) as resp:
                assert resp.status == 403
                assert "loopback" in (await resp.json())["error"]
            assert c.venues["okx"].faults.windows == []

    run(body())
