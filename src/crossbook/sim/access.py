"""API keys the simulated venues issue, and the ccxt configuration that points an unmodified ccxt
client at a simulated venue."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import ccxt
import ccxt.pro

READ_TRADE = frozenset({"read", "trade"})
RIGHTS = frozenset({"read", "trade", "transfer", "withdraw"})  # what a simulated key may be allowed


@dataclass(frozen=True)
class ApiKey:
    """A simulated venue's API key: its ``permissions`` (of ``RIGHTS``), the addresses it is bound
    to (``ips``; none: any), when it was made and when it expires, all reported by the venue's
    key-information endpoint; orders and withdrawals check ``permissions``."""

    key: str
    secret: str = field(repr=False)
    account: str
    passphrase: str | None = field(default=None, repr=False)
    permissions: frozenset[str] = READ_TRADE
    ips: tuple[str, ...] = ()
    created: float = field(default_factory=time.time)
    expires: float | None = None

    def may(self, right: str) -> bool:
        """Whether the key holds ``right`` ("read", "trade", "transfer", "withdraw")."""
        return right in self.permissions


def new_key(account: str, *, passphrase: bool = False, permissions: frozenset[str] = READ_TRADE) -> ApiKey:
    return ApiKey(
        key=secrets.token_hex(16),
        secret=secrets.token_hex(32),
        account=account,
        passphrase=secrets.token_urlsafe(12) if passphrase else None,
        permissions=permissions,
    )


def ccxt_urls(ccxt_id: str, hosts: dict[str, str], ws_fallback: str) -> dict[str, Any]:
    """ccxt's own ``urls['api']`` for ``ccxt_id`` (ccxt.pro's, with its WebSocket URLs, where it
    has the exchange) with each production base (``https://host``, ``wss://host``) replaced by a
    simulator's base URL, paths kept. Any other WebSocket URL goes to ``ws_fallback`` (path kept),
    so a ccxt.pro client built from it never leaves the simulator."""
    exchange = getattr(ccxt.pro, ccxt_id, None) or getattr(ccxt, ccxt_id)
    return {"api": _rewrite(exchange().urls["api"], hosts, ws_fallback)}


def _rewrite(node: Any, hosts: dict[str, str], ws_fallback: str) -> Any:
    if isinstance(node, dict):
        return {k: _rewrite(v, hosts, ws_fallback) for k, v in node.items()}
    if isinstance(node, str):
        for prod, sim in hosts.items():
            if node.startswith(prod):
                return sim + node[len(prod):]
        if node.startswith("wss://"):
            return ws_fallback + "/" + node[len("wss://"):].partition("/")[2]
    return node


UNSIMULATED = "/_crossbook/unsimulated/"  # where a ccxt URL the simulator does not serve is sent


def confined(config: dict[str, Any], rest_url: str, ws_url: str) -> dict[str, Any]:
    """``config``, a ccxt configuration of the simulator at ``rest_url`` and ``ws_url``, with every
    URL of its ``urls['api']`` that is not the simulator's sent to ``rest_url`` + UNSIMULATED + the
    URL's host and path. The simulator answers 404 there: a call ccxt makes to an API the simulator
    does not serve (Binance's fapi on the spot simulator) fails on 127.0.0.1, naming the host it
    was meant for, instead of reaching the venue itself with a simulator's key."""
    urls = dict(config.get("urls") or {})
    urls["api"] = _confine(urls.get("api") or {}, (rest_url, ws_url), rest_url)
    return {**config, "urls": urls}


def _confine(node: Any, local: tuple[str, ...], fallback: str) -> Any:
    if isinstance(node, dict):
        return {k: _confine(v, local, fallback) for k, v in node.items()}
    if isinstance(node, list):
        return [_confine(v, local, fallback) for v in node]
    if isinstance(node, str) and "://" in node and not any(_at(node, base) for base in local):
        parts = urlsplit(node)
        return fallback + UNSIMULATED + parts.netloc + parts.path
    return node


def _at(url: str, base: str) -> bool:
    return url == base or url.startswith((base + "/", base + "?"))
