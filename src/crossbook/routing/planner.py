"""The smart order router's planner: split a parent order across venues at the least all-in cost.

With proportional fees alone, filling greedily by fee-adjusted price (a buy's ``price x (1 +
fee)``, a sell's ``price x (1 - fee)``) across every venue's levels is optimal: the cost is a sum
of independent per-level terms and the cheapest units go first. The planner starts from that and
then makes the plan one the venues accept and that is still cheapest:

* each venue's share is capped by what it can take now: the account's available balance there,
  its maximum order size times the child orders its rate-limit budget allows;
* shares are rounded down to the venue's lot; a share under the venue's minimum amount or minimum
  notional is dropped and its amount re-planned on the other venues;
* a fixed cost per child order (gas) can make a small share cost more than it saves: venues are
  dropped while dropping one makes the whole plan cheaper (at the same filled amount), and at most
  ``max_venues`` are kept;
* a limit price (and a maximum slippage from the arrival mid) excludes the levels past it.

Amounts are base units; prices are quote per base; costs are quote. A buy's cost is what is paid
(notional + fees + fixed costs), a sell's is what is received (notional - fees - fixed costs).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..errors import InvalidOrder
from ..model import Side

_EPS = 1e-12


@dataclass(frozen=True, slots=True)
class VenueSide:
    """One venue's liquidity on the side the parent order takes, and what its child orders obey."""

    venue: str
    levels: Sequence[tuple[float, float]]  # (price, size in base units), best first
    fee_rate: float  # taker, proportional to the notional
    lot: float = 0.0  # amount grid in base units; 0: continuous
    min_amount: float = 0.0
    min_notional: float = 0.0
    max_amount: float = math.inf  # per child order
    available: float = math.inf  # base units the account can trade there now (balance)
    fixed_cost: float = 0.0  # quote, per child order (gas)
    max_orders: int = 1  # child orders the venue's rate-limit budget allows now

    @property
    def capacity(self) -> float:
        return min(self.available, self.max_amount * self.max_orders)


@dataclass(frozen=True, slots=True)
class Child:
    venue: str
    amount: float
    expected_vwap: float
    fee: float  # proportional fee, quote
    fixed_cost: float  # quote, all of this venue's child orders
    orders: int  # child orders the amount takes (max_amount per order)


@dataclass(frozen=True, slots=True)
class Plan:
    side: Side
    amount: float  # asked
    children: tuple[Child, ...]
    limit: float | None = None
    filled: float = field(init=False)
    cost: float = field(init=False)  # buy: paid all-in; sell: received net

    def __post_init__(self) -> None:
        sign = 1.0 if self.side is Side.BUY else -1.0
        object.__setattr__(self, "filled", sum(c.amount for c in self.children))
        notional = sum(c.expected_vwap * c.amount for c in self.children)
        costs = sum(c.fee + c.fixed_cost for c in self.children)
        object.__setattr__(self, "cost", notional + sign * costs)

    @property
    def all_in_price(self) -> float | None:
        return self.cost / self.filled if self.filled > 0 else None

    def better_than(self, other: Plan) -> bool:
        """More filled, or as much for less (a buy) / for more (a sell)."""
        if abs(self.filled - other.filled) > _EPS * max(1.0, self.amount):
            return self.filled > other.filled
        return self.cost < other.cost - _EPS if self.side is Side.BUY else self.cost > other.cost + _EPS


def plan(
    side: Side,
    amount: float,
    venues: Sequence[VenueSide],
    *,
    limit: float | None = None,
    max_venues: int | None = None,
) -> Plan:
    """The cheapest split of ``amount`` across ``venues`` (see the module docstring)."""
    if not amount > 0 or math.isinf(amount):
        raise InvalidOrder(f"amount must be a positive finite number, got {amount!r}")
    if max_venues is not None and max_venues < 1:
        raise InvalidOrder(f"max_venues must be at least 1, got {max_venues}")
    usable = [v for v in venues if v.capacity > 0 and v.max_orders > 0]
    best = _valid_plan(side, amount, usable, limit)
    if max_venues is None and not any(v.fixed_cost or v.lot or v.min_amount or v.min_notional for v in usable):
        return best  # proportional costs only: the greedy fill is optimal
    candidates = usable
    while True:  # drop venues while that makes the plan cheaper, or while there are too many
        used = [v for v in candidates if any(c.venue == v.venue for c in best.children)]
        too_many = max_venues is not None and len(used) > max_venues
        trials = [_valid_plan(side, amount, [v for v in used if v is not dropped], limit) for dropped in used]
        better = [t for t in trials if too_many or t.better_than(best)]
        if not better:
            break
        best = max(better, key=lambda t: (t.filled, -t.cost if side is Side.BUY else t.cost))
        candidates = used
    single = best_single_venue(side, amount, usable, limit=limit)
    return single if single is not None and single.better_than(best) else best


def best_single_venue(side: Side, amount: float, venues: Sequence[VenueSide], *, limit: float | None = None) -> Plan | None:
    """The best plan that uses one venue only (what the router's saving is measured against)."""
    plans = [_valid_plan(side, amount, [v], limit) for v in venues]
    plans = [p for p in plans if p.children]
    if not plans:
        return None
    best = plans[0]
    for p in plans[1:]:
        if p.better_than(best):
            best = p
    return best


