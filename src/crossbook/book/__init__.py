from .consolidated import ConsolidatedBook, Cross, QuoteStatus, VenueQuote
from .l2 import BookStats, L2Book, Link, Sweep

__all__ = ["BookStats", "ConsolidatedBook", "Cross", "L2Book", "Link", "QuoteStatus", "Sweep", "VenueQuote"]
