"""The simulator's matching engine: one per simulated venue, over that venue's ladders.

Liquidity is the synthetic market makers' ladder plus resting user orders. A taker walks the
opposite side best price first; at each level the market makers' lots go first (they were there
earlier), then resting user orders in time order. A resting user order fills as maker, at its own
price, when the market makers' quotes move through it (``after_step``). Public trades, synthetic or
from user fills, trigger stop orders and attached take-profit / stop-loss orders.

Fills move balances and charge the venue's maker or taker fee, in the quote currency. Perpetuals
keep positions, one-way (one signed position) or hedge mode (a long and a short), with a margin of
notional / leverage reserved from the quote balance while an order or a position is open and
realized PnL settled into it. The margin arithmetic is simplified: cross and isolated are recorded
and reported but reserve the same amount; there is no mark price, maintenance margin, liquidation
or funding; inverse contracts settle in the quote currency like linear ones. An option's premium
changes hands at each trade: a bought option holds no margin, a sold one holds its premium; nothing
is settled at expiry.

Prices and amounts enter as Decimals and must lie on the instrument's tick and lot grid (a venue
module rejects with the venue's own error before that); inside, they are integer ticks and lots.
"""

from __future__ import annotations

import itertools
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal

from ..model import (
    Kind,
    MarginMode,
    OrderStatus,
    OrderType,
    PositionSide,
    Side,
    TimeInForce,
)
from ..symbols import parse_standard
from .market import Change, Ladder, SimTrade

ZERO = Decimal(0)
Publish = Callable[[str, list[Change], list[SimTrade]], None]


ENGINE_FAULTS = ("reject", "partial_fill")


