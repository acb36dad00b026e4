"""Tryton customer shipments and invoices -> canonical Shipment and Invoice."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from canonical.errors import InvalidRecord
from canonical.models import PaymentStatus
from mappings import tryton

SALE = {"id": 48, "number": "36", "reference": "WEB-1250"}


def shipment(**changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": 24, "number": "24", "reference": None, "state": "done",
        "effective_date": date(2026, 11, 23), "planned_date": date(2026, 11, 22),
        "customer": {"id": 26, "code": "26", "name": "Michael Johnson"},
        "warehouse": {"id": 5, "code": "WH"},
        "delivery_address": {"id": 29, "party_name": None, "street": "84 5th Ave",
                             "street_unstructured": "84 5th Ave", "postal_code": "10001",
                             "city": "New York", "country": {"id": 7, "code": "US"},
                             "subdivision": None},
        "outgoing_moves": [
            {"id": 98, "origin": "sale.line,123", "product": {"id": 22, "code": "TDM-HTR-1200"},
             "quantity": Decimal("1.0"), "state": "done", "unit": {"id": 1, "symbol": "u"}},
            {"id": 99, "origin": "sale.line,124", "product": {"id": 13, "code": "TDM-GSK-085"},
             "quantity": Decimal("2.0"), "state": "cancelled", "unit": {"id": 1, "symbol": "u"}},
        ],
        "sales": [SALE], "last_modified_at": datetime(2026, 11, 23, 15, 19, 51, 411875),
    }  # fmt: skip
    return record | changes


def test_a_done_shipment_has_shipped_its_done_moves() -> None:
    mapped = tryton.shipment_from_tryton(shipment())
    assert (mapped.shipment_number, mapped.order_number) == ("24", "WEB-1250")
    assert mapped.shipped_at == datetime(2026, 11, 23, tzinfo=UTC)
    assert [(line.sku, line.quantity_shipped) for line in mapped.lines] == [
        ("TDM-HTR-1200", Decimal(1))
    ]
    assert mapped.ship_to is not None and mapped.ship_to.city == "New York"
    assert tryton.key_of("shipment", shipment()) == "24"


def test_a_waiting_shipment_has_shipped_nothing_yet() -> None:
    moves = [m | {"state": "assigned"} for m in shipment()["outgoing_moves"]]
    mapped = tryton.shipment_from_tryton(shipment(state="waiting", outgoing_moves=moves))
    assert mapped.shipped_at is None
    assert [(line.sku, line.quantity_shipped) for line in mapped.lines] == [
        ("TDM-HTR-1200", Decimal(0)), ("TDM-GSK-085", Decimal(0))
    ]  # fmt: skip


def test_a_shipment_of_no_sale_uses_its_reference_or_is_refused() -> None:
    assert tryton.shipment_from_tryton(shipment(sales=[], reference="R-9")).order_number == "R-9"
    with pytest.raises(InvalidRecord, match=r"erp_tryton shipment 24: .*deliver a sale"):
        tryton.shipment_from_tryton(shipment(sales=[]))


def invoice(**changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": 24, "number": "12", "reference": None, "type": "out", "state": "posted",
        "party": {"id": 26, "code": "26", "name": "Michael Johnson"},
        "invoice_date": date(2026, 11, 23), "currency": {"id": 1, "code": "EUR"},
        "untaxed_amount": Decimal("79.00"), "tax_amount": Decimal("15.01"),
        "total_amount": Decimal("94.01"), "amount_to_pay": Decimal("94.01"),
        "payment_term": {"id": 11, "name": "Net 30 days"},
        "lines_to_pay": [{"id": 49, "maturity_date": date(2026, 12, 23)}],
        "due_date": date(2026, 12, 23), "sales": [SALE],
        "last_modified_at": datetime(2026, 11, 23, 15, 19, 58, 134248),
    }  # fmt: skip
    return record | changes


def test_a_posted_invoice_is_open_with_nothing_paid() -> None:
    mapped = tryton.invoice_from_tryton(invoice())
    assert (mapped.invoice_number, mapped.order_number) == ("12", "WEB-1250")
    assert (mapped.invoice_date, mapped.due_date) == (date(2026, 11, 23), date(2026, 12, 23))
    assert (mapped.net_amount.amount, mapped.tax_amount.amount, mapped.total_amount.amount) == (
        Decimal("79.00"), Decimal("15.01"), Decimal("94.01")
    )  # fmt: skip
    assert mapped.payment_status is PaymentStatus.OPEN
    assert mapped.amount_paid is not None and mapped.amount_paid.amount == 0


@pytest.mark.parametrize(
    ("changes", "status", "paid"),
    [
        ({"amount_to_pay": Decimal("50.00")}, "partially_paid", Decimal("44.01")),
        ({"amount_to_pay": Decimal(0)}, "paid", Decimal("94.01")),
        ({"state": "paid", "amount_to_pay": Decimal(0)}, "paid", Decimal("94.01")),
        ({"state": "cancelled", "amount_to_pay": Decimal(0)}, "cancelled", None),
    ],
)
def test_the_amount_to_pay_gives_the_payment_status(
    changes: dict[str, Any], status: str, paid: Decimal | None
) -> None:
    mapped = tryton.invoice_from_tryton(invoice(**changes))
    assert mapped.payment_status is PaymentStatus(status)
    assert (mapped.amount_paid.amount if mapped.amount_paid else None) == paid


def test_an_invoice_without_number_date_or_currency_is_refused_field_by_field() -> None:
    with pytest.raises(InvalidRecord) as caught:
        tryton.invoice_from_tryton(invoice(number=None, invoice_date=None, currency=None))
    text = str(caught.value)
    for field in ("number", "invoice_date", "currency.code"):
        assert f"{field}: is required" in text
