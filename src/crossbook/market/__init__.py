"""Market data across venues, above the venue registry: live consolidated books for standard
symbols (``data.MarketData``: it looks venues up and converts quote currencies) and the replay of
recorded captures through the real feed handlers (``replay``: it finds a handler by URL)."""
