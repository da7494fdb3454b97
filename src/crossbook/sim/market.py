"""Synthetic markets: a shared random-walk fair price per asset, and per venue and symbol a ladder
of hundreds of levels around it with the venue's own offset and spread. Deterministic for a seed.

Prices and sizes are kept as integer ticks and lots, so each venue module formats exact strings
in its own style (Binance "60000.01000000", OKX "60000.1", ...).
"""

from __future__ import annotations

import math
import random
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime

from ..errors import ConfigError, UnknownSymbol, UnknownVenue
from ..model import Kind
from ..symbols import parse_option, parse_standard
from ..venues.registry import venue_of
from .options import EXPIRY_HOUR, OptionSeries, fair_value

Change = tuple[bool, int, int]  # (is_bid, ticks, public lots at that level); 0 removes the level


@dataclass(frozen=True, slots=True)
class SimTrade:
    """A public trade: ``lots`` at ``ticks``, the taker buying if ``buy``."""

    ticks: int
    lots: int
    buy: bool
    trade_id: int


@dataclass(frozen=True, slots=True)
class MarketSpec:
    """``in_base``: prices are quoted in the base asset (OKX's coin-margined options)."""

    symbol: str
    tick: float
    lot: float
    in_base: bool = False


# Standard symbols the simulator can list; each venue module picks the ones it lists.
CATALOG: dict[str, MarketSpec] = {
    s.symbol: s
    for s in (
        MarketSpec("BTC-USDT", 0.01, 0.00001),
        MarketSpec("ETH-USDT", 0.01, 0.0001),
        MarketSpec("SOL-USDT", 0.01, 0.001),
        MarketSpec("ETH-BTC", 0.00001, 0.0001),
        MarketSpec("BTC-USD", 0.01, 0.00001),
        MarketSpec("ETH-USD", 0.01, 0.0001),
        MarketSpec("BTC-USDC", 0.01, 0.00001),
        MarketSpec("BTC-USDT-PERP", 0.1, 0.001),
        MarketSpec("ETH-USDT-PERP", 0.01, 0.01),
        MarketSpec("BTC-USD-PERP", 0.1, 0.0001),
        MarketSpec("ETH-USD-PERP", 0.01, 0.001),
        MarketSpec("USDC-USDT", 0.0001, 0.01),  # the conversion pairs between quote currencies
        MarketSpec("USDT-USD", 0.0001, 0.01),
    )
}

START_USD = {"BTC": 60000.0, "ETH": 3000.0, "SOL": 150.0, "USDT": 1.0004, "USDC": 0.9998, "USD": 1.0}
STABLE = {"USDT", "USDC", "USD"}
PEGGED = {"USDT", "USDC"}  # stablecoins that drift around 1 USD; USD itself is the unit
PEG_BAND = 1e-3  # a stablecoin never strays further than this from 1 USD


def decimals(step: float) -> int:
    """Decimal places of a tick or lot such as 0.00001 -> 5."""
    text = f"{step:.12f}".rstrip("0")
    return len(text.split(".")[1]) if "." in text else 0


BASIS = 2e-4  # where a perpetual's premium over spot settles
BASIS_BAND = (-8e-4, 12e-4)  # and how far it strays


