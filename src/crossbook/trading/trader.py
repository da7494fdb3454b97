"""Trader: the everyday handle on one account (one sub-account) on one venue.

It wraps a loaded :class:`~crossbook.trading.account.VenueAccount` (validation, journal, client
order ids, rate limits) and adds what a trader does by hand: place / cancel / amend / look up
orders, OCO order lists, balances, positions, leverage, margin and position modes, transfers
between sub-accounts. Everything goes through ccxt's unified methods, or the hook in the venue's
SPEC where ccxt has none (``place_oco``, ``transfer``). Anything the venue, or crossbook on that
venue, cannot do is refused before a byte is sent, with an error naming the venue and the feature.

Results are frozen dataclasses whose ``to_json()`` gives prices at the instrument's tick and
amounts at its lot.
"""

from __future__ import annotations

import decimal
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

import ccxt

from ..errors import (
    CrossbookError,
    InvalidOrder,
    UnsupportedFeature,
    VenueRefused,
    VenueUnavailable,
)
from ..model import (
    Fill,
    Kind,
    MarginMode,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
)
from ..symbols import parse_standard
from ..venues.registry import spec
from ..venues.spec.capabilities import ORDER_FEATURES, Feature, OcoMode, Product, oco_mode
from ..venues.spec.hooks import MASTER_ACCOUNT
from .account import PositionView, VenueAccount, plain
from .journal import JournaledOrder, OcoRecord, OcoState
from .oco import OcoKeeper
from .validation import TradingRules, features_requested, validate_order

_MARGIN_FEATURES = {MarginMode.CROSS: Feature.CROSS_MARGIN, MarginMode.ISOLATED: Feature.ISOLATED_MARGIN}


def decimals_of(step: Decimal) -> int:
    """Decimals of a grid step: 0.01 -> 2, 0.5 -> 1, 10 -> 0."""
    exponent = step.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _number(value: Decimal | None, places: int) -> float | None:
    return None if value is None else float(round(value, places))


def _plain_number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


# ---- results ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Units:
    """How a market's order unit reads in base units: spot and linear contracts convert at a fixed
    size; an inverse contract is worth ``contract_size`` quote units, so its base amount depends
    on the price. ``amount_decimals`` is the lot's in base units, ``contract_decimals`` the lot's
    in contracts (None: not a contract market); ``price_currency`` what prices are in (None: unknown)."""

    contract_size: Decimal = Decimal(1)
    inverse: bool = False
    contract_market: bool = False
    price_decimals: int = 8
    amount_decimals: int = 8
    contract_decimals: int | None = None
    price_currency: str | None = None

    @classmethod
    def of(cls, rules: TradingRules | None) -> Units:
        if rules is None:
            return cls()
        if not rules.derivative:
            return cls(price_decimals=decimals_of(rules.tick), amount_decimals=decimals_of(rules.lot),
                       price_currency=rules.price_currency)
        base_lot = decimals_of(rules.lot * rules.contract_size) if not rules.inverse else 8
        return cls(rules.contract_size, rules.inverse, True, decimals_of(rules.tick), base_lot, decimals_of(rules.lot),
                   rules.price_currency)

    def base(self, amount: Decimal, price: Decimal | None) -> Decimal | None:
        """``amount`` in the order unit (contracts on a contract market) as base units; None for
        inverse contracts when no price is known."""
        if not self.contract_market:
            return amount
        if not self.inverse:
            return amount * self.contract_size
        return None if not price else amount * self.contract_size / price

    def contracts(self, amount: Decimal) -> Decimal | None:
        return amount if self.contract_market else None


@dataclass(frozen=True, slots=True)
class OrderView:
    """One order as the journal knows it after the venue's last word. ``amount`` and ``filled``
    are in base units (the amount asked, the amount traded); on a contract market ``contracts`` and
    ``filled_contracts`` are the venue's counts (an inverse order's base amount is at its price,
    None before it has one)."""

    venue: str
    account: str
    symbol: str
    client_order_id: str
    venue_order_id: str | None
    side: Side
    type: OrderType
    status: OrderStatus
    amount: Decimal | None
    price: Decimal | None
    stop_price: Decimal | None
    filled: Decimal | None
    avg_price: Decimal | None
    time_in_force: TimeInForce
    post_only: bool
    reduce_only: bool
    reason: str
    created_at: float
    updated_at: float
    price_decimals: int
    amount_decimals: int
    contracts: Decimal | None = None
    filled_contracts: Decimal | None = None
    contract_decimals: int | None = None
    price_currency: str | None = None  # what price, stop_price and avg_price are in (None: unknown)

    @property
    def remaining(self) -> Decimal | None:
        return None if self.amount is None or self.filled is None else self.amount - self.filled

    def to_json(self) -> dict[str, Any]:
        px, qty = self.price_decimals, self.amount_decimals
        out = {
            "venue": self.venue, "account": self.account, "symbol": self.symbol,
            "client_order_id": self.client_order_id, "venue_order_id": self.venue_order_id,
            "side": self.side.value, "type": self.type.value, "status": self.status.value,
            "amount": _number(self.amount, qty), "price": _number(self.price, px),
            "stop_price": _number(self.stop_price, px), "filled": _number(self.filled, qty),
            "remaining": _number(self.remaining, qty), "avg_price": _number(self.avg_price, px + 2),
            "time_in_force": self.time_in_force.value, "post_only": self.post_only, "reduce_only": self.reduce_only,
            "reason": self.reason, "created_at": round(self.created_at, 3), "updated_at": round(self.updated_at, 3),
        }
        if self.price_currency is not None:
            out["price_currency"] = self.price_currency
        if self.contract_decimals is not None:
            out["contracts"] = _number(self.contracts, self.contract_decimals)
            out["filled_contracts"] = _number(self.filled_contracts, self.contract_decimals)
        return out


