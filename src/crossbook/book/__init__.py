from .consolidated import ConsolidatedBook, VenueQuote
from .l2 import BookStats, L2Book, Link, Sweep

__all__ = ["BookStats", "ConsolidatedBook", "L2Book", "Link", "Sweep", "VenueQuote"]
