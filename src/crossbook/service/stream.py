"""WS /stream: the hub that fans the desk's events out to WebSocket clients.

A client authenticates (the Authorization header, or ``{"op": "auth", "token": ...}`` as its first
message, answered by ``{"op": "authenticated"}``; a wrong token closes the socket with code 4401),
then subscribes: ``{"op": "subscribe", "channels": [...], "symbols": [...]}`` (no symbols: every
symbol of the service), answered by ``{"op": "subscribed", "channels", "symbols"}``. The server then
sends ``{"channel": c, "data": {...}}`` for the channels it chose. Each client has a bounded queue:
one that cannot keep up is closed with code 1013 (try again later); publishing never waits."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import WSCloseCode, WSMsgType, web

from .auth import UNAUTHORIZED, first_message_auth, token_matches

log = logging.getLogger(__name__)

CHANNELS = ("prices", "trades", "fills", "routes", "opportunities", "alerts", "health", "ticker", "funding", "candles")
QUEUE_SIZE = 512  # messages a client may have waiting before it is dropped
AUTH_WITHIN = 10.0  # seconds a client without the header has to send its token
CLOSE_UNAUTHORIZED = 4401
CLOSE_TOO_SLOW = WSCloseCode.TRY_AGAIN_LATER  # 1013


@dataclass(eq=False)
class Client:
    ws: web.WebSocketResponse
    channels: frozenset[str] = frozenset()
    symbols: frozenset[str] = frozenset()
    queue: asyncio.Queue[str] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))
    dropped: bool = False

    def wants(self, channel: str, symbol: str | None) -> bool:
        return channel in self.channels and (symbol is None or symbol in self.symbols)

    def offer(self, text: str) -> bool:
        """Queue ``text``; False when the queue is full (the client is too slow)."""
        try:
            self.queue.put_nowait(text)
        except asyncio.QueueFull:
            return False
        return True


class StreamHub:
    """``publish(channel, data)`` sends ``{"channel", "data"}`` to every subscriber of the channel
    (and of the data's ``symbol``, when it has one); each message is encoded once."""

    def __init__(self, queue_size: int = QUEUE_SIZE) -> None:
        self.queue_size = queue_size
        self.clients: set[Client] = set()
        self.dropped = 0  # clients closed for being too slow
        self._closing: set[asyncio.Task[bool]] = set()
        self._asked: dict[str, asyncio.Event] = {}  # channel -> set once a client subscribed to it

    def publish(self, channel: str, data: dict[str, Any]) -> None:
        symbol = data.get("symbol")
        targets = [c for c in self.clients if c.wants(channel, symbol if isinstance(symbol, str) else None)]
        if not targets:
            return
        text = orjson.dumps({"channel": channel, "data": data}).decode()
        for client in targets:
            if not client.offer(text):
                self._drop(client)

    def subscribers(self, channel: str) -> int:
        return sum(channel in c.channels for c in self.clients)

    async def first_asked(self, channels: Iterable[str]) -> None:
        """Return once a client has subscribed to one of ``channels`` (at once if one did)."""
        events = [self._asked.setdefault(c, asyncio.Event()) for c in channels]
        waits = [asyncio.ensure_future(e.wait()) for e in events]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waits:
                w.cancel()

    def _asked_for(self, channels: Iterable[str]) -> None:
        for channel in channels:
            self._asked.setdefault(channel, asyncio.Event()).set()

    def _drop(self, client: Client) -> None:
        client.dropped = True
        self.clients.discard(client)
        self.dropped += 1
        log.warning("stream: a client fell %d messages behind and was closed", self.queue_size)
        task = asyncio.get_running_loop().create_task(client.ws.close(code=CLOSE_TOO_SLOW, message=b"too slow"))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def close_all(self) -> None:
        """Close every client (the service is stopping)."""
        clients, self.clients = list(self.clients), set()
        await asyncio.gather(*(c.ws.close(code=WSCloseCode.GOING_AWAY, message=b"service stopping") for c in clients),
                             return_exceptions=True)

    async def serve(self, request: web.Request, token: str, symbols: list[str]) -> web.WebSocketResponse:
        """Handle one WebSocket client until it leaves (``symbols``: the service's)."""
        ws = web.WebSocketResponse(heartbeat=20.0)
        await ws.prepare(request)
        if first_message_auth(request) and not await _first_message_auth(ws, token):
            await ws.close(code=CLOSE_UNAUTHORIZED, message=UNAUTHORIZED.encode())
            return ws
        client = Client(ws, queue=asyncio.Queue(self.queue_size))
        self.clients.add(client)
        writer = asyncio.create_task(_write(client), name="stream-writer")
        try:
            async for message in ws:
                if message.type is not WSMsgType.TEXT:
                    continue
                reply = _handle(client, message.data, symbols)
                self._asked_for(client.channels)
                if reply is not None and not client.offer(orjson.dumps(reply).decode()):
                    self._drop(client)
        finally:
            self.clients.discard(client)
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
        return ws


async def _first_message_auth(ws: web.WebSocketResponse, token: str) -> bool:
    try:
        message = await ws.receive(timeout=AUTH_WITHIN)
    except TimeoutError:
        return False
    if message.type is not WSMsgType.TEXT:
        return False
    request = _loads(message.data)
    if request is None or request.get("op") != "auth" or not isinstance(request.get("token"), str):
        await ws.send_str(orjson.dumps({"error": 'send {"op": "auth", "token": ...} first', "field": "op"}).decode())
        return False
    if not token_matches(token, request["token"]):
        await ws.send_str(orjson.dumps({"error": UNAUTHORIZED}).decode())
        return False
    await ws.send_str(orjson.dumps({"op": "authenticated"}).decode())
    return True


async def _write(client: Client) -> None:
    while True:
        text = await client.queue.get()
        try:
            await client.ws.send_str(text)
        except (ConnectionError, RuntimeError):  # the client went away mid-send
            return


def _loads(text: str) -> dict[str, Any] | None:
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def _handle(client: Client, text: str, symbols: list[str]) -> dict[str, Any] | None:
    """A client's request: subscribe (replacing its choice), or an error naming the field."""
    request = _loads(text)
    if request is None:
        return {"error": "not a JSON object", "field": "op"}
    op = request.get("op")
    if op == "auth":
        return {"op": "authenticated"}
    if op != "subscribe":
        return {"error": f"op must be subscribe, not {op!r}", "field": "op"}
    channels = _names(request.get("channels", list(CHANNELS)), CHANNELS)
    if channels is None:
        return {"error": f"channels must be a list out of {', '.join(CHANNELS)}", "field": "channels"}
    wanted = request.get("symbols") or symbols
    chosen = _names([s.upper() for s in wanted] if isinstance(wanted, list) and all(isinstance(s, str) for s in wanted)
                    else None, symbols)
    if chosen is None:
        return {"error": f"symbols must be a list out of {', '.join(symbols)}", "field": "symbols"}
    client.channels, client.symbols = frozenset(channels), frozenset(chosen)
    return {"op": "subscribed", "channels": channels, "symbols": chosen}


def _names(given: object, known: Iterable[str]) -> list[str] | None:
    known = list(known)
    if not isinstance(given, list) or not all(isinstance(g, str) and g in known for g in given):
        return None
    return list(dict.fromkeys(given))

