"""OKX's wire vocabulary for the simulator: constants, codes, order and fill JSON helpers, signing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from aiohttp import web

from ....model import (
    MarginMode,
    OrderStatus,
    OrderType,
    PositionSide,
    Side,
    TimeInForce,
)
from ...access import ApiKey
from ...engine import Account, SimOrder
from ...server import json_response
from ...withdrawals import Network, networks_of
from .errors import okx_error

DEPTH = 400


CHECKSUM_DEPTH = 25


CHANNELS = ("books", "trades")


INST_TYPES = ("SPOT", "MARGIN", "SWAP", "FUTURES", "OPTION", "EVENTS", "ANY")  # the orders channel's instType


# SWAP contract specs: standard symbol -> (ctVal, ctValCcy, decimals of one ladder lot in contracts)
CONTRACTS: dict[str, tuple[str, str, int]] = {
    "BTC-USDT-PERP": ("0.01", "BTC", 1),  # ladder lot 0.001 BTC = 0.1 contract
    "ETH-USDT-PERP": ("0.1", "ETH", 1),  # ladder lot 0.01 ETH = 0.1 contract
    "BTC-USD-PERP": ("100", "USD", 0),
    "ETH-USD-PERP": ("10", "USD", 0),
}


Level = list[str]


View = dict[int, int]  # ticks -> lots inside the 400-level window


def _trim(text: str) -> str:
    """OKX writes numbers without trailing zeros: 60000.10 -> 60000.1, 2.000 -> 2."""
    return text.rstrip("0").rstrip(".") if "." in text else text


def _now_ms() -> int:
    return int(time.time() * 1000)


Handler = Callable[[web.Request], Awaitable[web.Response]]


Private = Callable[[ApiKey, Any], Awaitable[web.Response]]  # GET: the query; POST: the JSON body


TIME_WINDOW = 30.0  # seconds OK-ACCESS-TIMESTAMP may differ from OKX's clock (50102 beyond)


MAX_BATCH = 20


PAGE = 100  # OKX's default and largest page of orders or fills


CL_ORD_ID = re.compile(r"[A-Za-z0-9]{1,32}")


TAG = re.compile(r"[A-Za-z0-9]{1,16}")


AUTH_HEADERS = (
    ("OK-ACCESS-KEY", "50103"),
    ("OK-ACCESS-PASSPHRASE", "50104"),
    ("OK-ACCESS-SIGN", "50106"),
    ("OK-ACCESS-TIMESTAMP", "50107"),
)


# ordType -> (engine type, time in force, post-only)
ORD_TYPES: dict[str, tuple[OrderType, TimeInForce, bool]] = {
    "limit": (OrderType.LIMIT, TimeInForce.GTC, False),
    "post_only": (OrderType.LIMIT, TimeInForce.GTC, True),
    "ioc": (OrderType.LIMIT, TimeInForce.IOC, False),
    "fok": (OrderType.LIMIT, TimeInForce.FOK, False),
    "market": (OrderType.MARKET, TimeInForce.GTC, False),
}


STATES = {
    OrderStatus.OPEN: "live",
    OrderStatus.PARTIALLY_FILLED: "partially_filled",
    OrderStatus.FILLED: "filled",
    OrderStatus.CANCELED: "canceled",
    OrderStatus.EXPIRED: "canceled",
    OrderStatus.REJECTED: "canceled",
}


CANCEL_SOURCES = {
    "0": "Order canceled by system",
    "1": "Order canceled by user",
    "13": "Order canceled: FOK order was canceled due to incompletely filled.",
    "14": "Order canceled: IOC order was partially canceled due to incompletely filled.",
    "31": "The post-only order will take liquidity in maker orders",
}


SETTINGS_BLOCKED = "Settings failed. Close any open positions or orders before modifying settings."


POS_MODES = {"long_short_mode": True, "net_mode": False}


TD_MODES = {"cross": MarginMode.CROSS, "isolated": MarginMode.ISOLATED}


POS_SIDES = {"long": PositionSide.LONG, "short": PositionSide.SHORT, "net": PositionSide.BOTH, "": PositionSide.BOTH}



WALLETS = ("6", "18")  # funding and trading account: one engine balance serves both


# the simulator's withdrawal networks as OKX names them in a chain id "CCY-Network", and currency names
CHAINS = {"BTC": "Bitcoin", "ETH": "ERC20", "TRX": "TRC20", "SOL": "Solana"}
NAMES = {"BTC": "Bitcoin", "ETH": "Ethereum", "SOL": "Solana", "USDT": "Tether", "USDC": "USD Coin"}


ORDER_BLANKS: dict[str, Any] = {
    "ccy": "", "pxUsd": "", "pxVol": "", "pxType": "", "pnl": "0", "posSide": "", "tdMode": "cash",
    "stpId": "", "stpMode": "cancel_maker", "lever": "", "attachAlgoClOrdId": "", "tpTriggerPx": "",
    "tpTriggerPxType": "", "tpOrdPx": "", "slTriggerPx": "", "slTriggerPxType": "", "slOrdPx": "",
    "attachAlgoOrds": [], "linkedAlgoOrd": {"algoId": ""}, "rebate": "0", "source": "", "category": "normal",
    "reduceOnly": "false", "isTpLimit": "false", "quickMgnType": "", "algoClOrdId": "", "algoId": "",
}


FILL_BLANKS: dict[str, Any] = {
    "fillIdxPx": "", "fillPnl": "0", "fillPxVol": "", "fillPxUsd": "", "fillMarkVol": "", "fillFwdPx": "",
    "fillMarkPx": "", "posSide": "net",
}


BALANCE_BLANKS: dict[str, Any] = {
    "availEq": "", "disEq": "", "eqUsd": "", "fixedBal": "0", "imr": "", "isoEq": "", "liab": "", "maxLoan": "",
    "mgnRatio": "", "notionalLever": "", "spotInUseAmt": "", "stgyEq": "0", "twap": "0", "upl": "", "uplLiab": "",
}


@dataclass(frozen=True, slots=True)
class Placement:
    """What a place request said that the engine does not keep."""

    cl_ord_id: str  # "" when the client sent none
    tag: str
    tgt_ccy: str  # market orders only
    quote_sz: str | None = None  # sz as sent, for a market order sized in the quote currency


NO_PLACEMENT = Placement("", "", "")


@dataclass(frozen=True, slots=True)
class Contract:
    """What a SWAP place request adds: margin mode, position side, reduce-only."""

    margin: MarginMode
    position_side: PositionSide
    reduce_only: bool


@dataclass(frozen=True, slots=True)
class Ticket:
    """One checked place request, in the engine's terms."""

    symbol: str
    side: Side
    kind: OrderType
    tif: TimeInForce
    post_only: bool
    amount: Decimal  # base units (the ladder's)
    price: Decimal | None
    placement: Placement
    contract: Contract | None = None  # SWAP orders only
    take_profit: Decimal | None = None  # attachAlgoOrds: the triggers of one attached TP/SL
    stop_loss: Decimal | None = None


