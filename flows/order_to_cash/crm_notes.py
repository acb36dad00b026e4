"""CRM activities: a note on the customer's account (organisations) or contact (persons) for
each shipment and invoice of an order.

The note's parent must be in the CRM, so the customer is written first, as the CRM mapping
makes it (``customer_to_crm``: keyed by the hub's customer id, found again by that key or the
contact's e-mail; nothing is sent when nothing differs). The note is keyed ``shipment:<no>`` /
``invoice:<no>``: a later state of the same shipment or invoice updates its note, a replay
changes nothing.
"""

from __future__ import annotations

from typing import Any

from canonical.errors import PermanentError
from canonical.models import Customer, Entity, Invoice, Shipment
from flows.delivery import Delivered, Handler, Link
from flows.order_to_cash.common import CRM, LazyConnector, load_order, write_one
from hub.store import DeliveryTask, Hub
from mappings import crm
from mappings.engine import load_mapping


def invoice_note(invoice: Invoice, *, parent_key: str, parent_module: str) -> dict[str, Any]:
    mapping = load_mapping(crm.HERE / "invoice_note.from_canonical.yaml")
    params = {"parent_key": parent_key, "parent_module": parent_module}
    record: dict[str, Any] = mapping.map(invoice, params=params).value
    return record


class CrmNotes:
    def __init__(self, hub: Hub, connector: LazyConnector) -> None:
        self.hub = hub
        self.crm = connector

    def handlers(self) -> dict[tuple[str, str], Handler]:
        return {
            (CRM, Entity.SHIPMENT): self.deliver_shipment,
            (CRM, Entity.INVOICE): self.deliver_invoice,
        }

    def _customer(self, order_number: str, what: str) -> tuple[str, Customer]:
        with self.hub.begin() as hs:
            _, order = load_order(hs, order_number, what)
            if order.customer_id is None:
                raise PermanentError(f"{what}: order {order_number} has no resolved customer")
            customer = hs.load(order.customer_id, Customer)
        assert isinstance(customer, Customer)
        return order.customer_id, customer

    def _parent(self, customer_id: str, customer: Customer) -> tuple[str, Link]:
        """Write the customer; the module its notes hang on and the customer's xref."""
        records = crm.customer_to_crm(customer, key=customer_id)
        connector = self.crm()
        if records.account is not None:
            ack = write_one(connector, "accounts", records.account)
            module = "Accounts"
            for contact in records.contacts:
                write_one(connector, "contacts", contact)
        else:
            ack = write_one(connector, "contacts", records.contacts[0])
            module = "Contacts"
        return module, Link(Entity.CUSTOMER, customer_id, CRM, ack.external_id, ack.version)

    def _note(self, task: DeliveryTask, entity: Entity, record: dict[str, Any],
              customer: Link) -> Delivered:  # fmt: skip
        ack = write_one(self.crm(), "notes", record)
        note = Link(entity, task.canonical_id, CRM, ack.external_id, ack.version)
        detail = "note written" if ack.created else "note up to date"
        return Delivered(ack.external_id, links=(customer, note), detail=detail)

    def deliver_shipment(self, task: DeliveryTask) -> Delivered:
        with self.hub.begin() as hs:
            shipment = hs.load(task.canonical_id, Shipment)
        assert isinstance(shipment, Shipment)
        customer_id, customer = self._customer(shipment.order_number, "CRM shipment note")
        module, link = self._parent(customer_id, customer)
        record = crm.shipment_note(shipment, parent_key=customer_id, parent_module=module)
        return self._note(task, Entity.SHIPMENT, record, link)

    def deliver_invoice(self, task: DeliveryTask) -> Delivered:
        with self.hub.begin() as hs:
            invoice = hs.load(task.canonical_id, Invoice)
        assert isinstance(invoice, Invoice)
        if not invoice.order_number:
            raise PermanentError(f"CRM invoice note {invoice.invoice_number}: no order number")
        customer_id, customer = self._customer(invoice.order_number, "CRM invoice note")
        module, link = self._parent(customer_id, customer)
        record = invoice_note(invoice, parent_key=customer_id, parent_module=module)
        return self._note(task, Entity.INVOICE, record, link)
