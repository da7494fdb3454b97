"""Simulated Gate v4: spot market data and trading, USDT perpetual market data and trading. Spot: ``/ws/v4/``
with ``spot.order_book_update`` (100 ms, the top-100 window, ``U``/``u`` update ids, an occasional
``full: true`` push), ``spot.trades``, ``spot.ping`` -> ``spot.pong``; REST
``/api/v4/spot/order_book?with_id=true`` (``id``, at most 100 levels) and ``/api/v4/spot/currency_pairs``.
Tickers and candles on both sockets (``spot.``/``futures.tickers`` and ``candlesticks``): streams.py.

Like the venue, the stream is a diff of the 100-level window: a level pushed out of the window is
sent with amount "0", a level that moves up into it is sent as new. The update id counts every
book change, inside the window or not, and each message covers the ids since the last message, so
a change that leaves the window as it was moves the id without a message.

Spot trading, as ccxt calls it: public ``/spot/currencies`` and ``/margin/currency_pairs`` (empty:
no margin is simulated); signed ``/account/detail`` (a classic account, key mode 1),
``/spot/accounts``, ``/spot/orders`` (create, get, cancel, list), ``/spot/open_orders``,
``/spot/my_trades``, ``/spot/price_orders`` (price-triggered limit orders), ``/wallet/fee``, and
the amend ``PATCH /spot/orders/{order_id}`` (amount and/or price from the body or, as ccxt sends
them, the query; the order keeps its id, and its queue place only when just its amount is cut).

USDT perpetuals (``gateswap``), as ccxt calls them: public ``/futures/usdt/contracts[/{contract}]``
(with ``funding_rate`` from the premium, ``funding_interval`` 28800 and ``funding_next_apply`` the
next 8-hour boundary, mark and index of ``sim/perp_prices.py``: the engine settles no funding), signed
``/futures/usdt/accounts``, ``/futures/usdt/orders`` (``size`` in whole contracts, negative to
sell, ``price`` "0" with ``tif`` ioc for a market order, ``reduce_only``, ``close``), get, cancel and
amend (``PUT``, a new signed total ``size`` and/or ``price``) by ``{order_id}`` or ``t-`` text,
``/positions[/{contract}]``, ``/positions/{contract}/leverage`` (``leverage`` 0 is cross at
``cross_leverage_limit``) and ``/dual_mode`` (dual mode: a buy opens the long, a reduce-only buy
closes the short), ``my_trades_timerange``. Not simulated there: price-triggered futures orders,
``/dual_comp`` endpoints, liquidation and risk limits.
Requests carry ``KEY``, ``Timestamp`` (seconds, within 60 s of the server) and ``SIGN``, the hex
HMAC-SHA512 of ``METHOD
path
query
hex(SHA512(body))
Timestamp`` with the query as sent but
not URL-encoded. Errors are bare ``{"label", "message"}`` bodies with a 4xx status. As on Gate, a
market buy's ``amount`` is the quote currency to spend; every other amount is base currency.

The private channels share ``/ws/v4/`` with market data, as on Gate: ``spot.orders`` and
``spot.usertrades`` (a pair or ``!all``), each subscribe carrying ``auth`` ``{"method": "api_key",
"KEY", "SIGN"}`` with SIGN the hex HMAC-SHA512 of ``channel=<channel>&event=<event>&time=<time>``
and ``time`` (seconds) within 60 s; a refusal is error code 4 whose message is the auth service's
REST body (``INVALID_KEY``, ``INVALID_SIGNATURE``, ``REQUEST_EXPIRED``, ``MISSING_REQUIRED_HEADER``).
Order pushes carry the REST order's fields with ``event`` put/update/finish and ``user``; user
trades the REST trade's with ``user_id``. Price orders' ``spot.priceorders`` is not simulated.
"""

from __future__ import annotations

from ...server import SimVenue
from .public import GatePublic
from .records import GateRecords
from .stream import GateSpotSim
from .swap import GateSwapSim
from .trading import GateTrading
from .wallet import GateWalletSim
from .wire import FUNDING_INTERVAL, gate_signature

SIMS: dict[str, type[SimVenue]] = {
    "gate": GateWalletSim,
    "gateswap": GateSwapSim,
}

__all__ = [
    "FUNDING_INTERVAL", "SIMS", "GatePublic", "GateRecords", "GateSpotSim", "GateSwapSim", "GateTrading", "GateWalletSim",
    "gate_signature",
]
