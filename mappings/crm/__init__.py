"""Canonical <-> SuiteCRM (API V8): customers as Accounts and Contacts, service requests as
Cases, shipments and orders as Notes on the customer's account.

Records are what the CRM connector reads and writes: a module's attributes (SuiteCRM field
names) plus ``id`` when read; when written, ``tandem_key_c`` (the connector's key field, which
makes writes idempotent) and ``_related`` (records to link by their key). The rules are in
the ``*.yaml`` files next to this module; each file's description says its choices.

- an organisation is an Account (``account.*.yaml``), its contact persons Contacts linked to
  it (``account_contacts.from_canonical.yaml``); a person is a Contact without an account
  (``contact.*.yaml``) — the web shop's registered customers are kept so;
- a ServiceRequest is a Case (``case.*.yaml``; status and priority through value maps);
- a Shipment or a SalesOrder is a Note on the customer's account (``*_note.from_canonical``);
- a Lead is a Leads record (``lead.from_canonical.yaml``), a CampaignResponse a Note on the
  customer's contact or account, or on the lead (``campaign_note.from_canonical.yaml``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from canonical.models import (
    CampaignResponse,
    Customer,
    CustomerKind,
    Lead,
    SalesOrder,
    ServiceRequest,
    Shipment,
)
from mappings.engine import load_mapping

SYSTEM = "crm"
HERE = Path(__file__).parent
Record = dict[str, Any]


def _map(name: str, value: Any, **params: Any) -> Any:
    return load_mapping(HERE / name).map(value, params=params)


@dataclass(frozen=True)
class CrmCustomer:
    """A canonical customer as CRM records: the account (organisations only) and contacts.

    Write the account first: contacts name it in ``_related`` by its key."""

    account: Record | None
    contacts: list[Record] = field(default_factory=list)


def customer_to_crm(customer: Customer, *, key: str) -> CrmCustomer:
    """An organisation -> its Account and contact persons; a person -> one Contact. ``key`` is
    the customer's key (the hub's id), written to ``tandem_key_c``."""
    if customer.kind == CustomerKind.ORGANISATION:
        account: Record = _map("account.from_canonical.yaml", customer, key=key).value
        people: Record = _map("account_contacts.from_canonical.yaml", customer, key=key).value
        return CrmCustomer(account, list(people.get("contacts") or []))
    contact: Record = _map("contact.from_canonical.yaml", customer, key=key).value
    return CrmCustomer(None, [contact])


def _to_canonical(name: str, record: Any, source: str) -> tuple[str, Any]:
    mapped = load_mapping(HERE / name).map(record, source=source)
    assert mapped.key is not None
    return mapped.key, mapped.value


def customer_from_account(record: Any, *, source: str = SYSTEM) -> tuple[str, Customer]:
    """An Accounts record -> ``(CRM id, Customer)``, an organisation; ``InvalidRecord`` lists
    every bad field."""
    key, customer = _to_canonical("account.to_canonical.yaml", record, source)
    assert isinstance(customer, Customer)
    return key, customer


def customer_from_contact(record: Any, *, source: str = SYSTEM) -> tuple[str, Customer]:
    """A Contacts record -> ``(CRM id, Customer)``, a person."""
    key, customer = _to_canonical("contact.to_canonical.yaml", record, source)
    assert isinstance(customer, Customer)
    return key, customer


def service_request_from_case(record: Any, *, source: str = SYSTEM) -> tuple[str, ServiceRequest]:
    """A Cases record -> ``(CRM id, ServiceRequest)``."""
    key, request = _to_canonical("case.to_canonical.yaml", record, source)
    assert isinstance(request, ServiceRequest)
    return key, request


def case_from_service_request(
    request: ServiceRequest, *, key: str | None = None, account_key: str | None = None
) -> Record:
    """A Cases record keyed by ``key`` (default: the request's case number), linked to the
    account with ``account_key`` when given."""
    record: Record = _map(
        "case.from_canonical.yaml", request, key=key, account_key=account_key
    ).value
    return record


def shipment_note(
    shipment: Shipment, *, parent_key: str | None = None, parent_module: str = "Accounts"
) -> Record:
    """A Notes record about ``shipment`` on the account (or contact) with ``parent_key``."""
    record: Record = _map(
        "shipment_note.from_canonical.yaml",
        shipment,
        parent_key=parent_key,
        parent_module=parent_module,
    ).value
    return record


def order_note(
    order: SalesOrder, *, parent_key: str | None = None, parent_module: str = "Accounts"
) -> Record:
    """A Notes record about ``order`` (its status and lines) on the customer's account."""
    record: Record = _map(
        "order_note.from_canonical.yaml", order, parent_key=parent_key, parent_module=parent_module
    ).value
    return record


def lead_to_crm(lead: Lead, *, key: str, contact_key: str | None = None) -> Record:
    """A Leads record keyed by ``key`` (the hub's lead id); ``converted`` once it ordered,
    linked to the contact it became when ``contact_key`` is given."""
    record: Record = _map("lead.from_canonical.yaml", lead, key=key, contact_key=contact_key).value
    return record


def campaign_note(
    response: CampaignResponse, *, parent_key: str | None = None, parent_module: str = "Contacts"
) -> Record:
    """A Notes record about a campaign response on the contact, account or lead with
    ``parent_key``."""
    record: Record = _map(
        "campaign_note.from_canonical.yaml",
        response,
        parent_key=parent_key,
        parent_module=parent_module,
    ).value
    return record