class FairPrices:
    """A random walk per non-stable asset in USD, and a small one around the peg per stablecoin
    (pulled back to where it started, never outside PEG_BAND); a pair's fair price is base / quote.
    A perpetual trades at a premium per asset that wanders slowly around BASIS (its own random
    stream, so the spot walk is the same with or without it); an option is worth its Black-76 value
    on the perpetual's fair price."""

    def __init__(self, rng: random.Random, vol_bps: float = 0.5, peg_vol_bps: float = 0.05,
                 basis_rng: random.Random | None = None) -> None:
        self.rng = rng
        self.basis_rng = basis_rng or random.Random(0)
        self.vol = vol_bps / 1e4
        self.peg_vol = peg_vol_bps / 1e4
        self.usd = dict(START_USD)
        self.basis = {asset: BASIS for asset in START_USD if asset not in STABLE}

    def step(self) -> None:
        for asset, price in self.usd.items():
            if asset in PEGGED:
                drifted = price + 0.02 * (START_USD[asset] - price) + self.rng.gauss(0.0, self.peg_vol)
                self.usd[asset] = min(1.0 + PEG_BAND, max(1.0 - PEG_BAND, drifted))
            elif asset not in STABLE:
                self.usd[asset] = price * math.exp(self.rng.gauss(0.0, self.vol))
        for asset, basis in self.basis.items():
            moved = basis + 0.002 * (BASIS - basis) + self.basis_rng.gauss(0.0, 0.3e-4)
            self.basis[asset] = min(BASIS_BAND[1], max(BASIS_BAND[0], moved))

    def fair(self, symbol: str) -> float:
        base, quote, kind, _ = parse_standard(symbol)
        price = self.usd[base] / self.usd[quote]
        if kind is Kind.OPTION:
            return self.option_fair(symbol)
        return price * (1 + self.basis.get(base, BASIS)) if kind is Kind.PERP else price

    def option_fair(self, symbol: str) -> float:
        """The option's value in its quote currency per unit of underlying, never below 0."""
        option = parse_option(symbol)
        forward = self.fair(f"{option.base}-{option.quote}-PERP")
        expiry = datetime.strptime(option.expiry, "%Y%m%d").replace(hour=EXPIRY_HOUR, tzinfo=UTC)
        series = OptionSeries(option.base, option.expiry, expiry.timestamp(), option.strike, option.right)
        return fair_value(series, forward).price


