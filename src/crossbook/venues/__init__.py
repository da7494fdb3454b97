"""The venues: one module per venue, each exporting one ``SPEC`` (``spec/``: the contract and its
table types), the registry that finds them (``registry.py``), and ``dex/`` for the on-chain venues."""
