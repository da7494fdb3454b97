"""Simulated KuCoin spot.

Market data: POST /api/v1/bullet-public (token, endpoint, pingInterval), the WebSocket endpoint that
only accepts issued tokens, sends ``welcome``, acks subscriptions, answers ``ping`` with ``pong``
and drops a connection that stays silent past pingInterval + pingTimeout; ``/market/level2``
increments numbered per change (with the price-"0" entries that only consume a number),
``/market/match`` trades, the public /api/v1/market/orderbook/level2_20 and level2_100 snapshots
and /api/v2/symbols; ``/market/snapshot`` and ``/market/candles`` from the tape (streams.py).

Spot trading, as ccxt calls it: the probes load_markets makes when keyed (``/api/ua/v1/account/mode``
answering CLASSIC, ``/api/v1/hf/accounts/opened``, the margin symbol lists, ``/api/v3/currencies``),
``/api/v1/accounts``, the signed full book ``/api/v3/market/orderbook/level2``, ``/api/v1/trade-fees``
and both of KuCoin's spot order families over one matching engine: high-frequency
(``/api/v1/hf/orders...``, ``/api/v1/hf/fills``; what ccxt uses when ``hf/accounts/opened`` says so,
the default here, as for KuCoin's Pro accounts) and classic (``/api/v1/orders``,
``/api/v1/order/client-order``, ``/api/v1/fills``), plus stop orders on ``/api/v1/stop-order``.
ccxt's edit_order is the HF modify ``/api/v1/hf/orders/alter``: a cancel and a new order (new
``orderId``, same ``clientOid``). ccxt's transfer() with ``transferType`` PARENT_TO_SUB or
SUB_TO_PARENT is the flex transfer ``/api/v3/accounts/universal-transfer`` between the master's
TRADE account and a sub-account's (sub-accounts are engine accounts whose parent is the key's; their
``userId`` is ``user_id(name)``).
Every private call is checked as KuCoin checks it: the key, the timestamp within 5 s, the
passphrase sent as base64 HMAC-SHA256(secret, passphrase) (key version 2), and KC-API-SIGN =
base64 HMAC-SHA256(secret, timestamp + method + path?query + body) over the bytes received.
Answers come in the ``{"code": "200000", "data": ...}`` envelope, refusals in KuCoin's codes.

Private stream, as ccxt.pro follows a classic (non-UTA) account: the signed POST
/api/v1/bullet-private issues a token bound to the key's account, with an instance server on
``/endpoint`` (KuCoin's private push endpoint path). That socket only accepts a private token; it
sends ``welcome``, acks subscriptions, answers ``ping`` with ``pong``, drops a silent connection like
the public one, and pushes ``orderChange`` messages on ``/spotMarket/tradeOrders`` (and
``/spotMarket/tradeOrdersV2``, which adds the ``received`` message): ``open`` when an order rests,
``match`` per fill (matchPrice, matchSize, tradeId, liquidity, feeType; status ``open`` for a resting
maker, ``match`` for a taker), ``filled`` or ``canceled`` with status ``done``. Fills carry no fee
(KuCoin's order-change messages have none). Trigger orders' ``/spotMarket/advancedOrders`` is not
served.

Withdrawals, their history and each currency's chain fees and minimums: wallet.py.
"""

from __future__ import annotations

from ...server import SimVenue
from .public import KucoinPublic
from .records import KucoinRecords
from .stream import KucoinSpotSim
from .trading import KucoinTrading
from .wallet import KucoinWalletSim

SIMS: dict[str, type[SimVenue]] = {"kucoin": KucoinWalletSim}

__all__ = ["SIMS", "KucoinPublic", "KucoinRecords", "KucoinSpotSim", "KucoinTrading", "KucoinWalletSim"]
