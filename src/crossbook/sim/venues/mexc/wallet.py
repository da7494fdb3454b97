"""Simulated MEXC wallet (``/api/v3/capital``), as ccxt calls it: withdrawals, their history, the
coins' networks with fees and minimums, and the withdrawal address book.

- ``POST /api/v3/capital/withdraw`` (``coin``, ``address``, ``amount``, ``netWork``, ``memo``,
  ``withdrawOrderId``) -> ``{"id"}``; the fee comes out of ``amount``. Needs a key with the
  withdrawal right (700007 otherwise); refusals: 10101 insufficient balance, 730002 any invalid
  parameter (unknown coin or network, below the minimum or the fee, not in the address book when
  the account withdraws only to it).
- ``GET /api/v3/capital/withdraw/history`` (``coin``, ``startTime``, ``endTime``, ``limit``): rows
  with ``id``, ``amount`` (fee included, as ccxt reads it), ``transactionFee``, ``status`` (7:
  success), ``applyTime`` (ms), ``network``, ``withdrawOrderId``.
- ``GET /api/v3/capital/config/getall``: every coin with its ``networkList`` (``netWork``,
  ``withdrawFee``, ``withdrawMin``, ``withdrawEnable``).
- ``GET /api/v3/capital/withdraw/address`` (``coin``, ``page``, ``limit``): the address book,
  ``{"data": [...], "currentPage", "pageSize", "totalPage", "totalSize"}``.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from functools import cached_property
from typing import Any

from aiohttp import web

from ...access import ApiKey
from ...engine import Reject
from ...refusal import Reason
from ...server import json_response
from ...withdrawals import SimWithdrawal, SimWithdrawals, networks_of
from .errors import REFUSALS, mandatory, mexc_error
from .trading import MexcSpotSim
from .wire import ms, num

SUCCESS = 7
INSUFFICIENT = 10101
INVALID = 730002


class MexcWalletSim(MexcSpotSim):
    """MEXC's spot simulator with its wallet endpoints, over the spot account's balances."""

    @cached_property
    def withdrawals(self) -> SimWithdrawals:
        return SimWithdrawals(self.engine, fee_on_top=False, ids=lambda n: f"{n:032x}")

    def trading_routes(self) -> list[web.RouteDef]:
        return [
            *super().trading_routes(),
            web.post("/api/v3/capital/withdraw", self.signed(self.withdraw)),
            web.get("/api/v3/capital/withdraw/history", self.signed(self.withdraw_history)),
            web.get("/api/v3/capital/withdraw/address", self.signed(self.address_book)),
        ]

    async def withdraw(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        self.withdrawals.requests.append("capital/withdraw")
        if "withdraw" not in key.permissions:
            raise REFUSALS[Reason.PERMISSION_DENIED].refuse()
        for name in ("coin", "address", "amount"):
            if not params.get(name):
                raise mandatory(name)
        coin = params["coin"]
        if coin not in self.engine.account(key.account).balances:
            raise mexc_error(INVALID, f"Your input param is invalid: coin {coin}")
        try:
            amount = Decimal(params["amount"])
        except InvalidOperation:
            raise mexc_error(INVALID, "Your input param is invalid: amount") from None
        try:
            made = self.withdrawals.withdraw(key.account, coin, amount, params["address"], params.get("netWork") or None,
                                             params.get("memo") or None, params.get("withdrawOrderId", ""))
        except Reject as exc:
            if exc.reason == "insufficient_balance":
                raise mexc_error(INSUFFICIENT, "Insufficient balance") from None
            raise mexc_error(INVALID, f"Your input param is invalid: {exc}") from None
        return json_response({"id": made.withdrawal_id})

    async def withdraw_history(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        self.withdrawals.requests.append("capital/withdraw/history")
        start = int(params.get("startTime", "0"))
        end = int(params["endTime"]) if "endTime" in params else None
        rows = self.withdrawals.of(key.account, params.get("coin") or None, start, end)
        return json_response([self.withdrawal_json(w) for w in rows[:min(1000, int(params.get("limit", "1000")))]])

    @staticmethod
    def withdrawal_json(w: SimWithdrawal) -> dict[str, Any]:
        return {"id": w.withdrawal_id, "txId": f"0x{w.withdrawal_id:0>64}", "coin": w.asset, "network": w.network,
                "address": w.address, "amount": num(w.amount), "transferType": "0", "status": str(SUCCESS),
                "transactionFee": num(w.fee), "confirmNo": 1, "applyTime": str(ms(w.ts)), "remark": "",
                "memo": w.memo or "", "transHash": f"0x{w.withdrawal_id:0>64}", "updateTime": str(ms(w.ts)),
                "coinId": w.asset, "vcoinId": w.asset, "withdrawOrderId": w.client_id}

    @staticmethod
    def coin_json(asset: str) -> dict[str, Any]:
        return {"coin": asset, "name": asset, "networkList": [
            {"coin": asset, "name": asset, "network": n.name, "netWork": n.name, "depositEnable": True,
             "withdrawEnable": True, "depositDesc": None, "withdrawFee": num(n.fee), "withdrawMin": num(n.minimum),
             "withdrawMax": "9999999999", "minConfirm": 1, "sameAddress": False, "contract": None}
            for n in networks_of(asset)]}

    async def address_book(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        self.withdrawals.requests.append("capital/withdraw/address")
        if "withdraw" not in key.permissions:
            raise REFUSALS[Reason.PERMISSION_DENIED].refuse()
        booked = [b for b in self.withdrawals.booked.get(key.account, []) if params.get("coin") in (None, "", b.asset)]
        page, size = max(1, int(params.get("page", "1"))), min(50, int(params.get("limit", "50")))
        rows = [{"coin": b.asset, "network": b.network, "address": b.address, "addressTag": b.address[:8],
                 "memo": b.memo or ""} for b in booked[(page - 1) * size:page * size]]
        return json_response({"data": rows, "currentPage": page, "pageSize": size,
                              "totalPage": max(1, -(-len(booked) // size)), "totalSize": len(booked)})
