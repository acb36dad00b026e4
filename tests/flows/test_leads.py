"""Leads and campaign responses against the sandbox web shop and CRM: a sign-up is a CRM lead,
its first order converts it (one golden customer, one CRM contact), a coupon is a note."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from canonical.models import Entity, Lead, SalesOrder
from flows import customer_sync, leads
from flows.pull import PullSpec, pull
from flows.registry import FLOWS
from flows.spec import RunOptions
from flows.webshop_orders import OrderIntake, OrderIntakeConfig
from hub.schema import CanonicalRecord
from hub.store import Hub
from sandbox.webshop.records import build_order
from tests.flows.customer_landscape import Landscape, PeerServices, start_landscape

ORDERS = PullSpec("webshop", "orders", "order.updated")
EMAIL = "lena.sommer@example.com"


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


def sign_up(land: Landscape, *, consent: bool) -> int:
    return land.shop_customer(
        email=EMAIL, first_name="Lena", last_name="Sommer",
        billing={"first_name": "Lena", "last_name": "Sommer", "address_1": "Lindenweg 4",
                 "city": "Köln", "postcode": "50667", "country": "DE", "email": EMAIL},
        meta_data=[{"key": "mailchimp_woocommerce_is_subscribed", "value": str(int(consent))}],
    )  # fmt: skip


def order(land: Landscape, customer_id: int, coupon: str | None = None) -> int:
    """A paid order of the customer (with a coupon: as the checkout stores it)."""
    store = land.shop.api.store
    body: dict[str, Any] = {
        "customer_id": customer_id, "set_paid": True,
        "billing": {"first_name": "Lena", "last_name": "Sommer", "address_1": "Lindenweg 4",
                    "city": "Köln", "postcode": "50667", "country": "DE", "email": EMAIL},
        "line_items": [{"sku": "TDM-MLK-110", "quantity": 1}],
    }  # fmt: skip
    if coupon is None:
        return int(store.create_order(body)["id"])
    made = build_order(body, 1, datetime.now(UTC), store.site_url)
    fields = {k: copy.deepcopy(v) for k, v in made.items() if k not in ("id", "number", "_links")
              and not k.startswith("date_")}  # fmt: skip
    fields["coupon_lines"] = [{"id": 1, "code": coupon, "discount": "3.95", "discount_tax": "0.75",
                               "meta_data": []}]  # fmt: skip
    fields["date_paid_gmt"] = made["date_paid_gmt"]
    return store.store_raw_order(fields)


def sync(services: PeerServices) -> None:
    """The customer sync, the web orders into the hub, then the leads flow."""
    customer_sync.run(services, RunOptions())
    pull(services.hub, services.connector("webshop"), ORDERS)
    OrderIntake(services.hub, OrderIntakeConfig(targets=())).run()
    leads.run(services, RunOptions())


def records(hub: Hub, entity: Entity) -> list[dict[str, Any]]:
    with hub.begin() as hs:
        rows = hs.session.scalars(select(CanonicalRecord).where(CanonicalRecord.entity == entity))
        return [{"id": r.id, "payload": r.payload} for r in rows]


def crm_by_email(land: Landscape, module: str) -> list[dict[str, str]]:
    return [r | {"id": k} for k, r in land.crm_records(module).items() if r["email1"] == EMAIL]


def test_a_sign_up_without_an_order_is_a_crm_lead_not_a_contact(
    hub: Hub, land: Landscape, services: PeerServices
) -> None:
    sign_up(land, consent=True)
    sync(services)
    (lead,) = crm_by_email(land, "Leads")
    assert (lead["first_name"], lead["last_name"], lead["status"]) == ("Lena", "Sommer", "New")
    assert lead["lead_source_description"] == "newsletter" and lead["converted"] == "0"
    assert crm_by_email(land, "Contacts") == [], "a sign-up is no customer of the CRM yet"
    (stored,) = records(hub, Entity.LEAD)
    assert Lead.model_validate_json(stored["payload"]).source == "newsletter"


def test_a_lead_that_orders_is_the_same_customer_and_no_second_crm_record(
    hub: Hub, land: Landscape, services: PeerServices
) -> None:
    shop_id = sign_up(land, consent=False)
    sync(services)
    (lead,) = crm_by_email(land, "Leads")
    assert lead["lead_source_description"] == "webshop-signup"
    order(land, shop_id)
    sync(services)
    customers = records(hub, Entity.CUSTOMER)
    assert len(customers) == 1, "the order's customer is the lead's golden customer"
    (sold,) = records(hub, Entity.SALES_ORDER)
    assert SalesOrder.model_validate_json(sold["payload"]).customer_id == customers[0]["id"]
    (contact,) = crm_by_email(land, "Contacts")
    assert contact["tandem_key_c"] == customers[0]["id"]
    (converted,) = crm_by_email(land, "Leads")
    assert converted["id"] == lead["id"], "the same lead, not a second one"
    assert (converted["status"], converted["converted"]) == ("Converted", "1")
    assert converted["contact_id"] == contact["id"]
    assert land.crm_records("Accounts") == {}
    before = land.snapshot()
    sync(services)
    assert land.snapshot() == before, "running again changes nothing in the CRM or the shop"


def test_a_coupon_used_at_checkout_is_a_campaign_response_on_the_contact(
    hub: Hub, land: Landscape, services: PeerServices
) -> None:
    shop_id = sign_up(land, consent=True)
    sync(services)
    number = order(land, shop_id, coupon="spring10")
    sync(services)
    (contact,) = crm_by_email(land, "Contacts")
    notes = [
        n for n in land.crm_records("Notes").values() if n["tandem_key_c"].startswith("campaign:")
    ]
    assert len(notes) == 1, notes
    assert notes[0]["name"] == f"Campaign spring10: coupon used on order {number}"
    assert (notes[0]["parent_type"], notes[0]["parent_id"]) == ("Contacts", contact["id"])
    (response,) = records(hub, Entity.CAMPAIGN_RESPONSE)
    assert '"campaign":"spring10"' in response["payload"]
    sync(services)
    assert len([n for n in land.crm_records("Notes").values() if n["tandem_key_c"]]) == 1


def test_the_flow_is_registered() -> None:
    assert FLOWS["leads"] is leads.FLOW
    assert FLOWS["leads"].handlers is not None
