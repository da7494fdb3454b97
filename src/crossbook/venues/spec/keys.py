"""What an API key may do, as its venue reports it (or as the user declared it).

The type lives in the venue contract's layer because each venue's SPEC hook returns it;
``crossbook.security.permissions`` is where the rest of crossbook names it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DECLARED = "declared"  # the source of permissions the user declared (no venue endpoint said them)
OBSERVED = "observed"  # the source of permissions seen from calls that succeeded (a read call)


@dataclass(frozen=True)
class KeyPermissions:
    """A key's rights and restrictions: `source` is the venue endpoint they came from, or "declared"."""

    read: bool
    trade: bool
    withdraw: bool
    transfer: bool
    ips: tuple[str, ...]
    created: float | None
    expires: float | None
    source: str

    def to_json(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "trade": self.trade,
            "withdraw": self.withdraw,
            "transfer": self.transfer,
            "ips": list(self.ips),
            "created": self.created,
            "expires": self.expires,
            "source": self.source,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> KeyPermissions:
        if not isinstance(data, dict):
            raise ValueError(f"key permissions: expected an object, got {type(data).__name__}")
        missing = [name for name in ("read", "trade", "withdraw", "transfer", "source") if name not in data]
        if missing:
            raise ValueError(f"key permissions: missing {', '.join(missing)}")
        ips = data.get("ips") or []
        if not isinstance(ips, (list, tuple)) or not all(isinstance(ip, str) for ip in ips):
            raise ValueError("key permissions: ips must be a list of strings")
        return cls(
            read=_flag(data, "read"),
            trade=_flag(data, "trade"),
            withdraw=_flag(data, "withdraw"),
            transfer=_flag(data, "transfer"),
            ips=tuple(ips),
            created=_stamp(data, "created"),
            expires=_stamp(data, "expires"),
            source=str(data["source"]),
        )

    def summary(self) -> str:
        """A short human summary, e.g. "read+trade, ip 1.2.3.4"."""
        rights = [name for name in ("read", "trade", "transfer", "withdraw") if getattr(self, name)]
        where = f"ip {','.join(self.ips)}" if self.ips else "any ip"
        return f"{'+'.join(rights) or 'none'}, {where}"


def _flag(data: dict[str, Any], name: str) -> bool:
    value = data[name]
    if not isinstance(value, bool):
        raise ValueError(f"key permissions: {name} must be true or false, got {value!r}")
    return value


def _stamp(data: dict[str, Any], name: str) -> float | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"key permissions: {name} must be a unix time in seconds, got {value!r}")
    return float(value)


def from_ms(value: Any) -> float | None:
    """A venue's time in milliseconds (number or numeric string; 0 or empty: none) in seconds."""
    if value in (None, "", 0, "0"):
        return None
    try:
        return float(value) / 1000
    except (TypeError, ValueError):
        raise ValueError(f"not a time in milliseconds: {value!r}") from None


def from_iso(value: Any) -> float | None:
    """A venue's ISO 8601 time ("2024-01-01T00:00:00Z"; empty: none) in unix seconds."""
    if not value:
        return None
    from datetime import datetime

    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise ValueError(f"not an ISO 8601 time: {value!r}") from None


def ip_list(value: Any, separator: str = ",") -> tuple[str, ...]:
    """The addresses a key is bound to, from a list or a separated string; "*" or none: unbound."""
    items = value if isinstance(value, (list, tuple)) else str(value or "").split(separator)
    ips = tuple(str(ip).strip() for ip in items if str(ip).strip())
    return () if "*" in ips else ips
