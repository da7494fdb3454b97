"""Shared test helpers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

CAPTURES = Path(__file__).resolve().parents[2] / "shared" / "data" / "captures"


def run(coro: Coroutine[Any, Any, Any], timeout: float = 60.0) -> Any:
    """Run one async test body with a hard bound on its duration."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


async def wait_for(cond: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.1f} s waiting for {what}")
        await asyncio.sleep(0.02)
