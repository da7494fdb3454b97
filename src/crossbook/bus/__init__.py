"""The market-data bus on NATS JetStream: feed processes publish books, trades and the other
streams; desks, services and strategies consume them (``subjects`` names every subject, stream and
bucket once; ``codec`` is the wire format)."""
