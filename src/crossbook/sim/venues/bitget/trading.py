"""Simulated Bitget: signed requests, spot and plan orders, the private WebSocket, and the spot venue ``BitgetSpotSim``."""

from __future__ import annotations

import hmac
import time
from decimal import ROUND_DOWN, Decimal
from typing import Any
from urllib.parse import unquote

import orjson
from aiohttp import web

from ....model import OrderType, Side
from ...access import ApiKey
from ...engine import OrderEvent, Reject, SimFill, SimOrder
from ...refusal import Reason, Refusal, refuse
from ...server import Frame, SimConnection, json_response
from .errors import (
    BAD_PARAMETER,
    CLASSIC_ACCOUNT,
    ERRORS,
    PLAN_NOT_FOUND,
    REFUSALS,
    bitget_error,
    unknown_symbol,
)
from .views import BitgetOrderViews
from .wire import (
    FORCES,
    LOGIN_WINDOW_S,
    PRIVATE_CHANNELS,
    REQUIRED_HEADERS,
    STATUS,
    TIMESTAMP_WINDOW_MS,
    Handler,
    Params,
    Private,
    _decimal,
    _envelope,
    _error,
    _ms,
    _num,
    _required,
    _text,
    prehash,
    signature,
)

HISTORY_PAGE = 100  # history-orders' default and largest limit


def _millis(params: Params, name: str) -> int | None:
    """An optional millisecond timestamp parameter (40017 naming it if it is not one)."""
    text = params.get(name)
    if text is None or text == "":
        return None
    if not str(text).isdigit():
        raise bitget_error("40017", f"Parameter {name} must be a timestamp in milliseconds: {text}")
    return int(text)


def _page_size(params: Params) -> int:
    text = str(params.get("limit") or HISTORY_PAGE)
    if not text.isdigit() or not 1 <= int(text) <= HISTORY_PAGE:
        raise bitget_error("40017", f"Parameter limit must be 1 to {HISTORY_PAGE}: {text}")
    return int(text)


