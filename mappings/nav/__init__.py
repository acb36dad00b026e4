"""Canonical <-> Dynamics NAV / Business Central page web services (Customer, Sales_Order,
Item, Posted_Sales_Shipment, Posted_Sales_Invoice).

Field names are those of the standard pages as published over SOAP (``Customer``,
``Sales_Order`` with ``SalesLines/Sales_Order_Line``). ``External_Document_No`` carries the web
shop's order number: the ERP connector looks it up before creating, which makes the write
idempotent. The rules are in the ``*.yaml`` files next to this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from canonical.models import Customer, InventoryLevel, Invoice, Product, SalesOrder, Shipment
from mappings.engine import load_mapping

SYSTEM = "erp"
HERE = Path(__file__).parent


def customer_to_nav(customer: Customer, *, no: str | None = None) -> dict[str, Any]:
    record: dict[str, Any] = (
        load_mapping(HERE / "customer.from_canonical.yaml").map(customer, params={"no": no}).value
    )
    return record


@dataclass(frozen=True)
class ShippingCharge:
    """The order line that carries an order's shipping charge (see the sales order mappings).

    ``None`` for a field keeps the mapping file's default (a G/L account line, No "6110").
    """

    type: str | None = None  # G_L_Account, or Charge_Item
    account: str | None = None  # the freight G/L account (or the charge item's No)
    description: str | None = None

    def params(self, *, write: bool) -> dict[str, str]:
        given = {"shipping_type": self.type, "shipping_account": self.account}
        if write:
            given["shipping_description"] = self.description
        return {name: value for name, value in given.items() if value is not None}


def sales_order_to_nav(
    order: SalesOrder, *, customer_no: str, shipping: ShippingCharge | None = None
) -> dict[str, Any]:
    """The Sales_Order record; a shipping total above zero is one more line (``shipping``)."""
    params = {"customer_no": customer_no} | (shipping or ShippingCharge()).params(write=True)
    record: dict[str, Any] = (
        load_mapping(HERE / "sales_order.from_canonical.yaml").map(order, params=params).value
    )
    return record


def customer_from_nav(record: Any, *, lcy: str = "EUR") -> Customer:
    """A NAV Customer page record (as zeep or xmltodict gives it) as a canonical Customer."""
    mapped = load_mapping(HERE / "customer.to_canonical.yaml").map(record, params={"lcy": lcy})
    assert isinstance(mapped.value, Customer)
    return mapped.value


def sales_order_from_nav(
    record: Any, *, lcy: str = "EUR", shipping: ShippingCharge | None = None
) -> SalesOrder:
    """A NAV Sales_Order page record as a canonical SalesOrder: lines from SalesLines, except
    the shipping charge line (``shipping``), which is the shipping total."""
    params = {"lcy": lcy} | (shipping or ShippingCharge()).params(write=False)
    mapped = load_mapping(HERE / "sales_order.to_canonical.yaml").map(record, params=params)
    assert isinstance(mapped.value, SalesOrder)
    return mapped.value


def product_from_nav(record: Any, *, lcy: str = "EUR") -> Product:
    """A NAV Item page record as a canonical Product (the item No is the SKU)."""
    mapped = load_mapping(HERE / "item.to_canonical.yaml").map(record, params={"lcy": lcy})
    assert isinstance(mapped.value, Product)
    return mapped.value


def inventory_from_nav(
    record: Any, *, location: str = "ALL", as_of: datetime | str | None = None
) -> InventoryLevel:
    """A NAV Item page record's Inventory / Qty_on_Sales_Order as a canonical InventoryLevel
    (``as_of``: when the record was read; else its last modification)."""
    params = {"location": location, "as_of": as_of}
    mapped = load_mapping(HERE / "item_inventory.to_canonical.yaml").map(record, params=params)
    assert isinstance(mapped.value, InventoryLevel)
    return mapped.value


def shipment_from_nav(record: Any) -> Shipment:
    """A NAV Posted_Sales_Shipment page record as a canonical Shipment (its Item lines)."""
    mapped = load_mapping(HERE / "posted_shipment.to_canonical.yaml").map(record)
    assert isinstance(mapped.value, Shipment)
    return mapped.value


def invoice_from_nav(record: Any, *, lcy: str = "EUR") -> Invoice:
    """A NAV Posted_Sales_Invoice page record as a canonical Invoice with its payment status."""
    mapped = load_mapping(HERE / "posted_invoice.to_canonical.yaml").map(
        record, params={"lcy": lcy}
    )
    assert isinstance(mapped.value, Invoice)
    return mapped.value


def item_to_nav(product: Product) -> dict[str, Any]:
    """The Item page record of a product (No = SKU): ``item.from_canonical.yaml``."""
    record: dict[str, Any] = load_mapping(HERE / "item.from_canonical.yaml").map(product).value
    return record
