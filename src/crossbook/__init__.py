"""crossbook: many crypto venues behind one interface, traded at the best all-in price."""

__version__ = "0.1.0"
