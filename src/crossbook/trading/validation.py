"""Order validation before anything is sent: the venue's trading rules, its capability table and
the account's balance, checked against one OrderRequest.

:func:`validate_order` returns the request with every price and size a Decimal on the venue's
grid, or raises an :class:`~crossbook.errors.InvalidOrder` (UnsupportedFeature, InsufficientFunds)
whose message names the field, the value and the rule. Nothing that fails here may reach a venue.

Units follow ccxt, which the trading layer sends through: ``amount`` is in base units on spot
and in contracts on contract markets (``TradingRules.contract_size`` base units each, or quote
units each when inverse); prices are in the quote currency.
"""

from __future__ import annotations

import decimal
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from ..errors import InsufficientFunds, InvalidOrder, UnsupportedFeature
from ..model import Kind, MarginMode, OptionRight, OrderRequest, OrderType, PositionSide, Side, TimeInForce
from ..symbols import option_symbol, standard_symbol
from ..venues.spec.capabilities import ORDER_FEATURES, Feature, Product, VenueCapabilities

# ccxt's precision modes (ccxt.base.decimal_to_precision); repeated here so that reading a market
# needs no ccxt import. ccxt 4.5 parses every venue crossbook trades in TICK_SIZE mode.
DECIMAL_PLACES = 2
SIGNIFICANT_DIGITS = 3
TICK_SIZE = 4

# Room for any amount a venue accepts divided by any lot it publishes, so that grid arithmetic
# below is exact; anything larger fails as "too large" instead of being silently rounded.
_EXACT = decimal.Context(prec=60, traps=[decimal.InvalidOperation, decimal.Overflow, decimal.DivisionByZero])
# Notional, margin and balance comparisons: values may be far outside any venue's range (a huge
# reference price) and must compare, not overflow; 40 digits keep every real order exact.
_VALUES = decimal.Context(prec=40, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN)


@dataclass(frozen=True, slots=True)
class TradingRules:
    """What one venue accepts for one instrument, read from its ccxt market."""

    symbol: str  # crossbook's standard symbol (options keep ccxt's symbol: there is no standard form yet)
    ccxt_symbol: str
    base: str
    quote: str
    settle: str | None  # the margin and PnL currency of a contract market
    product: Product  # SPOT for spot markets; margin is a spot order with a margin_mode
    active: bool
    tick: Decimal  # price grid
    lot: Decimal  # amount grid, in the order unit (base units on spot, contracts on contract markets)
    contract_size: Decimal = Decimal(1)
    inverse: bool = False
    margin: bool = False  # a spot market that can also be traded on margin
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    max_market_amount: Decimal | None = None  # a tighter cap for market orders (Binance MARKET_LOT_SIZE)
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    min_notional: Decimal | None = None  # in the quote currency
    max_notional: Decimal | None = None
    max_leverage: Decimal | None = None

    @property
    def derivative(self) -> bool:
        return self.product.derivative

    @property
    def price_currency(self) -> str:
        """The currency an order's price is in: the quote, but an option's premium is in its settle
        coin (ccxt's ``settle``: OKX quotes BTC-USD options in BTC)."""
        return self.settle if self.product is Product.OPTIONS and self.settle else self.quote

    def notional(self, amount: Decimal, price: Decimal) -> Decimal:
        """The order's value in the quote currency."""
        if self.inverse:
            return amount * self.contract_size  # contracts worth contract_size quote units each
        return amount * self.contract_size * price


# ---- reading ccxt markets --------------------------------------------------------------------


