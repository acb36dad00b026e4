"""Step 5, invoices: the ERP's invoices and their payment status -> the web shop and the CRM.

The ERP owns invoicing and payments: Tandem only reads them. The ERP's invoice stream
(NAV ``posted_invoices``, read again when an open invoice's remaining amount changes; Tryton
``invoices``, read again when the invoice changes) is pulled into the inbox; each invoice of a
web order becomes a canonical Invoice in the hub (keyed by the ERP's id, correlated with the
order number) with its payment status. Invoices of orders that did not come from the web shop
are not Tandem's business here: their messages are processed without effect. A new invoice
or a new payment status is delivered to:

- the web shop: order meta ``erp_invoice_number``, ``erp_payment_status`` and
  ``erp_amount_paid`` (the status stays the shipments' business);
- the CRM: a note keyed ``invoice:<no>`` on the customer (updated as payments come in).
"""

from __future__ import annotations

from typing import Any

from canonical.errors import PermanentError
from canonical.models import Entity, Invoice, SalesOrder
from flows.delivery import Delivered, Handler, Link
from flows.order_to_cash.common import (
    CRM,
    FLOW,
    WEBSHOP,
    LazyConnector,
    enqueue_all,
    find_order,
    load_order,
    write_one,
)
from flows.processing import InboxProcessor, Processed
from flows.pull import PullSpec, pull
from flows.spec import RunOptions, Services
from flows.summary import FlowSummary
from hub.schema import InboxMessage
from hub.store import DeliveryTask, Hub, HubSession
from mappings import nav, tryton

# The invoice stream of each ERP, on this flow's own feed (its own cursor and inbox source):
# other flows read the same ERP invoices for their own orders (distributor orders).
STREAMS = {
    nav.SYSTEM: PullSpec(system="erp-order-to-cash", stream="posted_invoices", kind="invoice"),
    tryton.SYSTEM: PullSpec(system="erp_tryton-order-to-cash", stream="invoices", kind="invoice"),
}
# where an invoice names its web order: it is also asked for by the order's number
ORDER_FIELDS = {
    nav.SYSTEM: ("External_Document_No",),
    tryton.SYSTEM: ("sales.0.reference", "sales.0.number"),
}


def map_invoice(erp: str, doc: Any) -> tuple[str, Invoice]:
    """(the ERP's key of the invoice, the canonical Invoice)."""
    if erp == tryton.SYSTEM:
        return str(doc.get("id")), tryton.invoice_from_tryton(doc)
    invoice = nav.invoice_from_nav(doc)
    return invoice.invoice_number, invoice


class InvoiceIntake(InboxProcessor):
    flow = FLOW

    def __init__(self, hub: Hub, erp: str) -> None:
        super().__init__(hub)
        self.erp = erp
        self.system = STREAMS[erp].system
        self.kinds = (STREAMS[erp].kind,)
        self.id_fields = ORDER_FIELDS[erp]

    def process(
        self, hs: HubSession, message: InboxMessage, doc: Any, summary: FlowSummary
    ) -> Processed:
        key, invoice = map_invoice(self.erp, doc)
        number = invoice.order_number
        order_id = find_order(hs, number) if number else None
        if order_id is None:
            summary.unchanged += 1  # an invoice of an order that is not a web order
            return Processed(None)
        order = hs.load(order_id, SalesOrder)
        assert isinstance(order, SalesOrder)
        invoice = invoice.model_copy(update={"customer_id": order.customer_id})
        known = hs.resolve(Entity.INVOICE, self.erp, key)
        outcome = hs.upsert(invoice, canonical_id=known, source_system=self.erp)
        hs.link(Entity.INVOICE, outcome.canonical_id, self.erp, key)
        self.count(outcome, summary)
        if outcome.changed:
            enqueue_all(
                hs,
                message_id=message.id,
                targets=(WEBSHOP, CRM),
                entity=Entity.INVOICE,
                canonical_id=outcome.canonical_id,
                version=outcome.version,
                correlation_id=number,
            )
        return Processed(number, Entity.INVOICE, outcome.canonical_id, outcome)


class WebshopInvoice:
    def __init__(self, hub: Hub, shop: LazyConnector) -> None:
        self.hub = hub
        self.shop = shop

    def handlers(self) -> dict[tuple[str, str], Handler]:
        return {(WEBSHOP, Entity.INVOICE): self.deliver}

    def deliver(self, task: DeliveryTask) -> Delivered:
        with self.hub.begin() as hs:
            invoice = hs.load(task.canonical_id, Invoice)
            assert isinstance(invoice, Invoice)
            what = f"web shop invoice {invoice.invoice_number}"
            order_id, _ = load_order(hs, invoice.order_number or "", what)
            shop_id = hs.external_id(Entity.SALES_ORDER, order_id, WEBSHOP)
        if shop_id is None:
            raise PermanentError(f"{what}: order {invoice.order_number} has no web shop id")
        paid = invoice.amount_paid.amount if invoice.amount_paid is not None else 0
        meta = {
            "erp_invoice_number": invoice.invoice_number,
            "erp_payment_status": str(invoice.payment_status),
            "erp_amount_paid": f"{paid} {invoice.currency}",
        }
        ack = write_one(self.shop(), "orders", {"id": shop_id, "meta": meta})
        external = f"{shop_id}:{invoice.invoice_number}"
        link = Link(Entity.INVOICE, task.canonical_id, WEBSHOP, external, ack.version)
        detail = f"{invoice.payment_status}; changed {ack.detail.get('changed') or []}"
        return Delivered(external, links=(link,), detail=detail)


def run(services: Services, options: RunOptions, erp: str, summary: FlowSummary) -> None:
    if options.dry_run:
        summary.notes.append("dry run: invoices not read")
        return
    spec = STREAMS[erp]
    summary.merge(pull(services.hub, services.connector("erp"), spec, full=options.full))
    InvoiceIntake(services.hub, erp).run(
        since=options.since,
        message_ids=options.message_ids,
        entity_ids=options.entity_ids,
        summary=summary,
    )
