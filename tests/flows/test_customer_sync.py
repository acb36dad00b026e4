"""Customer sync against the sandbox web shop, CRM and NAV SOAP ERP: one golden customer per
person, field owners, no echoes, idempotent runs, a review list, older updates never win."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from canonical.models import Customer, Entity
from flows import customer_sync
from flows.customers.config import SyncConfig
from flows.registry import FLOWS
from flows.spec import RunOptions
from flows.summary import FlowSummary
from hub.schema import Delivery, Event, Xref
from hub.store import Hub, IncomingMessage
from hub.views import field_sources, open_reviews, receive
from sandbox.erp_soap.pages import PAGES
from tests.flows.customer_landscape import Landscape, PeerServices, start_landscape


@pytest.fixture(scope="module")
def landscape() -> Iterator[Landscape]:
    yield from start_landscape()


@pytest.fixture
def land(landscape: Landscape) -> Landscape:
    landscape.clear()
    return landscape


@pytest.fixture
def services(hub: Hub, land: Landscape) -> Iterator[PeerServices]:
    services = PeerServices(hub, land)
    yield services
    services.close()


def run(services: PeerServices) -> FlowSummary:
    return customer_sync.run(services, RunOptions())


def xrefs(hub: Hub, cid: str) -> dict[str, str]:
    with hub.begin() as hs:
        rows = hs.session.scalars(select(Xref).where(Xref.canonical_id == cid))
        return {row.system: row.external_id for row in rows}


def golden(hub: Hub) -> dict[str, Customer]:
    with hub.begin() as hs:
        ids = hs.session.scalars(select(Xref.canonical_id).distinct())
        found = {}
        for cid in ids:
            record = hs.load(cid, Customer)
            assert isinstance(record, Customer)
            found[cid] = record
        return found


def deliveries(hub: Hub) -> list[tuple[str, str]]:
    with hub.begin() as hs:
        rows = hs.session.execute(select(Delivery.target_system, Delivery.status))
        return [(target, str(status)) for target, status in rows]


def erp_customer(land: Landscape, **fields: Any) -> str:
    return str(land.erp.app.store.create(PAGES["Customer"], fields)["No"])


def same_person_everywhere(land: Landscape) -> tuple[str, str, int]:
    """Jürgen Müller as the ERP, the CRM and the web shop each spell him."""
    erp_no = erp_customer(
        land, Name="Jürgen Müller", E_Mail="j.mueller@firma-mueller.de",
        Phone_No="+49 89 1234567", Address="Hauptstraße 12", City="München", Post_Code="80331",
        Country_Region_Code="DE", Credit_Limit_LCY="5000", Payment_Terms_Code="30D",
    )  # fmt: skip
    crm_id = land.crm_record(
        "Contacts", first_name="Juergen", last_name="Mueller",
        email1="juergen.mueller@example.com", phone_work="+49 (0)89 1234567",
        primary_address_street="Hauptstrasse 12", primary_address_city="Muenchen",
        primary_address_postalcode="80331", primary_address_country="Germany",
    )  # fmt: skip
    shop_id = land.shop_customer(
        email="juergen.mueller@example.com", first_name="Jürgen", last_name="Müller",
        billing={"first_name": "Jürgen", "last_name": "Müller", "address_1": "Hauptstr. 12",
                 "city": "München", "postcode": "80331", "country": "DE",
                 "email": "juergen.mueller@example.com", "phone": "089 1234567"},
        meta_data=[{"key": "mailchimp_woocommerce_is_subscribed", "value": "1"}],
    )  # fmt: skip
    return erp_no, crm_id, shop_id


def test_one_person_in_three_systems_is_one_golden_customer(
    hub: Hub, land: Landscape, services: PeerServices
) -> None:
    erp_no, crm_id, shop_id = same_person_everywhere(land)
    summary = run(services)
    assert summary.quarantined == 0 and summary.dead == 0, summary
    customers = golden(hub)
    assert len(customers) == 1, customers
    cid, person = next(iter(customers.items()))
    assert xrefs(hub, cid) == {"erp_soap": erp_no, "crm": crm_id, "webshop": str(shop_id)}
    # each field from its owner: the shop's login e-mail and consent, the ERP's credit terms,
    # the CRM's phone; the kind and names from the CRM or the shop (NAV knows no persons)
    assert person.email == "juergen.mueller@example.com"
    assert person.marketing_consent is True
    assert person.credit_limit is not None and person.credit_limit.amount == 5000
    assert person.payment_terms == "30D"
    assert person.kind == "person" and person.last_name in ("Mueller", "Müller")
    with hub.begin() as hs:
        sources = field_sources(hs, cid)
    assert sources["credit_limit"]["system"] == "erp_soap"
    assert sources["credit_limit"]["rule"] == "owner"
    assert sources["email"]["system"] == "webshop"
    # the golden record went to the ERP (it knows the customer) and the CRM: the shop's
    # e-mail address is now the ERP's, the CRM contact carries the hub's key
    assert land.erp_customers()[erp_no]["E_Mail"] == "juergen.mueller@example.com"
    contact = land.crm_records("Contacts")[crm_id]
    assert contact["tandem_key_c"] == cid
    assert len(land.crm_records("Contacts")) == 1, "the CRM's contact was updated, not doubled"


def test_a_second_run_changes_nothing_in_any_peer(
    hub: Hub, land: Landscape, services: PeerServices
) -> None:
    same_person_everywhere(land)
    first = run(services)
    assert first.delivered >= 2, first
    before = land.snapshot()
    again = run(services)  # reads the first run's writes back (echoes), and nothing else
    assert land.snapshot() == before
    assert again.delivered == 0 and again.changed == 0, again
    third = run(services)
    assert land.snapshot() == before
    assert third.read == 0, "the cursors moved past everything"


def test_an_echo_is_not_written_back(hub: Hub, land: Landscape, services: PeerServices) -> None:
    erp_no, crm_id, _ = same_person_everywhere(land)
    run(services)
    stamp = land.crm_records("Contacts")[crm_id]["date_modified"]
    erp_key = land.erp_customers()[erp_no]["Last_Modified_Date_Time"]
    queued = deliveries(hub)
    echo = run(services)  # the CRM contact and ERP customer as our writes left them
    # our writes come back as changes (the CRM's may wait for its second to close: its
    # cursor keeps the ids of the current second, docs/connectors/crm.md)
    assert echo.read >= 1, "our writes come back as changes"
    assert echo.delivered == 0 and echo.changed == 0, echo
    assert land.crm_records("Contacts")[crm_id]["date_modified"] == stamp
    assert land.erp_customers()[erp_no]["Last_Modified_Date_Time"] == erp_key
    assert deliveries(hub) == queued, "nothing was queued for the echoes"


def test_the_erp_owns_the_credit_limit_whatever_the_crm_says(
    hub: Hub, land: Landscape, services: PeerServices
) -> None:
    erp_no = erp_customer(
        land, Name="Nordlicht Kaffee GmbH", E_Mail="einkauf@nordlicht.example",
        Address="Speicherstadt 3", City="Hamburg", Post_Code="20457", Country_Region_Code="DE",
        Credit_Limit_LCY="12000", VAT_Registration_No="DE811111111",
    )  # fmt: skip
    run(services)
    (cid,) = golden(hub)
    account_id = xrefs(hub, cid)["crm"]
    assert land.crm_records("Accounts")[account_id]["credit_limit_c"] == "12000"
    changes = {"credit_limit_c": "99000", "phone_office": "+49 40 555 0101"}
    land.crm.api.store.update("Accounts", account_id, changes)
    summary = run(services)
    assert summary.dead == 0, summary
    record = golden(hub)[cid]
    assert record.credit_limit is not None and record.credit_limit.amount == 12000
    assert record.phone == "+49 40 555 0101", "the CRM's other change counts"
    assert land.erp_customers()[erp_no]["Credit_Limit_LCY"] in ("12000", 12000)
    assert land.erp_customers()[erp_no]["Phone_No"] == "+49 40 555 0101"
    # the CRM shows the owner's figure again
    assert land.crm_records("Accounts")[account_id]["credit_limit_c"] == "12000"
    with hub.begin() as hs:
        kinds = hs.session.scalars(select(Event.kind).where(Event.correlation_id == cid)).all()
    assert "owner_restored" in kinds


def test_an_uncertain_pair_lands_on_the_review_list_with_its_explanation(
    hub: Hub, land: Landscape, services: PeerServices
) -> None:
    erp_customer(
        land, Name="Keller Kaffeehandel GmbH", Address="Bahnhofstraße 5", City="Hamburg",
        Post_Code="20095", Country_Region_Code="DE",
    )  # fmt: skip
    land.crm_record(
        "Accounts", name="Keller Kaffeehandel GmbH", billing_address_street="Spitalerstraße 5",
        billing_address_city="Hamburg", billing_address_postalcode="20095",
        billing_address_country="Germany",
    )  # fmt: skip
    run(services)
    assert len(golden(hub)) == 2, "an uncertain pair is not merged"
    with hub.begin() as hs:
        reviews = open_reviews(hs, Entity.CUSTOMER)
        detail = hs.session.scalars(select(Event.detail).where(Event.kind == "identity")).all()
    assert len(reviews) == 1
    assert "review" in reviews[0].explanation and "street -3.0" in reviews[0].explanation
    assert any(d and d.startswith("review:") and "street" in d for d in detail)


def test_an_older_update_arriving_later_does_not_win(
    hub: Hub, land: Landscape, services: PeerServices
) -> None:
    _, crm_id, _ = same_person_everywhere(land)
    run(services)
    land.crm.api.store.update("Contacts", crm_id, {"phone_work": "+49 89 7777777"})
    run(services)
    newest = land.crm_records("Contacts")[crm_id]
    late = dict(newest, id=crm_id, phone_work="+49 89 1111111",
                date_modified=(datetime.now(UTC) - timedelta(days=3)).isoformat())  # fmt: skip
    with hub.begin() as hs:  # a delayed delivery of an old version of the contact
        receive(hs, IncomingMessage(
            source_system="crm", kind="contact", dedupe_key=f"crm:contacts:{crm_id}:late",
            body=json.dumps(late).encode(), headers={"key": crm_id},
        ))  # fmt: skip
    summary = customer_sync.process(services, RunOptions(), SyncConfig.load())
    assert summary.stale == 1 and summary.changed == 0, summary
    (person,) = golden(hub).values()
    assert person.phone == "+49 89 7777777"


def test_the_flow_is_registered() -> None:
    spec = FLOWS["customer-sync"]
    assert spec is customer_sync.FLOW and spec.handlers is not None


def test_an_accounts_contacts_are_its_contact_persons(
    hub: Hub, land: Landscape, services: PeerServices
) -> None:
    erp_no = erp_customer(
        land, Name="Atlas Roasters GmbH", Address="Am Sandtorkai 40", City="Hamburg",
        Post_Code="20457", Country_Region_Code="DE", Phone_No="+49 40 3000 100",
    )  # fmt: skip
    account = land.crm_record(
        "Accounts", name="Atlas Roasters GmbH", phone_office="+49 40 3000100",
        billing_address_street="Am Sandtorkai 40", billing_address_city="Hamburg",
        billing_address_postalcode="20457", billing_address_country="Germany",
    )  # fmt: skip
    for first, last in (("Marie", "Vogel"), ("Paul", "Lang")):
        land.crm_record("Contacts", first_name=first, last_name=last, account_id=account,
                        email1=f"{first.lower()}@atlas.example")  # fmt: skip
    summary = run(services)
    assert summary.dead == 0 and summary.retrying == 0, summary
    (cid,) = golden(hub)
    assert xrefs(hub, cid) == {"erp_soap": erp_no, "crm": account}
    company = golden(hub)[cid]
    assert company.kind == "organisation"
    assert sorted(c.last_name or "" for c in company.contacts) == ["Lang", "Vogel"]
    assert len(land.crm_records("Contacts")) == 2, "contact persons are not customers"
    before = land.snapshot()
    again = run(services)
    assert land.snapshot() == before and again.delivered == 0, again


def test_a_record_that_cannot_be_mapped_is_quarantined_and_the_rest_goes_on(
    hub: Hub, land: Landscape, services: PeerServices
) -> None:
    land.crm_record("Contacts", title="Buyer")  # no name, no e-mail address
    same_person_everywhere(land)
    summary = run(services)
    assert summary.quarantined == 1, summary
    assert len(golden(hub)) == 1
    with hub.begin() as hs:
        errors = hs.session.scalars(select(Event.detail).where(Event.kind == "inbox_quarantined"))
        assert any("a contact needs a name or an e-mail address" in (e or "") for e in errors)


def test_our_write_read_back_does_not_win_on_recency(
    hub: Hub, land: Landscape, services: PeerServices
) -> None:
    """An ERP customer becomes a CRM account, whose address reads back as a billing and a
    shipping address: the echo must not replace the ERP's address (and go back to the ERP)."""
    erp_no = erp_customer(
        land, Name="Blue Café KG", Address="Rheinuferstraße 8", City="Köln", Post_Code="50668",
        Country_Region_Code="DE", Credit_Limit_LCY="2500",
    )  # fmt: skip
    run(services)
    stamp = land.erp_customers()[erp_no]["Last_Modified_Date_Time"]
    echo = run(services)
    assert echo.read == 1 and echo.changed == 0 and echo.delivered == 0, echo
    (company,) = golden(hub).values()
    assert [a.kind for a in company.addresses] == ["both"]
    assert land.erp_customers()[erp_no]["Last_Modified_Date_Time"] == stamp
