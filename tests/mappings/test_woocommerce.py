"""WooCommerce order JSON -> canonical, through the mapping files, against golden files."""

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
from tests.mappings.support import golden

FIXTURES = Path(__file__).parents[1] / "fixtures" / "woocommerce"
SAMPLES = ["order_guest.json", "order_registered.json", "order_multi_line_eu.json"]


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


@pytest.mark.parametrize("name", SAMPLES)
def test_sample_orders_match_their_golden_files(name: str) -> None:
    mapped = woocommerce.map_order(load(name))
    produced = {
        "customer_key": mapped.customer_key,
        "customer": mapped.customer.model_dump(mode="json", exclude_none=True),
        "order_key": mapped.order_key,
        "order": mapped.order.model_dump(mode="json", exclude_none=True),
        "erp_customer": nav.customer_to_nav(mapped.customer),
        "erp_sales_order": nav.sales_order_to_nav(mapped.order, customer_no="C00010"),
    }
    produced = json.loads(json.dumps(produced, default=str))
    assert produced == golden(name.replace("order_", "woocommerce_"), produced)


@pytest.mark.parametrize("name", SAMPLES)
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
    assert mapped.order.customer_ref == mapped.customer_key
    assert mapped.customer.kind is CustomerKind.PERSON
    assert mapped.order.status is OrderStatus.ACCEPTED  # processing = paid, to the ERP


def test_registered_order_uses_the_shop_customer_id() -> None:
    raw = load("order_registered.json")
    assert woocommerce.map_order(raw).customer_key == str(raw["customer_id"])


def test_a_company_makes_an_organisation_named_after_it() -> None:
    raw = load("order_guest.json")
    raw["billing"]["company"] = "  Kaffee Rösterei GmbH "
    customer = woocommerce.map_order(raw).customer
    assert (customer.kind, customer.name) == (CustomerKind.ORGANISATION, "Kaffee Rösterei GmbH")


def test_country_prefixed_state_codes_and_country_names_are_normalised() -> None:
    raw = load("order_guest.json")
    raw["billing"] |= {"country": "Germany", "state": "DE-BE"}
    address = woocommerce.map_order(raw).customer.addresses[0]
    assert (address.country, address.subdivision) == ("DE", "BE")


@pytest.mark.parametrize(
    ("state", "country", "code"),
    [("Bavaria", "DE", "BY"), ("Thüringen", "Germany", "TH"), ("new york", "US", "NY")],
)
def test_subdivision_names_become_iso_codes(state: str, country: str, code: str) -> None:
    raw = load("order_guest.json")
    raw["billing"] |= {"country": country, "state": state}
    assert woocommerce.map_order(raw).customer.addresses[0].subdivision == code


def test_unit_price_is_subtotal_over_quantity_without_trailing_zeros() -> None:
    raw = load("order_guest.json")
    raw["line_items"][0] |= {"quantity": 3, "subtotal": "60.00"}
    price = woocommerce.map_order(raw).order.lines[0].unit_price.amount
    assert str(price) == "20"


def test_every_bad_field_is_named_in_one_error() -> None:
    raw = load("order_bad_fields.json")
    with pytest.raises(InvalidRecord) as caught:
        woocommerce.map_order(raw)
    paths = [e.path for e in caught.value.errors]
    assert sorted(paths) == ["billing.email", "line_items[1].quantity"]  # each once
    message = str(caught.value)
    assert message.startswith(f"webshop order {raw['id']}: ")
    assert "line_items[1].quantity: 'abc' is not a number" in message


def test_mapping_and_model_errors_are_reported_together() -> None:
    raw = load("order_guest.json")
    raw["billing"]["email"] = "not-an-address"
    raw["line_items"][0]["quantity"] = "-2"
    raw["status"] = "shipped-by-mars"
    with pytest.raises(InvalidRecord) as caught:
        woocommerce.map_order(raw, source="shop-eu")
    found = {e.path: e.message for e in caught.value.errors}
    assert found["line_items[0].quantity"] == "'-2' is not a positive quantity"
    assert found["status"] == "unknown WooCommerce order status 'shipped-by-mars'"
    assert "not a valid email address" in found["billing.email"]
    assert str(caught.value).startswith("shop-eu order 1022: ")


def test_float_amounts_are_refused_as_inexact() -> None:
    raw = load("order_guest.json")
    raw["total"] = 124.52
    with pytest.raises(InvalidRecord, match=r"total: 124.52 is not an exact decimal"):
        woocommerce.map_order(raw)


def test_an_order_without_lines_is_refused() -> None:
    raw = load("order_guest.json")
    raw["line_items"] = []
    with pytest.raises(InvalidRecord, match="line_items: an order needs at least one line item"):
        woocommerce.map_order(raw)


def test_non_object_body_is_an_invalid_record() -> None:
    with pytest.raises(InvalidRecord, match="must be a JSON object"):
        woocommerce.map_order(["not", "an", "order"])


@pytest.mark.parametrize(
    ("line", "sku"),
    [
        ({"sku": "", "variation_id": 0, "product_id": 109}, "WC-109"),
        ({"sku": "", "variation_id": 141, "product_id": 140}, "WC-141"),
    ],
)
def test_line_without_sku_falls_back_to_variation_or_product_id(
    line: dict[str, Any], sku: str
) -> None:
    raw = load("order_guest.json")
    raw["line_items"][0] |= line
    assert woocommerce.map_order(raw).order.lines[0].sku == sku


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
