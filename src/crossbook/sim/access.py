"""API keys the simulated venues issue, and the ccxt configuration that points an unmodified ccxt
client at a simulated venue."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

import ccxt

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


def ccxt_urls(ccxt_id: str, hosts: dict[str, str]) -> dict[str, Any]:
    """ccxt's own ``urls['api']`` for ``ccxt_id`` with each production base (``https://host``)
    replaced by a simulator's base URL, paths kept."""
    api = getattr(ccxt, ccxt_id)().urls["api"]
    return {"api": _rewrite(api, hosts)}


def _rewrite(node: Any, hosts: dict[str, str]) -> Any:
    if isinstance(node, dict):
        return {k: _rewrite(v, hosts) for k, v in node.items()}
    if isinstance(node, str):
        for prod, sim in hosts.items():
            if node.startswith(prod):
                return sim + node[len(prod):]
    return node
