"""The service's view of the bus when its desk reads books from feed processes (``[bus]``): the
feed processes and their heartbeat age, and per venue which process publishes it and its lag. It
rides on /health (``bus``) and the dashboard's "Feed processes" table."""

from __future__ import annotations

from ..bus.consumer import BusView
from ..market.bus_data import BusMarketData
from ..market.data import MarketData


def bus_view(market: MarketData) -> BusView | None:
    """What the desk's bus consumer knows, None for a desk that runs its feeds in-process."""
    return market.publishers() if isinstance(market, BusMarketData) else None


def bus_connected(market: MarketData) -> dict[str, bool] | None:
    """venue -> its books' link is up (the bus connection), None off the bus."""
    if not isinstance(market, BusMarketData):
        return None
    return dict.fromkeys(market.venues, market.connected())