def rules_from_ccxt_market(market: Mapping[str, Any], precision_mode: int = TICK_SIZE) -> TradingRules:
    """TradingRules from a ccxt unified market structure (``exchange.markets[symbol]``).

    ``precision_mode`` is the exchange's ``precisionMode``, which the market itself does not
    carry: with TICK_SIZE ``precision.amount`` and ``precision.price`` are grid steps (0.001),
    with DECIMAL_PLACES they are digits after the point (3). SIGNIFICANT_DIGITS has no fixed
    grid and is refused. Limits of 0 or None mean "no limit", as ccxt and the venues use them.
    """
    name = market.get("symbol", "?")
    if precision_mode == SIGNIFICANT_DIGITS:
        raise ValueError(f"market {name}: significant-digits precision has no fixed tick or lot")
    if precision_mode not in (TICK_SIZE, DECIMAL_PLACES):
        raise ValueError(f"market {name}: unknown ccxt precisionMode {precision_mode!r}")
    precision = market.get("precision") or {}
    limits = market.get("limits") or {}
    product = _product(market)
    # ccxt calls an option settled in its base coin inverse (OKX's), but its contract still holds
    # contract_size base units and its premium is paid in the settle coin: linear arithmetic
    inverse = bool(market.get("inverse")) and product is not Product.OPTIONS
    return TradingRules(
        symbol=_standard_symbol(market, product),
        ccxt_symbol=str(market["symbol"]),
        base=str(market["base"]),
        quote=str(market["quote"]),
        settle=market.get("settle"),
        product=product,
        active=market.get("active") is not False,  # ccxt leaves None when the venue does not say
        tick=_step(precision.get("price"), precision_mode, f"market {name} precision.price"),
        lot=_step(precision.get("amount"), precision_mode, f"market {name} precision.amount"),
        contract_size=_positive(market.get("contractSize")) or Decimal(1),
        inverse=inverse,
        margin=bool(market.get("margin")),
        min_amount=_limit(limits, "amount", "min"),
        max_amount=_limit(limits, "amount", "max"),
        max_market_amount=_limit(limits, "market", "max"),
        min_price=_limit(limits, "price", "min"),
        max_price=_limit(limits, "price", "max"),
        min_notional=_limit(limits, "cost", "min"),
        max_notional=_limit(limits, "cost", "max"),
        max_leverage=_limit(limits, "leverage", "max"),
    )


def _product(market: Mapping[str, Any]) -> Product:
    kind = market.get("type")
    if kind == "spot":
        return Product.SPOT
    if kind == "swap":
        return Product.INVERSE_PERP if market.get("inverse") else Product.LINEAR_PERP
    if kind == "future":
        return Product.FUTURES
    if kind == "option":
        return Product.OPTIONS
    raise ValueError(f"market {market.get('symbol', '?')}: unknown ccxt market type {kind!r}")


def _standard_symbol(market: Mapping[str, Any], product: Product) -> str:
    base, quote = str(market["base"]), str(market["quote"])
    if product is Product.SPOT:
        return standard_symbol(base, quote)
    if product in (Product.LINEAR_PERP, Product.INVERSE_PERP):
        return standard_symbol(base, quote, Kind.PERP)
    if product is Product.FUTURES:
        expiry = datetime.fromtimestamp(int(market["expiry"]) / 1000, tz=UTC).strftime("%Y%m%d")
        return standard_symbol(base, quote, Kind.FUTURE, expiry)
    return _standard_option(market, base, quote)


def _standard_option(market: Mapping[str, Any], base: str, quote: str) -> str:
    """ccxt's option market (``expiry`` ms, ``strike``, ``optionType`` "call"/"put") as the standard
    BASE-QUOTE-YYYYMMDD-STRIKE-C/P."""
    name = market.get("symbol", "?")
    expiry, strike, kind = market.get("expiry"), market.get("strike"), market.get("optionType")
    if expiry is None or strike is None or kind not in ("call", "put"):
        raise ValueError(f"option market {name}: ccxt gives no expiry, strike or call/put")
    day = datetime.fromtimestamp(int(expiry) / 1000, tz=UTC).strftime("%Y%m%d")
    return option_symbol(base, quote, day, float(strike), OptionRight.CALL if kind == "call" else OptionRight.PUT)


