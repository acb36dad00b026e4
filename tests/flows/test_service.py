"""Flow "service" against the real peers: the sandbox web shop (its service form, sending
signed WooCommerce action webhooks to Tandem's receiver), the sandbox CRM (SuiteCRM V8 API),
the NAV SOAP sandbox ERP and the sandbox 3PL over a real OpenSSH sshd."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import select

from canonical.models import Customer, CustomerKind, Entity, ServiceRequest
from connectors.base import Connector
from connectors.crm import CrmConnector, CrmSettings
from connectors.erp_soap import ErpSoapConnector, ErpSoapSettings
from connectors.logistics import LogisticsConnector
from connectors.transports.retry import RetryPolicy as TransportRetry
from connectors.webhooks.app import create_webhook_app
from connectors.webhooks.models import WebhookSource
from flows.intake import HubInboxSink
from flows.policy import RetryPolicy
from flows.service import FLOW
from flows.service.common import WEB, WEB_TOPIC, requested_parts
from flows.service.requests import WebRequestIntake
from flows.spec import RunOptions
from flows.summary import FlowSummary
from hub.schema import Delivery, DeliveryStatus, Event, InboxMessage, InboxStatus
from hub.store import Hub
from sandbox.crm.peer import CrmHandle
from sandbox.crm.peer import start_in_thread as start_crm
from sandbox.erp_soap.server import ErpHandle
from sandbox.erp_soap.server import start_in_thread as start_erp
from sandbox.files.runner import FilePartners
from sandbox.sshd import SshdHandle, start_sshd
from sandbox.webshop.peer import WebshopHandle
from sandbox.webshop.peer import start_in_thread as start_webshop
from sandbox.webshop.sender import WebhookSender
from tests.connectors.test_logistics_support import PASSWORD, sent_copies, settings, start_partners
from tests.connectors.webshop_support import connect
from tests.services import need_program
from tests.support import serve_asgi

SECRET = "service-form-webhook-secret"
FAST = TransportRetry(attempts=2, initial_wait=0.01, max_wait=0.05, jitter=0.0)
PART = "TDM-GRD-200"


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshdHandle]:
    need_program("/usr/sbin/sshd", "apt-get install openssh-server")
    handle = start_sshd(tmp_path_factory.mktemp("service-sshd"), password=PASSWORD)
    yield handle
    handle.stop()


@pytest.fixture(scope="module")
def crm() -> Iterator[CrmHandle]:
    handle = start_crm(seed=1)
    yield handle
    handle.stop()


@pytest.fixture(scope="module")
def shop() -> Iterator[WebshopHandle]:
    handle = start_webshop(seed=1)
    yield handle
    handle.stop()


@pytest.fixture(scope="module")
def erp() -> Iterator[ErpHandle]:
    handle = start_erp()  # empty: the test counts its orders
    yield handle
    handle.stop()


class Peers:
    """``Services`` over the test's peers: the hub, the connectors, the SOAP ERP."""

    def __init__(self, hub: Hub, connectors: dict[str, Connector], erp: ErpSoapConnector) -> None:
        self.hub = hub
        self.connectors = connectors
        self._erp = erp
        self.retry_policy = RetryPolicy(max_attempts=2, base_delay=0.0, jitter=0.0)

    def erp(self) -> ErpSoapConnector:
        return self._erp

    def connector(self, system: str) -> Connector:
        return self.connectors[self.system_name(system)]

    def system_name(self, role: str) -> str:
        return "erp_soap" if role == "erp" else role


