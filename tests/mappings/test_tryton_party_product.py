"""Canonical <-> Tryton parties and products (records shaped as the erp_tryton connector reads
and writes them)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from canonical.errors import InvalidRecord
from canonical.models import (
    Address,
    AddressKind,
    Customer,
    CustomerKind,
    LifecycleStatus,
    Money,
    Product,
)
from mappings import tryton

STAMP = datetime(2026, 11, 23, 15, 19, 32, 18443)  # Tryton's naive UTC


def party(**changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": 38,
        "code": "38",
        "name": "Kaffeehaus Becker GmbH",
        "active": 1,
        "email": "orders38@becker38.example.org",
        "phone": "+49 30 555 0189",
        "lang": None,
        "last_modified_at": STAMP,
        "addresses": [
            {"id": 42, "party_name": None, "street": "Hohe Straße 52",
             "street_unstructured": "Hohe Straße 52", "postal_code": "10115", "city": "Berlin",
             "country": {"id": 1, "code": "DE"}, "subdivision": {"id": 9, "code": "DE-BE"},
             "invoice": 0, "delivery": 0},
            {"id": 43, "party_name": "Lager", "street": "", "street_unstructured": None,
             "postal_code": None, "city": None, "country": None, "subdivision": None},
        ],
        "contact_mechanisms": [
            {"id": 73, "type": "email", "value": "orders38@becker38.example.org", "name": None},
            {"id": 74, "type": "phone", "value": "+49 30 555 0189", "name": None},
        ],
    }  # fmt: skip
    return record | changes


def test_a_party_becomes_a_customer_with_its_address() -> None:
    customer = tryton.customer_from_tryton(party())
    assert customer.kind is CustomerKind.ORGANISATION
    assert (customer.name, customer.email, customer.phone) == (
        "Kaffeehaus Becker GmbH", "orders38@becker38.example.org", "+49 30 555 0189"
    )  # fmt: skip
    assert customer.updated_at == STAMP.replace(tzinfo=UTC)
    (address,) = customer.addresses  # the empty second address is no address
    assert (address.street, address.city, address.subdivision, address.country) == (
        "Hohe Straße 52", "Berlin", "BE", "DE"
    )  # fmt: skip
    assert tryton.key_of("party", party()) == "38"


def test_the_contact_mechanisms_stand_in_when_tryton_s_own_fields_are_empty() -> None:
    customer = tryton.customer_from_tryton(party(email="", phone=None), kind="person")
    assert customer.kind is CustomerKind.PERSON
    assert customer.email == "orders38@becker38.example.org"
    assert customer.phone == "+49 30 555 0189"


def test_a_party_without_a_name_or_with_an_unknown_country_is_refused() -> None:
    bad_address = party()["addresses"][0] | {"country": {"id": 9, "code": "XX"}}
    with pytest.raises(InvalidRecord) as caught:
        tryton.customer_from_tryton(party(name=None, addresses=[bad_address]))
    text = str(caught.value)
    assert text.startswith("erp_tryton party 38:")
    assert "name: is required" in text
    assert "addresses[0].country.code" in text


def test_a_customer_becomes_a_party_write_record() -> None:
    customer = Customer(
        kind=CustomerKind.PERSON,
        name="Anna Becker",
        email="Anna.Becker@Example.org",
        phone="+49 30 5550189",
        addresses=(
            Address(kind=AddressKind.BILLING, street="Hohe Straße 52", street2="2. OG",
                    city="Berlin", postal_code="10115", subdivision="BE", country="DE"),
        ),
    )  # fmt: skip
    assert tryton.party_to_tryton(customer) == {
        "name": "Anna Becker",
        "email": "anna.becker@example.org",
        "phone": "+49 30 5550189",
        "addresses": [{"street": "Hohe Straße 52\n2. OG", "postal_code": "10115",
                       "city": "Berlin", "country": "DE", "subdivision": "BE"}],
    }  # fmt: skip
    assert tryton.party_to_tryton(customer, code="C-7")["code"] == "C-7"


def test_a_customer_read_back_from_its_write_record_is_the_same() -> None:
    written = tryton.party_to_tryton(tryton.customer_from_tryton(party()))
    (address,) = written["addresses"]
    echoed = party(
        addresses=[{"street_unstructured": address["street"], "postal_code": "10115",
                    "city": "Berlin", "country": {"code": "DE"},
                    "subdivision": {"code": "DE-BE"}}],
    )  # fmt: skip
    assert tryton.customer_from_tryton(echoed) == tryton.customer_from_tryton(party())


def product(**changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": 13, "code": "TDM-GSK-085", "name": "Group Head Gasket 8.5 mm",
        "description": None, "active": 1, "type": "goods", "salable": True,
        "list_price_used": Decimal("6.90"), "cost_price": Decimal("3.1050"),
        "default_uom": {"id": 1, "symbol": "u"}, "sale_uom": {"id": 1, "symbol": "u"},
        "account_category": {"id": 1, "name": "Goods"},
        "template": {"id": 13, "name": "Group Head Gasket 8.5 mm"},
        "last_modified_at": STAMP,
    }  # fmt: skip
    return record | changes


def test_a_product_becomes_a_canonical_product() -> None:
    mapped = tryton.product_from_tryton(product())
    assert mapped.sku == "TDM-GSK-085"
    assert mapped.unit_of_measure == "EA"
    assert mapped.list_price == Money(amount=Decimal("6.90"), currency="EUR")
    assert mapped.lifecycle_status is LifecycleStatus.ACTIVE
    inactive = tryton.product_from_tryton(product(active=0, default_uom={"symbol": "kg"}))
    assert inactive.lifecycle_status is LifecycleStatus.DISCONTINUED
    assert inactive.unit_of_measure == "KGM"


def test_a_product_without_a_code_or_in_an_unknown_unit_is_refused() -> None:
    with pytest.raises(InvalidRecord) as caught:
        tryton.product_from_tryton(product(code=None, default_uom={"symbol": "bushel"}))
    text = str(caught.value)
    assert "code: a product needs a code" in text
    assert "default_uom.symbol" in text and "bushel" in text


def test_a_product_becomes_a_product_write_record() -> None:
    canonical = Product(sku="TDM-PIT-350", name="Milk Pitcher 350 ml", unit_of_measure="PCS",
                        list_price=Money(amount=Decimal("16.90"), currency="EUR"),
                        lifecycle_status=LifecycleStatus.DISCONTINUED)  # fmt: skip
    assert tryton.product_to_tryton(canonical, category="Goods") == {
        "code": "TDM-PIT-350", "name": "Milk Pitcher 350 ml", "list_price": Decimal("16.90"),
        "unit": "u", "type": "goods", "category": "Goods", "active": False, "salable": False,
    }  # fmt: skip
