"""Posting sales orders, as NAV's sales-post codeunit does: shipments, invoices and payments.

``post_shipment`` ships each line's ``Qty_to_Ship`` (or the quantities given per line), lowers
the items' Inventory, writes a Posted_Sales_Shipment and releases the order.
``post_invoice`` invoices what has been shipped and not invoiced yet, writes a
Posted_Sales_Invoice and raises the customer's balance; an order that is then fully shipped and
invoiced is deleted, as NAV deletes it (its history stays in the posted documents, which carry
``Order_No`` and ``External_Document_No``). ``register_payment`` applies a payment to an
invoice's Remaining_Amount (``Closed`` once it reaches zero) and lowers the balance.

Each call checks everything first and then writes, so a refused posting changes nothing.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sandbox.erp_soap.pages import PAGES
from sandbox.erp_soap.rules import BusinessError, dec, item_exists, money, qty
from sandbox.erp_soap.store import Record, Store

ORDER, ITEM, CUSTOMER = PAGES["Sales_Order"], PAGES["Item"], PAGES["Customer"]
SHIPMENT, INVOICE = PAGES["Posted_Sales_Shipment"], PAGES["Posted_Sales_Invoice"]
_COPIED = (
    "Sell_to_Customer_No",
    "Sell_to_Customer_Name",
    "Sell_to_Address",
    "Sell_to_City",
    "Sell_to_Post_Code",
    "Sell_to_Country_Region_Code",
    "Sell_to_Contact",
    "Requested_Delivery_Date",
    "External_Document_No",
    "Salesperson_Code",
    "Ship_to_Name",
    "Ship_to_Address",
    "Ship_to_City",
    "Ship_to_Post_Code",
    "Ship_to_Country_Region_Code",
)
_TERMS_DAYS = re.compile(r"(\d+)\s*D", re.IGNORECASE)


def today_utc() -> date:
    return datetime.now(UTC).date()


def due_date(posting: date, payment_terms: str) -> date:
    """``14 DAYS``/``30D``: that many days later; ``CM``: end of the month; else the same day."""
    found = _TERMS_DAYS.search(payment_terms)
    if found:
        return posting + timedelta(days=int(found[1]))
    if payment_terms.upper() == "CM":
        return posting.replace(day=calendar.monthrange(posting.year, posting.month)[1])
    return posting


class Posting:
    """The SalesOrderPosting codeunit's logic over the store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # -- shipments -----------------------------------------------------------------------------

    def post_shipment(
        self,
        order_no: str,
        ship_lines: Sequence[tuple[int, Decimal]] | None = None,
        *,
        shipping_agent_code: str = "",
        package_tracking_no: str = "",
        posting_date: date | None = None,
    ) -> str:
        """The posted shipment's No.; BusinessError when nothing can be shipped."""
        day = posting_date or today_utc()
        with self.store.lock:
            order = self._order(order_no)
            self._customer_may(order, "Ship")
            quantities = self._quantities(order, ship_lines)
            if not any(quantities.values()):
                raise BusinessError("There is nothing to post.")
            inventory = self._inventory_after(order, quantities)
            ship_lines_out: list[Record] = []
            for line in order["SalesLines"]:
                shipped = quantities.get(line["Line_No"], Decimal(0))
                if shipped == 0:
                    continue
                line["Quantity_Shipped"] = qty(dec(line.get("Quantity_Shipped")) + shipped)
                outstanding = dec(line.get("Quantity")) - dec(line["Quantity_Shipped"])
                line["Outstanding_Quantity"] = line["Qty_to_Ship"] = qty(outstanding)
                line["_version"] = -1
                ship_lines_out.append(_shipment_line(line, shipped, day))
            shipment = _header(order, day)
            shipment |= {
                "Shipment_Date": day.isoformat(),
                "Shipping_Agent_Code": shipping_agent_code,
                "Package_Tracking_No": package_tracking_no,
                "Location_Code": "",
                "SalesShipmLines": _numbered(ship_lines_out),
            }
            order["Status"] = "Released"
            with self.store.bulk():
                for item_no, level in inventory.items():
                    self.store.set_flow_fields("Item", item_no, {"Inventory": qty(level)})
                self.store.put(ORDER, order)
                posted = self.store.put(SHIPMENT, shipment)
            return str(posted["No"])

    def _quantities(
        self, order: Record, ship_lines: Sequence[tuple[int, Decimal]] | None
    ) -> dict[str, Decimal]:
        """Line_No -> quantity to ship now. Given lines ship what is given; Item lines not given
        ship nothing; other lines (shipping charges) ship their Qty_to_Ship."""
        lines = {line["Line_No"]: line for line in order["SalesLines"]}
        given: dict[str, Decimal] = {}
        for line_no, quantity in ship_lines or ():
            if str(line_no) not in lines:
                raise BusinessError(
                    "The Sales Line does not exist. Identification fields and values: "
                    f"Document Type='Order',Document No.='{order['No']}',Line No.='{line_no}'"
                )
            given[str(line_no)] = given.get(str(line_no), Decimal(0)) + quantity
        out: dict[str, Decimal] = {}
        for line_no, line in lines.items():
            outstanding = dec(line.get("Quantity")) - dec(line.get("Quantity_Shipped"))
            if line_no in given:
                wanted = given[line_no]
            elif ship_lines is not None and line.get("Type") == "Item":
                wanted = Decimal(0)
            elif line.get("Qty_to_Ship") in (None, ""):
                wanted = outstanding
            else:
                wanted = dec(line["Qty_to_Ship"])
            if wanted < 0:
                raise BusinessError(f"Qty. to Ship must not be negative (line {line_no}).")
            if wanted > outstanding:
                raise BusinessError(f"You cannot ship more than {qty(outstanding)} units.")
            out[line_no] = wanted
        return out

    def _inventory_after(
        self, order: Record, quantities: Mapping[str, Decimal]
    ) -> dict[str, Decimal]:
        """Item No. -> Inventory after shipping; refuses a shortage unless negative stock is on."""
        needed: dict[str, Decimal] = {}
        for line in order["SalesLines"]:
            shipped = quantities.get(line["Line_No"], Decimal(0))
            if line.get("Type") == "Item" and shipped:
                no = str(line.get("No") or "")
                needed[no] = needed.get(no, Decimal(0)) + shipped
        after: dict[str, Decimal] = {}
        for no, quantity in needed.items():
            item = item_exists(no, self.store)
            if item is None or item.get("Type", "Inventory") != "Inventory":
                continue  # no item master (bare ERP) or a service: no stock to keep
            available = dec(item.get("Inventory"))
            if available < quantity and not self.store.allow_negative_inventory:
                raise BusinessError(
                    f"You have insufficient quantity of Item {no} on inventory. "
                    f"Inventory: {qty(available)}, quantity to ship: {qty(quantity)}."
                )
            after[no] = available - quantity
        return after

    # -- invoices ------------------------------------------------------------------------------

    def post_invoice(self, order_no: str, *, posting_date: date | None = None) -> str:
        """Invoices every shipped, not yet invoiced quantity; the posted invoice's No."""
        day = posting_date or today_utc()
        with self.store.lock:
            order = self._order(order_no)
            customer = self._customer_may(order, "Invoice")
            inv_lines: list[Record] = []
            total = Decimal(0)
            for line in order["SalesLines"]:
                quantity = dec(line.get("Quantity_Shipped")) - dec(line.get("Quantity_Invoiced"))
                if quantity <= 0:
                    continue
                amount = _line_amount(line, quantity)
                total += amount
                line["Quantity_Invoiced"] = qty(dec(line.get("Quantity_Invoiced")) + quantity)
                line["_version"] = -1
                inv_lines.append(_invoice_line(line, quantity, amount))
            if not inv_lines:
                raise BusinessError("There is nothing to post.")
            invoice = _header(order, day)
            invoice |= {
                "Due_Date": due_date(day, str(order.get("Payment_Terms_Code") or "")).isoformat(),
                "Currency_Code": order.get("Currency_Code", ""),
                "Payment_Terms_Code": order.get("Payment_Terms_Code", ""),
                "Shipment_Date": day.isoformat(),
                "Bill_to_Name": customer.get("Name", ""),
                "Amount": money(total),
                "Amount_Including_VAT": money(total),
                "Remaining_Amount": money(total),
                "Closed": "false" if total else "true",
                "Cancelled": "false",
                "SalesInvLines": _numbered(inv_lines),
            }
            balance = dec(customer.get("Balance_LCY")) + total
            with self.store.bulk():
                posted = self.store.put(INVOICE, invoice)
                self.store.set_flow_fields(
                    "Customer", customer["No"], {"Balance_LCY": money(balance)}
                )
                if all(_complete(line) for line in order["SalesLines"]):
                    self.store.remove("Sales_Order", order["No"])
                else:
                    self.store.put(ORDER, order)
            return str(posted["No"])

    # -- payments ------------------------------------------------------------------------------

    def register_payment(self, invoice_no: str, amount: Decimal) -> Decimal:
        """Applies a payment; the invoice's new Remaining_Amount."""
        with self.store.lock:
            invoice = self.store.lookup("Posted_Sales_Invoice", invoice_no)
            if invoice is None:
                raise BusinessError(
                    "The Sales Invoice Header does not exist. Identification fields and values: "
                    f"No.='{invoice_no}'"
                )
            remaining = dec(invoice.get("Remaining_Amount"))
            if amount <= 0:
                raise BusinessError(f"The payment amount must be positive, not {amount}.")
            if amount > remaining:
                raise BusinessError(
                    f"The payment of {money(amount)} exceeds the remaining amount "
                    f"{money(remaining)} of posted sales invoice {invoice_no}."
                )
            left = remaining - amount
            customer_no = str(invoice.get("Bill_to_Customer_No") or "")
            customer = self.store.lookup("Customer", customer_no) or {}
            with self.store.bulk():
                self.store.set_flow_fields(
                    "Posted_Sales_Invoice",
                    invoice_no,
                    {"Remaining_Amount": money(left), "Closed": "true" if left == 0 else "false"},
                )
                if customer:
                    balance = dec(customer.get("Balance_LCY")) - amount
                    self.store.set_flow_fields(
                        "Customer", customer_no, {"Balance_LCY": money(balance)}
                    )
            return left.quantize(Decimal("0.01"))

    # -- shared --------------------------------------------------------------------------------

    def _order(self, order_no: str) -> Record:
        order = self.store.lookup("Sales_Order", order_no)
        if order is None:
            raise BusinessError(
                "The Sales Header does not exist. Identification fields and values: "
                f"Document Type='Order',No.='{order_no}'"
            )
        return order

    def _customer_may(self, order: Record, what: str) -> Record:
        no = str(order.get("Sell_to_Customer_No") or "")
        customer = self.store.lookup("Customer", no)
        if customer is None:
            raise BusinessError(
                f"The Customer does not exist. Identification fields and values: No.='{no}'"
            )
        if customer.get("Blocked") in (what, "All"):
            raise BusinessError(
                f"You cannot post this type of document when Customer {no} is blocked with type "
                f"{customer['Blocked']}"
            )
        return customer


