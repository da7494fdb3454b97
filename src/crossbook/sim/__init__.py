"""The simulator: synthetic markets served in each exchange's own wire format on 127.0.0.1."""

from .cluster import SimCluster
from .market import SimMarket
from .server import SimConnection, SimVenue

__all__ = ["SimCluster", "SimConnection", "SimMarket", "SimVenue"]