@dataclass(frozen=True, slots=True)
class OcoView:
    """An OCO group: ``legs`` the current order of each side (a reduced leg's replacement), as in
    the journal after the venue's last word; ``mode`` native (the venue's OCO, ``list_id`` its id)
    or crossbook (crossbook's own); ``filled`` what each side traded in base units."""

    venue: str
    account: str
    symbol: str
    group_id: int
    mode: str
    list_id: str | None
    state: OcoState
    reason: str
    legs: tuple[OrderView, OrderView]
    filled: tuple[Decimal, Decimal]

    def to_json(self) -> dict[str, Any]:
        qty = self.legs[0].amount_decimals
        return {"venue": self.venue, "account": self.account, "symbol": self.symbol, "group_id": self.group_id,
                "mode": self.mode, "list_id": self.list_id, "state": self.state.value, "reason": self.reason,
                "legs": [leg.to_json() for leg in self.legs], "filled": [_number(f, qty) for f in self.filled]}


@dataclass(frozen=True, slots=True)
class FillView:
    """One fill; ``fill`` is the journal's (its amount in the venue's unit: contracts on a contract
    market), ``amount`` the base units it traded."""

    fill: Fill
    account: str
    units: Units

    @property
    def amount(self) -> Decimal:
        base = self.units.base(self.fill.amount, self.fill.price)
        assert base is not None  # a fill has its price
        return base

    def to_json(self) -> dict[str, Any]:
        f, u = self.fill, self.units
        out = {
            "venue": f.venue, "account": self.account, "symbol": f.symbol, "client_order_id": f.client_order_id,
            "venue_order_id": f.venue_order_id, "trade_id": f.trade_id, "side": f.side.value,
            "price": _number(f.price, u.price_decimals), "amount": _number(self.amount, u.amount_decimals),
            "fee": _plain_number(f.fee), "fee_currency": f.fee_currency, "taker": f.taker, "ts": round(f.ts, 3),
        }
        if u.contract_decimals is not None:
            out["contracts"] = _number(f.amount, u.contract_decimals)
        return out


@dataclass(frozen=True, slots=True)
class AssetBalance:
    """One currency as the venue reports it (its own numbers, unrounded)."""

    asset: str
    free: Decimal
    used: Decimal
    total: Decimal

    def to_json(self) -> dict[str, Any]:
        return {"free": float(self.free), "used": float(self.used), "total": float(self.total)}


@dataclass(frozen=True, slots=True)
class AccountBalances:
    venue: str
    account: str
    assets: tuple[AssetBalance, ...]

    def held(self) -> dict[str, Decimal]:
        """Total per currency, for currencies the account holds."""
        return {a.asset: a.total for a in self.assets if a.total}

    def to_json(self) -> dict[str, Any]:
        return {"venue": self.venue, "account": self.account, "assets": {a.asset: a.to_json() for a in self.assets}}


@dataclass(frozen=True, slots=True)
class Position:
    """A derivatives position: ``size`` in base units (an inverse position's at its entry price;
    None without one), positive long, negative short; ``contracts`` the venue's count."""

    venue: str
    account: str
    symbol: str
    side: str
    contracts: Decimal
    size: Decimal | None
    entry_price: Decimal | None
    leverage: Decimal | None
    margin_mode: str | None
    unrealized_pnl: Decimal | None
    price_decimals: int
    amount_decimals: int
    contract_decimals: int | None = None

    def to_json(self) -> dict[str, Any]:
        contracts = (_plain_number(self.contracts) if self.contract_decimals is None
                     else _number(self.contracts, self.contract_decimals))
        return {
            "venue": self.venue, "account": self.account, "symbol": self.symbol, "side": self.side,
            "contracts": contracts, "size": _number(self.size, self.amount_decimals),
            "entry_price": _number(self.entry_price, self.price_decimals + 2), "leverage": _plain_number(self.leverage),
            "margin_mode": self.margin_mode, "unrealized_pnl": _number(self.unrealized_pnl, self.price_decimals + 2),
        }


