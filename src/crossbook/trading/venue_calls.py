"""The account calls ccxt has no unified method for, per venue: an OCO order list and a transfer
between a master account and its sub-accounts. A venue missing here is refused by the Trader
before anything is sent.

These are venue facts and belong in each venue's SPEC as hooks (``venues/spec/hooks.py``); they
sit here until the SPEC carries them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..errors import InvalidOrder
from ..model import Side

MASTER = "main"  # crossbook's name of the account the venue calls the master


@dataclass(frozen=True, slots=True)
class OcoLegs:
    """What an OCO asks the venue for: a limit leg at ``price`` and a stop leg triggered at
    ``stop_price`` (a stop-limit at ``stop_limit`` when given), one amount, each with its
    client order id as the venue reads it."""

    market_id: str
    side: Side
    amount: str
    price: str
    stop_price: str
    stop_limit: str | None
    limit_client_id: str | int
    stop_client_id: str | int


@dataclass(frozen=True, slots=True)
class OcoAck:
    """The venue's ids: the list's and each leg's."""

    list_id: str
    limit_order_id: str
    stop_order_id: str


PlaceOco = Callable[[Any, OcoLegs], Awaitable[OcoAck]]
"""(ccxt client, legs) -> the venue's ids."""

SubAccountTransfer = Callable[[Any, str, Decimal, str, str], Awaitable[str]]
"""(ccxt client of the master, asset, amount, from account, to account) -> the transfer's id."""


async def binance_oco(client: Any, legs: OcoLegs) -> OcoAck:
    """``POST /api/v3/orderList/oco``: the leg above the market and the one below it. A sell takes
    profit above (LIMIT_MAKER) and stops out below; a buy the reverse."""
    stop_type = "STOP_LOSS_LIMIT" if legs.stop_limit is not None else "STOP_LOSS"
    limit = {"Type": "LIMIT_MAKER", "Price": legs.price, "ClientOrderId": legs.limit_client_id}
    stop: dict[str, Any] = {"Type": stop_type, "StopPrice": legs.stop_price, "ClientOrderId": legs.stop_client_id}
    if legs.stop_limit is not None:
        stop.update({"Price": legs.stop_limit, "TimeInForce": "GTC"})
    above, below = (limit, stop) if legs.side is Side.SELL else (stop, limit)
    params: dict[str, Any] = {"symbol": legs.market_id, "side": legs.side.value.upper(), "quantity": legs.amount}
    params.update({f"above{k}": v for k, v in above.items()})
    params.update({f"below{k}": v for k, v in below.items()})
    reply = await client.private_post_orderlist_oco(params)
    by_client = {str(r["clientOrderId"]): str(r["orderId"]) for r in reply["orderReports"]}
    return OcoAck(str(reply["orderListId"]), by_client[str(legs.limit_client_id)], by_client[str(legs.stop_client_id)])


async def binance_transfer(client: Any, asset: str, amount: Decimal, source: str, target: str) -> str:
    """``sub-account/universalTransfer`` with the master's key, SPOT to SPOT; a sub-account is
    named by its email, the master by none."""
    params = {"fromAccountType": "SPOT", "toAccountType": "SPOT", "asset": asset, "amount": format(amount, "f")}
    if source != MASTER:
        params["fromEmail"] = source
    if target != MASTER:
        params["toEmail"] = target
    reply = await client.sapiPostSubAccountUniversalTransfer(params)
    return str(reply["tranId"])


async def okx_transfer(client: Any, asset: str, amount: Decimal, source: str, target: str) -> str:
    """ccxt's transfer() between the master ("master") and one sub-account, funding to funding."""
    if MASTER not in (source, target):
        raise InvalidOrder(f"okx: a transfer goes between the master account and a sub-account, not {source} -> {target}")
    named = {MASTER: "master"}
    reply = await client.transfer(asset, float(amount), named.get(source, source), named.get(target, target))
    return str(reply["id"])


OCO_CALLS: Mapping[str, PlaceOco] = {"binance": binance_oco}
TRANSFER_CALLS: Mapping[str, SubAccountTransfer] = {"binance": binance_transfer, "okx": okx_transfer}
