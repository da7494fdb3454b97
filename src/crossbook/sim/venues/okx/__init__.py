"""Simulated OKX v5 public market data: /ws/v5/public with ``books`` (a 400-level window: levels
that enter it are sent, levels that leave it are sent as deletes) and ``trades``, ``seqId`` /
``prevSeqId`` per instrument, signed CRC32 checksums over the strings sent, text ping/pong, and
REST /api/v5/public/instruments and /api/v5/market/books (with ``seqId``).

``inband_snapshot`` chooses the protocol: True sends the ``snapshot`` action on subscribe (OKX as
documented); False sends updates only, as OKX announced, so a client must sync from REST.

Sizes are OKX's: base currency on SPOT, contracts on SWAP. A linear contract is ``ctVal`` base
units; on inverse SWAPs (ctVal in USD) one ladder lot is one contract.

Spot and SWAP trading, as an unmodified ccxt client calls it: ``/api/v5/asset/currencies``,
``/account/balance``, ``/account/trade-fee``, ``/trade/batch-orders`` and ``/trade/order`` (limit,
market, post_only, ioc, fok; ``tgtCcy`` on market orders), ``/trade/cancel-order`` and
``/trade/cancel-batch-orders``, ``/trade/order``, ``/trade/orders-pending``,
``/trade/orders-history``, ``/trade/fills`` and ``/trade/fills-history``. Requests are signed as OKX
signs them: base64 HMAC-SHA256 of timestamp + METHOD + path?query + body, in the ``OK-ACCESS-*``
headers with the key, the passphrase and an ISO 8601 timestamp within 30 s of the venue's clock.
Answers are the ``{"code", "msg", "data"}`` envelope with OKX's codes; a place or cancel reports
each order's own ``sCode``. As on OKX, a post-only order that would take is accepted and canceled
at once (``cancelSource`` 31) and IOC / FOK remainders end ``canceled``. Fees are the engine's,
charged in the quote currency, except a spot buy's, charged in the base currency it receives.

SWAP trading is a unified account at acctLv 2 (single-currency margin): ``/account/config``,
``/account/set-position-mode`` (net_mode or long_short_mode, where ``posSide`` long/short is
required), ``/account/set-leverage``, ``/account/positions``; orders in contracts (``sz`` x ctVal,
converted exactly to the engine's ladder lots, else 51121) with ``tdMode`` cross or isolated (the
engine keeps one margin mode per instrument), ``reduceOnly`` and one ``attachAlgoOrds`` entry whose
``tpTriggerPx`` / ``slTriggerPx`` become the engine's take-profit / stop-loss children: they arm when
the entry fills, execute at market (``tpOrdPx`` / ``slOrdPx`` -1 only) when a trade crosses them,
and either one firing cancels the other. ``/trade/orders-algo-pending`` and ``-history`` list them
as OKX does, one ``oco`` (or ``conditional``) algo order per entry, ``effective`` once one fired. Spot orders
take the same ``attachAlgoOrds`` entry (OKX's spot TP/SL), held and fired alike.

``/trade/amend-order`` (spot and SWAP) changes ``newSz`` (the new total, in contracts on SWAP) and
/ or ``newPx`` of a live order, which keeps its ``ordId`` and ``clOrdId``; ``reqId`` is echoed and
``cxlOnFail`` cancels the order when the amend fails (51502 funds, 51511 post-only would take,
51503 / 51509 / 51510 no such, canceled or completed order). ``MatchingEngine.amend`` does it in
place: a size decrease keeps the queue place, any other change goes to the back of its price
level, filling at once if it now crosses.

``/public/funding-rate`` serves a SWAP's funding as a constant 0.0001 settled at the next 8-hour
boundary (``fundingTime``, ``nextFundingTime`` 8 h later); no funding is ever charged.
``/asset/transfer`` moves funds between a master account and one of its sub-accounts (``type`` 1
master to ``subAcct``, 2 back; a sub-account's key may not), refused with 58350 when it would
overdraw, 58115 for a stranger; funding (6) and trading (18) are the engine's one balance, so
transfers within one account (``type`` 0) are not served.

The private stream is OKX's /ws/v5/private: ``login`` with apiKey, passphrase, a Unix-seconds
timestamp within 30 s and sign = base64 HMAC-SHA256 of timestamp + "GET" + "/users/self/verify"
(failures are OKX's 60xxx ``error`` events), text ping/pong, and the ``orders`` channel (instType
SPOT / SWAP / ANY, optional instId) whose rows are the REST order plus the fill that caused the push
(``fillSz``, ``fillPx``, ``tradeId``, ``fillFee`` negative when charged, ``fillFeeCcy``,
``execType``). There is no separate fills channel: ccxt.pro's watch_my_trades reads these rows.
"""

from __future__ import annotations

from ...server import SimVenue
from .options import OkxOptionsSim
from .public import OkxPublic
from .records import OkxRecords
from .stream import OkxSim
from .trading import OkxTrading
from .wire import sign

SIMS: dict[str, type[SimVenue]] = {"okx": OkxSim, "okxoptions": OkxOptionsSim}

__all__ = ["SIMS", "OkxOptionsSim", "OkxPublic", "OkxRecords", "OkxSim", "OkxTrading", "sign"]
