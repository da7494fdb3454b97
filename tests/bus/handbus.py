"""A book published by hand on the bus, the protocol's way, for the consumer's tests."""

from __future__ import annotations

import time

import orjson
from nats.aio.client import Client
from nats.aio.msg import Msg

from crossbook.bus import subjects
from crossbook.bus.codec import FrameKind, encode_book, encode_state
from crossbook.model import BookState


class HandPublisher:
    """One book published by hand the protocol's way: its levels, its seq, its frames."""

    def __init__(self, nc: Client, process: str = "feed-test", venue: str = "binance", symbol: str = "BTC-USDT") -> None:
        self.nc = nc
        self.process = process
        self.venue = venue
        self.symbol = symbol
        self.seq = 0
        self.bids: dict[float, float] = {}
        self.asks: dict[float, float] = {}

    def _next(self) -> int:
        self.seq += 1
        return self.seq

    def change(self, bids: list[tuple[float, float]], asks: list[tuple[float, float]]) -> bytes:
        """The book changed: its delta frame (the next seq)."""
        for side, levels in ((self.bids, bids), (self.asks, asks)):
            for price, size in levels:
                if size:
                    side[price] = size
                else:
                    side.pop(price, None)
        return encode_book(FrameKind.DELTA, BookState.LIVE, self._next(), time.time(), bids, asks)

    async def delta(self, bids: list[tuple[float, float]], asks: list[tuple[float, float]]) -> None:
        await self.nc.publish(subjects.book_subject(self.venue, self.symbol), self.change(bids, asks))
        await self.nc.flush()

    async def state(self, state: BookState) -> None:
        await self.nc.publish(subjects.book_subject(self.venue, self.symbol), encode_state(state, self._next(), time.time()))
        await self.nc.flush()

    def snapshot(self) -> bytes:
        return encode_book(FrameKind.SNAPSHOT, BookState.LIVE, self.seq, time.time(),
                           sorted(self.bids.items()), sorted(self.asks.items()))

    async def store(self) -> None:
        kv = await self.nc.jetstream().key_value(subjects.SNAPSHOT_BUCKET)
        await kv.put(subjects.book_key(self.venue, self.symbol), self.snapshot())

    async def answer_requests(self) -> None:
        async def reply(msg: Msg) -> None:
            await msg.respond(self.snapshot())
        await self.nc.subscribe(subjects.snapshot_request_subject(self.venue, self.symbol), cb=reply)

    async def heartbeat(self, status: BookState = BookState.LIVE) -> None:
        beat = {"process": self.process, "ts": time.time(), "books": [[self.venue, self.symbol, self.seq, status.value]]}
        await self.nc.publish(subjects.heartbeat_subject(self.process), orjson.dumps(beat))
        await self.nc.flush()
