"""Canonical -> Microsoft Dynamics NAV / Business Central page web services (Customer, Sales_Order).

Field names are those of the standard pages as published over SOAP (``Customer``, ``Sales_Order``
with ``SalesLines/Sales_Order_Line``). ``External_Document_No`` carries the web shop's order
number: the ERP connector looks it up before creating, which makes the write idempotent.
"""

from __future__ import annotations

from typing import Any

from canonical.models import Address, AddressKind, Customer, SalesOrder

SYSTEM = "erp"
EXTERNAL_DOCUMENT_NO_MAX = 35  # NAV's Code[35]


def _primary_address(customer: Customer) -> Address | None:
    for kind in (AddressKind.BILLING, AddressKind.BOTH, AddressKind.SHIPPING):
        for address in customer.addresses:
            if address.kind == kind:
                return address
    return None


def _drop_empty(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if v not in (None, "")}


def customer_to_nav(customer: Customer, *, no: str | None = None) -> dict[str, Any]:
    address = _primary_address(customer)
    record: dict[str, Any] = {
        "No": no,
        "Name": customer.name,
        "E_Mail": customer.email,
        "Phone_No": customer.phone,
        "VAT_Registration_No": customer.vat_number,
        "Currency_Code": customer.currency,
        "Payment_Terms_Code": customer.payment_terms,
    }
    if customer.credit_limit is not None:
        record["Credit_Limit_LCY"] = customer.credit_limit.amount
    if address is not None:
        record |= {
            "Address": address.street,
            "Address_2": address.street2,
            "City": address.city,
            "Post_Code": address.postal_code,
            "County": address.subdivision,
            "Country_Region_Code": address.country,
        }
    return _drop_empty(record)


def sales_order_to_nav(order: SalesOrder, *, customer_no: str) -> dict[str, Any]:
    lines = [
        _drop_empty(
            {
                "Type": "Item",
                "No": line.sku,
                "Description": (line.description or "")[:100],
                "Quantity": line.quantity,
                "Unit_of_Measure_Code": line.unit_of_measure,
                "Unit_Price": line.unit_price.amount,
                "Line_Amount": line.line_total.amount,
            }
        )
        for line in order.lines
    ]
    record: dict[str, Any] = {
        "Sell_to_Customer_No": customer_no,
        "External_Document_No": order.order_number[:EXTERNAL_DOCUMENT_NO_MAX],
        "Order_Date": order.ordered_at.date(),
        "Currency_Code": order.currency,
        "SalesLines": {"Sales_Order_Line": lines},
    }
    ship_to = order.shipping_address
    if ship_to is not None:
        record |= {
            "Ship_to_Name": ship_to.name or ship_to.company,
            "Ship_to_Address": ship_to.street,
            "Ship_to_City": ship_to.city,
            "Ship_to_Post_Code": ship_to.postal_code,
            "Ship_to_Country_Region_Code": ship_to.country,
        }
    return _drop_empty(record)
