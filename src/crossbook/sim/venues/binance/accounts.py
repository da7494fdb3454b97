"""Simulated Binance spot: sub-account transfers, OCO order lists, the user data stream, and the spot venue ``BinanceSpotSim``."""

from __future__ import annotations

import hashlib
import hmac
import time
from decimal import Decimal
from typing import Any

import orjson
from aiohttp import web

from ....model import (
    OrderStatus,
    Side,
)
from ...access import ApiKey
from ...engine import OrderEvent, Reject, SimFill, SimOrder
from ...refusal import Reason, Refusal
from ...server import SimConnection, json_response
from .capital import BinanceCapital
from .errors import CANCEL_ERRORS, ERRORS, TRANSFER_ERRORS, binance_error, rejected
from .wire import STATUS, OrderList, Transfer, cancel_replace_response, ms, ws_api_error


class BinanceSpotSim(BinanceCapital):

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get(f"{self.api}/exchangeInfo", self.exchange_info),
            web.get(f"{self.api}/depth", self.depth),
            *self.trading_routes(),
        ]

    def trading_routes(self) -> list[web.RouteDef]:
        return [
            web.get("/api/v3/account", self.signed(self.account_info)),
            web.post("/api/v3/order", self.signed(self.create_order)),
            web.delete("/api/v3/order", self.signed(self.cancel_order)),
            web.get("/api/v3/order", self.signed(self.get_order)),
            web.get("/api/v3/openOrders", self.signed(self.open_orders)),
            web.get("/api/v3/allOrders", self.signed(self.all_orders)),
            web.get("/api/v3/myTrades", self.signed(self.my_trades)),
            web.get("/sapi/v1/asset/tradeFee", self.signed(self.trade_fee)),
            web.get("/sapi/v1/account/apiRestrictions", self.signed(self.api_restrictions)),
            web.post("/api/v3/orderList/oco", self.signed(self.create_oco)),
            web.post("/api/v3/order/oco", self.signed(self.create_legacy_oco)),
            web.get("/api/v3/orderList", self.signed(self.get_order_list)),
            web.delete("/api/v3/orderList", self.signed(self.cancel_order_list)),
            web.get("/api/v3/openOrderList", self.signed(self.open_order_lists)),
            web.post("/api/v3/order/cancelReplace", self.signed(self.cancel_replace)),
            web.post("/sapi/v1/sub-account/universalTransfer", self.signed(self.sub_account_transfer)),
            web.get("/sapi/v1/sub-account/universalTransfer", self.signed(self.sub_account_transfers)),
            web.post("/sapi/v1/sub-account/transfer/subToMaster", self.signed(self.sub_to_master)),
            *self.capital_routes(),
        ]

    async def cancel_order(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        return json_response(self.order_json(self.cancel(key, params.get("orderId"), params.get("origClientOrderId"))))

    def cancel(self, key: ApiKey, order_id: str | None, client_id: str | None) -> SimOrder:
        try:
            order = self.engine.cancel(key.account, order_id, client_id)
        except Reject as exc:
            raise rejected(exc, CANCEL_ERRORS, ERRORS) from None
        if order.order_id in self.list_of:
            self.cancel_legs(key, self.order_lists[self.list_of[order.order_id]])  # Binance cancels the whole list
        return order

    async def cancel_replace(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        """``order/cancelReplace``: cancel an order and place a new one (a new order id, the back of
        the queue). ``STOP_ON_FAILURE`` places nothing when the cancel fails; ``ALLOW_FAILURE``
        places the new order anyway. A failure on either side answers -2021 (one failed) or
        -2022 (both), with both results under ``data``."""
        mode = params.get("cancelReplaceMode")
        if mode not in ("STOP_ON_FAILURE", "ALLOW_FAILURE"):
            raise binance_error(-1102, "Mandatory parameter 'cancelReplaceMode' was not sent, was empty/null, or malformed.")
        try:
            canceled: dict[str, Any] | Refusal = self.order_json(
                self.cancel(key, params.get("cancelOrderId"), params.get("cancelOrigClientOrderId")))
        except Refusal as exc:
            canceled = exc
        placed: dict[str, Any] | Refusal | None = None
        if mode == "ALLOW_FAILURE" or not isinstance(canceled, Refusal):
            try:
                placed = self.placed_json(key, self.place(key, params), params)
            except Refusal as exc:
                placed = exc
        return cancel_replace_response(canceled, placed)

    def member(self, master: str, email: str | None) -> str:
        """The engine account an email names: the master when none is given, else one of its
        sub-accounts (an engine account opened with ``parent=master``, named by its email)."""
        if not email:
            return master
        account = self.engine.accounts.get(email)
        if account is None or account.parent != master:
            raise binance_error(-12022, f"Sub-account {email} does not exist or does not belong to this master account.")
        return email

    def move(self, key: ApiKey, source: str, target: str, params: dict[str, str]) -> Transfer:
        try:
            self.engine.transfer(params.get("asset", ""), Decimal(params.get("amount", "")), source, target)
        except Reject as exc:
            raise rejected(exc, TRANSFER_ERRORS) from None
        except (ValueError, ArithmeticError):
            raise ERRORS[Reason.BAD_NUMBER].refuse() from None
        transfer = Transfer(next(self.tran_ids), params.get("clientTranId", ""), source, target,
                            params["asset"], Decimal(params["amount"]), ms(time.time()))
        self.transfers.append(transfer)
        return transfer

    async def sub_account_transfer(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        """``sub-account/universalTransfer`` with the master's key: SPOT to SPOT between the master
        (no email) and its sub-accounts, at least one email given."""
        if self.engine.account(key.account).parent is not None:
            raise binance_error(-2015, "Invalid API-key, IP, or permissions for action.", 401)
        if params.get("fromAccountType") != "SPOT" or params.get("toAccountType") != "SPOT":
            raise binance_error(-1100, "Illegal characters found in parameter 'fromAccountType'; legal range is 'SPOT'.")
        if not params.get("fromEmail") and not params.get("toEmail"):
            raise binance_error(-1102, "Mandatory parameter 'fromEmail' or 'toEmail' was not sent, was empty/null, or malformed.")
        source = self.member(key.account, params.get("fromEmail"))
        target = self.member(key.account, params.get("toEmail"))
        transfer = self.move(key, source, target, params)
        return json_response({"tranId": transfer.tran_id, "clientTranId": transfer.client_id})

    async def sub_to_master(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        """``sub-account/transfer/subToMaster`` with a sub-account's key: its SPOT to the master's."""
        parent = self.engine.account(key.account).parent
        if parent is None:
            raise binance_error(-2015, "Invalid API-key, IP, or permissions for action.", 401)
        transfer = self.move(key, key.account, parent, params)
        return json_response({"txnId": str(transfer.tran_id)})

    async def sub_account_transfers(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        """The master's universal transfer history, newest first, filtered by email and time."""
        mine = [t for t in self.transfers if key.account in (t.source, t.target)
                or key.account in (self.engine.accounts[t.source].parent, self.engine.accounts[t.target].parent)]
        wanted = [
            t for t in mine
            if params.get("fromEmail") in (None, t.source) and params.get("toEmail") in (None, t.target)
            and int(params.get("startTime", "0")) <= t.ts <= int(params.get("endTime", str(2**62)))
        ]
        limit, page = min(500, int(params.get("limit", "500"))), int(params.get("page", "1"))
        rows = sorted(wanted, key=lambda t: -t.tran_id)[(page - 1) * limit:page * limit]
        return json_response({"result": [self.transfer_json(key.account, t) for t in rows], "totalCount": len(wanted)})

    def transfer_json(self, master: str, transfer: Transfer) -> dict[str, Any]:
        return {
            "tranId": transfer.tran_id,
            "fromEmail": "" if transfer.source == master else transfer.source,
            "toEmail": "" if transfer.target == master else transfer.target,
            "asset": transfer.asset,
            "amount": self.num(transfer.amount),
            "createTimeStamp": transfer.ts,
            "fromAccountType": "SPOT",
            "toAccountType": "SPOT",
            "status": "SUCCESS",
            "clientTranId": transfer.client_id,
        }

    async def create_oco(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        """``orderList/oco``: a LIMIT_MAKER leg on the profit side and a STOP_LOSS(_LIMIT) leg on
        the loss side; a sell's limit is the above leg, a buy's the below leg."""
        limit_at, stop_at = ("above", "below") if params.get("side") == "SELL" else ("below", "above")
        stop_type = params.get(f"{stop_at}Type")
        if params.get(f"{limit_at}Type") != "LIMIT_MAKER" or stop_type not in ("STOP_LOSS", "STOP_LOSS_LIMIT"):
            raise binance_error(-1116, "Invalid orderType.")
        return self.place_oco(
            key, params, params.get(f"{limit_at}Price"), params.get(f"{stop_at}StopPrice"),
            params.get(f"{stop_at}Price") if stop_type == "STOP_LOSS_LIMIT" else None,
            (params.get(f"{limit_at}ClientOrderId"), params.get(f"{stop_at}ClientOrderId")),
            stop_first=stop_at == "below",
        )

    async def create_legacy_oco(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        """``order/oco`` (deprecated by Binance, still served): price, stopPrice, stopLimitPrice."""
        return self.place_oco(
            key, params, params.get("price"), params.get("stopPrice"), params.get("stopLimitPrice"),
            (params.get("limitClientOrderId"), params.get("stopClientOrderId")), stop_first=True,
        )

    def place_oco(self, key: ApiKey, params: dict[str, str], limit_price: str | None, stop_price: str | None,
                  stop_limit: str | None, client_ids: tuple[str | None, str | None], *, stop_first: bool) -> web.Response:
        symbol = self.symbol_of(params.get("symbol", ""))
        if symbol is None:
            raise binance_error(-1121, "Invalid symbol.")
        if limit_price is None:
            raise ERRORS[Reason.MISSING_PRICE].refuse()
        if stop_price is None:
            raise ERRORS[Reason.MISSING_STOP].refuse()
        try:
            limit, stop = self.engine.submit_oco(
                key.account, symbol, Side.BUY if params.get("side") == "BUY" else Side.SELL,
                Decimal(params.get("quantity", "0")), Decimal(limit_price), Decimal(stop_price),
                Decimal(stop_limit) if stop_limit is not None else None, client_ids,
            )
        except Reject as exc:
            raise rejected(exc, ERRORS) from None
        except (ValueError, ArithmeticError):
            raise ERRORS[Reason.BAD_NUMBER].refuse() from None
        list_id = next(self.list_ids)
        legs = (stop.order_id, limit.order_id) if stop_first else (limit.order_id, stop.order_id)
        order_list = OrderList(list_id, params.get("listClientOrderId") or f"sim-list-{list_id}", symbol, legs)
        self.order_lists[list_id] = order_list
        self.list_of.update(dict.fromkeys(legs, list_id))
        return json_response(self.order_list_json(order_list, reports=True))

    def find_list(self, key: ApiKey, params: dict[str, str]) -> OrderList | None:
        wanted = params.get("orderListId")
        for order_list in self.order_lists.values():
            if self.engine.orders[order_list.legs[0]].account != key.account:
                continue
            if str(order_list.list_id) == wanted or (wanted is None and order_list.client_id == params.get("origClientOrderId")):
                return order_list
        return None

    async def get_order_list(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        order_list = self.find_list(key, params)
        if order_list is None:
            raise ERRORS[Reason.UNKNOWN_ORDER].refuse()
        return json_response(self.order_list_json(order_list, reports=False))

    async def cancel_order_list(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        order_list = self.find_list(key, params)
        if order_list is None or all(self.engine.orders[leg].status.final for leg in order_list.legs):
            raise ERRORS[Reason.ORDER_FINAL].refuse()
        self.cancel_legs(key, order_list)
        return json_response(self.order_list_json(order_list, reports=True))

    def cancel_legs(self, key: ApiKey, order_list: OrderList) -> None:
        for leg in order_list.legs:
            if not self.engine.orders[leg].status.final:
                self.engine.cancel(key.account, leg)

    async def open_order_lists(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        lists = [
            ol for ol in self.order_lists.values()
            if self.engine.orders[ol.legs[0]].account == key.account
            and not all(self.engine.orders[leg].status.final for leg in ol.legs)
        ]
        return json_response([self.order_list_json(ol, reports=False) for ol in lists])

    def order_list_json(self, order_list: OrderList, *, reports: bool) -> dict[str, Any]:
        legs = [self.engine.orders[leg] for leg in order_list.legs]
        done = all(o.status.final for o in legs)
        body: dict[str, Any] = {
            "orderListId": order_list.list_id,
            "contingencyType": "OCO",
            "listStatusType": "ALL_DONE" if done else "EXEC_STARTED",
            "listOrderStatus": "ALL_DONE" if done else "EXECUTING",
            "listClientOrderId": order_list.client_id,
            "transactionTime": ms(max(o.updated for o in legs)),
            "symbol": self.native(order_list.symbol),
            "orders": [{"symbol": self.native(o.symbol), "orderId": int(o.order_id), "clientOrderId": o.client_id} for o in legs],
        }
        if reports:
            body["orderReports"] = [self.order_json(o) for o in legs]
        return body

    async def on_private_message(self, conn: SimConnection, data: str | bytes) -> None:
        try:
            msg = orjson.loads(data)
        except orjson.JSONDecodeError:
            conn.send(ws_api_error(None, 400, -1000, "Malformed request."))
            return
        rid, method, params = msg.get("id"), msg.get("method"), msg.get("params") or {}
        if method == "userDataStream.subscribe.signature":
            conn.send(self.subscribe_user_data(conn, rid, params))
        elif method == "userDataStream.unsubscribe":
            conn.account = None
            conn.send(orjson.dumps({"id": rid, "status": 200, "result": {}}).decode())
        else:
            conn.send(ws_api_error(rid, 400, -1100, f"Unknown method {method!r}."))

    def subscribe_user_data(self, conn: SimConnection, rid: Any, params: dict[str, Any]) -> str:
        """The WebSocket API's SIGNED rule: HMAC-SHA256 over the other params sorted by name."""
        key = self.api_keys.get(str(params.get("apiKey", "")))
        if key is None:
            return ws_api_error(rid, 401, -2015, "Invalid API-key, IP, or permissions for action.")
        signature = str(params.get("signature", ""))
        payload = "&".join(f"{k}={params[k]}" for k in sorted(params) if k != "signature")
        if not hmac.compare_digest(signature, hmac.new(key.secret.encode(), payload.encode(), hashlib.sha256).hexdigest()):
            return ws_api_error(rid, 400, -1022, "Signature for this request is not valid.")
        stamp, now = int(params.get("timestamp", 0)), ms(time.time())
        if stamp > now + 1000 or now - stamp > min(60_000, int(params.get("recvWindow", 5000))):
            return ws_api_error(rid, 400, -1021, "Timestamp for this request is outside of the recvWindow.")
        conn.account = key.account
        conn.state["subscription"] = conn.state.get("subscriptions", 0)
        conn.state["subscriptions"] = conn.state["subscription"] + 1
        return orjson.dumps({"id": rid, "status": 200, "result": {"subscriptionId": conn.state["subscription"]}}).decode()

    def private_frames_for(self, conn: SimConnection, event: OrderEvent) -> list[str | bytes]:
        report = self.execution_report(event.order, event.fill)
        return [orjson.dumps({"subscriptionId": conn.state["subscription"], "event": report}).decode()]

    def execution_report(self, order: SimOrder, fill: SimFill | None) -> dict[str, Any]:
        market = self.engine.markets[order.symbol]
        status = STATUS.get(order.status, "NEW")
        return {
            "e": "executionReport",
            "E": ms(time.time()),
            "s": self.native(order.symbol),
            "c": order.client_id,
            "S": order.side.value.upper(),
            "o": self.order_type(order),
            "f": order.tif.value.upper(),
            "q": self.num(order.amount * market.lot),
            "p": self.num((order.price or 0) * market.tick),
            "P": self.num((order.stop or 0) * market.tick),
            "F": self.num((order.visible or 0) * market.lot),
            "g": self.list_of.get(order.order_id, -1),
            "C": "",
            "x": "TRADE" if fill is not None else ("NEW" if status == "NEW" else status),
            "X": status,
            "r": "NONE",
            "i": int(order.order_id),
            "l": self.num(fill.amount if fill else Decimal(0)),
            "z": self.num(order.filled * market.lot),
            "L": self.num(fill.price if fill else Decimal(0)),
            "n": self.num(fill.fee) if fill else "0",
            "N": fill.fee_currency if fill else None,
            "T": ms(fill.ts if fill else order.updated),
            "t": fill.trade_id if fill else -1,
            "I": int(order.order_id) * 2,
            "w": order.status is OrderStatus.OPEN and not order.waiting,
            "m": fill is not None and not fill.taker,
            "M": False,
            "O": ms(order.created),
            "Z": self.num(order.cost),
            "Y": self.num(fill.price * fill.amount if fill else Decimal(0)),
            "Q": self.num(Decimal(0)),
            "W": ms(order.created),
            "V": "NONE",
        }
