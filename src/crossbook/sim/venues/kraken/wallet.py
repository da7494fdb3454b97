"""Simulated Kraken funding (the ``/0/private`` withdrawal methods), as ccxt calls them.

Kraken withdraws only to an address set up on the account beforehand, named by its withdrawal
``key``; every method here needs a key with the withdraw right ("EGeneral:Permission denied").

- ``WithdrawMethods`` (``asset``, ``network``): one row per asset and network: ``method``,
  ``network``, ``minimum`` and the ``fee``.
- ``WithdrawAddresses`` (``asset``, ``method``, ``key``, ``verified``): the set-up addresses:
  ``address``, ``asset``, ``method``, ``key``, ``memo``, ``verified``.
- ``WithdrawInfo`` (``asset``, ``key``, ``amount``): ``method``, ``limit``, ``amount``, ``fee``.
- ``Withdraw`` (``asset``, ``key``, ``amount``, optional ``address`` that must be the key's,
  ``max_fee``) -> ``{"refid"}``. The fee comes on top of ``amount``: the address receives the
  amount. Refusals: "EFunding:Unknown withdraw key", "EFunding:Invalid withdrawal address",
  "EFunding:Invalid amount" (malformed or below the minimum), "EFunding:Max fee exceeded",
  "EFunding:Insufficient funds".
- ``WithdrawStatus`` (``asset``, ``method``, ``start`` / ``end`` in seconds): recent withdrawals,
  newest first: ``refid``, ``txid``, ``info`` (the address), ``amount``, ``fee``, ``time``,
  ``status`` "Success", ``key``, ``method``, ``network``.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from functools import cached_property
from typing import Any

from aiohttp import web

from ...access import ApiKey
from ...engine import Reject
from ...withdrawals import BookedAddress, Network, SimWithdrawal, SimWithdrawals, networks_of
from .errors import kraken_error
from .stream import KrakenSpotSim
from .wire import LEGACY_CODES, TXID_ALPHABET, WS_NAMES, Private, asset_code, ok

CHAINS = {"BTC": "Bitcoin", "ETH": "Ethereum", "TRX": "Tron"}  # the simulator's networks as Kraken names them
_TOKENS = {"ETH": "ERC20", "TRX": "TRC20"}
_WITHDRAW_ERRORS = {
    "bad_amount": "EFunding:Invalid amount",
    "below_minimum": "EFunding:Invalid amount",
    "insufficient_balance": "EFunding:Insufficient funds",
    "not_whitelisted": "EFunding:Unknown withdraw key",
}


def refid(n: int) -> str:
    """Kraken's withdrawal reference of the n-th withdrawal: "A" and 18 base32 characters, 7-6-6."""
    text = "A" + "".join(TXID_ALPHABET[(n >> (5 * i)) & 31] for i in reversed(range(18)))
    return f"{text[:7]}-{text[7:13]}-{text[13:]}"


def network_name(network: str) -> str:
    return CHAINS.get(network, network)


def method_name(asset: str, network: str) -> str:
    """The withdrawal method: "Bitcoin", "Ether", "USDT (ERC20)", else the asset."""
    if asset == "BTC":
        return "Bitcoin"
    if asset == "ETH":
        return "Ether"
    token = _TOKENS.get(network)
    return f"{asset} ({token})" if token and asset != network else asset


def key_name(address: BookedAddress) -> str:
    """The withdrawal key the account set the address up under."""
    return f"{address.asset.lower()}-{address.network.lower()}-{address.address[-6:]}"


def asset_of(code: str) -> str:
    """``XXBT``, ``XBT`` or ``BTC`` -> BTC."""
    legacy = {v: k for k, v in LEGACY_CODES.items()} | {v: k for k, v in WS_NAMES.items()}
    return legacy.get(code, code)


