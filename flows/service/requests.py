"""Web shop service requests (form entries posted as webhooks) -> ServiceRequest -> a CRM case.

Each entry becomes one ServiceRequest numbered ``WS-<entry id>`` (its case number, and the
correlation id of its whole chain), tied to the golden customer: the customer of the order it
names, else the web shop customer with that account (or guest e-mail), else any customer with
that e-mail address, else a new customer made from the entry. The case is then queued for the
CRM; the CRM connector finds it by its key, so a repeated delivery never makes a second case.
"""

from __future__ import annotations

from typing import Any

from canonical.errors import InvalidRecord
from canonical.models import Customer, Entity, ServiceRequest
from flows.processing import InboxProcessor, Processed, enqueue_change, routes
from flows.service.common import CRM, WEB, WEB_TOPIC, WEBSHOP, customer_by_email, related_order
from flows.summary import FlowSummary
from hub.schema import InboxMessage
from hub.store import HubSession
from mappings import woocommerce


def _entry(message: InboxMessage, doc: Any) -> Any:
    """The form entry inside WooCommerce's action payload ``{"action", "arg"}``."""
    if isinstance(doc, dict) and isinstance(doc.get("arg"), dict):
        return doc["arg"]
    raise InvalidRecord.single(
        WEB, f"message {message.id}", "arg", "is not a form entry object", entity="service request"
    )


class WebRequestIntake(InboxProcessor):
    flow, system, kinds = "service", WEB, (WEB_TOPIC,)
    id_fields = ("arg.id",)  # the form entry's id

    def record_ids(self, message: InboxMessage) -> set[str]:
        """The entry's id and its case number ``WS-<entry id>``."""
        ids = super().record_ids(message)
        return ids | {f"WS-{i}" for i in ids if not i.startswith("WS-")}

    def __init__(self, hub: Any, targets: tuple[str, ...] = (CRM,)) -> None:
        super().__init__(hub)
        self.targets = targets

    def process(
        self, hs: HubSession, message: InboxMessage, doc: Any, summary: FlowSummary
    ) -> Processed:
        entry = _entry(message, doc)
        key, request = woocommerce.map_service_request(entry, source=WEB)
        customer_key, sender = woocommerce.map_service_customer(entry, source=WEB)
        cid = hs.resolve(Entity.SERVICE_REQUEST, WEB, key)
        customer_id = self._customer(hs, request, customer_key, sender)
        request = request.model_copy(update={"customer_id": customer_id})
        outcome = hs.upsert(request, canonical_id=cid, source_system=WEB)
        hs.link(Entity.SERVICE_REQUEST, outcome.canonical_id, WEB, key)
        self.count(outcome, summary)
        if outcome.changed:
            for target in routes(self.targets, WEB):
                enqueue_change(
                    hs, message, target, Entity.SERVICE_REQUEST, outcome, request.case_number
                )
        return Processed(request.case_number, Entity.SERVICE_REQUEST, outcome.canonical_id, outcome)

    @staticmethod
    def _customer(
        hs: HubSession, request: ServiceRequest, customer_key: str, sender: Customer
    ) -> str:
        order = related_order(hs, request)
        if order is not None and order.customer_id:
            return order.customer_id
        found = hs.resolve(Entity.CUSTOMER, WEBSHOP, customer_key)
        if found is None and sender.email:
            found = customer_by_email(hs, sender.email)
        if found is not None:
            return found
        # nobody the hub knows: the sender becomes a customer (the web shop's key for it, so
        # the web shop's own customer record, once read, is the same golden customer)
        created = hs.upsert(sender, canonical_id=None, source_system=WEB)
        hs.link(Entity.CUSTOMER, created.canonical_id, WEBSHOP, customer_key)
        hs.event(
            "customer_created",
            correlation_id=request.case_number,
            system=WEB,
            detail=f"{created.canonical_id} from the service request's sender {customer_key}",
        )
        return created.canonical_id
