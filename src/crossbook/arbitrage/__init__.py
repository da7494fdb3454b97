"""Arbitrage over the consolidated books: cross-venue, triangular and spot-perpetual basis
scanners, and the streaming scanner that reports each opportunity as it opens and closes."""

from .basis import basis, basis_all
from .cross_venue import Transfer, cross_venue
from .model import Leg, Opportunity, TransferCost
from .scanner import Event, Scanner
from .triangular import triangular, triangular_all

__all__ = [
    "Event", "Leg", "Opportunity", "Scanner", "Transfer", "TransferCost",
    "basis", "basis_all", "cross_venue", "triangular", "triangular_all",
]
