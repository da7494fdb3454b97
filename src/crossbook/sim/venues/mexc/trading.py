"""Simulated MEXC: signed requests, orders, listen keys and the private streams, and the spot venue ``MexcSpotSim``."""

from __future__ import annotations

import hmac
import secrets
import time
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from ....model import OrderType, Side
from ....venues.protowire import string_field, varint_field
from ...access import ApiKey
from ...engine import OrderEvent, Reject, SimFill, SimOrder
from ...refusal import Reason, Refusal
from ...server import Frame, SimConnection, json_response
from .errors import (
    CANCEL_ERRORS,
    ERRORS,
    ILLEGAL,
    OVERSOLD,
    REFUSALS,
    mandatory,
    mexc_error,
    rejected,
)
from .public import MexcPublic
from .wire import (
    ALL_ORDERS_LIMIT,
    ALL_ORDERS_LIMIT_MAX,
    DEALS_PRIVATE,
    LISTEN_KEY_LIFETIME,
    LISTEN_KEYS_MAX,
    MIN_ORDER_QUOTE,
    MY_TRADES_LIMIT,
    ORDER_TYPES,
    ORDERS,
    PB_ORDER_TYPES,
    PRIVATE_CHANNELS,
    SIDES,
    Handler,
    ListenKey,
    SignedHandler,
    bool_field,
    check_timing,
    client_order_id,
    engine_order_id,
    in_window,
    ms,
    native_order_id,
    num,
    optional_string,
    order_status,
    order_type,
    pb_status,
    sign,
    split_signature,
    wrapper,
)


