"""Canonical <-> Tryton sales (records shaped as the erp_tryton connector reads and writes)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from canonical.errors import InvalidRecord
from canonical.models import Address, AddressKind, Money, OrderLine, OrderStatus, SalesOrder
from mappings import tryton

ADDRESS = {
    "id": 29, "party_name": None, "street": "84 5th Ave", "street_unstructured": "84 5th Ave",
    "postal_code": "10001", "city": "New York", "country": {"id": 7, "code": "US"},
    "subdivision": {"id": 3, "code": "US-NY"}, "invoice": 0, "delivery": 0,
}  # fmt: skip


def sale(**changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": 48, "number": "36", "reference": "PO-4147", "state": "processing",
        "shipment_state": "waiting", "invoice_state": "pending",
        "party": {"id": 26, "code": "26", "name": "Michael Johnson"},
        "sale_date": date(2026, 11, 23), "currency": {"id": 1, "code": "EUR"},
        "untaxed_amount": Decimal("92.80"), "tax_amount": Decimal("17.63"),
        "total_amount": Decimal("110.43"), "description": None, "comment": "ring twice",
        "payment_term": {"id": 11, "name": "Net 30 days"},
        "shipment_address": ADDRESS, "invoice_address": ADDRESS,
        "lines": [
            {"id": 123, "type": "line", "product": {"id": 22, "code": "TDM-HTR-1200"},
             "description": "Heating element", "quantity": Decimal("1.0"),
             "unit": {"id": 1, "symbol": "u"}, "unit_price": Decimal("79.00"),
             "amount": Decimal("79.00")},
            {"id": 124, "type": "comment", "product": None, "description": "Fragile",
             "quantity": None, "unit": None, "unit_price": None, "amount": Decimal(0)},
            {"id": 125, "type": "line", "product": {"id": 13, "code": "TDM-GSK-085"},
             "description": None, "quantity": Decimal("2.0"), "unit": {"id": 1, "symbol": "u"},
             "unit_price": Decimal("6.9000"), "amount": Decimal("13.80")},
        ],
        "shipments": [24], "invoices": [], "last_modified_at": datetime(2026, 11, 23, 15, 19, 57),
    }  # fmt: skip
    return record | changes


def test_a_sale_becomes_a_sales_order_without_its_comment_lines() -> None:
    order = tryton.sales_order_from_tryton(sale())
    assert (order.order_number, order.customer_ref, order.currency) == ("PO-4147", "26", "EUR")
    assert order.ordered_at == datetime(2026, 11, 23, tzinfo=UTC)
    assert order.customer_note == "ring twice"
    assert [(line.line_number, line.sku, line.quantity) for line in order.lines] == [
        (1, "TDM-HTR-1200", Decimal(1)), (2, "TDM-GSK-085", Decimal(2))
    ]  # fmt: skip
    assert order.lines[1].line_total == Money(amount=Decimal("13.80"), currency="EUR")
    assert order.total == Money(amount=Decimal("110.43"), currency="EUR")
    assert order.shipping_address is not None
    assert (order.shipping_address.kind, order.shipping_address.subdivision) == (
        AddressKind.SHIPPING, "NY"
    )  # fmt: skip
    assert tryton.key_of("sale", sale()) == "48"


@pytest.mark.parametrize(
    ("states", "status"),
    [
        ({"state": "draft", "shipment_state": "none", "invoice_state": "none"}, "received"),
        ({"state": "quotation", "shipment_state": "none", "invoice_state": "none"}, "received"),
        ({"state": "confirmed", "shipment_state": "none", "invoice_state": "none"}, "accepted"),
        ({}, "accepted"),
        ({"shipment_state": "partially shipped"}, "partially_shipped"),
        ({"shipment_state": "sent"}, "shipped"),
        ({"shipment_state": "sent", "invoice_state": "awaiting payment"}, "invoiced"),
        ({"state": "done", "shipment_state": "sent", "invoice_state": "paid"}, "paid"),
        ({"state": "cancelled"}, "cancelled"),
    ],
)
def test_tryton_s_states_become_the_order_status(states: dict[str, str], status: str) -> None:
    assert tryton.sales_order_from_tryton(sale(**states)).status is OrderStatus(status)


def test_a_draft_without_reference_number_or_lines_is_refused_field_by_field() -> None:
    with pytest.raises(InvalidRecord) as caught:
        tryton.sales_order_from_tryton(sale(reference=None, number=None, lines=[]))
    text = str(caught.value)
    assert "a sale needs a reference or a number" in text
    assert "a sale needs at least one line with a product" in text


def test_a_draft_without_a_sale_date_is_dated_by_its_last_change() -> None:
    order = tryton.sales_order_from_tryton(sale(sale_date=None, state="draft"))
    assert order.ordered_at == datetime(2026, 11, 23, 15, 19, 57, tzinfo=UTC)


def order() -> SalesOrder:
    return SalesOrder(
        order_number="WEB-1250",
        ordered_at=datetime(2026, 5, 4, 23, 30, tzinfo=UTC),
        currency="EUR",
        lines=(
            OrderLine(line_number=1, sku="TDM-GSK-085", quantity=Decimal(3),
                      unit_price=Money(amount=Decimal("6.90"), currency="EUR"),
                      discount=Money(amount=Decimal("1.00"), currency="EUR"),
                      line_total=Money(amount=Decimal("19.70"), currency="EUR")),
            OrderLine(line_number=2, sku="TDM-PIT-350", quantity=Decimal(1), unit_of_measure="PCS",
                      unit_price=Money(amount=Decimal("16.90"), currency="EUR"),
                      line_total=Money(amount=Decimal("16.90"), currency="EUR")),
        ),
        shipping_address=Address(kind=AddressKind.SHIPPING, name="Anna Becker",
                                 street="Hohe Straße 52", city="Berlin", country="DE"),
        shipping_total=Money(amount=Decimal("4.90"), currency="EUR"),
        total=Money(amount=Decimal("41.50"), currency="EUR"),
        customer_note="ring twice",
    )  # fmt: skip


def test_an_order_becomes_a_sale_write_record() -> None:
    record = tryton.sale_to_tryton(order(), party="C-26")
    assert record == {
        "reference": "WEB-1250", "party": "C-26", "state": "confirmed",
        "sale_date": date(2026, 5, 4), "currency": "EUR", "comment": "ring twice",
        "shipment_address": {"name": "Anna Becker", "street": "Hohe Straße 52",
                             "city": "Berlin", "country": "DE"},
        "lines": [
            # 19.70 / 3, to Tryton's four decimals: the discount is in the price
            {"product": "TDM-GSK-085", "quantity": Decimal(3), "unit": "u",
             "unit_price": Decimal("6.5667")},
            {"product": "TDM-PIT-350", "quantity": Decimal(1), "unit": "u",
             "unit_price": Decimal("16.90")},
        ],
    }  # fmt: skip
    assert tryton.sale_to_tryton(order(), party="C-26", state="draft")["state"] == "draft"


def test_an_order_needs_the_party_code() -> None:
    with pytest.raises(InvalidRecord, match="party: is required"):
        tryton.sale_to_tryton(order(), party=None)  # type: ignore[arg-type]
