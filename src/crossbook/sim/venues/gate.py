"""Simulated gate market data (to be written)."""

from ..server import SimVenue

SIMS: dict[str, type[SimVenue]] = {}
