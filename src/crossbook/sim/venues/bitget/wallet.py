"""Simulated Bitget v2 spot wallet withdrawals, as ccxt calls them for a classic account
(bitget.com/api-doc/spot/account/Wallet-Withdrawal, Get-Withdraw-Record, spot/market/Get-Coin-List).

- ``POST /api/v2/spot/wallet/withdrawal`` (JSON ``coin``, ``transferType`` ``on_chain`` (the only
  one simulated), ``address``, ``chain`` (required on chain, any case: ``BTC``, ``trc20``),
  ``size``, ``tag``, ``clientOid``) -> ``{"orderId", "clientOid"}``. The fee comes out of
  ``size``. Needs a key with the withdraw right (40014). Refusals: 43111 an address off the
  account's address book (when it keeps one), 43012 insufficient balance, 40017 a malformed
  size, an unknown chain, a size below the chain's minimum or not covering its fee, 40019 a
  missing parameter.
- ``GET /api/v2/spot/wallet/withdrawal-records`` (``startTime`` and ``endTime`` in ms, required;
  ``coin``, ``orderId``, ``clientOid``, ``idLessThan``, ``limit`` up to 100, default 20): rows
  newest first with ``orderId``, ``clientOid``, ``size`` (what left the account), ``fee``
  (negative), ``toAddress``, ``chain``, ``cTime``, ``status`` ``success``.
- ``/api/v2/spot/public/coins`` lists each coin's chains with ``withdrawFee`` and
  ``minWithdrawAmount`` (public.py).
Bitget's API serves no list of the address book, so crossbook reads none there.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from functools import cached_property
from typing import Any

from aiohttp import web

from ...access import ApiKey
from ...engine import Reject
from ...server import json_response
from ...withdrawals import SimWithdrawal, SimWithdrawals
from .errors import bitget_error
from .trading import BitgetSpotSim
from .wire import Params, _envelope, _num, _required, chain_of, network_of

RECORDS_PAGE = 20  # withdrawal-records' default limit; 100 at most
_WITHDRAW_ERRORS = {
    "bad_amount": ("40017", "Parameter verification failed: size"),
    "unknown_network": ("40017", "Parameter verification failed: chain"),
    "below_minimum": ("40017", "Cash Withdrawal Is Less Than The Minimum Value"),
    "below_fee": ("40017", "Cash Withdrawal Is Less Than The Minimum Value"),
    "not_whitelisted": ("43111", "address not in address book"),
    "insufficient_balance": ("43012", "Insufficient balance"),
}


class BitgetWalletSim(BitgetSpotSim):
    """Bitget spot with on-chain withdrawals from the account's spot balance."""

    @cached_property
    def withdrawals(self) -> SimWithdrawals:
        return SimWithdrawals(self.engine, fee_on_top=False, ids=lambda n: str(1_100_000_000_000_000_000 + n))

    def routes(self) -> list[web.RouteDef]:
        wallet = "/api/v2/spot/wallet"
        return [*super().routes(),
                web.post(f"{wallet}/withdrawal", self.signed(self.withdrawal, right="withdraw")),
                web.get(f"{wallet}/withdrawal-records", self.signed(self.withdrawal_records))]

    async def withdrawal(self, key: ApiKey, params: Params) -> web.Response:
        self.withdrawals.requests.append("wallet/withdrawal")
        coin, address, chain = _required(params, "coin"), _required(params, "address"), _required(params, "chain")
        if _required(params, "transferType") != "on_chain":
            raise bitget_error("40017", "Parameter verification failed: transferType (on_chain only)")
        try:
            size = Decimal(_required(params, "size"))
        except InvalidOperation:
            raise bitget_error(*_WITHDRAW_ERRORS["bad_amount"]) from None
        network = network_of(coin, chain)
        if network is None:
            raise bitget_error(*_WITHDRAW_ERRORS["unknown_network"])
        try:
            made = self.withdrawals.withdraw(key.account, coin, size, address, network, str(params.get("tag") or "") or None,
                                             str(params.get("clientOid") or ""))
        except Reject as exc:
            raise bitget_error(*_WITHDRAW_ERRORS.get(exc.reason, ("40017", "Parameter verification failed"))) from None
        return json_response(_envelope({"orderId": made.withdrawal_id, "clientOid": made.client_id or None}))

    async def withdrawal_records(self, key: ApiKey, params: Params) -> web.Response:
        self.withdrawals.requests.append("wallet/withdrawal-records")
        start, end = _millis(params, "startTime"), _millis(params, "endTime")
        rows = self.withdrawals.of(key.account, params.get("coin") or None, start, end)
        for name, field in (("orderId", "withdrawal_id"), ("clientOid", "client_id")):
            if params.get(name):
                rows = [w for w in rows if getattr(w, field) == params[name]]
        if params.get("idLessThan"):
            rows = [w for w in rows if int(w.withdrawal_id) < int(params["idLessThan"])]
        limit = int(params.get("limit") or RECORDS_PAGE)
        if not 1 <= limit <= 100:
            raise bitget_error("40017", f"Parameter limit must be 1 to 100: {limit}")
        return json_response(_envelope([record_json(w) for w in rows[:limit]]))


def _millis(params: Params, name: str) -> int:
    text = _required(params, name)
    if not text.isdigit():
        raise bitget_error("40017", f"Parameter {name} must be a timestamp in milliseconds: {text}")
    return int(text)


def record_json(w: SimWithdrawal) -> dict[str, Any]:
    stamp = str(int(w.ts * 1000))
    return {"orderId": w.withdrawal_id, "tradeId": f"{w.withdrawal_id:0>64}", "clientOid": w.client_id or None,
            "coin": w.asset, "type": "withdraw", "size": _num(w.amount), "fee": _num(-w.fee), "status": "success",
            "toAddress": w.address, "tag": w.memo or "", "dest": "on_chain", "chain": chain_of(w.network),
            "confirm": "12", "fromAddress": None, "cTime": stamp, "uTime": stamp}
