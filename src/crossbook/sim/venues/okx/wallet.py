"""Simulated OKX funding-account withdrawals, as ccxt calls them (OKX v5 docs, Funding Account).

- ``POST /api/v5/asset/withdrawal`` (``ccy``, ``amt``, ``dest`` 4 on-chain, ``toAddr`` with
  ``:memo`` where there is one, ``chain`` as ``CCY-Network``, ``fee``, ``clientId``) -> ``[{"wdId",
  "ccy", "amt", "clientId", "chain"}]``. The fee is on top of ``amt``. Needs a key with the
  withdraw right (50120). Refusals: 58200 unknown chain, 58206 below the minimum, 58211 a ``fee``
  below the chain's, 58207 an address off the account's verified list (when it keeps one), 58350
  insufficient balance, 51000 a malformed amount.
- ``GET /api/v5/asset/withdrawal-history`` (``ccy``, ``wdId``, ``clientId``, ``before`` / ``after``
  in ms: newer / older than, ``limit``): rows with ``wdId``, ``clientId``, ``amt``, ``fee``, ``to``,
  ``chain``, ``ts``, ``state`` "2" (success).
- ``/api/v5/asset/currencies`` lists one row per chain with its ``fee`` (``minFee``) and ``minWd``.
OKX's API serves no withdrawal address list, so crossbook reads none there.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from functools import cached_property
from typing import Any

from aiohttp import web

from ...access import ApiKey
from ...engine import Reject
from ...refusal import Reason
from ...withdrawals import SimWithdrawal, SimWithdrawals
from .errors import REFUSALS, okx_error
from .records import OkxRecords
from .wire import chain_of, envelope, network_of, num, require

SUCCESS = "2"
_WITHDRAW_ERRORS = {
    "bad_amount": ("51000", "Parameter amt error"),
    "unknown_network": ("58200", "Withdrawal from your account to this chain is unavailable for this currency"),
    "below_minimum": ("58206", "Withdrawal amount is lower than the lower limit"),
    "not_whitelisted": ("58207", "Withdrawal address isn't on the verified address list."),
    "insufficient_balance": ("58350", "Insufficient balance"),
}


class OkxWallet(OkxRecords):
    """The funding account's withdrawals, over the engine's one balance."""

    @cached_property
    def withdrawals(self) -> SimWithdrawals:
        return SimWithdrawals(self.engine, fee_on_top=True, ids=lambda n: str(100000 + n))

    def wallet_routes(self) -> list[web.RouteDef]:
        return [web.post("/api/v5/asset/withdrawal", self.signed(self.withdrawal)),
                web.get("/api/v5/asset/withdrawal-history", self.signed(self.withdrawal_history))]

    async def withdrawal(self, key: ApiKey, body: Any) -> web.Response:
        self.withdrawals.requests.append("asset/withdrawal")
        if "withdraw" not in key.permissions:
            raise REFUSALS[Reason.PERMISSION_DENIED].refuse()
        if not isinstance(body, dict):
            raise okx_error("50002", "Json data format error.", 400)
        ccy, to_addr = require(body, "ccy"), require(body, "toAddr")
        if str(body.get("dest", "4")) != "4":
            raise okx_error("51000", "Parameter dest error", 400)
        try:
            amount = Decimal(require(body, "amt"))
        except InvalidOperation:
            raise okx_error("51000", "Parameter amt error", 400) from None
        address, _, memo = to_addr.partition(":")
        network = network_of(ccy, str(body["chain"])) if body.get("chain") else None
        if body.get("chain") and network is None:
            raise okx_error(*_WITHDRAW_ERRORS["unknown_network"])
        self.check_fee(ccy, network, body.get("fee"))
        try:
            made = self.withdrawals.withdraw(key.account, ccy, amount, address, network, memo or None,
                                             str(body.get("clientId") or ""))
        except Reject as exc:
            raise okx_error(*_WITHDRAW_ERRORS.get(exc.reason, ("58200", "Withdrawal is unavailable"))) from None
        return envelope([{"wdId": made.withdrawal_id, "ccy": ccy, "amt": num(amount), "clientId": made.client_id,
                          "chain": chain_of(ccy, made.network)}])

    def check_fee(self, ccy: str, network: str | None, fee: Any) -> None:
        """A ``fee`` given must be the chain's (OKX refuses a lower one with 58211)."""
        if fee in (None, ""):
            return
        try:
            given = Decimal(str(fee))
            chosen = self.withdrawals.network(ccy, network)
        except (InvalidOperation, Reject):
            raise okx_error("51000", "Parameter fee error", 400) from None
        if given < chosen.fee:
            raise okx_error("58211", "Withdrawal fee is lower than the lower limit")

    async def withdrawal_history(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        self.withdrawals.requests.append("asset/withdrawal-history")
        newer = int(params["before"]) + 1 if params.get("before") else 0
        older = int(params["after"]) - 1 if params.get("after") else None
        rows = self.withdrawals.of(key.account, params.get("ccy") or None, newer, older)
        for name, field in (("wdId", "withdrawal_id"), ("clientId", "client_id")):
            if params.get(name):
                rows = [w for w in rows if getattr(w, field) == params[name]]
        limit = min(100, int(params.get("limit") or 100))
        return envelope([self.withdrawal_json(w) for w in rows[:limit]])

    def withdrawal_json(self, w: SimWithdrawal) -> dict[str, Any]:
        return {"ccy": w.asset, "chain": chain_of(w.asset, w.network), "nonTradableAsset": False, "amt": num(w.amount),
                "ts": str(int(w.ts * 1000)), "from": "", "areaCodeFrom": "", "to": w.address, "areaCodeTo": "",
                "tag": w.memo or "", "pmtId": "", "memo": "", "addrEx": None, "txId": f"0x{w.withdrawal_id:0>64}",
                "fee": num(w.fee), "feeCcy": w.asset, "state": SUCCESS, "wdId": w.withdrawal_id,
                "clientId": w.client_id, "note": ""}
