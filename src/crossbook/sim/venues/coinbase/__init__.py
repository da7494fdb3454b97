"""Simulated Coinbase Advanced Trade.

Market data: the public products endpoint, and the WebSocket with one subscribe per channel
(``level2``, ``market_trades``, ``heartbeats``), ``subscriptions`` acks, an in-band ``l2_data``
snapshot then updates, trades, heartbeats every second, and one ``sequence_num`` counter per
connection across every channel.

Spot trading, as ccxt calls it: the public ``/v2`` currency and exchange-rate lists load_markets
reads, ``/api/v3/brokerage/transaction_summary`` (the fee tier), ``accounts`` (cursor-paginated),
``orders`` (create, with Coinbase's ``order_configuration`` objects and client-id idempotency),
``orders/batch_cancel``, ``orders/historical/{id}``, ``orders/historical/batch``,
``orders/historical/fills``, ``key_permissions``, ``orders/edit`` (ccxt's edit_order: a GTC
limit order's size and price changed in place, the order id kept, queue priority kept only by a
smaller size at the same price; failures as ``success: false`` with ``errors``), and the user's
portfolios (``portfolios``; ``portfolios/move_funds``, ccxt's transfer(): the key's main account is
the DEFAULT portfolio, each engine sub-account under it a CONSUMER one). Keys are CDP keys: the name
``organizations/{org}/apiKeys/{id}`` and an EC P-256 private key in PEM, of which the simulator
keeps only the public half. Every private call carries ``Authorization: Bearer <JWT>``, an ES256
JWT whose signature, ``kid``/``sub`` (the key name), ``iss``, ``nbf``/``exp`` (at most 120 s) and
``uri`` claim (``METHOD host/path``, no query) are checked; any failure is Coinbase's bare
``401 Unauthorized``. Refused orders answer ``success: false`` with Coinbase's ``error_response``.
Fees are charged in the quote currency on both sides, as Coinbase charges them.

Private stream: the ``user`` channel on the Advanced Trade socket ("/", the market-data host
ccxt.pro uses; Coinbase also serves it on advanced-trade-ws-user). The subscribe carries ``jwt``,
checked as on REST (signature, ``kid``/``sub``, issuer, 120 s window) less the ``uri`` claim a
WebSocket JWT has none of; a bad one gets ``{"type": "error", "message": "authentication
failure"}``. A good one gets the ``subscriptions`` ack, a ``snapshot`` of the open orders (50 to a
message), then an ``update`` per order event with the order's cumulative state
(``cumulative_quantity``, ``leaves_quantity``, ``avg_price``, ``total_fees``, ``status``...), all
numbered by the connection's ``sequence_num``. The channel has no fills of its own: a client reads
them over REST.
"""

from __future__ import annotations

from ...server import SimVenue
from .public import CoinbasePublic
from .records import CoinbaseRecords
from .stream import CoinbaseSim
from .trading import CoinbaseTrading
from .wire import es256_valid, num, parse_jwt

SIMS: dict[str, type[SimVenue]] = {
    "coinbase": CoinbaseSim,
}

__all__ = ["SIMS", "CoinbasePublic", "CoinbaseRecords", "CoinbaseSim", "CoinbaseTrading", "es256_valid", "num", "parse_jwt"]
