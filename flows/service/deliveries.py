"""The service cycle's deliveries: the case to the CRM (linked to the customer's CRM record),
a request's status to the web shop, and the part's shipment as a note on the CRM case.

The spare-part order goes to the ERP through the existing ERP order delivery
(``flows/erp_orders.py``, target ``erp``) and, once the ERP took it, to the 3PL as a 940
through the order-to-cash flow's step (``flows/order_to_cash/erp_to_3pl.py``). A shipment of
any other order is handed to the order-to-cash flow's CRM note (the account's), so this
handler can stand for both under the one key (CRM, shipment).

Connectors are taken from ``Services`` when the first delivery needs them, so delivering
other flows' records never needs these systems configured. Every write is skipped when the
system was last sent exactly this payload (as ``ConnectorTarget`` does).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from canonical.errors import PermanentError
from canonical.models import Customer, CustomerKind, Entity, ServiceRequest, Shipment
from connectors.base import Ack, Connector, Rejected
from flows.delivery import Delivered, Handler, Link
from flows.order_to_cash.crm_notes import CrmNotes
from flows.service.common import CRM, WEBSHOP, case_of, request_by_number
from flows.targets import payload_hash
from hub.store import DeliveryTask, Hub
from hub.views import sent_hash
from mappings import crm as crm_mappings

GetConnector = Callable[[], Connector]
STATUS_WORDS = {
    "new": "received",
    "open": "being worked on",
    "pending": "waiting for your reply",
    "resolved": "resolved",
    "closed": "closed",
}


def write_one(connector: Connector, stream: str, payload: Mapping[str, Any]) -> Ack:
    answers = connector.write(stream, [payload])
    if len(answers) != 1:
        raise PermanentError(f"{connector.system} {stream}: {len(answers)} answers for 1 record")
    answer = answers[0]
    if isinstance(answer, Rejected):
        raise answer.error
    if not isinstance(answer, Ack):
        raise PermanentError(f"{connector.system} {stream}: no answer for the record")
    return answer


def status_note(request: ServiceRequest) -> str:
    word = STATUS_WORDS.get(request.status, request.status)
    return f"Your service request {request.case_number} ({request.subject}) is {word}."


class ServiceDeliveries:
    def __init__(self, hub: Hub, connector: Callable[[str], Connector]) -> None:
        self.hub = hub
        self.connector = connector

    def handlers(self) -> dict[tuple[str, str], Handler]:
        return {
            (CRM, Entity.SERVICE_REQUEST): self.case,
            (WEBSHOP, Entity.SERVICE_REQUEST): self.status,
            (CRM, Entity.SHIPMENT): self.case_note,
        }

    # -- the case -------------------------------------------------------------------------

    def case(self, task: DeliveryTask) -> Delivered:
        with self.hub.begin() as hs:
            request = hs.load(task.canonical_id, ServiceRequest)
            assert isinstance(request, ServiceRequest)
            customer = hs.load(request.customer_id, Customer) if request.customer_id else None
            crm_customer = (
                hs.external_id(Entity.CUSTOMER, request.customer_id, CRM)
                if request.customer_id
                else None
            )
        links: list[Link] = []
        related: list[dict[str, str]] = []
        if isinstance(customer, Customer):
            assert request.customer_id is not None
            module = "Accounts" if customer.kind == CustomerKind.ORGANISATION else "Contacts"
            if crm_customer is None:
                crm_customer = self._crm_customer(customer, request.customer_id)
                links.append(Link(Entity.CUSTOMER, request.customer_id, CRM, crm_customer))
            related.append({"module": module, "id": crm_customer})
        has_part_line = "part:" in (request.description or "").lower()
        payload = crm_mappings.case_from_service_request(
            request.model_copy(update={"sku": None}) if has_part_line else request,
            key=request.case_number,
        )
        payload["_related"] = related
        return self._send(task, Entity.SERVICE_REQUEST, CRM, "cases", payload, links)

    def _crm_customer(self, customer: Customer, key: str) -> str:
        """The customer's CRM record, found (by key, a contact also by e-mail) or created."""
        records = crm_mappings.customer_to_crm(customer, key=key)
        if records.account is not None:
            return write_one(self.connector(CRM), "accounts", records.account).external_id
        return write_one(self.connector(CRM), "contacts", records.contacts[0]).external_id

    # -- status back to the web shop ------------------------------------------------------

    def status(self, task: DeliveryTask) -> Delivered:
        with self.hub.begin() as hs:
            request = hs.load(task.canonical_id, ServiceRequest)
        assert isinstance(request, ServiceRequest)
        if not request.order_number:
            raise PermanentError(f"service request {request.case_number} names no order")
        payload = {
            "id": request.order_number,
            "note": status_note(request),
            "key": request.case_number,
        }
        link_id = f"{request.order_number}#{request.case_number}"
        return self._send(task, Entity.SERVICE_REQUEST, WEBSHOP, "orders", payload, [], link_id)

    # -- the shipment, on the case ---------------------------------------------------------

    def case_note(self, task: DeliveryTask) -> Delivered:
        with self.hub.begin() as hs:
            shipment = hs.load(task.canonical_id, Shipment)
            assert isinstance(shipment, Shipment)
            number = case_of(shipment.order_number)
            request_id = request_by_number(hs, number) if number else None
            case_id = (
                hs.external_id(Entity.SERVICE_REQUEST, request_id, CRM) if request_id else None
            )
        if number is None or request_id is None:
            return CrmNotes(self.hub, lambda: self.connector(CRM)).deliver_shipment(task)
        if case_id is None:
            raise PermanentError(f"shipment {shipment.shipment_number}: case {number} not in CRM")
        payload = crm_mappings.shipment_note(shipment)
        # keyed per case: the order-to-cash flow keys its account notes shipment:<no>
        payload["tandem_key_c"] = f"{number}/shipment:{shipment.shipment_number}"
        payload["_related"] = [{"module": "Cases", "id": case_id}]
        return self._send(task, Entity.SHIPMENT, CRM, "notes", payload, [])

    # -- shared ------------------------------------------------------------------------------

    def _send(
        self,
        task: DeliveryTask,
        entity: Entity,
        system: str,
        stream: str,
        payload: dict[str, Any],
        links: list[Link],
        link_id: str | None = None,
    ) -> Delivered:
        digest = payload_hash(payload)
        with self.hub.begin() as hs:
            known = hs.external_id(entity, task.canonical_id, system)
            if known is not None and sent_hash(hs, entity, task.canonical_id, system) == digest:
                return Delivered(known, detail="unchanged: not sent again", skipped=True)
        ack = write_one(self.connector(system), stream, payload)
        external = link_id or ack.external_id
        own = Link(entity, task.canonical_id, system, external, ack.version, sent_hash=digest)
        return Delivered(
            ack.external_id, links=(*links, own), detail="created" if ack.created else ""
        )