class Reject(Exception):
    """An order or request the venue refuses; ``reason`` is a stable code that each venue module
    maps to that exchange's own error response."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass
class SimOrder:
    order_id: str
    client_id: str
    account: str
    symbol: str
    side: Side
    type: OrderType
    amount: int  # lots
    price: int | None = None  # ticks; the limit price (LIMIT, STOP_LIMIT)
    stop: int | None = None  # ticks; the trigger (STOP, STOP_LIMIT, TP/SL children)
    tif: TimeInForce = TimeInForce.GTC
    post_only: bool = False
    reduce_only: bool = False
    visible: int | None = None  # iceberg slice, lots
    position_side: PositionSide = PositionSide.BOTH
    # a derivatives order: the account's margin mode and leverage on its instrument when it was admitted
    margin_mode: MarginMode | None = None
    leverage: Decimal | None = None
    take_profit: int | None = None
    stop_loss: int | None = None
    # True: the trigger fires when a trade prints at or above it; False: at or below; None: the
    # stop-loss direction for the side (a buy stop above the market, a sell stop below)
    trigger_above: bool | None = None
    linked: str | None = None  # the other order of an OCO pair (or of a TP/SL pair)
    parent: str | None = None  # a TP/SL order: the entry it protects
    status: OrderStatus = OrderStatus.OPEN
    filled: int = 0
    cost: Decimal = ZERO  # quote value filled
    fee: Decimal = ZERO
    triggered: bool = False
    shown: int = 0  # lots displayed in the public book now
    reserved: Decimal = ZERO  # balance locked for the unfilled rest (quote, or base for spot sells)
    seq: int = 0
    created: float = field(default_factory=time.time)
    updated: float = 0.0

    @property
    def remaining(self) -> int:
        return self.amount - self.filled

    @property
    def is_bid(self) -> bool:
        return self.side is Side.BUY

    @property
    def waiting(self) -> bool:
        """A stop or TP/SL order whose trigger has not traded yet."""
        return self.stop is not None and not self.triggered


@dataclass(frozen=True, slots=True)
class SimFill:
    account: str
    order_id: str
    client_id: str
    symbol: str
    side: Side
    price: Decimal
    amount: Decimal
    fee: Decimal
    fee_currency: str
    taker: bool
    trade_id: int
    ts: float = field(default_factory=time.time)


@dataclass
class Position:
    size: Decimal = ZERO  # base units; signed in one-way mode, positive on a hedge-mode side
    entry: Decimal = ZERO
    margin: Decimal = ZERO


@dataclass
class Account:
    name: str
    parent: str | None = None
    balances: dict[str, Decimal] = field(default_factory=dict)
    locked: dict[str, Decimal] = field(default_factory=dict)
    hedge_mode: bool = False
    margin_modes: dict[str, MarginMode] = field(default_factory=dict)
    leverages: dict[str, Decimal] = field(default_factory=dict)
    positions: dict[tuple[str, PositionSide], Position] = field(default_factory=dict)

    def available(self, asset: str) -> Decimal:
        return self.balances.get(asset, ZERO) - self.locked.get(asset, ZERO)

    def adjust(self, book: dict[str, Decimal], asset: str, delta: Decimal) -> None:
        book[asset] = book.get(asset, ZERO) + delta


@dataclass(frozen=True, slots=True)
class Market:
    symbol: str
    base: str
    quote: str
    kind: Kind
    tick: Decimal
    lot: Decimal


@dataclass(frozen=True, slots=True)
class OrderEvent:
    """What the private stream reports: the order as it now stands, and the fill if one caused it."""

    order: SimOrder
    fill: SimFill | None = None


class EngineCore:
    """What every part of the engine shares: the venue's markets and ladders, the accounts, the
    orders and fills, the queues of resting orders, and what has yet to be published; lookups of
    orders and of the book, and the plumbing that records changes and tells listeners."""

    def __init__(
        self,
        venue: str,
        ladders: dict[str, Ladder],
        *,
        maker_fee: Decimal,
        taker_fee: Decimal,
        buy_fee_in_base: bool = True,
        publish: Publish | None = None,
    ) -> None:
        self.venue = venue
        self.ladders = ladders
        self.maker_fee = maker_fee
        self.taker_fee = taker_fee
        self.buy_fee_in_base = buy_fee_in_base  # a spot buy pays in the base it receives, or in quote
        self.publish = publish
        self.markets = {s: market_of(s, ladder) for s, ladder in ladders.items()}
        self.accounts: dict[str, Account] = {}
        self.orders: dict[str, SimOrder] = {}
        self.by_client: dict[tuple[str, str], str] = {}
        self.fills: list[SimFill] = []
        self.listeners: list[Callable[[OrderEvent], None]] = []
        self.faults: deque[str] = deque()  # ENGINE_FAULTS for the next orders, in turn
        self._cap: int | None = None  # lots the order being executed may still take (partial_fill)
        self._queues: dict[tuple[str, bool, int], list[str]] = {}  # (symbol, is_bid, ticks) -> ids
        self._ids = itertools.count(1)
        self._trade_ids = itertools.count(5_000_000_001)
        self._pending_changes: dict[str, list[Change]] = {}
        self._pending_trades: dict[str, list[SimTrade]] = {}

    # ---- orders ----------------------------------------------------------------------

    def find(self, account: str, order_id: str | None = None, client_id: str | None = None) -> SimOrder:
        oid = order_id if order_id is not None else self.by_client.get((account, client_id or ""))
        order = self.orders.get(oid or "")
        if order is None or order.account != account:
            raise Reject("unknown_order", f"no order {order_id or client_id!r} for account {account!r}")
        return order

    def open_orders(self, account: str, symbol: str | None = None) -> list[SimOrder]:
        return [
            o for o in self.orders.values()
            if o.account == account and not o.status.final and (symbol is None or o.symbol == symbol)
        ]

    def account_fills(self, account: str, symbol: str | None = None) -> list[SimFill]:
        return [f for f in self.fills if f.account == account and (symbol is None or f.symbol == symbol)]

    # ---- the book --------------------------------------------------------------------

    def _touch(self, symbol: str, side: Side) -> int | None:
        """The best price an order of ``side`` would trade against."""
        ladder = self.ladders[symbol]
        book = ladder.asks if side is Side.BUY else ladder.bids
        if not book:
            return None
        return min(book) if side is Side.BUY else max(book)

    def _crosses_book(self, order: SimOrder, limit: int) -> bool:
        ladder = self.ladders[order.symbol]
        book = ladder.asks if order.is_bid else ladder.bids
        if not book:
            return False
        best = min(book) if order.is_bid else max(book)
        return best <= limit if order.is_bid else best >= limit

    def _levels(self, order: SimOrder, limit: int | None) -> list[int]:
        ladder = self.ladders[order.symbol]
        book = ladder.asks if order.is_bid else ladder.bids
        levels = sorted(book, reverse=not order.is_bid)
        if limit is None:
            return levels
        return [px for px in levels if (px <= limit if order.is_bid else px >= limit)]

    def _fillable(self, order: SimOrder, limit: int | None) -> int:
        ladder = self.ladders[order.symbol]
        book = ladder.asks if order.is_bid else ladder.bids
        return sum(book[px] for px in self._levels(order, limit))

    # ---- plumbing --------------------------------------------------------------------

    def _market(self, symbol: str) -> Market:
        try:
            return self.markets[symbol]
        except KeyError:
            raise Reject("unknown_symbol", f"{self.venue} has no market {symbol!r}") from None

    def _derivative(self, symbol: str) -> Market:
        market = self._market(symbol)
        if market.kind is Kind.SPOT:
            raise Reject("not_derivative", f"{symbol} is spot")
        return market

    def _change(self, symbol: str, change: Change) -> None:
        self._pending_changes.setdefault(symbol, []).append(change)

    def _trade(self, symbol: str, trade: SimTrade) -> None:
        self._pending_trades.setdefault(symbol, []).append(trade)

    def _emit(self, order: SimOrder, fill: SimFill | None = None) -> None:
        order.updated = time.time()
        event = OrderEvent(replace(order), fill)
        for listener in self.listeners:
            listener(event)


class Ledger(EngineCore):
    """Accounts, balances and positions: what an order reserves, what a fill settles, the
    position it moves, and the account settings (position mode, margin mode, leverage)."""

    # ---- accounts --------------------------------------------------------------------

    def open_account(self, name: str, balances: dict[str, Decimal] | None = None, parent: str | None = None) -> Account:
        if name in self.accounts:
            raise Reject("account_exists", f"account {name!r} already exists")
        if parent is not None and parent not in self.accounts:
            raise Reject("unknown_account", f"no parent account {parent!r}")
        account = Account(name, parent, dict(balances or {}))
        self.accounts[name] = account
        return account

    def account(self, name: str) -> Account:
        try:
            return self.accounts[name]
        except KeyError:
            raise Reject("unknown_account", f"no account {name!r}") from None

    def transfer(self, asset: str, amount: Decimal, source: str, target: str) -> None:
        src, dst = self.account(source), self.account(target)
        if amount <= 0:
            raise Reject("bad_amount", f"transfer amount must be positive, got {amount}")
        if src.available(asset) < amount:
            raise Reject("insufficient_balance", f"{source} has {src.available(asset)} {asset} available, not {amount}")
        src.adjust(src.balances, asset, -amount)
        dst.adjust(dst.balances, asset, amount)

    def set_position_mode(self, name: str, hedge: bool) -> None:
        account = self.account(name)
        if any(p.size for p in account.positions.values()) or self.open_orders(name):
            raise Reject("position_open", "the position mode cannot change with open positions or orders")
        account.hedge_mode = hedge

    def set_margin_mode(self, name: str, symbol: str, mode: MarginMode) -> None:
        account = self.account(name)
        self._derivative(symbol)
        if any(p.size for (s, _), p in account.positions.items() if s == symbol):
            raise Reject("position_open", f"the margin mode of {symbol} cannot change with a position open")
        account.margin_modes[symbol] = mode

    def set_leverage(self, name: str, symbol: str, leverage: Decimal) -> None:
        self._derivative(symbol)
        if not (Decimal(1) <= leverage <= Decimal(125)):
            raise Reject("bad_leverage", f"leverage must be between 1 and 125, got {leverage}")
        self.account(name).leverages[symbol] = leverage

    def position(self, name: str, symbol: str, side: PositionSide = PositionSide.BOTH) -> Position:
        return self.account(name).positions.get((symbol, side), Position())

    # ---- reservations ----------------------------------------------------------------

    def _reserve(self, order: SimOrder) -> None:
        """Lock what the order can cost: quote (plus taker fee) for a spot buy, base for a spot
        sell, margin for a derivatives order that adds exposure."""
        account = self.accounts[order.account]
        market = self.markets[order.symbol]
        asset, need = self._reservation(order, market)
        if need > account.available(asset):
            raise Reject("insufficient_balance", f"needs {need} {asset}, {account.available(asset)} available")
        order.reserved = need
        account.adjust(account.locked, asset, need)

    def _reservation(self, order: SimOrder, market: Market) -> tuple[str, Decimal]:
        amount = order.amount * market.lot
        reference = order.price if order.price is not None else order.stop
        if reference is None:
            reference = self._sweep_price(order)
        notional = reference * market.tick * amount
        if market.kind is Kind.SPOT:
            if order.is_bid:
                return market.quote, notional if self.buy_fee_in_base else notional * (1 + self.taker_fee)
            return market.base, amount
        if order.reduce_only or self._closes(order):
            return market.quote, ZERO
        if market.kind is Kind.OPTION:  # a bought option is paid in full; a sold one holds its premium
            return market.quote, notional
        leverage = self.accounts[order.account].leverages.get(order.symbol, Decimal(1))
        return market.quote, notional / leverage

    def _sweep_price(self, order: SimOrder) -> int:
        """The worst price a market order of this size would reach (for its reservation)."""
        ladder = self.ladders[order.symbol]
        book = ladder.asks if order.is_bid else ladder.bids
        left, worst = order.amount, 0
        for px in self._levels(order, None):
            worst = px
            left -= book[px]
            if left <= 0:
                break
        if worst == 0:
            raise Reject("no_liquidity", f"no {('asks' if order.is_bid else 'bids')} on {order.symbol}")
        return worst

    def _release(self, order: SimOrder, fraction: Decimal) -> None:
        market = self.markets[order.symbol]
        asset = market.base if market.kind is Kind.SPOT and not order.is_bid else market.quote
        amount = order.reserved * fraction
        order.reserved -= amount
        account = self.accounts[order.account]
        account.adjust(account.locked, asset, -amount)

    # ---- settlement and positions ----------------------------------------------------

    def _settle(self, order: SimOrder, market: Market, price: Decimal, amount: Decimal, fee: Decimal, lots: int) -> None:
        account = self.accounts[order.account]
        self._release(order, Decimal(lots) / Decimal(order.remaining + lots))
        if market.kind is Kind.SPOT:
            if order.is_bid:
                in_base = fee if self.buy_fee_in_base else ZERO
                account.adjust(account.balances, market.base, amount - in_base)
                account.adjust(account.balances, market.quote, -price * amount - (fee - in_base))
            else:
                account.adjust(account.balances, market.base, -amount)
                account.adjust(account.balances, market.quote, price * amount - fee)
            return
        account.adjust(account.balances, market.quote, -fee)
        if market.kind is Kind.OPTION:  # the premium changes hands at the trade
            account.adjust(account.balances, market.quote, (-price if order.is_bid else price) * amount)
        self._move_position(account, order, market, price, amount)

    def _position_key(self, account: Account, order: SimOrder) -> tuple[str, PositionSide]:
        return order.symbol, order.position_side if account.hedge_mode else PositionSide.BOTH

    def _closes(self, order: SimOrder) -> bool:
        account = self.accounts[order.account]
        position = account.positions.get(self._position_key(account, order), Position())
        if account.hedge_mode:
            return (order.position_side is PositionSide.LONG) != order.is_bid
        return bool(position.size) and (position.size > 0) != order.is_bid

    def _move_position(self, account: Account, order: SimOrder, market: Market, price: Decimal, amount: Decimal) -> None:
        key = self._position_key(account, order)
        pos = account.positions.setdefault(key, Position())
        if account.hedge_mode:
            opening = (order.position_side is PositionSide.LONG) == order.is_bid
            signed = amount if opening else -amount
            direction = Decimal(1) if order.position_side is PositionSide.LONG else Decimal(-1)
        else:
            signed = amount if order.is_bid else -amount
            direction = Decimal(1) if pos.size >= 0 else Decimal(-1)
            opening = pos.size == 0 or (pos.size > 0) == order.is_bid
        leverage = account.leverages.get(order.symbol, Decimal(1))
        option = market.kind is Kind.OPTION
        if opening:
            size = abs(pos.size) + amount
            pos.entry = (pos.entry * abs(pos.size) + price * amount) / size
            pos.size = size if account.hedge_mode else pos.size + signed
            margin = self._margin(option, order.is_bid, price * amount, leverage)
            pos.margin += margin
            account.adjust(account.locked, market.quote, margin)
            return
        closed = min(amount, abs(pos.size))
        pnl = ZERO if option else (price - pos.entry) * closed * direction  # an option's premiums settled it
        released = pos.margin * closed / abs(pos.size)
        pos.margin -= released
        account.adjust(account.locked, market.quote, -released)
        account.adjust(account.balances, market.quote, pnl)
        pos.size = pos.size - closed if account.hedge_mode else pos.size + (closed if pos.size < 0 else -closed)
        if pos.size == 0:
            pos.entry = ZERO
        flipped = amount - closed
        if flipped and not account.hedge_mode:
            pos.size = flipped if order.is_bid else -flipped
            pos.entry = price
            margin = self._margin(option, order.is_bid, price * flipped, leverage)
            pos.margin += margin
            account.adjust(account.locked, market.quote, margin)

    @staticmethod
    def _margin(option: bool, buying: bool, notional: Decimal, leverage: Decimal) -> Decimal:
        """What a newly opened position holds: a contract's notional over its leverage; nothing for
        a bought option (paid in full), its premium for a sold one."""
        if option:
            return ZERO if buying else notional
        return notional / leverage

    def _cap_to_position(self, order: SimOrder) -> None:
        account = self.accounts[order.account]
        pos = account.positions.get(self._position_key(account, order), Position())
        lot = self.markets[order.symbol].lot
        if not self._closes(order) or pos.size == 0:
            raise Reject("reduce_only_would_increase", "a reduce-only order must reduce an open position")
        cap = int(abs(pos.size) / lot) + order.filled
        order.amount = min(order.amount, cap)


class OrderMatching(Ledger):
    """Matching: an order admitted (checked, reserved, recorded), executed against the market
    makers and resting orders best price first, rested, filled and closed; the TP/SL children a
    filled entry attaches and the links that cancel an OCO's other leg."""

    # ---- admission -------------------------------------------------------------------

    def _new_order(
        self, account: str, symbol: str, side: Side, type: OrderType, amount: Decimal, price: Decimal | None,
        stop_price: Decimal | None, tif: TimeInForce, post_only: bool, reduce_only: bool,
        iceberg_visible: Decimal | None, take_profit: Decimal | None, stop_loss: Decimal | None,
        position_side: PositionSide, client_id: str | None,
    ) -> SimOrder:
        self.account(account)
        market = self._market(symbol)
        oid = str(next(self._ids))
        cid = client_id or f"sim-{oid}"
        if (account, cid) in self.by_client:
            raise Reject("duplicate_client_id", f"client order id {cid!r} is already in use")
        order = SimOrder(
            order_id=oid, client_id=cid, account=account, symbol=symbol, side=side, type=type,
            amount=to_units(amount, market.lot, "amount"),
            price=None if price is None else to_units(price, market.tick, "price"),
            stop=None if stop_price is None else to_units(stop_price, market.tick, "stop price"),
            tif=tif, post_only=post_only, reduce_only=reduce_only,
            visible=None if iceberg_visible is None else to_units(iceberg_visible, market.lot, "iceberg visible amount"),
            position_side=position_side,
            take_profit=None if take_profit is None else to_units(take_profit, market.tick, "take profit"),
            stop_loss=None if stop_loss is None else to_units(stop_loss, market.tick, "stop loss"),
            seq=int(oid),
        )
        if market.kind is not Kind.SPOT:
            held = self.accounts[account]
            order.margin_mode = held.margin_modes.get(symbol, MarginMode.CROSS)
            order.leverage = held.leverages.get(symbol, Decimal(1))
        self._check_shape(order, market)
        return order

    def _check_shape(self, order: SimOrder, market: Market) -> None:
        if order.amount <= 0:
            raise Reject("bad_amount", "amount must be positive")
        if order.type in (OrderType.LIMIT, OrderType.STOP_LIMIT) and order.price is None:
            raise Reject("missing_price", f"a {order.type.value} order needs a price")
        if order.type in (OrderType.STOP, OrderType.STOP_LIMIT) and order.stop is None:
            raise Reject("missing_stop", f"a {order.type.value} order needs a stop price")
        if order.visible is not None and not (0 < order.visible < order.amount):
            raise Reject("bad_iceberg", "the iceberg's visible part must be positive and below the amount")
        if market.kind is Kind.SPOT and (order.reduce_only or order.position_side is not PositionSide.BOTH):
            raise Reject("not_derivative", f"{order.symbol} is spot: no reduce-only or position side")
        account = self.accounts[order.account]
        if market.kind is not Kind.SPOT and account.hedge_mode and order.position_side is PositionSide.BOTH:
            raise Reject("position_side_required", "hedge mode needs a LONG or SHORT position side")
        if market.kind is not Kind.SPOT and not account.hedge_mode and order.position_side is not PositionSide.BOTH:
            raise Reject("position_side_in_one_way", "one-way mode takes no position side")

    def _admit(self, order: SimOrder, admitted: Callable[[SimOrder], None] | None = None) -> None:
        """Checks that can refuse the order come first: a refused order leaves no trace.
        ``admitted`` sees the order once it is accepted, before anything about it is published."""
        if self.faults and self.faults[0] == "reject":
            self.faults.popleft()
            raise Reject("insufficient_balance", "the venue refused the order (injected fault)")
        if not order.waiting:
            self._precheck(order)
        self._reserve(order)
        if admitted is not None:
            admitted(order)
        self.orders[order.order_id] = order
        self.by_client[(order.account, order.client_id)] = order.order_id
        self._emit(order)
        if order.waiting:
            return  # rests until a trade crosses its trigger
        self._execute(order)

    def _limit(self, order: SimOrder) -> int | None:
        return order.price if order.type in (OrderType.LIMIT, OrderType.STOP_LIMIT) else None

    def _precheck(self, order: SimOrder) -> None:
        limit = self._limit(order)
        if order.post_only and limit is not None and self._crosses_book(order, limit):
            raise Reject("post_only_would_take", "the post-only order would immediately match and take")
        if order.reduce_only:
            self._cap_to_position(order)

    def _execute(self, order: SimOrder) -> None:
        limit = self._limit(order)
        if order.tif is TimeInForce.FOK and self._fillable(order, limit) < order.remaining:
            self._close(order, OrderStatus.EXPIRED)
            return
        partial = (limit is None or order.tif is TimeInForce.IOC) and bool(self.faults) and self.faults[0] == "partial_fill"
        if partial:
            self.faults.popleft()
            self._cap = order.filled + (order.remaining + 1) // 2
        try:
            self._take(order, limit)
        finally:
            self._cap = None
        if order.remaining == 0 or order.status.final:
            return
        if limit is None or order.tif is not TimeInForce.GTC:
            self._close(order, OrderStatus.EXPIRED)  # market and IOC remainders do not rest
        else:
            self._rest(order)

    # ---- matching --------------------------------------------------------------------

    def _room(self, taker: SimOrder) -> int:
        """Lots the taker may still take (all it has left, unless a partial fill is injected)."""
        return taker.remaining if self._cap is None else min(taker.remaining, self._cap - taker.filled)

    def _take(self, taker: SimOrder, limit: int | None) -> None:
        ladder = self.ladders[taker.symbol]
        maker_is_bid = not taker.is_bid
        for px in self._levels(taker, limit):
            if self._room(taker) <= 0 or taker.status.final:
                return
            mm = min(self._room(taker), ladder.mm_lots(maker_is_bid, px))
            if mm:
                self._change(taker.symbol, ladder.take_mm(maker_is_bid, px, mm))

                def against_makers(tid: int, px: int = px, lots: int = mm) -> None:
                    self._fill(taker, px, lots, True, tid)

                self._print(taker.symbol, px, mm, taker.is_bid, against_makers)
            queue = self._queues.get((taker.symbol, maker_is_bid, px))
            while queue and self._room(taker) and not taker.status.final:
                maker = self.orders[queue[0]]
                lots = min(self._room(taker), maker.shown)

                def both_sides(tid: int, px: int = px, maker: SimOrder = maker, lots: int = lots) -> None:
                    self._fill(taker, px, lots, True, tid)
                    self._fill_resting(maker, lots, tid)

                self._print(taker.symbol, px, lots, taker.is_bid, both_sides)

    def _fill_from_makers(self, symbol: str, is_bid: bool, px: int) -> None:
        """Market-maker quotes that moved through a resting user order trade with it."""
        ladder = self.ladders[symbol]
        book = ladder.asks if is_bid else ladder.bids
        crossing = sorted((p for p in book if (p <= px if is_bid else p >= px)), reverse=not is_bid)
        for mm_px in crossing:
            queue = self._queues.get((symbol, is_bid, px))
            while queue and ladder.mm_lots(not is_bid, mm_px):
                maker = self.orders[queue[0]]
                lots = min(ladder.mm_lots(not is_bid, mm_px), maker.shown)
                self._change(symbol, ladder.take_mm(not is_bid, mm_px, lots))

                def resting(tid: int, maker: SimOrder = maker, lots: int = lots) -> None:
                    self._fill_resting(maker, lots, tid)

                self._print(symbol, px, lots, not is_bid, resting)

    def _print(self, symbol: str, px: int, lots: int, taker_buys: bool, fills: Callable[[int], None]) -> None:
        """One trade: its id goes to both sides' fills and to the public tape."""
        trade_id = next(self._trade_ids)
        self._trade(symbol, SimTrade(px, lots, taker_buys, trade_id))
        fills(trade_id)

    def _fill_resting(self, maker: SimOrder, lots: int, trade_id: int) -> None:
        """A resting order trades ``lots`` at its own price, as maker."""
        assert maker.price is not None
        key = (maker.symbol, maker.is_bid, maker.price)
        self._change(maker.symbol, self.ladders[maker.symbol].add_user(maker.is_bid, maker.price, -lots))
        maker.shown -= lots
        self._fill(maker, maker.price, lots, False, trade_id)
        queue = self._queues.get(key, [])
        if maker.shown == 0 and maker.order_id in queue:
            queue.remove(maker.order_id)
            if maker.remaining and not maker.status.final:
                self._show(maker)  # an iceberg's next slice joins the back of the queue
        if not queue:
            self._queues.pop(key, None)

    def _rest(self, order: SimOrder) -> None:
        if order.status is not OrderStatus.PARTIALLY_FILLED:
            order.status = OrderStatus.OPEN
        self._show(order)

    def _show(self, order: SimOrder) -> None:
        assert order.price is not None
        order.shown = min(order.remaining, order.visible or order.remaining)
        self._queues.setdefault((order.symbol, order.is_bid, order.price), []).append(order.order_id)
        self._change(order.symbol, self.ladders[order.symbol].add_user(order.is_bid, order.price, order.shown))

    def _fill(self, order: SimOrder, px: int, lots: int, taker: bool, trade_id: int) -> None:
        market = self.markets[order.symbol]
        price = px * market.tick
        amount = lots * market.lot
        rate = self.taker_fee if taker else self.maker_fee
        in_base = market.kind is Kind.SPOT and order.is_bid and self.buy_fee_in_base
        fee = amount * rate if in_base else price * amount * rate
        order.filled += lots
        order.cost += price * amount
        order.fee += fee
        order.status = OrderStatus.FILLED if order.remaining == 0 else OrderStatus.PARTIALLY_FILLED
        fill = SimFill(order.account, order.order_id, order.client_id, order.symbol, order.side, price, amount, fee,
                       market.base if in_base else market.quote, taker, trade_id)
        self.fills.append(fill)
        self._settle(order, market, price, amount, fee, lots)
        self._emit(order, fill)
        if order.linked is not None:
            self._cancel_linked(order)
        if order.status is OrderStatus.FILLED and (order.take_profit or order.stop_loss):
            self._attach_tp_sl(order)

    # ---- links and closing -----------------------------------------------------------

    def _attach_tp_sl(self, entry: SimOrder) -> None:
        children = []
        for trigger in (entry.take_profit, entry.stop_loss):
            if trigger is None:
                continue
            child = SimOrder(
                order_id=str(next(self._ids)), client_id=f"{entry.client_id}-{'tp' if trigger == entry.take_profit else 'sl'}",
                account=entry.account, symbol=entry.symbol, side=Side.SELL if entry.is_bid else Side.BUY,
                type=OrderType.STOP, amount=entry.filled, stop=trigger, position_side=entry.position_side,
                reduce_only=self.markets[entry.symbol].kind is not Kind.SPOT, parent=entry.order_id,
            )
            child.seq = int(child.order_id)
            self.orders[child.order_id] = child
            self.by_client[(child.account, child.client_id)] = child.order_id
            children.append(child)
        if len(children) == 2:
            children[0].linked, children[1].linked = children[1].order_id, children[0].order_id
        for child in children:
            self._emit(child)

    def _cancel_linked(self, order: SimOrder) -> None:
        other = self.orders.get(order.linked or "")
        order.linked = None
        if other is not None and not other.status.final:
            other.linked = None
            self._close(other, OrderStatus.CANCELED)

    def _unqueue(self, order: SimOrder) -> None:
        """Take a resting order out of its level's queue and the public book."""
        if order.shown and order.price is not None:
            key = (order.symbol, order.is_bid, order.price)
            queue = self._queues.get(key, [])
            if order.order_id in queue:
                queue.remove(order.order_id)
            if not queue:
                self._queues.pop(key, None)
            self._change(order.symbol, self.ladders[order.symbol].add_user(order.is_bid, order.price, -order.shown))
            order.shown = 0

    def _close(self, order: SimOrder, status: OrderStatus) -> None:
        self._unqueue(order)
        if order.reserved:
            self._release(order, Decimal(1))
        order.status = status
        self._emit(order)


