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

How it stays fast on deep books: each venue's levels are read once per plan, lazily and in
chunks, into cumulative sizes and notionals, so a share's cost is a bisection; how deep to read is
guessed from each book's slot count up to a price (a bisection of its sorted keys, nothing read)
times its mean size per slot; the greedy fill is a search for the fee-adjusted price at which the
venues' capped depth reaches the amount, started from the price of a fill on more venues when
there is one; and a plan without one venue (or with one venue only) is only computed when a
lower bound on its cost, taken from the fill over all venues, says it could beat the best plan.
"""

from __future__ import annotations

import math
import time
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from heapq import heapify, heappop, heappush
from itertools import accumulate, chain, islice, repeat
from operator import itemgetter, mul, neg, truediv
from typing import Any, overload

from ..book.consolidated import BASE_UNITS, ConsolidatedBook, SizeUnit
from ..book.l2 import L2Book
from ..errors import InvalidOrder
from ..model import Side

_EPS = 1e-12
_FIRST_READ = 8  # levels a venue's ladder reads first; deeper chunks only as the plan needs them
_READ_GROWTH = 16  # a chunk read toward a guessed key is at most this many times what is read so far
_GUESS_STEPS = 5  # false-position steps narrowing a guessed key

Chunk = tuple[list[float], list[float], bool]  # prices, base sizes, whether more levels follow


class BookLevels(Sequence[tuple[float, float]]):
    """The levels an order of ``side`` takes from a live L2Book (a buy takes asks) as
    (price, size in base units), best first. Nothing is copied up front: the planner reads the
    book in chunks as deep as the plan needs, so the view always shows the book as it is now."""

    __slots__ = ("book", "taken", "unit")

    def __init__(self, book: L2Book, side: Side, unit: SizeUnit = BASE_UNITS) -> None:
        self.book = book
        self.taken = Side.SELL if side is Side.BUY else Side.BUY  # L2Book's sides: BUY = bids
        self.unit = unit

    def chunk(self, start: int, stop: int) -> Chunk:
        """The live levels among the book's slots ``[start, stop)`` of the side (see
        ``L2Book.slot_levels``), sizes converted to base units."""
        prices, sizes = self.book.slot_levels(self.taken, start, stop)
        return prices, self._base_sizes(prices, sizes), stop < self.book.slots(self.taken)

    def slot_chunk(self, start: int, stop: int) -> Chunk:
        """``chunk`` with every slot kept, a deleted level's as a level of size 0 (see
        ``L2Book.slot_sizes``): the planner's read, which needs no filtering."""
        prices, sizes = self.book.slot_sizes(self.taken, start, stop)
        return prices, self._base_sizes(prices, sizes), stop < self.book.slots(self.taken)

    def slots_within(self, price: float) -> int:
        """The number of slots from the best priced ``price`` or better."""
        return self.book.slots_within(self.taken, price)

    def _base_sizes(self, prices: list[float], sizes: list[float]) -> list[float]:
        unit = self.unit
        if unit.inverse:
            return list(map(truediv, map(mul, sizes, repeat(unit.contract_size)), prices))
        if unit.contract_size != 1.0:
            return list(map(mul, sizes, repeat(unit.contract_size)))
        return sizes

    def __len__(self) -> int:
        return self.book.levels(self.taken)

    def __iter__(self) -> Iterator[tuple[float, float]]:
        start, step, more = 0, _FIRST_READ, True
        while more:
            prices, sizes, more = self.chunk(start, start + step)
            yield from zip(prices, sizes, strict=True)
            start += step
            step *= 2

    @overload
    def __getitem__(self, index: int) -> tuple[float, float]: ...

    @overload
    def __getitem__(self, index: slice) -> list[tuple[float, float]]: ...

    def __getitem__(self, index: int | slice) -> tuple[float, float] | list[tuple[float, float]]:
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            if step < 0:
                return list(self)[index]
            return list(islice(self, start, stop, step))
        if index < 0:
            index += len(self)
        level = next(islice(self, index, None), None) if index >= 0 else None
        if level is None:
            raise IndexError(f"{self.book.venue}:{self.book.symbol} has no level {index}")
        return level


