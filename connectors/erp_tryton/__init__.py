"""Connector for Tryton (JSON-RPC): parties, products, sales, customer shipments, invoices."""

from connectors.erp_tryton.connector import TrytonConnector, TrytonStream
from connectors.erp_tryton.rpc import TrytonFault, TrytonRpc, TrytonUserError
from connectors.erp_tryton.settings import TrytonSettings

__all__ = [
    "TrytonConnector",
    "TrytonFault",
    "TrytonRpc",
    "TrytonSettings",
    "TrytonStream",
    "TrytonUserError",
]