class Ladder:
    """One venue's book for one symbol, in integer ticks and lots. ``step`` returns the level
    changes as (is_bid, ticks, lots) with lots == 0 for a deleted level."""

    def __init__(
        self,
        spec: MarketSpec,
        rng: random.Random,
        *,
        offset_bps: float,
        spread_bps: float,
        levels: int,
    ) -> None:
        self.spec = spec
        self.rng = rng
        self.offset_bps = offset_bps
        self.spread_bps = spread_bps
        self.target_levels = levels
        self.price_decimals = decimals(spec.tick)
        self.size_decimals = decimals(spec.lot)
        self.bids: dict[int, int] = {}  # the public book: market makers + resting user orders
        self.asks: dict[int, int] = {}
        self.user_bids: dict[int, int] = {}  # lots of resting user orders per level
        self.user_asks: dict[int, int] = {}
        self.gap = 1  # typical ticks between levels, about 0.05 bp of the price (set by seed)
        self.dislocation_bps = 0.0  # an extra offset from the fair price, set by ``dislocate``
        self._unshifted_bps = 0.0  # dislocation the quotes still have to move by at the next step

    # ---- formatting helpers for venue modules ------------------------------------------------

    def price(self, ticks: int) -> float:
        return round(ticks * self.spec.tick, self.price_decimals)

    def size(self, lots: int) -> float:
        return round(lots * self.spec.lot, self.size_decimals)

    def price_str(self, ticks: int, places: int | None = None) -> str:
        return f"{ticks * self.spec.tick:.{self.price_decimals if places is None else places}f}"

    def size_str(self, lots: int, places: int | None = None) -> str:
        return f"{lots * self.spec.lot:.{self.size_decimals if places is None else places}f}"

    # ---- dynamics ----------------------------------------------------------------------------

    def _targets(self, fair: float) -> tuple[int, int]:
        mid = fair * (1 + (self.offset_bps + self.dislocation_bps) / 1e4) / self.spec.tick
        half = max(1.0, mid * self.spread_bps / 2e4)
        # a price is at least one tick (a far out-of-the-money option is worth less than that)
        return max(1, math.floor(mid - half)), max(2, math.ceil(mid + half))

    def _lots(self) -> int:
        lots_per_unit = max(1, round(1 / self.spec.lot))
        return self.rng.randint(1, 4 * lots_per_unit) if self.rng.random() < 0.9 else self.rng.randint(1, 40 * lots_per_unit)

    def seed(self, fair: float) -> None:
        top_bid, top_ask = self._targets(fair)
        self.gap = max(1, round(fair * 0.05e-4 / self.spec.tick))
        self.bids.clear()
        self.asks.clear()
        px = top_bid
        for _ in range(self.target_levels):
            if px < 1:
                break
            self.bids[px] = self._lots()
            px -= self._spacing()
        px = top_ask
        for _ in range(self.target_levels):
            self.asks[px] = self._lots()
            px += self._spacing()

    def _spacing(self) -> int:
        return self.rng.randint(1, 2 * self.gap)

    def dislocate(self, bps: float) -> None:
        """Quote ``bps`` away from the fair price from the next step on (0 undoes it). That step
        moves every market-maker level by the change at once, so the whole book shifts cleanly."""
        self._unshifted_bps += bps - self.dislocation_bps
        self.dislocation_bps = bps

    def step(self, fair: float) -> list[Change]:
        """Move the market makers' quotes towards ``fair``; returns the public level changes."""
        if self._unshifted_bps:
            return self._shifted_step(fair)
        top_bid, top_ask = self._targets(fair)
        mm: dict[tuple[bool, int], int] = {}
        for px in [p for p in self.bids if p > top_bid and self.mm_lots(True, p)]:
            mm[(True, px)] = 0
        for px in [p for p in self.asks if p < top_ask and self.mm_lots(False, p)]:
            mm[(False, px)] = 0
        for is_bid, top, direction in ((True, top_bid, -1), (False, top_ask, 1)):
            if not self.mm_lots(is_bid, top):
                mm[(is_bid, top)] = self._lots()
            for _ in range(self.rng.randint(3, 8)):
                px = top + direction * self.rng.randint(0, 30 * self.gap)
                if px < 1:
                    continue
                if self.rng.random() < 0.2 and px != top:
                    if self.mm_lots(is_bid, px):
                        mm[(is_bid, px)] = 0
                else:
                    mm[(is_bid, px)] = self._lots()
        out = [self._set_mm(is_bid, px, lots) for (is_bid, px), lots in mm.items()]
        out.extend(self._refill())
        return out

    def _shifted_step(self, fair: float) -> list[Change]:
        """A step after ``dislocate``: the market makers' levels move by the pending dislocation
        (resting user orders stay where they are), then the usual step. Returns the net change of
        each level, as one update."""
        before = (dict(self.bids), dict(self.asks))
        ticks = round(fair * self._unshifted_bps / 1e4 / self.spec.tick)
        self._unshifted_bps = 0.0
        for book, user in ((self.bids, self.user_bids), (self.asks, self.user_asks)):
            moved = {px + ticks: lots - user.get(px, 0) for px, lots in book.items() if lots > user.get(px, 0)}
            book.clear()
            for px in moved.keys() | user.keys():
                book[px] = moved.get(px, 0) + user.get(px, 0)
        self.step(fair)
        return [
            (is_bid, px, now.get(px, 0))
            for is_bid, old, now in ((True, before[0], self.bids), (False, before[1], self.asks))
            for px in sorted(old.keys() | now.keys())
            if old.get(px, 0) != now.get(px, 0)
        ]

    def mm_lots(self, is_bid: bool, px: int) -> int:
        """The market makers' part of a level (the rest belongs to resting user orders)."""
        book, user = (self.bids, self.user_bids) if is_bid else (self.asks, self.user_asks)
        return book.get(px, 0) - user.get(px, 0)

    def _set_mm(self, is_bid: bool, px: int, lots: int) -> Change:
        book, user = (self.bids, self.user_bids) if is_bid else (self.asks, self.user_asks)
        return self._set_public(book, is_bid, px, lots + user.get(px, 0))

    @staticmethod
    def _set_public(book: dict[int, int], is_bid: bool, px: int, lots: int) -> Change:
        if lots:
            book[px] = lots
        else:
            book.pop(px, None)
        return is_bid, px, lots

    def take_mm(self, is_bid: bool, px: int, lots: int) -> Change:
        """A taker consumed ``lots`` of the market makers' part of a level."""
        return self._set_mm(is_bid, px, self.mm_lots(is_bid, px) - lots)

    def add_user(self, is_bid: bool, px: int, lots: int) -> Change:
        """A user order rests (``lots`` > 0) or leaves (``lots`` < 0) at a level."""
        book, user = (self.bids, self.user_bids) if is_bid else (self.asks, self.user_asks)
        mm = self.mm_lots(is_bid, px)
        left = user.get(px, 0) + lots
        if left:
            user[px] = left
        else:
            user.pop(px, None)
        return self._set_public(book, is_bid, px, mm + left)

    def _refill(self) -> list[Change]:
        """Keep the depth near its target: add levels at the far end, trim the far tail (the
        market makers' part only)."""
        out: list[Change] = []
        for is_bid, book in ((True, self.bids), (False, self.asks)):
            while len(book) < self.target_levels:
                far = (min(book, default=2) - self._spacing()) if is_bid else max(book) + self._spacing()
                if far < 1:
                    break
                out.append(self._set_mm(is_bid, far, self._lots()))
            extra = len(book) - self.target_levels - 20
            if extra > 0:
                tail = sorted(book)[:extra] if is_bid else sorted(book)[-extra:]
                out.extend(self._set_mm(is_bid, px, 0) for px in tail)
        return out

    def top(self, is_bid: bool, n: int) -> list[tuple[int, int]]:
        """Best ``n`` levels of one side as (ticks, lots), best first."""
        book = self.bids if is_bid else self.asks
        return [(px, book[px]) for px in sorted(book, reverse=is_bid)[:n]]


