"""Simulated KuCoin withdrawals, as ccxt calls them (kucoin.com/docs-new/rest/account-info/withdrawals).

- ``POST /api/v3/withdrawals`` (JSON ``currency``, ``toAddress``, ``withdrawType`` ``ADDRESS`` (the
  only one simulated), ``amount``, ``chain`` (a chain id: ``btc``, ``eth``, ``trx``), ``memo``,
  ``remark``, ``feeDeductType``) -> ``{"withdrawalId"}``. With ``feeDeductType`` absent or
  ``EXTERNAL`` the fee comes on top of ``amount`` from the balance; ``INTERNAL`` (the fee out of the
  amount) and KuCoin's fallback to it when the balance cannot cover the fee are not simulated.
  KuCoin takes no client id. Needs a key with the withdrawal ("Transfer") right (400007, HTTP 403).
  Refusals: 400100 a malformed or too small amount, 900014 an unknown chain, 200004 a balance
  that does not cover amount and fee, 400100 an address off the account's withdrawal whitelist
  (when it keeps one; KuCoin documents no code of its own for it).
- ``GET /api/v1/withdrawals`` (``currency``, ``status``, ``startAt`` / ``endAt`` in ms,
  ``currentPage``, ``pageSize``): a page of items newest first with ``id``, ``address``, ``memo``,
  ``currency``, ``chain``, ``amount`` (what the address receives), ``fee``, ``walletTxId``,
  ``status`` ``SUCCESS``, ``createdAt`` in ms.
- ``/api/v3/currencies`` lists each currency's chains with ``withdrawalMinFee`` and
  ``withdrawalMinSize`` (public.py).
KuCoin's API serves no list of whitelisted addresses, so crossbook reads none there.
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
from .errors import REFUSALS, kucoin_error
from .stream import KucoinSpotSim
from .wire import Params, chain_of, dec, in_window, ms, network_of, page

_WITHDRAW_ERRORS = {
    "bad_amount": ("400100", "Parameter error: amount"),
    "unknown_network": ("900014", "Invalid chainId"),
    "below_minimum": ("400100", "The withdrawal amount is below the minimum requirement."),
    "not_whitelisted": ("400100", "The withdrawal address is not in the withdrawal whitelist."),
    "insufficient_balance": ("200004", "Balance insufficient!"),
}


class KucoinWalletSim(KucoinSpotSim):
    """KuCoin spot with on-chain withdrawals from the account's one balance."""

    @cached_property
    def withdrawals(self) -> SimWithdrawals:
        return SimWithdrawals(self.engine, fee_on_top=True, ids=lambda n: f"{0x5BFFB63303AA675E8BBE0000 + n:024x}")

    def routes(self) -> list[web.RouteDef]:
        return [*super().routes(),
                web.post("/api/v3/withdrawals", self.signed(self.withdraw, trading=False)),
                web.get("/api/v1/withdrawals", self.signed(self.withdrawal_list, trading=False))]

    async def withdraw(self, key: ApiKey, request: web.Request, params: Params) -> Any:
        self.withdrawals.requests.append("withdrawals")
        if "withdraw" not in key.permissions:
            raise REFUSALS[Reason.PERMISSION_DENIED].refuse()
        currency, address = str(params.get("currency") or ""), str(params.get("toAddress") or "")
        if not currency or not address or params.get("amount") in (None, ""):
            raise kucoin_error("400100", "Parameter error: currency, toAddress and amount are required")
        if str(params.get("withdrawType") or "ADDRESS") != "ADDRESS":
            raise kucoin_error("400100", "Parameter error: withdrawType (the simulator takes ADDRESS only)")
        if str(params.get("feeDeductType") or "EXTERNAL") != "EXTERNAL":
            raise kucoin_error("400100", "Parameter error: feeDeductType (the simulator takes EXTERNAL only)")
        try:
            amount = Decimal(str(params["amount"]))
        except InvalidOperation:
            raise kucoin_error(*_WITHDRAW_ERRORS["bad_amount"]) from None
        network = network_of(currency, str(params["chain"])) if params.get("chain") else None
        if params.get("chain") and network is None:
            raise kucoin_error(*_WITHDRAW_ERRORS["unknown_network"])
        try:
            made = self.withdrawals.withdraw(key.account, currency, amount, address, network, str(params.get("memo") or "") or None)
        except Reject as exc:
            raise kucoin_error(*_WITHDRAW_ERRORS.get(exc.reason, ("400100", "Parameter error"))) from None
        return {"withdrawalId": made.withdrawal_id}

    async def withdrawal_list(self, key: ApiKey, request: web.Request, params: Params) -> Any:
        self.withdrawals.requests.append("withdrawals list")
        rows = [w for w in self.withdrawals.of(key.account, params.get("currency") or None) if in_window(ms(w.ts), params)]
        if params.get("status") not in (None, "", "SUCCESS"):
            rows = []  # every simulated withdrawal completes at once
        return page([item_json(w) for w in rows], params)


def item_json(w: SimWithdrawal) -> dict[str, Any]:
    stamp = ms(w.ts)
    return {"id": w.withdrawal_id, "address": w.address, "memo": w.memo or "", "currency": w.asset,
            "chain": chain_of(w.network)[1], "amount": dec(w.amount), "fee": dec(w.fee),
            "walletTxId": f"{w.withdrawal_id:0>64}", "isInner": False, "status": "SUCCESS", "remark": "",
            "createdAt": stamp, "updatedAt": stamp}
