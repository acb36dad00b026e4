"""Business rules of the sandbox ERP, run on Create/Update (and Delete) before a change is stored.

A page names its rules in ``pages.py``; each rule may fill derived fields or raise
``BusinessError`` with the message NAV would show. Rules see the store through ``Context``:
``lookup`` returns the stored record (before this change), ``count`` how many a page holds.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, Protocol

Record = dict[str, Any]


class Context(Protocol):
    strict_items: bool

    def lookup(self, page: str, no: str) -> Mapping[str, Any] | None: ...

    def count(self, page: str) -> int: ...


Rule = Callable[[Record, Context], None]


class BusinessError(Exception):
    """A rule violation, answered as a NAV ServiceBrokerException Fault."""


def dec(value: object) -> Decimal:
    return Decimal(str(value)) if value not in (None, "") else Decimal(0)


def money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01")))


def qty(value: Decimal) -> str:
    """A quantity as NAV prints it: no exponent, no trailing zeros."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def customer_name_required(record: Record, ctx: Context) -> None:
    if not str(record.get("Name") or "").strip():
        raise BusinessError(
            f"Name must have a value in Customer: No.={record.get('No', '')}. "
            "It cannot be zero or empty."
        )


def item_description_required(record: Record, ctx: Context) -> None:
    if not str(record.get("Description") or "").strip():
        raise BusinessError(
            f"Description must have a value in Item: No.={record.get('No', '')}. "
            "It cannot be zero or empty."
        )


def sell_to_customer_exists(record: Record, ctx: Context) -> None:
    no = str(record.get("Sell_to_Customer_No") or "")
    if not no:
        raise BusinessError(
            f"Sell-to Customer No. must have a value in Sales Header: Document Type=Order, "
            f"No.={record.get('No', '')}. It cannot be zero or empty."
        )
    customer = ctx.lookup("Customer", no)
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


def _lines(record: Record) -> list[Record]:
    lines = record.get("SalesLines")
    return lines if isinstance(lines, list) else []


def item_exists(no: str, ctx: Context) -> Mapping[str, Any] | None:
    """The item; BusinessError when it is missing and items are checked (``strict_items`` and
    an item master that is not empty: a bare ERP without items accepts any number)."""
    item = ctx.lookup("Item", no)
    if item is None and ctx.strict_items and ctx.count("Item") > 0:
        raise BusinessError(
            f"The Item does not exist. Identification fields and values: No.='{no}'"
        )
    if item is not None and item.get("Blocked") == "true":
        raise BusinessError(
            f"Blocked must be equal to 'No'  in Item: No.={no}. Current value is 'Yes'."
        )
    return item


def order_line_items(record: Record, ctx: Context) -> None:
    """Item lines must name an item of the item master; blank descriptions, units and prices
    are filled from the item as NAV does when ``No.`` is validated. Other line types (G/L
    account lines for shipping charges, resources...) are not checked."""
    for line in _lines(record):
        if line.get("Type") != "Item":
            continue
        item = item_exists(str(line.get("No") or ""), ctx)
        if item is None:
            continue
        for target, source in (
            ("Description", "Description"),
            ("Unit_of_Measure_Code", "Base_Unit_of_Measure"),
            ("Unit_Price", "Unit_Price"),
        ):
            if line.get(target) in (None, "") and item.get(source):
                line[target] = item[source]


