"""Simulated Bitget v2 spot and USDT-M futures.

Market data: ``/v2/ws/public`` with ``{"op": "subscribe", "args": [{instType, channel, instId}]}``,
per-arg ``event`` acks and error events, the ``books`` channel (full-depth ``snapshot`` then
``update`` messages, each with ``seq`` and a signed CRC32 over the best 25 levels per side of the
strings sent), ``trade`` (a snapshot of recent trades on subscribe, then updates), text ``ping`` ->
``pong`` with connections dropped after ``ping_timeout`` seconds without a ping, and the instruments
endpoints ``/api/v2/spot/public/symbols`` and ``/api/v2/mix/market/contracts``; for USDT-M futures
the current funding rate, ``/api/v2/mix/market/current-fund-rate`` (a fixed 0.0001 and the next
8-hour boundary). Futures trading (the mix order, position and account endpoints) is not simulated.

Spot trading as ccxt calls it for a classic (non-UTA) account: the public coin list and margin
pairs, the signed ``/api/v3/account/settings`` probe (refused with 40084, which is how ccxt learns
the account is classic), ``/api/v2/spot/account/assets``, ``place-order``, ``cancel-order``,
``orderInfo``, ``unfilled-orders``, ``fills``, ``cancel-replace-order`` (ccxt's ``edit_order``: the
old order canceled, a new one with a new ``orderId``), the plan (trigger) orders and
``/api/v2/common/trade-rate``; on-chain withdrawals, their records and each coin's chain fees and
minimums (wallet.py).
Requests are signed as Bitget signs them: ``ACCESS-SIGN`` = base64 HMAC-SHA256 of
``timestamp + METHOD + path (+ "?" + query) + body`` with ``ACCESS-KEY``, ``ACCESS-TIMESTAMP``
(ms, within 30 s) and ``ACCESS-PASSPHRASE``; every answer is the ``{"code", "msg", "requestTime",
"data"}`` envelope, errors in Bitget's codes. A market buy's ``size`` is quote currency, as on the
venue: it buys what that much quote pays for, taker fee included.

The private stream is ``/v2/ws/private``: ``login`` with apiKey, passphrase, a timestamp in
seconds within 30 s and sign = base64 HMAC-SHA256 of timestamp + "GET" + "/user/verify" (failures
are Bitget's 30xxx ``error`` events, ``code`` a number), text ping/pong, and the spot ``orders`` and
``fill`` channels (instId a symbol or ``default``): ``orders`` rows carry the cumulative
``accBaseVolume`` and the latest fill (``baseVolume``, ``fillPrice``, ``tradeId``, ``fillFee``
negative, ``tradeScope`` T/M), ``fill`` rows one trade (``tradeScope`` taker/maker, ``feeDetail``
with a negative ``totalFee``). Futures' private channels are not simulated.

Faults: ``corrupt`` sends a wrong checksum; ``skip`` loses one update that changes the best 25
levels (its ``seq`` numbers are spent), which the client sees only through the next checksum.
"""

from __future__ import annotations

from ...server import SimVenue
from .futures import BitgetFuturesSim
from .public import BitgetPublic
from .trading import BitgetSpotSim
from .wallet import BitgetWalletSim
from .wire import prehash, signature

SIMS: dict[str, type[SimVenue]] = {
    "bitget": BitgetWalletSim,
    "bitgetfutures": BitgetFuturesSim,
}

__all__ = ["SIMS", "BitgetFuturesSim", "BitgetPublic", "BitgetSpotSim", "BitgetWalletSim", "prehash", "signature"]
