"""Redaction: no secret reaches a log line, whatever logger or handler it goes through.

``SecretFilter`` is a logging.Filter that rewrites a record in place (its message with the args
formatted in, its traceback, its stack) so that every known secret value, and the forms a secret
takes on the wire (URL-encoded, base64, JSON- or repr-escaped), reads ``<redacted>``; so do the
values of credential headers and query parameters (``X-MBX-APIKEY: ...``, ``signature=...``,
``Authorization: Bearer ...``) whatever their value. ``install(secrets)`` puts one process-wide
filter in front of every record: at the record's creation (the log record factory), so it covers
every logger, records propagated from child loggers and handlers added later (a filter on the
root logger alone would miss records propagated from child loggers).

ccxt prints its verbose HTTP output (``Exchange.log`` is ``print``): ``guard_client`` routes it
through logging (logger ``crossbook.ccxt.<id>``, DEBUG) and registers the client's own credentials
with the filter, so a key from the vault, the environment or a simulator's ccxt file is masked the
same way. ``safe_error_text`` is what crossbook's own errors may say about a ccxt exception: its
first line with URLs cut to their path and credentials masked (a ccxt error names the signed URL).
"""

from __future__ import annotations

import base64
import logging
import re
import threading
import traceback
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus

import orjson

REDACTED = "<redacted>"
MIN_SECRET = 4  # shorter values are masked only where they sit in a credential field
CREDENTIAL_FIELDS = ("apiKey", "secret", "password", "privateKey", "uid", "walletAddress", "token")

# a credential field (header, query parameter, JSON or dict key) and its value: the value is masked
_FIELD = re.compile(
    r"""(?ix)
    (["']?[\w-]*(?:key|secret|passphrase|password|signature|sign|token)["']?\s*[:=]\s*["']?)
    [^"'&\s,}\]]+""",
)
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[\w.~+/=-]+")
_AUTH = re.compile(r"""(?i)(["']?authorization["']?\s*[:=]\s*["']?)[^"'\s,}]+""")
_URL = re.compile(r"""\b(?:https?|wss?)://[^\s"'<>?#]+(?:[?#][^\s"'<>]*)?""")


def derived_forms(secret: str) -> set[str]:
    """``secret`` and the forms it takes in a request, a log or a file: URL-encoded, base64
    (standard and URL-safe, padded or not), JSON-escaped and repr-escaped (a PEM key's newlines)."""
    raw = secret.encode()
    forms = {secret, quote(secret, safe=""), quote_plus(secret), orjson.dumps(secret).decode()[1:-1],
             repr(secret)[1:-1], secret.replace("\n", "\\n")}
    for encoded in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
        forms |= {encoded.decode(), encoded.decode().rstrip("=")}
    return {f for f in forms if len(f) >= MIN_SECRET}


class SecretFilter(logging.Filter):
    """Masks the secrets it holds (and every credential field's value) in each record it sees;
    never drops a record."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        """Mask these values too (empty and None values are ignored)."""
        with self._lock:
            fresh = {s for s in secrets if s} - self._secrets
            if not fresh:
                return
            self._secrets |= fresh
            forms = sorted({f for s in self._secrets for f in derived_forms(s)}, key=len, reverse=True)
            self._pattern = re.compile("|".join(map(re.escape, forms))) if forms else None

    def __contains__(self, secret: str) -> bool:
        return secret in self._secrets

    def redact(self, text: str) -> str:
        """``text`` with every secret and credential value replaced by ``<redacted>``."""
        pattern = self._pattern
        if pattern is not None:
            text = pattern.sub(REDACTED, text)
        return mask_credentials(text)

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_crossbook_redacted", False):
            return True
        record.msg = self.redact(_message(record))
        record.args = None
        if record.exc_info:
            record.exc_text = self.redact("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
            record.exc_info = None  # a handler formatting the live exception itself would bypass the mask
        elif record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        setattr(record, "_crossbook_redacted", True)  # noqa: B010  (LogRecord declares no such field)
        return True


def _message(record: logging.LogRecord) -> str:
    try:
        return record.getMessage()
    except (TypeError, ValueError):  # a malformed format: keep what was given, masked all the same
        return f"{record.msg} {record.args}"


def mask_credentials(text: str) -> str:
    """The values of credential fields (headers, query parameters, JSON keys) and bearer tokens
    masked, whatever they are; URLs' query strings kept, their credential parameters masked."""
    text = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    text = _AUTH.sub(rf"\1{REDACTED}", text)
    return _FIELD.sub(rf"\1{REDACTED}", text)


_filter = SecretFilter()
_installed = False
_install_lock = threading.Lock()
_ccxt_verbose = False


def secret_filter() -> SecretFilter:
    """The process-wide filter ``install`` put in front of every log record."""
    return _filter


def install(secrets: Iterable[str] = ()) -> SecretFilter:
    """Mask ``secrets`` (and credential fields) in every log record of this process from now on;
    called again, adds to what is masked. What the CLI, the service and the desk call when they
    unlock a vault (with ``vault.secrets()``)."""
    global _installed
    _filter.add(secrets)
    with _install_lock:
        if not _installed:
            previous = logging.getLogRecordFactory()

            def redacted_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
                record = previous(*args, **kwargs)
                _filter.filter(record)
                return record

            logging.setLogRecordFactory(redacted_record)
            _installed = True
    return _filter


def verbose_ccxt(on: bool) -> None:
    """Whether the ccxt clients made from now on log every HTTP request and response (ccxt's
    ``verbose``), at DEBUG on ``crossbook.ccxt.<id>``, redacted."""
    global _ccxt_verbose
    _ccxt_verbose = on


def client_secrets(client: Any) -> set[str]:
    """The credentials a ccxt client holds (its apiKey, secret, password, private key...)."""
    values = (getattr(client, name, None) for name in CREDENTIAL_FIELDS)
    return {v for v in values if isinstance(v, str) and v}


def guard_client(client: Any) -> Any:
    """``client`` (a ccxt exchange) with its credentials masked in every log record and its
    verbose output (``Exchange.log``, a print) sent to logging instead of stdout."""
    install(client_secrets(client))
    logger = logging.getLogger(f"crossbook.ccxt.{getattr(client, 'id', 'client')}")

    def log(*args: Any) -> None:
        logger.debug(" ".join(str(a) for a in args).strip())

    client.log = log
    if _ccxt_verbose:
        client.verbose = True
    return client


def safe_error_text(exc: BaseException, limit: int = 200) -> str:
    """What an error may say about ``exc`` (a ccxt error): its first line, each URL cut to its
    host and path (a signed request's query carries its signature, sometimes its key), credential
    fields and known secrets masked, at most ``limit`` characters."""
    lines = str(exc).strip().splitlines()
    first = lines[0] if lines else ""
    first = _URL.sub(lambda m: m.group(0).split("?", 1)[0].split("#", 1)[0], first)
    return _filter.redact(first)[:limit]