# ---- internals -----------------------------------------------------------------------------------


def _valid_plan(side: Side, amount: float, venues: Sequence[VenueSide], limit: float | None) -> Plan:
    """Greedy by fee-adjusted price under each venue's cap, then lots and minimums; venues whose
    share is invalid are left out and the amount re-planned on the rest."""
    active = list(venues)
    while True:
        shares = _greedy(side, amount, active, limit)
        rounded = {v.venue: _round_down(shares.get(v.venue, 0.0), v.lot) for v in active}
        invalid = [v for v in active if 0 < shares.get(v.venue, 0.0) and not _valid_share(v, rounded[v.venue])]
        if not invalid:
            break
        active = [v for v in active if v not in invalid]
    rounded = _top_up(side, amount, active, rounded, limit)
    children = tuple(_child(v, rounded[v.venue]) for v in active if rounded[v.venue] > 0)
    return Plan(side, amount, children, limit)


def _greedy(side: Side, amount: float, venues: Sequence[VenueSide], limit: float | None) -> dict[str, float]:
    """Take the best fee-adjusted levels across venues until ``amount`` or liquidity runs out."""
    sign = 1.0 if side is Side.BUY else -1.0
    heap: list[tuple[float, int, int]] = []
    for i, v in enumerate(venues):
        if v.levels and _within(side, v.levels[0][0], limit):
            heapq.heappush(heap, (sign * v.levels[0][0] * (1 + sign * v.fee_rate), i, 0))
    shares: dict[str, float] = {}
    left = amount
    while heap and left > _EPS:
        _, i, k = heapq.heappop(heap)
        v = venues[i]
        room = v.capacity - shares.get(v.venue, 0.0)
        take = min(left, v.levels[k][1], room)
        if take > 0:
            shares[v.venue] = shares.get(v.venue, 0.0) + take
            left -= take
        if room - take > _EPS and k + 1 < len(v.levels) and _within(side, v.levels[k + 1][0], limit):
            heapq.heappush(heap, (sign * v.levels[k + 1][0] * (1 + sign * v.fee_rate), i, k + 1))
    return shares


def _top_up(side: Side, amount: float, venues: Sequence[VenueSide], shares: dict[str, float], limit: float | None) -> dict[str, float]:
    """Lot rounding leaves part of the amount unplanned: add whole lots where the next lot is
    cheapest, while liquidity, capacity and the amount allow."""
    shares = dict(shares)
    while True:
        left = amount - sum(shares.values())
        best: tuple[float, VenueSide] | None = None
        for v in venues:
            step = v.lot if v.lot > 0 else left
            now = shares.get(v.venue, 0.0)
            if step <= _EPS or step > left + _EPS or now + step > v.capacity + _EPS or (now == 0 and not _valid_share(v, step)):
                continue
            marginal = _value(side, v, now + step) - _value(side, v, now)
            if math.isnan(marginal) or (limit is not None and not _within(side, _worst_price(v, now + step), limit)):
                continue
            unit = marginal / step
            if best is None or (unit < best[0] if side is Side.BUY else unit > best[0]):
                best = (unit, v)
        if best is None:
            return shares
        v = best[1]
        shares[v.venue] = shares.get(v.venue, 0.0) + (v.lot if v.lot > 0 else left)


def _valid_share(v: VenueSide, share: float) -> bool:
    if share <= 0 or share < v.min_amount - _EPS:
        return False
    vwap = _vwap(v, share)
    return not math.isnan(vwap) and vwap * share >= v.min_notional - _EPS


def _round_down(share: float, lot: float) -> float:
    if lot <= 0:
        return share
    return math.floor(share / lot + 1e-9) * lot


def _within(side: Side, price: float, limit: float | None) -> bool:
    return limit is None or (price <= limit if side is Side.BUY else price >= limit)


def _vwap(v: VenueSide, amount: float) -> float:
    """The average price of taking ``amount`` from the top of ``v``'s levels; NaN if too little."""
    left, notional = amount, 0.0
    for price, size in v.levels:
        take = min(left, size)
        notional += take * price
        left -= take
        if left <= _EPS:
            return notional / amount
    return math.nan


def _worst_price(v: VenueSide, amount: float) -> float:
    left = amount
    for price, size in v.levels:
        left -= size
        if left <= _EPS:
            return price
    return math.nan


def _orders(v: VenueSide, amount: float) -> int:
    return max(1, math.ceil(amount / v.max_amount - 1e-9)) if amount > 0 else 0


def _value(side: Side, v: VenueSide, amount: float) -> float:
    """What taking ``amount`` on ``v`` costs a buyer (notional + fee + fixed) or nets a seller
    (notional - fee - fixed); NaN past the venue's liquidity."""
    if amount <= 0:
        return 0.0
    notional = _vwap(v, amount) * amount
    if side is Side.BUY:
        return notional * (1 + v.fee_rate) + v.fixed_cost * _orders(v, amount)
    return notional * (1 - v.fee_rate) - v.fixed_cost * _orders(v, amount)


def _child(v: VenueSide, amount: float) -> Child:
    vwap = _vwap(v, amount)
    return Child(v.venue, amount, vwap, vwap * amount * v.fee_rate, v.fixed_cost * _orders(v, amount), _orders(v, amount))
