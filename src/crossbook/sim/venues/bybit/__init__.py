"""Simulated Bybit v5 public market data for spot, linear and inverse: ``orderbook.{depth}.{symbol}``
snapshots and deltas with ``u`` (per topic, +1 per message) and ``seq`` (a cross sequence per
symbol that jumps), ``publicTrade.{symbol}``, op acks and pongs in each category's own shape, and
``/v5/market/instruments-info`` with the v5 envelope.

Each book topic is a window of the top ``depth`` levels that Bybit maintains itself: a delta
carries every level that changed inside the window, a size-0 delete for each level that left it
and an insert for each level that entered it.

Spot trading as a unified trading account (UTA 2.0), as ccxt calls it: ``/v5/asset/coin/query-info``,
the account discovery (``/v5/user/query-api``, ``/v5/account/info``), ``/v5/account/wallet-balance``,
``/v5/order/create``, ``cancel``, ``realtime`` and ``history``, ``/v5/execution/list`` and
``/v5/account/fee-rate``. Linear perpetuals trade the same way on their own server (its own
engine, account and keys), plus positions: ``/v5/position/switch-mode`` (one-way or hedge, with
``positionIdx`` 0, or 1 and 2), ``/v5/account/set-margin-mode`` (the unified account's cross or
isolated), ``/v5/position/set-leverage`` and ``/v5/position/list``; reduce-only, and post-only
that Bybit accepts and then cancels when it would take.

``/v5/order/amend`` (spot and linear) changes ``qty`` (the new total) and / or ``price`` of an open
limit order, which keeps its orderId and orderLinkId, in place (``MatchingEngine.amend``: a size
decrease keeps the queue place, any other change goes to the back, filling at once if it now
crosses; a refused amend (funds, post-only would take) leaves the order as it was).
``/v5/asset/transfer/universal-transfer`` moves a coin between UIDs of one master's family (master
and sub-accounts, ``fromMemberId`` / ``toMemberId``; a sub-account's key only to its master),
refused with 131212 when it would overdraw; UNIFIED and FUND are the engine's one balance, so
inter-transfer between them is not served. Linear serves ``/v5/market/tickers`` with the book's
mid as last, mark and index price and a constant ``fundingRate`` 0.0001 with ``nextFundingTime`` the
next 8-hour boundary (no funding is ever charged). The inverse server serves market data only.

Requests carry ``X-BAPI-API-KEY``, ``-TIMESTAMP``, ``-RECV-WINDOW`` and
``-SIGN``, the hex HMAC-SHA256 of timestamp + key + recv window + (query string | raw JSON body);
answers and errors come in the v5 envelope with Bybit's own ``retCode``s.

The private stream is v5's ``/v5/private`` (spot and linear, each server its own): ``{"op": "auth",
"args": [key, expires, hex HMAC-SHA256(secret, "GET/realtime" + expires)]}`` with expires (ms) still
ahead, refused as ``{"success": false, "ret_msg": ...}`` ("Params Error" for a stale or malformed
expiry, "Request not authorized" for a bad key or signature); ``ping`` answered by the private
``{"op": "pong", "args": [ms]}``; the ``order`` and ``execution`` topics (all-in-one or
categorised, e.g. ``order.spot``) push ``{"id", "topic", "creationTime", "data": [...]}`` rows in
the fields of ``/v5/order/realtime`` and ``/v5/execution/list`` plus ``category``.
"""

from __future__ import annotations

from ...server import SimVenue
from .derivatives import BybitInverseSim, BybitLinearSim
from .options import BybitOptionSim
from .public import BybitPublic
from .records import BybitRecords
from .stream import BybitSpotSim
from .trading import BybitTrading
from .wire import sign

SIMS: dict[str, type[SimVenue]] = {
    "bybit": BybitSpotSim,
    "bybitlinear": BybitLinearSim,
    "bybitinverse": BybitInverseSim,
    "bybitoption": BybitOptionSim,
}

__all__ = [
    "SIMS", "BybitInverseSim", "BybitLinearSim", "BybitOptionSim", "BybitPublic",
    "BybitRecords", "BybitSpotSim", "BybitTrading", "sign",
]
