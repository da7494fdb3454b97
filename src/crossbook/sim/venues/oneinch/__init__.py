"""The simulated 1inch API (``api``) and its refusals (``errors``)."""

from __future__ import annotations

from .api import OneInchSim

__all__ = ["OneInchSim"]
