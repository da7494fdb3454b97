"""Shared test helpers."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any


def _captures() -> Path:
    """The recorded exchange traffic: $CROSSBOOK_CAPTURES, else ../shared/data/captures beside the
    checkout. The capture tests must run, so a missing folder fails."""
    candidates = [Path(os.environ["CROSSBOOK_CAPTURES"])] if "CROSSBOOK_CAPTURES" in os.environ else []
    candidates += [Path(__file__).resolve().parents[2] / "shared" / "data" / "captures"]
    for path in candidates:
        if (path / "OKX.ws.1.0.gz").is_file():
            return path
    raise RuntimeError(f"recorded captures not found in any of {[str(c) for c in candidates]}; set CROSSBOOK_CAPTURES")


CAPTURES = _captures()


def run(coro: Coroutine[Any, Any, Any], timeout: float = 60.0) -> Any:
    """Run one async test body with a hard bound on its duration."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


async def wait_for(cond: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.1f} s waiting for {what}")
        await asyncio.sleep(0.02)
