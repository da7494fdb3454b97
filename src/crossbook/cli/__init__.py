"""The crossbook command: a thin layer over the desk. Each command module registers its commands on
``app`` and imports what a command uses when that command runs."""

from . import candles, feed, funding, keys, keys_2fa, keys_audit, keys_rotate, market, options, orders, serve, simulate, trade, withdraw  # noqa: F401  (registers the commands)
from .app import app
from .helpformat import plain_help

plain_help(app)

__all__ = ["app"]
