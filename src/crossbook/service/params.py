"""Typed input: every query parameter and body field is parsed here before any Desk call, and a bad
one is a 400 naming it (nothing reaches a venue)."""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any, TypeVar

import orjson
from aiohttp import web

from ..errors import CrossbookError
from ..model import Side
from ..symbols import parse_standard
from .errors import bad_input

E = TypeVar("E", bound=Enum)

MAX_BODY = 64 * 1024  # bytes: an order or a route is a few hundred


class Fields:
    """A request's inputs (its query, or its JSON body) read into typed values. Query values are
    strings; a body's may be JSON numbers, strings or booleans: both read the same way."""

    def __init__(self, values: Mapping[str, Any], allowed: Collection[str]) -> None:
        unknown = sorted(set(values) - set(allowed))
        if unknown:
            raise bad_input(unknown[0], f"unknown field; expected one of {', '.join(sorted(allowed))}")
        self.values = values

    @classmethod
    def query(cls, request: web.Request, allowed: Collection[str]) -> Fields:
        return cls(request.query, allowed)

    @classmethod
    async def body(cls, request: web.Request, allowed: Collection[str]) -> Fields:
        raw = await request.content.read(MAX_BODY + 1)
        if len(raw) > MAX_BODY:
            raise bad_input("body", f"larger than {MAX_BODY} bytes")
        try:
            values = orjson.loads(raw or b"{}")
        except orjson.JSONDecodeError:
            raise bad_input("body", "not valid JSON") from None
        if not isinstance(values, dict):
            raise bad_input("body", "must be a JSON object")
        return cls(values, allowed)

    def _get(self, name: str, required: bool) -> Any:
        value = self.values.get(name)
        if value is None or value == "":
            if required:
                raise bad_input(name, "required")
            return None
        return value

    def text(self, name: str, *, required: bool = True, default: str | None = None) -> str | None:
        value = self._get(name, required)
        if value is None:
            return default
        if not isinstance(value, str):
            raise bad_input(name, f"must be a string, not {value!r}")
        return value

    def symbol(self, name: str = "symbol") -> str:
        text = self.text(name)
        assert text is not None
        try:
            parse_standard(text.upper())
        except CrossbookError as exc:
            raise bad_input(name, str(exc)) from None
        return text.upper()

    def side(self, name: str = "side") -> Side:
        return self.choice(name, Side)

    def choice(self, name: str, kind: type[E], *, default: E | None = None) -> E:
        value = self._get(name, default is None)
        if value is None:
            assert default is not None
            return default
        try:
            return kind(str(value).lower())
        except ValueError:
            raise bad_input(name, f"must be one of {', '.join(str(k.value) for k in kind)}, not {value!r}") from None

    def decimal(self, name: str, *, required: bool = True, positive: bool = True) -> Decimal | None:
        value = self._get(name, required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise bad_input(name, f"must be a number, not {value!r}")
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise bad_input(name, f"must be a number, not {value!r}") from None
        if not number.is_finite() or (positive and number <= 0) or number < 0:
            raise bad_input(name, f"must be a {'positive' if positive else 'non-negative'} finite number, not {value!r}")
        return number

    def number(self, name: str, *, required: bool = True, positive: bool = True) -> float | None:
        number = self.decimal(name, required=required, positive=positive)
        if number is None:
            return None
        value = float(number)
        if not math.isfinite(value):
            raise bad_input(name, f"out of range: {number}")
        return value

    def integer(self, name: str, *, default: int | None = None, low: int = 1, high: int = 1000) -> int | None:
        value = self._get(name, False)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise bad_input(name, f"must be a whole number, not {value!r}")
        try:
            number = int(str(value).strip())
        except ValueError:
            raise bad_input(name, f"must be a whole number, not {value!r}") from None
        if not low <= number <= high:
            raise bad_input(name, f"must be between {low} and {high}, not {number}")
        return number

    def flag(self, name: str, *, default: bool = False) -> bool:
        value = self._get(name, False)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        text = str(value).lower()
        if text not in ("true", "false", "1", "0"):
            raise bad_input(name, f"must be true or false, not {value!r}")
        return text in ("true", "1")

    def names(self, name: str, known: Collection[str]) -> list[str] | None:
        """A comma-separated list (or a JSON list) of names out of ``known``; None when absent."""
        value = self._get(name, False)
        if value is None:
            return None
        items = value if isinstance(value, list) else str(value).split(",")
        chosen = [str(item).strip().lower() for item in items if str(item).strip()]
        unknown = [item for item in chosen if item not in known]
        if unknown or not chosen:
            raise bad_input(name, f"unknown {', '.join(unknown) or '(none given)'}; known: {', '.join(known)}")
        return chosen
