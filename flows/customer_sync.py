"""Customer sync (flow 1): web shop, CRM and ERP customers <-> one golden customer each.

A run reads top to bottom:

1. pull: the ERP's customers (``erp`` role: NAV SOAP ``customers``, Tryton ``parties`` or the
   staging ERP's ``customers``), the CRM's ``accounts`` and ``contacts`` and the web shop's
   ``customers`` into the inbox, each from its cursor;
2. process (``flows/customers``): map each record with its system's mapping; find its golden
   customer (xref, then e-mail/VAT/GLN, then the fuzzy match; uncertain pairs go on the review
   list with their explanation); keep the system's view; rebuild the golden record field by
   field (owners, then recency; ``flows/customers/survivorship.yaml``); queue a delivery to
   every other system that should hear of the change (never back to the source, except to
   restore a field its owner decided otherwise);
3. deliver: every due delivery, through the handlers the flows bring.

docs/flows/customer_sync.md describes the rules, the conflict policy and the limits.
"""

from __future__ import annotations

from canonical.models import Entity
from connectors.base import Connector
from flows.customers.config import SyncConfig
from flows.customers.golden import GoldenCustomers
from flows.customers.processor import CustomerProcessor, Router
from flows.customers.sources import sources
from flows.customers.targets import CrmCustomerTarget, erp_target, lazy_handler, shapes
from flows.delivery import Handler
from flows.pull import pull
from flows.spec import FlowSpec, HandlerMap, RunOptions, Services
from flows.summary import FlowSummary

NAME = "customer-sync"


def handlers(services: Services) -> HandlerMap:
    erp = services.system_name("erp")

    def crm_handler() -> Handler:
        return CrmCustomerTarget(services.connector("crm")).handler(services.hub)

    def erp_handler() -> Handler:
        connector: Connector = services.connector("erp")
        return erp_target(erp, connector).handler(services.hub)

    return {
        ("crm", Entity.CUSTOMER): lazy_handler(crm_handler),
        (erp, Entity.CUSTOMER): lazy_handler(erp_handler),
    }


def process(services: Services, options: RunOptions, config: SyncConfig) -> FlowSummary:
    """Inbox -> golden customers and queued deliveries (no pulling, no delivering)."""
    summary = FlowSummary(NAME)
    erp = services.system_name("erp")
    golden = GoldenCustomers(services.hub, config)
    # every target that should hear of a change gets it queued; which ones a run delivers
    # to is the delivery step's choice (``options.targets``)
    router = Router(config, ("crm", erp), shapes(erp))
    for source in sources(erp):
        CustomerProcessor(services.hub, golden, source, router).run(
            since=options.since,
            message_ids=options.message_ids,
            entity_ids=options.entity_ids,
            summary=summary,
        )
    return summary


def run(services: Services, options: RunOptions) -> FlowSummary:
    config = SyncConfig.load()
    if options.dry_run:
        return FlowSummary(NAME, notes=["dry run: nothing pulled, stored or delivered"])
    pulled = FlowSummary(f"{NAME} pull")
    if not options.message_ids:  # a replay of given messages does not ask the sources again
        for source in sources(services.system_name("erp")):
            pull(services.hub, services.connector(source.pull.system), source.pull,
                 full=options.full, summary=pulled)  # fmt: skip
    summary = process(services, options, config)
    summary.notes.append(
        f"pulled {pulled.read} record(s), {pulled.unchanged} already held, "
        f"{pulled.quarantined} quarantined"
    )
    summary.quarantined += pulled.quarantined
    from flows.registry import deliver_due  # the registry imports every flow module

    summary.merge(deliver_due(services, options))  # to the chosen targets only
    summary.flow = NAME
    return summary


FLOW = FlowSpec(
    name=NAME,
    description="Customers of the web shop, the CRM and the ERP -> one golden customer each "
    "(identity resolution, field owners) -> the CRM and the ERP",
    source="webshop,crm,erp",
    targets=("crm", "erp"),
    run=run,
    handlers=handlers,
    schedule="*/15 * * * *",
    tags=("customers",),
)
