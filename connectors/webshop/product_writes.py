"""Product master writes to the shop (stream ``products``), idempotent by SKU.

Record::

    {"sku": "TDM-ESP-100", "name": "Espresso Machine Barista Pro", "regular_price": "349.00",
     "description": "...", "short_description": "...", "status": "publish",
     "catalog_visibility": "visible", "weight": "2.8"}

Only ``sku`` and ``name`` are required; fields left out are not touched. The SKU is looked up
in the whole catalogue (products and variations, as the stock write does): none -> ``POST
/products`` (a simple product with stock management on); found -> the product is read and only
the fields that differ are sent (``PUT /products/<id>``, or the variation's path); nothing
differs -> no request but reads (``detail["changed"] == []``). A product is discontinued by
writing ``status: draft`` and ``catalog_visibility: hidden`` (it leaves the storefront, its
orders and history stay). POST is not retried (it could create twice); the delivery's next
attempt looks the SKU up again and finds what a lost answer created.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from canonical.errors import FieldError, InvalidRecord, PermanentError
from connectors.base import Ack
from connectors.webshop.api import ShopApi
from connectors.webshop.writes import SYSTEM, Located

FIELDS = (
    "name",
    "regular_price",
    "description",
    "short_description",
    "status",
    "catalog_visibility",
    "weight",
)
_PRICES = frozenset({"regular_price"})


@dataclass(frozen=True)
class ProductUpsert:
    key: str
    sku: str
    fields: dict[str, str]

    @classmethod
    def parse(cls, record: Mapping[str, Any]) -> ProductUpsert:
        errors: list[FieldError] = []
        sku = record.get("sku")
        if not isinstance(sku, str) or not sku.strip():
            errors.append(FieldError("sku", f"{sku!r} is not a non-empty text"))
            sku = ""
        key = str(record.get("key") or sku or "?")
        name = record.get("name")
        if not isinstance(name, str) or not name.strip():
            errors.append(FieldError("name", f"{name!r} is not a non-empty text"))
        fields = {f: str(record[f]) for f in FIELDS if record.get(f) is not None}
        for price in _PRICES & fields.keys():
            try:
                Decimal(fields[price])
            except InvalidOperation:
                errors.append(FieldError(price, f"{fields[price]!r} is not a decimal number"))
        if errors:
            raise InvalidRecord(SYSTEM, key, errors, entity="product")
        return cls(key, sku.strip(), fields)


def _same(name: str, current: Any, wanted: str) -> bool:
    if name in _PRICES:
        try:
            return Decimal(str(current or "0")) == Decimal(wanted or "0")
        except InvalidOperation:
            return False
    return str(current if current is not None else "") == wanted


def write_product(
    api: ShopApi, upsert: ProductUpsert, where: Located | PermanentError | None
) -> Ack:
    if isinstance(where, PermanentError):
        raise where
    if where is None:
        body: dict[str, Any] = {"sku": upsert.sku, "type": "simple", "manage_stock": True}
        body.update(upsert.fields)
        created = api.post("/products", body)
        if not isinstance(created, Mapping) or "id" not in created:
            raise PermanentError(f"POST /products for SKU {upsert.sku!r}: no product answered")
        return Ack(
            upsert.key,
            str(created["id"]),
            str(created.get("date_modified_gmt") or "") or None,
            created=True,
            detail={"changed": sorted(upsert.fields), "sku": upsert.sku},
        )
    product = api.get(where.path)
    if not isinstance(product, Mapping):
        raise PermanentError(f"GET {where.path}: the shop answered no object")
    changes = {
        name: value
        for name, value in upsert.fields.items()
        if not _same(name, product.get(name), value)
    }
    if changes:
        product = api.put(where.path, changes)
        if not isinstance(product, Mapping):
            raise PermanentError(f"PUT {where.path}: the shop answered no object")
    return Ack(
        upsert.key,
        str(product.get("id", where.product_id)),
        str(product.get("date_modified_gmt") or "") or None,
        detail={"changed": sorted(changes), "sku": upsert.sku},
    )
