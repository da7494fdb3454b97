"""Simulated Gate wallet (API v4), as ccxt calls it: withdrawals, their history, the coins' fees
and minimums, and the account's saved (whitelisted) withdrawal addresses.

- ``POST /api/v4/withdrawals`` (JSON ``currency``, ``address``, ``amount``, ``memo``, ``chain``,
  ``withdraw_order_id``) -> the withdrawal record; the fee comes out of ``amount``. Needs a key
  with the withdrawal right (``FORBIDDEN`` otherwise).
- ``GET /api/v4/wallet/withdrawals`` (``currency``, ``withdraw_order_id``, ``from``, ``to`` in
  seconds, ``limit``, ``offset``): records with ``id`` ("w" + digits), ``amount`` (what left the
  account, fee included), ``fee``, ``status`` ``DONE``, ``timestamp`` (seconds), ``chain``,
  ``withdraw_order_id``.
- ``GET /api/v4/wallet/withdraw_status``: every funded currency's ``withdraw_fix``,
  ``withdraw_fix_on_chains`` and ``withdraw_amount_mini``.
- ``GET /api/v4/wallet/saved_address`` (``currency`` required, ``chain``): the saved addresses,
  ``verified`` "1".
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from functools import cached_property
from typing import Any

from aiohttp import web

from ...engine import Reject
from ...refusal import ErrorShape, Refusal
from ...server import json_response
from ...withdrawals import SimWithdrawal, SimWithdrawals, networks_of
from .stream import GateSpotSim
from .wire import API, Call, num

FORBIDDEN = ErrorShape("FORBIDDEN", "API key has no withdrawal permission", 403)
_WITHDRAW_ERRORS = {
    "bad_amount": ("INVALID_PARAM_VALUE", "Invalid parameter `amount`: must be positive"),
    "unknown_network": ("INVALID_PARAM_VALUE", "Invalid parameter `chain`: not open for withdrawal"),
    "below_minimum": ("INVALID_PARAM_VALUE", "Invalid parameter `amount`: below the minimum withdrawal amount"),
    "below_fee": ("INVALID_PARAM_VALUE", "Invalid parameter `amount`: does not cover the withdrawal fee"),
    "not_whitelisted": ("ADDRESS_NOT_USED", "Withdrawal address is not in the saved address list"),
    "insufficient_balance": ("BALANCE_NOT_ENOUGH", "Not enough balance"),
}


def _refusal(reason: str) -> Refusal:
    label, message = _WITHDRAW_ERRORS.get(reason, ("INVALID_PARAM_VALUE", "Invalid parameter value"))
    return ErrorShape(label, message, 400).refuse()


class GateWalletSim(GateSpotSim):
    """Gate's spot simulator with its wallet endpoints, over the spot account's balances."""

    @cached_property
    def withdrawals(self) -> SimWithdrawals:
        return SimWithdrawals(self.engine, fee_on_top=False, ids=lambda n: f"w{1000000 + n}")

    def trading_routes(self) -> list[web.RouteDef]:
        return [
            *super().trading_routes(),
            web.post(f"{API}/withdrawals", self.signed(self.withdraw)),
            web.get(f"{API}/wallet/withdrawals", self.signed(self.withdrawal_records)),
            web.get(f"{API}/wallet/withdraw_status", self.signed(self.withdraw_status)),
            web.get(f"{API}/wallet/saved_address", self.signed(self.saved_address)),
        ]

    def withdraw(self, call: Call) -> web.Response:
        self.withdrawals.requests.append("withdrawals")
        if "withdraw" not in call.key.permissions:
            raise FORBIDDEN.refuse()
        body = call.body
        currency, address = str(body.get("currency") or ""), str(body.get("address") or "")
        if not currency or not address or not body.get("amount"):
            raise ErrorShape("MISSING_REQUIRED_PARAM", "Missing required parameter: currency, address or amount", 400).refuse()
        if currency not in self.engine.account(call.key.account).balances:
            raise ErrorShape("INVALID_CURRENCY", f"Invalid currency {currency}", 400).refuse()
        try:
            amount = Decimal(str(body["amount"]))
        except InvalidOperation:
            raise ErrorShape("INVALID_PARAM_VALUE", "Invalid parameter `amount`", 400).refuse() from None
        try:
            made = self.withdrawals.withdraw(call.key.account, currency, amount, address, body.get("chain") or None,
                                             body.get("memo") or None, str(body.get("withdraw_order_id") or ""))
        except Reject as exc:
            raise _refusal(exc.reason) from None
        return json_response(self.record_json(made))

    def withdrawal_records(self, call: Call) -> web.Response:
        self.withdrawals.requests.append("wallet/withdrawals")
        query = call.query
        since = int(query.get("from", "0")) * 1000
        until = int(query["to"]) * 1000 if "to" in query else None
        rows = self.withdrawals.of(call.key.account, query.get("currency") or None, since, until)
        if query.get("withdraw_order_id"):
            rows = [w for w in rows if w.client_id == query["withdraw_order_id"]]
        offset, limit = int(query.get("offset", "0")), min(500, int(query.get("limit", "100")))
        return json_response([self.record_json(w) for w in rows[offset:offset + limit]])

    @staticmethod
    def record_json(w: SimWithdrawal) -> dict[str, Any]:
        return {"id": w.withdrawal_id, "txid": f"0x{w.withdrawal_id[1:]:0>64}", "withdraw_order_id": w.client_id,
                "timestamp": str(int(w.ts)), "amount": num(w.amount), "fee": num(w.fee), "currency": w.asset,
                "address": w.address, "memo": w.memo or "", "status": "DONE", "chain": w.network}

    def withdraw_status(self, call: Call) -> web.Response:
        self.withdrawals.requests.append("wallet/withdraw_status")
        assets = sorted(self.engine.account(call.key.account).balances)
        if call.query.get("currency"):
            assets = [a for a in assets if a == call.query["currency"]]
        return json_response([self.status_json(a) for a in assets])

    @staticmethod
    def status_json(asset: str) -> dict[str, Any]:
        networks = networks_of(asset)
        default = next(n for n in networks if n.default)
        return {"currency": asset, "name": asset, "name_cn": asset, "deposit": "0", "withdraw_percent": "0%",
                "withdraw_fix": num(default.fee), "withdraw_day_limit": "500000", "withdraw_day_limit_remain": "500000",
                "withdraw_amount_mini": num(default.minimum), "withdraw_eachtime_limit": "90000000000",
                "withdraw_fix_on_chains": {n.name: num(n.fee) for n in networks},
                "withdraw_percent_on_chains": {n.name: "0%" for n in networks}}

    def saved_address(self, call: Call) -> web.Response:
        self.withdrawals.requests.append("wallet/saved_address")
        if "withdraw" not in call.key.permissions:
            raise FORBIDDEN.refuse()
        currency = call.query.get("currency", "")
        if not currency:
            raise ErrorShape("MISSING_REQUIRED_PARAM", "Missing required parameter: currency", 400).refuse()
        chain = call.query.get("chain") or None
        return json_response([{"currency": b.asset, "chain": b.network, "address": b.address, "name": b.address[:8],
                               "tag": b.memo or "", "verified": "1"}
                              for b in self.withdrawals.booked.get(call.key.account, [])
                              if b.asset == currency and chain in (None, b.network)])
