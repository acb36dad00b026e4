"""Order to cash: web shop order -> ERP sales order -> 3PL (940) -> shipment (945) posted in
the ERP, shown on the web shop and noted in the CRM -> ERP invoice and payment status -> web
shop and CRM.

``FLOW`` runs five small steps in order, each incremental (cursors, or the hub's delivery
state) and idempotent (a second run changes nothing in any peer), all correlated by the web
shop's order number (``tandem messages show --correlation <order number>``):

1. ``orders_in``: the shop's orders stream (the fallback to webhooks) + ``OrderIntake``;
2. ``to_erp``: customer and order deliveries to the configured ERP (``erp_system``: the NAV
   SOAP ERP or Tryton);
3. ``erp_to_3pl``: each order the ERP accepted -> a 940 to the 3PL (a cancelled one: 940
   purpose C);
4. ``shipments_in``: 945s -> Shipment -> ERP posting, web shop status/tracking/note, CRM note;
5. ``invoices``: ERP invoices and payments -> web shop order meta, CRM note.

Which system owns which state, and what partial shipments, backorders and cancellations do:
docs/flows/order_to_cash.md.
"""

from __future__ import annotations

from collections.abc import Callable

from canonical.models import Entity
from flows.delivery import Handler
from flows.order_to_cash import erp_to_3pl, invoices, orders_in, shipments_in
from flows.order_to_cash.common import CRM, LOGISTICS, WEBSHOP, deliver, erp_target
from flows.order_to_cash.crm_notes import CrmNotes
from flows.order_to_cash.erp_to_3pl import ShippingOrderDelivery
from flows.order_to_cash.invoices import WebshopInvoice
from flows.order_to_cash.shipments import ErpShipmentPosting, WebshopShipment
from flows.order_to_cash.to_erp import TrytonOrderDelivery, nav_handlers
from flows.spec import FlowSpec, RunOptions, Services
from flows.summary import FlowSummary
from mappings import nav, tryton

__all__ = ["FLOW", "STEPS", "handlers", "run"]


def handlers(services: Services) -> dict[tuple[str, str], Handler]:
    """The deliveries this flow brings (the NAV order ones come with the web order slice)."""
    hub = services.hub
    erp = lambda: services.connector("erp")  # noqa: E731 - built when first needed
    shop = lambda: services.connector(WEBSHOP)  # noqa: E731
    out: dict[tuple[str, str], Handler] = {}
    # Tryton sales orders; Tryton customers are the customer flow's handler's (same xref)
    orders = TrytonOrderDelivery(hub, erp).handlers()
    out.update({k: v for k, v in orders.items() if k[1] == Entity.SALES_ORDER})
    out.update(ErpShipmentPosting(hub, erp, nav.SYSTEM).handlers())
    out.update(ErpShipmentPosting(hub, erp, tryton.SYSTEM).handlers())
    out.update(ShippingOrderDelivery(hub, lambda: services.connector(LOGISTICS)).handlers())
    out.update(WebshopShipment(hub, shop).handlers())
    out.update(WebshopInvoice(hub, shop).handlers())
    out.update(CrmNotes(hub, lambda: services.connector(CRM)).handlers())
    return out


def _all_handlers(services: Services) -> dict[tuple[str, str], Handler]:
    """Every handler the steps use: this flow's, the NAV order ones and, for Tryton, the
    customer one (which the customer flow also brings for the ``deliver`` worker)."""
    tryton_orders = TrytonOrderDelivery(services.hub, lambda: services.connector("erp"))
    return {**tryton_orders.handlers(), **handlers(services), **nav_handlers(services)}


# Each step delivers what it queued to the run's chosen targets (``options.targets``, by role
# or system name: ``erp``/``erp_soap``, ``logistics``...) only; what is due to the others
# stays queued for a later run.


def _step_to_erp(services: Services, options: RunOptions, summary: FlowSummary) -> None:
    erp = erp_target(services)
    pairs = [(erp, Entity.CUSTOMER), (erp, Entity.SALES_ORDER)]
    deliver(services, _all_handlers(services), pairs, summary, options)


def _step_to_3pl(services: Services, options: RunOptions, summary: FlowSummary) -> None:
    erp_to_3pl.run(services, erp_target(services), summary)
    pairs = [(LOGISTICS, Entity.SALES_ORDER)]
    deliver(services, _all_handlers(services), pairs, summary, options)


def _step_shipments(services: Services, options: RunOptions, summary: FlowSummary) -> None:
    erp = erp_target(services)
    shipments_in.run(services, options, erp, summary)
    pairs = [(erp, Entity.SHIPMENT), (WEBSHOP, Entity.SHIPMENT), (CRM, Entity.SHIPMENT)]
    deliver(services, _all_handlers(services), pairs, summary, options)


def _step_invoices(services: Services, options: RunOptions, summary: FlowSummary) -> None:
    invoices.run(services, options, erp_target(services), summary)
    pairs = [(WEBSHOP, Entity.INVOICE), (CRM, Entity.INVOICE)]
    deliver(services, _all_handlers(services), pairs, summary, options)


Step = Callable[[Services, RunOptions, FlowSummary], None]

STEPS: dict[str, Step] = {
    "orders_in": orders_in.run,
    "to_erp": _step_to_erp,
    "erp_to_3pl": _step_to_3pl,
    "shipments_in": _step_shipments,
    "invoices": _step_invoices,
}


def run(services: Services, options: RunOptions) -> FlowSummary:
    """Every step once, in order. A dry run maps the waiting web orders and writes nothing."""
    summary = FlowSummary("order-to-cash")
    if options.dry_run:
        orders_in.run(services, options, summary)
        summary.notes.append("dry run: nothing delivered, no 940/945/invoice read")
        return summary
    for step in STEPS.values():
        step(services, options, summary)
    summary.flow = "order-to-cash"
    return summary


FLOW = FlowSpec(
    name="order-to-cash",
    description="Web shop order -> ERP sales order -> 3PL 940 -> 945 shipment posted in the "
    "ERP, web shop tracking, CRM note -> ERP invoice and payment -> web shop and CRM",
    source="webshop",
    targets=("erp", LOGISTICS, WEBSHOP, CRM),
    run=run,
    handlers=handlers,
    schedule="*/10 * * * *",
    tags=("order-to-cash",),
)
