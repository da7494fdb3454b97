"""Simulated Bybit: signed requests and what they read (wallet, fees, orders, executions)."""

from __future__ import annotations

import hmac
import time
import zlib
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson
from aiohttp import web

from ....model import (
    Kind,
    OrderStatus,
    OrderType,
    Side,
)
from ....symbols import parse_standard
from ...access import ApiKey
from ...engine import Reject, SimFill, SimOrder
from ...refusal import Reason, Refusal
from ...withdrawals import networks_of
from .errors import REFUSALS
from .public import BybitPublic
from .wire import (
    CATEGORIES,
    DEFAULT_RECV_WINDOW,
    POSITION_IDX,
    RECENT_CLOSED,
    STABLE,
    STATUS,
    WEEK_MS,
    ZERO,
    Handler,
    Params,
    Private,
    bybit_error,
    ms,
    plain,
    sign,
)


class BybitRecords(BybitPublic):
    """Bybit v5's signed reads: authentication, wallet balance, fees, and orders and executions as Bybit writes them."""

    def signed(self, handler: Private) -> Handler:
        """Bybit's private endpoint rule: the key, the timestamp inside the receive window, the
        signature over the exact query string (GET) or raw body (POST); then the v5 envelope."""

        async def check(request: web.Request) -> web.Response:
            body = (await request.read()).decode()
            try:
                payload = body if request.method == "POST" else request.rel_url.raw_query_string
                key = self.authenticate(request.headers, payload)
                if request.method == "POST" and "trade" not in key.permissions:
                    raise bybit_error(10005, "Permission denied, please check your API key permissions.")
                return self.envelope(await handler(key, self.params_of(request, body)))
            except Refusal as exc:
                return self.envelope({}, ret_code=int(exc.code), ret_msg=exc.message)

        return check

    def authenticate(self, headers: Mapping[str, str], payload: str) -> ApiKey:
        api_key = headers.get("X-BAPI-API-KEY", "")
        stamp = headers.get("X-BAPI-TIMESTAMP", "")
        signature = headers.get("X-BAPI-SIGN", "")
        recv_window = headers.get("X-BAPI-RECV-WINDOW", "")
        if not (api_key and stamp and signature):
            raise bybit_error(10001, f"empty value: apiTimestamp[{stamp}] apiKey[{'***' if api_key else ''}] "
                                    f"apiSignature[{'***' if signature else ''}]: openapi sign params error!")
        key = self.api_keys.get(api_key)
        if key is None:
            raise bybit_error(10003, "API key is invalid.")
        self.check_timestamp(stamp, recv_window)
        if not hmac.compare_digest(signature, sign(key.secret, stamp, api_key, recv_window, payload)):
            raise bybit_error(10004, "Error sign, please check your signature generation algorithm.")
        return key

    @staticmethod
    def check_timestamp(stamp: str, recv_window: str) -> None:
        """Accepted when server time - recv window <= timestamp < server time + 1000."""
        now = ms(time.time())
        try:
            sent, window = int(stamp), int(recv_window or DEFAULT_RECV_WINDOW)
        except ValueError:
            raise bybit_error(10001, "params error: X-BAPI-TIMESTAMP and X-BAPI-RECV-WINDOW must be integers") from None
        if not now - window <= sent < now + 1000:
            raise bybit_error(10002, "invalid request, please check your server timestamp or recv_window param. "
                                    f"req_timestamp[{sent}],server_timestamp[{now}],recv_window[{window}]")

    @staticmethod
    def params_of(request: web.Request, body: str) -> Params:
        if request.method != "POST":
            return dict(request.query)
        try:
            params = orjson.loads(body or "{}")
        except orjson.JSONDecodeError:
            raise bybit_error(10001, "params error: the request body is not valid JSON") from None
        if not isinstance(params, dict):
            raise bybit_error(10001, "params error: the request body must be a JSON object")
        return params

    async def coin_info(self, key: ApiKey, params: Params) -> dict[str, Any]:
        wanted = params.get("coin")
        coins = sorted({c for s in self.markets for c in parse_standard(s)[:2]})
        return {"rows": [{"name": c, "coin": c, "remainAmount": "1000000", "chains": coin_chains(c)}
                         for c in coins if wanted in (None, c)]}

    async def api_key_info(self, key: ApiKey, params: Params) -> dict[str, Any]:
        trade = "trade" in key.permissions
        account = self.engine.account(key.account)
        return {
            "id": str(zlib.crc32(key.key.encode())),
            "note": "crossbook simulator",
            "apiKey": key.key,
            "readOnly": 0 if trade else 1,
            "secret": "",
            "permissions": {
                "ContractTrade": ["Order", "Position"] if trade else [], "Spot": ["SpotTrade"] if trade else [],
                "Wallet": bybit_wallet_rights(key),
                "Options": [], "Derivatives": [], "CopyTrading": [], "BlockTrade": [], "Exchange": [], "NFT": [], "Affiliate": [],
            },
            "ips": list(key.ips) or ["*"],
            "type": 1,
            "deadlineDay": -1 if key.expires is None else max(0, int((key.expires - time.time()) // 86_400)),
            "expiredAt": iso_time(key.expires) if key.expires is not None else "",
            "createdAt": iso_time(key.created),
            "unified": 0,
            "uta": 1,
            "userID": self.uid(key.account),
            "inviterID": 0,
            "vipLevel": "No VIP",
            "mktMakerLevel": "0",
            "affiliateID": 0,
            "rsaPublicKey": "",
            "isMaster": account.parent is None,
            "parentUid": str(self.uid(account.parent)) if account.parent else "0",
            "kycLevel": "LEVEL_DEFAULT",
            "kycRegion": "",
        }

    @staticmethod
    def uid(account: str) -> int:
        return 100_000_000 + zlib.crc32(account.encode()) % 900_000_000

    async def account_info(self, key: ApiKey, params: Params) -> dict[str, Any]:
        return {
            "marginMode": "REGULAR_MARGIN",
            "updatedTime": str(ms(time.time())),
            "unifiedMarginStatus": 5,  # UTA 2.0
            "dcpStatus": "OFF",
            "timeWindow": 10,
            "smpGroup": 0,
            "isMasterTrader": False,
            "spotHedgingStatus": "OFF",
        }

    async def wallet_balance(self, key: ApiKey, params: Params) -> dict[str, Any]:
        if params.get("accountType") != "UNIFIED":
            raise bybit_error(10001, "accountType only support UNIFIED.")
        account = self.engine.account(key.account)
        wanted = set(params["coin"].split(",")) if params.get("coin") else None
        coins = [c for c in sorted(set(account.balances) | set(account.locked)) if wanted is None or c in wanted]
        rows = [self.coin_balance(c, account.balances.get(c, ZERO), account.locked.get(c, ZERO)) for c in coins]
        total = sum((self.usd_value(c, account.balances.get(c, ZERO)) for c in coins), ZERO)
        available = sum((self.usd_value(c, account.available(c)) for c in coins), ZERO)
        return {
            "list": [
                {
                    "accountType": "UNIFIED",
                    "totalEquity": plain(total),
                    "totalWalletBalance": plain(total),
                    "totalMarginBalance": plain(total),
                    "totalAvailableBalance": plain(available),
                    "totalPerpUPL": "0",
                    "totalInitialMargin": "0",
                    "totalMaintenanceMargin": "0",
                    "accountIMRate": "0",
                    "accountMMRate": "0",
                    "accountLTV": "0",
                    "coin": rows,
                }
            ]
        }

    def coin_balance(self, coin: str, wallet: Decimal, locked: Decimal) -> dict[str, Any]:
        # availableToWithdraw is "" on UTA since 2025: clients derive free = walletBalance - locked
        return {
            "coin": coin,
            "equity": plain(wallet),
            "usdValue": plain(self.usd_value(coin, wallet)),
            "walletBalance": plain(wallet),
            "locked": plain(locked),
            "availableToWithdraw": "",
            "availableToBorrow": "",
            "borrowAmount": "0",
            "accruedInterest": "0",
            "totalOrderIM": "0",
            "totalPositionIM": "0",
            "totalPositionMM": "0",
            "unrealisedPnl": "0",
            "cumRealisedPnl": "0",
            "bonus": "0",
            "collateralSwitch": True,
            "marginCollateral": True,
            "spotHedgingQty": "0",
        }

    def usd_value(self, coin: str, amount: Decimal) -> Decimal:
        """Valued at the mid of the coin's USDT (else USDC) book here, stablecoins at par."""
        if coin in STABLE:
            return amount
        for quote in ("USDT", "USDC"):
            symbol = f"{coin}-{quote}"
            ladder = self.ladders.get(symbol)
            if ladder is not None and ladder.bids and ladder.asks:
                mid = Decimal(max(ladder.bids) + min(ladder.asks)) / 2
                return amount * mid * self.engine.markets[symbol].tick
        return ZERO

    async def fee_rate(self, key: ApiKey, params: Params) -> dict[str, Any]:
        # without a category Bybit answers for contracts (its documented example omits it), which
        # this spot venue does not list
        category = params.get("category", "linear")
        if category not in CATEGORIES:
            raise bybit_error(10001, "Illegal category")
        if category != self.category:
            return {"list": []}
        symbols = [s for s in self.markets if params.get("symbol") in (None, self.native(s))]
        rates = {"takerFeeRate": plain(self.engine.taker_fee), "makerFeeRate": plain(self.engine.maker_fee)}
        return {"category": self.category, "list": [{"symbol": self.native(s), "baseCoin": parse_standard(s)[0], **rates} for s in symbols]}

    def check_category(self, params: Params) -> None:
        if params.get("category") != self.category:
            raise bybit_error(10001, "Illegal category")

    def symbol_param(self, params: Params) -> str:
        symbol = self.symbol_of(str(params.get("symbol", "")))
        if symbol is None:
            raise REFUSALS[Reason.UNKNOWN_SYMBOL].refuse()
        return symbol

    @staticmethod
    def decimal_param(params: Params, name: str) -> Decimal | None:
        if params.get(name) in (None, ""):
            return None
        try:
            value = Decimal(str(params[name]))
        except InvalidOperation:
            value = Decimal("NaN")
        if not value.is_finite():
            raise bybit_error(170130, f"Data sent for paramter '{name}' is not valid.")
        return value

    def lookup(self, account: str, params: Params) -> SimOrder | None:
        """The order named by orderId, else orderLinkId (Bybit's priority), if any."""
        order_id, link_id = params.get("orderId") or None, params.get("orderLinkId") or None
        if order_id is None and link_id is None:
            return None
        try:
            return self.engine.find(account, order_id, link_id)
        except Reject:
            return None

    @staticmethod
    def passes_filter(order: SimOrder, order_filter: str | None) -> bool:
        """orderFilter: Order (active orders), StopOrder (conditional ones), none: both."""
        if order_filter not in (None, "Order", "StopOrder", "tpslOrder", "OcoOrder", "BidirectionalTpslOrder"):
            raise bybit_error(170202, "Invalid orderFilter parameter.")
        if order_filter is None:
            return True
        return order_filter == ("StopOrder" if order.stop is not None else "Order")

    async def realtime_orders(self, key: ApiKey, params: Params) -> dict[str, Any]:
        self.check_category(params)
        orders = self.realtime_pool(key.account, params)
        orders = [o for o in orders if self.passes_filter(o, params.get("orderFilter"))]
        orders.sort(key=lambda o: (o.created, o.seq), reverse=True)
        page, cursor = self.page_of(orders, params, 20, 50)
        return {"category": self.category, "list": [self.order_json(o) for o in page], "nextPageCursor": cursor}

    def realtime_pool(self, account: str, params: Params) -> list[SimOrder]:
        """Open orders, or with openOnly=1 the recent closed ones; by id, an order in either."""
        recent = self.recent_closed(account)
        if params.get("orderId") or params.get("orderLinkId"):
            order = self.lookup(account, params)
            return [order] if order is not None and (not order.status.final or order in recent) else []
        if params.get("symbol") is not None:
            symbol = self.symbol_param(params)
            recent = [o for o in recent if o.symbol == symbol]
        else:
            symbol = None
        return recent if str(params.get("openOnly", "0")) == "1" else self.engine.open_orders(account, symbol)

    async def order_history(self, key: ApiKey, params: Params) -> dict[str, Any]:
        """The closed orders the venue remembers, newest first, by status and time if asked."""
        self.check_category(params)
        start, end = self.time_range(params)
        if params.get("orderId") or params.get("orderLinkId"):
            found = self.lookup(key.account, params)
            orders = [found] if found is not None and found.status.final else []
        else:
            symbol = self.symbol_param(params) if params.get("symbol") is not None else None
            orders = [o for o in self.recent_closed(key.account) if symbol in (None, o.symbol)]
        status = params.get("orderStatus")
        orders = [
            o for o in orders
            if start <= ms(o.created) <= end and self.passes_filter(o, params.get("orderFilter"))
            and status in (None, self.order_status(o))
        ]
        orders.sort(key=lambda o: (o.created, o.seq), reverse=True)
        page, cursor = self.page_of(orders, params, 20, 50)
        return {"category": self.category, "list": [self.order_json(o) for o in page], "nextPageCursor": cursor}

    def recent_closed(self, account: str) -> list[SimOrder]:
        closed = [o for o in self.engine.orders.values() if o.account == account and o.status.final]
        return sorted(closed, key=lambda o: o.updated)[-RECENT_CLOSED:]

    @staticmethod
    def page_of(rows: list[Any], params: Params, default: int, most: int) -> tuple[list[Any], str]:
        """Bybit pages with ``limit`` and an opaque ``cursor`` (here an offset)."""
        try:
            limit, start = int(params.get("limit") or default), int(params.get("cursor") or 0)
        except ValueError:
            raise bybit_error(10001, "params error: limit and cursor must be integers") from None
        if not 1 <= limit <= most:
            raise bybit_error(10001, f"params error: limit must be between 1 and {most}")
        end = start + limit
        return rows[start:end], str(end) if end < len(rows) else ""

    async def executions(self, key: ApiKey, params: Params) -> dict[str, Any]:
        self.check_category(params)
        start, end = self.time_range(params)
        fills = [f for f in self.fills_for(key.account, params) if start <= ms(f.ts) <= end]
        if params.get("execType") not in (None, "Trade"):
            fills = []  # only trades happen here: no funding, settlement or delivery
        rows = [self.execution_json(fill, leaves) for fill, leaves in reversed(self.with_leaves(fills))]
        page, cursor = self.page_of(rows, params, 50, 100)
        return {"category": self.category, "list": page, "nextPageCursor": cursor}

    def fills_for(self, account: str, params: Params) -> list[SimFill]:
        """orderId and orderLinkId outrank symbol; when given, the others are ignored."""
        if params.get("orderId") or params.get("orderLinkId"):
            order = self.lookup(account, params)
            return [] if order is None else [f for f in self.engine.account_fills(account) if f.order_id == order.order_id]
        symbol = self.symbol_param(params) if params.get("symbol") is not None else None
        return self.engine.account_fills(account, symbol)

    @staticmethod
    def time_range(params: Params) -> tuple[int, int]:
        """Seven days: ending now, or starting at startTime, or ending at endTime."""
        try:
            start = int(params["startTime"]) if params.get("startTime") else None
            end = int(params["endTime"]) if params.get("endTime") else None
        except ValueError:
            raise bybit_error(10001, "params error: startTime and endTime must be integers") from None
        if start is not None and end is not None and end - start > WEEK_MS:
            raise bybit_error(10001, "params error: endTime - startTime must be within 7 days")
        if end is None:
            end = start + WEEK_MS if start is not None else ms(time.time())
        return (start if start is not None else end - WEEK_MS), end

    def with_leaves(self, fills: list[SimFill]) -> list[tuple[SimFill, Decimal]]:
        """The fills oldest first, each with its order's quantity still unfilled right after it."""
        filled: dict[str, Decimal] = {}
        out = []
        for fill in sorted(fills, key=lambda f: (f.ts, f.trade_id)):
            order = self.engine.orders[fill.order_id]
            filled[fill.order_id] = filled.get(fill.order_id, ZERO) + fill.amount
            out.append((fill, order.amount * self.engine.markets[order.symbol].lot - filled[fill.order_id]))
        return out

    @staticmethod
    def order_status(order: SimOrder) -> str:
        if order.waiting:
            return "Deactivated" if order.status.final else "Untriggered"
        if order.status in (OrderStatus.CANCELED, OrderStatus.EXPIRED) and order.filled:
            return "PartiallyFilledCanceled"
        return STATUS[order.status]

    def order_json(self, order: SimOrder) -> dict[str, Any]:
        market = self.engine.markets[order.symbol]
        ladder = self.ladders[order.symbol]
        filled = order.filled * market.lot
        left = ZERO if order.status.final else order.remaining * market.lot
        market_order = order.type in (OrderType.MARKET, OrderType.STOP)
        return {
            "orderId": order.order_id,
            "orderLinkId": order.client_id,
            "blockTradeId": "",
            "symbol": self.native(order.symbol),
            "price": ladder.price_str(order.price) if order.price is not None else "0",
            "qty": ladder.size_str(order.amount),
            "side": "Buy" if order.is_bid else "Sell",
            "isLeverage": "0",
            "positionIdx": POSITION_IDX[order.position_side],
            "orderStatus": self.order_status(order),
            "createType": "CreateByUser",
            "cancelType": "CancelByUser" if order.status is OrderStatus.CANCELED else "UNKNOWN",
            "rejectReason": "EC_NoError",
            "avgPrice": plain(order.cost / filled) if filled else "",
            "leavesQty": plain(left),
            "leavesValue": plain(left * (order.price or 0) * market.tick),
            "cumExecQty": plain(filled),
            "cumExecValue": plain(order.cost),
            "cumExecFee": plain(order.fee),
            "feeCurrency": self.fee_coin(order) if order.fee else "",
            "cumFeeDetail": {self.fee_coin(order): plain(order.fee)} if order.fee else {},
            "timeInForce": "PostOnly" if order.post_only else order.tif.value.upper(),
            "orderType": "Market" if market_order else "Limit",
            "stopOrderType": "Stop" if order.stop is not None else "",
            "orderIv": "",
            "marketUnit": "baseCoin" if market_order else "",
            "triggerPrice": ladder.price_str(order.stop) if order.stop is not None else "0",
            "takeProfit": ladder.price_str(order.take_profit) if order.take_profit is not None else "0",
            "stopLoss": ladder.price_str(order.stop_loss) if order.stop_loss is not None else "0",
            "tpTriggerBy": "LastPrice" if order.take_profit is not None else "",
            "slTriggerBy": "LastPrice" if order.stop_loss is not None else "",
            "tpLimitPrice": "0",
            "slLimitPrice": "0",
            "triggerDirection": 0 if order.trigger_above is None else 1 if order.trigger_above else 2,
            "triggerBy": "",
            "lastPriceOnCreated": "",
            "reduceOnly": order.reduce_only,
            "closeOnTrigger": False,
            "placeType": "",
            "smpType": "None",
            "smpGroup": 0,
            "smpOrderId": "",
            "createdTime": str(ms(order.created)),
            "updatedTime": str(ms(order.updated)),
        }

    def fee_coin(self, order: SimOrder) -> str:
        """The coin an order's fees are charged in: a spot buy pays in the base it receives."""
        market = self.engine.markets[order.symbol]
        spot_buy = parse_standard(order.symbol)[2] is Kind.SPOT and order.is_bid
        return market.base if spot_buy and self.engine.buy_fee_in_base else market.quote

    def execution_json(self, fill: SimFill, leaves: Decimal) -> dict[str, Any]:
        order = self.engine.orders[fill.order_id]
        ladder = self.ladders[fill.symbol]
        market_order = order.type in (OrderType.MARKET, OrderType.STOP)
        return {
            "symbol": self.native(fill.symbol),
            "orderId": fill.order_id,
            "orderLinkId": fill.client_id,
            "side": "Buy" if fill.side is Side.BUY else "Sell",
            "orderPrice": ladder.price_str(order.price) if order.price is not None else "0",
            "orderQty": ladder.size_str(order.amount),
            "leavesQty": plain(leaves),
            "orderType": "Market" if market_order else "Limit",
            "stopOrderType": "Stop" if order.stop is not None else "UNKNOWN",
            "execFee": plain(fill.fee),
            "feeCurrency": fill.fee_currency,
            "execId": str(fill.trade_id),
            "execPrice": plain(fill.price),
            "execQty": plain(fill.amount),
            "execType": "Trade",
            "execValue": plain(fill.price * fill.amount),
            "execTime": str(ms(fill.ts)),
            "isMaker": not fill.taker,
            "feeRate": plain(self.engine.taker_fee if fill.taker else self.engine.maker_fee),
            "tradeIv": "",
            "markIv": "",
            "markPrice": "",
            "indexPrice": "",
            "underlyingPrice": "",
            "blockTradeId": "",
            "closedSize": "",
            "seq": fill.trade_id,
            "marketUnit": "baseCoin" if market_order else "",
        }


def bybit_wallet_rights(key: ApiKey) -> list[str]:
    """A key's wallet rights as Bybit names them under ``permissions.Wallet``."""
    return [*(["AccountTransfer", "SubMemberTransfer"] if key.may("transfer") else []), *(["Withdraw"] if key.may("withdraw") else [])]


def iso_time(seconds: float) -> str:
    """Unix seconds as Bybit writes a key's times: ISO 8601 in UTC, "Z"."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def coin_chains(coin: str) -> list[dict[str, Any]]:
    """``/v5/asset/coin/query-info`` chains of ``coin``: the simulator's withdrawal networks."""
    return [{"chain": n.name, "chainType": n.name, "confirmation": "1", "withdrawFee": f"{n.fee:f}", "depositMin": "0",
             "withdrawMin": f"{n.minimum:f}", "minAccuracy": "8", "chainDeposit": "1", "chainWithdraw": "1",
             "withdrawPercentageFee": "0", "contractAddress": "", "safeConfirmNumber": "1"} for n in networks_of(coin)]
