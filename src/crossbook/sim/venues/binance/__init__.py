"""Simulated Binance spot, USD-M and COIN-M.

Market data: the combined stream with SUBSCRIBE, ``depthUpdate`` events with ``U``/``u`` (and
``pu`` on futures), ``aggTrade``, the REST depth snapshot with ``lastUpdateId`` and ``exchangeInfo``.
Spot trading, as ccxt calls it: ``/api/v3/account``, ``order`` (create, cancel, fetch; LIMIT,
LIMIT_MAKER, MARKET, STOP_LOSS(_LIMIT), TAKE_PROFIT(_LIMIT), iceberg), ``order/cancelReplace``
(ccxt's ``edit_order``: a new order id), ``openOrders``, ``myTrades``, ``/sapi/v1/asset/tradeFee``,
OCO order lists (``orderList/oco``, legacy ``order/oco``, ``orderList``, ``openOrderList``),
sub-account transfers (``/sapi/v1/sub-account/universalTransfer`` POST and history,
``transfer/subToMaster``; a sub-account is an engine account opened with ``parent=``, named by
its email), signed with HMAC-SHA256 over the query and form body, ``X-MBX-APIKEY``,
``timestamp`` within ``recvWindow``; errors in Binance's own codes. The spot private stream is the
WebSocket API's (``/ws-api/v3``, ``userDataStream.subscribe.signature``; the spot listenKey was
discontinued on 2026-02-20): ``executionReport`` events wrapped in ``{"subscriptionId", "event"}``.
USD-M perpetuals trade too (``BinanceUsdmSim``: orders, modify in place, positions, leverage,
margin and position modes, ``premiumIndex`` funding, the listenKey stream of
``ORDER_TRADE_UPDATE``), and so do COIN-M perpetuals on ``/dapi`` (``BinanceCoinmSim``).
"""

from __future__ import annotations

from ...server import SimVenue
from .accounts import BinanceSpotSim
from .futures import BinanceCoinmSim, BinanceUsdmSim
from .options import BinanceOptionsSim
from .public import BinancePublic
from .trading import BinanceTrading

SIMS: dict[str, type[SimVenue]] = {
    "binance": BinanceSpotSim,
    "binanceusdm": BinanceUsdmSim,
    "binancecoinm": BinanceCoinmSim,
    "binanceoptions": BinanceOptionsSim,
}

__all__ = ["SIMS", "BinanceCoinmSim", "BinanceOptionsSim", "BinancePublic", "BinanceSpotSim", "BinanceTrading", "BinanceUsdmSim"]
