"""Shopify Admin REST API orders -> canonical, through mappings/shopify, on realistic samples."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from canonical.errors import InvalidRecord
from canonical.models import CustomerKind, OrderStatus, SalesOrder
from mappings import nav, shopify

FIXTURES = Path(__file__).parents[1] / "fixtures" / "shopify"
EU = "order_eu_taxes_included.json"
US = "order_us_guest_partial.json"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return data


def bare(name: str) -> dict[str, Any]:
    order: dict[str, Any] = shopify.unwrap(load(name))
    return order


def money_sum(order: SalesOrder) -> Decimal:
    """What the canonical parts add up to: net lines + net shipping + tax."""
    lines = sum((line.line_total.amount for line in order.lines), Decimal(0))
    shipping = order.shipping_total.amount if order.shipping_total else Decimal(0)
    tax = order.tax_total.amount if order.tax_total else Decimal(0)
    return lines + shipping + tax


@pytest.mark.parametrize("name", [EU, US])
def test_net_lines_shipping_and_tax_add_up_to_what_the_buyer_pays(name: str) -> None:
    raw = bare(name)
    order = shopify.map_order(load(name)).order
    assert order.total.amount == Decimal(raw["total_price"])
    assert money_sum(order) == order.total.amount
    assert order.tax_total is not None
    assert order.tax_total.amount == Decimal(raw["total_tax"])


def test_prices_including_tax_become_net_amounts() -> None:
    order = shopify.map_order(load(EU)).order
    beans, mug = order.lines
    # 2 x 24.90 incl. 19 % VAT, 4.98 discount, 7.16 tax on the discounted line
    assert beans.unit_price.amount == Decimal("20.9244")  # 24.90 / 1.19
    assert beans.discount is not None and beans.discount.amount == Decimal("4.18")
    assert beans.line_total.amount == Decimal("37.66")  # 49.80 - 4.98 - 7.16, exact
    assert beans.tax is not None and beans.tax.amount == Decimal("7.16")
    assert mug.line_total.amount == Decimal("15.05")
    assert order.shipping_total is not None
    assert order.shipping_total.amount == Decimal("4.12")  # 4.90 less 0.78 tax


def test_prices_without_tax_stay_as_stated() -> None:
    order = shopify.map_order(load(US)).order
    machine, filters = order.lines
    assert machine.unit_price.amount == Decimal("129")
    assert filters.line_total.amount == Decimal("25.00")  # 2 x 12.50, tax on top
    assert machine.discount is None  # no discount allocations
    assert order.shipping_total is not None and order.shipping_total.amount == Decimal("9.99")


def test_amounts_are_in_the_shop_currency_not_the_presentment_currency() -> None:
    raw = bare(EU)
    assert raw["presentment_currency"] == "CHF"
    order = shopify.map_order(raw).order
    assert order.currency == "EUR"
    assert {line.line_total.currency for line in order.lines} == {"EUR"}
    assert order.total.amount == Decimal(raw["total_price_set"]["shop_money"]["amount"])


def test_timestamps_with_an_offset_become_utc() -> None:
    eu = shopify.map_order(load(EU)).order
    us = shopify.map_order(load(US)).order
    assert eu.ordered_at == datetime(2025, 3, 12, 13, 5, 31, tzinfo=UTC)  # +01:00
    assert eu.updated_at == datetime(2025, 3, 12, 13, 7, 2, tzinfo=UTC)
    assert us.ordered_at == datetime(2025, 3, 14, 13, 41, 7, tzinfo=UTC)  # -04:00


def test_wrapped_rest_answer_and_bare_webhook_body_map_alike() -> None:
    wrapped = shopify.map_order(load(US))
    webhook = shopify.map_order(bare(US))
    assert wrapped.order == webhook.order
    assert wrapped.order_key == "5830412976298"


def test_registered_customer_keyed_by_id_guest_by_email() -> None:
    registered = shopify.map_order(load(EU))
    assert registered.customer_key == "7403315626154"
    assert registered.order.customer_ref == registered.customer_key
    assert registered.customer.kind is CustomerKind.PERSON
    assert registered.customer.marketing_consent is True
    guest = shopify.map_order(load(US))
    assert guest.customer_key == "guest:j.miller@example.com"  # lower-cased e-mail
    assert guest.customer.kind is CustomerKind.ORGANISATION
    assert guest.customer.name == "Miller Coffee Lab LLC"
    assert guest.order.billing_address is not None
    assert guest.order.billing_address.subdivision == "NY"


def test_a_line_without_a_sku_is_named_after_its_variant() -> None:
    order = shopify.map_order(load(US)).order
    assert [line.sku for line in order.lines] == ["TDM-ESP-100", "SHOPIFY-47231849406634"]
    assert order.lines[1].description == "Paper Filters & Holder (3 pack)"


@pytest.mark.parametrize(
    ("financial", "fulfillment", "cancelled", "expected"),
    [
        ("paid", None, None, OrderStatus.ACCEPTED),
        ("pending", None, None, OrderStatus.RECEIVED),
        ("authorized", None, None, OrderStatus.RECEIVED),
        ("paid", "partial", None, OrderStatus.PARTIALLY_SHIPPED),
        ("paid", "fulfilled", None, OrderStatus.SHIPPED),
        ("refunded", None, None, OrderStatus.CANCELLED),
        ("paid", None, "2025-03-13T08:00:00+01:00", OrderStatus.CANCELLED),
    ],
)
def test_status_from_cancellation_fulfilment_then_payment(
    financial: str, fulfillment: str | None, cancelled: str | None, expected: OrderStatus
) -> None:
    raw = bare(EU) | {
        "financial_status": financial,
        "fulfillment_status": fulfillment,
        "cancelled_at": cancelled,
    }
    assert shopify.map_order(raw).order.status is expected


def test_the_order_goes_on_to_the_erp_like_a_woocommerce_order() -> None:
    mapped = shopify.map_order(load(EU))
    erp = nav.sales_order_to_nav(mapped.order, customer_no="C00010")
    assert erp["External_Document_No"] == "1042"
    lines = erp["SalesLines"]["Sales_Order_Line"]
    assert [line["No"] for line in lines[:2]] == ["TDM-BNS-ROM-1KG", "TDM-MUG-BLK-350"]
    assert lines[0]["Line_Amount"] == Decimal("37.66")


def test_every_bad_field_is_named_at_once() -> None:
    raw = copy.deepcopy(bare(EU))
    raw["line_items"][1]["quantity"] = "two"
    raw["line_items"][0]["price"] = 24.9  # a JSON float: not an exact amount
    del raw["total_price"]
    raw["financial_status"] = "on_the_way"
    with pytest.raises(InvalidRecord) as caught:
        shopify.map_order(raw)
    message = str(caught.value)
    assert message.startswith("shopify order 5830376734890")
    for path in (
        "line_items[1].quantity",
        "line_items[0].price",
        "total_price",
        "financial_status",
    ):
        assert path in message, message


def test_a_payload_that_is_not_an_object_is_an_invalid_record() -> None:
    with pytest.raises(InvalidRecord):
        shopify.map_order(["not", "an", "order"])
