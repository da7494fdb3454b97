"""One public REST request of a feed (a book snapshot, an instrument list), as a typed outcome.

A request that times out, hangs (the per-request timeout turns a hang into a timeout), fails on
the network, answers a status other than 200 or is refused for the venue's rate limit is not an
exception here: it is a ``Fetch`` without a body that says why and how long the venue asked to
wait, so every caller retries the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp

from ..venues.spec.limits import Breach, Reply


@dataclass(frozen=True, slots=True)
class Fetch:
    body: bytes | None  # the body of a 200 answer; None when the request failed
    error: str = ""  # why it failed
    wait: float | None = None  # seconds the venue asked to wait before the next request
    reply: Reply | None = None  # what the venue answered, if it answered

    @property
    def ok(self) -> bool:
        return self.body is not None


def retry_after(headers: dict[str, str]) -> float | None:
    """The seconds of a ``Retry-After`` header (the delta form; the HTTP-date form is ignored)."""
    raw = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    try:
        return max(0.0, float(raw)) if raw is not None else None
    except ValueError:
        return None


async def fetch(session: aiohttp.ClientSession, url: str, timeout: float, breach: Breach | None = None) -> Fetch:
    """GET ``url`` within ``timeout`` seconds. ``breach``: how the venue signals a rate-limit
    refusal (its SPEC's limit table), for the wait it names."""
    try:
        async with session.get(url, timeout=aiohttp.ClientTimeout(total=timeout)) as resp:
            body = await resp.read()
            status, headers = resp.status, dict(resp.headers)
    except TimeoutError:
        return Fetch(None, f"no answer within {timeout:.0f} s")
    except aiohttp.ClientError as exc:
        return Fetch(None, f"{type(exc).__name__}: {exc}")
    reply = Reply(status, headers, body)
    wait = breach.wait(reply) if breach is not None else None
    if wait is not None:
        return Fetch(None, f"HTTP {status}: refused for the rate limit", wait, reply)
    if status != 200:
        return Fetch(None, f"HTTP {status}", retry_after(headers), reply)
    return Fetch(body, reply=reply)
