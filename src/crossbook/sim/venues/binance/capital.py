"""Simulated Binance wallet (``/sapi/v1/capital``): withdrawals, their history, the coins'
networks with fees and minimums, and the withdrawal address book, as ccxt calls them.

- ``POST /sapi/v1/capital/withdraw/apply`` (``coin``, ``address``, ``amount``, ``network``,
  ``addressTag``, ``withdrawOrderId``) -> ``{"id"}``; the fee comes out of ``amount``. Needs a key
  with the withdrawal right (-2015 otherwise). Refusals in Binance's wallet codes: -4018 unknown
  asset, -4019 network closed, -4022 below the minimum, -4028 not above the fee, -4035 not on the
  whitelist (when the account turned its whitelist on), -4026 insufficient balance.
- ``GET /sapi/v1/capital/withdraw/history`` (``coin``, ``withdrawOrderId``, ``startTime``,
  ``endTime``, ``offset``, ``limit``): rows with ``id``, ``amount``, ``transactionFee``, ``status``
  (6: completed), ``applyTime`` ("YYYY-MM-DD HH:MM:SS" UTC), ``withdrawOrderId``.
- ``GET /sapi/v1/capital/config/getall``: every funded coin with its ``networkList``.
- ``GET /sapi/v1/capital/withdraw/address/list``: the address book, ``whiteStatus`` true.
"""

from __future__ import annotations

import time
from decimal import Decimal, InvalidOperation
from functools import cached_property
from typing import Any

from aiohttp import web

from ...access import ApiKey
from ...engine import Reject
from ...server import json_response
from ...withdrawals import SimWithdrawal, SimWithdrawals, networks_of
from .errors import binance_error
from .trading import BinanceTrading

COMPLETED = 6
_WITHDRAW_ERRORS = {
    "bad_amount": (-4003, "Withdrawal amount must be positive."),
    "unknown_network": (-4019, "Current asset is not open for withdrawal."),
    "below_minimum": (-4022, "Not less than the minimum pick-up quantity {}."),
    "below_fee": (-4028, "The amount of withdrawal must be greater than the Commission."),
    "not_whitelisted": (-4035, "This address is not on the whitelist. Please join and try again."),
    "insufficient_balance": (-4026, "You have insufficient balance."),
}


def _apply_time(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ts))


class BinanceCapital(BinanceTrading):
    """The wallet endpoints, over the spot account's balances."""

    @cached_property
    def withdrawals(self) -> SimWithdrawals:
        return SimWithdrawals(self.engine, fee_on_top=False, ids=lambda n: f"{n:032x}")

    def capital_routes(self) -> list[web.RouteDef]:
        return [
            web.post("/sapi/v1/capital/withdraw/apply", self.signed(self.withdraw_apply)),
            web.get("/sapi/v1/capital/withdraw/history", self.signed(self.withdraw_history)),
            web.get("/sapi/v1/capital/config/getall", self.signed(self.coins_config)),
            web.get("/sapi/v1/capital/withdraw/address/list", self.signed(self.address_list)),
        ]

    async def withdraw_apply(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        self.withdrawals.requests.append("withdraw/apply")
        if "withdraw" not in key.permissions:
            raise binance_error(-2015, "Invalid API-key, IP, or permissions for action.", 401)
        coin, address = params.get("coin", ""), params.get("address", "")
        if not coin or not address or not params.get("amount"):
            raise binance_error(-1102, "Mandatory parameter 'coin', 'address' or 'amount' was not sent, was empty/null, or malformed.")
        if coin not in self.engine.account(key.account).balances:
            raise binance_error(-4018, "We don't have this asset.")
        try:
            amount = Decimal(params["amount"])
        except InvalidOperation:
            raise binance_error(-1100, "Illegal characters found in parameter 'amount'.") from None
        try:
            made = self.withdrawals.withdraw(key.account, coin, amount, address, params.get("network") or None,
                                             params.get("addressTag") or None, params.get("withdrawOrderId", ""))
        except Reject as exc:
            code, msg = _WITHDRAW_ERRORS.get(exc.reason, (-4000, "Invalid withdraw status."))
            minimum = self.withdrawals.network(coin, None).minimum if exc.reason == "below_minimum" else ""
            raise binance_error(code, msg.format(minimum)) from None
        return json_response({"id": made.withdrawal_id})

    async def withdraw_history(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        self.withdrawals.requests.append("withdraw/history")
        start = int(params.get("startTime", "0"))
        end = int(params["endTime"]) if "endTime" in params else None
        rows = self.withdrawals.of(key.account, params.get("coin") or None, start, end)
        if params.get("withdrawOrderId"):
            rows = [w for w in rows if w.client_id == params["withdrawOrderId"]]
        offset, limit = int(params.get("offset", "0")), min(1000, int(params.get("limit", "1000")))
        return json_response([self.withdrawal_json(w) for w in rows[offset:offset + limit]])

    def withdrawal_json(self, w: SimWithdrawal) -> dict[str, Any]:
        return {"id": w.withdrawal_id, "amount": self.num(w.amount), "transactionFee": self.num(w.fee), "coin": w.asset,
                "status": COMPLETED, "address": w.address, "addressTag": w.memo or "", "txId": f"0x{w.withdrawal_id:0>64}",
                "applyTime": _apply_time(w.ts), "completeTime": _apply_time(w.ts), "network": w.network,
                "transferType": 0, "withdrawOrderId": w.client_id, "info": "", "confirmNo": 1, "walletType": 0,
                "txKey": ""}

    async def coins_config(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        self.withdrawals.requests.append("config/getall")
        account = self.engine.account(key.account)
        return json_response([self.coin_json(asset, account.available(asset)) for asset in sorted(account.balances)])

    def coin_json(self, asset: str, free: Decimal) -> dict[str, Any]:
        networks = [{"coin": asset, "network": n.name, "name": n.name, "isDefault": n.default, "depositEnable": True,
                     "withdrawEnable": True, "withdrawFee": self.num(n.fee), "withdrawMin": self.num(n.minimum),
                     "withdrawMax": "9999999999.99999999", "withdrawIntegerMultiple": "0.00000001", "minConfirm": 1,
                     "sameAddress": False, "addressRegex": "", "memoRegex": "", "busy": False, "specialTips": "",
                     "depositDesc": "", "withdrawDesc": ""} for n in networks_of(asset)]
        return {"coin": asset, "name": asset, "depositAllEnable": True, "withdrawAllEnable": True, "free": self.num(free),
                "freeze": "0", "locked": "0", "ipoable": "0", "ipoing": "0", "isLegalMoney": False, "storage": "0",
                "trading": True, "withdrawing": "0", "networkList": networks}

    async def address_list(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        self.withdrawals.requests.append("withdraw/address/list")
        if "withdraw" not in key.permissions:
            raise binance_error(-2015, "Invalid API-key, IP, or permissions for action.", 401)
        return json_response([{"address": b.address, "addressTag": b.memo or "", "coin": b.asset, "name": b.address[:8],
                               "network": b.network, "origin": "", "originType": "others", "whiteStatus": True}
                              for b in self.withdrawals.booked.get(key.account, [])])
