"""Simulated MEXC spot v3.

Market data: JSON ``SUBSCRIPTION`` / ``UNSUBSCRIPTION`` / ``PING`` on /ws, binary protobuf
``PushDataV3ApiWrapper`` pushes (aggregated depth with ``fromVersion`` / ``toVersion``, aggregated
deals), REST ``/api/v3/depth`` with ``lastUpdateId`` and ``/api/v3/exchangeInfo``.

The protobuf field numbers are written out here from the published schema
(github.com/mexcdevelop/websocket-proto), apart from the client's, so the contract suite checks one
side against the other.

Spot trading, as ccxt calls it: ``/api/v3/account``, ``order`` (create, cancel, query),
``openOrders`` (list, cancel all), ``allOrders``, ``myTrades``, ``tradeFee`` and the wallet's
``capital/config/getall``; the contract list ``/api/v1/contract/detail`` (empty: no swaps here),
which ccxt's load_markets always reads. SIGNED requests carry ``X-MEXC-APIKEY`` and a lowercase hex
HMAC-SHA256 of totalParams (the query string, then the form body, no separator) in ``signature``,
with ``timestamp`` inside ``recvWindow`` (default 5000, at most 60000); errors in MEXC's codes.

Private stream (user data stream): SIGNED ``/api/v3/userDataStream`` POST makes a listenKey (60
minutes, at most 60 per account), PUT keeps it 60 minutes more, DELETE closes it, GET lists them.
A socket opened as ``/ws?listenKey=...`` follows the key's account (an unknown or expired key gets
the bare text ``Invalid listen key`` and the socket closes); there ``SUBSCRIPTION`` of
``spot@private.orders.v3.api.pb`` and ``spot@private.deals.v3.api.pb`` is acked like any stream,
``PING`` (any case) answers ``PONG``, and every order event is pushed as protobuf: a fill's
``privateDeals`` (306) then the order's ``privateOrders`` (304) with its cumulative quantities.
The private stream shares /ws with market data.
"""

from __future__ import annotations

from ...server import SimVenue
from .public import MexcPublic
from .trading import MexcSpotSim
from .wallet import MexcWalletSim
from .wire import native_order_id, sign

SIMS: dict[str, type[SimVenue]] = {
    "mexc": MexcWalletSim,
}

__all__ = ["SIMS", "MexcPublic", "MexcSpotSim", "MexcWalletSim", "native_order_id", "sign"]