@dataclass(frozen=True, slots=True)
class AccountSetting:
    """A setting changed at the venue: leverage, margin mode or position mode."""

    venue: str
    account: str
    setting: str
    value: str
    symbol: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"venue": self.venue, "account": self.account, "setting": self.setting, "value": self.value,
                "symbol": self.symbol}


@dataclass(frozen=True, slots=True)
class TransferView:
    venue: str
    asset: str
    amount: Decimal
    from_account: str
    to_account: str
    transfer_id: str

    def to_json(self) -> dict[str, Any]:
        return {"venue": self.venue, "asset": self.asset, "amount": float(self.amount), "from_account": self.from_account,
                "to_account": self.to_account, "transfer_id": self.transfer_id}


# ---- the handle ------------------------------------------------------------------------------


class Trader:
    """One venue, one sub-account: ``Trader(await desk.venue_account(venue, account))``.

    A venue may trade its products through several clients of one sub-account (Binance spot,
    USD-M and COIN-M; OKX spot and swap): ``products`` are those other loaded accounts, on the
    same journal. An order's symbol picks the account that lists it; balances and transfers are
    ``account``'s (the venue's primary, spot, client)."""

    def __init__(self, account: VenueAccount, products: Sequence[VenueAccount] = (), *,
                 keeper: OcoKeeper | None = None) -> None:
        """``keeper``: the account's OcoKeeper where one is kept already (a Desk's, shared by every
        Trader of the account: two keepers of one account would cancel or reduce a leg twice)."""
        self.account = account
        self.venue = account.venue
        self.name = account.account
        self.capabilities = account.capabilities
        self.accounts = (account, *(p for p in products if p is not account))
        for other in self.accounts:
            if (other.venue, other.account) != (self.venue, self.name) or other.journal is not account.journal:
                raise ValueError(f"{other.venue}/{other.account} is not a product account of {self.venue}/{self.name}")
        if keeper is not None and keeper.account is not account:
            raise ValueError(f"the OCO keeper of {keeper.venue}/{keeper.name} is not {self.venue}/{self.name}'s")
        self.keeper = keeper or OcoKeeper(account, self.accounts)

    # ---- orders -------------------------------------------------------------------------------

    async def place(self, request: OrderRequest, *, reference_price: Decimal | None = None) -> OrderView:
        """Validate, journal and send one order; its leverage, margin mode and position mode, if
        asked, are set on the venue first by the account (only once the order itself has passed
        every check)."""
        account = self.account_for(request.symbol)
        rules = account.rules[request.symbol]
        self._require_traded(request, rules)
        self._require_on_tick(rules, price=request.price, stop_price=request.stop_price,
                              take_profit=request.take_profit, stop_loss=request.stop_loss)
        if request.type in (OrderType.MARKET, OrderType.STOP) and reference_price is None and request.stop_price is None:
            reference_price = await self._touch(account, rules, request.side)
        if rules.derivative and request.margin_mode is None and account.order_takes(rules, "marginMode"):
            request = replace(request, margin_mode=await self._held_margin_mode(account, request.symbol))
        if rules.derivative and (request.leverage is not None or request.margin_mode is not None):
            self._named(lambda: validate_order(request, account.rules, self.capabilities, _UNCHECKED, reference_price))
            self._check_settings(account, rules, request.margin_mode, request.leverage)
        try:
            journaled = await account.create_order(request, reference_price=reference_price)
        except InvalidOrder as exc:
            raise self._with_venue(exc) from None
        return self.view(journaled)

    async def oco(self, symbol: str, side: Side, amount: Decimal, *, price: Decimal, stop_price: Decimal,
                  stop_limit: Decimal | None = None) -> OcoView:
        """A one-cancels-the-other pair: a limit order at ``price`` and a stop at ``stop_price``
        (stop-limit at ``stop_limit``), both journaled as one OCO group: the venue's own OCO where
        crossbook sends it, else crossbook's own (the capability matrix's ``oco_mode``)."""
        account = self.account_for(symbol)
        rules = account.rules[symbol]
        mode = self._oco_mode(rules)
        self._require_on_tick(rules, price=price, stop_price=stop_price, stop_limit=stop_limit)
        limit_leg = OrderRequest(self.venue, symbol, side, OrderType.LIMIT, amount, price=price, account=self.name)
        stop_type = OrderType.STOP_LIMIT if stop_limit is not None else OrderType.STOP
        stop_leg = OrderRequest(self.venue, symbol, side, stop_type, amount, price=stop_limit, stop_price=stop_price,
                                account=self.name)
        if mode is OcoMode.CROSSBOOK:
            return await self.oco_pair(limit_leg, stop_leg, check=lambda a, b: self._check_oco_sides(a, b))
        available = await self._call("the balance", account.balances())
        limit_leg = self._validated(account, limit_leg, available)
        stop_leg = self._validated(account, stop_leg, available)
        self._check_oco_sides(limit_leg, stop_leg)
        try:
            group = await self._call("the OCO", self.keeper.place_native(limit_leg, stop_leg))
        finally:
            self.keeper.keep()
        return self.oco_view(group)

    async def oco_pair(self, first: OrderRequest, second: OrderRequest,
                       check: Callable[[OrderRequest, OrderRequest], None] | None = None) -> OcoView:
        """crossbook's own OCO of any two orders of one amount on one market (a take-profit limit
        and a stop, two limits on either side of the market, ...): the first to trade cancels the
        other, or reduces it to the unfilled rest (``OcoKeeper``). Each leg is checked as an order,
        against the balance the other leaves, before either is sent."""
        account = self.account_for(first.symbol)
        rules = account.rules[first.symbol]
        self._oco_mode(rules)
        if first.symbol != second.symbol or first.amount != second.amount:
            what = f"amount, not {first.amount} and {second.amount}" if first.symbol == second.symbol else "market"
            raise InvalidOrder(f"{self.venue}: an OCO's legs have one {what}")
        for leg in (first, second):
            self._require_traded(leg, rules)
            self._require_on_tick(rules, price=leg.price, stop_price=leg.stop_price)
        available = await self._call("the balance", account.balances())
        first = self._validated(account, first, available)
        second = self._validated(account, second, _less(available, first, rules))
        if check is not None:
            check(first, second)
        try:
            group = await self.keeper.place_own(first, second)
        except InvalidOrder as exc:
            raise self._with_venue(exc) from None
        finally:
            self.keeper.keep()  # from now on the group is kept in the background, with no call of ours
        return self.oco_view(group)

    async def cancel_oco(self, group_id: int) -> OcoView:
        """Cancel both legs of an OCO group."""
        return self.oco_view(await self._call(f"the cancel of OCO group {group_id}", self.keeper.cancel(group_id)))

    async def oco_group(self, group_id: int) -> OcoView:
        """The group brought up to date from the venue (and, for crossbook's own, its rule applied)."""
        return self.oco_view(await self._call(f"OCO group {group_id}", self.keeper.check(group_id)))

    def ocos(self, open_only: bool = False) -> list[OcoView]:
        """This account's OCO groups in the journal, oldest first."""
        return [self.oco_view(g) for g in self.account.journal.ocos(self.venue, self.name, open_only=open_only)]

    async def resume_ocos(self) -> list[OcoView]:
        """After a restart: reconcile with the venue, then finish every open OCO group (a leg that
        filled while crossbook was down gets its other leg canceled)."""
        groups = await self._call("the OCO groups", self.keeper.resume())
        self.keeper.keep()
        return [self.oco_view(g) for g in groups]

    async def stop(self) -> None:
        """Stop keeping this account's OCO groups in the background: before its client closes (a
        Desk does it when it stops)."""
        await self.keeper.stop()

    def oco_view(self, group: OcoRecord) -> OcoView:
        journal = self.account.journal
        slots = [[journal.order(c) for c in cids] for cids in group.legs]
        legs = tuple(self.view(o) for o in (s[-1] for s in slots) if o is not None)
        units = self._units(group.symbol)
        filled = tuple(units.base(sum((o.filled for o in s if o is not None), Decimal(0)), legs[i].price or legs[i].stop_price)
                       or Decimal(0) for i, s in enumerate(slots))
        assert len(legs) == 2 and len(filled) == 2
        return OcoView(self.venue, self.name, group.symbol, group.group_id, group.mode, group.list_id, group.state,
                       group.reason, (legs[0], legs[1]), (filled[0], filled[1]))

    def _oco_mode(self, rules: TradingRules) -> OcoMode:
        mode = oco_mode(self.capabilities, rules.product)
        if mode is OcoMode.NATIVE and spec(self.venue).place_oco is None:
            raise UnsupportedFeature(f"{self.venue} offers OCO orders, but crossbook does not place them there yet")
        if mode is OcoMode.NONE:
            self._named(lambda: self.capabilities.require(Feature.OCO, rules.product))
            raise UnsupportedFeature(f"{self.venue}: crossbook places no OCO on {rules.product.label} there")
        return mode

    def _check_oco_sides(self, limit: OrderRequest, stop: OrderRequest) -> None:
        assert limit.price is not None and stop.stop_price is not None
        if limit.side is Side.SELL and not limit.price > stop.stop_price:
            raise InvalidOrder(f"{self.venue}: an OCO sell takes profit above its stop: price {limit.price} must be "
                               f"above stop price {stop.stop_price}")
        if limit.side is Side.BUY and not limit.price < stop.stop_price:
            raise InvalidOrder(f"{self.venue}: an OCO buy buys below its stop: price {limit.price} must be "
                               f"below stop price {stop.stop_price}")

    async def cancel(self, order_id: str) -> OrderView:
        """Cancel by client order id or the venue's order id; a leg of crossbook's own OCO takes
        the other leg with it (as the venue's own OCO does)."""
        journaled = self._find(order_id)
        if journaled.status.final:
            return self.view(journaled)
        account = self.account_for(journaled.request.symbol)
        group = account.journal.oco_of(journaled.client_order_id)
        if group is not None and journaled.venue_order_id is None and group.mode == OcoMode.NATIVE.value:
            await self.cancel_oco(group.group_id)  # a trigger of the venue's OCO (OKX's): it goes with its group
            return self.view(self._find(journaled.client_order_id))
        canceled = await self._call(f"the cancel of {order_id}", account.cancel(journaled.client_order_id))
        if group is not None and not group.state.final:
            await self._call(f"OCO group {group.group_id}", self.keeper.settle(group.group_id))
        return self.view(canceled)

    async def amend(self, order_id: str, *, amount: Decimal | None = None, price: Decimal | None = None) -> OrderView:
        """A new total ``amount`` (base units, as the order shows it) and/or a new ``price``."""
        journaled = self._find(order_id)
        account = self.account_for(journaled.request.symbol)
        self._require_on_tick(account.rules[journaled.request.symbol], price=price)
        try:
            contracts = None if amount is None else self.amount_in_base(journaled.request.symbol, amount)
            amended = await account.amend(journaled.client_order_id, amount=contracts, price=price)
        except InvalidOrder as exc:
            raise self._with_venue(exc) from None
        return self.view(amended)

    async def order(self, order_id: str) -> OrderView:
        """The order, brought up to date from the venue if it may still change."""
        journaled = self._find(order_id)
        if journaled.status.final or journaled.venue_order_id is None:
            return self.view(journaled)
        account = self.account_for(journaled.request.symbol)
        return self.view(await self._call(f"the order {order_id}", account.sync(journaled.client_order_id)))

    async def open_orders(self, symbol: str | None = None) -> list[OrderView]:
        """The account's live orders, each refreshed from the venue."""
        live = [o for o in self.account.journal.open_orders(self.venue, self.name)
                if symbol is None or o.request.symbol == symbol]
        views = [await self.order(o.client_order_id) for o in live]
        return [v for v in views if not v.status.final]

    def orders(self, symbol: str | None = None) -> list[OrderView]:
        """Every order of this account in the journal, oldest first."""
        return [self.view(o) for o in self.account.journal.orders(self.venue, self.name)
                if symbol is None or o.request.symbol == symbol]

    def fills(self, symbol: str | None = None) -> list[FillView]:
        out: list[FillView] = []
        for order in self.account.journal.orders(self.venue, self.name):
            if symbol is None or order.request.symbol == symbol:
                units = self._units(order.request.symbol)
                out += [FillView(f, self.name, units) for f in self.account.journal.fills(order.client_order_id)]
        return sorted(out, key=lambda v: v.fill.ts)

    # ---- account --------------------------------------------------------------------------------

    async def balances(self) -> AccountBalances:
        raw = await self._call("the balance", self.account.client.fetch_balance())
        rows = []
        for asset, entry in sorted(raw.items()):
            if not isinstance(entry, Mapping) or asset in ("info", "free", "used", "total"):
                continue
            free, used, total = (Decimal(str(entry.get(k) or 0)) for k in ("free", "used", "total"))
            rows.append(AssetBalance(asset, free, used, total))
        return AccountBalances(self.venue, self.name, tuple(rows))

    async def positions(self, symbols: list[str] | None = None) -> list[Position]:
        """Open derivatives positions, across the accounts that loaded a derivative market (of
        ``symbols``, when given)."""
        views: list[PositionView] = []
        for account in self.accounts:
            listed = [s for s in symbols if s in account.rules] if symbols is not None else None
            if any(r.derivative for r in account.rules.values()) and listed != []:
                views += await self._call("the positions", account.positions(listed))
        out = []
        for p in views:
            units = self._units(p.symbol)
            size = p.size if not units.inverse else None if not p.entry_price else p.size / p.entry_price
            out.append(Position(self.venue, self.name, p.symbol, p.side, p.contracts, size, p.entry_price, p.leverage,
                                p.margin_mode, p.unrealized_pnl, units.price_decimals, units.amount_decimals,
                                units.contract_decimals))
        return out

    async def set_leverage(self, symbol: str, leverage: Decimal | int) -> AccountSetting:
        account, rules = self._derivative(symbol, "leverage")
        number = self._leverage_setting(account, rules, Decimal(leverage))
        assert number is not None
        await self._call("the leverage", account.client.set_leverage(number, rules.ccxt_symbol))
        account.settings.forget(symbol)
        return AccountSetting(self.venue, self.name, "leverage", plain(Decimal(leverage)), symbol)

    async def set_margin_mode(self, symbol: str, mode: MarginMode | str) -> AccountSetting:
        account, rules = self._derivative(symbol, "a margin mode")
        margin = self._margin_setting(account, rules, _enum(MarginMode, mode, f"{self.venue}: margin mode"))
        assert margin is not None
        await self._call("the margin mode", account.client.set_margin_mode(margin.value, rules.ccxt_symbol))
        account.settings.forget(symbol)
        return AccountSetting(self.venue, self.name, "margin_mode", margin.value, symbol)

    async def _held_margin_mode(self, account: VenueAccount, symbol: str) -> MarginMode | None:
        """The margin mode of the open position in ``symbol``, which an order that carries its
        margin mode (OKX's) must name to add to or reduce it; None: no position (the venue's default)."""
        held = await self._call("the positions", account.positions([symbol]))
        modes = {p.margin_mode for p in held if p.margin_mode in ("cross", "isolated")}
        return MarginMode(modes.pop()) if len(modes) == 1 else None

    def _check_settings(self, account: VenueAccount, rules: TradingRules, margin_mode: MarginMode | None,
                        leverage: Decimal | None) -> None:
        """An order's margin mode and leverage checked in the command line's words; the account
        sets them (where the order carries its margin mode, OKX's, leverage for that mode)."""
        if account.order_takes(rules, "marginMode"):
            if margin_mode is not None:
                self._named(lambda: self.capabilities.require(_MARGIN_FEATURES[margin_mode], rules.product))
        else:
            self._margin_setting(account, rules, margin_mode)
        self._leverage_setting(account, rules, leverage)

    def _leverage_setting(self, account: VenueAccount, rules: TradingRules, leverage: Decimal | None) -> int | float | None:
        """``leverage`` as ccxt sends it, once checked (None: not asked)."""
        if leverage is None:
            return None
        if not leverage.is_finite() or leverage <= 0:
            raise InvalidOrder(f"{self.venue}: leverage {leverage} must be a positive number")
        if rules.max_leverage is not None and leverage > rules.max_leverage:
            raise InvalidOrder(f"{self.venue}: leverage {leverage} is above the maximum {rules.max_leverage} for {rules.symbol}")
        self._require_ccxt(account, "setLeverage", "--leverage: setting leverage")
        return int(leverage) if leverage == leverage.to_integral_value() else float(leverage)

    def _margin_setting(self, account: VenueAccount, rules: TradingRules, margin: MarginMode | None) -> MarginMode | None:
        """``margin``, once the venue offers it on the product and ccxt can set it (None: not asked)."""
        if margin is None:
            return None
        self._named(lambda: self.capabilities.require(_MARGIN_FEATURES[margin], rules.product))
        self._require_ccxt(account, "setMarginMode", f"--margin {margin.value}: setting the margin mode")
        return margin

    async def set_position_mode(self, hedge: bool, symbol: str | None = None) -> AccountSetting:
        """Hedge mode (a long and a short per instrument) or one-way mode, for the account (or,
        where the venue sets it per instrument, for ``symbol``)."""
        account, rules = self._derivative(symbol, "a position mode") if symbol is not None else self._any_derivative()
        self._named(lambda: self.capabilities.require(Feature.HEDGE_MODE, rules.product))
        self._require_ccxt(account, "setPositionMode", "setting the position mode")
        await self._call("the position mode",
                         account.client.set_position_mode(hedge, None if symbol is None else rules.ccxt_symbol))
        account.settings.forget()
        return AccountSetting(self.venue, self.name, "position_mode", "hedge" if hedge else "one_way", symbol)

    async def transfer(self, asset: str, amount: Decimal, from_account: str, to_account: str) -> TransferView:
        """Move ``amount`` of ``asset`` between two sub-accounts of this venue (this handle must be
        the master's: the venue takes transfers from the master's key)."""
        if not amount.is_finite() or amount <= 0:
            raise InvalidOrder(f"{self.venue}: transfer amount {amount} must be a positive number")
        if from_account == to_account:
            raise InvalidOrder(f"{self.venue}: a transfer from {from_account} to itself moves nothing")
        self._named(lambda: self.capabilities.require(Feature.SUB_ACCOUNTS, Product.SPOT))
        self.account.require_tradeable()
        move = spec(self.venue).transfer
        if move is None:
            raise UnsupportedFeature(f"{self.venue} offers sub-accounts, but crossbook does not transfer between them there yet")
        if self.name != MASTER_ACCOUNT:
            raise InvalidOrder(f"{self.venue}: transfers are made with the master account's key, not {self.name!r}'s")
        transfer_id = await self._call("the transfer", move(self.account.client, asset.upper(), amount, from_account, to_account))
        return TransferView(self.venue, asset.upper(), amount, from_account, to_account, transfer_id)

    # ---- helpers ------------------------------------------------------------------------------

    def market(self, symbol: str) -> TradingRules:
        return self.account_for(symbol).rules[symbol]

    def account_for(self, symbol: str) -> VenueAccount:
        """The account that trades ``symbol``: spot, or the product account listing it."""
        for account in self.accounts:
            if symbol in account.rules:
                return account
        raise InvalidOrder(f"symbol {symbol!r}: {self.venue} has no such market{self._similar(symbol)}")

    def _similar(self, symbol: str) -> str:
        """The venue's markets of the same base and kind, as a hint (BTC-USD-PERP where the venue
        lists BTC-USDT-PERP)."""
        try:
            base, _, kind, expiry = parse_standard(symbol)
        except CrossbookError:
            return ""
        listed = ((s, _parsed(s)) for a in self.accounts for s in a.rules)
        alike = sorted(s for s, p in listed if p is not None and (p[0], p[2], p[3]) == (base, kind, expiry))
        return f" (it lists {', '.join(alike)})" if alike else ""

    def amount_for_notional(self, symbol: str, notional: Decimal, price: Decimal) -> Decimal:
        """The order amount ``notional`` (quote currency) buys at ``price``, rounded DOWN to the lot
        (contracts on contract markets)."""
        rules = self.market(symbol)
        if not (notional.is_finite() and notional > 0):
            raise InvalidOrder(f"{self.venue}: notional {notional} must be a positive number")
        unit = rules.contract_size if rules.inverse else rules.contract_size * price
        lots = (notional / unit / rules.lot).to_integral_value(rounding="ROUND_DOWN")
        if lots <= 0:
            raise InvalidOrder(f"{self.venue}: notional {notional} {rules.quote} buys less than one lot ({rules.lot}) "
                               f"of {symbol} at {price}")
        return lots * rules.lot

    def amount_in_base(self, symbol: str, base: Decimal) -> Decimal:
        """The order amount (ccxt's unit: contracts on contract markets) of ``base`` units of the
        base currency. A linear contract holds ``contract_size`` base units; an inverse one is sized
        in the quote currency, so a base amount cannot name it (give a notional)."""
        rules = self.market(symbol)
        if not rules.derivative or rules.contract_size == 1:
            return base
        if rules.inverse:
            raise InvalidOrder(f"{self.venue}: {symbol} contracts are {rules.contract_size} {rules.quote} each: "
                               f"size the order with a notional in {rules.quote}")
        contracts = base / rules.contract_size
        if contracts % rules.lot:
            raise InvalidOrder(f"{self.venue}: amount {base} {rules.base} is {contracts.normalize():f} {symbol} contracts of "
                               f"{rules.contract_size} {rules.base}, not a whole number of lots {rules.lot}")
        return contracts

    def view(self, order: JournaledOrder) -> OrderView:
        """The order in base units (the journal keeps the venue's unit: contracts on contract markets)."""
        r = order.request
        u = self._units(r.symbol)
        at = order.avg_price or r.price or r.stop_price
        return OrderView(self.venue, r.account, r.symbol, order.client_order_id, order.venue_order_id, r.side, r.type,
                         order.status, u.base(r.amount, at), r.price, r.stop_price, u.base(order.filled, order.avg_price or at),
                         order.avg_price, r.time_in_force, r.post_only, r.reduce_only, order.reason, order.created_at,
                         order.updated_at, u.price_decimals, u.amount_decimals, u.contracts(r.amount), u.contracts(order.filled),
                         u.contract_decimals, u.price_currency)

    def _units(self, symbol: str) -> Units:
        return Units.of(next((a.rules[symbol] for a in self.accounts if symbol in a.rules), None))

    def _find(self, order_id: str) -> JournaledOrder:
        journal = self.account.journal
        found = journal.order(order_id)
        if found is None:
            try:
                found = journal.order_by_venue_id(self.venue, order_id)
            except CrossbookError as exc:
                raise InvalidOrder(f"{self.venue}: {exc}") from None
        if found is None or found.request.venue != self.venue or found.request.account != self.name:
            raise InvalidOrder(f"{self.venue}: no order {order_id!r} of account {self.name!r} in the journal")
        return found

    def _require_traded(self, request: OrderRequest, rules: TradingRules) -> None:
        """What the venue offers but crossbook's trading layer does not send there yet is refused:
        the order would reach the venue without it."""
        if request.venue != self.venue or request.account != self.name:
            raise InvalidOrder(f"order for {request.venue}/{request.account} given to the {self.venue}/{self.name} trader")
        for feature in features_requested(request):
            support = self.capabilities.features[feature]
            if feature in ORDER_FEATURES and support.offered_on(rules.product) and not support.crossbook:
                raise UnsupportedFeature(f"{self.venue} offers {feature.label}, but crossbook does not send them there yet")
        if not rules.derivative and request.margin_mode is not None and not self.capabilities.products[Product.MARGIN].crossbook:
            raise UnsupportedFeature(f"{self.venue}: --margin on spot is a margin order, which crossbook does not send there yet")

    def _require_on_tick(self, rules: TradingRules, **prices: Decimal | None) -> None:
        for name, value in prices.items():
            if value is None or not value.is_finite() or value <= 0:
                continue  # validation names what is wrong with it
            try:
                off = bool(value % rules.tick)
            except decimal.DecimalException:
                raise InvalidOrder(f"{self.venue}: {name.replace('_', ' ')} {value} is too large") from None
            if off:
                raise InvalidOrder(f"{self.venue}: {name.replace('_', ' ')} {value} is off the {rules.symbol} tick "
                                   f"{rules.tick}")

    async def _touch(self, account: VenueAccount, rules: TradingRules, side: Side) -> Decimal:
        """The best price a market order would meet, from the venue's book."""
        try:
            book = await account.client.fetch_order_book(rules.ccxt_symbol, 5)
        except ccxt.BaseError:
            book = {}
        levels = book.get("asks" if side is Side.BUY else "bids") or []
        if not levels:
            raise InvalidOrder(f"{self.venue}: a market order needs a reference price and the {rules.symbol} book "
                               "could not be read")
        return Decimal(str(levels[0][0]))

    def _derivative(self, symbol: str, what: str) -> tuple[VenueAccount, TradingRules]:
        account = self.account_for(symbol)
        rules = account.rules[symbol]
        if not rules.derivative:
            raise InvalidOrder(f"{self.venue}: {symbol} is spot; {what} is set on derivatives")
        return account, rules

    def _any_derivative(self) -> tuple[VenueAccount, TradingRules]:
        for account in self.accounts:
            rules = next((r for r in account.rules.values() if r.derivative), None)
            if rules is not None:
                return account, rules
        raise InvalidOrder(f"{self.venue}: account {self.name!r} trades no derivatives here")

    def _require_ccxt(self, account: VenueAccount, method: str, what: str) -> None:
        if not account.client.has.get(method):
            raise UnsupportedFeature(f"{self.venue}: crossbook cannot do {what} there (ccxt has no {method})")

    def _validated(self, account: VenueAccount, request: OrderRequest, available: Mapping[str, Decimal]) -> OrderRequest:
        try:
            return validate_order(request, account.rules, self.capabilities, available)
        except InvalidOrder as exc:
            raise self._with_venue(exc) from None

    def _named(self, check: Any) -> Any:
        try:
            return check()
        except InvalidOrder as exc:
            raise self._with_venue(exc) from None

    def _with_venue(self, exc: InvalidOrder) -> InvalidOrder:
        return exc if self.venue in str(exc) else type(exc)(f"{self.venue}: {exc}")

    async def _call(self, what: str, call: Any) -> Any:
        try:
            return await call
        except CrossbookError:
            raise
        except ccxt.BaseError as exc:
            raise _refusal(self.venue, what, exc) from None


