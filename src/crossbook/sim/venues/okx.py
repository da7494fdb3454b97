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
as OKX does, one ``oco`` (or ``conditional``) algo order per entry, ``effective`` once one fired.

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

import base64
import hashlib
import hmac
import itertools
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

import orjson
from aiohttp import web

from ...book.checksum import crc32_signed, interleaved
from ...model import MarginMode, OrderStatus, OrderType, PositionSide, Side, TimeInForce
from ...symbols import parse_standard
from ..access import ApiKey
from ..engine import Account, Market, OrderEvent, Position, Reject, SimFill, SimOrder
from ..ratelimit import Over, refusal
from ..server import Change, Frame, SimConnection, SimVenue, json_response

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


# ---- trading: OKX's rules, codes and shapes ---------------------------------------------------

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
# engine reject reason -> (sCode, sMsg); {ccy} is the currency that ran short
REJECTS: dict[str, tuple[str, str]] = {
    "insufficient_balance": ("51008", "Order failed. Insufficient {ccy} balance in account."),
    "amount_off_grid": ("51121", "Order quantity must be a multiple of the lot size."),
    "price_off_grid": ("51000", "Parameter px error"),
    "duplicate_client_id": ("51016", "Duplicated clOrdId"),
    "no_liquidity": ("51006", "Order price is not within the price limit"),
    "reduce_only_would_increase": (
        "51169", "Order failed because you don't have any positions in this direction for this contract to reduce or close."
    ),
    "position_side_required": ("51000", "Parameter posSide error"),
    "position_side_in_one_way": ("51000", "Parameter posSide error"),
    "take_profit_off_grid": ("51000", "Parameter tpTriggerPx error"),
    "stop_loss_off_grid": ("51000", "Parameter slTriggerPx error"),
}
SETTINGS_BLOCKED = "Settings failed. Close any open positions or orders before modifying settings."
POS_MODES = {"long_short_mode": True, "net_mode": False}
TD_MODES = {"cross": MarginMode.CROSS, "isolated": MarginMode.ISOLATED}
POS_SIDES = {"long": PositionSide.LONG, "short": PositionSide.SHORT, "net": PositionSide.BOTH, "": PositionSide.BOTH}
CANCEL_FAILED = "Order cancellation failed as the order has been filled, canceled or does not exist."
# engine reject reason -> (sCode, sMsg) of an amend
AMEND_REJECTS: dict[str, tuple[str, str]] = {
    "insufficient_balance": ("51502", "Order modification failed for insufficient margin or balance"),
    "post_only_would_take": ("51511", "Modification failed as the order price did not meet the requirement for Post Only"),
}
FUNDING_RATE = Decimal("0.0001")  # the simulator's constant funding rate, every 8 hours
FUNDING_PERIOD_MS = 8 * 3600 * 1000
WALLETS = ("6", "18")  # funding and trading account: one engine balance serves both
# currency -> (name, the network of its chain id "CCY-Network")
NETWORKS = {
    "BTC": ("Bitcoin", "Bitcoin"),
    "ETH": ("Ethereum", "ERC20"),
    "SOL": ("Solana", "Solana"),
    "USDT": ("Tether", "TRC20"),
    "USDC": ("USD Coin", "ERC20"),
}
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


class OkxError(Exception):
    """A request OKX refuses: its code and message and the HTTP status they come with."""

    def __init__(self, code: str, msg: str, status: int = 200) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg
        self.status = status

    def response(self) -> web.Response:
        return json_response({"code": self.code, "msg": self.msg, "data": []}, status=self.status)


class AuthError(OkxError):
    """OKX answers an authentication failure with HTTP 401 and no ``data``."""

    def __init__(self, code: str, msg: str) -> None:
        super().__init__(code, msg, 401)

    def response(self) -> web.Response:
        return json_response({"msg": self.msg, "code": self.code}, status=self.status)


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
    """What a SWAP place request adds: margin mode, position side, reduce-only, attached TP/SL."""

    margin: MarginMode
    position_side: PositionSide
    reduce_only: bool
    take_profit: Decimal | None
    stop_loss: Decimal | None


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


def sign(secret: str, prehash: bytes) -> str:
    """OK-ACCESS-SIGN: base64 of HMAC-SHA256 keyed with the secret as text."""
    return base64.b64encode(hmac.new(secret.encode(), prehash, hashlib.sha256).digest()).decode()


def okx_time(text: str) -> float | None:
    """The epoch seconds of an OK-ACCESS-TIMESTAMP such as ``2020-12-08T09:08:57.715Z``."""
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp()
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
        raise OkxError("50014", f"Parameter {name} can not be empty.", 400)
    return str(value)


def positive(params: dict[str, Any], name: str) -> Decimal:
    text = require(params, name)
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise OkxError("51000", f"Parameter {name} error", 400) from None
    if not value.is_finite() or value <= 0:
        raise OkxError("51000", f"Parameter {name} error", 400)
    return value


def whole(params: dict[str, Any], name: str) -> int | None:
    text = params.get(name)
    if text in (None, ""):
        return None
    try:
        return int(text)
    except ValueError:
        raise OkxError("51000", f"Parameter {name} error", 400) from None


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