def _decimal(value: Any) -> Decimal | None:
    """ccxt's numbers (floats, ints or strings) as exact Decimals of their shortest text."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except decimal.InvalidOperation:
        return None
    return number if number.is_finite() else None


def _positive(value: Any) -> Decimal | None:
    number = _decimal(value)
    return number if number is not None and number > 0 else None


def _step(value: Any, precision_mode: int, what: str) -> Decimal:
    number = _decimal(value)
    if number is None:
        raise ValueError(f"{what} is missing or not a number: {value!r}")
    if precision_mode == DECIMAL_PLACES:
        if number != number.to_integral_value():
            raise ValueError(f"{what} = {value!r} is not a whole number of decimal places")
        return Decimal(1).scaleb(-int(number))
    if number <= 0:
        raise ValueError(f"{what} = {value!r} is not a positive tick size")
    return number


def _limit(limits: Mapping[str, Any], kind: str, bound: str) -> Decimal | None:
    return _positive((limits.get(kind) or {}).get(bound))


# ---- validation ------------------------------------------------------------------------------


def validate_order(
    request: OrderRequest,
    markets: Mapping[str, TradingRules],
    capabilities: VenueCapabilities,
    balances: Mapping[str, Decimal],
    reference_price: Decimal | None = None,
) -> OrderRequest:
    """The request quantized to the venue's grid, or InvalidOrder naming the field, value and rule.

    ``markets`` are the venue's rules by standard symbol; ``balances`` the account's available
    amount per currency (a currency missing counts as 0). An order is valued at its limit price,
    a stop order at its trigger, a market order at ``reference_price`` (the best bid/ask or last
    trade, which the caller must pass): that price decides its notional, its margin and which
    side of it a take-profit or stop-loss must sit on.

    Rounding never asks for more than the request did: the amount (and an iceberg's visible
    slice) is rounded DOWN to the lot; a limit price is rounded to the tick in the direction that
    never makes the order more aggressive than asked (a buy DOWN, a sell UP); trigger prices
    (stop, take-profit, stop-loss) have no aggressive side and go to the nearest tick.

    Balance is simplified: a spot buy needs ``amount x price`` of the quote currency and a spot
    sell ``amount`` of the base; a derivative or a margin order needs margin = notional /
    leverage (1x when the request names none) in the settle currency (the quote on margin, the
    base for inverse contracts). Fees, open orders, positions, unrealised PnL and the venue's
    leverage tiers are left out; a reduce-only order needs no margin.
    """
    rules = _market(request, markets, capabilities)
    _check_numbers(request, reference_price)
    _check_combination(request, rules)
    _check_capabilities(request, rules, capabilities)
    order = _quantize(request, rules)
    _check_grid_limits(order, request, rules)
    entry = _entry_price(order, reference_price)
    with decimal.localcontext(_VALUES):
        _check_notional(order, rules, entry)
        _check_tp_sl(order, entry)
        _check_leverage(order, rules)
        _check_balance(order, rules, entry, balances)
    return order


def _market(request: OrderRequest, markets: Mapping[str, TradingRules], caps: VenueCapabilities) -> TradingRules:
    if request.venue != caps.venue:
        raise InvalidOrder(f"venue {request.venue!r}: the capability table given is {caps.venue!r}'s")
    rules = markets.get(request.symbol)
    if rules is None:
        raise InvalidOrder(f"symbol {request.symbol!r}: {request.venue} has no such market")
    if not rules.active:
        raise InvalidOrder(f"symbol {request.symbol}: the {request.venue} market is not trading")
    return rules


_POSITIVE_FIELDS = ("price", "stop_price", "take_profit", "stop_loss", "iceberg_visible", "leverage")
_ENUM_FIELDS: tuple[tuple[str, type], ...] = (
    ("side", Side),
    ("type", OrderType),
    ("time_in_force", TimeInForce),
    ("position_side", PositionSide),
    ("margin_mode", MarginMode),
)


def _check_numbers(request: OrderRequest, reference_price: Decimal | None) -> None:
    _require_positive("amount", request.amount)
    for name in _POSITIVE_FIELDS:
        value = getattr(request, name)
        if value is not None:
            _require_positive(name, value)
    if reference_price is not None:
        _require_positive("reference_price", reference_price)
    for name, expected in _ENUM_FIELDS:
        value = getattr(request, name)
        if not isinstance(value, expected) and not (name == "margin_mode" and value is None):
            raise InvalidOrder(f"{name} {value!r} is not a {expected.__name__}")


def _require_positive(name: str, value: object) -> None:
    if not isinstance(value, Decimal):
        raise InvalidOrder(f"{name} {value!r} must be a Decimal, not {type(value).__name__}")
    if not value.is_finite():
        raise InvalidOrder(f"{name} {value} must be a finite number")
    if value <= 0:
        raise InvalidOrder(f"{name} {value} must be greater than 0")


def _check_combination(request: OrderRequest, rules: TradingRules) -> None:
    """Fields that contradict each other or the order type, whatever the venue."""
    kind = request.type
    limit_priced = kind in (OrderType.LIMIT, OrderType.STOP_LIMIT)
    triggered = kind in (OrderType.STOP, OrderType.STOP_LIMIT)
    if limit_priced and request.price is None:
        raise InvalidOrder(f"price: a {kind.value} order needs a limit price")
    if not limit_priced and request.price is not None:
        raise InvalidOrder(f"price {request.price}: a {kind.value} order takes no limit price")
    if triggered and request.stop_price is None:
        raise InvalidOrder(f"stop_price: a {kind.value} order needs a trigger price")
    if not triggered and request.stop_price is not None:
        raise InvalidOrder(f"stop_price {request.stop_price}: a {kind.value} order has no trigger")
    if request.post_only and not limit_priced:
        raise InvalidOrder(f"post_only: a {kind.value} order takes liquidity, it cannot be post-only")
    if request.post_only and request.time_in_force is not TimeInForce.GTC:
        raise InvalidOrder(f"post_only with time_in_force {request.time_in_force.value}: a post-only order must rest")
    if request.iceberg_visible is not None and not limit_priced:
        raise InvalidOrder(f"iceberg_visible {request.iceberg_visible}: a {kind.value} order does not rest")
    if request.iceberg_visible is not None and request.time_in_force is not TimeInForce.GTC:
        raise InvalidOrder(
            f"iceberg_visible with time_in_force {request.time_in_force.value}: an iceberg order must rest"
        )
    if not rules.derivative:
        _check_spot_flags(request, rules)


def _check_spot_flags(request: OrderRequest, rules: TradingRules) -> None:
    if request.reduce_only:
        raise InvalidOrder(f"reduce_only: {request.symbol} is spot; reduce-only applies to derivatives only")
    if request.position_side is not PositionSide.BOTH:
        raise InvalidOrder(
            f"position_side {request.position_side.value}: {request.symbol} is spot and has no positions"
        )
    if request.margin_mode is None and request.leverage is not None:
        raise InvalidOrder(f"leverage {request.leverage}: a spot order without margin_mode borrows nothing")
    if request.margin_mode is not None and not rules.margin:
        raise InvalidOrder(f"margin_mode {request.margin_mode.value}: {request.symbol} cannot be traded on margin")


_TYPE_FEATURES = {
    OrderType.LIMIT: Feature.LIMIT,
    OrderType.MARKET: Feature.MARKET,
    OrderType.STOP: Feature.STOP,
    OrderType.STOP_LIMIT: Feature.STOP_LIMIT,
}
_TIF_FEATURES = {TimeInForce.IOC: Feature.IOC, TimeInForce.FOK: Feature.FOK}
_MARGIN_FEATURES = {MarginMode.CROSS: Feature.CROSS_MARGIN, MarginMode.ISOLATED: Feature.ISOLATED_MARGIN}


def _check_capabilities(request: OrderRequest, rules: TradingRules, caps: VenueCapabilities) -> None:
    """UnsupportedFeature for anything the venue cannot do, named with the venue and feature."""
    product = Product.MARGIN if not rules.derivative and request.margin_mode is not None else rules.product
    caps.require_product(product)
    for feature in features_requested(request):
        caps.require(feature, product)


def features_requested(request: OrderRequest) -> list[Feature]:
    """Every capability ``request`` relies on: its order type, time in force, flags, margin mode
    and (for an account other than the master) sub-accounts."""
    asked = [_TYPE_FEATURES[request.type]]
    if request.time_in_force in _TIF_FEATURES:
        asked.append(_TIF_FEATURES[request.time_in_force])
    if request.post_only:
        asked.append(Feature.POST_ONLY)
    if request.reduce_only:
        asked.append(Feature.REDUCE_ONLY)
    if request.iceberg_visible is not None:
        asked.append(Feature.ICEBERG)
    if request.take_profit is not None or request.stop_loss is not None:
        asked.append(Feature.TP_SL)
    if request.position_side is not PositionSide.BOTH:
        asked.append(Feature.HEDGE_MODE)
    if request.margin_mode is not None:
        asked.append(_MARGIN_FEATURES[request.margin_mode])
    if request.account != "main":
        asked.append(Feature.SUB_ACCOUNTS)
    return asked


_FIELDS = {
    Feature.STOP: "type stop", Feature.STOP_LIMIT: "type stop_limit", Feature.POST_ONLY: "post_only",
    Feature.IOC: "time_in_force ioc", Feature.FOK: "time_in_force fok", Feature.REDUCE_ONLY: "reduce_only",
    Feature.ICEBERG: "iceberg_visible", Feature.TP_SL: "take_profit/stop_loss", Feature.HEDGE_MODE: "position_side",
    Feature.CROSS_MARGIN: "margin_mode cross", Feature.ISOLATED_MARGIN: "margin_mode isolated",
    Feature.LIMIT: "type limit", Feature.MARKET: "type market",
}
_SENT_ACCOUNT_FEATURES = (Feature.HEDGE_MODE, Feature.CROSS_MARGIN, Feature.ISOLATED_MARGIN)


def require_sent(request: OrderRequest, rules: TradingRules, caps: VenueCapabilities) -> None:
    """UnsupportedFeature, naming the venue and the field, for what the venue offers but crossbook
    does not send there (its matrix cell is not marked traded, or the SPEC names no parameter for
    it on this product): the order would otherwise reach the venue without it."""
    venue = caps.venue
    if not rules.derivative and request.margin_mode is not None and not caps.products[Product.MARGIN].crossbook:
        raise UnsupportedFeature(f"{venue} offers margin trading, but crossbook does not send margin orders there yet "
                                 f"(margin_mode {request.margin_mode.value} on {request.symbol})")
    for feature in features_requested(request):
        support = caps.features[feature]
        checked = feature in ORDER_FEATURES or (feature in _SENT_ACCOUNT_FEATURES and rules.derivative)
        if checked and support.offered_on(rules.product) and not support.crossbook:
            raise UnsupportedFeature(f"{venue} offers {feature.label}, but crossbook does not send them there yet "
                                     f"({_FIELDS[feature]})")
        why = caps.wire.sends(feature, rules.product)
        if why is not None:
            raise UnsupportedFeature(f"{venue}: {_FIELDS[feature]}: crossbook does not send {feature.label} on "
                                     f"{rules.product.label} there yet ({why})")
    hedge = caps.wire.position_side
    if request.reduce_only and request.position_side is not PositionSide.BOTH and hedge is not None and not hedge.reduce_only:
        raise UnsupportedFeature(f"{venue}: reduce_only with position_side {request.position_side.value}: {venue} takes no "
                                 "reduce-only flag in hedge mode (an order against its position side closes it)")
    iceberg = caps.wire.iceberg
    if request.iceberg_visible is not None and iceberg is not None and not iceberg.sent_on(rules.product):
        raise UnsupportedFeature(f"{venue}: iceberg_visible: crossbook sends iceberg orders there on "
                                 f"{', '.join(p.label for p in Product if p in iceberg.products)} only, "
                                 f"not on {rules.product.label}")


# ---- the grid --------------------------------------------------------------------------------


def _quantize(request: OrderRequest, rules: TradingRules) -> OrderRequest:
    buy = request.side is Side.BUY
    return replace(
        request,
        amount=_on_grid("amount", request.amount, rules.lot, decimal.ROUND_DOWN),
        price=_optional(
            "price", request.price, rules.tick, decimal.ROUND_DOWN if buy else decimal.ROUND_UP
        ),
        stop_price=_optional("stop_price", request.stop_price, rules.tick, decimal.ROUND_HALF_UP),
        take_profit=_optional("take_profit", request.take_profit, rules.tick, decimal.ROUND_HALF_UP),
        stop_loss=_optional("stop_loss", request.stop_loss, rules.tick, decimal.ROUND_HALF_UP),
        iceberg_visible=_optional("iceberg_visible", request.iceberg_visible, rules.lot, decimal.ROUND_DOWN),
    )


def _optional(name: str, value: Decimal | None, step: Decimal, rounding: str) -> Decimal | None:
    return None if value is None else _on_grid(name, value, step, rounding)


def _on_grid(name: str, value: Decimal, step: Decimal, rounding: str) -> Decimal:
    """``value`` as a whole number of ``step``s, computed exactly (Decimal's remainder is exact
    while the quotient fits the context; a value too large for that is refused, not rounded)."""
    try:
        steps = _EXACT.divide_int(value, step)
        rest = _EXACT.subtract(value, _EXACT.multiply(steps, step))
        half_or_more = _EXACT.multiply(rest, 2) >= step
        if rest and (rounding == decimal.ROUND_UP or (rounding == decimal.ROUND_HALF_UP and half_or_more)):
            steps = _EXACT.add(steps, 1)
        return _EXACT.multiply(steps, step)
    except decimal.DecimalException:
        raise InvalidOrder(f"{name} {value} is too large to put on the grid of {step}") from None


def _check_grid_limits(order: OrderRequest, asked: OrderRequest, rules: TradingRules) -> None:
    if order.amount == 0:
        raise InvalidOrder(f"amount {asked.amount} rounds down to 0 at the lot size {rules.lot}")
    _within("amount", order.amount, rules.min_amount, rules.max_amount, "after rounding down to the lot")
    if order.type in (OrderType.MARKET, OrderType.STOP):
        _within("amount", order.amount, None, rules.max_market_amount, "for a market order")
    for name in ("price", "stop_price", "take_profit", "stop_loss"):
        value = getattr(order, name)
        if value is not None:
            if value == 0:
                raise InvalidOrder(f"{name} {getattr(asked, name)} rounds to 0 at the tick size {rules.tick}")
            _within(name, value, rules.min_price, rules.max_price, "after rounding to the tick")
    visible = order.iceberg_visible
    if visible is not None:
        if visible == 0 or (rules.min_amount is not None and visible < rules.min_amount):
            raise InvalidOrder(
                f"iceberg_visible {asked.iceberg_visible} is below the smallest order "
                f"{rules.min_amount or rules.lot} after rounding down to the lot {rules.lot}"
            )
        if visible >= order.amount:
            raise InvalidOrder(f"iceberg_visible {visible} must be less than the amount {order.amount}")


def _within(name: str, value: Decimal, low: Decimal | None, high: Decimal | None, when: str) -> None:
    if low is not None and value < low:
        raise InvalidOrder(f"{name} {value} is below the minimum {low} ({when})")
    if high is not None and value > high:
        raise InvalidOrder(f"{name} {value} is above the maximum {high} ({when})")


# ---- value, margin, balance ------------------------------------------------------------------


def _entry_price(order: OrderRequest, reference_price: Decimal | None) -> Decimal:
    """The price the order is expected to fill at: its limit, a stop's trigger, else the reference."""
    if order.price is not None:
        return order.price
    if order.stop_price is not None:
        return order.stop_price
    if reference_price is None:
        raise InvalidOrder(f"reference_price: a {order.type.value} order needs one to check its notional and balance")
    return reference_price


