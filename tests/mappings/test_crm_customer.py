"""Canonical Customer <-> SuiteCRM Accounts and Contacts (mappings/crm), on the sandbox CRM's
seeded records and through the CRM connector and back."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import SecretStr

from canonical.errors import InvalidRecord
from canonical.models import Address, AddressKind, Contact, Customer, CustomerKind
from connectors.base import Ack
from connectors.crm import CrmConnector, CrmSettings
from mappings import crm as crm_mappings
from sandbox.crm import CrmHandle, make_crm, start_in_thread
from sandbox.webshop.orders import REGISTERED_CUSTOMER_IDS, registered_customer


def _seeded(module: str, where: Any) -> dict[str, Any]:
    store = make_crm(seed=1).store
    record_id = next(rid for rid, r in store.records[module].items() if where(r))
    return {"id": record_id, **store.get(module, record_id)}


ORGANISATION = Customer(
    kind=CustomerKind.ORGANISATION,
    name="Hafen Kaffee GmbH",
    email="Info@Hafen-Kaffee.example",
    phone="+49 40 555123",
    addresses=(
        Address(
            kind=AddressKind.BILLING,
            street="Speicherstadt 4",
            street2="Block C",
            city="Hamburg",
            postal_code="20457",
            subdivision="HH",
            country="DE",
        ),
        Address(kind=AddressKind.SHIPPING, street="Am Kai 9", city="Kiel", country="DE"),
    ),
    contacts=(
        Contact(first_name="Ida", last_name="Lind", email="ida@hafen-kaffee.example", role="Owner"),
        Contact(first_name="Jo", phone="+49 40 555124"),
    ),
)


def test_a_seeded_account_is_an_organisation_with_its_address() -> None:
    record = _seeded("Accounts", lambda r: r["billing_address_city"] == "München")
    key, customer = crm_mappings.customer_from_account(record)
    assert key == record["id"]
    assert (customer.kind, customer.name) == (CustomerKind.ORGANISATION, record["name"])
    assert customer.email == record["email1"]
    [address] = customer.addresses
    assert (address.kind, address.city, address.country, address.subdivision) == (
        AddressKind.BILLING, "München", "DE", "BY",
    )  # fmt: skip
    assert customer.updated_at is not None
    assert customer.updated_at.isoformat() == record["date_modified"]


def test_a_web_shop_contact_is_the_same_person_as_in_the_shop() -> None:
    shop_id = next(iter(REGISTERED_CUSTOMER_IDS))
    _region, billing, _rate = registered_customer(1, shop_id)
    record = _seeded("Contacts", lambda r: r["email1"] == billing["email"])
    key, customer = crm_mappings.customer_from_contact(record)
    assert key == record["id"] and customer.kind == CustomerKind.PERSON
    assert customer.name == f"{billing['first_name']} {billing['last_name']}"
    assert customer.email == billing["email"].lower()
    assert customer.addresses[0].city == billing["city"]


def test_a_bad_account_names_the_record_and_every_field() -> None:
    record = _seeded("Accounts", lambda r: True)
    record |= {"billing_address_country": "Atlantis", "date_modified": "soon", "name": " "}
    with pytest.raises(InvalidRecord) as caught:
        crm_mappings.customer_from_account(record)
    assert str(caught.value).startswith(f"crm account {record['id']}: ")
    assert {e.path for e in caught.value.errors} == {
        "billing_address_country", "date_modified", "name",
    }  # fmt: skip


def test_an_organisation_is_an_account_and_its_contact_persons() -> None:
    mapped = crm_mappings.customer_to_crm(ORGANISATION, key="customer:7")
    assert mapped.account is not None
    assert mapped.account["tandem_key_c"] == "customer:7"
    assert mapped.account["billing_address_street"] == "Speicherstadt 4\nBlock C"
    assert mapped.account["shipping_address_city"] == "Kiel"
    assert mapped.account["email1"] == "info@hafen-kaffee.example"
    keys = [c["tandem_key_c"] for c in mapped.contacts]
    assert keys == ["customer:7/ida@hafen-kaffee.example", "customer:7/contact-2"]
    assert mapped.contacts[1]["last_name"] == "Jo", "SuiteCRM requires a last name"
    link = [{"module": "Accounts", "key": "customer:7"}]
    assert all(c["_related"] == link for c in mapped.contacts)


def test_a_person_is_one_contact_without_an_account() -> None:
    person = Customer(kind=CustomerKind.PERSON, name="Ada Roth", email="ada@example.org")
    mapped = crm_mappings.customer_to_crm(person, key="customer:8")
    assert mapped.account is None
    [contact] = mapped.contacts
    assert contact == {"tandem_key_c": "customer:8", "last_name": "Ada Roth",
                       "email1": "ada@example.org", "lead_source": "Web Site"}  # fmt: skip


@pytest.fixture
def crm() -> Iterator[CrmHandle]:
    handle = start_in_thread(seed=1)
    yield handle
    handle.stop()


def test_an_organisation_written_and_read_back_is_the_same_customer(crm: CrmHandle) -> None:
    settings = CrmSettings(
        base_url=crm.api_url, client_id=crm.client_id, client_secret=SecretStr(crm.client_secret)
    )
    with CrmConnector(settings) as connector:
        mapped = crm_mappings.customer_to_crm(ORGANISATION, key="customer:7")
        assert mapped.account is not None
        [account_ack] = connector.write("accounts", [mapped.account])
        contact_acks = connector.write("contacts", mapped.contacts)
        assert isinstance(account_ack, Ack) and all(isinstance(a, Ack) for a in contact_acks)
        again = connector.write("accounts", [mapped.account]) + connector.write(
            "contacts", mapped.contacts
        )
        assert not any(isinstance(a, Ack) and a.created for a in again), "written once"
        account = next(
            r for p in connector.read("accounts", None) for r in p.records
            if r.key == account_ack.external_id
        )  # fmt: skip
        key, back = crm_mappings.customer_from_account(account.data)
    assert key == account_ack.external_id
    same = {"kind", "name", "email", "phone"}
    assert back.model_dump(include=same) == ORGANISATION.model_dump(include=same)
    assert [(a.kind, a.street, a.street2, a.city, a.country) for a in back.addresses] == [
        (a.kind, a.street, a.street2, a.city, a.country) for a in ORGANISATION.addresses
    ]
    linked = crm.api.store.related("Accounts", account_ack.external_id, "contacts")
    assert sorted(rid for _, rid in linked) == sorted(
        a.external_id for a in contact_acks if isinstance(a, Ack)
    )
