from .handler import FeedHandler, Frame, Resync

__all__ = ["FeedHandler", "Frame", "Resync"]
