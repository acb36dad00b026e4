"""``WebshopConnector``: a WooCommerce shop's orders, customers and stock over REST API v3."""

from __future__ import annotations

from typing import Any

from connectors.base import Connector, Health
from connectors.connection import get_connection
from connectors.webshop.api import ShopApi
from connectors.webshop.settings import WebshopSettings
from connectors.webshop.sku_cache import SkuCache
from connectors.webshop.streams import Customers, Orders, Products, Stock


class WebshopConnector(Connector):
    """Streams ``orders`` (read; write status/tracking), ``customers`` (read) and ``stock``
    (read products and variations; write stock levels by SKU) and ``products`` (the same
    reads; write the product master: create or update by SKU)."""

    system = "webshop"

    def __init__(self, settings: WebshopSettings) -> None:
        self.settings = settings
        self.api = ShopApi(settings)
        self.skus = SkuCache(self.api)  # shared: a product created is a SKU the stock sees
        super().__init__(
            [
                Orders(self.api),
                Customers(self.api),
                Stock(self.api, self.skus),
                Products(self.api, self.skus),
            ]
        )

    @classmethod
    def from_connection_id(cls, conn_id: str = "webshop", **overrides: Any) -> WebshopConnector:
        return cls(WebshopSettings.from_connection(get_connection(conn_id), **overrides))

    def health(self) -> Health:
        return self.api.health()

    def close(self) -> None:
        self.api.close()
