"""How the API answers what went wrong: one JSON shape, ``{"error": "..."}`` (with ``"field"`` on
a 400), and one mapping from crossbook's error hierarchy to HTTP statuses. A response never
carries a traceback, and a venue's error text (which can carry a signed request) never leaves
the process: only crossbook's own messages do."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import ccxt
import orjson
from aiohttp import web

from ..errors import (
    BookOutOfSync,
    ConfigError,
    CrossbookError,
    InvalidOrder,
    LeaseNotHeld,
    NoConversionRate,
    NotWhitelisted,
    RateLimited,
    SecondFactorError,
    StrategyMismatch,
    UnknownSymbol,
    UnknownVenue,
    VaultError,
    VenueRefused,
    VenueUnavailable,
)

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# most specific first: InvalidOrder's subclasses and UnknownVenue/UnknownSymbol (ConfigErrors) included
STATUSES: tuple[tuple[type[CrossbookError], int], ...] = (
    (NotWhitelisted, 403),  # refused before anything was sent
    (SecondFactorError, 403),
    (StrategyMismatch, 403),  # a strategy's request on another's account: refused before sending
    (LeaseNotHeld, 409),  # another process trades the account (holds its bus lease): refused before sending
    (VaultError, 503),  # the vault is locked or unreadable: nothing that needs it can run
    (UnknownVenue, 404),
    (UnknownSymbol, 404),
    (InvalidOrder, 422),  # well-formed, refused by the venue's rules or the account's funds: nothing sent
    (ConfigError, 400),
    (RateLimited, 429),
    (VenueUnavailable, 503),
    (BookOutOfSync, 503),
    (VenueRefused, 502),
    (NoConversionRate, 422),
)


class ApiError(Exception):
    """An answer other than 200, raised by a handler: ``field`` names the input at fault (400)."""

    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field


def bad_input(field: str, message: str) -> ApiError:
    return ApiError(400, f"{field}: {message}", field)


def not_found(message: str) -> ApiError:
    return ApiError(404, message)


def json_response(data: object, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json", headers=headers)


def error_response(status: int, message: str, field: str | None = None) -> web.Response:
    body: dict[str, str] = {"error": message}
    if field is not None:
        body["field"] = field
    return json_response(body, status)


def status_of(exc: CrossbookError) -> int:
    return next((status for kind, status in STATUSES if isinstance(exc, kind)), 500)


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every failure as the one JSON shape: the API's own (ApiError), crossbook's (by status_of),
    aiohttp's (404 for an unknown path, 405...), and anything else as a 500 naming its type only."""
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(exc.status, exc.message, exc.field)
    except CrossbookError as exc:
        return error_response(status_of(exc), str(exc))
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return error_response(exc.status, exc.reason)
    except ccxt.BaseError as exc:  # the type only: its text can carry a signed request
        log.warning("%s %s: the venue failed with %s", request.method, request.path, type(exc).__name__)
        return error_response(502, f"the venue failed ({type(exc).__name__})")
    except Exception as exc:
        log.exception("%s %s failed", request.method, request.path)
        return error_response(500, f"internal error ({type(exc).__name__})")
