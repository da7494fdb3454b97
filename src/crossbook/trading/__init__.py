"""Trading: venue-independent order handling (journal, client order ids, ...)."""