@dataclass
class Landscape:
    hub: Hub
    services: Peers
    shop: WebshopHandle
    crm: CrmHandle
    erp: ErpHandle
    area: Path
    partners: FilePartners
    receiver: str

    @property
    def variant(self) -> int:
        """0 on SQLite, 1 on PostgreSQL: the peers are shared by both runs of a test, so each
        picks customers of its own (a customer is keyed in the CRM by its golden id)."""
        return 0 if self.hub.engine.dialect.name == "sqlite" else 1

    def customer(self, n: int) -> tuple[dict[str, Any], int]:
        return _registered_customer_with_order(self.shop, skip=n + 10 * self.variant)

    def run(self) -> FlowSummary:
        return FLOW.run(self.services, RunOptions())

    def request(self, **fields: Any) -> str:
        """Fills in the shop's service form; the case number of the request."""
        answer = httpx.post(f"{self.shop.url}/service-request", json=fields, timeout=10)
        assert answer.status_code == 201, answer.text
        assert self.shop.drain_webhooks(), "the shop's webhook was not sent"
        return f"WS-{answer.json()['id']}"

    def cases(self, key: str) -> list[tuple[str, dict[str, str]]]:
        records = self.crm.api.store.records["Cases"].items()
        return [(i, r) for i, r in records if r["tandem_key_c"] == key and r["deleted"] == "0"]

    def case(self, key: str) -> tuple[str, dict[str, str]]:
        [found] = self.cases(key)
        return found

    def erp_orders(self, number: str) -> list[dict[str, Any]]:
        orders = self.erp.app.store.records.get("Sales_Order", {}).values()
        return [o for o in orders if o.get("External_Document_No") == number]

    def customer_notes(self, order_id: int) -> list[str]:
        return [n["note"] for n in self.shop.api.store.list_notes(order_id, "customer")]


