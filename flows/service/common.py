"""What every step of the service cycle shares: system names, the part-request convention,
the spare-part order, and finding a service request's customer in the hub."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import select

from canonical.models import (
    Address,
    AddressKind,
    Customer,
    Entity,
    Money,
    OrderLine,
    OrderStatus,
    SalesOrder,
    ServiceRequest,
)
from flows.processing import InboxProcessor
from flows.pull import PullSpec
from flows.summary import FlowSummary
from hub.schema import CanonicalRecord, InboxMessage
from hub.store import HubSession
from mappings import crm as crm_mappings
from mappings import woocommerce

log = logging.getLogger(__name__)

WEB = "webshop-service"
"""The web shop's service request form: the webhook source, and the system label of its
entries in the inbox and the cross-references."""
WEB_TOPIC = "action.tandem_service_request"
CRM = crm_mappings.SYSTEM
WEBSHOP = woocommerce.SYSTEM
LOGISTICS = "logistics"
ERP = "erp"  # the target the existing ERP order delivery (flows/erp_orders.py) serves
SERVICE = "service"  # the namespace of the flow's own numbers in the cross-references
ORDER_PREFIX = "SVC-"
CASES = PullSpec(system=CRM, stream="cases", kind="case")
# The 3PL's 945s, read on a feed of this flow's own (own cursor, own dedupe keys), so that
# another flow reading the same stream does not take them away from this one.
ADVICES = PullSpec(system="logistics-service", stream="shipping_advices", kind="shipment")
CLOSED = frozenset({"resolved", "closed"})

_PART = re.compile(r"(?im)^(?:part|article):[ \t]*(\S+)(?:[ \t]*x[ \t]*(\S+))?")


def order_number_of(case_number: str) -> str:
    """The spare-part order of a case: ``SVC-<case number>``."""
    return f"{ORDER_PREFIX}{case_number}"


def case_of(order_number: str) -> str | None:
    return order_number[len(ORDER_PREFIX) :] if order_number.startswith(ORDER_PREFIX) else None


@dataclass(frozen=True)
class Part:
    sku: str
    quantity: Decimal


def requested_parts(request: ServiceRequest) -> list[Part]:
    """The spare parts a case asks for: each description line ``Part: <SKU> x <qty>``
    (``x <qty>`` optional: 1; ``Article: <SKU>`` counts too), else ``sku`` once."""
    parts: dict[str, Decimal] = {}
    for sku, raw in _PART.findall(request.description or ""):
        try:
            quantity = Decimal(raw) if raw else Decimal(1)
        except InvalidOperation:
            quantity = Decimal(1)
        if quantity > 0:
            parts.setdefault(sku, quantity)
    if not parts and request.sku:
        parts[request.sku] = Decimal(1)
    return [Part(sku, qty) for sku, qty in parts.items()]


def _ship_to(customer: Customer, related: SalesOrder | None) -> Address | None:
    for kind in (AddressKind.SHIPPING, AddressKind.BOTH, AddressKind.BILLING):
        for address in customer.addresses:
            if address.kind == kind:
                return address.model_copy(update={"name": address.name or customer.name})
    return related.shipping_address if related is not None else None


def spare_part_order(
    request: ServiceRequest,
    parts: list[Part],
    customer: Customer,
    related: SalesOrder | None,
    ordered_at: datetime,
) -> SalesOrder:
    """The order that sends a case's parts: free of charge (service), to the customer's
    shipping address (else the related order's), numbered after the case."""
    currency = customer.currency or (related.currency if related else None) or "EUR"
    zero = Money(amount=Decimal("0.00"), currency=currency)
    lines = tuple(
        OrderLine(
            line_number=n,
            sku=part.sku,
            description=f"Spare part, service case {request.case_number}"[:100],
            quantity=part.quantity,
            unit_price=zero,
            line_total=zero,
        )
        for n, part in enumerate(parts, start=1)
    )
    ship_to = _ship_to(customer, related)
    return SalesOrder(
        order_number=order_number_of(request.case_number),
        customer_id=request.customer_id,
        customer_ref=request.case_number,
        status=OrderStatus.ACCEPTED,
        ordered_at=ordered_at,
        currency=currency,
        lines=lines,
        billing_address=ship_to,
        shipping_address=ship_to,
        total=zero,
        customer_note=f"Service case {request.case_number}: {request.subject}"[:500],
    )


def related_order(hs: HubSession, request: ServiceRequest) -> SalesOrder | None:
    """The web shop order a request names, when the hub holds it (WooCommerce order ids and
    numbers agree unless a numbering plugin is used)."""
    if not request.order_number:
        return None
    oid = hs.resolve(Entity.SALES_ORDER, WEBSHOP, request.order_number)
    if oid is None:
        return None
    order = hs.load(oid, SalesOrder)
    assert isinstance(order, SalesOrder)
    return order


def customer_by_email(hs: HubSession, email: str) -> str | None:
    """A golden customer with this e-mail address (the oldest), or None."""
    fragment = f'"email":"{email.lower()}"'
    stmt = (
        select(CanonicalRecord.id)
        .where(
            CanonicalRecord.entity == Entity.CUSTOMER,
            CanonicalRecord.payload.contains(fragment, autoescape=True),
        )
        .order_by(CanonicalRecord.created_at)
        .limit(1)
    )
    return hs.session.scalar(stmt)


def request_by_number(hs: HubSession, case_number: str) -> str | None:
    """The canonical id of the service request with this case number, or None."""
    fragment = f'"case_number":"{case_number}"'
    stmt = select(CanonicalRecord.id).where(
        CanonicalRecord.entity == Entity.SERVICE_REQUEST,
        CanonicalRecord.payload.contains(fragment, autoescape=True),
    )
    return hs.session.scalar(stmt.order_by(CanonicalRecord.created_at).limit(1))


class Waiting(Exception):
    """A message that cannot be processed yet (e.g. a case's customer is not in the hub). It
    stays claimed until its lease runs out, so a later run, not this one, takes it again."""

    def __init__(self, message: str, correlation_id: str | None = None) -> None:
        super().__init__(message)
        self.correlation_id = correlation_id


class ServiceProcessor(InboxProcessor):
    """``InboxProcessor`` whose ``process`` may raise ``Waiting``: the message's transaction
    is rolled back, a ``waiting`` event logged, and the message left under its lease (giving
    it back at once would have this run claim it again and again)."""

    def _one(self, message: InboxMessage, summary: FlowSummary) -> None:
        try:
            super()._one(message, summary)
        except Waiting as exc:
            summary.retrying += 1
            log.info("message %s waits: %s", message.id, exc)
            with self.hub.begin() as hs:
                hs.event(
                    "waiting",
                    message_id=message.id,
                    correlation_id=exc.correlation_id,
                    system=message.source_system,
                    detail=str(exc)[:2000],
                )
