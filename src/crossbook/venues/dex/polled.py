"""A book kept by reading its on-chain venue on a timer: a pool's state, a 1inch quote ladder."""

from __future__ import annotations

import asyncio
import contextlib

from web3.exceptions import Web3Exception

from ...book.l2 import L2Book
from ...errors import CrossbookError

# what an unreachable RPC or API raises: the book is left to go STALE and the next read may work
READ_ERRORS = (TimeoutError, CrossbookError, Web3Exception, OSError)


class PolledBook:
    """``start`` reads once and then every ``poll`` seconds (``poll_once``) until ``stop``; a read
    that fails is counted in ``errors``."""

    book: L2Book
    poll: float
    errors: int
    _task: asyncio.Task[None] | None

    async def refresh(self) -> bool:
        """Read the venue once; True when the book changed."""
        raise NotImplementedError

    async def poll_once(self) -> None:
        await self.refresh()

    async def start(self) -> None:
        await self.refresh()
        self._task = asyncio.create_task(self._follow(), name=f"{type(self).__name__}-{self.book.venue}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _follow(self) -> None:
        while True:
            await asyncio.sleep(self.poll)
            try:
                await self.poll_once()
            except READ_ERRORS:
                self.errors += 1
