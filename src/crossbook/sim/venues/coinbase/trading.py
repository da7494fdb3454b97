"""Simulated Coinbase: creating, canceling and editing orders, moving funds between portfolios."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from aiohttp import web

from ....model import OrderStatus, OrderType, Side, TimeInForce
from ...access import ApiKey
from ...engine import Reject, SimOrder
from ...refusal import Reason, Refusal
from ...server import json_response
from .errors import (
    CANCEL_FAILURES,
    INVALID_PRODUCT,
    INVALID_SIDE,
    ORDER_ERRORS,
    ORDER_REFUSED,
    QUOTE_TOO_SMALL,
    REFUSALS,
    STOP_ABOVE_LAST,
    STOP_BELOW_LAST,
    TRANSFER_SHORT,
    UNSUPPORTED_CONFIGURATION,
    bad_argument,
    order_failure,
    order_refusal,
)
from .records import CoinbaseRecords
from .wire import (
    CONFIGURATIONS,
    MAX_CANCEL,
    NO_PREVIEW_FAILURE,
    SIDES,
    STOP_DIRECTIONS,
    decimal_field,
    json_body,
    stable_id,
)


class CoinbaseTrading(CoinbaseRecords):
    """Coinbase's trading endpoints: create, cancel and edit orders, portfolio transfers."""

    def trading_routes(self) -> list[web.RouteDef]:
        api = "/api/v3/brokerage"
        return [
            web.get("/v2/currencies", self.fiat_currencies),
            web.get("/v2/currencies/crypto", self.crypto_currencies),
            web.get("/v2/exchange-rates", self.exchange_rates),
            web.get(f"{api}/products", self.private(self.private_products)),
            web.get(f"{api}/key_permissions", self.private(self.key_permissions)),
            web.get(f"{api}/transaction_summary", self.private(self.transaction_summary)),
            web.get(f"{api}/accounts", self.private(self.accounts)),
            web.post(f"{api}/orders", self.private(self.create_order, trade=True)),
            web.post(f"{api}/orders/batch_cancel", self.private(self.cancel_orders, trade=True)),
            web.post(f"{api}/orders/edit", self.private(self.edit_order, trade=True)),
            web.get(f"{api}/portfolios", self.private(self.portfolios)),
            web.post(f"{api}/portfolios/move_funds", self.private(self.move_funds, trade=True)),
            # the fixed paths first: aiohttp matches in this order
            web.get(f"{api}/orders/historical/batch", self.private(self.list_orders)),
            web.get(f"{api}/orders/historical/fills", self.private(self.list_fills)),
            web.get(f"{api}/orders/historical/{{order_id}}", self.private(self.get_order)),
        ]

    async def create_order(self, key: ApiKey, request: web.Request) -> web.Response:
        body = await json_body(request)
        client_id = body.get("client_order_id")
        if not isinstance(client_id, str) or not client_id:
            raise bad_argument("client_order_id is required")
        try:
            order = self.existing(key.account, client_id) or self.place(key.account, client_id, body)
        except Refusal as exc:
            if exc.status != ORDER_REFUSED:
                raise
            return json_response(order_failure(exc, body.get("order_configuration")))
        oid = self.uuid_of(order.order_id)
        return json_response(
            {
                "success": True,
                "failure_reason": "UNKNOWN_FAILURE_REASON",
                "order_id": oid,
                "success_response": {
                    "order_id": oid,
                    "product_id": self.native(order.symbol),
                    "side": order.side.value.upper(),
                    "client_order_id": client_id,
                },
                "order_configuration": self.configuration_json(order),
            }
        )

    def existing(self, account: str, client_id: str) -> SimOrder | None:
        """Coinbase answers a reused client_order_id with the order it already names."""
        try:
            return self.engine.find(account, client_id=client_id)
        except Reject:
            return None

    def place(self, account: str, client_id: str, body: dict[str, Any]) -> SimOrder:
        symbol = self.symbol_of(str(body.get("product_id", "")))
        if symbol is None:
            raise INVALID_PRODUCT.refuse()
        side = SIDES.get(str(body.get("side")))
        if side is None:
            raise INVALID_SIDE.refuse()
        name, fields = self.read_configuration(body.get("order_configuration"))
        amount, quote = self.sizes(symbol, side, name, fields)
        limit = decimal_field(fields, "limit_price") if "limit_price" in CONFIGURATIONS[name].fields else None
        if side is Side.BUY:
            self.check_funds(account, symbol, quote if limit is None else limit * amount * (1 + self.engine.taker_fee))
        order = self.submit(account, client_id, symbol, side, name, fields, amount, limit)
        if quote is not None:
            self.quote_sizes[order.order_id] = quote
        return order

    def submit(
        self,
        account: str,
        client_id: str,
        symbol: str,
        side: Side,
        name: str,
        fields: dict[str, Any],
        amount: Decimal,
        limit: Decimal | None,
    ) -> SimOrder:
        config = CONFIGURATIONS[name]
        post_only = fields.get("post_only", False)
        if not isinstance(post_only, bool):
            raise bad_argument("post_only must be a boolean")
        stop, rising = self.stop_price(symbol, fields) if "stop_price" in config.fields else (None, None)
        try:
            return self.engine.submit(
                account, symbol, side, config.type, amount, limit, stop_price=stop, tif=config.tif,
                post_only=post_only, client_id=client_id, trigger_above=rising,
            )
        except Reject as exc:
            raise order_refusal(exc) from None

    def check_funds(self, account: str, symbol: str, cost: Decimal | None) -> None:
        """Coinbase wants a buy's cost and its fee in the quote currency (the engine checks the
        cost alone: it takes a buy's fee from the base bought). ``cost`` is None for a base-sized
        market buy, whose cost only the engine's sweep knows."""
        quote = self.engine.markets[symbol].quote
        if cost is not None and self.engine.account(account).available(quote) < cost:
            raise ORDER_ERRORS[Reason.INSUFFICIENT_BALANCE].refuse()

    @staticmethod
    def read_configuration(value: Any) -> tuple[str, dict[str, Any]]:
        if not isinstance(value, dict) or len(value) != 1:
            raise bad_argument("order_configuration must hold exactly one order configuration")
        ((name, fields),) = value.items()
        if name not in CONFIGURATIONS:
            raise UNSUPPORTED_CONFIGURATION.refuse(UNSUPPORTED_CONFIGURATION.message.format(name=name))
        if not isinstance(fields, dict):
            raise bad_argument(f"{name} must be an object")
        return name, fields

    def sizes(self, symbol: str, side: Side, name: str, fields: dict[str, Any]) -> tuple[Decimal, Decimal | None]:
        """The base amount to submit, and the quote_size it came from (market orders only)."""
        if name != "market_market_ioc" or "quote_size" not in fields:
            return decimal_field(fields, "base_size"), None
        if "base_size" in fields:
            raise bad_argument("give base_size or quote_size, not both")
        quote = decimal_field(fields, "quote_size")
        return self.base_for_quote(symbol, side, quote), quote

    def base_for_quote(self, symbol: str, side: Side, quote: Decimal) -> Decimal:
        """The whole lots the book gives now for ``quote``; a buy's quote_size includes the taker
        fee, as on Coinbase (filled_value + total_fees = quote_size)."""
        market, ladder = self.engine.markets[symbol], self.ladders[symbol]
        left = quote / (1 + self.engine.taker_fee) if side is Side.BUY else quote
        lots = 0
        book = ladder.asks if side is Side.BUY else ladder.bids
        for ticks, available in ladder.top(side is Side.SELL, len(book)) if left > 0 else []:
            take = min(available, int(left / (ticks * market.tick * market.lot)))
            lots += take
            left -= take * ticks * market.tick * market.lot
            if take < available:
                break
        if lots == 0:
            raise QUOTE_TOO_SMALL.refuse()
        return lots * market.lot

    def stop_price(self, symbol: str, fields: dict[str, Any]) -> tuple[Decimal, bool]:
        """A stop-limit's trigger and whether it fires on a rise. Coinbase wants a STOP_UP trigger
        above the last trade and a STOP_DOWN one below it."""
        stop = decimal_field(fields, "stop_price")
        direction = fields.get("stop_direction")
        if direction not in STOP_DIRECTIONS.values():
            raise bad_argument(f"stop_direction must be one of {', '.join(STOP_DIRECTIONS.values())}")
        rising = direction == STOP_DIRECTIONS[True]
        last = self.last_price(symbol)
        if rising and stop <= last:
            raise STOP_BELOW_LAST.refuse()
        if not rising and stop >= last:
            raise STOP_ABOVE_LAST.refuse()
        return stop, rising

    async def cancel_orders(self, key: ApiKey, request: web.Request) -> web.Response:
        ids = (await json_body(request)).get("order_ids")
        if not isinstance(ids, list) or not 0 < len(ids) <= MAX_CANCEL or not all(isinstance(i, str) for i in ids):
            raise bad_argument(f"order_ids must list 1 to {MAX_CANCEL} order ids")
        results = []
        for public_id in ids:
            reason = self.cancel_one(key.account, public_id)
            results.append({"success": reason is None, "failure_reason": reason or "UNKNOWN_CANCEL_FAILURE_REASON", "order_id": public_id})
        return json_response({"results": results})

    def cancel_one(self, account: str, public_id: str) -> str | None:
        """Cancels the order, or names why not."""
        order = self.owned(account, public_id)
        if order is None:
            return CANCEL_FAILURES[Reason.UNKNOWN_ORDER]
        if order.status is OrderStatus.FILLED:
            return "ORDER_IS_FULLY_FILLED"
        if order.status.final:
            return CANCEL_FAILURES[Reason.ORDER_FINAL]
        self.engine.cancel(account, order.order_id)
        return None

    async def edit_order(self, key: ApiKey, request: web.Request) -> web.Response:
        """Edit a GTC limit order's ``size`` (the new total) and ``price`` in place: the order id
        stays; a smaller size at the same price keeps its queue place, anything else goes to the
        back of its (new) level and may take at once. Refused edits answer ``success: false`` with
        ``errors`` [{edit_failure_reason, preview_failure_reason}]."""
        body = await json_body(request)
        reasons = self.edit(key.account, body)
        errors = [] if reasons is None else [{"edit_failure_reason": reasons[0], "preview_failure_reason": reasons[1]}]
        return json_response({"success": reasons is None, "errors": errors})

    def edit(self, account: str, body: dict[str, Any]) -> tuple[str, str] | None:
        """Edits the order, or names why not (edit and preview failure reasons)."""
        order = self.owned(account, str(body.get("order_id", "")))
        if order is None:
            return "ORDER_NOT_FOUND", NO_PREVIEW_FAILURE
        if order.status.final:
            return "ONLY_OPEN_ORDERS_CAN_BE_EDITED", NO_PREVIEW_FAILURE
        if order.type is not OrderType.LIMIT or order.tif is not TimeInForce.GTC or order.stop is not None:
            return "ONLY_LIMIT_ORDER_EDITS_SUPPORTED", NO_PREVIEW_FAILURE
        market = self.engine.markets[order.symbol]
        assert order.price is not None
        lots = self.edited_units(body, "size", market.lot, order.amount)
        ticks = self.edited_units(body, "price", market.tick, order.price)
        if lots is None:
            return "INVALID_EDITED_SIZE", NO_PREVIEW_FAILURE
        if ticks is None:
            return "INVALID_EDITED_PRICE", NO_PREVIEW_FAILURE
        if lots <= order.filled:
            return "CANNOT_EDIT_TO_BELOW_FILLED_SIZE", NO_PREVIEW_FAILURE
        if (lots, ticks) == (order.amount, order.price):
            return "EDIT_REQUEST_EQUAL_TO_ORIGINAL_REQUEST", NO_PREVIEW_FAILURE
        try:
            self.engine.amend(order, lots, ticks)
        except Reject as exc:
            return "COMMANDER_REJECTED_EDIT_ORDER", order_refusal(exc).shape.detail
        return None

    @staticmethod
    def edited_units(body: dict[str, Any], name: str, step: Decimal, current: int) -> int | None:
        """A new size or price in lots or ticks (``current`` when not given); None when invalid."""
        if name not in body:
            return current
        try:
            units = decimal_field(body, name) / step
        except Refusal:
            return None
        return int(units) if units > 0 and units == units.to_integral_value() else None

    async def move_funds(self, key: ApiKey, request: web.Request) -> web.Response:
        """Move ``funds`` {value, currency} from one of the user's portfolios (main account or a
        sub-account) to another; refused when the source's available balance is short."""
        body = await json_body(request)
        funds = body.get("funds")
        if not isinstance(funds, dict) or not isinstance(funds.get("currency"), str):
            raise bad_argument("funds must hold value and currency")
        amount = decimal_field(funds, "value")
        by_uuid = {stable_id(f"portfolio/{n}"): n for n in self.family(key.account)}
        source, target = (by_uuid.get(str(body.get(f))) for f in ("source_portfolio_uuid", "target_portfolio_uuid"))
        if source is None or target is None:
            raise REFUSALS[Reason.UNKNOWN_ACCOUNT].refuse()
        if source == target or amount <= 0:
            raise bad_argument("funds must move a positive value between two different portfolios")
        try:
            self.engine.transfer(funds["currency"], amount, source, target)
        except Reject:
            raise TRANSFER_SHORT.refuse() from None
        return json_response({"source_portfolio_uuid": body["source_portfolio_uuid"],
                              "target_portfolio_uuid": body["target_portfolio_uuid"]})