def sign(secret: str, prehash: bytes) -> str:
    """OK-ACCESS-SIGN: base64 of HMAC-SHA256 keyed with the secret as text."""
    return base64.b64encode(hmac.new(secret.encode(), prehash, hashlib.sha256).digest()).decode()


def okx_time(text: str) -> float | None:
    """The epoch seconds of an OK-ACCESS-TIMESTAMP such as ``2020-12-08T09:08:57.715Z``."""
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC).timestamp()
    except ValueError:
        return None


def envelope(data: list[Any]) -> web.Response:
    return json_response({"code": "0", "msg": "", "data": data})


def operations(entries: list[dict[str, Any]]) -> web.Response:
    """A place or cancel answer: code 0 when every order succeeded, 1 when none did, 2 between."""
    failed = sum(entry["sCode"] != "0" for entry in entries)
    code, msg = "0", ""
    if failed == len(entries):
        code, msg = "1", "All operations failed"
    elif failed:
        code, msg = "2", "Bulk operation partially succeeded."
    now = str(int(time.time() * 1_000_000))
    return json_response({"code": code, "msg": msg, "data": entries, "inTime": now, "outTime": now})


def num(value: Decimal) -> str:
    return _trim(f"{value:f}")


def fee_text(fee: Decimal) -> str:
    """OKX reports a fee charged as a negative number."""
    return num(-fee) if fee else "0"


def ms_text(seconds: float) -> str:
    return str(int(seconds * 1000))


