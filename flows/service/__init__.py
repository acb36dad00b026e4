"""Flow "service": the service cycle (docs/flows/service.md).

A service request from the web shop (its service form, posted as a WooCommerce action webhook
to ``/webhooks/webshop-service``) or a case opened in the CRM becomes a CRM case; a case that
asks for a spare part (a description line ``Part: <SKU> x <qty>``) becomes the order
``SVC-<case number>`` to the ERP and, as a 940, to the 3PL; the case's status changes go back
to the web shop (a customer note on the request's order) and the part's shipment (945) to the
case as a note. The case number is the correlation id of everything in the chain.

One run, in order: web requests in the inbox -> hub -> deliveries (cases into the CRM); pull
the CRM's cases -> hub (orders, status) -> deliveries; pull the 3PL's shipping advices -> hub
-> deliveries (case notes). Every step is incremental (inbox, cursors) and idempotent.
"""

from __future__ import annotations

from flows.order_to_cash.erp_to_3pl import queue_accepted
from flows.pull import pull
from flows.service.cases import CaseProcessor
from flows.service.common import ADVICES, CASES, CRM, ERP, LOGISTICS, WEBSHOP
from flows.service.deliveries import ServiceDeliveries
from flows.service.requests import WebRequestIntake
from flows.service.shipments import ShipmentProcessor
from flows.spec import FlowSpec, HandlerMap, RunOptions, Services
from flows.summary import FlowSummary

__all__ = ["FLOW", "handlers", "run"]


def handlers(services: Services) -> HandlerMap:
    return ServiceDeliveries(services.hub, services.connector).handlers()


def _deliver(services: Services, options: RunOptions, summary: FlowSummary) -> None:
    from flows.registry import deliver_due  # the registry imports this module

    summary.merge(deliver_due(services, options))  # to the chosen targets only


def _pulled(services: Services, spec_system: str, summary: FlowSummary, full: bool) -> None:
    spec = CASES if spec_system == CRM else ADVICES
    pulled = pull(services.hub, services.connector(spec_system), spec, full=full)
    summary.quarantined += pulled.quarantined
    summary.notes.append(
        f"pulled {pulled.read} {spec.stream} ({pulled.unchanged} already held) into the inbox"
    )


def run(services: Services, options: RunOptions) -> FlowSummary:
    summary = FlowSummary("service")
    if options.dry_run:
        summary.notes.append("dry run: nothing read, stored or delivered")
        return summary
    hub, since, ids, records = services.hub, options.since, options.message_ids, options.entity_ids
    WebRequestIntake(hub).run(since=since, message_ids=ids, entity_ids=records, summary=summary)
    _deliver(services, options, summary)
    _pulled(services, CRM, summary, options.full)
    CaseProcessor(hub).run(since=since, message_ids=ids, entity_ids=records, summary=summary)
    _deliver(services, options, summary)  # spare-part orders into the ERP
    queued = queue_accepted(hub, ERP, FlowSummary("service"))
    summary.notes.append(f"{queued} ERP-accepted orders queued for the 3PL")
    _deliver(services, options, summary)  # ... and, the ERP having taken them, to the 3PL (940)
    _pulled(services, LOGISTICS, summary, options.full)
    ShipmentProcessor(hub).run(since=since, message_ids=ids, entity_ids=records, summary=summary)
    _deliver(services, options, summary)
    return summary


FLOW = FlowSpec(
    name="service",
    description="Service cycle: web shop service requests and CRM cases -> CRM cases; spare "
    "parts -> ERP order and 3PL 940; case status -> web shop; part shipment (945) -> case note",
    source=f"{WEBSHOP},{CRM},{LOGISTICS}",  # the form via webhooks, cases and 945s pulled
    targets=(CRM, ERP, LOGISTICS, WEBSHOP),
    run=run,
    handlers=handlers,
    schedule="*/10 * * * *",
)