class OkxSim(SimVenue):
    venue = "okx"
    markets = (
        "BTC-USDT",
        "BTC-USDT-PERP",
        "ETH-USDT",
        "SOL-USDT",
        "ETH-BTC",
        "BTC-USDC",
        "USDC-USDT",
        "ETH-USDT-PERP",
        "BTC-USD-PERP",
        "ETH-USD-PERP",
    )
    ws_paths = ("/ws/v5/public",)
    private_ws_paths = ("/ws/v5/private",)
    faults_supported = frozenset({"drop", "skip", "corrupt", "stall", "delay"})
    inband_snapshot: ClassVar[bool] = True
    ccxt_id = "okx"
    ccxt_hosts = ("https://{hostname}",)  # ccxt's OKX base is a template on its hostname option
    ccxt_options = {"fetchMarkets": {"types": ["spot"]}}
    key_needs_passphrase = True

    api_key_header = "OK-ACCESS-KEY"
    limit_symbol_param = "instId"

    def rate_limit_refusal(self, over: Over, now: float) -> web.Response:
        return refusal({"code": "50011", "msg": "Too Many Requests", "data": []}, 429)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.seq: dict[str, int] = {s: 2_000_000 + 31 * i for i, s in enumerate(self.markets)}
        self.views: dict[str, tuple[View, View]] = {s: self._window(s) for s in self.markets}
        self.placements: dict[str, Placement] = {}  # order id -> what its place request said
        self.killed: dict[str, SimOrder] = {}  # post-only orders OKX accepted and canceled at once
        self._killed_ids = itertools.count(9_000_000_001)  # beyond the engine's order ids
        self._placing: Placement | None = None  # the request being placed: its first push precedes the answer
        self._transfer_ids = itertools.count(700_001)

    def native(self, symbol: str) -> str:
        base, quote, _, _ = parse_standard(symbol)
        return f"{base}-{quote}-SWAP" if symbol in CONTRACTS else f"{base}-{quote}"

    # ---- units and strings ------------------------------------------------------------------

    def size_decimals(self, symbol: str) -> int:
        contract = CONTRACTS.get(symbol)
        return contract[2] if contract else self.ladders[symbol].size_decimals

    def size_text(self, symbol: str, lots: int) -> str:
        places = self.size_decimals(symbol)
        whole, frac = divmod(lots, 10**places)
        return _trim(f"{whole}.{frac:0{places}d}") if places else str(whole)

    def price_text(self, symbol: str, ticks: int) -> str:
        return _trim(self.ladders[symbol].price_str(ticks))

    def expected_top(self, symbol: str, n: int) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
        ladder = self.ladders[symbol]
        return (
            [(ladder.price(p), float(self.size_text(symbol, q))) for p, q in ladder.top(True, n)],
            [(ladder.price(p), float(self.size_text(symbol, q))) for p, q in ladder.top(False, n)],
        )

    def _levels(self, symbol: str, levels: list[tuple[int, int]]) -> list[Level]:
        return [[self.price_text(symbol, p), self.size_text(symbol, q), "0", str(1 + q % 5 if q else 0)] for p, q in levels]

    def _window(self, symbol: str) -> tuple[View, View]:
        ladder = self.ladders[symbol]
        return dict(ladder.top(True, DEPTH)), dict(ladder.top(False, DEPTH))

    def _checksum(self, symbol: str) -> int:
        bids, asks = self.views[symbol]
        top_b = sorted(bids, reverse=True)[:CHECKSUM_DEPTH]
        top_a = sorted(asks)[:CHECKSUM_DEPTH]
        return crc32_signed(
            interleaved(
                [(self.price_text(symbol, p), self.size_text(symbol, bids[p])) for p in top_b],
                [(self.price_text(symbol, p), self.size_text(symbol, asks[p])) for p in top_a],
            )
        )

    # ---- REST -------------------------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/api/v5/public/instruments", self.instruments),
            web.get("/api/v5/market/books", self.books),
            web.get("/api/v5/public/funding-rate", self.funding_rate),
            *self.trading_routes(),
        ]

    async def instruments(self, request: web.Request) -> web.Response:
        inst_type = request.query.get("instType")
        if inst_type not in ("SPOT", "SWAP", "FUTURES", "OPTION", "MARGIN"):
            return json_response({"code": "51000", "msg": "Parameter instType error", "data": []}, status=400)
        listed = [self.instrument(s) for s in self.markets]
        return json_response({"code": "0", "msg": "", "data": [i for i in listed if i["instType"] == inst_type]})

    def instrument(self, symbol: str) -> dict[str, Any]:
        base, quote, _, _ = parse_standard(symbol)
        lot = self.size_text(symbol, 1)
        info: dict[str, Any] = {
            "instType": "SPOT",
            "instId": self.native(symbol),
            "uly": "",
            "instFamily": "",
            "category": "1",
            "baseCcy": base,
            "quoteCcy": quote,
            "settleCcy": "",
            "ctVal": "",
            "ctMult": "",
            "ctValCcy": "",
            "ctType": "",
            "optType": "",
            "stk": "",
            "listTime": "1611916800000",
            "expTime": "",
            "lever": "10",
            "tickSz": self.price_text(symbol, 1),
            "lotSz": lot,
            "minSz": lot,
            "maxLmtSz": "9999999999",
            "maxMktSz": "1000000",
            "alias": "",
            "state": "live",
            "ruleType": "normal",
        }
        contract = CONTRACTS.get(symbol)
        if contract is not None:
            ct_val, ct_ccy, _ = contract
            info.update(
                instType="SWAP",
                uly=f"{base}-{quote}",
                instFamily=f"{base}-{quote}",
                baseCcy="",
                quoteCcy="",
                settleCcy=base if ct_ccy == quote else quote,
                ctVal=ct_val,
                ctMult="1",
                ctValCcy=ct_ccy,
                ctType="inverse" if ct_ccy == quote else "linear",
                lever="100",
            )
        return info

    async def books(self, request: web.Request) -> web.Response:
        symbol = self.symbol_of(request.query.get("instId", ""))
        if symbol is None:
            return json_response({"code": "51001", "msg": "Instrument ID does not exist", "data": []})
        depth = min(DEPTH, int(request.query.get("sz", "1")))
        bids, asks = self.views[symbol]
        data = {
            "asks": self._levels(symbol, [(p, asks[p]) for p in sorted(asks)[:depth]]),
            "bids": self._levels(symbol, [(p, bids[p]) for p in sorted(bids, reverse=True)[:depth]]),
            "ts": str(_now_ms()),
            "seqId": self.seq[symbol],
        }
        return json_response({"code": "0", "msg": "", "data": [data]})


    async def funding_rate(self, request: web.Request) -> web.Response:
        """A SWAP's funding: the simulator's constant rate, settled at the next 8-hour boundary
        (``fundingTime``), the one after it ``nextFundingTime``."""
        symbol = self.symbol_of(request.query.get("instId", ""))
        if symbol not in CONTRACTS:
            return OkxError("51001", "Instrument ID does not exist").response()
        now = _now_ms()
        settles = now - now % FUNDING_PERIOD_MS + FUNDING_PERIOD_MS
        return envelope([{
            "instType": "SWAP", "instId": self.native(symbol), "method": "current_period", "formulaType": "noRate",
            "fundingRate": num(FUNDING_RATE), "nextFundingRate": "", "fundingTime": str(settles),
            "nextFundingTime": str(settles + FUNDING_PERIOD_MS), "minFundingRate": "-0.0075", "maxFundingRate": "0.0075",
            "interestRate": "0.0001", "impactValue": "", "premium": "0", "settFundingRate": num(FUNDING_RATE),
            "settState": "settled", "ts": str(now),
        }])

    # ---- trading: routes and auth ---------------------------------------------------------------

    def trading_routes(self) -> list[web.RouteDef]:
        return [
            web.get("/api/v5/asset/currencies", self.signed(self.currencies)),
            web.get("/api/v5/account/balance", self.signed(self.balance)),
            web.get("/api/v5/account/trade-fee", self.signed(self.trade_fee)),
            web.get("/api/v5/account/config", self.signed(self.account_config)),
            web.get("/api/v5/account/positions", self.signed(self.positions)),
            web.post("/api/v5/account/set-position-mode", self.signed(self.set_position_mode, trade=True)),
            web.post("/api/v5/account/set-leverage", self.signed(self.set_leverage, trade=True)),
            web.post("/api/v5/trade/order", self.signed(self.place_one, trade=True)),
            web.post("/api/v5/trade/batch-orders", self.signed(self.place_batch, trade=True)),
            web.post("/api/v5/trade/cancel-order", self.signed(self.cancel_one, trade=True)),
            web.post("/api/v5/trade/cancel-batch-orders", self.signed(self.cancel_batch, trade=True)),
            web.post("/api/v5/trade/amend-order", self.signed(self.amend_one, trade=True)),
            web.post("/api/v5/asset/transfer", self.signed(self.transfer, trade=True)),
            web.get("/api/v5/trade/order", self.signed(self.get_order)),
            web.get("/api/v5/trade/orders-pending", self.signed(self.orders_pending)),
            web.get("/api/v5/trade/orders-history", self.signed(self.orders_history)),
            web.get("/api/v5/trade/fills", self.signed(self.fills)),
            web.get("/api/v5/trade/fills-history", self.signed(self.fills_history)),
            web.get("/api/v5/trade/orders-algo-pending", self.signed(self.algos_pending)),
            web.get("/api/v5/trade/orders-algo-history", self.signed(self.algos_history)),
        ]

    def signed(self, handler: Private, *, trade: bool = False) -> Handler:
        """OKX's private-endpoint rule: the four OK-ACCESS headers, the key's passphrase, a
        timestamp within 30 s and the signature; ``trade`` endpoints need the trade permission."""

        async def check(request: web.Request) -> web.Response:
            body = await request.read()
            try:
                key = self.authenticate(request, body)
                if trade and "trade" not in key.permissions:
                    raise AuthError("50120", "API key doesn't have permission to use this function")
                return await handler(key, self.params(request, body))
            except OkxError as exc:
                return exc.response()

        return check

    def authenticate(self, request: web.Request, body: bytes) -> ApiKey:
        headers = request.headers
        for header, code in AUTH_HEADERS:
            if not headers.get(header):
                raise AuthError(code, f"Request header {header} can not be empty.")
        key = self.api_keys.get(headers["OK-ACCESS-KEY"])
        if key is None:
            raise AuthError("50111", "Invalid OK-ACCESS-KEY")
        if not hmac.compare_digest(headers["OK-ACCESS-PASSPHRASE"].encode(), (key.passphrase or "").encode()):
            raise AuthError("50105", "OK-ACCESS-PASSPHRASE incorrect")
        stamp = headers["OK-ACCESS-TIMESTAMP"]
        sent = okx_time(stamp)
        if sent is None:
            raise AuthError("50112", "Invalid OK-ACCESS-TIMESTAMP")
        if abs(time.time() - sent) > TIME_WINDOW:
            raise AuthError("50102", "Timestamp request expired")
        # raw_path is the request target as sent: the path and, on a GET, "?" and the query
        expected = sign(key.secret, (stamp + request.method + request.raw_path).encode() + body)
        if not hmac.compare_digest(headers["OK-ACCESS-SIGN"].encode(), expected.encode()):
            raise AuthError("50113", "Invalid Sign")
        return key

    @staticmethod
    def params(request: web.Request, body: bytes) -> Any:
        if request.method == "GET":
            return dict(request.query)
        if not body:
            raise OkxError("50000", "Body can not be empty.", 400)
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            raise OkxError("50002", "Json data format error.", 400) from None

    def listed_symbol(self, params: dict[str, Any]) -> str:
        symbol = self.symbol_of(require(params, "instId"))
        if symbol is None:
            raise OkxError("51001", "Instrument ID does not exist")
        return symbol

    def swap_symbol(self, params: dict[str, Any]) -> str:
        symbol = self.listed_symbol(params)
        if symbol not in CONTRACTS:
            raise OkxError("51001", "Instrument ID does not exist")
        return symbol

    def contracts_to_base(self, symbol: str, contracts: Decimal) -> Decimal:
        """A SWAP ``sz`` in contracts as the engine's amount: whole ladder lots, or 51121."""
        lots = contracts * 10 ** self.size_decimals(symbol)
        if lots != lots.to_integral_value():
            raise OkxError("51121", REJECTS["amount_off_grid"][1])
        return int(lots) * self.engine.markets[symbol].lot

    def size_of(self, symbol: str, amount: Decimal) -> str:
        """An engine amount as OKX states it: base units on SPOT, contracts on SWAP."""
        if symbol not in CONTRACTS:
            return num(amount)
        text = self.size_text(symbol, int(abs(amount) / self.engine.markets[symbol].lot))
        return f"-{text}" if amount < 0 else text

    # ---- trading: account ------------------------------------------------------------------------

    async def currencies(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        wanted = set(filter(None, params.get("ccy", "").split(",")))
        listed = sorted({c for s in self.markets if s not in CONTRACTS for c in parse_standard(s)[:2]})
        return envelope([currency_json(c) for c in listed if not wanted or c in wanted])

    async def balance(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        account = self.engine.account(key.account)
        wanted = set(filter(None, params.get("ccy", "").split(",")))
        assets = sorted(a for a in set(account.balances) | set(account.locked) if not wanted or a in wanted)
        now = str(_now_ms())
        details = [balance_detail(account, a, now) for a in assets]
        return envelope([{"adjEq": "", "borrowFroz": "", "details": details, "imr": "", "isoEq": "", "mgnRatio": "",
                          "mmr": "", "notionalUsd": "", "ordFroz": "", "totalEq": "", "uTime": now, "upl": ""}])

    async def trade_fee(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        if require(params, "instType") not in ("SPOT", "SWAP"):
            raise OkxError("51000", "Parameter instType error", 400)
        if params.get("instId"):
            self.listed_symbol(params)
        return envelope([{
            "category": "1", "delivery": "", "exercise": "", "instType": params["instType"], "level": "Lv1",
            "maker": num(-self.engine.maker_fee), "taker": num(-self.engine.taker_fee),
            "makerU": "", "takerU": "", "makerUSDC": "", "takerUSDC": "", "ruleType": "normal", "fiat": [],
            "ts": str(_now_ms()),
        }])

    async def account_config(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        """A unified account at acctLv 2, single-currency margin; posMode is the engine's."""
        hedge = self.engine.account(key.account).hedge_mode
        return envelope([{
            "acctLv": "2", "posMode": "long_short_mode" if hedge else "net_mode", "uid": key.account,
            "mainUid": key.account, "label": "", "roleType": "0", "level": "Lv1", "levelTmp": "",
            "autoLoan": False, "greeksType": "PA", "ctIsoMode": "automatic", "mgnIsoMode": "automatic",
            "spotOffsetType": "", "spotRoleType": "0", "spotTraderInsts": [], "traderInsts": [], "opAuth": "0",
            "kycLv": "2", "ip": "", "perm": ",".join(sorted({"read_only", *key.permissions} - {"read"})),
            "liquidationGear": "-1", "enableSpotBorrow": False, "spotBorrowAutoRepay": False, "type": "0",
        }])

    async def set_position_mode(self, key: ApiKey, body: Any) -> web.Response:
        mode = body.get("posMode") if isinstance(body, dict) else None
        if mode not in POS_MODES:
            raise OkxError("51000", "Parameter posMode error", 400)
        try:
            self.engine.set_position_mode(key.account, POS_MODES[mode])
        except Reject:
            raise OkxError("59000", SETTINGS_BLOCKED) from None
        return envelope([{"posMode": mode}])

    async def set_leverage(self, key: ApiKey, body: Any) -> web.Response:
        if not isinstance(body, dict):
            raise OkxError("50002", "Json data format error.", 400)
        symbol = self.swap_symbol(body)
        mode = TD_MODES.get(str(body.get("mgnMode")))
        if mode is None:
            raise OkxError("51000", "Parameter mgnMode error", 400)
        lever = positive(body, "lever")
        try:
            self.use_margin_mode(key.account, symbol, mode)
            self.engine.set_leverage(key.account, symbol, lever)
        except Reject:
            raise OkxError("51000", "Parameter lever error", 400) from None
        except OkxError:
            raise OkxError("59000", SETTINGS_BLOCKED) from None
        return envelope([{"lever": num(lever), "mgnMode": mode.value, "instId": body["instId"],
                          "posSide": str(body.get("posSide") or "net")}])

    async def positions(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        if params.get("instType") not in (None, "", "SWAP"):
            return envelope([])  # the simulator lists no MARGIN, FUTURES or OPTION positions
        wanted = set(filter(None, params.get("instId", "").split(",")))
        account = self.engine.account(key.account)
        rows = [self.position_json(account, symbol, side, pos) for (symbol, side), pos in account.positions.items()
                if pos.size and (not wanted or self.native(symbol) in wanted)]
        return envelope(rows)

    def position_json(self, account: Account, symbol: str, side: PositionSide, pos: Position) -> dict[str, Any]:
        market = self.engine.markets[symbol]
        contracts = self.size_of(symbol, pos.size)  # signed in net mode: negative is short
        now = str(_now_ms())
        return {
            "instType": "SWAP", "instId": self.native(symbol), "posId": f"{account.name}-{symbol}-{side.value}",
            "mgnMode": account.margin_modes.get(symbol, MarginMode.CROSS).value, "posSide": pos_side_text(side),
            "pos": contracts, "availPos": contracts.lstrip("-"), "posCcy": "", "ccy": market.quote,
            "avgPx": num(pos.entry), "lever": num(account.leverages.get(symbol, Decimal(1))),
            "margin": num(pos.margin), "imr": num(pos.margin), "mmr": "", "mgnRatio": "", "liqPx": "",
            "markPx": "", "last": "", "upl": "0", "uplRatio": "0", "notionalUsd": num(abs(pos.size) * pos.entry),
            "realizedPnl": "0", "pnl": "0", "fee": "0", "fundingFee": "0", "adl": "1", "cTime": now, "uTime": now,
            "bizRefId": "", "bizRefType": "", "closeOrderAlgo": [], "deltaBS": "", "deltaPA": "", "gammaBS": "",
            "gammaPA": "", "thetaBS": "", "thetaPA": "", "vegaBS": "", "vegaPA": "", "tradeId": "", "usdPx": "",
        }

    # ---- trading: placing and canceling ------------------------------------------------------------

    async def place_one(self, key: ApiKey, body: Any) -> web.Response:
        return operations([self.place(key, body)])

    async def place_batch(self, key: ApiKey, body: Any) -> web.Response:
        if not isinstance(body, list) or not body:
            raise OkxError("50002", "Json data format error.", 400)
        if len(body) > MAX_BATCH:
            raise OkxError("51111", f"Maximum {MAX_BATCH} orders can be placed in bulk.", 400)
        return operations([self.place(key, req) for req in body])

    def place(self, key: ApiKey, req: Any) -> dict[str, Any]:
        """One order of a place request: its ``data`` entry, with sCode 0 or OKX's refusal."""
        if not isinstance(req, dict):
            raise OkxError("50002", "Json data format error.", 400)
        entry = {"clOrdId": str(req.get("clOrdId", "")), "ordId": "", "tag": str(req.get("tag", "")),
                 "ts": str(_now_ms()), "sCode": "0", "sMsg": "Order placed", "subCode": ""}
        try:
            entry["ordId"] = self.submit(key, self.ticket(req)).order_id
        except OkxError as exc:
            entry.update(sCode=exc.code, sMsg=exc.msg)
        return entry

    def ticket(self, req: dict[str, Any]) -> Ticket:
        symbol = self.listed_symbol(req)
        if symbol in CONTRACTS:
            return self.swap_ticket(symbol, req)
        if req.get("tdMode") != "cash":
            raise OkxError("51000", "Parameter tdMode error", 400)
        side, kind, tif, post_only = self.order_kind(req)
        price = None if kind is OrderType.MARKET else positive(req, "px")
        amount = positive(req, "sz")
        tgt_ccy = self.target_currency(req, kind, side)
        quote_sz = None
        if tgt_ccy == "quote_ccy":
            quote_sz, amount = num(amount), self.base_for_quote(symbol, side, amount)
        placement = Placement(*self.ids_of(req), tgt_ccy, quote_sz)
        return Ticket(symbol, side, kind, tif, post_only, amount, price, placement)

    def swap_ticket(self, symbol: str, req: dict[str, Any]) -> Ticket:
        """A SWAP order: ``sz`` in contracts, ``tdMode`` cross or isolated, ``posSide`` long or
        short in long_short_mode (net or none in net_mode), ``reduceOnly``, ``attachAlgoOrds``."""
        margin = TD_MODES.get(str(req.get("tdMode")))
        if margin is None:
            raise OkxError("51000", "Parameter tdMode error", 400)
        position_side = POS_SIDES.get(str(req.get("posSide") or ""))
        if position_side is None:
            raise OkxError("51000", "Parameter posSide error", 400)
        side, kind, tif, post_only = self.order_kind(req)
        price = None if kind is OrderType.MARKET else positive(req, "px")
        amount = self.contracts_to_base(symbol, positive(req, "sz"))
        take_profit, stop_loss = self.attached(req)
        contract = Contract(margin, position_side, str(req.get("reduceOnly", "")).lower() == "true", take_profit, stop_loss)
        placement = Placement(*self.ids_of(req), "")
        return Ticket(symbol, side, kind, tif, post_only, amount, price, placement, contract)

    @staticmethod
    def attached(req: dict[str, Any]) -> tuple[Decimal | None, Decimal | None]:
        """The triggers of one attached TP/SL; the engine's TP/SL execute at market (ordPx -1)."""
        algos = req.get("attachAlgoOrds") or []
        if not isinstance(algos, list) or len(algos) > 1 or not all(isinstance(a, dict) for a in algos):
            raise OkxError("51000", "Parameter attachAlgoOrds error", 400)
        algo: dict[str, Any] = algos[0] if algos else {}
        triggers: list[Decimal | None] = []
        for leg in ("tp", "sl"):
            if algo.get(f"{leg}OrdPx", "-1") != "-1" or algo.get(f"{leg}TriggerPxType", "last") != "last":
                raise OkxError("51000", f"Parameter {leg}OrdPx error", 400)
            triggers.append(positive(algo, f"{leg}TriggerPx") if algo.get(f"{leg}TriggerPx") else None)
        return triggers[0], triggers[1]

    def order_kind(self, req: dict[str, Any]) -> tuple[Side, OrderType, TimeInForce, bool]:
        if req.get("side") not in ("buy", "sell"):
            raise OkxError("51000", "Parameter side error", 400)
        choice = ORD_TYPES.get(str(req.get("ordType")))
        if choice is None:
            raise OkxError("51000", "Parameter ordType error", 400)
        return Side(req["side"]), *choice

    @staticmethod
    def ids_of(req: dict[str, Any]) -> tuple[str, str]:
        cl_ord_id, tag = str(req.get("clOrdId") or ""), str(req.get("tag") or "")
        if cl_ord_id and not CL_ORD_ID.fullmatch(cl_ord_id):
            raise OkxError("51000", "Parameter clOrdId error", 400)
        if tag and not TAG.fullmatch(tag):
            raise OkxError("51000", "Parameter tag error", 400)
        return cl_ord_id, tag

    @staticmethod
    def target_currency(req: dict[str, Any], kind: OrderType, side: Side) -> str:
        """A market order's ``sz`` unit: OKX's default is the quote currency for a buy."""
        if kind is not OrderType.MARKET:
            return ""
        tgt_ccy = req.get("tgtCcy") or ("quote_ccy" if side is Side.BUY else "base_ccy")
        if tgt_ccy not in ("base_ccy", "quote_ccy"):
            raise OkxError("51000", "Parameter tgtCcy error", 400)
        return str(tgt_ccy)

    def base_for_quote(self, symbol: str, side: Side, budget: Decimal) -> Decimal:
        """The base amount a market order for ``budget`` of the quote currency trades now."""
        market = self.engine.markets[symbol]
        book = self.ladders[symbol].asks if side is Side.BUY else self.ladders[symbol].bids
        lots = 0
        for ticks in sorted(book, reverse=side is Side.SELL):
            per_lot = ticks * market.tick * market.lot
            here = min(book[ticks], int(budget / per_lot))
            lots += here
            budget -= here * per_lot
            if here < book[ticks]:
                break
        if not lots:
            raise OkxError("51020", "Order amount should be greater than the min available amount.")
        return lots * market.lot

    def submit(self, key: ApiKey, ticket: Ticket) -> SimOrder:
        contract = ticket.contract or Contract(MarginMode.CROSS, PositionSide.BOTH, False, None, None)
        try:
            if ticket.contract is not None:
                self.use_margin_mode(key.account, ticket.symbol, contract.margin)
            self._placing = ticket.placement
            order = self.engine.submit(
                key.account, ticket.symbol, ticket.side, ticket.kind, ticket.amount, ticket.price,
                tif=ticket.tif, post_only=ticket.post_only, client_id=ticket.placement.cl_ord_id or None,
                reduce_only=contract.reduce_only, position_side=contract.position_side,
                take_profit=contract.take_profit, stop_loss=contract.stop_loss,
            )
        except Reject as exc:
            if exc.reason != "post_only_would_take":
                raise self.refusal(exc, ticket) from None
            order = self.kill(key, ticket)
        finally:
            self._placing = None
        self.placements[order.order_id] = ticket.placement
        if order.order_id in self.killed:  # the engine never saw it: the venue pushes its cancel
            for conn in self.private_connections(order.account):
                for frame in self.private_frames_for(conn, OrderEvent(order)):
                    conn.send(frame)
        return order

    def refusal(self, exc: Reject, ticket: Ticket) -> OkxError:
        if exc.reason not in REJECTS:
            return OkxError("51000", str(exc), 400)
        code, msg = REJECTS[exc.reason]
        market = self.engine.markets[ticket.symbol]
        if ticket.contract is not None:  # a SWAP order's margin is in the settlement currency
            return OkxError(code, msg.format(ccy=market.quote).replace("balance", "margin"))
        return OkxError(code, msg.format(ccy=market.quote if ticket.side is Side.BUY else market.base))

    def use_margin_mode(self, account: str, symbol: str, mode: MarginMode) -> None:
        """The engine keeps one margin mode per instrument: an order's ``tdMode`` sets it while no
        position is open, and must match it while one is."""
        if self.engine.account(account).margin_modes.get(symbol, MarginMode.CROSS) is mode:
            return
        try:
            self.engine.set_margin_mode(account, symbol, mode)
        except Reject:
            raise OkxError("51000", "Parameter tdMode error", 400) from None

    def kill(self, key: ApiKey, ticket: Ticket) -> SimOrder:
        """OKX accepts a post-only order that would take and cancels it at once (cancelSource 31);
        the engine refuses it outright, so the venue keeps the record."""
        market = self.engine.markets[ticket.symbol]
        assert ticket.price is not None
        order = SimOrder(
            order_id=str(next(self._killed_ids)), client_id=ticket.placement.cl_ord_id, account=key.account,
            symbol=ticket.symbol, side=ticket.side, type=OrderType.LIMIT, amount=int(ticket.amount / market.lot),
            price=int(ticket.price / market.tick), post_only=True, status=OrderStatus.CANCELED,
        )
        order.updated = order.created
        self.killed[order.order_id] = order
        return order

    async def cancel_one(self, key: ApiKey, body: Any) -> web.Response:
        if not isinstance(body, dict):
            raise OkxError("50002", "Json data format error.", 400)
        return operations([self.cancel(key, body)])

    async def cancel_batch(self, key: ApiKey, body: Any) -> web.Response:
        if not isinstance(body, list) or not body or not all(isinstance(req, dict) for req in body):
            raise OkxError("50002", "Json data format error.", 400)
        return operations([self.cancel(key, req) for req in body])

    def cancel(self, key: ApiKey, req: dict[str, Any]) -> dict[str, Any]:
        entry = {"clOrdId": str(req.get("clOrdId", "")), "ordId": str(req.get("ordId", "")),
                 "ts": str(_now_ms()), "sCode": "0", "sMsg": "", "subCode": ""}
        try:
            order = self.find(key, req)
            if order.status.final:
                raise OkxError("51400", CANCEL_FAILED)
            self.engine.cancel(key.account, order.order_id)
            entry.update(ordId=order.order_id, clOrdId=self.placements.get(order.order_id, NO_PLACEMENT).cl_ord_id)
        except OkxError as exc:
            code = "51400" if exc.code == "51603" else exc.code
            entry.update(sCode=code, sMsg=CANCEL_FAILED if code == "51400" else exc.msg)
        return entry

    # ---- trading: amending ------------------------------------------------------------------------

    async def amend_one(self, key: ApiKey, body: Any) -> web.Response:
        if not isinstance(body, dict):
            raise OkxError("50002", "Json data format error.", 400)
        return operations([self.amend(key, body)])

    def amend(self, key: ApiKey, req: dict[str, Any]) -> dict[str, Any]:
        """``newSz`` (the new total, filled part included) and / or ``newPx`` of a live order, which
        keeps its ``ordId``; with ``cxlOnFail`` a failed amend cancels the order."""
        entry = {"clOrdId": str(req.get("clOrdId", "")), "ordId": str(req.get("ordId", "")), "reqId": str(req.get("reqId", "")),
                 "ts": str(_now_ms()), "sCode": "0", "sMsg": "", "subCode": ""}
        order: SimOrder | None = None
        try:
            order = self.amendable(key, req)
            entry.update(ordId=order.order_id, clOrdId=self.placements.get(order.order_id, NO_PLACEMENT).cl_ord_id)
            lots, ticks = self.amended_terms(order, req)
            self.engine.amend(order, lots, ticks)
        except (OkxError, Reject) as exc:
            code, msg = (exc.code, exc.msg) if isinstance(exc, OkxError) else AMEND_REJECTS.get(exc.reason, ("51000", str(exc)))
            entry.update(sCode=code, sMsg=msg)
            if order is not None and not order.status.final and str(req.get("cxlOnFail", "")).lower() == "true":
                self.engine.cancel(key.account, order.order_id)
        return entry

    def amendable(self, key: ApiKey, req: dict[str, Any]) -> SimOrder:
        try:
            order = self.find(key, req)
        except OkxError as exc:
            raise OkxError("51503", "Order modification failed as the order does not exist") if exc.code == "51603" else exc
        if order.status in (OrderStatus.CANCELED, OrderStatus.EXPIRED, OrderStatus.REJECTED):
            raise OkxError("51509", "Modification failed as the order has been canceled")
        if order.status.final:
            raise OkxError("51510", "Modification failed as the order has been completed")
        if order.price is None:
            raise OkxError("51506", "Order modification unavailable for the order type")
        return order

    def amended_terms(self, order: SimOrder, req: dict[str, Any]) -> tuple[int, int]:
        """(total lots, price ticks) after the amend, on the instrument's grid."""
        if req.get("newSz") in (None, "") and req.get("newPx") in (None, ""):
            raise OkxError("51500", "Either order price or amount is required")
        market = self.engine.markets[order.symbol]
        lots, ticks = order.amount, order.price
        if req.get("newSz") not in (None, ""):
            size = positive(req, "newSz")
            amount = self.contracts_to_base(order.symbol, size) if order.symbol in CONTRACTS else size
            lots_exact = amount / market.lot
            if lots_exact != lots_exact.to_integral_value():
                raise OkxError("51121", REJECTS["amount_off_grid"][1])
            lots = int(lots_exact)
            if lots <= order.filled:
                raise OkxError("51000", "Parameter newSz error", 400)
        if req.get("newPx") not in (None, ""):
            ticks_exact = positive(req, "newPx") / market.tick
            if ticks_exact != ticks_exact.to_integral_value():
                raise OkxError("51000", "Parameter newPx error", 400)
            ticks = int(ticks_exact)
        assert ticks is not None
        return lots, ticks

    # ---- funds: master <-> sub-account transfers ----------------------------------------------------

    async def transfer(self, key: ApiKey, body: Any) -> web.Response:
        """``type`` 1 (master to sub-account) or 2 (sub-account to master), ``subAcct`` the
        sub-account's name, between funding (6) or trading (18) accounts, which the engine keeps
        as one balance per account."""
        if not isinstance(body, dict):
            raise OkxError("50002", "Json data format error.", 400)
        ccy, amount = require(body, "ccy"), positive(body, "amt")
        kind = str(body.get("type", "0"))
        if kind not in ("1", "2"):
            raise OkxError("51000", "Parameter type error: the simulator moves funds between master and sub-accounts only", 400)
        if body.get("from") not in WALLETS or body.get("to") not in WALLETS:
            raise OkxError("51000", "Parameter from or to error", 400)
        sub = self.sub_account(key, require(body, "subAcct"))
        source, target = (key.account, sub) if kind == "1" else (sub, key.account)
        try:
            self.engine.transfer(ccy, amount, source, target)
        except Reject:
            raise OkxError("58350", "Insufficient balance") from None
        return envelope([{"transId": str(next(self._transfer_ids)), "ccy": ccy, "clientId": str(body.get("clientId", "")),
                          "from": body["from"], "amt": num(amount), "to": body["to"]}])

    def sub_account(self, key: ApiKey, name: str) -> str:
        if self.engine.account(key.account).parent is not None:
            raise OkxError("58103", "Parent account user id does not match sub-account user id")
        account = self.engine.accounts.get(name)
        if account is None or account.parent != key.account:
            raise OkxError("58115", "Sub-account does not exist")
        return name

    # ---- trading: orders and fills -----------------------------------------------------------------

    def find(self, key: ApiKey, params: dict[str, Any]) -> SimOrder:
        symbol = self.listed_symbol(params)
        ord_id, cl_ord_id = params.get("ordId") or None, params.get("clOrdId") or None
        if ord_id is None and cl_ord_id is None:
            raise OkxError("51003", "Either client order ID or order ID is required.", 400)
        order = self.engine_order(key, ord_id, cl_ord_id) or self.killed_order(key, ord_id, cl_ord_id)
        if order is None or order.symbol != symbol or order.waiting:
            raise OkxError("51603", "Order does not exist")
        return order

    def killed_order(self, key: ApiKey, ord_id: str | None, cl_ord_id: str | None) -> SimOrder | None:
        for order in self.killed.values():
            if order.account == key.account and (order.order_id == ord_id if ord_id else order.client_id == cl_ord_id):
                return order
        return None

    def engine_order(self, key: ApiKey, ord_id: str | None, cl_ord_id: str | None) -> SimOrder | None:
        try:
            return self.engine.find(key.account, ord_id, cl_ord_id)
        except Reject:
            return None

    async def get_order(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        return envelope([self.order_json(self.find(key, params))])

    async def orders_pending(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        orders = [o for o in self.engine.open_orders(key.account) if not o.waiting]
        return envelope(self.order_rows(orders, params))

    async def orders_history(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        require(params, "instType")
        # a TP/SL canceled before it triggered was an algo order, never an order of this list
        finished = [o for o in self.engine.orders.values() if o.account == key.account and o.status.final and not o.waiting]
        finished += [o for o in self.killed.values() if o.account == key.account]
        return envelope(self.order_rows(finished, params))

    def order_rows(self, orders: list[SimOrder], params: dict[str, str]) -> list[dict[str, Any]]:
        rows = [self.order_json(o) for o in orders]
        return select(rows, params, ("instType", "instId", "ordType", "state"), "cTime", "ordId")

    async def fills(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        rows = [self.fill_json(f) for f in self.engine.account_fills(key.account)]
        return envelope(select(rows, params, ("instType", "instId", "ordId"), "ts", "billId"))

    async def fills_history(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        require(params, "instType")
        return await self.fills(key, params)

    # ---- trading: attached TP/SL as OKX lists them, one algo order per entry ----------------------

    async def algos_pending(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        return envelope(self.algo_rows(key, params, live=True))

    async def algos_history(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        if not params.get("state") and not params.get("algoId"):
            raise OkxError("51000", "Parameter state or algoId error", 400)
        return envelope(self.algo_rows(key, params, live=False))

    def algo_rows(self, key: ApiKey, params: dict[str, str], live: bool) -> list[Row]:
        kinds = set(require(params, "ordType").split(","))
        legs: dict[str, list[SimOrder]] = {}
        for order in self.engine.orders.values():
            if order.parent is not None and order.account == key.account:
                legs.setdefault(order.parent, []).append(order)
        rows = [self.algo_json(self.engine.orders[parent], children) for parent, children in legs.items()]
        rows = [r for r in rows if r["ordType"] in kinds and (r["state"] == "live") == live]
        return select(rows, params, ("instType", "instId", "algoId", "state"), "cTime", "algoId")

    def algo_json(self, entry: SimOrder, legs: list[SimOrder]) -> Row:
        """An entry's attached TP/SL: ``oco`` when both (the engine cancels one when the other
        fires), ``conditional`` when one; ``effective`` once one fired, with that order's id."""
        fired = next((leg for leg in legs if leg.triggered), None)
        state = "live" if fired is None else "order_failed" if fired.status is OrderStatus.REJECTED else "effective"
        if fired is None and all(leg.status.final for leg in legs):
            state = "canceled"
        market = self.engine.markets[entry.symbol]
        size = self.size_text(entry.symbol, legs[0].amount)
        actual = {"actualSz": "", "actualPx": "", "actualSide": "", "triggerTime": "", "ordId": ""}
        if fired is not None:
            filled = fired.filled * market.lot
            actual = {"actualSz": size, "actualPx": num(fired.cost / filled) if filled else "",
                      "actualSide": "tp" if fired.stop == entry.take_profit else "sl",
                      "triggerTime": ms_text(fired.updated), "ordId": fired.order_id}
        return {
            **self.swap_fields(entry, market)["attachAlgoOrds"][0], **actual,
            "instType": "SWAP", "instId": self.native(entry.symbol), "algoId": algo_id(entry), "algoClOrdId": "",
            "clOrdId": "", "ordIdList": [actual["ordId"]] if fired else [], "sz": size, "closeFraction": "",
            "ordType": "oco" if len(legs) == 2 else "conditional", "side": legs[0].side.value,
            "posSide": pos_side_text(entry.position_side), "reduceOnly": "true", "state": state,
            "tdMode": self.engine.account(entry.account).margin_modes.get(entry.symbol, MarginMode.CROSS).value,
            "lever": num(self.engine.account(entry.account).leverages.get(entry.symbol, Decimal(1))),
            "triggerPx": "", "triggerPxType": "", "ordPx": "", "tgtCcy": "", "tag": "", "last": "",
            "cTime": ms_text(legs[0].created), "uTime": ms_text(max(leg.updated for leg in legs)),
        }

    def cancel_source(self, order: SimOrder) -> str:
        if order.order_id in self.killed:
            return "31"
        expired = "13" if order.tif is TimeInForce.FOK else "14"
        return {OrderStatus.CANCELED: "1", OrderStatus.REJECTED: "0", OrderStatus.EXPIRED: expired}.get(order.status, "")

    def order_json(self, order: SimOrder) -> dict[str, Any]:
        market = self.engine.markets[order.symbol]
        placed = self.placements.get(order.order_id, NO_PLACEMENT)
        filled = order.filled * market.lot
        source = self.cancel_source(order)
        row = {
            **ORDER_BLANKS,
            "instType": "SPOT",
            "instId": self.native(order.symbol),
            "tgtCcy": placed.tgt_ccy,
            "ordId": order.order_id,
            "clOrdId": placed.cl_ord_id,
            "tag": placed.tag,
            "px": "" if order.price is None else num(order.price * market.tick),
            "sz": placed.quote_sz or num(order.amount * market.lot),
            "ordType": ord_type(order),
            "side": order.side.value,
            "accFillSz": num(filled),
            **self.last_fill(order),
            "avgPx": num(order.cost / filled) if filled else "",
            "state": STATES[order.status],
            "feeCcy": market.quote,
            "fee": fee_text(order.fee),
            "rebateCcy": market.base,
            "cancelSource": source,
            "cancelSourceReason": CANCEL_SOURCES.get(source, ""),
            "uTime": ms_text(order.updated or order.created),
            "cTime": ms_text(order.created),
            "tradeQuoteCcy": market.quote,
        }
        if order.symbol in CONTRACTS:
            row.update(self.swap_fields(order, market))
        return row

    def swap_fields(self, order: SimOrder, market: Market) -> dict[str, Any]:
        """What a SWAP order states differently: contracts, margin, position side, TP/SL."""
        account = self.engine.account(order.account)
        tp = "" if order.take_profit is None else num(order.take_profit * market.tick)
        sl = "" if order.stop_loss is None else num(order.stop_loss * market.tick)
        algos = [{"attachAlgoId": algo_id(order), "attachAlgoClOrdId": "", "tpTriggerPx": tp,
                  "tpTriggerPxType": "last" if tp else "", "tpOrdPx": "-1" if tp else "", "slTriggerPx": sl,
                  "slTriggerPxType": "last" if sl else "", "slOrdPx": "-1" if sl else "", "sz": "",
                  "amendPxOnTriggerType": "0", "failCode": "", "failReason": ""}] if tp or sl else []
        return {
            "instType": "SWAP", "tgtCcy": "", "sz": self.size_text(order.symbol, order.amount),
            "accFillSz": self.size_text(order.symbol, order.filled),
            "tdMode": account.margin_modes.get(order.symbol, MarginMode.CROSS).value,
            "posSide": pos_side_text(order.position_side), "reduceOnly": str(order.reduce_only).lower(),
            "lever": num(account.leverages.get(order.symbol, Decimal(1))), "rebateCcy": market.quote,
            "attachAlgoOrds": algos, **{k: v for k, v in (algos or [{}])[0].items() if k[:2] in ("tp", "sl")},
        }

    def last_fill(self, order: SimOrder) -> dict[str, str]:
        fills = [f for f in self.engine.account_fills(order.account, order.symbol) if f.order_id == order.order_id]
        if not fills:
            return {"fillPx": "", "fillSz": "", "tradeId": "", "fillTime": ""}
        last = fills[-1]
        return {"fillPx": num(last.price), "fillSz": self.size_of(order.symbol, last.amount), "tradeId": str(last.trade_id),
                "fillTime": ms_text(last.ts)}

    def fill_json(self, fill: SimFill) -> dict[str, Any]:
        placed = self.placements.get(fill.order_id, NO_PLACEMENT)
        rate = self.engine.taker_fee if fill.taker else self.engine.maker_fee
        order = self.engine.orders[fill.order_id]
        return {
            **FILL_BLANKS,
            "instType": "SWAP" if fill.symbol in CONTRACTS else "SPOT",
            "posSide": pos_side_text(order.position_side),
            "instId": self.native(fill.symbol),
            "tradeId": str(fill.trade_id),
            "ordId": fill.order_id,
            "clOrdId": placed.cl_ord_id,
            "billId": str(fill.trade_id * 2 + (0 if fill.taker else 1)),  # a trade can fill both sides
            "subType": "1" if fill.side is Side.BUY else "2",
            "tag": placed.tag,
            "fillPx": num(fill.price),
            "fillSz": self.size_of(fill.symbol, fill.amount),
            "side": fill.side.value,
            "execType": "T" if fill.taker else "M",
            "feeCcy": fill.fee_currency,
            "fee": fee_text(fill.fee),
            "feeRate": num(-rate),
            "ts": ms_text(fill.ts),
            "fillTime": ms_text(fill.ts),
            "tradeQuoteCcy": self.engine.markets[fill.symbol].quote,
        }

    # ---- private stream (/ws/v5/private: login, then the "orders" channel) -------------------

    async def on_private_message(self, conn: SimConnection, data: str | bytes) -> None:
        if data == "ping":
            conn.send("pong")
            return
        try:
            msg = orjson.loads(data)
        except orjson.JSONDecodeError:
            conn.send(self._event(conn, "error", code="60012", msg=f"Invalid request: {data!r}"))
            return
        op = msg.get("op") if isinstance(msg, dict) else None
        if op == "login":
            conn.send(self.ws_login(conn, msg.get("args")))
        elif op in ("subscribe", "unsubscribe"):
            for arg in msg.get("args") or []:
                conn.send(self.private_subscribe(conn, op, arg, msg.get("id")))
        else:
            conn.send(self._event(conn, "error", code="60019", msg=f"Invalid op: {op}"))

    def ws_login(self, conn: SimConnection, args: Any) -> str:
        """OKX's WebSocket login: sign = base64 HMAC-SHA256(secret, timestamp + "GET" +
        "/users/self/verify"), the timestamp in Unix seconds within 30 s of OKX's clock."""
        try:
            key = self.ws_key(args)
        except OkxError as exc:
            return self._event(conn, "error", code=exc.code, msg=exc.msg)
        conn.account = key.account
        return self._event(conn, "login", code="0", msg="")

    def ws_key(self, args: Any) -> ApiKey:
        login = args[0] if isinstance(args, list) and args and isinstance(args[0], dict) else {}
        for name, code in (("apiKey", "60001"), ("sign", "60002"), ("passphrase", "60003")):
            if not login.get(name):
                raise OkxError(code, f"{name} can not be empty.")
        key = self.api_keys.get(str(login["apiKey"]))
        if key is None:
            raise OkxError("60005", "Invalid apiKey")
        if not hmac.compare_digest(str(login["passphrase"]).encode(), (key.passphrase or "").encode()):
            raise OkxError("60024", "Wrong passphrase")
        stamp = str(login.get("timestamp", ""))
        try:
            sent = float(stamp)
        except ValueError:
            raise OkxError("60004", "Invalid timestamp") from None
        if abs(time.time() - sent) > TIME_WINDOW:
            raise OkxError("60006", "Timestamp request expired")
        expected = sign(key.secret, (stamp + "GET" + "/users/self/verify").encode())
        if not hmac.compare_digest(str(login["sign"]).encode(), expected.encode()):
            raise OkxError("60007", "Invalid sign")
        return key

    def private_subscribe(self, conn: SimConnection, op: str, arg: Any, rid: Any) -> str:
        """One ``orders`` subscription: an ``instType`` (ANY for all), optionally one ``instId``."""
        arg = arg if isinstance(arg, dict) else {}
        channel, inst_type, inst_id = arg.get("channel"), arg.get("instType"), str(arg.get("instId") or "")
        if conn.account is None:
            return self._event(conn, "error", code="60011", msg="Please log in")
        if channel != "orders" or inst_type not in INST_TYPES or (inst_id and self.symbol_of(inst_id) is None):
            return self._event(conn, "error", code="60018",
                               msg=f"Wrong URL or channel:{channel},instType:{inst_type} doesn't exist.")
        watched: set[tuple[str, str]] = conn.state.setdefault("orders", set())
        if op == "subscribe":
            watched.add((inst_type, inst_id))
        else:
            watched.discard((inst_type, inst_id))
        ack = {"channel": channel, "instType": inst_type} | ({"instId": inst_id} if inst_id else {})
        return self._event(conn, op, **({"id": rid} if rid else {}), arg=ack)

    def streaming_to(self, account: str) -> bool:
        return any(c.state.get("orders") for c in self.private_connections(account))

    def private_frames_for(self, conn: SimConnection, event: OrderEvent) -> list[Frame]:
        """One push per matching subscription, its ``arg`` as subscribed plus the ``uid``."""
        order = event.order
        inst_type, inst_id = "SWAP" if order.symbol in CONTRACTS else "SPOT", self.native(order.symbol)
        row = self.ws_order_json(order, event.fill)
        frames: list[Frame] = []
        for watched_type, watched_id in sorted(conn.state.get("orders", ())):
            if watched_type in (inst_type, "ANY") and watched_id in ("", inst_id):
                arg = {"channel": "orders", "instType": watched_type} | ({"instId": watched_id} if watched_id else {})
                frames.append(orjson.dumps({"arg": arg | {"uid": order.account}, "data": [row]}).decode())
        return frames

    def ws_order_json(self, order: SimOrder, fill: SimFill | None) -> dict[str, Any]:
        """The orders channel's row: the order as REST shows it, with the fill that caused this
        push (``fillSz``, ``fillPx``, ``tradeId``, ``fillFee`` negative when charged, ``execType``)
        in place of the order's last fill; blank fill fields on pushes no fill caused."""
        if self._placing is not None and order.order_id not in self.placements and order.parent is None:
            self.placements[order.order_id] = self._placing  # the order being placed (not a TP/SL child)
        row = self.order_json(order)
        row.update(code="0", msg="", reqId="", amendResult="", amendSource="", fillNotionalUsd="", notionalUsd="")
        if fill is None:
            row.update(avgPx=row["avgPx"] or "0", fillPx="", fillSz="0", tradeId="", fillTime="", fillFee="0", fillFeeCcy="", execType="")
            return row
        row.update(
            fillPx=num(fill.price), fillSz=self.size_of(fill.symbol, fill.amount), tradeId=str(fill.trade_id),
            fillTime=ms_text(fill.ts), fillFee=fee_text(fill.fee), fillFeeCcy=fill.fee_currency,
            execType="T" if fill.taker else "M", feeCcy=fill.fee_currency,
        )
        return row

    # ---- WebSocket --------------------------------------------------------------------------

    def on_connect(self, conn: SimConnection) -> None:
        conn.state["connId"] = secrets.token_hex(4)

    async def on_client_message(self, conn: SimConnection, data: str | bytes) -> None:
        if data == "ping":
            self.client_pings += 1
            conn.send("pong")
            return
        try:
            msg = orjson.loads(data)
        except orjson.JSONDecodeError:
            conn.send(self._event(conn, "error", code="60012", msg=f"Invalid request: {data!r}"))
            return
        op = msg.get("op")
        if op not in ("subscribe", "unsubscribe"):
            conn.send(self._event(conn, "error", code="60012", msg=f"Invalid request: {msg}"))
            return
        snapshots: list[str] = []  # OKX acks every channel of a request before it sends data
        for arg in msg.get("args", []):
            channel, native = arg.get("channel"), arg.get("instId", "")
            symbol = self.symbol_of(native)
            if channel not in CHANNELS or symbol is None:
                conn.send(self._event(conn, "error", code="60018", msg=f"Wrong URL or channel:{channel},instId:{native} doesn't exist."))
                continue
            channels: set[str] = conn.subs.setdefault(symbol, set())
            if op == "subscribe":
                channels.add(channel)
            else:
                channels.discard(channel)
                if not channels:
                    del conn.subs[symbol]
            conn.send(self._event(conn, op, arg={"channel": channel, "instId": native}))
            if op == "subscribe" and channel == "books" and self.inband_snapshot:
                snapshots.append(self._snapshot_frame(symbol))
        for frame in snapshots:
            conn.send(frame)

    def _event(self, conn: SimConnection, event: str, **fields: Any) -> str:
        return orjson.dumps({"event": event, **fields, "connId": conn.state["connId"]}).decode()

    def _snapshot_frame(self, symbol: str) -> str:
        bids, asks = self.views[symbol]
        data = {
            "asks": self._levels(symbol, sorted(asks.items())),
            "bids": self._levels(symbol, sorted(bids.items(), reverse=True)),
            "ts": str(_now_ms()),
            "checksum": self._checksum(symbol),
            "prevSeqId": -1,
            "seqId": self.seq[symbol],
        }
        return self._book_frame(symbol, "snapshot", data)

    def _book_frame(self, symbol: str, action: str, data: dict[str, Any]) -> str:
        arg = {"channel": "books", "instId": self.native(symbol)}
        return orjson.dumps({"arg": arg, "action": action, "data": [data]}).decode()

    def encode(self, symbol: str, changes: list[Change]) -> str | None:
        """The change of the 400-level window since the last tick; None when it did not move."""
        old_bids, old_asks = self.views[symbol]
        new_bids, new_asks = self._window(symbol)
        bids = _diff(old_bids, new_bids)
        asks = _diff(old_asks, new_asks)
        if not bids and not asks:
            return None
        self.views[symbol] = (new_bids, new_asks)
        prev = self.seq[symbol] + (1 if self.faults.take("skip", symbol) else 0)
        self.seq[symbol] = prev + len(bids) + len(asks)
        checksum = self._checksum(symbol)
        if self.faults.take("corrupt", symbol):
            checksum = (checksum ^ 1) or 2
        data = {
            "asks": self._levels(symbol, sorted(asks)),
            "bids": self._levels(symbol, sorted(bids, reverse=True)),
            "ts": str(_now_ms()),
            "checksum": checksum,
            "prevSeqId": prev,
            "seqId": self.seq[symbol],
        }
        return self._book_frame(symbol, "update", data)

    def frames_for(self, conn: SimConnection, symbol: str, encoded: str | None) -> list[Frame]:
        return [encoded] if encoded is not None and "books" in conn.subs[symbol] else []

    def trade_frames_for(self, conn: SimConnection, symbol: str, encoded: list[Frame]) -> list[Frame]:
        return encoded if "trades" in conn.subs[symbol] else []

    def trade_frame(self, symbol: str, ticks: int, lots: int, buy: bool, trade_id: int) -> str:
        native = self.native(symbol)
        trade = {
            "instId": native,
            "tradeId": str(trade_id),
            "px": self.price_text(symbol, ticks),
            "sz": self.size_text(symbol, lots),
            "side": "buy" if buy else "sell",
            "ts": str(_now_ms()),
            "count": "1",
        }
        return orjson.dumps({"arg": {"channel": "trades", "instId": native}, "data": [trade]}).decode()


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


def currency_json(ccy: str) -> dict[str, Any]:
    name, network = NETWORKS[ccy]
    return {
        "ccy": ccy, "name": name, "chain": f"{ccy}-{network}", "logoLink": "", "ctAddr": "",
        "canDep": True, "canWd": True, "canInternal": True, "depEstOpenTime": "", "wdEstOpenTime": "",
        "minDep": "0.00000001", "minWd": "0.0001", "maxWd": "10000000", "wdTickSz": "8", "wdQuota": "10000000",
        "usedWdQuota": "0", "fee": "0.0001", "minFee": "0.0001", "maxFee": "0.0002", "mainNet": True,
        "needTag": False, "minDepArrivalConfirm": "1", "minWdUnlockConfirm": "2",
    }


def _diff(old: View, new: View) -> list[tuple[int, int]]:
    """Levels whose size changed, entered or (as size 0) left the window."""
    out = [(p, q) for p, q in new.items() if old.get(p) != q]
    out.extend((p, 0) for p in old if p not in new)
    return out


SIMS: dict[str, type[SimVenue]] = {"okx": OkxSim}
