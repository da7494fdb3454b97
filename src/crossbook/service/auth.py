"""The API's bearer token: made on first start into a file only its owner can read, compared in
constant time, never logged or echoed. /health, /metrics, the dashboard page and its static files
are open (they carry no account data); /stream authenticates itself (a browser cannot set a header
on a WebSocket: it may send the token as its first message)."""

from __future__ import annotations

import hmac
import os
import secrets
import stat
from pathlib import Path

from aiohttp import web

from ..errors import ConfigError
from .errors import Handler, error_response

UNAUTHORIZED = "missing or wrong bearer token"
OPEN_PATHS = frozenset({"/", "/health", "/metrics"})
OPEN_PREFIXES = ("/static/", "/vendor/")
STREAM_PATH = "/stream"  # checks the header itself, or the first message
TOKEN_KEY: web.AppKey[str] = web.AppKey("token", str)


def load_or_create_token(path: str | Path) -> str:
    """The token in ``path``; on first start a new one (``secrets.token_urlsafe(32)``) written into
    a file created with mode 0600. A file that group or others can read is refused: the token
    would not be secret."""
    path = Path(path).expanduser()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_token(path)
    token = secrets.token_urlsafe(32)
    with os.fdopen(fd, "w") as f:
        f.write(token + "\n")
    return token


def _read_token(path: Path) -> str:
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(f"{path}: the token file is readable by others (mode {stat.S_IMODE(mode):04o}); "
                          f"make it 0600 (chmod 600 {path}) or remove it to make a new token")
    token = path.read_text().strip()
    if len(token) < 16:
        raise ConfigError(f"{path}: the token file holds no token of at least 16 characters")
    return token


def token_matches(expected: str, given: str | None) -> bool:
    if given is None:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


def bearer(request: web.Request) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, None without one."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def first_message_auth(request: web.Request) -> bool:
    """A WebSocket upgrade of /stream with no Authorization header: its first message carries the token."""
    return (request.path == STREAM_PATH and "Authorization" not in request.headers
            and request.headers.get("Upgrade", "").lower() == "websocket")


def is_open(path: str) -> bool:
    return path in OPEN_PATHS or path.startswith(OPEN_PREFIXES)


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """401 and nothing done for a protected path without the right token."""
    if is_open(request.path) or first_message_auth(request):
        return await handler(request)
    if not token_matches(request.app[TOKEN_KEY], bearer(request)):
        return error_response(401, UNAUTHORIZED)
    return await handler(request)
