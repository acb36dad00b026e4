"""Step 3, ERP to 3PL: every order the ERP accepted goes to the warehouse as an X12 940.

"Accepted" is a delivered ERP sales order delivery: the ERP answered with its order number.
For each such delivery without a 3PL delivery of the same message yet, a ``logistics``
delivery is queued (same message, same correlation id: the order number); the unique
(message, target, entity) of deliveries makes queueing twice impossible. The handler maps the
order as the hub holds it *now*:

- an open order -> 940 purpose ``N``;
- a cancelled order the 3PL had -> 940 purpose ``C`` (the warehouse drops it if not shipped);
  one it never had -> nothing is sent;
- a payload the 3PL already got (same hash) is not sent again, and the connector itself
  acknowledges an identical document without a second upload.

The xref is (order, ``logistics``, order number): the 3PL knows the order by our number, and
its 945s name it so.
"""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.orm import aliased

from canonical.models import Entity, OrderStatus, SalesOrder
from flows.delivery import Delivered, Handler, Link
from flows.order_to_cash.common import LOGISTICS, LazyConnector, write_one
from flows.spec import Services
from flows.summary import FlowSummary
from flows.targets import payload_hash
from hub.schema import Delivery, DeliveryStatus
from hub.store import DeliveryTask, Hub
from hub.views import sent_hash
from mappings import x12


def queue_accepted(hub: Hub, erp: str, summary: FlowSummary) -> int:
    """Queue a 3PL delivery for every ERP-accepted order message that has none yet."""
    sent = aliased(Delivery)
    already = exists().where(
        sent.message_id == Delivery.message_id,
        sent.target_system == LOGISTICS,
        sent.entity == Entity.SALES_ORDER,
    )
    stmt = (
        select(Delivery)
        .where(
            Delivery.target_system == erp,
            Delivery.entity == Entity.SALES_ORDER,
            Delivery.status == DeliveryStatus.DELIVERED,
            ~already,
        )
        .order_by(Delivery.id)
    )
    with hub.begin() as hs:
        accepted = list(hs.session.scalars(stmt))
        for row in accepted:
            hs.enqueue(
                message_id=row.message_id,
                target_system=LOGISTICS,
                entity=Entity.SALES_ORDER,
                canonical_id=row.canonical_id,
                record_version=row.record_version,
                correlation_id=row.correlation_id,
            )
    summary.changed += len(accepted)
    return len(accepted)


class ShippingOrderDelivery:
    def __init__(self, hub: Hub, logistics: LazyConnector) -> None:
        self.hub = hub
        self.logistics = logistics

    def handlers(self) -> dict[tuple[str, str], Handler]:
        return {(LOGISTICS, Entity.SALES_ORDER): self.deliver}

    def deliver(self, task: DeliveryTask) -> Delivered:
        with self.hub.begin() as hs:
            order = hs.load(task.canonical_id, SalesOrder)
            assert isinstance(order, SalesOrder)
            known = hs.external_id(Entity.SALES_ORDER, task.canonical_id, LOGISTICS)
            last = sent_hash(hs, Entity.SALES_ORDER, task.canonical_id, LOGISTICS)
        record = x12.sales_order_to_940(order)
        if order.status is OrderStatus.CANCELLED:
            if known is None:
                return Delivered("", detail="cancelled before the 3PL had it: nothing sent",
                                 skipped=True)  # fmt: skip
            record["purpose"] = "C"
        digest = payload_hash(record)
        if known is not None and last == digest:
            return Delivered(known, detail="unchanged: not sent again", skipped=True)
        ack = write_one(self.logistics(), "shipping_orders", record)
        link = Link(Entity.SALES_ORDER, task.canonical_id, LOGISTICS, order.order_number,
                    ack.external_id, sent_hash=digest)  # fmt: skip
        purpose = "cancel" if record["purpose"] == "C" else "940"
        return Delivered(order.order_number, links=(link,), detail=f"{purpose} {ack.external_id}")


def run(services: Services, erp: str, summary: FlowSummary) -> None:
    queue_accepted(services.hub, erp, summary)
