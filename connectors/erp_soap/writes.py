"""Idempotent writes of customers and sales orders to a NAV-style ERP.

Writes take NAV-shaped dicts (field names as in the page WSDL; order lines as
``{"SalesLines": {"Sales_Order_Line": [...]}}``) and return an ``Ack`` keyed by the input's
identity (a customer's No or E_Mail, an order's External_Document_No). Every write first looks
for the record it would create, so a retried or replayed write changes nothing twice:

- sales order: found by ``External_Document_No`` (the web shop order number) -> updated while
  Open; found among the posted shipments once the ERP shipped it -> not created again;
- customer: by ``No`` when given, else by ``E_Mail`` (exact) -> updated; otherwise created.

A whole write (look-up + create/update) is retried on transient errors; a stale ``Key`` on
update is answered by re-reading the record and trying once more.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from canonical.errors import PermanentError
from connectors.base import Ack
from connectors.erp_soap.client import NavPageClient, Record, exact
from connectors.erp_soap.settings import ErpSoapSettings
from connectors.transports.soap import RetryPolicy, StaleKeyError, with_retries

_NOT_WRITABLE = frozenset(
    {"Key", "Last_Date_Modified", "Last_Modified_Date_Time", "Line_No", "Line_Amount", "SalesLines"}
)


def _ack(no: Any, version: Any, created: bool) -> Ack:
    """An Ack whose key the public write method fills in."""
    return Ack("", str(no), None if version is None else str(version), created)


def _same(current: Any, wanted: Any) -> bool:
    if current == wanted or str(current) == str(wanted):
        return True
    try:
        return Decimal(str(current)) == Decimal(str(wanted))
    except (InvalidOperation, ValueError):
        return False


def changed_fields(current: Mapping[str, Any], wanted: Mapping[str, Any]) -> list[str]:
    """Fields of ``wanted`` (header level) whose value differs from ``current``."""
    return [
        name
        for name, value in wanted.items()
        if name not in _NOT_WRITABLE and value is not None and not _same(current.get(name), value)
    ]


def _lines(order: Mapping[str, Any]) -> list[Record]:
    container = order.get("SalesLines") or {}
    lines = container.get("Sales_Order_Line") if isinstance(container, Mapping) else None
    return list(lines or [])


def _without_lines(order: Mapping[str, Any]) -> Record:
    return {k: v for k, v in order.items() if k != "SalesLines"}


@dataclass(frozen=True)
class LinePlan:
    """How to turn an order's current lines into the wanted ones, matched by position."""

    change: list[Record]  # {Key, changed fields...}
    add: list[Record]
    remove: list[str]  # line Keys

    def is_empty(self) -> bool:
        return not (self.change or self.add or self.remove)

    def describe(self) -> list[str]:
        return (
            [f"line {c['Key']}" for c in self.change]
            + [f"new line {a.get('No')}" for a in self.add]
            + [f"removed line {k}" for k in self.remove]
        )


def _line_plan(current: list[Record], wanted: list[Record]) -> LinePlan:
    change: list[Record] = []
    for have, want in zip(current, wanted, strict=False):
        fields = changed_fields(have, want)
        if fields:
            change.append({"Key": have["Key"], **{f: want[f] for f in fields}})
    add = [dict(w) for w in wanted[len(current) :]]
    remove = [str(h["Key"]) for h in current[len(wanted) :]]
    return LinePlan(change, add, remove)


def _once_more_if_stale(
    page: NavPageClient, current: Record, attempt: Callable[[Record], Ack]
) -> Ack:
    """``attempt(current)``; after a stale Key (someone else changed the record), re-read it
    and try once more with the fresh version."""
    try:
        return attempt(current)
    except StaleKeyError:
        fresh = page.read(current["No"])
        if fresh is None:
            raise PermanentError(
                f"{page.page} {current['No']} was deleted while being updated"
            ) from None
        return attempt(fresh)


