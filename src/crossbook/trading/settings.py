"""An account's position settings per instrument (margin mode, leverage, position mode) as the
venue holds them, and the calls that bring them to what an order asks before the order is sent.

The venue's current settings are read once per instrument through ccxt (``fetch_margin_mode``,
``fetch_leverage``, ``fetch_position_mode`` or the position's ``hedged``) and cached; a setting is
changed (``set_margin_mode``, ``set_leverage``, ``set_position_mode``) only where it differs, so a
venue that refuses a change to the value it already has (Binance's -4046 "No need to change
margin type") never sees one. :meth:`PositionSettings.forget` drops the cache: after a
reconnect, after a call that went unanswered, or when the settings were changed elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import ccxt

from ..errors import CrossbookError, UnsupportedFeature
from ..model import MarginMode, OrderRequest, PositionSide
from ..security.redact import safe_error_text
from .validation import TradingRules


@dataclass(frozen=True, slots=True)
class SettingChange:
    """One setting the venue changed for an order: ``before`` None where the venue did not say."""

    symbol: str
    setting: str  # "margin_mode", "leverage" or "position_mode"
    before: str | None
    after: str

    def __str__(self) -> str:
        return f"{self.setting} of {self.symbol} {self.before or '(unknown)'} -> {self.after}"


class SettingFailed(CrossbookError):
    """The venue refused (or did not answer) a setting change; ``changes`` were made before it."""

    def __init__(self, message: str, field: str, changes: list[SettingChange], unanswered: bool) -> None:
        super().__init__(message)
        self.field = field
        self.changes = changes
        self.unanswered = unanswered


@dataclass(slots=True)
class _Held:
    """What the venue holds for one instrument; None: not read yet (or the venue did not say)."""

    margin_mode: str | None = None
    leverage: Decimal | None = None
    leverage_for: str | None = None  # the margin mode the leverage is for, where orders carry theirs
    hedged: bool | None = None


class PositionSettings:
    """The cache and the setter for one account's client. ``carries_margin(rules)``: the venue's
    orders carry their own margin mode (OKX's ``tdMode``), which is then no setting; leverage is
    set for that margin mode."""

    def __init__(self, venue: str, client: Any, carries_margin: Callable[[TradingRules], bool], hedging: bool = False) -> None:
        self.venue = venue
        self.client = client
        self.carries_margin = carries_margin
        self.hedging = hedging  # crossbook sends position sides here: an order without one must not meet hedge mode
        self._held: dict[str, _Held] = {}

    def forget(self, symbol: str | None = None) -> None:
        """Re-read the venue's settings (of ``symbol``, or all) before the next order that asks."""
        if symbol is None:
            self._held.clear()
        else:
            self._held.pop(symbol, None)

    def check(self, request: OrderRequest, rules: TradingRules) -> None:
        """UnsupportedFeature, before anything is sent, for a setting this venue's client cannot make."""
        if not rules.derivative:
            return
        if request.leverage is not None:
            self._require("setLeverage", f"leverage {request.leverage}")
        if request.margin_mode is not None and not self.carries_margin(rules):
            self._require("setMarginMode", f"margin_mode {request.margin_mode.value}")
        if request.position_side is not PositionSide.BOTH:
            self._require("setPositionMode", f"position_side {request.position_side.value}")

    def _require(self, method: str, field: str) -> None:
        if not self.client.has.get(method):
            raise UnsupportedFeature(f"{self.venue}: {field}: crossbook cannot set it there (ccxt has no {method})")

    async def apply(self, request: OrderRequest, rules: TradingRules, changed: Callable[[SettingChange], None]) -> list[SettingChange]:
        """Bring the instrument's settings to what ``request`` asks: the position mode, then the
        margin mode, then the leverage (venues set leverage per margin mode). Each change is
        reported to ``changed`` as soon as the venue made it; a refusal raises SettingFailed with
        the changes made before it."""
        if not rules.derivative:
            return []
        held = self._held.setdefault(rules.symbol, _Held())
        changes: list[SettingChange] = []
        carried = self.carries_margin(rules)
        steps: list[tuple[str, str | None, str, Callable[[], Any]]] = []
        if request.position_side is PositionSide.BOTH and self.hedging:
            if held.hedged is None:
                held.hedged = await self._read_hedged(rules)
            if held.hedged:
                raise SettingFailed(f"{self.venue}: position_side both: the account is in hedge mode on {rules.symbol}, "
                                    "give long or short", "position_mode", [], unanswered=False)
        if request.position_side is not PositionSide.BOTH:
            if held.hedged is None:
                held.hedged = await self._read_hedged(rules)
            if held.hedged is not True:
                steps.append(("position_mode", _mode(held.hedged), "hedge",
                              lambda: self.client.set_position_mode(True, rules.ccxt_symbol)))
        margin = request.margin_mode
        if margin is not None and not carried:
            if held.margin_mode is None:
                held.margin_mode = await self._read_margin_mode(rules)
            if held.margin_mode != margin.value:
                steps.append(("margin_mode", held.margin_mode, margin.value,
                              lambda: self.client.set_margin_mode(margin.value, rules.ccxt_symbol)))
        if request.leverage is not None:
            mode = {"marginMode": (margin or MarginMode.CROSS).value} if carried else {}
            if held.leverage is None or held.leverage_for != mode.get("marginMode"):
                held.leverage = await self._read_leverage(rules, mode, request.position_side)
                held.leverage_for = mode.get("marginMode")
            if held.leverage != request.leverage:
                number = _ccxt_number(request.leverage)
                steps.append(("leverage", None if held.leverage is None else _plain(held.leverage), _plain(request.leverage),
                              lambda: self.client.set_leverage(number, rules.ccxt_symbol, mode)))
        for setting, before, after, call in steps:
            await self._set(rules.symbol, setting, call, changes)
            change = SettingChange(rules.symbol, setting, before, after)
            self._remember(held, setting, request)
            changes.append(change)
            changed(change)
        return changes

    async def _set(self, symbol: str, setting: str, call: Callable[[], Any], changes: list[SettingChange]) -> None:
        try:
            await call()
        except (ccxt.NetworkError, ccxt.ExchangeNotAvailable) as exc:
            self.forget(symbol)  # it may have been set: read it again next time
            raise SettingFailed(f"{self.venue}: no answer setting the {setting} of {symbol} ({type(exc).__name__})",
                                setting, changes, unanswered=True) from None
        except ccxt.BaseError as exc:
            self.forget(symbol)
            first = safe_error_text(exc)
            raise SettingFailed(f"{self.venue} refused the {setting} of {symbol}: {type(exc).__name__} {first}",
                                setting, changes, unanswered=False) from None

    @staticmethod
    def _remember(held: _Held, setting: str, request: OrderRequest) -> None:
        if setting == "position_mode":
            held.hedged = True
        elif setting == "margin_mode" and request.margin_mode is not None:
            held.margin_mode = request.margin_mode.value
        elif setting == "leverage":
            held.leverage = request.leverage

    # ---- reading what the venue holds ----------------------------------------------------------

    async def _read_margin_mode(self, rules: TradingRules) -> str | None:
        if self.client.has.get("fetchMarginMode"):
            return _text(await _quiet(self.client.fetch_margin_mode(rules.ccxt_symbol)), "marginMode")
        if self.client.has.get("fetchLeverage"):
            return _text(await _quiet(self.client.fetch_leverage(rules.ccxt_symbol)), "marginMode")
        return None

    async def _read_leverage(self, rules: TradingRules, params: dict[str, str], side: PositionSide) -> Decimal | None:
        if not self.client.has.get("fetchLeverage"):
            return None
        read = await _quiet(self.client.fetch_leverage(rules.ccxt_symbol, params))
        value = (read or {}).get("shortLeverage" if side is PositionSide.SHORT else "longLeverage")
        return None if value is None else Decimal(str(value))

    async def _read_hedged(self, rules: TradingRules) -> bool | None:
        if self.client.has.get("fetchPositionMode"):
            read = await _quiet(self.client.fetch_position_mode(rules.ccxt_symbol))
        elif self.client.has.get("fetchPosition"):
            read = await _quiet(self.client.fetch_position(rules.ccxt_symbol))
        else:
            return None
        hedged = (read or {}).get("hedged")
        return None if hedged is None else bool(hedged)


async def _quiet(call: Any) -> dict[str, Any] | None:
    """A read whose failure means "not known": the setting is then made, not skipped."""
    try:
        result = await call
    except (ccxt.ExchangeError, ccxt.NetworkError):
        return None
    return result if isinstance(result, dict) else None


def _text(read: dict[str, Any] | None, key: str) -> str | None:
    value = (read or {}).get(key)
    return None if value is None else str(value)


def _mode(hedged: bool | None) -> str | None:
    return None if hedged is None else "hedge" if hedged else "one_way"


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _ccxt_number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)
