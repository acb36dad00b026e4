"""The canonical model refuses what it cannot represent faithfully."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from pydantic import ValidationError

from canonical import Address, Envelope, FieldError, InvalidRecord, Money, SalesOrder, dedupe_key
from canonical.models import Entity, OrderLine


def _line(currency: str = "EUR") -> OrderLine:
    price = Money(amount=Decimal("2.50"), currency=currency)
    return OrderLine(
        line_number=1, sku="A", quantity=Decimal(2), unit_price=price, line_total=price
    )


@pytest.mark.parametrize("code", ["UK", "XX", "DEU", ""])
def test_country_must_be_an_assigned_iso_code(code: str) -> None:
    with pytest.raises(ValidationError, match="ISO 3166-1"):
        Address(street="1 Main St", city="Town", country=code)


def test_country_code_is_normalised() -> None:
    assert Address(street="1 Main St", city="Town", country=" gb ").country == "GB"


def test_naive_timestamps_are_refused_and_aware_ones_become_utc() -> None:
    with pytest.raises(ValidationError, match="time zone"):
        SalesOrder(
            order_number="1",
            ordered_at=datetime(2026, 1, 1),
            currency="EUR",
            lines=(_line(),),
            total=Money(amount=Decimal(5), currency="EUR"),
        )
    order = SalesOrder(
        order_number="1",
        ordered_at=datetime(2026, 1, 1, 3, tzinfo=timezone(timedelta(hours=2))),
        currency="EUR",
        lines=(_line(),),
        total=Money(amount=Decimal(5), currency="EUR"),
    )
    assert order.ordered_at == datetime(2026, 1, 1, 1, tzinfo=UTC)


def test_amounts_in_another_currency_than_the_order_are_refused() -> None:
    with pytest.raises(ValidationError, match="amount in USD on an order in EUR"):
        SalesOrder(
            order_number="1",
            ordered_at=datetime(2026, 1, 1, tzinfo=UTC),
            currency="EUR",
            lines=(_line("USD"),),
            total=Money(amount=Decimal(5), currency="EUR"),
        )


def test_money_serialises_exactly() -> None:
    assert Money(amount=Decimal("0.10"), currency="eur").model_dump_json() == (
        '{"amount":"0.10","currency":"EUR"}'
    )


@pytest.mark.parametrize(
    ("amount", "error"),
    [
        ("1000000000000000", "out of range for an amount (more than 15 integer digits)"),
        ("-1E+15", "out of range for an amount"),
        ("1E+1000", "out of range for an amount"),
        ("0.0000001", "has more than 6 decimal places"),
        ("1E-1000", "has more than 6 decimal places"),
        ("9" * 5000, "99999999999999999999... (5000 characters) is out of range"),
    ],
)
def test_amounts_out_of_range_are_refused(amount: str, error: str) -> None:
    with pytest.raises(ValidationError, match=error.replace("(", r"\(").replace(")", r"\)")):
        Money(amount=Decimal(amount), currency="EUR")


@pytest.mark.parametrize("amount", ["999999999999999.999999", "-999999999999999", "12.5000000000"])
def test_amounts_at_the_limits_are_kept_exactly(amount: str) -> None:
    assert str(Money(amount=Decimal(amount), currency="EUR").amount) == amount


def test_order_amounts_cannot_be_negative_but_a_discount_or_credit_note_can() -> None:
    minus = Money(amount=Decimal("-5.00"), currency="EUR")
    with pytest.raises(ValidationError) as caught:
        SalesOrder.model_validate(
            {
                "order_number": "1",
                "ordered_at": datetime(2026, 1, 1, tzinfo=UTC),
                "currency": "EUR",
                "lines": [_line().model_dump() | {"line_total": minus.model_dump()}],
                "total": minus,
            }
        )
    errors = caught.value.errors()
    assert [(e["loc"], e["msg"]) for e in errors if e["type"] == "amount_negative"] == [
        (("lines", 0, "line_total"), "-5.00 is negative"),
        (("total",), "-5.00 is negative"),
    ]
    line = OrderLine.model_validate(_line().model_dump() | {"discount": minus.model_dump()})
    assert line.discount == minus


def test_dedupe_key_is_deterministic_and_unambiguous() -> None:
    assert dedupe_key("webshop", "a", "bc") == dedupe_key("webshop", "a", "bc")
    assert dedupe_key("webshop", "ab", "c") != dedupe_key("webshop", "a", "bc")


def test_envelope_carries_the_business_chain() -> None:
    env = Envelope(
        dedupe_key="k",
        correlation_id="1042",
        origin_system="webshop",
        entity=Entity.SALES_ORDER,
        occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
        payload={"order_number": "1042"},
    )
    assert env.message_id and env.correlation_id == "1042"


def test_invalid_record_names_source_record_and_every_field() -> None:
    exc = InvalidRecord(
        "webshop",
        "1250",
        [
            FieldError("line_items[1].quantity", "'abc' is not a number"),
            FieldError("billing.email", "is required"),
        ],
        entity="order",
    )
    assert str(exc) == (
        "webshop order 1250: line_items[1].quantity: 'abc' is not a number; "
        "billing.email: is required"
    )