def order_line_quantities(record: Record, ctx: Context) -> None:
    """Quantity_Shipped/Invoiced stay within Quantity; Qty_to_Ship defaults to (and may not
    exceed) the outstanding quantity; a line that has been shipped cannot be removed."""
    before = ctx.lookup("Sales_Order", str(record.get("No") or "")) or {}
    previous = {str(line.get("Line_No")): line for line in _lines(dict(before))}
    for line in _lines(record):
        where = (
            f"Document Type=Order, Document No.={record.get('No', '')}, "
            f"Line No.={line.get('Line_No')}"
        )
        quantity, shipped = dec(line.get("Quantity")), dec(line.get("Quantity_Shipped"))
        if quantity < shipped:
            raise BusinessError(
                f"Quantity must not be less than {qty(shipped)} (the quantity shipped) in "
                f"Sales Line {where}."
            )
        outstanding = quantity - shipped
        old = previous.get(str(line.get("Line_No")))
        reset = (
            old is not None
            and dec(old.get("Quantity")) != quantity
            and (line.get("Qty_to_Ship") == old.get("Qty_to_Ship"))
        )
        if line.get("Qty_to_Ship") in (None, "") or reset:
            line["Qty_to_Ship"] = qty(outstanding)
        to_ship = dec(line["Qty_to_Ship"])
        if to_ship > outstanding:
            raise BusinessError(f"You cannot ship more than {qty(outstanding)} units.")
        if to_ship < 0:
            raise BusinessError(f"Qty. to Ship must not be negative in Sales Line {where}.")
        line["Quantity_Shipped"] = qty(shipped)
        line["Quantity_Invoiced"] = qty(dec(line.get("Quantity_Invoiced")))
        line["Outstanding_Quantity"] = qty(outstanding)
    kept = {str(line.get("Line_No")) for line in _lines(record)}
    for line_no, old in previous.items():
        if line_no not in kept and dec(old.get("Quantity_Shipped")) > 0:
            raise BusinessError(
                f"You cannot delete Sales Line Document Type=Order, Document No.="
                f"{record.get('No', '')}, Line No.={line_no} because it has been shipped."
            )


def order_not_shipped_uninvoiced(record: Record, ctx: Context) -> None:
    """An order with shipped lines that are not invoiced yet cannot be deleted."""
    for line in _lines(record):
        if dec(line.get("Quantity_Shipped")) > dec(line.get("Quantity_Invoiced")):
            raise BusinessError(
                f"You cannot delete Sales Header Document Type=Order, No.={record.get('No', '')} "
                f"because line {line.get('Line_No')} has been shipped but not invoiced."
            )


def order_line_amounts(record: Record, ctx: Context) -> None:
    """Line_Amount = Quantity x Unit_Price less the line discount (percent, then amount);
    the sandbox has no VAT."""
    total = Decimal(0)
    lines = record.get("SalesLines")
    for line in lines if isinstance(lines, list) else []:
        amount = dec(line.get("Quantity")) * dec(line.get("Unit_Price"))
        amount *= 1 - dec(line.get("Line_Discount_Percent")) / 100
        amount -= dec(line.get("Line_Discount_Amount"))
        line["Line_Amount"] = money(amount)
        total += amount
    record["Amount_Including_VAT"] = money(total)


def credit_limit(record: Record, ctx: Context) -> None:
    """Balance plus this order (its part not invoiced yet: the rest is in the balance) may not
    exceed a customer's credit limit (when one is set)."""
    no = str(record.get("Sell_to_Customer_No") or "")
    customer = ctx.lookup("Customer", no) or {}
    limit = dec(customer.get("Credit_Limit_LCY"))
    open_amount = Decimal(0)
    for line in _lines(record):
        quantity = dec(line.get("Quantity"))
        if quantity > 0:
            open_amount += (
                dec(line.get("Line_Amount"))
                * (quantity - dec(line.get("Quantity_Invoiced")))
                / quantity
            )
    exposure = dec(customer.get("Balance_LCY")) + open_amount
    if limit > 0 and exposure > limit:
        raise BusinessError(
            f"The credit limit of customer {no} has been exceeded. "
            f"Credit Limit (LCY): {money(limit)}, balance and this order: {money(exposure)}."
        )


RULES: dict[str, Rule] = {
    "customer_name_required": customer_name_required,
    "item_description_required": item_description_required,
    "sell_to_customer_exists": sell_to_customer_exists,
    "order_line_items": order_line_items,
    "order_line_quantities": order_line_quantities,
    "order_not_shipped_uninvoiced": order_not_shipped_uninvoiced,
    "order_line_amounts": order_line_amounts,
    "credit_limit": credit_limit,
}