def _header(order: Record, day: date) -> Record:
    out: Record = {name: order.get(name, "") for name in _COPIED}
    out |= {
        "Order_No": order["No"],
        "Posting_Date": day.isoformat(),
        "Document_Date": day.isoformat(),
        "Bill_to_Customer_No": order.get("Sell_to_Customer_No", ""),
    }
    return {k: v for k, v in out.items() if v not in (None, "")}


def _numbered(lines: list[Record]) -> list[Record]:
    for index, line in enumerate(lines, start=1):
        line["Line_No"] = str(index * 10000)
    return lines


def _shipment_line(line: Record, quantity: Decimal, day: date) -> Record:
    out = {k: line.get(k) for k in ("Type", "No", "Description", "Location_Code")}
    out |= {
        "Quantity": qty(quantity),
        "Unit_of_Measure_Code": line.get("Unit_of_Measure_Code"),
        "Order_Line_No": line["Line_No"],
        "Shipment_Date": day.isoformat(),
    }
    return {k: v for k, v in out.items() if v not in (None, "")}


def _line_amount(line: Record, quantity: Decimal) -> Decimal:
    """This quantity's share of the line: price less percent discount less its part of the
    discount amount."""
    amount = quantity * dec(line.get("Unit_Price"))
    amount *= 1 - dec(line.get("Line_Discount_Percent")) / 100
    total = dec(line.get("Quantity"))
    if total:
        amount -= dec(line.get("Line_Discount_Amount")) * quantity / total
    return amount.quantize(Decimal("0.01"))


def _invoice_line(line: Record, quantity: Decimal, amount: Decimal) -> Record:
    out = {k: line.get(k) for k in ("Type", "No", "Description", "Unit_of_Measure_Code")}
    out |= {
        "Quantity": qty(quantity),
        "Unit_Price": line.get("Unit_Price"),
        "Line_Discount_Percent": line.get("Line_Discount_Percent"),
        "Line_Discount_Amount": line.get("Line_Discount_Amount"),
        "Line_Amount": money(amount),
        "Order_Line_No": line["Line_No"],
    }
    return {k: v for k, v in out.items() if v not in (None, "")}


def _complete(line: Record) -> bool:
    quantity = dec(line.get("Quantity"))
    return dec(line.get("Quantity_Shipped")) >= quantity and (
        dec(line.get("Quantity_Invoiced")) >= quantity
    )
