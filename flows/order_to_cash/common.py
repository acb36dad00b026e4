"""What the order-to-cash steps share: the ERP's name in the hub, finding an order by its
number, one write through a connector, and running the deliveries of some (target, entity)
pairs.

The correlation id of everything in the chain is the web shop's order number: the inbox
messages (web order, 945, invoice), the deliveries they cause and their events.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sqlalchemy import select

from canonical.errors import PermanentError
from canonical.models import Entity, SalesOrder, Shipment
from connectors.base import Ack, Connector, Rejected
from flows.delivery import DeliveryWorker, Handler
from flows.spec import RunOptions, Services, chosen_targets
from flows.summary import FlowSummary
from hub.schema import Delivery, DeliveryStatus, InboxMessage
from hub.store import Hub, HubSession
from mappings import nav, tryton
from mappings import x12 as logistics

FLOW = "order-to-cash"
LOGISTICS = logistics.SYSTEM
WEBSHOP = "webshop"
CRM = "crm"

# the system name the hub keeps ERP ids under, by the configured ERP (setting erp_system)
ERP_TARGETS = {"erp_soap": nav.SYSTEM, "erp_tryton": tryton.SYSTEM}


def erp_target(services: Services) -> str:
    """``erp`` (the NAV SOAP ERP, as the web order slice names it) or ``erp_tryton``."""
    configured = services.system_name("erp")
    try:
        return ERP_TARGETS[configured]
    except KeyError:
        known = ", ".join(sorted(ERP_TARGETS))
        raise PermanentError(
            f"order-to-cash runs with erp_system {known}, not {configured!r}"
        ) from None


def write_one(connector: Connector, stream: str, record: Mapping[str, Any]) -> Ack:
    """One record through ``connector.write``: its Ack, or its error raised."""
    outcome = connector.write(stream, [record])
    if len(outcome) != 1:
        raise PermanentError(f"{connector.system} {stream}: {len(outcome)} answers for 1 record")
    answer = outcome[0]
    if isinstance(answer, Rejected):
        raise answer.error
    assert isinstance(answer, Ack)
    return answer


def find_order(hs: HubSession, order_number: str) -> str | None:
    """The canonical id of the web order with this number (the web order's inbox message
    carries it as its correlation id)."""
    stmt = (
        select(InboxMessage.canonical_id)
        .where(
            InboxMessage.correlation_id == order_number,
            InboxMessage.entity == Entity.SALES_ORDER,
            InboxMessage.canonical_id.is_not(None),
        )
        .limit(1)
    )
    return hs.session.scalar(stmt)


def load_order(hs: HubSession, order_number: str, what: str) -> tuple[str, SalesOrder]:
    order_id = find_order(hs, order_number)
    if order_id is None:
        raise PermanentError(f"{what}: order {order_number} is not in the hub")
    order = hs.load(order_id, SalesOrder)
    assert isinstance(order, SalesOrder)
    return order_id, order


def shipments_of(hs: HubSession, order_number: str) -> list[Shipment]:
    """Every shipment the hub holds of an order (from the 945s correlated with it)."""
    stmt = (
        select(InboxMessage.canonical_id)
        .where(
            InboxMessage.correlation_id == order_number,
            InboxMessage.entity == Entity.SHIPMENT,
            InboxMessage.canonical_id.is_not(None),
        )
        .distinct()
    )
    found: list[Shipment] = []
    for canonical_id in sorted(cid for cid in hs.session.scalars(stmt) if cid is not None):
        shipment = hs.load(canonical_id, Shipment)
        assert isinstance(shipment, Shipment)
        found.append(shipment)
    return sorted(found, key=lambda s: (s.shipped_at is None, s.shipped_at, s.shipment_number))


def enqueue_all(
    hs: HubSession,
    *,
    message_id: str,
    targets: Iterable[str],
    entity: Entity,
    canonical_id: str,
    version: int,
    correlation_id: str | None,
) -> None:
    for target in targets:
        hs.enqueue(
            message_id=message_id,
            target_system=target,
            entity=entity,
            canonical_id=canonical_id,
            record_version=version,
            correlation_id=correlation_id,
        )


def deliver(
    services: Services,
    handlers: Mapping[tuple[str, str], Handler],
    pairs: Iterable[tuple[str, str]],
    summary: FlowSummary,
    options: RunOptions,
) -> None:
    """Deliver what is due for these (target, entity) pairs only: deliveries of other flows
    to the same systems are left to the worker that has their handlers. To the run's chosen
    targets only (``options.targets``); what is due to the others stays queued."""
    pairs = list(pairs)
    chosen = set(chosen_targets(options, {target for target, _ in pairs}))
    ids = due_deliveries(services.hub, [(t, e) for t, e in pairs if t in chosen])
    if ids:
        worker = DeliveryWorker(services.hub, handlers, services.retry_policy)
        summary.merge(worker.run(ids=ids))


def due_deliveries(hub: Hub, pairs: list[tuple[str, str]]) -> list[int]:
    waiting = (DeliveryStatus.PENDING, DeliveryStatus.FAILED, DeliveryStatus.IN_FLIGHT)
    ids: list[int] = []
    with hub.begin() as hs:
        for target, entity in pairs:
            stmt = select(Delivery.id).where(
                Delivery.target_system == target,
                Delivery.entity == entity,
                Delivery.status.in_(waiting),
            )
            ids.extend(hs.session.scalars(stmt))
    return sorted(ids)


LazyConnector = Callable[[], Connector]