class _Unchecked(dict[str, Decimal]):
    """Balances that pass any check: a pre-flight validation whose balance check the order's own
    validation repeats with the account's real balances."""

    def get(self, key: str, default: Any = None) -> Decimal:  # type: ignore[override]
        return Decimal("Infinity")


_UNCHECKED = _Unchecked()


def _less(available: Mapping[str, Decimal], order: OrderRequest, rules: TradingRules) -> dict[str, Decimal]:
    """``available`` less what a spot order holds at the venue while it rests (its base for a
    sell, its quote at its price or trigger for a buy): the balance its OCO partner is checked
    against, the venue holding funds for both."""
    left = dict(available)
    if rules.derivative:
        return left
    if order.side is Side.SELL:
        left[rules.base] = left.get(rules.base, Decimal(0)) - order.amount
    else:
        price = order.price or order.stop_price or Decimal(0)
        left[rules.quote] = left.get(rules.quote, Decimal(0)) - order.amount * price
    return left


def _parsed(symbol: str) -> tuple[str, str, Kind, str | None] | None:
    try:
        return parse_standard(symbol)
    except CrossbookError:
        return None


def _enum(kind: Any, value: Any, what: str) -> Any:
    try:
        return kind(value.value if hasattr(value, "value") else str(value).lower())
    except ValueError:
        raise InvalidOrder(f"{what} {value!r} is not one of {', '.join(k.value for k in kind)}") from None


_SECRETS = re.compile(r"\S*(https?://|signature|apikey|secret|passphrase|bearer)\S*", re.IGNORECASE)


def _refusal(venue: str, what: str, exc: ccxt.BaseError) -> CrossbookError:
    """A ccxt error as crossbook's: its type and the venue's first words (never a signed request)."""
    text = _SECRETS.sub("<redacted>", str(exc).split("\n")[0])[:200]
    if isinstance(exc, (ccxt.NetworkError, ccxt.ExchangeNotAvailable)):
        return VenueUnavailable(f"{venue}: no answer for {what} ({type(exc).__name__})")
    if isinstance(exc, (ccxt.AuthenticationError, ccxt.PermissionDenied, ccxt.AccountSuspended)):
        return VenueRefused(f"{venue} refused {what}: {type(exc).__name__}")
    if isinstance(exc, ccxt.InsufficientFunds):
        return InvalidOrder(f"{venue} refused {what}: insufficient funds ({text})")
    return VenueRefused(f"{venue} refused {what}: {type(exc).__name__} {text}")


__all__ = ["AccountBalances", "AccountSetting", "AssetBalance", "FillView", "OcoView", "OrderView", "Position", "Trader",
           "TransferView", "Units", "decimals_of"]
