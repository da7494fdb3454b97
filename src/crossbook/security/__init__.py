"""The security layer: the key vault, key-permission audits, the withdrawal whitelist, the second
factor and redaction. It sits beside trading, monitor and config and imports only the layers below."""
