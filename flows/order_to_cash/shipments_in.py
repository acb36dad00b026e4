"""Step 4, shipments in: the 3PL's 945 shipping advices -> canonical Shipment -> the ERP, the
web shop and the CRM.

The 3PL's ``shipping_advices`` stream is pulled into the inbox (a 945 the connector cannot
read is quarantined there with its bytes). Each advice becomes a Shipment in the hub, keyed by
the 3PL's shipment id and correlated with the order number; a 945 about an order Tandem never
sent to the 3PL is quarantined (the reason names the order). A new or changed shipment is
delivered to:

- the ERP: posted (``shipments.ErpShipmentPosting``);
- the web shop: status ``completed`` with carrier and tracking once every ordered unit has
  shipped; otherwise the order stays open and gets a customer note of what shipped and what
  is backordered (``shipments.WebshopShipment``);
- the CRM: a note on the customer's account or contact (``crm_notes``).
"""

from __future__ import annotations

from typing import Any

from canonical.errors import PermanentError
from canonical.models import Entity
from flows.order_to_cash.common import CRM, FLOW, LOGISTICS, WEBSHOP, enqueue_all
from flows.processing import InboxProcessor, Processed
from flows.pull import PullSpec, pull
from flows.spec import RunOptions, Services
from flows.summary import FlowSummary
from hub.schema import InboxMessage
from hub.store import Hub, HubSession
from mappings import x12

ADVICES = PullSpec(system=LOGISTICS, stream="shipping_advices", kind="shipping_advice")


class ShipmentIntake(InboxProcessor):
    flow, system, kinds = FLOW, LOGISTICS, (ADVICES.kind,)
    id_fields = ("order_number",)  # a 945 is also asked for by its order's number

    def __init__(self, hub: Hub, erp: str) -> None:
        super().__init__(hub)
        self.targets = (erp, WEBSHOP, CRM)

    def process(
        self, hs: HubSession, message: InboxMessage, doc: Any, summary: FlowSummary
    ) -> Processed:
        shipment = x12.shipment_from_945(doc)
        number = shipment.order_number
        order_id = hs.resolve(Entity.SALES_ORDER, LOGISTICS, number)
        if order_id is None:
            raise PermanentError(
                f"945 shipment {shipment.shipment_number}: order {number} was never sent to "
                "the 3PL by Tandem"
            )
        known = hs.resolve(Entity.SHIPMENT, LOGISTICS, shipment.shipment_number)
        outcome = hs.upsert(shipment, canonical_id=known, source_system=LOGISTICS)
        hs.link(Entity.SHIPMENT, outcome.canonical_id, LOGISTICS, shipment.shipment_number)
        self.count(outcome, summary)
        if outcome.changed:
            enqueue_all(
                hs,
                message_id=message.id,
                targets=self.targets,
                entity=Entity.SHIPMENT,
                canonical_id=outcome.canonical_id,
                version=outcome.version,
                correlation_id=number,
            )
        return Processed(number, Entity.SHIPMENT, outcome.canonical_id, outcome)


def run(services: Services, options: RunOptions, erp: str, summary: FlowSummary) -> None:
    if options.dry_run:
        summary.notes.append("dry run: shipping advices not read")
        return
    summary.merge(pull(services.hub, services.connector(LOGISTICS), ADVICES, full=options.full))
    ShipmentIntake(services.hub, erp).run(
        since=options.since,
        message_ids=options.message_ids,
        entity_ids=options.entity_ids,
        summary=summary,
    )
