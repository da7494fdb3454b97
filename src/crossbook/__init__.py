"""crossbook: many crypto venues behind one interface, traded at the best all-in price.

``from crossbook import Desk`` is the entry point (see ``crossbook.desk``). It is imported on first
use, so ``import crossbook`` (and ``crossbook --help``) loads neither ccxt nor the simulators."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Desk"]

if TYPE_CHECKING:
    from .desk import Desk


def __getattr__(name: str) -> Any:
    if name == "Desk":
        from .desk import Desk

        return Desk
    raise AttributeError(f"module 'crossbook' has no attribute {name!r}")
