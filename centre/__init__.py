"""The centre: ingest (validation per item, ledger, compliance in the same unit of
work), station tokens, the live hub.

``api`` serves it over HTTP; ``centre`` imports from ``stations`` only the wire
contract (:mod:`stations.batch`), and otherwise ``compliance`` and ``storage``.
"""