class NavWriter:
    """Idempotent writes of customers and sales orders. Its page clients make single
    attempts: a whole write (look-up + create/update) is retried, not call by call."""

    def __init__(self, settings: ErpSoapSettings, page: Callable[..., NavPageClient]) -> None:
        self.settings = settings
        single = RetryPolicy(attempts=1)
        self.customers = page("customer", read_retry=single)
        self.sales_orders = page("sales_order", read_retry=single)
        self.posted_shipments = page("posted_shipment", read_retry=single)

    # -- customers -----------------------------------------------------------------------

    def write_customer(self, record: Mapping[str, Any]) -> Ack:
        """Ack keyed by the input's No, else its E_Mail."""
        wanted = dict(record)
        key = str(wanted.get("No") or wanted.get("E_Mail") or "")
        ack = with_retries(
            lambda: self._write_customer(wanted), self.settings.retry, what="write_customer"
        )
        return replace(ack, key=key)

    def _write_customer(self, wanted: Record) -> Ack:
        current = self._find_customer(wanted)
        if current is None:
            created = self.customers.create({k: v for k, v in wanted.items() if k != "Key"})
            return _ack(created["No"], created.get("Key"), True)
        return self._update_customer(current, wanted)

    def _find_customer(self, wanted: Record) -> Record | None:
        if wanted.get("No"):
            return self.customers.read(str(wanted["No"]))
        if wanted.get("E_Mail"):
            found = self.customers.read_multiple(
                [("E_Mail", exact(str(wanted["E_Mail"])))], None, 1
            )
            return found[0] if found else None
        return None

    def _update_customer(self, current: Record, wanted: Record) -> Ack:
        def attempt(record: Record) -> Ack:
            changes = changed_fields(record, wanted)
            if not changes:
                return _ack(record["No"], record.get("Key"), False)
            update = {name: wanted[name] for name in changes}
            update.update(No=record["No"], Key=record["Key"])
            updated = self.customers.update(update)
            return _ack(updated["No"], updated.get("Key"), False)

        return _once_more_if_stale(self.customers, current, attempt)

    # -- sales orders --------------------------------------------------------------------

    def write_sales_order(self, record: Mapping[str, Any]) -> Ack:
        wanted = dict(record)
        if not wanted.get("External_Document_No"):
            raise PermanentError(
                "Sales_Order: External_Document_No is required (it makes the write idempotent)"
            )
        ack = with_retries(
            lambda: self._write_sales_order(wanted), self.settings.retry, what="write_sales_order"
        )
        return replace(ack, key=str(wanted["External_Document_No"]))

    def _write_sales_order(self, wanted: Record) -> Ack:
        ext = str(wanted["External_Document_No"])
        existing = self.find_sales_order(ext)
        if existing is not None:
            return self._update_sales_order(existing, wanted)
        # NAV removes an order once it is fully shipped and invoiced: a replay of its first
        # write must find it among the posted shipments, not create it again
        posted = self.find_posted_order(ext)
        if posted is not None:
            return posted
        created = self.sales_orders.create({k: v for k, v in wanted.items() if k != "Key"})
        return _ack(created["No"], created.get("Key"), True)

    def find_posted_order(self, external_document_no: str) -> Ack | None:
        """The order number of an order the ERP has already shipped, if any."""
        if "posted_shipment" not in self.settings.pages:
            return None
        found = self.posted_shipments.read_multiple(
            [("External_Document_No", exact(external_document_no))], None, 1
        )
        if not found or not found[0].get("Order_No"):
            return None
        return _ack(str(found[0]["Order_No"]), None, False)

    def _update_sales_order(self, current: Record, wanted: Record) -> Ack:
        """Bring an existing order in line: header fields, changed lines, added and removed
        lines. Only an ``Open`` order may change; a released one is the ERP's to change."""

        def attempt(record: Record) -> Ack:
            header = changed_fields(record, _without_lines(wanted))
            plan = _line_plan(_lines(record), _lines(wanted))
            if not header and plan.is_empty():
                return _ack(record["No"], record.get("Key"), False)
            status = record.get("Status") or "Open"
            if status != "Open":
                raise PermanentError(
                    f"Sales_Order {record['No']} is {status} in the ERP: the change of "
                    f"{', '.join(header + plan.describe())} must be made there"
                )
            return self._apply_order_changes(record, wanted, header, plan)

        return _once_more_if_stale(self.sales_orders, current, attempt)

    def _apply_order_changes(
        self, current: Record, wanted: Record, header: list[str], plan: LinePlan
    ) -> Ack:
        if plan.remove:  # deleting lines changes the order's Key: delete, then re-read
            for key in plan.remove:
                self.sales_orders.delete_line(key)
            fresh = self.sales_orders.read(current["No"])
            if fresh is None:
                raise PermanentError(f"Sales_Order {current['No']} disappeared during update")
            current = fresh
            plan = _line_plan(_lines(current), _lines(wanted))
        update: Record = {name: wanted[name] for name in header}
        update.update(No=current["No"], Key=current["Key"])
        if plan.change or plan.add:
            update["SalesLines"] = {"Sales_Order_Line": [*plan.change, *plan.add]}
        if len(update) == 2:  # only No and Key: nothing left to send
            return _ack(current["No"], current.get("Key"), False)
        updated = self.sales_orders.update(update)
        return _ack(updated["No"], updated.get("Key"), False)

    def cancel_sales_order(self, external_document_no: str) -> Ack | None:
        """Delete an ``Open`` order (a web shop cancellation); None if the ERP never had it."""
        ack = with_retries(
            lambda: self._cancel_sales_order(external_document_no),
            self.settings.retry,
            what="cancel_sales_order",
        )
        return None if ack is None else replace(ack, key=external_document_no)

    def _cancel_sales_order(self, external_document_no: str) -> Ack | None:
        current = self.find_sales_order(external_document_no)
        if current is None:
            return None
        status = current.get("Status") or "Open"
        if status != "Open":
            raise PermanentError(
                f"Sales_Order {current['No']} is {status} in the ERP and cannot be cancelled "
                "from the web shop; cancel it in the ERP"
            )
        self.sales_orders.delete(current["Key"])
        return _ack(current["No"], None, False)

    def find_sales_order(self, external_document_no: str) -> Record | None:
        found = self.sales_orders.read_multiple(
            [("External_Document_No", exact(external_document_no))], None, 1
        )
        return found[0] if found else None
