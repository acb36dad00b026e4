"""WooCommerce order JSON -> canonical, and canonical -> NAV page records."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from canonical.errors import InvalidRecord
from canonical.models import CustomerKind, OrderStatus
from mappings import nav, woocommerce

FIXTURES = Path(__file__).parent / "fixtures" / "woocommerce"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


@pytest.mark.parametrize(
    "name", ["order_guest.json", "order_registered.json", "order_multi_line_eu.json"]
)
def test_sample_orders_map_with_exact_totals(name: str) -> None:
    raw = load(name)
    mapped = woocommerce.map_order(raw)
    order = mapped.order
    assert order.order_number == str(raw["number"])
    assert order.total.amount == Decimal(raw["total"])
    assert len(order.lines) == len(raw["line_items"])
    assert sum(line.line_total.amount for line in order.lines) == sum(
        Decimal(item["total"]) for item in raw["line_items"]
    )
    assert order.ordered_at == datetime.fromisoformat(raw["date_created_gmt"]).replace(tzinfo=UTC)
    assert mapped.customer.email == raw["billing"]["email"].lower()


def test_guest_order_identifies_customer_by_email() -> None:
    raw = load("order_guest.json")
    mapped = woocommerce.map_order(raw)
    assert raw["customer_id"] == 0
    assert mapped.customer_key == f"guest:{raw['billing']['email'].lower()}"
    assert mapped.customer.kind is CustomerKind.PERSON
    assert mapped.order.status is OrderStatus.ACCEPTED  # processing = paid, to the ERP


def test_registered_order_uses_the_shop_customer_id() -> None:
    raw = load("order_registered.json")
    assert woocommerce.map_order(raw).customer_key == str(raw["customer_id"])


def test_country_prefixed_state_codes_are_normalised() -> None:
    raw = load("order_guest.json")
    raw["billing"] |= {"country": "DE", "state": "DE-BE"}
    address = woocommerce.map_order(raw).customer.addresses[0]
    assert (address.country, address.subdivision) == ("DE", "BE")


def test_every_bad_field_is_named_in_one_error() -> None:
    raw = load("order_bad_fields.json")
    with pytest.raises(InvalidRecord) as caught:
        woocommerce.map_order(raw)
    paths = {e.path for e in caught.value.errors}
    assert "line_items[1].quantity" in paths
    assert "billing.email" in paths
    message = str(caught.value)
    assert message.startswith(f"webshop order {raw['id']}: ")
    assert "line_items[1].quantity: 'abc' is not a number" in message


def test_float_amounts_are_refused_as_inexact() -> None:
    raw = load("order_guest.json")
    raw["total"] = 124.52
    with pytest.raises(InvalidRecord, match=r"total: 124.52 is not an exact decimal"):
        woocommerce.map_order(raw)


def test_non_object_body_is_an_invalid_record() -> None:
    with pytest.raises(InvalidRecord, match="must be a JSON object"):
        woocommerce.map_order(["not", "an", "order"])


def test_line_without_sku_falls_back_to_product_id() -> None:
    raw = load("order_guest.json")
    raw["line_items"][0]["sku"] = ""
    product = raw["line_items"][0]["product_id"]
    assert woocommerce.map_order(raw).order.lines[0].sku == f"WC-{product}"


def test_nav_records_carry_the_idempotency_key_and_exact_amounts() -> None:
    mapped = woocommerce.map_order(load("order_multi_line_eu.json"))
    record = nav.sales_order_to_nav(mapped.order, customer_no="C00010")
    assert record["External_Document_No"] == mapped.order.order_number
    assert record["Sell_to_Customer_No"] == "C00010"
    lines = record["SalesLines"]["Sales_Order_Line"]
    assert [line["No"] for line in lines] == [line.sku for line in mapped.order.lines]
    assert all(isinstance(line["Unit_Price"], Decimal) for line in lines)
    customer = nav.customer_to_nav(mapped.customer)
    assert customer["E_Mail"] == mapped.customer.email
    assert customer["Country_Region_Code"] == mapped.customer.addresses[0].country
    assert "No" not in customer  # the ERP assigns customer numbers
