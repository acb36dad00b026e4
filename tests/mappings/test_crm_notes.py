"""Shipments and orders as SuiteCRM Notes on the customer's account (mappings/crm)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pydantic import SecretStr

from canonical.models import Money, OrderLine, OrderStatus, SalesOrder, Shipment, ShipmentLine
from connectors.base import Ack
from connectors.crm import CrmConnector, CrmSettings
from mappings import crm as crm_mappings
from sandbox.crm import CrmHandle, start_in_thread

SHIPMENT = Shipment(
    shipment_number="SH-88",
    order_number="1001",
    carrier="DHL",
    tracking_numbers=("00340434", "00340435"),
    shipped_at=datetime(2026, 3, 2, 14, 5, tzinfo=UTC),
    lines=(
        ShipmentLine(sku="BEANS-1KG", quantity_shipped=Decimal("2.000")),
        ShipmentLine(sku="GRINDER-X", quantity_shipped=Decimal("1")),
    ),
)


def _eur(amount: str) -> Money:
    return Money(amount=Decimal(amount), currency="EUR")


ORDER = SalesOrder(
    order_number="1001",
    status=OrderStatus.ACCEPTED,
    ordered_at=datetime(2026, 3, 1, 9, 0, tzinfo=UTC),
    currency="EUR",
    lines=(
        OrderLine(
            line_number=1,
            sku="BEANS-1KG",
            description="Espresso beans 1 kg",
            quantity=Decimal(2),
            unit_price=_eur("19.95"),
            line_total=_eur("39.90"),
        ),
    ),
    shipping_total=_eur("4.90"),
    total=_eur("44.80"),
)


def test_a_shipment_note_names_carrier_tracking_and_articles() -> None:
    note = crm_mappings.shipment_note(SHIPMENT, parent_key="customer:7")
    assert note["tandem_key_c"] == "shipment:SH-88"
    assert note["name"] == "Shipment SH-88 for order 1001"
    assert note["description"].splitlines() == [
        "Carrier: DHL",
        "Tracking: 00340434, 00340435",
        "Shipped: 2026-03-02 14:05:00+00:00",
        "2 x BEANS-1KG",
        "1 x GRINDER-X",
    ]
    assert note["_related"] == [{"module": "Accounts", "key": "customer:7"}]
    assert "_related" not in crm_mappings.shipment_note(SHIPMENT)


def test_an_order_note_gives_status_total_and_lines() -> None:
    note = crm_mappings.order_note(ORDER, parent_key="customer:8", parent_module="Contacts")
    assert note["name"] == "Order 1001: accepted 44.80 EUR"
    assert note["description"].splitlines() == [
        "Ordered: 2026-03-01 09:00:00+00:00",
        "2 x BEANS-1KG Espresso beans 1 kg 39.90 EUR",
        "Shipping: 4.90 EUR",
    ]
    assert note["_related"] == [{"module": "Contacts", "key": "customer:8"}]


@pytest.fixture
def crm() -> Iterator[CrmHandle]:
    handle = start_in_thread(seed=1)
    yield handle
    handle.stop()


def test_a_later_order_status_updates_the_same_note_on_the_account(crm: CrmHandle) -> None:
    settings = CrmSettings(
        base_url=crm.api_url, client_id=crm.client_id, client_secret=SecretStr(crm.client_secret)
    )
    account_id = next(iter(crm.api.store.records["Accounts"]))
    crm.api.store.update("Accounts", account_id, {"tandem_key_c": "customer:7"})
    shipped = ORDER.model_copy(update={"status": OrderStatus.SHIPPED})
    with CrmConnector(settings) as connector:
        outcomes = connector.write(
            "notes",
            [
                crm_mappings.order_note(ORDER, parent_key="customer:7"),
                crm_mappings.shipment_note(SHIPMENT, parent_key="customer:7"),
                crm_mappings.order_note(shipped, parent_key="customer:7"),
            ],
        )
    assert all(isinstance(o, Ack) for o in outcomes), outcomes
    first, _, second = (o for o in outcomes if isinstance(o, Ack))
    assert (first.created, second.created) == (True, False)
    assert first.external_id == second.external_id
    note = crm.api.store.get("Notes", first.external_id)
    assert note["name"] == "Order 1001: shipped 44.80 EUR"
    assert (note["parent_type"], note["parent_id"]) == ("Accounts", account_id)
    on_account = crm.api.store.related("Accounts", account_id, "notes")
    assert len(on_account) == 2
