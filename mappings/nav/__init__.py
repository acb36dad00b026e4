"""Canonical <-> Dynamics NAV / Business Central page web services (Customer, Sales_Order).

Field names are those of the standard pages as published over SOAP (``Customer``,
``Sales_Order`` with ``SalesLines/Sales_Order_Line``). ``External_Document_No`` carries the web
shop's order number: the ERP connector looks it up before creating, which makes the write
idempotent. The rules are in the ``*.yaml`` files next to this module.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from canonical.models import Customer, SalesOrder
from mappings.engine import load_mapping

SYSTEM = "erp"
HERE = Path(__file__).parent


def customer_to_nav(customer: Customer, *, no: str | None = None) -> dict[str, Any]:
    record: dict[str, Any] = (
        load_mapping(HERE / "customer.from_canonical.yaml").map(customer, params={"no": no}).value
    )
    return record


SHIPPING_CHARGE = {"Type": "G_L_Account", "No": "6110", "Description": "Shipping"}
"""The line that carries an order's shipping charge: a G/L account line, as NAV posts freight.
Set ``No`` to the freight account of the ERP's chart of accounts (or use ``Charge_Item``)."""


def sales_order_to_nav(
    order: SalesOrder, *, customer_no: str, shipping_charge: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The Sales_Order record; a shipping total above zero becomes one more line."""
    record: dict[str, Any] = (
        load_mapping(HERE / "sales_order.from_canonical.yaml")
        .map(order, params={"customer_no": customer_no})
        .value
    )
    shipping = order.shipping_total
    if shipping is not None and shipping.amount > 0:
        line = {
            **(shipping_charge or SHIPPING_CHARGE),
            "Quantity": 1,
            "Unit_Price": shipping.amount,
        }
        record["SalesLines"]["Sales_Order_Line"].append(line)
    return record


def customer_from_nav(record: Any, *, lcy: str = "EUR") -> Customer:
    """A NAV Customer page record (as zeep or xmltodict gives it) as a canonical Customer."""
    mapped = load_mapping(HERE / "customer.to_canonical.yaml").map(record, params={"lcy": lcy})
    assert isinstance(mapped.value, Customer)
    return mapped.value


def sales_order_from_nav(record: Any, *, lcy: str = "EUR") -> SalesOrder:
    """A NAV Sales_Order page record as a canonical SalesOrder (lines from SalesLines)."""
    mapped = load_mapping(HERE / "sales_order.to_canonical.yaml").map(record, params={"lcy": lcy})
    assert isinstance(mapped.value, SalesOrder)
    return mapped.value
