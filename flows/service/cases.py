"""CRM cases -> ServiceRequest in the hub; a part asked for -> a spare-part order to the ERP
and the 3PL; a status change of a web shop request -> back to the web shop.

The CRM owns a case's status. A case Tandem wrote for a web shop request is found again by
its cross-reference and keeps that request's case number (``WS-...``); a case opened in the
CRM is numbered by the CRM. Either way that number is the correlation id of everything the
case causes. A CRM case numbered differently from its chain is logged once (``case_alias``)
so the CRM's own number finds the chain too.
"""

from __future__ import annotations

from typing import Any

from canonical.models import Customer, Entity, SalesOrder, ServiceRequest
from flows.processing import Processed, enqueue_change
from flows.service.common import (
    CASES,
    CLOSED,
    CRM,
    ERP,
    SERVICE,
    WEB,
    WEBSHOP,
    ServiceProcessor,
    Waiting,
    related_order,
    requested_parts,
    spare_part_order,
)
from flows.summary import FlowSummary
from hub.schema import InboxMessage
from hub.store import HubSession, UpsertOutcome
from mappings import crm as crm_mappings

ALIAS = "crm_case_number"  # xref system holding the CRM's own number of a web shop case


class CaseProcessor(ServiceProcessor):
    flow, system, kinds = "service", CRM, (CASES.kind,)
    id_fields = ("case_number", "tandem_key_c")  # the CRM's case number, a web case's WS-<id>

    def __init__(
        self, hub: Any, order_targets: tuple[str, ...] = (ERP,), status_to: str = WEBSHOP
    ) -> None:
        super().__init__(hub)
        self.order_targets = order_targets
        self.status_to = status_to

    def process(
        self, hs: HubSession, message: InboxMessage, doc: Any, summary: FlowSummary
    ) -> Processed:
        key, mapped = crm_mappings.service_request_from_case(doc)
        cid = hs.resolve(Entity.SERVICE_REQUEST, CRM, key)
        previous = _load(hs, cid)
        request = _merged(hs, mapped, previous, doc)
        number = request.case_number
        outcome = hs.upsert(request, canonical_id=cid, source_system=CRM)
        hs.link(Entity.SERVICE_REQUEST, outcome.canonical_id, CRM, key)
        self.count(outcome, summary)
        if mapped.case_number != number:
            self._alias(hs, outcome.canonical_id, mapped.case_number, number)
        if outcome.changed and not outcome.stale:
            self._part_order(hs, message, request, doc)
            if previous is not None and previous.status != request.status:
                self._status_back(hs, message, request, outcome)
        return Processed(number, Entity.SERVICE_REQUEST, outcome.canonical_id, outcome)

    def _part_order(
        self, hs: HubSession, message: InboxMessage, request: ServiceRequest, doc: Any
    ) -> None:
        parts = requested_parts(request)
        if not parts:
            return
        number = request.case_number
        order_no = f"SVC-{number}"
        oid = hs.resolve(Entity.SALES_ORDER, SERVICE, order_no)
        earlier = _load_order(hs, oid)
        if earlier is None and request.status in CLOSED:
            return  # a case closed before anything was ordered orders nothing
        if request.customer_id is None:
            raise Waiting(
                f"crm case {number} asks for parts, but its customer (CRM account "
                f"{doc.get('account_id') or '<none>'}) is not in the hub yet: a later run "
                "takes the case again (after customer sync)",
                number,
            )
        customer = hs.load(request.customer_id, Customer)
        assert isinstance(customer, Customer)
        ordered_at = earlier.ordered_at if earlier else (request.updated_at or message.received_at)
        order = spare_part_order(request, parts, customer, related_order(hs, request), ordered_at)
        outcome = hs.upsert(order, canonical_id=oid, source_system=CRM)
        hs.link(Entity.SALES_ORDER, outcome.canonical_id, SERVICE, order_no)
        if not outcome.changed:
            return
        for target in self.order_targets:
            enqueue_change(hs, message, target, Entity.SALES_ORDER, outcome, number)

    def _status_back(
        self, hs: HubSession, message: InboxMessage, request: ServiceRequest, outcome: UpsertOutcome
    ) -> None:
        """A web shop request's new status goes back to the web shop (as a note on its order)."""
        from_web = hs.external_id(Entity.SERVICE_REQUEST, outcome.canonical_id, WEB) is not None
        if not from_web:
            return
        if not request.order_number:
            hs.event(
                "status_not_shown",
                message_id=message.id,
                correlation_id=request.case_number,
                system=self.status_to,
                detail=f"{request.status}: the request names no order to show it on",
            )
            return
        enqueue_change(
            hs, message, self.status_to, Entity.SERVICE_REQUEST, outcome, request.case_number
        )

    @staticmethod
    def _alias(hs: HubSession, cid: str, crm_number: str, number: str) -> None:
        if hs.resolve(Entity.SERVICE_REQUEST, ALIAS, crm_number) is not None:
            return
        hs.link(Entity.SERVICE_REQUEST, cid, ALIAS, crm_number)
        for correlation in (crm_number, number):
            hs.event(
                "case_alias",
                correlation_id=correlation,
                system=CRM,
                detail=f"CRM case {crm_number} is service request {number}",
            )


def _load(hs: HubSession, cid: str | None) -> ServiceRequest | None:
    if cid is None:
        return None
    record = hs.load(cid, ServiceRequest)
    assert isinstance(record, ServiceRequest)
    return record


def _load_order(hs: HubSession, oid: str | None) -> SalesOrder | None:
    if oid is None:
        return None
    record = hs.load(oid, SalesOrder)
    assert isinstance(record, SalesOrder)
    return record


def _merged(
    hs: HubSession, mapped: ServiceRequest, previous: ServiceRequest | None, doc: Any
) -> ServiceRequest:
    """The CRM's view of the case, keeping what only the hub knows: the chain's case number,
    the customer (else the CRM account's golden customer), the order and part."""
    account = str(doc.get("account_id") or "") if isinstance(doc, dict) else ""
    customer_id = previous.customer_id if previous else None
    if customer_id is None and account:
        customer_id = hs.resolve(Entity.CUSTOMER, CRM, account)
    return mapped.model_copy(
        update={
            "case_number": previous.case_number if previous else mapped.case_number,
            "customer_id": customer_id,
            "order_number": mapped.order_number or (previous.order_number if previous else None),
            "sku": mapped.sku or (previous.sku if previous else None),
        }
    )
