"""API keys the simulated venues issue, and the ccxt configuration that points an unmodified ccxt
client at a simulated venue."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

import ccxt
import ccxt.pro

READ_TRADE = frozenset({"read", "trade"})


@dataclass(frozen=True)
class ApiKey:
    key: str
    secret: str = field(repr=False)
    account: str
    passphrase: str | None = field(default=None, repr=False)
    permissions: frozenset[str] = READ_TRADE


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
