"""Writes back to the shop: an order's status and shipment tracking, and stock levels by SKU.

Both read the record first and change only what differs, so a retried or replayed write is
an ``Ack`` without a change (``detail["changed"]`` is empty).

Order write (stream ``orders``)::

    {"id": 1042, "status": "completed",
     "tracking": {"carrier": "DHL", "number": "00340434161234567890", "url": "https://..."},
     "note": "optional text of the customer note (default: carrier and number)"}

sets the status, the tracking meta data (keys from the settings) and adds the customer note
once (an order already carrying a customer note with that text gets none). A record with only
``{"id", "note"}`` adds that customer note once and changes nothing else (a service request's
status shown on its order). ``"meta": {key: text}`` sets further order meta data (the ERP's
invoice number and payment status), only the keys whose value differs.

Stock write (stream ``stock``)::

    {"sku": "MUG-TRAVEL-BLK", "quantity": 12}

finds the product or variation with that SKU and sets ``manage_stock`` and
``stock_quantity``; only the SKUs given are touched.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from canonical.errors import FieldError, InvalidRecord, PermanentError, TransientError
from connectors.base import Ack
from connectors.webshop.api import ShopApi

SYSTEM = "webshop"


def _text(record: Mapping[str, Any], path: str, value: Any, errors: list[FieldError]) -> str:
    if isinstance(value, str) and value.strip():
        return value.strip()
    errors.append(FieldError(path, f"{value!r} is not a non-empty text"))
    return ""


@dataclass(frozen=True)
class OrderUpdate:
    key: str
    order_id: int
    status: str | None
    carrier: str | None
    number: str | None
    url: str | None
    note: str | None
    meta: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, record: Mapping[str, Any]) -> OrderUpdate:
        raw_id = record.get("id")
        key = str(record.get("key") or raw_id)
        errors: list[FieldError] = []
        order_id = 0
        if isinstance(raw_id, int | str) and not isinstance(raw_id, bool) and str(raw_id).isdigit():
            order_id = int(raw_id)
        else:
            errors.append(FieldError("id", f"{raw_id!r} is not an order id"))
        status = record.get("status")
        status = _text(record, "status", status, errors) if status is not None else None
        tracking = record.get("tracking")
        carrier = number = url = None
        if tracking is not None:
            if isinstance(tracking, Mapping):
                carrier = _text(record, "tracking.carrier", tracking.get("carrier"), errors)
                number = _text(record, "tracking.number", tracking.get("number"), errors)
                url = str(tracking["url"]) if tracking.get("url") else None
            else:
                errors.append(FieldError("tracking", "is not an object"))
        meta = _meta_pairs(record.get("meta"), errors)
        if status is None and tracking is None and not record.get("note") and not meta:
            errors.append(
                FieldError("", "nothing to write: give a status, tracking, meta or a note")
            )
        if errors:
            raise InvalidRecord(SYSTEM, key, errors, entity="order update")
        note = str(record["note"]) if record.get("note") else None
        return cls(key, order_id, status, carrier, number, url, note, meta)

    def note_text(self) -> str | None:
        if self.note:
            return self.note
        if self.number is None:
            return None
        text = f"Your order has been shipped with {self.carrier}. Tracking number: {self.number}."
        return text + (f" Track it at {self.url}" if self.url else "")


def _meta_pairs(value: Any, errors: list[FieldError]) -> tuple[tuple[str, str], ...]:
    """``meta``: order meta data to set, ``{key: text}`` (e.g. the ERP's invoice number)."""
    if value is None:
        return ()
    if not isinstance(value, Mapping):
        errors.append(FieldError("meta", "is not an object"))
        return ()
    pairs: list[tuple[str, str]] = []
    for name, text in value.items():
        if not isinstance(name, str) or not name or isinstance(text, (dict, list)):
            errors.append(FieldError(f"meta.{name}", "must be a key with a text value"))
            continue
        pairs.append((name, "" if text is None else str(text)))
    return tuple(sorted(pairs))


def _object(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise PermanentError(f"{what}: the shop answered a {type(value).__name__}, not an object")
    return value


def _meta(order: Mapping[str, Any]) -> dict[str, Any]:
    entries = order.get("meta_data") or []
    return {m["key"]: m.get("value") for m in entries if isinstance(m, Mapping) and "key" in m}


def write_order(api: ShopApi, update: OrderUpdate) -> Ack:
    """Status, tracking meta and customer note of one order, changing only what differs."""
    s = api.settings
    path = f"/orders/{update.order_id}"
    order = _object(api.get(path), f"GET {path}")
    changes: dict[str, Any] = {}
    if update.status is not None and order.get("status") != update.status:
        changes["status"] = update.status
    wanted = {s.tracking_carrier_key: update.carrier, s.tracking_number_key: update.number}
    if update.url:
        wanted[s.tracking_url_key] = update.url
    wanted.update(dict(update.meta))
    current = _meta(order)
    meta = [
        {"key": k, "value": v} for k, v in wanted.items() if v is not None and current.get(k) != v
    ]
    if meta:
        changes["meta_data"] = meta
    if changes:
        order = _object(api.put(path, changes), f"PUT {path}")
    note_added = False
    text = update.note_text()
    if text is not None:
        notes = api.get(f"{path}/notes", {"type": "customer"})
        if not isinstance(notes, list):
            raise PermanentError(f"GET {path}/notes: the shop answered no list")
        if not any(isinstance(n, Mapping) and n.get("note") == text for n in notes):
            api.post(f"{path}/notes", {"note": text, "customer_note": True})
            note_added = True
    return Ack(
        key=update.key,
        external_id=str(order.get("id", update.order_id)),
        version=str(order.get("date_modified_gmt") or "") or None,
        detail={
            "changed": sorted(changes),
            "note_added": note_added,
            "status": order.get("status"),
        },
    )


@dataclass(frozen=True)
class StockUpdate:
    key: str
    sku: str
    quantity: int

    @classmethod
    def parse(cls, record: Mapping[str, Any]) -> StockUpdate:
        errors: list[FieldError] = []
        sku = _text(record, "sku", record.get("sku"), errors)
        key = str(record.get("key") or sku or "?")
        quantity = record.get("quantity")
        if isinstance(quantity, str) and quantity.strip().lstrip("-").isdigit():
            quantity = int(quantity)
        if isinstance(quantity, bool) or not isinstance(quantity, int):
            errors.append(FieldError("quantity", f"{quantity!r} is not a whole number"))
            quantity = 0
        if errors:
            raise InvalidRecord(SYSTEM, key, errors, entity="stock level")
        return cls(key, sku, quantity)


@dataclass(frozen=True)
class Located:
    """Where a SKU lives: a product, or a variation of ``parent_id``."""

    product_id: int
    parent_id: int | None

    @property
    def path(self) -> str:
        if self.parent_id:
            return f"/products/{self.parent_id}/variations/{self.product_id}"
        return f"/products/{self.product_id}"


def sku_index(api: ShopApi) -> dict[str, Located | PermanentError]:
    """Every SKU of the catalogue (products and variations); a SKU used twice maps to the
    error saying so."""
    index: dict[str, Located | PermanentError] = {}
    variable: list[int] = []

    def add(item: Any, parent: int | None) -> None:
        if not isinstance(item, Mapping) or not item.get("sku"):
            return
        sku, here = str(item["sku"]), Located(int(item["id"]), parent)
        if sku in index:
            index[sku] = PermanentError(f"SKU {sku!r} is used by more than one product")
        else:
            index[sku] = here

    for items in api.every("/products", {"orderby": "id", "order": "asc"}):
        for item in items:
            add(item, None)
            if isinstance(item, Mapping) and item.get("type") == "variable":
                variable.append(int(item["id"]))
    for parent in variable:
        for items in api.every(f"/products/{parent}/variations", {"orderby": "id", "order": "asc"}):
            for item in items:
                add(item, parent)
    return index


def write_stock(api: ShopApi, update: StockUpdate, where: Located | PermanentError | None) -> Ack:
    """Sets one SKU's stock level (and turns stock management on) unless it is already so."""
    if where is None:
        raise PermanentError(
            f"webshop stock {update.key}: no product or variation has SKU {update.sku!r}"
        )
    if isinstance(where, PermanentError):
        raise where
    product = _object(api.get(where.path), f"GET {where.path}")
    if str(product.get("sku") or "") != update.sku:  # the SKU index is out of date
        raise TransientError(
            f"webshop stock {update.key}: {where.path} no longer has SKU {update.sku!r}"
        )
    same = product.get("manage_stock") is True and product.get("stock_quantity") == update.quantity
    if not same:
        body = {"manage_stock": True, "stock_quantity": update.quantity}
        product = _object(api.put(where.path, body), f"PUT {where.path}")
    return Ack(
        key=update.key,
        external_id=str(product.get("id", where.product_id)),
        version=str(product.get("date_modified_gmt") or "") or None,
        detail={"changed": [] if same else ["stock_quantity"], "sku": update.sku},
    )
