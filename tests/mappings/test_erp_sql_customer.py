"""Canonical Customer <-> the ERP's customer staging rows (erp_customer_in / erp_customer_out)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from canonical.errors import InvalidRecord
from canonical.models import Address, AddressKind, Customer, CustomerKind, Money
from mappings.erp_sql import customer_from_staging, customer_to_staging

CHANGED = datetime(2025, 3, 11, 9, 30, 15, 250000)
text = st.text(alphabet="abcdefghijklmnopqrstuvwxyzÄÖÜßé -.0123456789", min_size=1, max_size=30)
words = text.map(str.strip).filter(bool)


def exported(row: dict[str, Any], customer_no: str) -> dict[str, Any]:
    """What the ERP's export writes for an imported row: its number, the amount as text (as
    the connector would read the number back: a Decimal), the change time."""
    assert "customer_no" not in row  # unknown: the ERP's import gives it
    out = {k: v for k, v in row.items() if k != "ext_customer_id"}
    limit = out["credit_limit"]
    out.update(customer_no=customer_no, changed_at=CHANGED)
    out["credit_limit"] = None if limit is None else Decimal(f"{limit:.2f}")
    return out


@st.composite
def customers(draw: st.DrawFn) -> Customer:
    return Customer(
        id=f"cust-{draw(st.integers(1, 10**6))}",
        kind=CustomerKind.ORGANISATION,
        name=draw(words),
        email=draw(st.none() | st.emails().filter(lambda e: len(e) < 80)),
        phone=draw(st.none() | words),
        vat_number=draw(st.none() | words.map(lambda w: w[:20].strip()).filter(bool)),
        currency=draw(st.none() | st.sampled_from(["EUR", "USD", "CHF"])),
        payment_terms=draw(st.none() | st.sampled_from(["30D", "14D2%"])),
        credit_limit=draw(
            st.none()
            | st.decimals(min_value=0, max_value=10**9, places=2).map(
                lambda a: Money(amount=a, currency="EUR")
            )
        ),
        addresses=tuple(
            draw(
                st.lists(
                    st.builds(
                        Address,
                        kind=st.just(AddressKind.BOTH),
                        street=words,
                        street2=st.none() | words,
                        city=words,
                        postal_code=st.none() | words.map(lambda w: w[:20].strip()).filter(bool),
                        country=st.sampled_from(["DE", "FR", "NL", "CH"]),
                    ),
                    max_size=1,
                )
            )
        ),
        updated_at=CHANGED.replace(tzinfo=UTC),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(customers())
def test_a_customer_survives_the_trip_through_the_staging_tables(customer: Customer) -> None:
    row = customer_to_staging(customer)
    assert row["ext_customer_id"] == customer.id
    back = customer_from_staging(exported(row, "C10042"))
    assert back == customer.model_copy(update={"id": None})  # the id is the hub's to give


def test_the_import_row_has_every_column_so_cleared_fields_are_cleared() -> None:
    customer = Customer(id="cust-7", kind=CustomerKind.PERSON, name="Jane Roe")
    row = customer_to_staging(customer, ext_customer_id="web-7", customer_no="C10007")
    assert row["ext_customer_id"] == "web-7" and row["customer_no"] == "C10007"
    assert "customer_no" not in customer_to_staging(customer)  # the ERP's number is kept
    assert row["email"] is None and row["credit_limit"] is None and row["address"] is None
    assert set(row) >= {"name_2", "phone_no", "vat_reg_no", "county", "payment_terms_code"}


def test_the_billing_address_wins_and_long_names_are_cut_to_the_column() -> None:
    customer = Customer(
        id="cust-8",
        kind=CustomerKind.ORGANISATION,
        name="N" * 120,
        addresses=(
            Address(kind=AddressKind.SHIPPING, street="Dock 9", city="Hamburg", country="DE"),
            Address(kind=AddressKind.BILLING, street="Main St 1", city="Paris", country="FR"),
        ),
    )
    row = customer_to_staging(customer)
    assert (row["address"], row["city"], row["country_code"]) == ("Main St 1", "Paris", "FR")
    assert row["name"] == "N" * 100


def test_an_export_row_reads_with_its_second_name_line_and_local_currency_limit() -> None:
    customer = customer_from_staging(
        {
            "customer_no": "C10001",
            "name": "Müller Maschinenbau",
            "name_2": "Werk Süd",
            "address": "Industriestr. 4",
            "city": "München",
            "county": "Bayern",
            "country_code": "DEU",
            "currency_code": "chf",
            "credit_limit": Decimal("15000.00"),
            "changed_at": CHANGED,
        },
        lcy="CHF",
    )
    assert customer.name == "Müller Maschinenbau Werk Süd"
    assert customer.addresses[0].country == "DE" and customer.addresses[0].subdivision == "BY"
    assert customer.credit_limit == Money(amount=Decimal("15000.00"), currency="CHF")
    assert customer.updated_at == CHANGED.replace(tzinfo=UTC)


def test_a_bad_export_row_names_the_customer_and_every_column() -> None:
    with pytest.raises(InvalidRecord) as caught:
        customer_from_staging(
            {"customer_no": "C10002", "address": "Somewhere 1", "country_code": "XX"}
        )
    assert str(caught.value).startswith("erp_sql customer C10002: ")
    assert {e.path for e in caught.value.errors} == {"name", "city", "country_code"}


def test_a_customer_without_id_cannot_be_keyed_in_the_import_table() -> None:
    with pytest.raises(InvalidRecord, match="ext_customer_id"):
        customer_to_staging(Customer(kind=CustomerKind.PERSON, name="No Id"))
