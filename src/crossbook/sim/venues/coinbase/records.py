"""Simulated Coinbase: JWT-authenticated requests and what they read (accounts, orders, fills)."""

from __future__ import annotations

import hashlib
import time
import uuid
from decimal import Decimal
from typing import Any

from aiohttp import web

from ....model import OrderStatus
from ....symbols import parse_standard
from ...access import ApiKey
from ...engine import Reject, SimFill, SimOrder
from ...refusal import Reason
from ...server import json_response
from .errors import REFUSALS
from .public import CoinbasePublic
from .wire import (
    CONFIGURATIONS,
    CURRENCIES,
    FIAT,
    ORDER_TYPES,
    STATUS,
    STOP_DIRECTIONS,
    ZERO,
    Handler,
    Private,
    claims_valid,
    configuration_name,
    es256_valid,
    iso,
    listed,
    num,
    page,
    parse_jwt,
    stable_id,
    time_range,
    trigger_status,
    unauthorized,
    uri_target,
)


class CoinbaseRecords(CoinbasePublic):
    """Coinbase's signed reads: JWT authentication, currencies, accounts, fees, and orders and fills as Coinbase writes them."""

    def private(self, handler: Private, *, trade: bool = False) -> Handler:
        """A private endpoint: a valid JWT, and for ``trade`` endpoints a key allowed to trade."""

        async def check(request: web.Request) -> web.Response:
            key = self.authenticate(request)
            if key is None:
                return unauthorized()
            if trade and "trade" not in key.permissions:
                raise REFUSALS[Reason.PERMISSION_DENIED].refuse()
            return await handler(key, request)

        return check

    def authenticate(self, request: web.Request) -> ApiKey | None:
        """A REST call's JWT, whose ``uri`` claim must name this request."""
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme != "Bearer":
            return None
        checked = self.verify_jwt(token)
        if checked is None:
            return None
        key, claims = checked
        if uri_target(claims.get("uri"), request.method) != f"{request.host}{request.rel_url.raw_path}":
            return None
        return key

    def verify_jwt(self, token: Any) -> tuple[ApiKey, dict[str, Any]] | None:
        """The key that signed ``token`` and its claims, if the signature, ``kid``/``sub``, issuer
        and lifetime hold (a WebSocket JWT has no ``uri`` claim: that is the REST check's)."""
        if not isinstance(token, str):
            return None
        try:
            jwt = parse_jwt(token)
        except ValueError:
            return None
        name = jwt.claims.get("sub")
        if not isinstance(name, str):
            return None
        public, key = self.public_keys.get(name), self.api_keys.get(name)
        if public is None or key is None or jwt.header.get("kid") != name or not es256_valid(public, jwt):
            return None
        if not claims_valid(jwt.claims, name, time.time()):
            return None
        return key, jwt.claims

    def currencies(self) -> list[str]:
        codes = {c for s in self.markets for c in parse_standard(s)[:2]} | {"USDC"}  # USDC: the aliases' quote
        return sorted(codes)

    async def fiat_currencies(self, request: web.Request) -> web.Response:
        rows = [{"id": c, "name": CURRENCIES[c][0], "min_size": "0.01"} for c in self.currencies() if c in FIAT]
        return json_response({"data": rows})

    async def crypto_currencies(self, request: web.Request) -> web.Response:
        rows = [
            {
                "asset_id": stable_id(f"asset/{code}"),
                "code": code,
                "name": CURRENCIES[code][0],
                "color": "#0052FF",
                "sort_index": index,
                "exponent": CURRENCIES[code][1],
                "type": "crypto",
                "address_regex": "^.+$",
            }
            for index, code in enumerate(c for c in self.currencies() if c not in FIAT)
        ]
        return json_response({"data": rows})

    async def exchange_rates(self, request: web.Request) -> web.Response:
        usd = self.market.fair.usd
        rates = {c: num(Decimal(1) / Decimal(repr(usd.get(c, 1.0)))) for c in self.currencies()}
        return json_response({"data": {"currency": "USD", "rates": rates}})

    async def private_products(self, key: ApiKey, request: web.Request) -> web.Response:
        return await self.products(request)

    async def key_permissions(self, key: ApiKey, request: web.Request) -> web.Response:
        return json_response(
            {
                "can_view": "read" in key.permissions,
                "can_trade": "trade" in key.permissions,
                "can_transfer": key.may("withdraw") or key.may("transfer"),
                "portfolio_uuid": stable_id(f"portfolio/{key.account}"),
                "portfolio_type": "DEFAULT",
            }
        )

    async def transaction_summary(self, key: ApiKey, request: web.Request) -> web.Response:
        fills = self.engine.account_fills(key.account)
        volume = float(sum((f.price * f.amount for f in fills), ZERO))  # quote units taken as USD
        fees = float(sum((f.fee for f in fills), ZERO))
        tier = {
            "pricing_tier": "Advanced 1",
            "usd_from": "0",
            "usd_to": "1000",
            "taker_fee_rate": num(self.engine.taker_fee),
            "maker_fee_rate": num(self.engine.maker_fee),
            "aop_from": "",
            "aop_to": "",
        }
        return json_response(
            {
                "total_volume": volume,
                "total_fees": fees,
                "fee_tier": tier,
                "margin_rate": None,
                "goods_and_services_tax": None,
                "advanced_trade_only_volume": volume,
                "advanced_trade_only_fees": fees,
                "coinbase_pro_volume": 0,
                "coinbase_pro_fees": 0,
                "total_balance": "",
                "has_promo_fee": False,
            }
        )

    async def accounts(self, key: ApiKey, request: web.Request) -> web.Response:
        codes = sorted(set(self.currencies()) | set(self.engine.account(key.account).balances))
        rows, cursor, more = page(codes, request.query, 49, 250)
        return json_response(
            {"accounts": [self.wallet(key.account, c) for c in rows], "has_next": more, "cursor": cursor, "size": len(rows)}
        )

    def wallet(self, name: str, code: str) -> dict[str, Any]:
        account = self.engine.account(name)
        return {
            "uuid": stable_id(f"wallet/{name}/{code}"),
            "name": f"Cash ({code})" if code in FIAT else f"{code} Wallet",
            "currency": code,
            "available_balance": {"value": num(account.available(code)), "currency": code},
            "default": True,
            "active": True,
            "created_at": iso(self.opened),
            "updated_at": iso(time.time()),
            "deleted_at": None,
            "type": "ACCOUNT_TYPE_FIAT" if code in FIAT else "ACCOUNT_TYPE_CRYPTO",
            "ready": True,
            "hold": {"value": num(account.locked.get(code, ZERO)), "currency": code},
            "retail_portfolio_id": stable_id(f"portfolio/{name}"),
        }

    def last_price(self, symbol: str) -> Decimal:
        """The last trade's price, or the mid before any trade printed."""
        if self.recent[symbol]:
            return Decimal(self.recent[symbol][-1]["price"])
        ladder = self.ladders[symbol]
        return (Decimal(ladder.price_str(max(ladder.bids))) + Decimal(ladder.price_str(min(ladder.asks)))) / 2

    def uuid_of(self, order_id: str) -> str:
        if order_id not in self.uuids:
            public = str(uuid.uuid4())
            self.uuids[order_id] = public
            self.order_ids[public] = order_id
        return self.uuids[order_id]

    def owned(self, account: str, public_id: str) -> SimOrder | None:
        try:
            return self.engine.find(account, self.order_ids.get(public_id, ""))
        except Reject:
            return None

    async def get_order(self, key: ApiKey, request: web.Request) -> web.Response:
        order = self.owned(key.account, request.match_info["order_id"])
        if order is None:
            raise REFUSALS[Reason.UNKNOWN_ORDER].refuse()
        return json_response({"order": self.order_json(order)})

    def family(self, account: str) -> list[str]:
        """The portfolios of the key's user: its main account and the sub-accounts under it."""
        root = self.engine.account(account).parent or account
        return [root, *(n for n, a in self.engine.accounts.items() if a.parent == root)]

    async def portfolios(self, key: ApiKey, request: web.Request) -> web.Response:
        rows = [
            {"name": "Default" if i == 0 else name, "uuid": stable_id(f"portfolio/{name}"),
             "type": "DEFAULT" if i == 0 else "CONSUMER", "deleted": False}
            for i, name in enumerate(self.family(key.account))
        ]
        return json_response({"portfolios": rows})

    async def list_orders(self, key: ApiKey, request: web.Request) -> web.Response:
        query = request.query
        statuses, products = listed(query, "order_status"), listed(query, "product_id", "product_ids")
        ids, sides = listed(query, "order_ids"), listed(query, "order_side")
        start, end = time_range(query, "start_date", "end_date")
        orders = [
            o for o in sorted(self.engine.orders.values(), key=lambda o: o.seq, reverse=True)
            if o.account == key.account
            and (not statuses or STATUS[o.status] in statuses)
            and (not products or self.native(o.symbol) in products)
            and (not ids or self.uuid_of(o.order_id) in ids)
            and (not sides or o.side.value.upper() in sides)
            and start <= o.created <= end
        ]
        rows, cursor, more = page(orders, query, 100, 1000)
        return json_response({"orders": [self.order_json(o) for o in rows], "sequence": "0", "has_next": more, "cursor": cursor})

    async def list_fills(self, key: ApiKey, request: web.Request) -> web.Response:
        query = request.query
        products, ids = listed(query, "product_id", "product_ids"), listed(query, "order_id", "order_ids")
        start, end = time_range(query, "start_sequence_timestamp", "end_sequence_timestamp")
        fills = [
            f for f in reversed(self.engine.account_fills(key.account))
            if (not products or self.native(f.symbol) in products)
            and (not ids or self.uuid_of(f.order_id) in ids)
            and start <= f.ts <= end
        ]
        rows, cursor, _ = page(fills, query, 100, 1000)
        return json_response({"fills": [self.fill_json(f) for f in rows], "cursor": cursor})

    def configuration_json(self, order: SimOrder) -> dict[str, Any]:
        market = self.engine.markets[order.symbol]
        name = configuration_name(order)
        quote = self.quote_sizes.get(order.order_id)
        fields: dict[str, Any] = {"quote_size": num(quote)} if quote is not None else {"base_size": num(order.amount * market.lot)}
        if order.price is not None:
            fields["limit_price"] = num(order.price * market.tick)
        if order.stop is not None:
            fields["stop_price"] = num(order.stop * market.tick)
            fields["stop_direction"] = STOP_DIRECTIONS[order.is_bid if order.trigger_above is None else order.trigger_above]
        if name == "limit_limit_gtc":
            fields["post_only"] = order.post_only
        return {name: fields}

    def order_json(self, order: SimOrder) -> dict[str, Any]:
        market = self.engine.markets[order.symbol]
        filled = order.filled * market.lot
        fills = [f for f in self.engine.fills if f.order_id == order.order_id]
        in_quote = order.order_id in self.quote_sizes
        fees = sum((f.fee for f in fills), ZERO)
        return {
            "order_id": self.uuid_of(order.order_id),
            "product_id": self.native(order.symbol),
            "user_id": stable_id(f"user/{order.account}"),
            "order_configuration": self.configuration_json(order),
            "side": order.side.value.upper(),
            "client_order_id": order.client_id,
            "status": STATUS[order.status],
            "time_in_force": CONFIGURATIONS[configuration_name(order)].time_in_force,
            "created_time": iso(order.created),
            "completion_percentage": num((Decimal(100) * order.filled / order.amount).quantize(Decimal("0.01"))),
            "filled_size": num(filled),
            "average_filled_price": num(order.cost / filled) if filled else "0",
            "fee": "",
            "number_of_fills": str(len(fills)),
            "filled_value": num(order.cost),
            "pending_cancel": False,
            "size_in_quote": in_quote,
            "total_fees": num(fees),
            "size_inclusive_of_fees": in_quote,
            "total_value_after_fees": num(order.cost + fees if order.is_bid else order.cost - fees),
            "trigger_status": trigger_status(order),
            "order_type": ORDER_TYPES[order.type],
            "reject_reason": "REJECT_REASON_UNSPECIFIED",
            "settled": order.status.final,
            "product_type": "SPOT",
            "reject_message": "",
            "cancel_message": "User requested cancel" if order.status is OrderStatus.CANCELED else "",
            "order_placement_source": "RETAIL_ADVANCED",
            "outstanding_hold_amount": num(order.reserved),
            "is_liquidation": False,
            "last_fill_time": iso(fills[-1].ts) if fills else None,
            "edit_history": [],
            "leverage": "",
            "margin_type": "UNKNOWN_MARGIN_TYPE",
            "retail_portfolio_id": stable_id(f"portfolio/{order.account}"),
        }

    def fill_json(self, fill: SimFill) -> dict[str, Any]:
        """One fill; a quote-sized order's fills give their size in the quote currency."""
        in_quote = fill.order_id in self.quote_sizes
        return {
            "entry_id": hashlib.sha256(f"{fill.trade_id}/{fill.order_id}".encode()).hexdigest(),
            "trade_id": stable_id(f"trade/{fill.trade_id}"),
            "order_id": self.uuid_of(fill.order_id),
            "trade_time": iso(fill.ts),
            "trade_type": "FILL",
            "price": num(fill.price),
            "size": num(fill.price * fill.amount if in_quote else fill.amount),
            "commission": num(fill.fee),
            "product_id": self.native(fill.symbol),
            "sequence_timestamp": iso(fill.ts),
            "liquidity_indicator": "TAKER" if fill.taker else "MAKER",
            "size_in_quote": in_quote,
            "user_id": stable_id(f"user/{fill.account}"),
            "side": fill.side.value.upper(),
            "retail_portfolio_id": stable_id(f"portfolio/{fill.account}"),
        }