class MatchingEngine(OrderMatching):
    """A venue's matching engine: orders submitted, amended and canceled, the market makers'
    steps and the public trades that trigger stops, each call ending with what it changed
    published."""

    # ---- orders ----------------------------------------------------------------------

    def submit(
        self,
        account: str,
        symbol: str,
        side: Side,
        type: OrderType,
        amount: Decimal,
        price: Decimal | None = None,
        *,
        stop_price: Decimal | None = None,
        tif: TimeInForce = TimeInForce.GTC,
        post_only: bool = False,
        reduce_only: bool = False,
        iceberg_visible: Decimal | None = None,
        take_profit: Decimal | None = None,
        stop_loss: Decimal | None = None,
        position_side: PositionSide = PositionSide.BOTH,
        client_id: str | None = None,
        trigger_above: bool | None = None,
        admitted: Callable[[SimOrder], None] | None = None,
    ) -> SimOrder:
        """``admitted``: told of the order once the engine holds it, before it publishes anything
        (a venue that gives held orders ids of its own: Binance's algo orders)."""
        order = self._new_order(
            account, symbol, side, type, amount, price, stop_price, tif, post_only, reduce_only,
            iceberg_visible, take_profit, stop_loss, position_side, client_id,
        )
        order.trigger_above = trigger_above
        self._admit(order, admitted)
        self._flush()
        return order

    def submit_oco(
        self,
        account: str,
        symbol: str,
        side: Side,
        amount: Decimal,
        limit_price: Decimal,
        stop_price: Decimal,
        stop_limit_price: Decimal | None = None,
        client_ids: tuple[str | None, str | None] = (None, None),
    ) -> tuple[SimOrder, SimOrder]:
        """Binance's OCO: a limit order and a stop (-limit) order; when either fills or triggers,
        the other is canceled."""
        stop_type = OrderType.STOP if stop_limit_price is None else OrderType.STOP_LIMIT
        limit = self._new_order(account, symbol, side, OrderType.LIMIT, amount, limit_price, None, TimeInForce.GTC,
                                False, False, None, None, None, PositionSide.BOTH, client_ids[0])
        stop = self._new_order(account, symbol, side, stop_type, amount, stop_limit_price, stop_price, TimeInForce.GTC,
                               False, False, None, None, None, PositionSide.BOTH, client_ids[1])
        self._check_oco_prices(limit, stop)
        limit.linked, stop.linked = stop.order_id, limit.order_id
        self._admit(limit)
        self._admit(stop)
        self._flush()
        return limit, stop

    def _check_oco_prices(self, limit: SimOrder, stop: SimOrder) -> None:
        """Binance's rule: a sell has limit > market > stop, a buy limit < market < stop."""
        market = self._touch(limit.symbol, limit.side)
        assert limit.price is not None and stop.stop is not None
        if market is None:
            return
        ok = limit.price > market > stop.stop if limit.side is Side.SELL else limit.price < market < stop.stop
        if not ok:
            raise Reject("oco_prices", "an OCO needs its limit price on the profit side and its stop on the loss side of the market")

    def amend(self, order: SimOrder, lots: int, ticks: int, *, post_only: bool | None = None, keep_priority: bool = True) -> None:
        """Amend a resting limit order in place: it keeps its ids and fills. ``lots`` is the new
        total; at or below what has filled, the rest is canceled. A smaller amount at the same
        price keeps the order's place in the queue (unless ``keep_priority`` is False, where the
        venue sends every amended order to the back); any other change takes it out of the book
        and enters it again at the back of its (new) level, trading at once if it crosses, unless
        ``post_only`` (default: the order's own flag) refuses that. A refused amend (Reject)
        leaves the order as it was."""
        if order.price is None or order.status.final:
            raise Reject("order_final", f"order {order.order_id} is not a resting limit order")
        if lots <= order.filled:
            self._close(order, OrderStatus.CANCELED)
        elif keep_priority and ticks == order.price and lots <= order.amount:
            self._shrink(order, lots)
        else:
            self._move(order, lots, ticks, order.post_only if post_only is None else post_only)
        self._flush()

    def _shrink(self, order: SimOrder, lots: int) -> None:
        assert order.price is not None
        cut, order.amount = order.amount - lots, lots
        shown = min(order.shown, order.remaining)
        if shown != order.shown:
            self._change(order.symbol, self.ladders[order.symbol].add_user(order.is_bid, order.price, shown - order.shown))
            order.shown = shown
        if cut:
            self._release(order, Decimal(cut) / Decimal(order.remaining + cut))
        self._emit(order)

    def _move(self, order: SimOrder, lots: int, ticks: int, post_only: bool) -> None:
        moved = replace(order, amount=lots, price=ticks, post_only=post_only)
        if post_only and self._crosses_book(moved, ticks):
            raise Reject("post_only_would_take", "the amended post-only order would take")
        asset, need = self._reservation(replace(moved, amount=moved.remaining), self.markets[order.symbol])
        account = self.accounts[order.account]
        if need > account.available(asset) + order.reserved:
            raise Reject("insufficient_balance", f"the amended order needs {need} {asset}")
        self._unqueue(order)
        self._release(order, Decimal(1))
        order.amount, order.price, order.post_only = lots, ticks, post_only
        order.reserved = need
        account.adjust(account.locked, asset, need)
        self._emit(order)
        self._execute(order)

    def cancel(self, account: str, order_id: str | None = None, client_id: str | None = None) -> SimOrder:
        order = self.find(account, order_id, client_id)
        if order.status.final:
            raise Reject("order_final", f"order {order.order_id} is already {order.status.value}")
        self._close(order, OrderStatus.CANCELED)
        self._flush()
        return order

    def inject(self, fault: str, times: int = 1) -> None:
        """``reject``: the next order is refused as one the account cannot fund (every venue
        module answers that in its own words). ``partial_fill``: the next market or IOC order
        takes half its amount (rounded up) and its remainder expires, whatever the book holds."""
        if fault not in ENGINE_FAULTS:
            raise ValueError(f"unknown engine fault {fault!r}; known: {', '.join(ENGINE_FAULTS)}")
        self.faults.extend([fault] * times)

    # ---- the market moving -----------------------------------------------------------

    def after_step(self, symbol: str) -> tuple[list[Change], list[SimTrade]]:
        """The market makers moved: fill resting user orders their quotes now cross. Returns the
        public changes and trades this caused (to publish with the step's own)."""
        ladder = self.ladders[symbol]
        for is_bid in (True, False):
            for px in sorted(ladder.user_bids if is_bid else ladder.user_asks, reverse=is_bid):
                self._fill_from_makers(symbol, is_bid, px)
        return self._pending_changes.pop(symbol, []), self._pending_trades.pop(symbol, [])

    def on_trades(self, symbol: str, trades: list[SimTrade]) -> None:
        """Public trades printed: trigger the stops and TP/SL orders they cross."""
        for trade in trades:
            for order in [o for o in self.orders.values() if o.symbol == symbol and o.waiting and not o.status.final]:
                if self._crosses_trigger(order, trade.ticks):
                    self._trigger(order)
        self._flush()

    def _crosses_trigger(self, order: SimOrder, ticks: int) -> bool:
        assert order.stop is not None
        return ticks >= order.stop if self._triggers_on_rise(order) else ticks <= order.stop

    def _triggers_on_rise(self, order: SimOrder) -> bool:
        if order.trigger_above is not None:
            return order.trigger_above
        if order.parent is None:
            return order.is_bid
        return self._tp_rises(order)

    def _tp_rises(self, child: SimOrder) -> bool:
        """A TP/SL child of a buy is a sell: its TP fires on a rise, its SL on a fall."""
        parent = self.orders[child.parent or ""]
        is_tp = child.stop == parent.take_profit
        return parent.is_bid == is_tp

    def _trigger(self, order: SimOrder) -> None:
        order.triggered = True
        if order.linked is not None:
            self._cancel_linked(order)
        try:
            self._precheck(order)
        except Reject:
            self._close(order, OrderStatus.REJECTED)  # e.g. its position was closed meanwhile
            return
        self._emit(order)
        self._execute(order)

    def _flush(self) -> None:
        """Publish what orders did to the public book and tape, then let those trades trigger."""
        while self._pending_changes or self._pending_trades:
            symbols = set(self._pending_changes) | set(self._pending_trades)
            for symbol in symbols:
                changes = self._pending_changes.pop(symbol, [])
                trades = self._pending_trades.pop(symbol, [])
                if self.publish is not None:
                    self.publish(symbol, changes, trades)
                if trades:
                    self.on_trades(symbol, trades)


def market_of(symbol: str, ladder: Ladder) -> Market:
    base, quote, kind, _ = parse_standard(symbol)
    return Market(symbol, base, quote, kind, decimal_of(ladder.spec.tick), decimal_of(ladder.spec.lot))


def decimal_of(step: float) -> Decimal:
    return Decimal(repr(step))


def to_units(value: Decimal, step: Decimal, what: str) -> int:
    """``value`` as a whole number of ``step``s; off the grid is a reject."""
    if not value.is_finite():
        raise Reject("bad_number", f"{what} must be a finite number, got {value}")
    units = value / step
    if units != units.to_integral_value():
        raise Reject(f"{what.replace(' ', '_')}_off_grid", f"{what} {value} is not a multiple of {step}")
    return int(units)