class BitgetSpotSim(BitgetOrderViews):

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/api/v2/spot/public/symbols", self.symbols_info),
            web.get("/api/v2/spot/public/coins", self.coins),
            web.get("/api/v2/margin/currencies", self.margin_currencies),
            *self.trading_routes(),
        ]

    def trading_routes(self) -> list[web.RouteDef]:
        spot = "/api/v2/spot"
        return [
            web.get("/api/v3/account/settings", self.signed(self.account_settings)),
            web.get(f"{spot}/account/info", self.signed(self.account_info)),
            web.get(f"{spot}/account/assets", self.signed(self.assets)),
            web.post(f"{spot}/trade/place-order", self.signed(self.place_order)),
            web.post(f"{spot}/trade/cancel-order", self.signed(self.cancel_order)),
            web.post(f"{spot}/trade/cancel-replace-order", self.signed(self.cancel_replace_order)),
            web.get(f"{spot}/trade/orderInfo", self.signed(self.order_info)),
            web.get(f"{spot}/trade/unfilled-orders", self.signed(self.unfilled_orders)),
            web.get(f"{spot}/trade/history-orders", self.signed(self.history_orders)),
            web.get(f"{spot}/trade/fills", self.signed(self.fills)),
            web.post(f"{spot}/trade/place-plan-order", self.signed(self.place_plan_order)),
            web.post(f"{spot}/trade/cancel-plan-order", self.signed(self.cancel_plan_order)),
            web.get(f"{spot}/trade/current-plan-order", self.signed(self.current_plan_orders)),
            web.get("/api/v2/common/trade-rate", self.signed(self.trade_rate)),
        ]

    def signed(self, handler: Private, right: str = "trade") -> Handler:
        """Bitget's private-endpoint rule, then the handler; refusals in Bitget's own codes. A POST
        needs the key's ``right`` (40014 without it)."""

        async def check(request: web.Request) -> web.Response:
            try:
                body = (await request.read()).decode()
                key = self.authenticate(request, body)
                if request.method == "POST" and right not in key.permissions:
                    raise REFUSALS[Reason.PERMISSION_DENIED].refuse()
                return await handler(key, self.params_of(request, body))
            except Reject as exc:
                raise refuse(ERRORS, exc, BAD_PARAMETER) from None
            except (ArithmeticError, ValueError):  # a number that does not parse
                raise BAD_PARAMETER.refuse() from None

        return check

    def authenticate(self, request: web.Request, body: str) -> ApiKey:
        headers = request.headers
        for header, code, msg in REQUIRED_HEADERS:
            if not headers.get(header):
                raise bitget_error(code, msg)
        stamp = headers["ACCESS-TIMESTAMP"]
        if not stamp.isdigit():
            raise bitget_error("40005", "Invalid ACCESS_TIMESTAMP")
        if abs(_ms() - int(stamp)) > TIMESTAMP_WINDOW_MS:
            raise REFUSALS[Reason.STALE_TIMESTAMP].refuse()
        key = self.api_keys.get(headers["ACCESS-KEY"])
        if key is None:
            raise REFUSALS[Reason.UNKNOWN_KEY].refuse()
        if not hmac.compare_digest(headers["ACCESS-PASSPHRASE"].encode(), (key.passphrase or "").encode()):
            raise REFUSALS[Reason.BAD_PASSPHRASE].refuse()
        # the query is signed as its raw, unescaped text
        message = prehash(stamp, request.method, request.path, unquote(request.query_string), body)
        if not hmac.compare_digest(headers["ACCESS-SIGN"].encode(), signature(key.secret, message).encode()):
            raise REFUSALS[Reason.BAD_SIGNATURE].refuse()
        return key

    @staticmethod
    def params_of(request: web.Request, body: str) -> Params:
        if request.method == "GET":
            return dict(request.query)
        try:
            params = orjson.loads(body or "{}")
        except orjson.JSONDecodeError:
            raise BAD_PARAMETER.refuse() from None
        if not isinstance(params, dict):
            raise BAD_PARAMETER.refuse()
        return params

    def symbol_param(self, params: Params) -> str:
        native = _required(params, "symbol")
        symbol = self.symbol_of(native)
        if symbol is None:
            raise unknown_symbol(native)
        return symbol

    def side_param(self, params: Params) -> Side:
        side = _required(params, "side").lower()
        if side not in ("buy", "sell"):
            raise BAD_PARAMETER.refuse()
        return Side(side)

    def kind_param(self, params: Params) -> str:
        kind = _required(params, "orderType").lower()
        if kind not in ("limit", "market"):
            raise BAD_PARAMETER.refuse()
        return kind

    def force_param(self, params: Params) -> str:
        force = str(params.get("force") or "gtc").lower()
        if force not in FORCES:
            raise BAD_PARAMETER.refuse()
        return force

    async def account_info(self, key: ApiKey, params: Params) -> web.Response:
        """``GET /api/v2/spot/account/info``: the key's ``authorities`` as Bitget names them
        (``...or`` read, ``...ow`` write: stow spot trade, coow futures orders, wtow transfer, wwow
        withdrawal) and its bound ``ips``."""
        rights = ["stor", "coor", "wtor", "wwor"] if key.may("read") else []
        rights += ["stow", "coow"] if key.may("trade") else []
        rights += ["wtow"] if key.may("transfer") else []
        rights += ["wwow"] if key.may("withdraw") else []
        account = self.engine.account(key.account)
        return json_response(_envelope({
            "userId": key.account, "inviterId": "", "ips": ",".join(key.ips), "authorities": rights,
            "parentId": account.parent or key.account, "traderType": "", "channelCode": "", "channel": "",
            "regisTime": str(int(key.created * 1000)),
        }))

    async def account_settings(self, key: ApiKey, params: Params) -> web.Response:
        raise CLASSIC_ACCOUNT.refuse()

    async def assets(self, key: ApiKey, params: Params) -> web.Response:
        account = self.engine.account(key.account)
        coins = sorted(set(account.balances) | set(account.locked))
        wanted = params.get("coin")
        now = str(_ms())
        rows = [
            {
                "coin": coin,
                "available": _num(account.available(coin)),
                "limitAvailable": "0",
                "frozen": _num(account.locked.get(coin, Decimal(0))),
                "locked": "0",
                "uTime": now,
            }
            for coin in coins
            if wanted in (None, coin)
        ]
        return json_response(_envelope(rows))

    async def place_order(self, key: ApiKey, params: Params) -> web.Response:
        symbol = self.symbol_param(params)
        side, kind, force = self.side_param(params), self.kind_param(params), self.force_param(params)
        size = _decimal(params, "size")
        market_buy = kind == "market" and side is Side.BUY
        order = self.engine.submit(
            key.account,
            symbol,
            side,
            OrderType.LIMIT if kind == "limit" else OrderType.MARKET,
            self.base_for_quote(key.account, symbol, size) if market_buy else size,
            _decimal(params, "price") if kind == "limit" else None,
            tif=FORCES[force],
            post_only=force == "post_only",
            client_id=params.get("clientOid"),
        )
        if market_buy:
            self.quote_sizes[order.order_id] = size
        return json_response(_envelope({"orderId": order.order_id, "clientOid": order.client_id}))

    def base_for_quote(self, account: str, symbol: str, quote: Decimal) -> Decimal:
        """What ``quote`` buys now, walking the asks best first, with the taker fee paid out of it."""
        market = self.engine.markets[symbol]
        if quote > self.engine.account(account).available(market.quote):
            raise Reject("insufficient_balance", f"a market buy of {quote} {market.quote} exceeds the balance")
        asks = self.ladders[symbol].asks
        left, lots = quote / (1 + self.engine.taker_fee), 0
        for ticks in sorted(asks):
            lot_cost = ticks * market.tick * market.lot
            take = min(asks[ticks], int(left / lot_cost))
            lots += take
            left -= take * lot_cost
            if take < asks[ticks]:
                break
        return lots * market.lot

    async def place_plan_order(self, key: ApiKey, params: Params) -> web.Response:
        """A spot trigger order: a market (STOP) or limit (STOP_LIMIT) order once a trade reaches
        ``triggerPrice``. A ``total`` plan (a market buy in quote) is sized at the trigger price."""
        symbol = self.symbol_param(params)
        side, kind, force = self.side_param(params), self.kind_param(params), self.force_param(params)
        trigger, size = _decimal(params, "triggerPrice"), _decimal(params, "size")
        total = str(params.get("planType", "amount")).lower() == "total"
        lot = self.engine.markets[symbol].lot
        amount = (size / trigger / lot).to_integral_value(ROUND_DOWN) * lot if total else size
        order = self.engine.submit(
            key.account,
            symbol,
            side,
            OrderType.STOP_LIMIT if kind == "limit" else OrderType.STOP,
            amount,
            _decimal(params, "executePrice") if kind == "limit" else None,
            stop_price=trigger,
            tif=FORCES[force],
            client_id=params.get("clientOid"),
        )
        if total:
            self.quote_sizes[order.order_id] = size
        return json_response(_envelope({"orderId": order.order_id, "clientOid": order.client_id}))

    def find(self, key: ApiKey, params: Params) -> SimOrder:
        return self.engine.find(key.account, params.get("orderId"), params.get("clientOid"))

    async def cancel_order(self, key: ApiKey, params: Params) -> web.Response:
        self.symbol_param(params)
        order = self.find(key, params)
        self.engine.cancel(key.account, order.order_id)
        return json_response(_envelope({"orderId": order.order_id, "clientOid": order.client_id}))

    async def cancel_replace_order(self, key: ApiKey, params: Params) -> web.Response:
        """``cancel-replace-order``: cancel a resting limit order and place a new one on its symbol
        and side at ``price`` for ``size`` base (its time in force kept; a new ``orderId``, the back
        of the queue; ``newClientOid`` if given). An order that is not live, or a plan order, is
        43001 and nothing changes; a replacement the engine refuses leaves the old order canceled,
        answered as ``success: "failure"`` with the reason in ``msg`` and no ``orderId``."""
        symbol = self.symbol_param(params)
        price, size = _decimal(params, "price"), _decimal(params, "size")
        old = self.find(key, params)
        if old.waiting or old.price is None or old.symbol != symbol:
            raise Reject("unknown_order", f"no resting limit order {old.order_id} on {symbol}")
        self.engine.cancel(key.account, old.order_id)
        new_client_id = params.get("newClientOid") or None
        try:
            order = self.engine.submit(key.account, symbol, old.side, OrderType.LIMIT, size, price, tif=old.tif,
                                       post_only=old.post_only, client_id=new_client_id)
        except Reject as exc:
            failed = refuse(ERRORS, exc, BAD_PARAMETER)
            return json_response(_envelope({"orderId": None, "clientOid": new_client_id, "success": "failure",
                                            "msg": failed.message}))
        return json_response(_envelope({"orderId": order.order_id, "clientOid": order.client_id, "success": "success",
                                        "msg": None}))

    async def cancel_plan_order(self, key: ApiKey, params: Params) -> web.Response:
        try:
            order = self.find(key, params)
        except Reject:
            raise PLAN_NOT_FOUND.refuse() from None
        if not order.waiting or order.status.final:
            raise PLAN_NOT_FOUND.refuse()
        self.engine.cancel(key.account, order.order_id)
        return json_response(_envelope({"result": "success"}))

    async def order_info(self, key: ApiKey, params: Params) -> web.Response:
        try:
            order = self.find(key, params)
        except Reject:
            return json_response(_envelope([]))  # an unknown id is an empty list, not an error
        return json_response(_envelope([self.order_json(order)]))

    async def unfilled_orders(self, key: ApiKey, params: Params) -> web.Response:
        orders = self.open_orders(key, params, waiting=False)
        return json_response(_envelope([self.unfilled_json(o) for o in orders]))

    async def history_orders(self, key: ApiKey, params: Params) -> web.Response:
        """``history-orders``: the account's finished orders (filled or cancelled; plan orders that
        never triggered are the plan history's), newest first, in ``orderInfo``'s shape. Filters:
        ``symbol``, ``orderId``, ``startTime``/``endTime`` (ms, on ``cTime``), ``idLessThan`` (the
        page older than that order) and ``limit`` (default and most 100)."""
        symbol = self.symbol_param(params) if "symbol" in params else None
        start, end = _millis(params, "startTime"), _millis(params, "endTime")
        limit = _page_size(params)
        older_than = self.cursor_seq(key, params.get("idLessThan"))
        orders = [
            o for o in self.engine.orders.values()
            if o.account == key.account and o.status.final and not o.waiting
            and (symbol is None or o.symbol == symbol)
            and params.get("orderId") in (None, o.order_id)
            and (start is None or _ms(o.created) >= start) and (end is None or _ms(o.created) <= end)
            and (older_than is None or o.seq < older_than)
        ]
        newest = sorted(orders, key=lambda o: o.seq, reverse=True)[:limit]
        return json_response(_envelope([self.order_json(o) for o in newest]))

    def cursor_seq(self, key: ApiKey, order_id: str | None) -> int | None:
        """The engine sequence of the order an ``idLessThan`` cursor names (40017 if it is no order of the account)."""
        if not order_id:
            return None
        order = self.engine.orders.get(order_id)
        if order is None or order.account != key.account:
            raise bitget_error("40017", f"Parameter idLessThan is not an order of this account: {order_id}")
        return order.seq

    async def current_plan_orders(self, key: ApiKey, params: Params) -> web.Response:
        orders = self.open_orders(key, params, waiting=True)
        last = orders[-1].order_id if orders else ""
        return json_response(_envelope({"nextFlag": False, "idLessThan": last, "orderList": [self.plan_json(o) for o in orders]}))

    def open_orders(self, key: ApiKey, params: Params, *, waiting: bool) -> list[SimOrder]:
        """Newest first, as the venue lists them."""
        symbol = self.symbol_param(params) if "symbol" in params else None
        orders = [o for o in self.engine.open_orders(key.account, symbol) if o.waiting == waiting]
        return sorted(orders, key=lambda o: o.seq, reverse=True)[: int(params.get("limit", 100))]

    async def fills(self, key: ApiKey, params: Params) -> web.Response:
        symbol = self.symbol_param(params)
        fills = [f for f in self.engine.account_fills(key.account, symbol) if params.get("orderId") in (None, f.order_id)]
        newest = list(reversed(fills))[: int(params.get("limit", 100))]
        return json_response(_envelope([self.fill_json(f) for f in newest]))

    async def trade_rate(self, key: ApiKey, params: Params) -> web.Response:
        self.symbol_param(params)
        rates = {"makerFeeRate": _num(self.engine.maker_fee), "takerFeeRate": _num(self.engine.taker_fee)}
        return json_response(_envelope(rates))

    async def on_private_message(self, conn: SimConnection, data: str | bytes) -> None:
        if "pinged" not in conn.state:  # the same 2-minute ping rule as the public sockets
            self.on_connect(conn)
        if data == "ping":
            conn.state["pinged"] = time.time()
            conn.send("pong")
            return
        try:
            msg = orjson.loads(data)
            op, args = msg["op"], msg["args"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            conn.send(_error(30002, "illegal request"))
            return
        if op == "login":
            conn.send(self.ws_login(conn, args))
        elif op in ("subscribe", "unsubscribe") and isinstance(args, list):
            for arg in args:
                conn.send(self.private_subscribe(conn, op, arg))
        else:
            conn.send(_error(30003, "invalid op", op=op))

    def ws_login(self, conn: SimConnection, args: Any) -> str:
        """Bitget's WebSocket login: sign = base64 HMAC-SHA256(secret, timestamp + "GET" +
        "/user/verify"), the timestamp in seconds, expiring 30 s after it."""
        try:
            key = self.ws_key(args)
        except Refusal as exc:
            return _error(int(exc.code), exc.message)
        conn.account = key.account
        return _text({"event": "login", "code": 0, "msg": ""})

    def ws_key(self, args: Any) -> ApiKey:
        login = args[0] if isinstance(args, list) and args and isinstance(args[0], dict) else {}
        if not all(login.get(name) for name in ("apiKey", "passphrase", "timestamp", "sign")):
            raise bitget_error("30016", "Param error")
        stamp = str(login["timestamp"])
        if not stamp.isdigit():
            raise bitget_error("30013", "Invalid ACCESS_TIMESTAMP")
        if abs(time.time() - int(stamp)) > LOGIN_WINDOW_S:
            raise bitget_error("30014", "Request timestamp expired")
        key = self.api_keys.get(str(login["apiKey"]))
        if key is None:
            raise bitget_error("30011", "Invalid ACCESS_KEY")
        if not hmac.compare_digest(str(login["passphrase"]).encode(), (key.passphrase or "").encode()):
            raise bitget_error("30012", "Invalid ACCESS_PASSPHRASE")
        if not hmac.compare_digest(str(login["sign"]).encode(), signature(key.secret, stamp + "GET" + "/user/verify").encode()):
            raise bitget_error("30015", "Invalid sign")
        return key

    def private_subscribe(self, conn: SimConnection, op: str, arg: Any) -> str:
        """``orders`` or ``fill`` for SPOT, on one symbol or ``default`` (all of them)."""
        if conn.account is None:
            return _error(30004, "User not logged in", op=op)
        if not isinstance(arg, dict):
            return _error(30016, "Param error", op=op)
        channel, inst_id = arg.get("channel"), str(arg.get("instId", ""))
        known = inst_id == "default" or self.symbol_of(inst_id) is not None
        if arg.get("instType") != self.inst_type or channel not in PRIVATE_CHANNELS or not known:
            return _error(30001, self._missing(arg), arg=arg, op=op)
        watched: set[tuple[str, str]] = conn.state.setdefault("private", set())
        if op == "subscribe":
            watched.add((str(channel), inst_id))
        else:
            watched.discard((str(channel), inst_id))
        return _text({"event": op, "arg": arg})

    def streaming_to(self, account: str) -> bool:
        channels = {channel for c in self.private_connections(account) for channel, _ in c.state.get("private", ())}
        return channels >= set(PRIVATE_CHANNELS)

    def private_frames_for(self, conn: SimConnection, event: OrderEvent) -> list[Frame]:
        """An ``orders`` push for every event, and a ``fill`` push for a fill, per subscription."""
        order, native = event.order, self.native(event.order.symbol)
        frames: list[Frame] = []
        for channel, inst_id in sorted(conn.state.get("private", ())):
            if inst_id not in ("default", native):
                continue
            if channel == "orders":
                row = self.ws_order_json(order, event.fill)
            elif event.fill is not None:
                row = self.ws_fill_json(order, event.fill)
            else:
                continue
            arg = {"instType": self.inst_type, "channel": channel, "instId": inst_id}
            frames.append(self._push("snapshot", arg, [row]))
        return frames

    def fee_coin(self, order: SimOrder) -> str:
        market = self.engine.markets[order.symbol]
        return market.base if order.side is Side.BUY and self.engine.buy_fee_in_base else market.quote

    def ws_order_json(self, order: SimOrder, fill: SimFill | None) -> dict[str, Any]:
        """The spot ``orders`` channel's row: ``accBaseVolume`` is cumulative, the ``fill*``,
        ``tradeId`` and ``baseVolume`` fields are the latest fill's (this event's, if it has one)."""
        market = self.engine.markets[order.symbol]
        latest = fill or next((f for f in reversed(self.engine.account_fills(order.account, order.symbol))
                               if f.order_id == order.order_id), None)
        quote_size = self.quote_sizes.get(order.order_id)
        return {
            "instId": self.native(order.symbol),
            "orderId": order.order_id,
            "clientOid": order.client_id,
            "price": self.limit_price(order) if order.price is not None else "0",
            "size": self.size(order),
            "newSize": _num(quote_size) if quote_size is not None else _num(order.amount * market.lot),
            "notional": _num(quote_size) if quote_size is not None else "",
            "orderType": self.order_type(order),
            "force": "post_only" if order.post_only else order.tif.value.lower(),
            "side": order.side.value,
            "fillPrice": _num(latest.price) if latest else "0",
            "tradeId": str(latest.trade_id) if latest else "",
            "baseVolume": _num(latest.amount) if latest else "0",
            "fillTime": str(_ms(latest.ts)) if latest else "",
            "fillFee": _num(-latest.fee) if latest else "0",
            "fillFeeCoin": latest.fee_currency if latest else "",
            "tradeScope": ("T" if latest.taker else "M") if latest else "",
            "accBaseVolume": _num(order.filled * market.lot),
            "priceAvg": self.average(order),
            "status": STATUS[order.status],
            "cTime": str(_ms(order.created)),
            "uTime": str(_ms(order.updated or order.created)),
            "stpMode": "none",
            "feeDetail": [{"feeCoin": self.fee_coin(order), "fee": _num(-order.fee)}] if order.filled else [],
            "enterPointSource": "API",
        }

    def ws_fill_json(self, order: SimOrder, fill: SimFill) -> dict[str, Any]:
        """The spot ``fill`` channel's row (``tradeScope`` spelled out, ``totalFee`` negative)."""
        return {
            "orderId": fill.order_id,
            "tradeId": str(fill.trade_id),
            "symbol": self.native(fill.symbol),
            "orderType": self.order_type(order),
            "side": fill.side.value,
            "priceAvg": _num(fill.price),
            "size": _num(fill.amount),
            "amount": _num(fill.price * fill.amount),
            "tradeScope": "taker" if fill.taker else "maker",
            "feeDetail": [{"feeCoin": fill.fee_currency, "deduction": "no", "totalDeductionFee": "0",
                           "totalFee": _num(-fill.fee)}],
            "cTime": str(_ms(fill.ts)),
            "uTime": str(_ms(fill.ts)),
        }
