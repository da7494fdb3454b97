"""What an API key may do: :class:`KeyPermissions`, as a venue's key-information endpoint
reports it (the SPEC hook ``key_permissions``), as observed, or as the user declared it."""

from __future__ import annotations

from ..venues.spec.keys import DECLARED, OBSERVED, KeyPermissions

__all__ = ["DECLARED", "OBSERVED", "KeyPermissions"]
