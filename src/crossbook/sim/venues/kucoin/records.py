"""Simulated KuCoin: signed requests and what they read (accounts, orders, fills)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import uuid
import zlib
from string import hexdigits
from typing import Any

import orjson
from aiohttp import web

from ....model import OrderType, Side
from ...access import ApiKey
from ...engine import Reject, SimFill, SimOrder
from ...refusal import Reason
from ...server import json_response
from .errors import ERRORS, PARAMETER_ERROR, REFUSALS, rejected
from .public import KucoinPublic
from .wire import (
    CANCELED,
    OK,
    TIMESTAMP_WINDOW_MS,
    ZERO,
    Handler,
    Params,
    Private,
    b64_hmac,
    dec,
    in_window,
    ms,
    page,
)


class KucoinRecords(KucoinPublic):
    """KuCoin's signed reads: authentication, accounts, fees, and HF, classic and stop orders and fills as KuCoin writes them."""

    async def bullet_private(self, key: ApiKey, request: web.Request, params: Params) -> Any:
        token = base64.b64encode(uuid.uuid4().bytes + uuid.uuid4().bytes).decode()
        self.private_tokens[token] = key.account
        return {"token": token, "instanceServers": [self.instance_server(self.private_ws_paths[0])]}

    def signed(self, handler: Private, trading: bool = True) -> Handler:
        """A private endpoint: KuCoin's checks first, then ``handler``'s ``data`` in the envelope.
        ``trading``: its POST and DELETE need the key's trade permission."""

        async def check(request: web.Request) -> web.Response:
            body = await request.read()
            try:
                key = self.authenticate(request, body)
                if trading and request.method != "GET" and "trade" not in key.permissions:
                    raise REFUSALS[Reason.PERMISSION_DENIED].refuse()
                data = await handler(key, request, self.params_of(request, body))
            except Reject as exc:
                raise rejected(exc) from None
            except (ValueError, ArithmeticError):
                raise PARAMETER_ERROR.refuse() from None
            return json_response({"code": OK, "data": data})

        return check

    def authenticate(self, request: web.Request, body: bytes) -> ApiKey:
        """KuCoin checks the passphrase before the signature (a request with both hex-encoded is
        refused for its passphrase, ccxt issue 9369); both are keyed with the secret, so a wrong
        secret fails at the passphrase."""
        headers = request.headers
        stamp, sign, name, phrase = (headers.get(h, "") for h in ("KC-API-TIMESTAMP", "KC-API-SIGN", "KC-API-KEY", "KC-API-PASSPHRASE"))
        if not (stamp and sign and name and phrase):
            raise REFUSALS[Reason.MISSING_CREDENTIALS].refuse()
        key = self.api_keys.get(name)
        if key is None:
            raise REFUSALS[Reason.UNKNOWN_KEY].refuse()
        if not stamp.isdigit() or abs(int(stamp) - ms(time.time())) > TIMESTAMP_WINDOW_MS:
            raise REFUSALS[Reason.STALE_TIMESTAMP].refuse()
        if not hmac.compare_digest(phrase, b64_hmac(key.secret, (key.passphrase or "").encode())):
            raise REFUSALS[Reason.BAD_PASSPHRASE].refuse()
        prehash = stamp.encode() + request.method.encode() + request.raw_path.encode() + body
        if not hmac.compare_digest(sign, b64_hmac(key.secret, prehash)):
            raise REFUSALS[Reason.BAD_SIGNATURE].refuse()
        return key

    @staticmethod
    def params_of(request: web.Request, body: bytes) -> Params:
        """GET/DELETE carry their parameters in the query, POST in a JSON body."""
        params: Params = dict(request.query)
        if body:
            payload = orjson.loads(body)
            if not isinstance(payload, dict):
                raise ValueError("the body must be a JSON object")
            params.update(payload)
        return params

    async def api_key_info(self, key: ApiKey, request: web.Request, params: Params) -> Any:
        """``GET /api/v1/user/api-key``: the key's permissions as KuCoin names them (Transfer is
        withdrawal there, InnerTransfer moves funds between accounts), its IP whitelist, its age."""
        names = {"read": "General", "trade": "Spot", "transfer": "InnerTransfer", "withdraw": "Transfer"}
        return {
            "remark": f"crossbook-{key.account}", "apiKey": key.key, "apiVersion": 3,
            "permission": ",".join(name for right, name in names.items() if key.may(right)),
            "ipWhitelist": ",".join(key.ips), "createdAt": ms(key.created), "uid": zlib.crc32(key.account.encode()) % 10**9,
            "isMaster": self.engine.account(key.account).parent is None,
        }

    async def account_mode(self, key: ApiKey, request: web.Request, params: Params) -> Any:
        return {"selfAccountMode": "CLASSIC", "unifiedSubAccount": [], "classicSubAccount": []}

    async def hf_opened(self, key: ApiKey, request: web.Request, params: Params) -> Any:
        return self.hf_account

    async def margin_symbols(self, key: ApiKey, request: web.Request, params: Params) -> Any:
        return {"timestamp": ms(time.time()), "items": []}  # margin trading is not simulated

    async def isolated_symbols(self, key: ApiKey, request: web.Request, params: Params) -> Any:
        return []

    async def full_order_book(self, key: ApiKey, request: web.Request, params: Params) -> Any:
        symbol = self.symbol_param(params)
        ladder = self.ladders[symbol]
        return self.book_data(symbol, len(ladder.bids) + len(ladder.asks))

    async def accounts(self, key: ApiKey, request: web.Request, params: Params) -> Any:
        """The spot balance lives in one account, ``trade_hf`` or ``trade`` as the account is HF or not."""
        if params.get("type", self.account_type) != self.account_type:
            return []
        account = self.engine.account(key.account)
        currencies = sorted(set(account.balances) | set(account.locked))
        return [
            {
                "id": hashlib.sha256(f"{key.account}:{c}:{self.account_type}".encode()).hexdigest()[:24],
                "currency": c,
                "type": self.account_type,
                "balance": dec(account.balances.get(c, ZERO)),
                "available": dec(account.available(c)),
                "holds": dec(account.locked.get(c, ZERO)),
            }
            for c in currencies
            if params.get("currency", c) == c
        ]

    async def trade_fees(self, key: ApiKey, request: web.Request, params: Params) -> Any:
        names = str(params.get("symbols", "")).split(",")
        if any(self.symbol_of(n) is None for n in names):
            raise ERRORS[Reason.UNKNOWN_SYMBOL].refuse()
        return [{"symbol": n, "takerFeeRate": dec(self.engine.taker_fee), "makerFeeRate": dec(self.engine.maker_fee)} for n in names]

    def user_id(self, account: str) -> str:
        """The account's KuCoin uid (a sub-account's ``userId``): a stable 9-digit number."""
        return str(100_000_000 + int(hashlib.sha256(account.encode()).hexdigest(), 16) % 900_000_000)

    def sub_account(self, master: str, uid: Any) -> str:
        """The sub-account of ``master`` with this uid."""
        for name, account in self.engine.accounts.items():
            if account.parent == master and self.user_id(name) == str(uid):
                return name
        raise REFUSALS[Reason.UNKNOWN_ACCOUNT].refuse()

    def order_id(self, order: SimOrder) -> str:
        """KuCoin's 24-hex order id: the creation second, then the engine's number."""
        return f"{int(order.created):08x}{int(order.order_id):016x}"

    def by_id(self, key: ApiKey, native: str) -> SimOrder:
        engine_id = str(int(native[8:], 16)) if len(native) == 24 and all(c in hexdigits for c in native) else ""
        order = self.engine.find(key.account, engine_id)
        if self.order_id(order) != native:
            raise Reject("unknown_order", "no such order")
        return order

    def lookup(self, key: ApiKey, request: web.Request, params: Params) -> SimOrder:
        client_oid = request.match_info.get("clientOid", params.get("clientOid"))
        if client_oid is not None:
            return self.engine.find(key.account, client_id=str(client_oid))
        return self.by_id(key, request.match_info["orderId"])

    def symbol_param(self, params: Params) -> str:
        symbol = self.symbol_of(str(params.get("symbol", "")))
        if symbol is None:
            raise ERRORS[Reason.UNKNOWN_SYMBOL].refuse()
        return symbol

    def listed(self, key: ApiKey, params: Params, active: bool) -> list[SimOrder]:
        """The account's orders (not untriggered stops), newest first, filtered as KuCoin filters."""
        symbol = self.symbol_param(params) if "symbol" in params else None
        orders = [
            o for o in self.engine.orders.values()
            if o.account == key.account and not o.waiting and o.status.final != active
            and symbol in (None, o.symbol) and params.get("side", o.side.value) == o.side.value
            and params.get("type", self.kind(o)) == self.kind(o) and in_window(ms(o.created), params)
        ]
        return sorted(orders, key=lambda o: o.seq, reverse=True)

    async def hf_active(self, key: ApiKey, request: web.Request, params: Params) -> Any:
        self.symbol_param(params)
        return [self.hf_json(o) for o in self.listed(key, params, active=True)]

    async def hf_done(self, key: ApiKey, request: web.Request, params: Params) -> Any:
        self.symbol_param(params)
        limit = min(100, max(1, int(params.get("limit", 20))))
        return {"lastId": 0, "items": [self.hf_json(o) for o in self.listed(key, params, active=False)[:limit]]}

    async def hf_fills(self, key: ApiKey, request: web.Request, params: Params) -> Any:
        self.symbol_param(params)
        limit = min(100, max(1, int(params.get("limit", 20))))
        fills = self.my_fills(key, params)[:limit]
        return {"items": [self.hf_fill_json(n, f) for n, f in fills], "lastId": fills[-1][0] if fills else 0}

    async def classic_list(self, key: ApiKey, request: web.Request, params: Params) -> Any:
        orders = self.listed(key, params, active=params.get("status", "done") == "active")
        return page([self.classic_json(o) for o in orders], params)

    async def classic_fills(self, key: ApiKey, request: web.Request, params: Params) -> Any:
        return page([self.fill_json(f) for _, f in self.my_fills(key, params)], params)

    async def stop_list(self, key: ApiKey, request: web.Request, params: Params) -> Any:
        symbol = self.symbol_param(params) if "symbol" in params else None
        orders = [
            o for o in self.engine.orders.values()
            if o.account == key.account and o.waiting and not o.status.final and symbol in (None, o.symbol)
        ]
        return page([self.stop_json(o) for o in sorted(orders, key=lambda o: o.seq, reverse=True)], params)

    def my_fills(self, key: ApiKey, params: Params) -> list[tuple[int, SimFill]]:
        """The account's fills, newest first, each with its position in the venue's fill log (the
        HF ``id``)."""
        symbol = self.symbol_param(params) if "symbol" in params else None
        order_id = params.get("orderId")
        fills = [
            (n, f) for n, f in enumerate(self.engine.fills, 1)
            if f.account == key.account and symbol in (None, f.symbol)
            and order_id in (None, self.order_id(self.engine.orders[f.order_id]))
            and params.get("side", f.side.value) == f.side.value and in_window(ms(f.ts), params)
        ]
        return fills[::-1]

    @staticmethod
    def kind(order: SimOrder) -> str:
        return "limit" if order.type in (OrderType.LIMIT, OrderType.STOP_LIMIT) else "market"

    @staticmethod
    def direction(order: SimOrder) -> str:
        if order.stop is None:
            return ""
        return "entry" if order.side is Side.BUY else "loss"

    def price_of(self, symbol: str, ticks: int | None) -> str:
        return dec((ticks or 0) * self.engine.markets[symbol].tick)

    def size_of(self, symbol: str, lots: int | None) -> str:
        return dec((lots or 0) * self.engine.markets[symbol].lot)

    def order_fields(self, order: SimOrder) -> dict[str, Any]:
        """What KuCoin's classic and HF order records share."""
        return {
            "id": self.order_id(order),
            "clientOid": order.client_id,
            "symbol": order.symbol,
            "opType": "DEAL",
            "type": self.kind(order),
            "side": order.side.value,
            "price": self.price_of(order.symbol, order.price),
            "size": self.size_of(order.symbol, order.amount),
            "funds": dec(self.funds.get(order.order_id, ZERO)),
            "dealSize": self.size_of(order.symbol, order.filled),
            "dealFunds": dec(order.cost),
            "fee": dec(order.fee),
            "feeCurrency": self.engine.markets[order.symbol].quote,
            "timeInForce": order.tif.value.upper(),
            "postOnly": order.post_only,
            "hidden": False,
            "iceberg": order.visible is not None,
            "visibleSize": self.size_of(order.symbol, order.visible),
            "cancelAfter": 0,
            "channel": "API",
            "remark": None,
            "tags": None,
            "cancelExist": order.status in CANCELED,
            "tradeType": "TRADE",
            "createdAt": ms(order.created),
        }

    def classic_json(self, order: SimOrder) -> dict[str, Any]:
        return {
            **self.order_fields(order),
            "stp": "",
            "stop": self.direction(order),
            "stopTriggered": order.triggered,
            "stopPrice": self.price_of(order.symbol, order.stop),
            "isActive": not order.status.final,
        }

    def hf_json(self, order: SimOrder) -> dict[str, Any]:
        left = order.remaining
        return {
            **self.order_fields(order),
            "stp": "",
            "remainSize": self.size_of(order.symbol, 0 if order.status.final else left),
            "remainFunds": "0",
            "cancelledSize": self.size_of(order.symbol, left if order.status in CANCELED else 0),
            "cancelledFunds": "0",
            "inOrderBook": order.shown > 0,
            "active": not order.status.final,
            "tax": "0",
            "lastUpdatedAt": ms(order.updated),
        }

    def stop_json(self, order: SimOrder) -> dict[str, Any]:
        return {
            "id": self.order_id(order),
            "symbol": order.symbol,
            "status": "NEW" if order.waiting else "TRIGGERED",
            "type": self.kind(order),
            "side": order.side.value,
            "price": self.price_of(order.symbol, order.price),
            "size": self.size_of(order.symbol, order.amount),
            "funds": None,
            "stp": None,
            "timeInForce": order.tif.value.upper(),
            "cancelAfter": -1,
            "postOnly": order.post_only,
            "hidden": False,
            "iceberg": order.visible is not None,
            "visibleSize": self.size_of(order.symbol, order.visible),
            "channel": "API",
            "clientOid": order.client_id,
            "remark": None,
            "tags": None,
            "domainId": "kucoin",
            "tradeSource": "USER",
            "tradeType": "TRADE",
            "feeCurrency": self.engine.markets[order.symbol].quote,
            "takerFeeRate": dec(self.engine.taker_fee),
            "makerFeeRate": dec(self.engine.maker_fee),
            "createdAt": ms(order.created),
            "stop": self.direction(order),
            "stopTriggerTime": None,
            "stopPrice": self.price_of(order.symbol, order.stop),
            "orderTime": int(order.created * 1e9),
        }

    def fill_json(self, fill: SimFill) -> dict[str, Any]:
        order = self.engine.orders[fill.order_id]
        return {
            "symbol": fill.symbol,
            "tradeId": str(fill.trade_id),
            "orderId": self.order_id(order),
            "side": fill.side.value,
            "liquidity": "taker" if fill.taker else "maker",
            "forceTaker": False,
            "price": dec(fill.price),
            "size": dec(fill.amount),
            "funds": dec(fill.price * fill.amount),
            "fee": dec(fill.fee),
            "feeRate": dec(self.engine.taker_fee if fill.taker else self.engine.maker_fee),
            "feeCurrency": fill.fee_currency,
            "stop": self.direction(order),
            "tradeType": "TRADE",
            "type": self.kind(order),
            "createdAt": ms(fill.ts),
        }

    def hf_fill_json(self, number: int, fill: SimFill) -> dict[str, Any]:
        return {**self.fill_json(fill), "id": number, "tradeId": fill.trade_id, "taxRate": "0", "tax": "0"}