@dataclass(frozen=True, slots=True)
class VenueSide:
    """One venue's liquidity on the side the parent order takes, and what its child orders obey."""

    venue: str
    levels: Sequence[tuple[float, float]]  # (price, size in base units), best first; BookLevels: a live book
    fee_rate: float  # taker, proportional to the notional
    lot: float = 0.0  # amount grid in base units; 0: continuous
    min_amount: float = 0.0
    min_notional: float = 0.0
    max_amount: float = math.inf  # per child order
    available: float = math.inf  # base units the account can trade there now (balance)
    fixed_cost: float = 0.0  # quote, per child order (gas)
    max_orders: int = 1  # child orders the venue's rate-limit budget allows now

    @classmethod
    def from_book(
        cls,
        book: L2Book,
        side: Side,
        fee_rate: float,
        *,
        unit: SizeUnit = BASE_UNITS,
        venue: str | None = None,
        lot: float = 0.0,
        min_amount: float = 0.0,
        min_notional: float = 0.0,
        max_amount: float = math.inf,
        available: float = math.inf,
        fixed_cost: float = 0.0,
        max_orders: int = 1,
    ) -> VenueSide:
        """The venue an order of ``side`` would take liquidity from, read live from ``book``
        (sizes in ``unit``). The caller decides the book is fit to read (see live_venue_sides)."""
        return cls(
            book.venue if venue is None else venue, BookLevels(book, side, unit), fee_rate, lot, min_amount,
            min_notional, max_amount, available, fixed_cost, max_orders,
        )

    @property
    def capacity(self) -> float:
        return min(self.available, self.max_amount * self.max_orders)