class KrakenWalletSim(KrakenSpotSim):
    """Kraken's spot simulator with its funding methods, over the spot balances."""

    @cached_property
    def withdrawals(self) -> SimWithdrawals:
        return SimWithdrawals(self.engine, fee_on_top=True, ids=refid)

    def trading_routes(self) -> list[web.RouteDef]:
        funding: dict[str, Private] = {
            "WithdrawMethods": self.withdraw_methods,
            "WithdrawAddresses": self.withdraw_addresses,
            "WithdrawInfo": self.withdraw_info,
            "Withdraw": self.withdraw,
            "WithdrawStatus": self.withdraw_status,
        }
        return [*super().trading_routes(),
                *(web.post(f"/0/private/{name}", self.signed(h, "withdraw")) for name, h in funding.items())]

    def asset_param(self, params: dict[str, str], required: bool = True) -> str | None:
        code = params.get("asset", "")
        if not code:
            if required:
                raise kraken_error("EGeneral:Invalid arguments:asset")
            return None
        return asset_of(code)

    def booked(self, key: ApiKey, asset: str | None = None) -> list[BookedAddress]:
        return [b for b in self.withdrawals.booked.get(key.account, []) if asset in (None, b.asset)]

    def by_key(self, key: ApiKey, asset: str, name: str) -> BookedAddress:
        found = next((b for b in self.booked(key, asset) if key_name(b) == name), None)
        if found is None:
            raise kraken_error("EFunding:Unknown withdraw key")
        return found

    async def withdraw_methods(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        self.withdrawals.requests.append("WithdrawMethods")
        asset = self.asset_param(params, required=False)
        assets = [asset] if asset else sorted(self.engine.account(key.account).balances)
        rows = [self.method_json(a, n) for a in assets for n in networks_of(a)
                if params.get("network") in (None, "", network_name(n.name))]
        return ok(rows)

    @staticmethod
    def method_json(asset: str, network: Network) -> dict[str, Any]:
        return {"asset": asset_code(asset), "method": method_name(asset, network.name),
                "method_id": f"{asset}-{network.name}".lower(), "network": network_name(network.name),
                "network_id": network.name.lower(), "minimum": str(network.minimum),
                "fee": {"aclass": "currency", "asset": asset_code(asset), "fee": str(network.fee)}}

    async def withdraw_addresses(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        self.withdrawals.requests.append("WithdrawAddresses")
        rows = [{"address": b.address, "asset": asset_code(b.asset), "method": method_name(b.asset, b.network),
                 "key": key_name(b), "memo": b.memo or "", "verified": True}
                for b in self.booked(key, self.asset_param(params, required=False))]
        for name in ("method", "key"):
            if params.get(name):
                rows = [r for r in rows if r[name] == params[name]]
        return ok(rows)

    async def withdraw_info(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        self.withdrawals.requests.append("WithdrawInfo")
        asset = self.asset_param(params)
        assert asset is not None
        address = self.by_key(key, asset, params.get("key", ""))
        amount = self.amount(params)
        network = self.withdrawals.network(asset, address.network)
        limit = max(Decimal(0), self.engine.account(key.account).available(asset) - network.fee)
        return ok({"method": method_name(asset, network.name), "limit": str(limit), "amount": str(min(amount, limit)),
                   "fee": str(network.fee)})

    async def withdraw(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        self.withdrawals.requests.append("Withdraw")
        asset = self.asset_param(params)
        assert asset is not None
        address = self.by_key(key, asset, params.get("key", ""))
        if params.get("address") and params["address"] != address.address:
            raise kraken_error("EFunding:Invalid withdrawal address")
        amount = self.amount(params)
        if params.get("max_fee") and self.amount(params, "max_fee") < self.withdrawals.network(asset, address.network).fee:
            raise kraken_error("EFunding:Max fee exceeded")
        try:
            made = self.withdrawals.withdraw(key.account, asset, amount, address.address, address.network, address.memo)
        except Reject as exc:
            raise kraken_error(_WITHDRAW_ERRORS.get(exc.reason, "EFunding:Invalid amount")) from None
        return ok({"refid": made.withdrawal_id})

    @staticmethod
    def amount(params: dict[str, str], name: str = "amount") -> Decimal:
        try:
            value = Decimal(params.get(name, ""))
        except InvalidOperation:
            raise kraken_error("EFunding:Invalid amount") from None
        if not value.is_finite() or value < 0:
            raise kraken_error("EFunding:Invalid amount")
        return value

    async def withdraw_status(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        self.withdrawals.requests.append("WithdrawStatus")
        since = int(self.amount(params, "start") * 1000) if params.get("start") else 0
        until = int(self.amount(params, "end") * 1000) if params.get("end") else None
        rows = [self.status_json(w) for w in self.withdrawals.of(key.account, self.asset_param(params, required=False),
                                                                 since, until)]
        if params.get("method"):
            rows = [r for r in rows if r["method"] == params["method"]]
        return ok(rows)

    @staticmethod
    def status_json(w: SimWithdrawal) -> dict[str, Any]:
        return {"method": method_name(w.asset, w.network), "network": network_name(w.network), "aclass": "currency",
                "asset": asset_code(w.asset), "refid": w.withdrawal_id, "txid": f"{w.withdrawal_id.replace('-', ''):0>64}",
                "info": w.address, "amount": str(w.amount), "fee": str(w.fee), "time": int(w.ts), "status": "Success",
                "key": key_name(BookedAddress(w.asset, w.address, w.network, w.memo))}
