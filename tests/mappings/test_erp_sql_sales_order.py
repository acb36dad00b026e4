"""Canonical SalesOrder -> the ERP's order import rows (erp_sales_order_in with lines)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from canonical.errors import InvalidRecord
from canonical.models import Address, AddressKind, Money, OrderLine, SalesOrder
from mappings.erp_sql import sales_order_to_staging


def eur(amount: str) -> Money:
    return Money(amount=Decimal(amount), currency="EUR")


def order(number: str = "WEB-1063", **values: object) -> SalesOrder:
    lines = (
        OrderLine(
            line_number=1,
            sku="ITEM-1000",
            description="Keyboard",
            quantity=Decimal(2),
            unit_price=eur("20.00"),
            discount=eur("4.00"),
            line_total=eur("36.00"),
        ),
        OrderLine(
            line_number=2,
            sku="ITEM-1001",
            quantity=Decimal("1.5"),
            unit_of_measure="KGM",
            unit_price=eur("10.00"),
            line_total=eur("15.00"),
        ),
    )
    return SalesOrder.model_validate(
        {
            "order_number": number,
            "ordered_at": datetime(2025, 3, 11, 23, 40, tzinfo=UTC),
            "currency": "EUR",
            "lines": lines,
            "shipping_address": Address(
                kind=AddressKind.SHIPPING,
                name="Jane Roe",
                street="Hauptstrasse 5",
                city="Berlin",
                postal_code="10115",
                country="DE",
            ),
            "shipping_total": eur("4.90"),
            "total": eur("55.90"),
            **values,
        }
    )


def test_an_order_becomes_a_header_row_with_its_line_rows() -> None:
    record = sales_order_to_staging(order(), customer_no="C10001")
    assert record["ext_order_no"] == "WEB-1063" and record["customer_no"] == "C10001"
    assert record["order_date"] == date(2025, 3, 11)
    assert (record["shipping_amount"], record["total_amount"]) == (
        Decimal("4.90"),
        Decimal("55.90"),
    )
    assert (record["ship_to_name"], record["ship_to_city"]) == ("Jane Roe", "Berlin")
    lines = record["lines"]
    assert [(x["line_no"], x["item_no"], x["quantity"], x["uom_code"]) for x in lines] == [
        (1, "ITEM-1000", Decimal(2), "PCS"),
        (2, "ITEM-1001", Decimal("1.5"), "KG"),
    ]
    assert (lines[0]["unit_price"], lines[0]["discount_amount"], lines[0]["line_amount"]) == (
        Decimal("20.00"),
        Decimal("4.00"),
        Decimal("36.00"),
    )
    assert lines[1]["discount_amount"] is None and lines[1]["description"] is None


def test_every_column_is_in_the_rows_even_when_empty() -> None:
    record = sales_order_to_staging(
        order(shipping_address=None, shipping_total=None), customer_no="C1"
    )
    assert record["ship_to_address"] is None and record["shipping_amount"] is None
    assert "ship_to_county" in record


def test_the_order_number_is_cut_to_the_key_column() -> None:
    record = sales_order_to_staging(order("X" * 40), customer_no="C1")
    assert record["ext_order_no"] == "X" * 35


def test_an_order_without_the_erp_customer_number_is_refused_by_name() -> None:
    with pytest.raises(InvalidRecord) as caught:
        sales_order_to_staging(order(), customer_no=None)  # type: ignore[arg-type]
    assert str(caught.value).startswith("erp_sql sales_order WEB-1063: ")
    assert "customer_no" in str(caught.value)


def test_a_unit_the_erp_does_not_know_is_named() -> None:
    bad = order()
    line = bad.lines[0].model_copy(update={"unit_of_measure": "XYZ"})
    with pytest.raises(InvalidRecord, match=r"lines\[0\]\.unit_of_measure"):
        sales_order_to_staging(bad.model_copy(update={"lines": (line,)}), customer_no="C1")