class MexcSpotSim(MexcPublic):

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/api/v3/exchangeInfo", self.exchange_info),
            web.get("/api/v3/depth", self.depth),
            web.get("/api/v1/contract/detail", self.contract_detail),
            *self.trading_routes(),
        ]

    def trading_routes(self) -> list[web.RouteDef]:
        return [
            web.get("/api/v3/capital/config/getall", self.signed(self.coins)),
            web.get("/api/v3/account", self.signed(self.account_info)),
            web.post("/api/v3/order", self.signed(self.create_order)),
            web.delete("/api/v3/order", self.signed(self.cancel_order)),
            web.get("/api/v3/order", self.signed(self.get_order)),
            web.get("/api/v3/openOrders", self.signed(self.open_orders)),
            web.delete("/api/v3/openOrders", self.signed(self.cancel_open_orders)),
            web.get("/api/v3/allOrders", self.signed(self.all_orders)),
            web.get("/api/v3/myTrades", self.signed(self.my_trades)),
            web.get("/api/v3/tradeFee", self.signed(self.trade_fee)),
            web.post("/api/v3/userDataStream", self.signed(self.create_listen_key)),
            web.put("/api/v3/userDataStream", self.signed(self.keep_listen_key)),
            web.delete("/api/v3/userDataStream", self.signed(self.close_listen_key)),
            web.get("/api/v3/userDataStream", self.signed(self.list_listen_keys)),
        ]

    def signed(self, handler: SignedHandler) -> Handler:
        """A SIGNED endpoint: parameters from the query string and a form body (the query's win),
        checked by ``authenticate`` before ``handler`` sees them."""

        async def check(request: web.Request) -> web.Response:
            body = (await request.read()).decode()
            query, query_signature = split_signature(request.rel_url.raw_query_string)
            form, body_signature = split_signature(body)
            params = dict(parse_qsl(body, keep_blank_values=True))
            params.update(parse_qsl(request.rel_url.raw_query_string, keep_blank_values=True))
            params.pop("signature", None)
            key = self.authenticate(request, params, query + form, query_signature or body_signature)
            try:
                return await handler(key, params)
            except (ValueError, ArithmeticError):
                raise ILLEGAL.refuse() from None

        return check

    def authenticate(
        self, request: web.Request, params: dict[str, str], total: str, signature: str | None
    ) -> ApiKey:
        """Key, then the signature over totalParams, then the clock, then the key's permission."""
        presented = request.headers.get("X-MEXC-APIKEY", "")
        if not presented:
            raise REFUSALS[Reason.MISSING_CREDENTIALS].refuse()
        key = self.api_keys.get(presented)
        if key is None:
            raise REFUSALS[Reason.UNKNOWN_KEY].refuse()
        if not signature:
            raise mandatory("signature")
        if not hmac.compare_digest(signature.encode(), sign(key.secret, total).encode()):
            raise REFUSALS[Reason.BAD_SIGNATURE].refuse()
        check_timing(params)
        if ("read" if request.method == "GET" else "trade") not in key.permissions:
            raise REFUSALS[Reason.PERMISSION_DENIED].refuse()
        return key

    async def account_info(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        account = self.engine.account(key.account)
        assets = sorted(set(account.balances) | set(account.locked))
        return json_response(
            {
                "makerCommission": int(self.engine.maker_fee * 10_000),
                "takerCommission": int(self.engine.taker_fee * 10_000),
                "buyerCommission": 0,
                "sellerCommission": 0,
                "canTrade": "trade" in key.permissions,
                "canWithdraw": False,
                "canDeposit": False,
                "updateTime": None,
                "accountType": "SPOT",
                "balances": [
                    {"asset": a, "free": num(account.available(a)), "locked": num(account.locked.get(a, Decimal(0)))}
                    for a in assets
                ],
                "permissions": ["SPOT"],
            }
        )

    async def trade_fee(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        if self.symbol_of(params.get("symbol", "")) is None:
            raise ERRORS[Reason.UNKNOWN_SYMBOL].refuse()
        fees = {"makerCommission": float(self.engine.maker_fee), "takerCommission": float(self.engine.taker_fee)}
        return json_response({"data": fees, "code": 0, "msg": "success", "timestamp": ms(time.time())})

    async def create_order(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        symbol = self.symbol_of(params.get("symbol", ""))
        if symbol is None:
            raise ERRORS[Reason.UNKNOWN_SYMBOL].refuse()
        side = SIDES.get(params.get("side", ""))
        if side is None:
            raise mandatory("side")
        if params.get("type") not in ORDER_TYPES:
            raise mexc_error(-1128, "Combination of optional parameters invalid.")
        kind, tif, post_only = ORDER_TYPES[params["type"]]
        try:
            amount = self.order_amount(symbol, side, kind, params)
            price = None if kind is OrderType.MARKET or "price" not in params else Decimal(params["price"])
            self.check_minimum(symbol, side, amount, price, params)
            order = self.engine.submit(key.account, symbol, side, kind, amount, price, tif=tif, post_only=post_only,
                                       client_id=params.get("newClientOrderId") or None)
        except Reject as exc:
            raise self.refusal(exc, side, symbol) from None
        if "quoteOrderQty" in params and "quantity" not in params:
            self.quote_sized[order.order_id] = Decimal(params["quoteOrderQty"])
        return json_response(self.created_json(order))

    def order_amount(self, symbol: str, side: Side, kind: OrderType, params: dict[str, str]) -> Decimal:
        """The base amount: ``quantity``, or for a market order what ``quoteOrderQty`` buys (or
        sells) walking the book now."""
        if "quantity" in params:
            return Decimal(params["quantity"])
        if kind is not OrderType.MARKET or "quoteOrderQty" not in params:
            raise Reject("missing_quantity", "quantity is required")
        quote = Decimal(params["quoteOrderQty"])
        market = self.engine.markets[symbol]
        if quote != quote.quantize(market.tick):
            raise Reject("quote_off_grid", f"quoteOrderQty {quote} has more places than {market.tick}")
        return self.lots_for(symbol, side, quote) * market.lot

    def lots_for(self, symbol: str, side: Side, quote: Decimal) -> int:
        ladder, market = self.ladders[symbol], self.engine.markets[symbol]
        book = ladder.asks if side is Side.BUY else ladder.bids
        left, lots = quote, 0
        for px in sorted(book, reverse=side is Side.SELL):
            lot_value = px * market.tick * market.lot
            take = min(book[px], int(left / lot_value))
            lots, left = lots + take, left - take * lot_value
            if take < book[px]:
                break
        return lots

    def check_minimum(
        self, symbol: str, side: Side, amount: Decimal, price: Decimal | None, params: dict[str, str]
    ) -> None:
        """MEXC refuses an order worth less than the market's minimum (a market order valued at
        the touch, or at the quote amount it names)."""
        ladder = self.ladders[symbol]
        book = ladder.asks if side is Side.BUY else ladder.bids
        if price is None and not book:
            return  # the engine refuses it: no liquidity
        if "quoteOrderQty" in params and "quantity" not in params:
            value = Decimal(params["quoteOrderQty"])
        else:
            touch = Decimal(ladder.price_str(min(book) if side is Side.BUY else max(book))) if book else Decimal(0)
            value = amount * (price if price is not None else touch)
        if amount <= 0 or value < MIN_ORDER_QUOTE:
            raise Reject("below_minimum", f"order value {value} below {MIN_ORDER_QUOTE}")

    def refusal(self, exc: Reject, side: Side, symbol: str) -> Refusal:
        if exc.reason == "insufficient_balance" and side is Side.SELL:
            return OVERSOLD.refuse()
        if exc.reason == "below_minimum":
            quote = self.engine.markets[symbol].quote
            return mexc_error(30002, f"The minimum transaction volume cannot be less than：{MIN_ORDER_QUOTE}{quote}")
        return rejected(exc, ERRORS)

    def lookup(self, key: ApiKey, params: dict[str, str]) -> SimOrder:
        """The order named by ``orderId`` or ``origClientOrderId`` in ``symbol``."""
        symbol = self.symbol_of(params.get("symbol", ""))
        if symbol is None:
            raise Reject("unknown_symbol", "unknown symbol")
        native, client_id = params.get("orderId"), params.get("origClientOrderId")
        if not native and not client_id:
            raise Reject("missing_order_id", "orderId or origClientOrderId is required")
        order_id = engine_order_id(native) if native else None
        if native and order_id is None:
            raise Reject("unknown_order", f"no order {native}")
        order = self.engine.find(key.account, order_id, None if native else client_id)
        if order.symbol != symbol:
            raise Reject("unknown_order", f"no order {native or client_id} in {symbol}")
        return order

    async def get_order(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        try:
            return json_response(self.order_json(self.lookup(key, params)))
        except Reject as exc:
            raise rejected(exc, ERRORS) from None

    async def cancel_order(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        try:
            order = self.lookup(key, params)
            self.engine.cancel(key.account, order.order_id)
        except Reject as exc:
            raise rejected(exc, CANCEL_ERRORS, ERRORS) from None
        return json_response(self.canceled_json(order))

    def symbols_in(self, params: dict[str, str]) -> list[str] | None:
        """The listed symbols of a comma-separated ``symbol``, or None if one is unknown."""
        symbols = [self.symbol_of(n) for n in params.get("symbol", "").split(",")]
        return None if None in symbols else [s for s in symbols if s is not None]

    async def open_orders(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        symbol = self.symbol_of(params.get("symbol", ""))
        if symbol is None:
            raise ERRORS[Reason.UNKNOWN_SYMBOL].refuse()
        return json_response([self.order_json(o) for o in self.engine.open_orders(key.account, symbol)])

    async def cancel_open_orders(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        symbols = self.symbols_in(params)
        if symbols is None:
            raise ERRORS[Reason.UNKNOWN_SYMBOL].refuse()
        orders = [o for s in symbols for o in self.engine.open_orders(key.account, s)]
        for order in orders:
            self.engine.cancel(key.account, order.order_id)
        return json_response([self.canceled_json(o) for o in orders])

    async def all_orders(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        symbol = self.symbol_of(params.get("symbol", ""))
        if symbol is None:
            raise ERRORS[Reason.UNKNOWN_SYMBOL].refuse()
        limit = min(int(params.get("limit", ALL_ORDERS_LIMIT)), ALL_ORDERS_LIMIT_MAX)
        orders = [o for o in self.engine.orders.values()
                  if o.account == key.account and o.symbol == symbol and in_window(o.created, params)]
        return json_response([self.order_json(o) for o in orders[-limit:]])

    async def my_trades(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        symbol = self.symbol_of(params.get("symbol", ""))
        if symbol is None:
            raise ERRORS[Reason.UNKNOWN_SYMBOL].refuse()
        order_id = engine_order_id(params["orderId"]) if "orderId" in params else None
        limit = min(int(params.get("limit", MY_TRADES_LIMIT)), MY_TRADES_LIMIT)
        fills = [f for f in self.engine.account_fills(key.account, symbol)
                 if in_window(f.ts, params) and ("orderId" not in params or f.order_id == order_id)]
        return json_response([self.trade_json(f) for f in fills[-limit:]])

    def live_keys(self, account: str) -> list[str]:
        now = time.time()
        return [k for k, lk in self.listen_keys.items() if lk.account == account and lk.expires > now]

    async def create_listen_key(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        if len(self.live_keys(key.account)) >= LISTEN_KEYS_MAX:
            raise mexc_error(730001, f"A maximum of {LISTEN_KEYS_MAX} listenKeys per account")
        listen_key = secrets.token_hex(32)
        self.listen_keys[listen_key] = ListenKey(key.account, key.key, time.time() + LISTEN_KEY_LIFETIME)
        return json_response({"listenKey": listen_key})

    def owned_listen_key(self, key: ApiKey, params: dict[str, str]) -> str:
        listen_key = params.get("listenKey", "")
        if not listen_key:
            raise mandatory("listenKey")
        if listen_key not in self.live_keys(key.account):
            raise mexc_error(730708, "Invalid listenKey")
        return listen_key

    async def keep_listen_key(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        listen_key = self.owned_listen_key(key, params)
        self.listen_keys[listen_key].expires = time.time() + LISTEN_KEY_LIFETIME
        return json_response({"listenKey": listen_key})

    async def close_listen_key(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        listen_key = self.owned_listen_key(key, params)
        del self.listen_keys[listen_key]
        return json_response({"listenKey": listen_key})

    async def list_listen_keys(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        return json_response({"listenKey": self.live_keys(key.account)})

    def order_json(self, order: SimOrder) -> dict[str, Any]:
        """An order as query, openOrders and allOrders show it."""
        market = self.engine.markets[order.symbol]
        price = (order.price or 0) * market.tick
        amount = order.amount * market.lot
        return {
            "symbol": self.native(order.symbol),
            "orderId": native_order_id(order.order_id),
            "orderListId": "-1",
            "clientOrderId": client_order_id(order.order_id, order.client_id),
            "price": num(price),
            "origQty": num(amount),
            "executedQty": num(order.filled * market.lot),
            "cummulativeQuoteQty": num(order.cost),
            "status": order_status(order),
            "timeInForce": None,
            "type": order_type(order),
            "side": order.side.value.upper(),
            "stopPrice": None,
            "icebergQty": None,
            "time": ms(order.created),
            "updateTime": ms(order.updated),
            "isWorking": True,
            "origQuoteOrderQty": num(self.quote_sized.get(order.order_id, price * amount)),
        }

    def created_json(self, order: SimOrder) -> dict[str, Any]:
        """A create is acknowledged with the order as placed, not its state."""
        full = self.order_json(order)
        return {k: full[k] for k in ("symbol", "orderId", "orderListId", "price", "origQty", "type", "side")} | {
            "transactTime": ms(order.created)
        }

    def canceled_json(self, order: SimOrder) -> dict[str, Any]:
        full = self.order_json(order)
        fields = ("symbol", "orderId", "clientOrderId", "price", "origQty", "executedQty", "cummulativeQuoteQty",
                  "status", "timeInForce", "type", "side")
        return {"origClientOrderId": full["clientOrderId"]} | {k: full[k] for k in fields}

    def trade_json(self, fill: SimFill) -> dict[str, Any]:
        return {
            "symbol": self.native(fill.symbol),
            "id": str(fill.trade_id),
            "orderId": native_order_id(fill.order_id),
            "orderListId": -1,
            "price": num(fill.price),
            "qty": num(fill.amount),
            "quoteQty": num(fill.price * fill.amount),
            "commission": num(fill.fee),
            "commissionAsset": fill.fee_currency,
            "time": ms(fill.ts),
            "isBuyer": fill.side is Side.BUY,
            "isMaker": not fill.taker,
            "isBestMatch": True,
            "isSelfTrade": False,
            "clientOrderId": client_order_id(fill.order_id, fill.client_id),
        }

    def streaming_to(self, account: str) -> bool:
        return any(set(PRIVATE_CHANNELS) <= c.state["private"] for c in self.private_connections(account))

    def private_frames_for(self, conn: SimConnection, event: OrderEvent) -> list[Frame]:
        """A fill's deal (``privateDeals``, 306) before the order's new state (``privateOrders``,
        304), each on the channel the socket subscribed."""
        channels: set[str] = conn.state.get("private", set())
        native, now = self.native(event.order.symbol), ms(time.time())
        frames: list[Frame] = []
        if event.fill is not None and f"spot@{DEALS_PRIVATE}" in channels:
            frames.append(wrapper(f"spot@{DEALS_PRIVATE}", native, now, 306, self.deal_pb(event.fill)))
        if f"spot@{ORDERS}" in channels:
            frames.append(wrapper(f"spot@{ORDERS}", native, now, 304, self.order_pb(event.order, event.fill)))
        return frames

    def order_pb(self, order: SimOrder, fill: SimFill | None) -> bytes:
        """PrivateOrdersV3Api: id 1, clientId 2, price 3, quantity 4, amount 5, avgPrice 6,
        orderType 7, tradeType 8, isMaker 9, remainAmount 10, remainQuantity 11, lastDealQuantity
        12, cumulativeQuantity 13, cumulativeAmount 14, status 15, createTime 16."""
        market = self.engine.markets[order.symbol]
        price = (order.price or 0) * market.tick
        quantity = order.amount * market.lot
        filled = order.filled * market.lot
        amount = self.quote_sized.get(order.order_id, price * quantity)
        remain = Decimal(0) if order.status.final else quantity - filled
        return (
            string_field(1, native_order_id(order.order_id))
            + optional_string(2, client_order_id(order.order_id, order.client_id))
            + string_field(3, num(price))
            + string_field(4, num(quantity))
            + string_field(5, num(amount))
            + string_field(6, num(order.cost / filled) if filled else "0")
            + varint_field(7, PB_ORDER_TYPES[order_type(order)])
            + varint_field(8, 1 if order.is_bid else 2)
            + bool_field(9, fill is not None and not fill.taker)
            + string_field(10, num(Decimal(0) if order.status.final else max(amount - order.cost, Decimal(0))))
            + string_field(11, num(remain))
            + (string_field(12, num(fill.amount)) if fill is not None else b"")
            + string_field(13, num(filled))
            + string_field(14, num(order.cost))
            + varint_field(15, pb_status(order))
            + varint_field(16, ms(order.created))
        )

    def deal_pb(self, fill: SimFill) -> bytes:
        """PrivateDealsV3Api: price 1, quantity 2, amount 3, tradeType 4, isMaker 5, isSelfTrade
        6, tradeId 7, clientOrderId 8, orderId 9, feeAmount 10, feeCurrency 11, time 12."""
        return (
            string_field(1, num(fill.price))
            + string_field(2, num(fill.amount))
            + string_field(3, num(fill.price * fill.amount))
            + varint_field(4, 1 if fill.side is Side.BUY else 2)
            + bool_field(5, not fill.taker)
            + string_field(7, str(fill.trade_id))
            + optional_string(8, client_order_id(fill.order_id, fill.client_id))
            + string_field(9, native_order_id(fill.order_id))
            + string_field(10, num(fill.fee))
            + string_field(11, fill.fee_currency)
            + varint_field(12, ms(fill.ts))
        )
