"""Simulated Kraken spot: market data on WebSocket v2 at /v2 (``book`` with depth windows and CRC32
checksums, ``trade``, ``ping``, ``heartbeat``, ``status``), public REST, and trading through REST.

Prices and quantities go out as JSON numbers at full precision ("qty":0.50000000), as Kraken prints
them, so the frames are written as text rather than through a JSON encoder that would shorten them.
A subscriber's book is the top ``depth`` levels: an update carries the levels that changed or
entered that window and deletes for levels removed from the book, but nothing for a level pushed
out of the window by a better one (the client truncates).

REST: public ``Assets``, ``AssetPairs`` and ``Depth``; spot trading as an unmodified ccxt client calls
it, on ``/0/private/*`` with form bodies: ``Balance``, ``BalanceEx``, ``TradeVolume``, ``AddOrder``
(market, limit, iceberg, stop-loss, stop-loss-limit; ``oflags=post``; ``timeinforce`` GTC or IOC;
``validate``), ``AmendOrder`` (ccxt's edit_order: ``order_qty`` and ``limit_price`` of an open limit
order changed in place, the txid kept, queue priority kept only by a shrink at the same price; an
``amended`` execution report on the stream), ``CancelOrder``, ``CancelAll``, ``QueryOrders``, ``OpenOrders``, ``ClosedOrders`` and
``TradesHistory`` (taker fills of one order consolidated, as Kraken's ``consolidate_taker``
default). Every answer is the ``{"error": [...], "result": ...}`` envelope with HTTP 200. A private
request carries ``API-Key`` and ``API-Sign`` = base64 HMAC-SHA512, keyed with the base64-decoded
secret, of the URI path + SHA256(nonce + POST body); the ``nonce`` must exceed the last one the key
used. As on Kraken, a signature that does not match the body answers "EAPI:Invalid key", and a
post-only order that would take is accepted and then canceled ("Post only order"). Orders and
trades get Kraken-shaped txids (``OUF4EM-FRGI2-MQMWZD``). Fees are the engine's rates, in the
currency the engine charges (``oflags`` says which: ``fciq`` quote, ``fcib`` base).

Private stream (WebSocket v2 ``executions``, as ccxt.pro's watch_orders and watch_my_trades follow
it): ``GetWebSocketsToken`` (signed like every private method) issues a token for the key's account,
to be used within 900 s and valid for good once used. The ws-auth socket is ``/ws-auth/v2`` here
(``/v2`` serves market data); it greets with ``status``, answers ``ping``, and a subscribe to
``executions`` with an issued token is acked and followed by a ``snapshot`` (open orders unless
``snap_orders`` is false, the last 50 fills if ``snap_trades``); any other token gets "ESession:Invalid
session". Then every order event of the account comes as ``update`` messages numbered by
``sequence``, one report each: ``pending_new`` and ``new`` on acceptance, ``trade`` per fill
(``exec_id``, ``trade_id``, ``last_qty``, ``last_price``, ``cost``, ``liquidity_ind``, ``fees``),
``filled`` on the last, ``canceled`` or ``expired``, ``status`` when a stop triggers. Every report
names the order by its txid, ``order_userref`` and ``cl_ord_id`` as placed, and carries its symbol,
side, quantity, limit and the cumulative ``cum_qty``, ``cum_cost``, ``avg_price``.
"""

from __future__ import annotations

from ...server import SimVenue
from .public import KrakenPublic
from .records import KrakenRecords
from .stream import KrakenSpotSim
from .trading import KrakenTrading
from .wallet import KrakenWalletSim
from .wire import api_sign, window_changes

SIMS: dict[str, type[SimVenue]] = {"kraken": KrakenWalletSim}

__all__ = ["SIMS", "KrakenPublic", "KrakenRecords", "KrakenSpotSim", "KrakenTrading", "KrakenWalletSim", "api_sign",
           "window_changes"]
