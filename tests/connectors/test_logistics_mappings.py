"""mappings/x12: canonical SalesOrder -> 940 dict, 945 dict -> Shipment, 846 item -> level,
checked end to end through the connector's own X12 building and parsing."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from canonical.errors import InvalidRecord
from canonical.models import Address, OrderLine, SalesOrder
from canonical.types import Money
from connectors.formats.x12 import (
    GroupOut,
    Party,
    SetOut,
    TransactionSet,
    build_interchange,
    read_x12,
)
from connectors.logistics.x12_docs import build_940, parse_846, parse_945
from mappings.x12 import inventory_from_846, sales_order_to_940, shipment_from_945


def order() -> SalesOrder:
    eur = "EUR"
    return SalesOrder(
        order_number="WEB-1042",
        customer_ref="C-77",
        ordered_at=datetime(2026, 11, 23, 22, 30, tzinfo=UTC),
        currency=eur,
        lines=(
            OrderLine(
                line_number=1,
                sku="MUG-01",
                description="Mug",
                quantity=Decimal("2.000"),
                unit_price=Money(amount=Decimal(5), currency=eur),
                line_total=Money(amount=Decimal(10), currency=eur),
            ),
            OrderLine(
                line_number=2,
                sku="BEAN-1KG",
                quantity=Decimal(1),
                unit_of_measure="PCS",
                unit_price=Money(amount=Decimal(20), currency=eur),
                line_total=Money(amount=Decimal(20), currency=eur),
            ),
        ),
        shipping_address=Address(
            name="Ada Lovelace",
            street="Hauptstr. 1",
            city="Berlin",
            postal_code="10115",
            subdivision="BE",
            country="DE",
        ),
        total=Money(amount=Decimal(30), currency=eur),
    )


def one_set(code: str, body: list[list[str]]) -> TransactionSet:
    data = build_interchange(
        Party("ZZ", "NORTHWAY3PL"),
        Party("ZZ", "TANDEM"),
        9,
        [GroupOut(9, [SetOut(code, "0001", body)])],
    )
    (item,) = list(read_x12(data, "test.x12"))
    assert isinstance(item, TransactionSet), item
    return item


def test_a_sales_order_becomes_the_940_the_3pl_expects() -> None:
    record = sales_order_to_940(order(), carrier_scac="UPSN")
    assert record["order_number"] == "WEB-1042"
    assert record["po_number"] == "C-77"
    assert str(record["requested_ship_date"]) == "2026-11-23"
    assert record["ship_to"]["state"] == "BE"
    assert [(line["sku"], line["quantity"], line["uom"]) for line in record["lines"]] == [
        ("MUG-01", "2", "EA"),
        ("BEAN-1KG", "1", "EA"),
    ]
    body = build_940(record)
    tags = [seg[0] for seg in body]
    assert tags == [
        "W05",
        "N1",
        "N3",
        "N4",
        "N9",
        "G62",
        "W66",
        "LX",
        "W01",
        "G69",
        "LX",
        "W01",
        "W76",
    ]
    assert body[0] == ["W05", "N", "WEB-1042", "C-77"]
    assert body[5] == ["G62", "10", "20261123"]
    assert body[6][10] == "UPSN"
    assert body[8] == ["W01", "2", "EA", "", "VN", "MUG-01"]
    assert body[-1] == ["W76", "3"]


def test_a_940_without_lines_names_every_bad_field() -> None:
    record = sales_order_to_940(order())
    record["lines"] = [{"sku": "", "quantity": "two"}]
    record["ship_to"] = {}
    with pytest.raises(InvalidRecord) as caught:
        build_940(record)
    text = str(caught.value)
    assert "lines[0].sku: is required" in text
    assert "lines[0].quantity: 'two' is not a number" in text
    assert "ship_to" in text


def test_a_945_becomes_a_shipment_with_backorders() -> None:
    body = [
        ["W06", "F", "WEB-1042", "20261124", "SH00000007", "", "C-77"],
        ["N1", "ST", "Ada Lovelace"],
        ["N3", "Hauptstr. 1"],
        ["N4", "Berlin", "BE", "10115", "DE"],
        ["G62", "11", "20261124"],
        ["W27", "U", "UPSN", "", "PP"],
        ["LX", "1"],
        ["MAN", "CP", "1Z999AA10123456784"],
        ["W12", "CC", "2", "2", "0", "EA", "", "VN", "MUG-01"],
        ["LX", "2"],
        ["W12", "BP", "5", "3", "2", "EA", "", "VN", "BEAN-1KG"],
        ["W03", "5", "2.50", "KG", "", "", "1", "CT"],
    ]
    record = parse_945(one_set("945", body))
    shipment = shipment_from_945(record)
    assert shipment.shipment_number == "SH00000007"
    assert shipment.order_number == "WEB-1042"
    assert shipment.carrier == "UPSN"
    assert shipment.tracking_numbers == ("1Z999AA10123456784",)
    assert shipment.shipped_at == datetime(2026, 11, 24, tzinfo=UTC)
    assert [(x.sku, x.quantity_shipped, x.quantity_backordered) for x in shipment.lines] == [
        ("MUG-01", Decimal(2), Decimal(0)),
        ("BEAN-1KG", Decimal(3), Decimal(2)),
    ]
    assert shipment.ship_to is not None and shipment.ship_to.city == "Berlin"


def test_a_945_whose_totals_disagree_is_refused_naming_w03() -> None:
    body = [
        ["W06", "F", "O1", "20261124", "SH1"],
        ["W12", "CC", "2", "2", "0", "EA", "", "VN", "A"],
        ["W03", "3"],
    ]
    with pytest.raises(Exception, match=r"W03.*W0301 '3' is not the sum of W1203 \(2\)"):
        parse_945(one_set("945", body))


def test_846_items_become_inventory_levels() -> None:
    body = [
        ["BIA", "00", "SI", "INV20261124", "20261124", "0615"],
        ["DTM", "007", "20261124"],
        ["LIN", "", "VN", "MUG-01", "EN", "04006381333931"],
        ["QTY", "17", "120", "EA"],
        ["QTY", "33", "100", "EA"],
        ["LIN", "", "VN", "BEAN-1KG"],
        ["QTY", "17", "7", "EA"],
        ["CTT", "2"],
    ]
    items = list(parse_846(one_set("846", body), "NORTHWAY3PL"))
    levels = [inventory_from_846(item) for item in items]
    assert [(x.sku, x.on_hand, x.available, x.allocated) for x in levels] == [
        ("MUG-01", Decimal(120), Decimal(100), Decimal(20)),
        ("BEAN-1KG", Decimal(7), Decimal(7), Decimal(0)),
    ]
    assert levels[0].location == "NORTHWAY3PL"
    assert levels[0].as_of == datetime(2026, 11, 24, 6, 15, tzinfo=UTC)
    assert items[0]["gtin"] == "04006381333931"
