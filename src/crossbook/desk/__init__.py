"""The desk: one Python API over crossbook (``from crossbook import Desk``), and what the CLI and
the demo run on: the simulated venues started for the product (only here, the CLI and the demo),
the arbitrage commands, the funding rates read for the basis scanner."""

from ..routing.executor import ExecutionReport
from ..routing.quote import Quote, QuoteRow
from .desk import Desk
from .results import (
           BalanceReport,
           BalanceRow,
           OpportunityEvent,
           Position,
           PositionReport,
)

__all__ = ["BalanceReport", "BalanceRow", "Desk", "ExecutionReport", "OpportunityEvent", "Position", "PositionReport",
           "Quote", "QuoteRow"]