def live_venue_sides(
    book: ConsolidatedBook,
    side: Side,
    *,
    now: float | None = None,
    rules: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[VenueSide]:
    """A VenueSide per venue of ``book`` whose L2Book is LIVE now, with its taker fee and size
    unit; ``rules`` gives per venue the other VenueSide fields (lot, min_notional, ...). Syncing,
    resyncing and stale books are left out: a plan never reads them."""
    rules = rules or {}
    sides = []
    for venue, l2 in book.live_books(time.time() if now is None else now).items():
        vs = VenueSide.from_book(l2, side, book.taker_fees[venue], unit=book.units[venue], venue=venue)
        sides.append(replace(vs, **rules[venue]) if venue in rules else vs)
    return sides


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
        filled: float = 0  # summed in the children's order from 0, as sum() would
        notional: float = 0
        costs: float = 0
        for c in self.children:
            filled += c.amount
            notional += c.expected_vwap * c.amount
            costs += c.fee + c.fixed_cost
        object.__setattr__(self, "filled", filled)
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
    proportional = max_venues is None and not any(v.fixed_cost or v.lot or v.min_amount or v.min_notional for v in venues)
    if proportional:
        quick = _small_greedy(side, amount, venues, limit)
        if quick is not None:
            return quick
    ladders = _ladders(side, venues, limit)
    best, key = _valid_plan(side, amount, ladders, limit)
    if proportional:
        return best  # proportional costs only: the greedy fill is optimal
    best = _drop_venues(side, amount, ladders, best, key, limit, max_venues)
    single = _best_single(side, amount, ladders, limit, best)
    return single if single is not None and single.better_than(best) else best


# levels the small-order path pops before it hands the order to the general path
_SMALL_POPS = 32


def _small_greedy(side: Side, amount: float, venues: Sequence[VenueSide], limit: float | None) -> Plan | None:
    """The greedy fill of a small order with proportional costs, straight from the live books: a
    heap over each venue's best fee-adjusted level, reading the next level of a venue only when
    the heap takes its current one. None when a venue is not a base-unit live book or the order
    needs more than _SMALL_POPS levels (the general path reads deep books in chunks, faster)."""
    buy = side is Side.BUY
    heap: list[tuple[float, int, int, float, float]] = []
    raws = []
    for i, v in enumerate(venues):
        levels = v.levels
        if type(levels) is not BookLevels or levels.unit.inverse or levels.unit.contract_size != 1.0:
            return None
        raw = levels.book.raw_side(levels.taken)
        raws.append(raw)
        top = _next_level(raw, len(raw[0]) - 1, v.fee_rate, buy, limit)
        if top is not None:
            heap.append((top[0], i, top[1], top[2], top[3]))
    heapify(heap)
    shares = [0.0] * len(venues)
    notionals = [0.0] * len(venues)
    left = amount
    pops = 0
    while heap and left > _EPS:
        pops += 1
        if pops > _SMALL_POPS:
            return None
        _, i, j, price, size = heappop(heap)
        v = venues[i]
        room = v.capacity - shares[i]
        take = min(left, size, room)
        if take > 0:
            shares[i] += take
            notionals[i] += take * price
            left -= take
        if room - take > _EPS:
            deeper = _next_level(raws[i], j - 1, v.fee_rate, buy, limit)
            if deeper is not None:
                heappush(heap, (deeper[0], i, deeper[1], deeper[2], deeper[3]))
    children = []
    for v, share, notional in zip(venues, shares, notionals, strict=True):
        if share > 0:
            vwap = notional / share
            orders = _orders(v, share)
            children.append(Child(v.venue, share, vwap, vwap * share * v.fee_rate, v.fixed_cost * orders, orders))
    return Plan(side, amount, tuple(children), limit)


def _next_level(raw: tuple[list[float], dict[float, float], float], j: int, fee_rate: float, buy: bool,
                limit: float | None) -> tuple[float, int, float, float] | None:
    """The best live level at slot ``j`` or deeper (keys run from the worst to the best, so deeper
    is a lower ``j``), as (fee-adjusted heap key, its slot, price, size); None past the limit or
    at the book's end."""
    keys, sizes, sign = raw
    while j >= 0:
        price = sign * keys[j]
        size = sizes.get(price)
        if size is not None:
            if limit is not None and (price > limit if buy else price < limit):
                return None
            return (price * (1 + fee_rate) if buy else -price * (1 - fee_rate)), j, price, size
        j -= 1
    return None


def best_single_venue(side: Side, amount: float, venues: Sequence[VenueSide], *, limit: float | None = None) -> Plan | None:
    """The cheapest plan that fills ``amount`` on one venue alone, what the router's saving is
    measured against; None when no venue can (depth, balance, limit). A venue fills it alone when
    it fills all but less than one of its own lots: an amount off its grid (a notional's) is
    filled to the lot below, and a finer-lot venue filling that sliver too does not make it the
    best whatever its price."""
    best: Plan | None = None
    for L in _ladders(side, venues, limit):
        single, _ = _valid_plan(side, amount, [L], limit)
        if not single.children or amount - single.filled >= max(L.v.lot, _EPS * max(1.0, amount)):
            continue
        if best is None or _cheaper(single, best):
            best = single
    return best


def _cheaper(a: Plan, b: Plan) -> bool:
    """Whether ``a``'s all-in price per unit is better than ``b``'s (lower for a buy)."""
    pa, pb = a.all_in_price, b.all_in_price
    assert pa is not None and pb is not None
    return pa < pb if a.side is Side.BUY else pa > pb


# ---- a venue's levels, read lazily -----------------------------------------------------------


def _sequence_chunk(levels: Sequence[tuple[float, float]], start: int, stop: int) -> Chunk:
    part = levels[start:stop]
    return [p for p, _ in part], [q for _, q in part], stop < len(levels)


def _sequence_within(levels: Sequence[tuple[float, float]], buy: bool, price: float) -> int:
    if buy:
        return bisect_right(levels, price, key=itemgetter(0))
    return bisect_right(levels, -price, key=_negated_price)


def _negated_price(level: tuple[float, float]) -> float:
    return -level[0]


class _Ladder:
    """A venue's levels for one plan, read as deep as the plan needs: prices best first, their
    sizes, their fee-adjusted keys (ascending, better first: a buy's ``price x (1 + fee)``, a
    sell's ``-price x (1 - fee)``), and cumulative sizes and notionals (index k: the first k
    levels; notionals are summed only when asked for). A book's deleted levels still holding a
    slot read as levels of size 0. Levels past the limit price are never read."""

    __slots__ = (
        "_buy",
        "_cn",
        "_limit",
        "_pos",
        "_read",
        "_within",
        "cap",
        "cq",
        "done",
        "factor",
        "keys",
        "px",
        "qs",
        "v",
    )

    def __init__(self, v: VenueSide, side: Side, limit: float | None) -> None:
        self.v = v
        self.cap = v.capacity
        self._buy = buy = side is Side.BUY
        self.factor = (1 + v.fee_rate) if buy else -(1 - v.fee_rate)  # key per price; signed cost per notional
        self._limit = limit
        self.px: list[float] = []
        self.qs: list[float] = []
        self.keys: list[float] = []
        self.cq = [0.0]
        self._cn = [0.0]
        self.done = False
        self._pos = 0
        levels = v.levels
        if isinstance(levels, BookLevels):
            self._read: Callable[[int, int], Chunk] = levels.slot_chunk
            self._within: Callable[[float], int] = levels.slots_within
        else:
            self._read = partial(_sequence_chunk, levels)
            self._within = partial(_sequence_within, levels, buy)
        self._more(_FIRST_READ)

    def _more(self, n: int) -> None:
        prices, sizes, more = self._read(self._pos, self._pos + n)
        self._pos += n
        limit = self._limit
        if limit is not None and prices:
            cut = bisect_right(prices, limit) if self._buy else bisect_right(prices, -limit, key=neg)
            if cut < len(prices):
                del prices[cut:], sizes[cut:]
                more = False
        self.done = not more
        self.px += prices
        self.qs += sizes
        self.keys += map(mul, prices, repeat(self.factor))
        self.cq[-1:] = accumulate(sizes, initial=self.cq[-1])

    def notionals(self, j: int) -> list[float]:
        """Cumulative notionals of the levels read, at least up to index ``j`` (index k: the first
        k levels): summed only as deep as a plan asks."""
        cn = self._cn
        k = len(cn) - 1
        if k < j:
            cn[-1:] = accumulate(map(mul, self.px[k:j], self.qs[k:j]), initial=cn[-1])
        return cn

    def _next_read(self, levels_wanted: float) -> int:
        return max(_FIRST_READ, int(levels_wanted * 1.25) + 8)

    def horizon(self) -> float:
        return self.keys[-1] if self.keys else -math.inf

    def read_amount(self, amount: float) -> None:
        """Read until the levels read hold ``amount`` (or the side ends)."""
        while not self.done and self.cq[-1] < amount - _EPS:
            per_level = self.cq[-1] / len(self.px) if self.px else 0.0
            self._more(self._next_read((amount - self.cq[-1]) / per_level if per_level > 0 else 0.0))

    def slots_to(self, key: float) -> int:
        """The venue's slots (levels, for a sequence) from the best whose key is about ``key``
        or better: located on its own price order, nothing read."""
        return self._within(key / self.factor)

    def read_toward(self, key: float) -> None:
        """Read the slots up to ``key``, at least one and at most ``_READ_GROWTH`` times as many
        as read so far (a far guess must not read a whole book the plan does not need)."""
        wanted = self._within(key / self.factor) - self._pos
        self._more(min(max(wanted, 1), max(_FIRST_READ, _READ_GROWTH * self._pos)))

    def next_key(self, key: float) -> float:
        """The key of the first level worse than ``key``; inf if there is none."""
        while True:
            k = bisect_right(self.keys, key)
            if k < len(self.keys):
                return self.keys[k]
            if self.done:
                return math.inf
            self._more(max(_FIRST_READ, len(self.px)))

    def _index(self, amount: float) -> int:
        """The number of levels taking ``amount`` reaches into; len(cq) if they hold less."""
        self.read_amount(amount)
        return bisect_left(self.cq, amount - _EPS, 1)

    def notional(self, amount: float) -> float:
        """The notional of taking ``amount`` from the top; NaN past the levels."""
        if amount <= 0:
            return 0.0
        j = self._index(amount)
        if j == len(self.cq):
            return math.nan
        cq = self.cq
        return self.notionals(j - 1)[j - 1] + (min(amount, cq[j]) - cq[j - 1]) * self.px[j - 1]

    def signed_cost(self, amount: float) -> float:
        """What taking ``amount`` costs, fees in, as a number to minimise: a buy's cost, a sell's
        proceeds negated (no fixed costs)."""
        return self.factor * self.notional(amount)


def _ladders(side: Side, venues: Sequence[VenueSide], limit: float | None) -> list[_Ladder]:
    return [_Ladder(v, side, limit) for v in venues if v.capacity > 0 and v.max_orders > 0]


# ---- the greedy fill -----------------------------------------------------------------------------


def _filled_below(ladders: Sequence[_Ladder], key: float) -> float:
    return sum(min(L.cap, L.cq[bisect_left(L.keys, key)]) for L in ladders)


def _filled_to(ladders: Sequence[_Ladder], key: float) -> float:
    return sum(min(L.cap, L.cq[bisect_right(L.keys, key)]) for L in ladders)


def _read_enough(ladders: Sequence[_Ladder], target: float) -> float:
    """Read the ladders until the levels read decide the greedy fill of ``target``: the capped
    depth strictly better than the first level not read reaches it, or nothing more can add.
    Returns the key below which the levels read are all there is (inf: everything is read)."""
    while True:
        unread = [L for L in ladders if not L.done and L.cq[-1] < L.cap]
        if not unread:
            return math.inf
        horizon = min(L.keys[-1] for L in unread)
        filled = _filled_below(ladders, horizon)
        if filled >= target:
            return horizon
        guess = _depth_guess(ladders, target, horizon, filled)
        for L in unread:
            if L.keys[-1] <= guess:
                L.read_toward(guess)


def _estimated_depth(ladders: Sequence[_Ladder], key: float) -> float:
    """The capped depth up to ``key``: the levels read, and past them each book's slots up to
    ``key`` (a bisection of its price order, nothing read) times its mean size per slot read."""
    total = 0.0
    for L in ladders:
        q = L.cq[bisect_right(L.keys, key)]
        if not L.done and q < L.cap and L.keys[-1] < key:
            q += max(0, L.slots_to(key) - len(L.px)) * q / len(L.px)
        total += min(L.cap, q)
    return total


def _depth_guess(ladders: Sequence[_Ladder], target: float, lo: float, lo_depth: float) -> float:
    """A key where the estimated depth (see _estimated_depth) reaches ``target``, from ``lo``
    where the depth known is ``lo_depth`` (short of it): bracketed by doubling the step, then
    narrowed by a few false-position (Illinois) steps."""
    if _estimated_depth(ladders, math.inf) < target:
        return math.inf
    first = min(L.keys[0] for L in ladders if L.keys)
    span = lo - first
    step = max(span, abs(lo) * 1e-06) if span <= 0 or lo_depth <= 0 else span * (target - lo_depth) / lo_depth
    hi = lo + step
    hi_depth = _estimated_depth(ladders, hi)
    while hi_depth < target:
        lo, lo_depth = hi, hi_depth
        step *= 2
        hi = lo + step
        hi_depth = _estimated_depth(ladders, hi)
    low, high, retained = lo_depth - target, hi_depth - target, 0  # Illinois: halve a retained end's weight
    for _ in range(_GUESS_STEPS):
        key = lo - low * (hi - lo) / (high - low)
        if not lo < key < hi:
            break
        off = _estimated_depth(ladders, key) - target
        if off >= 0:
            hi, high = key, off
            low = low / 2 if retained < 0 else low
            retained = -1
        else:
            lo, low = key, off
            high = high / 2 if retained > 0 else high
            retained = 1
    return hi


def _threshold(ladders: Sequence[_Ladder], target: float, bound: float, floor: float) -> float | None:
    """The best key at which the ladders' capped depth reaches ``target``, known to be under
    ``bound`` unless that is inf; None if it never does. ``floor``: a key thought to be no worse
    (used when the depth better than it is indeed short of ``target``)."""
    if bound == math.inf and sum(min(L.cap, L.cq[-1]) for L in ladders) < target:
        return None
    lo_fill = _filled_below(ladders, floor) if floor > -math.inf else 0.0
    if lo_fill >= target:
        floor, lo_fill = -math.inf, 0.0
    keys = sorted(chain.from_iterable(L.keys[bisect_left(L.keys, floor) : bisect_left(L.keys, bound)] for L in ladders))
    # the first key whose fill reaches target; the fill grows about evenly along the merged keys,
    # so interpolation finds it in a few steps (bisection steps between them bound the worst case)
    lo, hi = 0, len(keys) - 1
    hi_fill = _filled_to(ladders, keys[hi])
    interpolate = True
    while lo < hi:
        if interpolate and hi_fill > lo_fill:
            mid = min(max(lo + int((target - lo_fill) / (hi_fill - lo_fill) * (hi - lo)), lo), hi - 1)
        else:
            mid = (lo + hi) // 2
        interpolate = not interpolate
        fill = _filled_to(ladders, keys[mid])
        if fill >= target:
            hi, hi_fill = mid, fill
        else:
            lo, lo_fill = mid + 1, fill
    return keys[lo]


def _greedy(ladders: Sequence[_Ladder], amount: float, floor: float = -math.inf) -> tuple[list[float], float | None]:
    """The shares (aligned with ``ladders``) of taking the best fee-adjusted levels across the
    ladders, each up to its capacity, until ``amount`` or the liquidity runs out; and the key of
    the last level taken (None when the liquidity ran out). Levels at that same key go to the
    venues in their order. ``floor``: a key likely no worse than the last one taken (the last
    key of a greedy fill of about as much on a superset of the ladders), see _threshold."""
    target = amount - _EPS
    if target <= 0:
        return [0.0] * len(ladders), None
    key = _threshold(ladders, target, _read_enough(ladders, target), floor)
    if key is None:
        return [min(L.cap, L.cq[-1]) for L in ladders], None
    shares = [min(L.cap, L.cq[bisect_left(L.keys, key)]) for L in ladders]
    left = amount - sum(shares)
    for i, L in enumerate(ladders):
        if left <= _EPS:
            break
        extra = min(left, min(L.cap, L.cq[bisect_right(L.keys, key)]) - shares[i])
        if extra > 0:
            shares[i] += extra
            left -= extra
    return shares, key


# ---- valid plans ------------------------------------------------------------------------------


def _valid_plan(
    side: Side, amount: float, ladders: Sequence[_Ladder], limit: float | None, floor: float = -math.inf
) -> tuple[Plan, float]:
    """Greedy by fee-adjusted price under each venue's cap, then lots and minimums; venues whose
    share is invalid are left out and the amount re-planned on the rest. With the plan, the last
    key of its greedy fill (-inf if the liquidity ran out), a floor for fills on fewer venues
    (``floor``: see _greedy)."""
    active = list(ladders)
    while True:
        shares, key = _greedy(active, amount, floor)
        floor = -math.inf if key is None else key
        rounded = [_round_down(s, L.v.lot) for s, L in zip(shares, active, strict=True)]
        keep = [i for i, L in enumerate(active) if not shares[i] > 0 or _valid_share(L, rounded[i])]
        if len(keep) == len(active):
            break
        active = [active[i] for i in keep]
    if any(L.v.lot > 0 for L in active):
        rounded = _top_up(side, amount, active, rounded)
    children = tuple(_child(L, a) for L, a in zip(active, rounded, strict=True) if a > 0)
    return Plan(side, amount, children, limit), floor


def _top_up(side: Side, amount: float, ladders: Sequence[_Ladder], shares: list[float]) -> list[float]:
    """Lot rounding leaves part of the amount unplanned: add whole lots where the next lot is
    cheapest, while liquidity, capacity and the amount allow."""
    shares = list(shares)
    lot_price: dict[int, float | None] = {}  # a lot venue's next lot's price per unit, until its share changes
    while True:
        left = amount - sum(shares)
        best: tuple[float, int] | None = None
        for i, L in enumerate(ladders):
            lot = L.v.lot
            step = lot if lot > 0 else left
            if step <= _EPS or step > left + _EPS:
                continue
            if lot > 0:
                if i not in lot_price:
                    lot_price[i] = _step_price(side, L, shares[i], step)
                unit = lot_price[i]
            else:
                unit = _step_price(side, L, shares[i], step)
            if unit is not None and (best is None or (unit < best[0] if side is Side.BUY else unit > best[0])):
                best = (unit, i)
        if best is None:
            return shares
        i = best[1]
        lot = ladders[i].v.lot
        shares[i] += lot if lot > 0 else left
        lot_price.pop(i, None)


def _step_price(side: Side, L: _Ladder, now: float, step: float) -> float | None:
    """The all-in price per unit of adding ``step`` to a share of ``now``; None if it cannot be."""
    if now + step > L.cap + _EPS or (now == 0 and not _valid_share(L, step)):
        return None
    marginal = _value(side, L, now + step) - _value(side, L, now)
    return None if math.isnan(marginal) else marginal / step


def _valid_share(L: _Ladder, share: float) -> bool:
    v = L.v
    if share <= 0 or share < v.min_amount - _EPS:
        return False
    notional = L.notional(share)
    return not math.isnan(notional) and notional >= v.min_notional - _EPS


def _round_down(share: float, lot: float) -> float:
    if lot <= 0:
        return share
    return math.floor(share / lot + 1e-9) * lot


def _orders(v: VenueSide, amount: float) -> int:
    return max(1, math.ceil(amount / v.max_amount - 1e-9)) if amount > 0 else 0


def _value(side: Side, L: _Ladder, amount: float) -> float:
    """What taking ``amount`` on ``L`` costs a buyer (notional + fee + fixed) or nets a seller
    (notional - fee - fixed); NaN past the venue's liquidity."""
    if amount <= 0:
        return 0.0
    v = L.v
    notional = L.notional(amount)
    if side is Side.BUY:
        return notional * (1 + v.fee_rate) + v.fixed_cost * _orders(v, amount)
    return notional * (1 - v.fee_rate) - v.fixed_cost * _orders(v, amount)


def _child(L: _Ladder, amount: float) -> Child:
    v = L.v
    vwap = L.notional(amount) / amount
    orders = _orders(v, amount)
    return Child(v.venue, amount, vwap, vwap * amount * v.fee_rate, v.fixed_cost * orders, orders)


# ---- dropping venues, single venues ----------------------------------------------------------


def _signed(p: Plan) -> float:
    return p.cost if p.side is Side.BUY else -p.cost


def _fill_ceiling(ladders: Sequence[_Ladder], amount: float) -> float:
    """An upper bound on what any plan on these venues fills (whole lots when they share one)."""
    ceiling = min(amount + _EPS, sum(L.cap for L in ladders))
    lots = {L.v.lot for L in ladders}
    lot = lots.pop() if len(lots) == 1 else 0.0
    return _round_down(ceiling, lot) if lot > 0 else ceiling


def _bounded(bar: Plan, ceiling: float) -> bool:
    """Whether plans filling at most ``ceiling`` must tie ``bar``'s fill to beat it, so a lower
    bound on their cost decides."""
    return ceiling <= bar.filled + _EPS * max(1.0, bar.amount)


def _margin(p: Plan) -> float:
    """Float noise and fill tolerance allowance of a lower bound on a plan's cost next to ``p``'s."""
    price = abs(p.cost) / p.filled if p.filled > 0 else 0.0
    return 1e-9 * abs(p.cost) + 4 * _EPS * max(1.0, p.amount) * price


def _drop_venues(
    side: Side, amount: float, ladders: list[_Ladder], best: Plan, floor: float, limit: float | None,
    max_venues: int | None,
) -> Plan:
    """Drop venues while that makes the plan cheaper, or while there are too many: each round
    tries the plan without each venue used and takes the best (any, when too many are used).
    ``floor``: the last key of ``best``'s greedy fill (see _greedy)."""
    candidates = ladders
    while True:
        names = {c.venue for c in best.children}
        used = [L for L in candidates if L.v.venue in names]
        too_many = max_venues is not None and len(used) > max_venues
        chosen: Plan | None = None
        chosen_floor = floor
        ceiling = _fill_ceiling(used, amount)
        bounds, key = _drop_bounds(ceiling, used, floor)
        floor = -math.inf if key is None else key
        for bound, dropped in bounds:
            bar = best if chosen is None and not too_many else chosen
            if bar is not None and _bounded(bar, ceiling) and bound - _margin(bar) >= _signed(bar):
                break  # ordered by bound: no later trial can be better either
            trial, trial_floor = _valid_plan(side, amount, [L for L in used if L is not dropped], limit, floor)
            if (too_many or trial.better_than(best)) and (chosen is None or trial.better_than(chosen)):
                chosen, chosen_floor = trial, trial_floor
        if chosen is None:
            return best
        best, floor = chosen, chosen_floor
        candidates = used


def _drop_bounds(amount: float, used: list[_Ladder], floor: float) -> tuple[list[tuple[float, _Ladder]], float | None]:
    """For each venue used, a lower bound on the signed cost of filling ``amount`` without it, in
    increasing order; and the last key of the greedy fill of ``amount`` on all of them. Without
    venue d the others take d's greedy share beyond their own greedy shares, at keys no better
    than the last one taken: those tied with it that are left, then the best key past it.
    ``floor``: see _greedy."""
    shares, key = _greedy(used, amount, floor)
    if key is None:  # the venues together fill less than asked: no bound, try every one
        return [(-math.inf, L) for L in used], None
    total = sum(L.signed_cost(s) for L, s in zip(used, shares, strict=True))
    tied = [min(L.cap, L.cq[bisect_right(L.keys, key)]) - s for L, s in zip(used, shares, strict=True)]
    past = [L.next_key(key) if s < L.cap - _EPS else math.inf for L, s in zip(used, shares, strict=True)]
    tied_total = sum(tied)
    bounds = []
    for i, L in enumerate(used):
        share = shares[i]
        at_key = min(tied_total - tied[i], share)
        next_best = min(past[:i] + past[i + 1 :], default=math.inf)
        rest = share - at_key
        replaced = at_key * key + (rest * next_best if rest > _EPS * max(1.0, amount) else 0.0)
        bounds.append((total - L.signed_cost(share) + replaced, L))
    bounds.sort(key=lambda b: b[0])
    return bounds, key


def _best_single(side: Side, amount: float, ladders: Sequence[_Ladder], limit: float | None, rival: Plan | None) -> Plan | None:
    """The best plan on one venue; venues that cannot beat ``rival`` may be skipped (None then)."""
    found: Plan | None = None
    for L in ladders:
        bar = rival if found is None or (rival is not None and rival.better_than(found)) else found
        ceiling = _fill_ceiling([L], amount)
        if bar is not None and _bounded(bar, ceiling) and not _single_could_beat(L, ceiling, bar):
            continue
        p, _ = _valid_plan(side, amount, [L], limit)
        if p.children and (found is None or p.better_than(found)):
            found = p
    return found


def _single_could_beat(L: _Ladder, ceiling: float, bar: Plan) -> bool:
    """Whether venue ``L`` alone, filling at most ``ceiling``, might tie ``bar``'s fill for less:
    a lower bound from the levels read so far (the rest no better than the last read), then
    from its own depth."""
    if ceiling <= 0 or ceiling < bar.filled - _EPS * max(1.0, bar.amount):
        return False
    fixed = L.v.fixed_cost * _orders(L.v, ceiling)
    read = L.cq[-1]
    if read < ceiling and L.keys:
        bound = L.signed_cost(read) + (ceiling - read) * L.keys[-1] + fixed
        if bound - _margin(bar) >= _signed(bar):
            return False
    bound = L.signed_cost(ceiling)
    return not math.isnan(bound) and bound + fixed - _margin(bar) < _signed(bar)