def ord_type(order: SimOrder) -> str:
    if order.post_only:
        return "post_only"
    if order.price is None:  # a market order, or a TP/SL that triggered and went to market
        return "market"
    return {TimeInForce.GTC: "limit", TimeInForce.IOC: "ioc", TimeInForce.FOK: "fok"}[order.tif]


def require(params: dict[str, Any], name: str) -> str:
    value = params.get(name)
    if value in (None, ""):
        raise okx_error("50014", f"Parameter {name} can not be empty.", 400)
    return str(value)


def positive(params: dict[str, Any], name: str) -> Decimal:
    text = require(params, name)
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise okx_error("51000", f"Parameter {name} error", 400) from None
    if not value.is_finite() or value <= 0:
        raise okx_error("51000", f"Parameter {name} error", 400)
    return value


def whole(params: dict[str, Any], name: str) -> int | None:
    text = params.get(name)
    if text in (None, ""):
        return None
    try:
        return int(text)
    except ValueError:
        raise okx_error("51000", f"Parameter {name} error", 400) from None


Row = dict[str, Any]


def select(rows: list[Row], params: dict[str, Any], fields: tuple[str, ...], stamp: str, cursor: str) -> list[Row]:
    """OKX's list parameters: exact ``fields``, ``begin``/``end`` on the ``stamp`` field (ms),
    ``after``/``before`` on the ``cursor`` id; newest first, at most ``limit`` (100)."""
    begin, end, after, before = (whole(params, n) for n in ("begin", "end", "after", "before"))
    kept = [
        row for row in rows
        if all(params.get(f) in (None, "", row[f]) for f in fields)
        and (begin is None or int(row[stamp]) >= begin)
        and (end is None or int(row[stamp]) <= end)
        and (after is None or int(row[cursor]) < after)
        and (before is None or int(row[cursor]) > before)
    ]
    kept.sort(key=lambda row: int(row[cursor]), reverse=True)
    return kept[: min(PAGE, whole(params, "limit") or PAGE)]


def balance_detail(account: Account, ccy: str, now: str) -> dict[str, Any]:
    """One currency of a spot-mode trading account: no margin, so equity is the cash balance."""
    cash = num(account.balances.get(ccy, Decimal(0)))
    frozen = num(account.locked.get(ccy, Decimal(0)))
    return {**BALANCE_BLANKS, "ccy": ccy, "eq": cash, "cashBal": cash, "availBal": num(account.available(ccy)),
            "frozenBal": frozen, "ordFrozen": frozen, "uTime": now}


def algo_id(entry: SimOrder) -> str:
    """The id of an entry's attached TP/SL, apart from the engine's order ids."""
    return str(8_000_000_000 + int(entry.order_id))


def pos_side_text(side: PositionSide) -> str:
    return "net" if side is PositionSide.BOTH else side.value


def chain_of(asset: str, network: Network | str) -> str:
    name = network.name if isinstance(network, Network) else network
    return f"{asset}-{CHAINS.get(name, name)}"


def network_of(asset: str, chain: str) -> str | None:
    """The simulator's network an OKX ``chain`` names (``BTC-Bitcoin`` -> BTC); None: not one of its."""
    for candidate in networks_of(asset):
        if chain_of(asset, candidate) == chain:
            return candidate.name
    return None


def currency_rows(ccy: str) -> list[dict[str, Any]]:
    """``/asset/currencies`` rows of ``ccy``: one per chain it withdraws on."""
    return [{
        "ccy": ccy, "name": NAMES.get(ccy, ccy), "chain": chain_of(ccy, n), "logoLink": "", "ctAddr": "",
        "canDep": True, "canWd": True, "canInternal": True, "depEstOpenTime": "", "wdEstOpenTime": "",
        "minDep": "0.00000001", "minWd": num(n.minimum), "maxWd": "10000000", "wdTickSz": "8", "wdQuota": "10000000",
        "usedWdQuota": "0", "fee": num(n.fee), "minFee": num(n.fee), "maxFee": num(n.fee), "mainNet": n.default,
        "needTag": False, "minDepArrivalConfirm": "1", "minWdUnlockConfirm": "2",
    } for n in networks_of(ccy)]


def _diff(old: View, new: View) -> list[tuple[int, int]]:
    """Levels whose size changed, entered or (as size 0) left the window."""
    out = [(p, q) for p, q in new.items() if old.get(p) != q]
    out.extend((p, 0) for p in old if p not in new)
    return out
