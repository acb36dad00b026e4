"""The web shop's streams: orders, customers, stock (products with their variations) and
products (the same records; writes the product master)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from functools import partial
from typing import Any

from canonical.errors import TandemError
from connectors.base import Outcome, Page, Rejected, Stream
from connectors.webshop import checks
from connectors.webshop.api import ShopApi
from connectors.webshop.cursor import Cursor
from connectors.webshop.product_writes import ProductUpsert, write_product
from connectors.webshop.reading import Entry, entry, keyset_pages, snapshot_pages
from connectors.webshop.sku_cache import SkuCache
from connectors.webshop.writes import (
    OrderUpdate,
    StockUpdate,
    write_order,
    write_stock,
)


def _key_of(record: Mapping[str, Any], *names: str) -> str:
    for name in names:
        if record.get(name) not in (None, ""):
            return str(record[name])
    return "?"


class Orders(Stream):
    """Orders changed after the cursor, oldest change first; writes status and tracking."""

    name = "orders"

    def __init__(self, api: ShopApi) -> None:
        self.api = api

    def read(self, cursor: str | None) -> Iterator[Page]:
        return keyset_pages(
            self.api, self.name, "/orders", checks.order, cursor, params={"status": "any"}
        )

    def write(self, records: Sequence[Mapping[str, Any]]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        for record in records:
            key = _key_of(record, "key", "id")
            try:
                update = OrderUpdate.parse(record)
            except TandemError as exc:
                outcomes.append(Rejected(key, exc))
                continue
            outcomes.append(self.attempt(key, partial(write_order, self.api, update)))
        return outcomes


class Customers(Stream):
    """Customers changed after the cursor. The shop's customer list has no date filter, so
    every read lists them all (by id) and keeps those after the cursor."""

    name = "customers"

    def __init__(self, api: ShopApi) -> None:
        self.api = api

    def read(self, cursor: str | None) -> Iterator[Page]:
        Cursor.parse(cursor)  # a foreign cursor fails before any request
        params = {"orderby": "id", "order": "asc", "role": self.api.settings.customer_role}
        entries = (
            entry(self.name, "/customers", item, checks.customer, lambda r: str(r["id"]))
            for items in self.api.every("/customers", params)
            for item in items
        )
        return snapshot_pages(self.name, entries, cursor, self.api.settings.per_page)


def stock_key(record: Mapping[str, Any]) -> str:
    """A product's key in the stock stream: its SKU, or ``WC-<id>`` (as orders name it)."""
    sku = record.get("sku")
    return str(sku) if sku else f"WC-{record['id']}"


class Stock(Stream):
    """Products and variations whose record (stock level included) changed after the cursor,
    keyed by SKU; writes stock levels of the given SKUs."""

    name = "stock"

    def __init__(self, api: ShopApi, skus: SkuCache | None = None) -> None:
        self.api = api
        self.skus = skus or SkuCache(api)

    def _entries(self, cursor: Cursor) -> Iterator[Entry]:
        changed: dict[str, Any] = {"orderby": "id", "order": "asc", "dates_are_gmt": "true"}
        if cursor.modified_after():
            changed["modified_after"] = cursor.modified_after()
        for items in self.api.every("/products", changed):
            for item in items:
                yield entry(self.name, "/products", item, checks.product, stock_key)
        for parents in self.api.every("/products", {"type": "variable", "orderby": "id"}):
            for parent in parents:
                path = f"/products/{parent['id']}/variations"
                for items in self.api.every(path, changed):
                    for item in items:
                        yield entry(self.name, path, item, checks.product, stock_key)

    def read(self, cursor: str | None) -> Iterator[Page]:
        start = Cursor.parse(cursor)
        return snapshot_pages(self.name, self._entries(start), cursor, self.api.settings.per_page)

    def write(self, records: Sequence[Mapping[str, Any]]) -> list[Outcome]:
        updates: list[StockUpdate | Rejected] = []
        for record in records:
            try:
                updates.append(StockUpdate.parse(record))
            except TandemError as exc:
                updates.append(Rejected(_key_of(record, "key", "sku"), exc))
        wanted = [u for u in updates if isinstance(u, StockUpdate)]
        try:
            index = self.skus.index(u.sku for u in wanted) if wanted else {}
        except TandemError as exc:
            return [u if isinstance(u, Rejected) else Rejected(u.key, exc) for u in updates]
        outcomes = [
            u
            if isinstance(u, Rejected)
            else self.attempt(u.key, partial(write_stock, self.api, u, index.get(u.sku)))
            for u in updates
        ]
        if any(isinstance(o, Rejected) and o.transient for o in outcomes):
            self.skus.forget()  # a retry looks the SKUs up afresh
        return outcomes


class Products(Stock):
    """The catalogue's products and variations as the stock stream reads them (keyed by
    SKU); writes create or update products by SKU (``product_writes.py``)."""

    name = "products"

    def write(self, records: Sequence[Mapping[str, Any]]) -> list[Outcome]:
        upserts: list[ProductUpsert | Rejected] = []
        for record in records:
            try:
                upserts.append(ProductUpsert.parse(record))
            except TandemError as exc:
                upserts.append(Rejected(_key_of(record, "key", "sku"), exc))
        wanted = [u.sku for u in upserts if isinstance(u, ProductUpsert)]
        try:
            index = self.skus.index(wanted) if wanted else {}
        except TandemError as exc:
            return [u if isinstance(u, Rejected) else Rejected(u.key, exc) for u in upserts]
        outcomes = [
            u
            if isinstance(u, Rejected)
            else self.attempt(u.key, partial(write_product, self.api, u, index.get(u.sku)))
            for u in upserts
        ]
        if any(isinstance(o, Rejected) or o.created for o in outcomes):
            self.skus.forget()  # a new product, or a failure: look the SKUs up afresh
        return outcomes
