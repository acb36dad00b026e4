"""Distributor orders: 850 -> hub SalesOrder -> ERP order -> 855 -> (fulfilment) -> 810.

One run, top to bottom:

1. pull the distributors' 850s (DRP ``purchase_orders``) into the inbox;
2. each becomes a ``SalesOrder`` whose customer is the distributor's golden customer (found
   by the distributor's key, its configured ERP or CRM id, or created from the 850's buyer),
   queued for the ERP (role ``erp``; the web order slice's ERP handler writes it, idempotent
   by External_Document_No = the PO number) (``orders``);
3. deliveries run; then the ERP's answer becomes the 855 (``orders.acknowledge``): accepted
   (AD), accepted with changed lines (AC) when the ERP's order differs from the PO, or
   rejected (RJ) with the ERP's message when it refused the order for good (a credit check
   Fault); that dead letter is then discarded, as it has been answered. An ERP that stays
   unreachable is not a rejection: its delivery stays a dead letter for replay, no 855;
4. fulfilment (shipments, the 3PL) is the order-to-cash flow's; this flow does not ship;
5. the ERP's posted invoices (``posted_invoices``) are pulled; one of a distributor's order
   becomes a canonical ``Invoice`` and goes out as an 810 (``invoices``).

Each document is sent once: deliveries are per (message, target), a payload sent before is
skipped (``ConnectorTarget``) and the DRP connector logs what it sent. The correlation id of
everything is the PO number. Settings: ``TANDEM_DISTRIBUTOR_ACCOUNTS`` (``accounts``).
"""

from __future__ import annotations

from collections.abc import Callable

from canonical.models import Entity, Invoice, Record, SalesOrder
from flows.delivery import Delivered, Handler
from flows.distributor_orders.accounts import (
    DRP,
    ERP,
    DistributorAccount,
    DistributorAccounts,
    deliver,
    golden_customer,
)
from flows.distributor_orders.invoices import INVOICES, InvoiceIntake, invoice_810
from flows.distributor_orders.orders import (
    FLOW_NAME,
    ORDERS,
    ErpOrderReader,
    OrderIntake,
    acknowledge,
    po_ack,
)
from flows.erp_orders import ErpOrderDelivery
from flows.pull import pull
from flows.spec import FlowSpec, HandlerMap, RunOptions, Services
from flows.summary import FlowSummary
from flows.targets import ConnectorTarget, ToTarget
from hub.store import DeliveryTask

__all__ = [
    "DRP",
    "ERP",
    "FLOW",
    "DistributorAccount",
    "DistributorAccounts",
    "deliver",
    "golden_customer",
]


def _lazy_target(
    services: Services, entity: Entity, model: type[Record], stream: str, to_target: ToTarget
) -> Handler:
    """A handler that builds the DRP connector when its first delivery comes (so delivering
    to other systems does not need the distributors configured)."""
    built: list[Callable[[DeliveryTask], Delivered]] = []

    def deliver_one(task: DeliveryTask) -> Delivered:
        if not built:
            connector = services.connector(DRP)
            target = ConnectorTarget(DRP, entity, model, connector, stream, to_target)
            built.append(target.handler(services.hub))
        return built[0](task)

    return deliver_one


def handlers(services: Services) -> HandlerMap:
    """855s and 810s to the distributors (the ERP's orders: the web order slice's handler)."""
    return {
        (DRP, Entity.SALES_ORDER): _lazy_target(
            services, Entity.SALES_ORDER, SalesOrder, "po_acks", po_ack
        ),
        (DRP, Entity.INVOICE): _lazy_target(
            services, Entity.INVOICE, Invoice, "invoices", invoice_810
        ),
    }


def _deliver(services: Services, options: RunOptions, summary: FlowSummary) -> None:
    own = dict(handlers(services)) | ErpOrderDelivery(services.hub, services.erp()).handlers()
    pairs = [(ERP, Entity.SALES_ORDER), (DRP, Entity.SALES_ORDER), (DRP, Entity.INVOICE)]
    deliver(services, own, pairs, summary, options)


def run(services: Services, options: RunOptions) -> FlowSummary:
    summary = FlowSummary(FLOW_NAME)
    if options.dry_run:
        summary.notes.append("dry run: nothing read, nothing sent")
        return summary
    hub = services.hub
    pulled = pull(hub, services.connector(DRP), ORDERS, full=options.full)
    summary.quarantined += pulled.quarantined
    OrderIntake(hub, DistributorAccounts.load()).run(
        since=options.since,
        message_ids=options.message_ids,
        entity_ids=options.entity_ids,
        summary=summary,
    )
    _deliver(services, options, summary)  # orders to the ERP
    erp = services.connector(ERP)
    reader: ErpOrderReader | None = getattr(erp, "find_sales_order", None)
    acknowledge(hub, summary, reader)
    _deliver(services, options, summary)  # 855s
    pulled = pull(hub, erp, INVOICES, full=options.full)
    summary.quarantined += pulled.quarantined
    InvoiceIntake(hub).run(since=options.since, entity_ids=options.entity_ids, summary=summary)
    _deliver(services, options, summary)  # 810s
    return summary


FLOW = FlowSpec(
    name=FLOW_NAME,
    description="Distributors' 850 purchase orders -> hub -> ERP sales orders, 855 "
    "acknowledgements (accepted, changed or rejected with the ERP's reason) and 810 invoices "
    "from the ERP's posted invoices",
    source=DRP,
    targets=(ERP, DRP),
    run=run,
    handlers=handlers,
    schedule="*/15 * * * *",
    tags=("drp", "edi", "orders"),
)