class SimMarket:
    """The shared fair prices plus every (venue, symbol) ladder."""

    def __init__(self, seed: int = 7, levels: int = 300) -> None:
        self.seed = seed
        self.levels = levels
        self.fair = FairPrices(random.Random(seed), basis_rng=random.Random(seed ^ 0xBA515))
        self.ladders: dict[tuple[str, str], Ladder] = {}

    def ladder(self, venue: str, symbol: str, spec: MarketSpec | None = None) -> Ladder:
        """``spec`` overrides the catalog's tick and lot (a venue quoting sizes in contracts)."""
        key = (venue, symbol)
        if key not in self.ladders:
            # a per-(venue, symbol) stream of randomness, independent of creation order
            rng = random.Random(zlib.crc32(f"{self.seed}:{venue}:{symbol}".encode()))
            option = parse_standard(symbol)[2] is Kind.OPTION
            ladder = Ladder(
                spec or CATALOG[symbol],
                rng,
                offset_bps=rng.uniform(-1.0, 1.0),
                # option market makers quote a few percent wide and a few levels deep
                spread_bps=rng.uniform(150.0, 400.0) if option else rng.uniform(0.2, 1.5),
                levels=min(self.levels, 20) if option else self.levels,
            )
            ladder.seed(self.fair_of(key, ladder))
            self.ladders[key] = ladder
        return self.ladders[key]

    def fair_of(self, key: tuple[str, str], ladder: Ladder) -> float:
        """The fair price of a (venue, symbol) ladder in its own price unit."""
        fair = self.fair.fair(key[1])
        if not ladder.spec.in_base:
            return fair
        base, quote, _, _ = parse_standard(key[1])
        return fair / self.fair.fair(f"{base}-{quote}-PERP")

    def dislocate(self, venue: str, bps: float, symbol: str | None = None) -> list[tuple[str, str]]:
        """Quote ``venue``'s books ``bps`` away from the fair price (0 undoes it) from the next
        tick on: every feed of the venue (``kraken``, or ``binance`` for spot, USD-M and COIN-M),
        or only ``symbol``. ``venue`` may also name one feed (``binanceusdm``). Returns the
        (feed, symbol) ladders it moved."""
        if not math.isfinite(bps):
            raise ConfigError(f"dislocation must be a finite number of bps, not {bps!r}")
        chosen = self.ladders_of(venue, symbol)
        for key in chosen:
            self.ladders[key].dislocate(bps)
        return chosen

    def ladders_of(self, venue: str, symbol: str | None = None) -> list[tuple[str, str]]:
        """The (feed, symbol) ladders of a venue id or feed id, all or only ``symbol``'s."""
        feeds = [key for key in self.ladders if venue in (key[0], venue_of(key[0]))]
        if not feeds:
            simulated = sorted({venue_of(f) for f, _ in self.ladders})
            raise UnknownVenue(f"no simulated venue {venue!r}; simulated: {', '.join(simulated)}")
        chosen = [key for key in feeds if symbol is None or key[1] == symbol.upper()]
        if not chosen:
            listed = sorted({s for _, s in feeds})
            raise UnknownSymbol(f"simulated {venue} lists no {symbol!r}; it lists {', '.join(listed)}")
        return chosen

    def advance(self) -> dict[tuple[str, str], list[Change]]:
        self.fair.step()
        return {key: ladder.step(self.fair_of(key, ladder)) for key, ladder in self.ladders.items()}
