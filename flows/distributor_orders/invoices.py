"""The ERP's posted invoices of distributor orders -> canonical Invoices -> 810s.

An invoice whose order (``Order_No``) the ERP got from a distributor's 850 is stored as a
canonical ``Invoice`` (xref ``erp``: the invoice No), its invoiced item lines kept as the
ERP's view of it, and queued for the distributor as an 810 until one went out. Invoices of
other orders are the order-to-cash flow's business and are left alone. The invoice record is
shared with that flow (both link it as ``erp``/No); each reads the stream with its own inbox
label and cursor.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from canonical.models import Entity, Invoice, Money, OrderLine, Record, SalesOrder
from flows.distributor_orders.accounts import DRP, ERP
from flows.distributor_orders.orders import FLOW_NAME, drp_key, view_of
from flows.processing import InboxProcessor, Processed, enqueue_change
from flows.pull import PullSpec
from flows.summary import FlowSummary
from hub.schema import InboxMessage
from hub.store import HubSession
from hub.views import save_view
from mappings import drp, nav

# its own inbox label and cursor: the order-to-cash flow reads the same stream for itself
INVOICES = PullSpec(system="erp-distributor-orders", stream="posted_invoices", kind="invoice")


class InvoiceIntake(InboxProcessor):
    flow, system, kinds = FLOW_NAME, INVOICES.system, (INVOICES.kind,)
    id_fields = ("External_Document_No",)  # the PO number the ERP order was written with

    def process(
        self, hs: HubSession, message: InboxMessage, doc: Any, summary: FlowSummary
    ) -> Processed:
        order_id = hs.resolve(Entity.SALES_ORDER, ERP, str(doc.get("Order_No") or ""))
        if order_id is None or hs.external_id(Entity.SALES_ORDER, order_id, DRP) is None:
            return Processed(None)  # not a distributor's order
        order = hs.load(order_id, SalesOrder)
        assert isinstance(order, SalesOrder)
        invoice = nav.invoice_from_nav(doc, lcy=order.currency)
        invoice = invoice.model_copy(update={"customer_id": order.customer_id})
        no = str(doc["No"])
        outcome = hs.upsert(
            invoice, canonical_id=hs.resolve(Entity.INVOICE, ERP, no), source_system=ERP
        )
        hs.link(Entity.INVOICE, outcome.canonical_id, ERP, no)
        lines = [_invoiced(line) for line in _item_lines(doc)]
        save_view(hs, outcome.canonical_id, ERP, {"order": order_id, "lines": lines}, None)
        self.count(outcome, summary)
        # not sent yet (the record may be the order-to-cash flow's, unchanged by this one)
        if hs.external_id(Entity.INVOICE, outcome.canonical_id, DRP) is None:
            enqueue_change(hs, message, DRP, Entity.INVOICE, outcome, order.order_number)
        return Processed(order.order_number, Entity.INVOICE, outcome.canonical_id, outcome)


def _item_lines(doc: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    lines = (doc.get("SalesInvLines") or {}).get("Posted_Sales_Invoice_Line") or []
    lines = lines if isinstance(lines, list) else [lines]
    return [x for x in lines if isinstance(x, Mapping) and x.get("Type") in (None, "Item")]


def _invoiced(line: Mapping[str, Any]) -> dict[str, Any]:
    return {"sku": line.get("No"), "quantity": str(line.get("Quantity") or "0"),
            "unit_price": str(line.get("Unit_Price") or "0"),
            "uom": line.get("Unit_of_Measure_Code") or "EA"}  # fmt: skip


def invoice_810(hs: HubSession, record: Record, known: str | None) -> Mapping[str, Any]:
    """The 810 of an invoice of a distributor order, listing the invoiced item lines."""
    assert isinstance(record, Invoice) and record.id is not None
    view = view_of(hs, record.id, ERP)
    order_id = str(view.get("order"))
    distributor, _ = drp_key(hs, order_id)
    currency = record.currency
    lines = []
    for number, line in enumerate(view.get("lines") or [], start=1):
        quantity, price = Decimal(line["quantity"]), Decimal(line["unit_price"])
        lines.append(
            OrderLine(
                line_number=number,
                sku=line["sku"],
                quantity=quantity,
                unit_of_measure=line["uom"],
                unit_price=Money(amount=price, currency=currency),
                line_total=Money(amount=quantity * price, currency=currency),
            )
        )
    po_date = view_of(hs, order_id, DRP).get("po_date")
    return drp.invoice_to_810(record, lines, distributor=distributor, po_date=po_date)