@pytest.fixture
def land(
    hub: Hub,
    sshd: SshdHandle,
    crm: CrmHandle,
    shop: WebshopHandle,
    erp: ErpHandle,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> Iterator[Landscape]:
    area = sshd.area(f"tests/service/{tmp_path.name}", clean=True)
    partners = start_partners(area, partial_rate=0.0, backorder_rate=0.0)
    crm_settings = CrmSettings(
        base_url=crm.api_url,
        client_id=crm.client_id,
        client_secret=SecretStr(crm.client_secret),
        retry=FAST,
    )
    connectors: dict[str, Connector] = {
        "crm": CrmConnector(crm_settings),
        "webshop": connect(shop),
        "logistics": LogisticsConnector(settings(sshd, area, tmp_path / "x12.db")),
    }
    soap = ErpSoapConnector(ErpSoapSettings(base_url=erp.base_url, retry=FAST))
    sources = {WEB: WebhookSource(name=WEB, scheme="woocommerce", secret=SecretStr(SECRET))}
    with serve_asgi(create_webhook_app(sources, HubInboxSink(hub))) as base:
        receiver = f"{base}/webhooks/{WEB}"
        hook = shop.subscribe(receiver, SECRET, (WEB_TOPIC,))
        services = Peers(hub, connectors, soap)
        yield Landscape(hub, services, shop, crm, erp, area, partners, receiver)
        shop.api.dispatcher.unsubscribe(hook)
    for connector in connectors.values():
        connector.close()
    soap.close()
    partners.stop()


def _registered_customer_with_order(shop: WebshopHandle, skip: int) -> tuple[dict[str, Any], int]:
    """A registered customer the CRM also holds (seeded as a contact) and one of its orders."""
    store = shop.api.store
    seen = 0
    for order_id in sorted(store.data.orders):
        order = store.data.orders[order_id]
        if 2 <= order["customer_id"] <= 151 and order["shipping"].get("address_1"):
            if seen == skip:
                return store.get_customer(order["customer_id"]), order_id
            seen += 1
    raise AssertionError("the seeded shop has no such order")


def _next_second() -> None:
    """A CRM user's next change comes in a later second than the last read: SuiteCRM stamps
    changes to the second, and a record changed again within the second it was read at is
    not read again (see docs/flows/service.md, limits)."""
    time.sleep(1.05)


def _chain(hub: Hub, case_number: str) -> tuple[list[InboxMessage], list[Delivery], list[Event]]:
    with hub.begin() as hs:
        inbox = list(
            hs.session.scalars(
                select(InboxMessage).where(InboxMessage.correlation_id == case_number)
            )
        )
        deliveries = list(
            hs.session.scalars(select(Delivery).where(Delivery.correlation_id == case_number))
        )
        events = list(hs.session.scalars(select(Event).where(Event.correlation_id == case_number)))
        hs.session.expunge_all()
    return inbox, deliveries, events


def test_a_web_shop_request_becomes_one_crm_case_on_the_customers_crm_contact(
    land: Landscape,
) -> None:
    customer, order_id = land.customer(0)
    number = land.request(
        name=f"{customer['first_name']} {customer['last_name']}",
        email=customer["email"],
        order_id=order_id,
        subject="Espresso machine leaks water",
        message="Water under the machine after every shot.",
    )
    assert land.cases(number) == [], "nothing reaches the CRM before the flow runs"
    first = land.run()
    assert first.dead == 0 and first.quarantined == 0
    case_id, case = land.case(number)
    assert case["name"] == "Espresso machine leaks water"
    assert case["status"] == "Open_New" and f"Order: {order_id}" in case["description"]
    # found by e-mail: the shop's customer the CRM already held as a contact (not a new one)
    contacts = [
        (cid, c)
        for cid, c in land.crm.api.store.records["Contacts"].items()
        if c["email1"].lower() == customer["email"].lower() and c["deleted"] == "0"
    ]
    assert len(contacts) == 1
    contact_id, contact = contacts[0]
    assert land.crm.api.store.related("Cases", case_id, "contacts") == [("Contacts", contact_id)]
    assert contact["tandem_key_c"].startswith("cus_"), "keyed by the golden customer"
    stamp = case["date_modified"]

    second = land.run()
    assert (second.delivered, second.dead) == (0, 0)
    assert len(land.cases(number)) == 1, "a second run makes no second case"
    assert land.case(number)[1]["date_modified"] == stamp, "nor touches the case"

    inbox, deliveries, _ = _chain(land.hub, number)
    assert {m.source_system for m in inbox} >= {WEB, "crm"}
    assert all(m.status == InboxStatus.PROCESSED for m in inbox)
    assert [(d.target_system, d.status) for d in deliveries] == [("crm", DeliveryStatus.DELIVERED)]


def test_a_case_asking_for_a_part_gives_one_erp_order_one_940_and_a_shipment_note(
    land: Landscape,
) -> None:
    customer, order_id = land.customer(1)
    number = land.request(
        name=f"{customer['first_name']} {customer['last_name']}",
        email=customer["email"],
        order_id=order_id,
        subject="Grinder burrs worn",
        message="Grinds unevenly since last week.",
        part_sku=PART,
        part_quantity=2,
    )
    land.run()
    svc = f"SVC-{number}"
    [order] = land.erp_orders(svc)
    [line] = order["SalesLines"]
    assert (line["No"], Decimal(line["Quantity"])) == (PART, Decimal(2))
    assert sent_copies(land.area, svc) == 1, "one 940 at the 3PL"
    case_id, case = land.case(number)
    assert f"Part: {PART} x 2" in case["description"]

    land.partners.tick()  # the 3PL receives the 940 ...
    land.partners.tick()  # ... and ships it: a 945 in its outbound folder
    land.run()
    notes = [
        n
        for n in land.crm.api.store.records["Notes"].values()
        if n["parent_type"] == "Cases" and n["parent_id"] == case_id
    ]
    assert len(notes) == 1 and notes[0]["name"].startswith("Shipment ")
    assert svc in notes[0]["name"] and PART in notes[0]["description"]

    again = land.run()
    assert again.dead == 0
    assert len(land.erp_orders(svc)) == 1 and sent_copies(land.area, svc) == 1
    assert (
        sum(1 for n in land.crm.api.store.records["Notes"].values() if n["parent_id"] == case_id)
        == 1
    )

    # the whole chain, found by the case number
    inbox, deliveries, events = _chain(land.hub, number)
    assert {(d.target_system, d.entity) for d in deliveries} == {
        ("crm", Entity.SERVICE_REQUEST),
        ("erp", Entity.SALES_ORDER),
        ("logistics", Entity.SALES_ORDER),
        ("crm", Entity.SHIPMENT),
    }
    assert all(d.status == DeliveryStatus.DELIVERED for d in deliveries)
    assert {m.source_system for m in inbox} == {WEB, "crm", "logistics-service"}
    assert any(e.kind == "case_alias" for e in events), "the CRM's own number is logged"


def test_a_case_status_change_in_the_crm_shows_on_the_web_shop_order(land: Landscape) -> None:
    customer, order_id = land.customer(2)
    number = land.request(
        name=customer["first_name"],
        email=customer["email"],
        order_id=order_id,
        subject="Milk frother noisy",
        message="Loud rattle.",
    )
    land.run()
    before = land.customer_notes(order_id)
    case_id, _ = land.case(number)
    _next_second()
    land.crm.api.store.update("Cases", case_id, {"status": "Open_Assigned"})
    land.run()
    notes = land.customer_notes(order_id)
    wanted = f"Your service request {number} (Milk frother noisy) is being worked on."
    assert notes.count(wanted) == 1 and len(notes) == len(before) + 1
    land.run()
    assert land.customer_notes(order_id) == notes, "a run without a change adds nothing"
    _next_second()
    land.crm.api.store.update("Cases", case_id, {"status": "Closed_Closed", "state": "Closed"})
    land.run()
    closed = f"Your service request {number} (Milk frother noisy) is closed."
    assert land.customer_notes(order_id).count(closed) == 1
    _, deliveries, _ = _chain(land.hub, number)
    assert sum(1 for d in deliveries if d.target_system == "webshop") == 2


def test_a_case_opened_in_the_crm_orders_its_part_under_the_crm_case_number(
    land: Landscape,
) -> None:
    store = land.crm.api.store
    account_id = next(iter(store.records["Accounts"]))
    account = store.records["Accounts"][account_id]
    with land.hub.begin() as hs:  # the customer sync has brought the account into the hub
        customer = Customer(
            kind=CustomerKind.ORGANISATION,
            name=account["name"],
            addresses=(
                {
                    "street": account["billing_address_street"] or "Hafenstraße 1",
                    "city": account["billing_address_city"] or "Hamburg",
                    "country": "DE",
                },
            ),
        )
        outcome = hs.upsert(customer, canonical_id=None, source_system="crm")
        hs.link(Entity.CUSTOMER, outcome.canonical_id, "crm", account_id)
    case_id = store.create(
        "Cases",
        {
            "name": "Tamper missing",
            "description": "Delivered without the tamper.\nPart: TDM-TMP-58 x 1",
            "status": "Open_Assigned",
            "priority": "P2",
            "account_id": account_id,
        },
        None,
    )
    number = store.records["Cases"][case_id]["case_number"]
    summary = land.run()
    assert summary.dead == 0
    [order] = land.erp_orders(f"SVC-{number}")
    assert order["Ship_to_City"]
    assert sent_copies(land.area, f"SVC-{number}") == 1
    _, deliveries, _ = _chain(land.hub, number)
    assert {d.target_system for d in deliveries} == {"erp", "logistics"}
    assert not any(d.target_system == "webshop" for d in deliveries), "no web shop to tell"


def test_a_broken_form_entry_is_quarantined_with_the_field_named(land: Landscape) -> None:
    with WebhookSender(land.receiver, SECRET, retries=0) as sender:
        body = {"action": "tandem_service_request", "arg": {"id": 990, "email": "x@example.com"}}
        assert sender.send(WEB_TOPIC, body) == [200]
    summary = WebRequestIntake(land.hub).run()  # the flow's first step, on its own
    assert (summary.read, summary.quarantined, summary.changed) == (1, 1, 0)
    with land.hub.begin() as hs:
        [parked] = hs.session.scalars(
            select(InboxMessage).where(
                InboxMessage.source_system == WEB, InboxMessage.status == InboxStatus.QUARANTINED
            )
        )
        assert "subject" in (parked.error or "") and b'"id":990' in parked.raw_body


def test_the_parts_a_case_asks_for_are_read_from_its_description() -> None:
    case = ServiceRequest(
        case_number="7",
        subject="Parts",
        description="Two things broke.\n"
        "Part: TDM-TMP-58 x 2\npart:TDM-CUP-6\nArticle: TDM-KBX-01 x 0",
        sku="TDM-TMP-58",
    )
    assert [(p.sku, p.quantity) for p in requested_parts(case)] == [
        ("TDM-TMP-58", Decimal(2)),
        ("TDM-CUP-6", Decimal(1)),
    ], "a quantity of 0 orders nothing; no quantity is one"
    only_sku = case.model_copy(update={"description": "See the photo.", "sku": "TDM-FLT-3PK"})
    assert [(p.sku, p.quantity) for p in requested_parts(only_sku)] == [("TDM-FLT-3PK", Decimal(1))]
    assert requested_parts(case.model_copy(update={"description": None, "sku": None})) == []
