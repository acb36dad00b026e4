"""Web shop writes: order status and tracking, stock levels by SKU (real sandbox shop)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from canonical.errors import InvalidRecord, PermanentError
from connectors.base import Ack, Rejected
from connectors.webshop import WebshopConnector
from sandbox.webshop.peer import WebshopHandle, start_in_thread
from tests.connectors.webshop_support import connect


@pytest.fixture(scope="module")
def shop() -> Iterator[WebshopHandle]:
    handle = start_in_thread(seed=7)
    yield handle
    handle.stop()


@pytest.fixture
def connector(shop: WebshopHandle) -> Iterator[WebshopConnector]:
    c = connect(shop)
    yield c
    c.close()


def open_order(shop: WebshopHandle, skip: int = 0) -> int:
    orders = sorted(o for o, v in shop.api.store.data.orders.items() if v["status"] == "processing")
    return orders[skip]


def meta(order: dict[str, Any]) -> dict[str, Any]:
    return {m["key"]: m["value"] for m in order["meta_data"]}


def test_shipping_an_order_sets_status_tracking_and_one_customer_note(
    shop: WebshopHandle, connector: WebshopConnector
) -> None:
    order_id = open_order(shop)
    record = {
        "id": order_id,
        "status": "completed",
        "tracking": {"carrier": "DHL", "number": "00340434161234567890"},
    }
    first = connector.write("orders", [record])[0]
    assert isinstance(first, Ack) and first.external_id == str(order_id)
    assert first.detail["changed"] == ["meta_data", "status"] and first.detail["note_added"]
    order = shop.api.store.get_order(order_id)
    assert order["status"] == "completed"
    assert (
        meta(order).items()
        >= {
            "tracking_carrier": "DHL",
            "tracking_number": "00340434161234567890",
        }.items()
    )
    notes = shop.api.store.list_notes(order_id, "customer")
    assert [n["note"] for n in notes] == [
        "Your order has been shipped with DHL. Tracking number: 00340434161234567890."
    ]
    again = connector.write("orders", [record])[0]
    assert isinstance(again, Ack)
    assert again.detail == {"changed": [], "note_added": False, "status": "completed"}
    assert shop.api.store.get_order(order_id)["date_modified_gmt"] == order["date_modified_gmt"]
    assert len(shop.api.store.list_notes(order_id, "customer")) == 1


def test_a_second_parcel_replaces_the_tracking_and_tells_the_customer(
    shop: WebshopHandle, connector: WebshopConnector
) -> None:
    order_id = open_order(shop, 1)
    for number in ("1Z999AA10123456784", "1Z999AA10123456795"):
        tracking = {"carrier": "UPS", "number": number, "url": f"https://ups.example/{number}"}
        outcome = connector.write(
            "orders", [{"id": order_id, "status": "completed", "tracking": tracking}]
        )
        assert isinstance(outcome[0], Ack)
    order = shop.api.store.get_order(order_id)
    assert meta(order)["tracking_number"] == "1Z999AA10123456795"
    assert meta(order)["tracking_url"] == "https://ups.example/1Z999AA10123456795"
    assert len(shop.api.store.list_notes(order_id, "customer")) == 2


def test_bad_order_updates_are_rejected_for_good_and_the_rest_written(
    shop: WebshopHandle, connector: WebshopConnector
) -> None:
    good = open_order(shop, 2)
    outcomes = connector.write(
        "orders",
        [
            {"id": 999999, "status": "completed"},
            {"id": good, "tracking": {"carrier": "DPD"}},
            {"id": "abc", "status": "completed"},
            {"id": good, "status": "sent"},
            {"id": good, "status": "on-hold"},
        ],
    )
    missing, no_number, bad_id, bad_status, written = outcomes
    assert isinstance(missing, Rejected) and not missing.transient
    assert "GET /orders/999999" in str(missing.error) and "HTTP 404" in str(missing.error)
    assert isinstance(no_number, Rejected) and isinstance(no_number.error, InvalidRecord)
    assert "tracking.number" in str(no_number.error)
    assert isinstance(bad_id, Rejected) and "id: 'abc'" in str(bad_id.error)
    assert isinstance(bad_status, Rejected) and isinstance(bad_status.error, PermanentError)
    assert "HTTP 400 rest_invalid_param" in str(bad_status.error)
    assert isinstance(written, Ack)
    assert shop.api.store.get_order(good)["status"] == "on-hold"


def stock_levels(shop: WebshopHandle) -> dict[str, Any]:
    return {p["sku"]: p["stock_quantity"] for p in shop.api.store.data.products.values()}


def test_stock_levels_change_for_the_given_skus_only(
    shop: WebshopHandle, connector: WebshopConnector
) -> None:
    products = shop.api.store.data.products.values()
    simple = next(p for p in products if p["type"] == "simple" and p["manage_stock"])
    variation = next(p for p in products if p["type"] == "variation")
    before = stock_levels(shop)
    records = [
        {"sku": simple["sku"], "quantity": 42},
        {"sku": "NO-SUCH-SKU", "quantity": 1},
        {"sku": variation["sku"], "quantity": "7"},
        {"sku": simple["sku"], "quantity": 4.5},
    ]
    ok, unknown, varied, fractional = connector.write("stock", records)
    assert isinstance(ok, Ack) and ok.external_id == str(simple["id"])
    assert isinstance(varied, Ack) and varied.external_id == str(variation["id"])
    assert isinstance(unknown, Rejected) and "NO-SUCH-SKU" in str(unknown.error)
    assert isinstance(fractional, Rejected) and "quantity" in str(fractional.error)
    after = stock_levels(shop)
    assert after[simple["sku"]] == 42 and after[variation["sku"]] == 7
    untouched = {k: v for k, v in after.items() if k not in (simple["sku"], variation["sku"])}
    assert untouched == {k: v for k, v in before.items() if k in untouched}
    repeat = connector.write("stock", records[:1])[0]
    assert isinstance(repeat, Ack) and repeat.detail["changed"] == []
