"""Simulated Bybit v5 withdrawals, as ccxt calls them (bybit-exchange.github.io/docs/v5/asset/withdraw).

- ``POST /v5/asset/withdraw/create`` (``coin``, ``chain``, ``address``, ``tag``, ``amount``,
  ``timestamp``, ``accountType``, ``feeType`` 0: the fee on top of ``amount``, the simulator's only
  one) -> ``{"id"}``. Needs a key with the withdraw right (10005). Refusals: 131096 below the
  minimum, 131093 an address off the account's whitelist (when it keeps one), 131001 a balance
  that does not cover amount and fee, 131002 a malformed parameter or unknown chain.
- ``GET /v5/asset/withdraw/query-record`` (``withdrawID``, ``coin``, ``startTime``, ``endTime``,
  ``limit``): ``{"rows", "nextPageCursor"}``, rows with ``withdrawId``, ``amount``, ``withdrawFee``,
  ``toAddress``, ``chain``, ``createTime``, ``status`` "success". Bybit echoes no client id there.
- ``/v5/asset/coin/query-info`` lists each coin's chains with ``withdrawFee`` and ``withdrawMin``.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from functools import cached_property
from typing import Any

from aiohttp import web

from ...access import ApiKey
from ...engine import Reject
from ...withdrawals import SimWithdrawal, SimWithdrawals
from .records import BybitRecords
from .wire import Params, bybit_error, ms

_WITHDRAW_ERRORS = {
    "bad_amount": (131002, "Parameter error: amount"),
    "unknown_network": (131002, "Parameter error: chain"),
    "below_minimum": (131096, "Withdraw amount does not satisfy the lower limit or upper limit"),
    "not_whitelisted": (131093, "The withdrawal address is not in the whitelist"),
    "insufficient_balance": (131001, "the available balance is not sufficient to cover the handling fee"),
}


class BybitWallet(BybitRecords):
    """On-chain withdrawals from the account's one (unified) balance."""

    @cached_property
    def withdrawals(self) -> SimWithdrawals:
        return SimWithdrawals(self.engine, fee_on_top=True, ids=lambda n: str(10_000_000 + n))

    def wallet_routes(self) -> list[web.RouteDef]:
        return [web.post("/v5/asset/withdraw/create", self.signed(self.withdraw_create)),
                web.get("/v5/asset/withdraw/query-record", self.signed(self.withdraw_records))]

    async def withdraw_create(self, key: ApiKey, params: Params) -> dict[str, Any]:
        self.withdrawals.requests.append("withdraw/create")
        if "withdraw" not in key.permissions:
            raise bybit_error(10005, "Permission denied, please check your API key permissions.")
        coin, address = str(params.get("coin") or ""), str(params.get("address") or "")
        if not coin or not address or not params.get("amount"):
            raise bybit_error(131002, "Parameter error: coin, address and amount are required")
        if str(params.get("feeType", "0")) != "0":
            raise bybit_error(131002, "Parameter error: feeType (the simulator takes the fee on top only)")
        try:
            amount = Decimal(str(params["amount"]))
        except InvalidOperation:
            raise bybit_error(*_WITHDRAW_ERRORS["bad_amount"]) from None
        try:
            made = self.withdrawals.withdraw(key.account, coin, amount, address, str(params.get("chain") or "") or None,
                                             str(params.get("tag") or "") or None)
        except Reject as exc:
            raise bybit_error(*_WITHDRAW_ERRORS.get(exc.reason, (131003, "Internal error"))) from None
        return {"id": made.withdrawal_id}

    async def withdraw_records(self, key: ApiKey, params: Params) -> dict[str, Any]:
        self.withdrawals.requests.append("withdraw/query-record")
        start = int(params.get("startTime") or 0)
        end = int(params["endTime"]) if params.get("endTime") else None
        rows = self.withdrawals.of(key.account, params.get("coin") or None, start, end)
        if params.get("withdrawID"):
            rows = [w for w in rows if w.withdrawal_id == params["withdrawID"]]
        limit = min(50, int(params.get("limit") or 50))
        return {"rows": [self.record_json(w) for w in rows[:limit]], "nextPageCursor": ""}

    @staticmethod
    def record_json(w: SimWithdrawal) -> dict[str, Any]:
        stamp = str(ms(w.ts))
        return {"coin": w.asset, "chain": w.network, "amount": f"{w.amount:f}", "txID": f"{w.withdrawal_id:0>64}",
                "status": "success", "toAddress": w.address, "tag": w.memo or "", "withdrawFee": f"{w.fee:f}",
                "createTime": stamp, "updateTime": stamp, "withdrawId": w.withdrawal_id, "withdrawType": 0}