def _check_notional(order: OrderRequest, rules: TradingRules, entry: Decimal) -> None:
    notional = rules.notional(order.amount, entry)
    if rules.min_notional is not None and notional < rules.min_notional:
        raise InvalidOrder(
            f"notional {_text(notional)} {rules.quote} (amount {order.amount} at {entry}) is below the minimum "
            f"{rules.min_notional} {rules.quote}"
        )
    if rules.max_notional is not None and notional > rules.max_notional:
        raise InvalidOrder(
            f"notional {_text(notional)} {rules.quote} (amount {order.amount} at {entry}) is above the maximum "
            f"{rules.max_notional} {rules.quote}"
        )


def _check_tp_sl(order: OrderRequest, entry: Decimal) -> None:
    """A long (buy) takes profit above its entry and stops out below it; a short the reverse."""
    above, below = ("take_profit", "stop_loss") if order.side is Side.BUY else ("stop_loss", "take_profit")
    high, low = getattr(order, above), getattr(order, below)
    if high is not None and high <= entry:
        raise InvalidOrder(f"{above} {high} must be above the entry price {entry} for a {order.side.value}")
    if low is not None and low >= entry:
        raise InvalidOrder(f"{below} {low} must be below the entry price {entry} for a {order.side.value}")


def _check_leverage(order: OrderRequest, rules: TradingRules) -> None:
    if order.leverage is not None and rules.max_leverage is not None and order.leverage > rules.max_leverage:
        raise InvalidOrder(f"leverage {order.leverage} is above the maximum {rules.max_leverage} for {order.symbol}")


def _check_balance(order: OrderRequest, rules: TradingRules, entry: Decimal, balances: Mapping[str, Decimal]) -> None:
    if order.reduce_only:
        return
    if rules.derivative or order.margin_mode is not None:
        leverage = order.leverage or Decimal(1)
        if rules.inverse:
            currency, needed = rules.settle or rules.base, rules.notional(order.amount, entry) / entry / leverage
        else:
            currency, needed = rules.settle or rules.quote, rules.notional(order.amount, entry) / leverage
        what = f"margin at {leverage}x"
    elif order.side is Side.BUY:
        currency, needed, what = rules.quote, order.amount * entry, "the cost"
    else:
        currency, needed, what = rules.base, order.amount, "the amount sold"
    available = balances.get(currency, Decimal(0))
    if needed > available:
        raise InsufficientFunds(
            f"balance: {what} of {order.side.value} {order.amount} {order.symbol} needs {_text(needed)} {currency}, "
            f"{available} {currency} available"
        )


def _text(value: Decimal) -> str:
    """A computed amount without the trailing zeros its arithmetic left (300000.0500000 -> 300000.05)."""
    return format(value.normalize(), "f")
