"""The web shop connector (WooCommerce REST API v3): see ``docs/connectors/webshop.md``."""

from connectors.webshop.connector import WebshopConnector
from connectors.webshop.settings import WebshopSettings

__all__ = ["WebshopConnector", "WebshopSettings"]
