"""One sub-account (and its key) per strategy: crossbook.toml's ``[strategies]`` table and the
check the trading layer makes before it sends anything.

    [strategies.momentum]               # a strategy on one venue's sub-account
    venue = "binance"
    account = "momo"

    [strategies.basis]                  # a strategy across venues: a sub-account on each
    accounts = ["binance/basis", "okx/basis"]

A sub-account belongs to one strategy at most (two strategies sharing it would share its key and
its balance). A request that names a strategy is sent only through that strategy's own
sub-account; a request naming none (an operator's order from the command line) is not a
strategy's, and goes where it is addressed.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigError, StrategyMismatch

_NAME = re.compile(r"^[A-Za-z0-9][\w.-]{0,63}$")


@dataclass(frozen=True)
class Strategy:
    """A strategy and the (venue, sub-account) pairs it trades through, one per venue."""

    name: str
    accounts: tuple[tuple[str, str], ...]

    def account_on(self, venue: str) -> str | None:
        """The strategy's sub-account on ``venue`` (None: it does not trade there)."""
        return next((account for v, account in self.accounts if v == venue), None)

    @property
    def venues(self) -> list[str]:
        return [venue for venue, _ in self.accounts]

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "accounts": [{"venue": v, "account": a} for v, a in self.accounts]}


@dataclass(frozen=True)
class Strategies:
    """``[strategies]``: each strategy by name, and the owner of each sub-account."""

    by_name: Mapping[str, Strategy] = field(default_factory=dict)

    def __iter__(self) -> Iterator[Strategy]:
        return iter(self.by_name.values())

    def __bool__(self) -> bool:
        return bool(self.by_name)

    def get(self, name: str) -> Strategy:
        try:
            return self.by_name[name]
        except KeyError:
            known = ", ".join(self.by_name) or "none is configured ([strategies] in crossbook.toml)"
            raise StrategyMismatch(f"unknown strategy {name!r}; known: {known}") from None

    def owner(self, venue: str, account: str) -> str | None:
        """The strategy whose sub-account ``account`` on ``venue`` is (None: no strategy's)."""
        return next((s.name for s in self.by_name.values() if (venue, account) in s.accounts), None)


def check_strategy(strategy: str | None, owner: str | None, venue: str, account: str) -> None:
    """Refuse (StrategyMismatch, before anything is sent) a request of ``strategy`` addressed to
    ``venue``/``account``, a sub-account of ``owner``, when the two differ. A request naming no
    strategy is an operator's and goes where it is addressed."""
    if strategy is None or strategy == owner:
        return
    whose = f"it is the sub-account of strategy {owner!r}" if owner else "no strategy owns it"
    raise StrategyMismatch(f"strategy {strategy!r} may not trade through {venue}/{account}: {whose}; nothing was sent")


def parse_strategies(table: Any, accounts: Collection[tuple[str, str]], where: str) -> Strategies:
    """The ``[strategies]`` table, each strategy's sub-accounts among the configured ``accounts``
    ((venue, account) pairs), none shared by two strategies; ConfigError naming what is wrong."""
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: strategies must be tables [strategies.NAME] with venue and account")
    strategies: dict[str, Strategy] = {}
    owners: dict[tuple[str, str], str] = {}
    for name, entry in table.items():
        here = f"{where}: strategies.{name}"
        if not _NAME.match(name):
            raise ConfigError(f"{here}: a strategy name is letters, digits, '.', '_' or '-' (at most 64)")
        pairs = _pairs(entry, here)
        for pair in pairs:
            if pair not in accounts:
                raise ConfigError(f"{here}: no [[accounts]] entry for {pair[0]}/{pair[1]} (venue and account)")
            if pair in owners:
                raise ConfigError(f"{here}: {pair[0]}/{pair[1]} is already the sub-account of strategy {owners[pair]!r}: "
                                  f"each strategy needs its own sub-account")
            owners[pair] = name
        strategies[name] = Strategy(name, pairs)
    return Strategies(strategies)


def _pairs(entry: Any, where: str) -> tuple[tuple[str, str], ...]:
    if not isinstance(entry, dict):
        raise ConfigError(f"{where} must be a table with venue and account (or accounts = [\"venue/account\", ...])")
    unknown = set(entry) - {"venue", "account", "accounts"}
    if unknown:
        raise ConfigError(f"{where}: unknown setting(s) {', '.join(sorted(unknown))}")
    if ("accounts" in entry) == ("venue" in entry or "account" in entry):
        raise ConfigError(f"{where}: give venue and account, or accounts = [\"venue/account\", ...] (one of them)")
    if "accounts" in entry:
        listed = entry["accounts"]
        if not isinstance(listed, list) or not listed or not all(isinstance(a, str) and a.count("/") == 1 for a in listed):
            raise ConfigError(f"{where}.accounts must be a list of \"venue/account\", got {listed!r}")
        pairs = tuple((v.strip().lower(), a.strip()) for v, a in (item.split("/") for item in listed))
    else:
        venue, account = entry.get("venue"), entry.get("account")
        if not isinstance(venue, str) or not isinstance(account, str) or not venue or not account:
            raise ConfigError(f"{where} needs venue = \"binance\" and account = \"SUB\" (the strategy's sub-account)")
        pairs = ((venue.strip().lower(), account.strip()),)
    venues = [v for v, _ in pairs]
    if len(set(venues)) != len(venues):
        raise ConfigError(f"{where}: one sub-account per venue, got {', '.join(f'{v}/{a}' for v, a in pairs)}")
    return pairs
