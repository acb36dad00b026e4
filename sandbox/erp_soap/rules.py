"""Business rules of the sandbox ERP, run on Create/Update before a record is stored.

A page names its rules in ``pages.py``; each rule may fill derived fields or raise
``BusinessError`` with the message NAV would show.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

Record = dict[str, Any]
Lookup = Callable[[str, str], Mapping[str, Any] | None]
Rule = Callable[[Record, Lookup], None]


class BusinessError(Exception):
    """A rule violation, answered as a NAV ServiceBrokerException Fault."""


def _dec(value: object) -> Decimal:
    return Decimal(str(value)) if value not in (None, "") else Decimal(0)


def _money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01")))


def customer_name_required(record: Record, lookup: Lookup) -> None:
    if not str(record.get("Name") or "").strip():
        raise BusinessError(
            f"Name must have a value in Customer: No.={record.get('No', '')}. "
            "It cannot be zero or empty."
        )


def sell_to_customer_exists(record: Record, lookup: Lookup) -> None:
    no = str(record.get("Sell_to_Customer_No") or "")
    if not no:
        raise BusinessError(
            f"Sell-to Customer No. must have a value in Sales Header: Document Type=Order, "
            f"No.={record.get('No', '')}. It cannot be zero or empty."
        )
    customer = lookup("Customer", no)
    if customer is None:
        raise BusinessError(
            f"The Customer does not exist. Identification fields and values: No.='{no}'"
        )
    if customer.get("Blocked") == "All":
        raise BusinessError(
            f"You cannot create this type of document when Customer {no} is blocked with type All"
        )
    record.setdefault("Sell_to_Customer_Name", customer.get("Name", ""))
    for target, source in (
        ("Sell_to_Address", "Address"),
        ("Sell_to_City", "City"),
        ("Sell_to_Post_Code", "Post_Code"),
        ("Sell_to_Country_Region_Code", "Country_Region_Code"),
        ("Payment_Terms_Code", "Payment_Terms_Code"),
    ):
        if not record.get(target) and customer.get(source):
            record[target] = customer[source]


def order_line_amounts(record: Record, lookup: Lookup) -> None:
    """Line_Amount = Quantity x Unit_Price less the line discount (percent, then amount);
    the sandbox has no VAT."""
    total = Decimal(0)
    lines = record.get("SalesLines")
    for line in lines if isinstance(lines, list) else []:
        amount = _dec(line.get("Quantity")) * _dec(line.get("Unit_Price"))
        amount *= 1 - _dec(line.get("Line_Discount_Percent")) / 100
        amount -= _dec(line.get("Line_Discount_Amount"))
        line["Line_Amount"] = _money(amount)
        total += amount
    record["Amount_Including_VAT"] = _money(total)


def credit_limit(record: Record, lookup: Lookup) -> None:
    """Balance plus this order may not exceed a customer's credit limit (when one is set)."""
    no = str(record.get("Sell_to_Customer_No") or "")
    customer = lookup("Customer", no) or {}
    limit = _dec(customer.get("Credit_Limit_LCY"))
    exposure = _dec(customer.get("Balance_LCY")) + _dec(record.get("Amount_Including_VAT"))
    if limit > 0 and exposure > limit:
        raise BusinessError(
            f"The credit limit of customer {no} has been exceeded. "
            f"Credit Limit (LCY): {_money(limit)}, balance and this order: {_money(exposure)}."
        )


RULES: dict[str, Rule] = {
    "customer_name_required": customer_name_required,
    "sell_to_customer_exists": sell_to_customer_exists,
    "order_line_amounts": order_line_amounts,
    "credit_limit": credit_limit,
}
