"""The 3PL's shipping advices (945) of spare-part orders -> Shipment -> a note on the CRM case.

Advices of other orders are not this flow's business: they are marked ignored here (on this
flow's own feed; the order-to-cash flow reads the same files on its own).
"""

from __future__ import annotations

from typing import Any

from canonical.models import Entity
from flows.processing import Processed, enqueue_change
from flows.service.common import (
    ADVICES,
    CRM,
    LOGISTICS,
    SERVICE,
    ServiceProcessor,
    case_of,
    request_by_number,
)
from flows.summary import FlowSummary
from hub.schema import InboxMessage, InboxStatus
from hub.store import HubSession
from mappings import x12


class NotOurs(Exception):
    """An advice of an order this flow did not send."""


class ShipmentProcessor(ServiceProcessor):
    flow, system, kinds = "service", ADVICES.system, (ADVICES.kind,)
    id_fields = ("order_number",)  # a 945 is also asked for by its order's number

    def process(
        self, hs: HubSession, message: InboxMessage, doc: Any, summary: FlowSummary
    ) -> Processed:
        shipment = x12.shipment_from_945(doc)
        case_number = case_of(shipment.order_number)
        order_id = hs.resolve(Entity.SALES_ORDER, SERVICE, shipment.order_number)
        if case_number is None or order_id is None:
            raise NotOurs(shipment.order_number)
        request_id = request_by_number(hs, case_number)
        sid = hs.resolve(Entity.SHIPMENT, LOGISTICS, shipment.shipment_number)
        outcome = hs.upsert(shipment, canonical_id=sid, source_system=LOGISTICS)
        hs.link(Entity.SHIPMENT, outcome.canonical_id, LOGISTICS, shipment.shipment_number)
        self.count(outcome, summary)
        if request_id is not None:  # a new advice (the inbox dedupes): note it on the case
            enqueue_change(hs, message, CRM, Entity.SHIPMENT, outcome, case_number)
        return Processed(case_number, Entity.SHIPMENT, outcome.canonical_id, outcome)

    def _one(self, message: InboxMessage, summary: FlowSummary) -> None:
        try:
            super()._one(message, summary)
        except NotOurs as exc:
            summary.read -= 1  # not counted: another flow's shipment
            with self.hub.begin() as hs:
                reason = f"order {exc}: not a spare-part order"
                hs.finish_inbox(message.id, InboxStatus.IGNORED, error=reason)
