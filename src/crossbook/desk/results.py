"""The desk's typed results beside ``Quote`` and ``ExecutionReport``: balances valued at live
prices, positions, and the arbitrage scanner's open/close events; each with ``to_json()``."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from ..arbitrage.model import Opportunity
from ..arbitrage.scanner import Event
from ..precision import DEFAULT_PRECISION
from ..trading.account import PositionView

FIAT_LIKE = frozenset({"USD", "USDT", "USDC", "EUR", "DAI", "FDUSD"})  # valued to the cent


def _num(value: Decimal | None) -> float | None:
    return None if value is None else DEFAULT_PRECISION.amount(float(value))


@dataclass(frozen=True, slots=True)
class BalanceRow:
    """One asset held in one wallet of one venue's (sub-)account, as the venue reports it (ccxt's
    free / used / total), and its value in the report's currency at live prices (None: no live
    price). ``wallet``: ``spot``, a derivatives wallet (Binance ``usdm``, ``coinm``; ``perp``), or
    the one wallet of a venue whose account is unified or trades perpetuals only."""

    venue: str
    account: str
    asset: str
    free: Decimal
    used: Decimal
    total: Decimal
    value: float | None
    wallet: str = "spot"

    @property
    def label(self) -> str:
        return f"{self.venue}/{self.account} {self.wallet}"


@dataclass(frozen=True, slots=True)
class BalanceReport:
    value_in: str
    rows: tuple[BalanceRow, ...]
    unavailable: dict[str, str]  # "venue/account wallet" -> why its balance could not be read
    primary: dict[str, str] = field(default_factory=dict)  # venue -> the wallet its spot orders pay from

    @property
    def total(self) -> float:
        """Everything held, valued in ``value_in``; assets without a live price are left out
        (``unvalued``)."""
        return sum(r.value for r in self.rows if r.value is not None)

    @property
    def unvalued(self) -> list[str]:
        return sorted({r.asset for r in self.rows if r.value is None})

    def _money(self, value: float | None) -> float | None:
        return None if value is None else round(value, 2 if self.value_in in FIAT_LIKE else 8)

    def _in_primary(self, row: BalanceRow) -> bool:
        return row.wallet == self.primary.get(row.venue, row.wallet)

    def available(self, account: str = "main") -> dict[str, dict[str, float]]:
        """venue -> asset -> free, in ``account``'s primary wallet on each venue (what an
        opportunity is sized to)."""
        out: dict[str, dict[str, float]] = {}
        for r in self.rows:
            if r.account == account and self._in_primary(r):
                out.setdefault(r.venue, {})[r.asset] = float(r.free)
        return out

    def held(self, venue: str, asset: str, account: str = "main", wallet: str | None = None) -> Decimal:
        """The total of ``asset`` in one account's wallet (default: its primary), 0 when it holds none."""
        return next((r.total for r in self.rows if (r.venue, r.account, r.asset) == (venue, account, asset)
                     and (r.wallet == wallet if wallet is not None else self._in_primary(r))), Decimal(0))

    def to_json(self) -> dict[str, Any]:
        accounts: dict[str, dict[str, Any]] = {}
        for r in self.rows:
            entry = accounts.setdefault(r.label, {"venue": r.venue, "account": r.account, "wallet": r.wallet,
                                                  "balances": {}})
            entry["balances"][r.asset] = {"free": _num(r.free), "used": _num(r.used), "total": _num(r.total),
                                          "value": self._money(r.value)}
        return {"value_in": self.value_in, "total": self._money(self.total), "accounts": list(accounts.values()),
                "unvalued": self.unvalued, "unavailable": dict(self.unavailable)}


@dataclass(frozen=True, slots=True)
class Position:
    venue: str
    account: str
    view: PositionView

    def to_json(self) -> dict[str, Any]:
        v = self.view
        return {"venue": self.venue, "account": self.account, "symbol": v.symbol, "side": v.side,
                "contracts": _num(v.contracts), "size": _num(v.size), "entry_price": _num(v.entry_price),
                "leverage": _num(v.leverage), "margin_mode": v.margin_mode, "unrealized_pnl": _num(v.unrealized_pnl)}


@dataclass(frozen=True, slots=True)
class PositionReport:
    positions: tuple[Position, ...]
    unavailable: dict[str, str]  # "venue/account" -> why its positions could not be read
    no_derivatives: tuple[str, ...] = ()  # venues where no account of the desk trades derivatives

    def to_json(self) -> dict[str, Any]:
        return {"positions": [p.to_json() for p in self.positions], "unavailable": dict(self.unavailable),
                "no_derivatives": list(self.no_derivatives)}


@dataclass(frozen=True, slots=True)
class OpportunityEvent:
    """An arbitrage opportunity opened or closed (its legs, net profit and bps as the scanner
    found them)."""

    event: Event

    @property
    def kind(self) -> Literal["open", "close"]:
        return self.event.kind

    @property
    def opportunity(self) -> Opportunity:
        return self.event.opportunity

    @property
    def at(self) -> float:
        return self.event.at

    def to_json(self) -> dict[str, Any]:
        return {"event": self.kind, **self.opportunity.as_json()}
