"""Canonical <-> NAV page records: the write mappings and the read mappings undo each other."""

from __future__ import annotations

from datetime import UTC, datetime, time
from decimal import Decimal

import pytest
import xmltodict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from canonical.errors import InvalidRecord
from canonical.models import (
    Address,
    AddressKind,
    Customer,
    CustomerKind,
    Money,
    OrderLine,
    OrderStatus,
    SalesOrder,
)
from mappings import nav

LCY = "EUR"
words = st.text(alphabet="abcdefghijklmnopqrstuvwxyzÄÖÜßé -.0123456789", min_size=1, max_size=30)
text = words.map(str.strip).filter(bool)
optional = st.none() | text
countries = st.sampled_from(["DE", "FR", "US", "GB", "CH", "NL"])
amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal(10**9), places=2)
discounts = st.decimals(min_value=Decimal(0), max_value=Decimal(10**6), places=2)
codes = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=2, max_size=3)


@st.composite
def addresses(draw: st.DrawFn, kind: AddressKind) -> Address:
    country = draw(countries)
    return Address(
        kind=kind,
        street=draw(text),
        street2=draw(optional) if kind is AddressKind.BOTH else None,
        city=draw(text),
        postal_code=draw(optional),
        subdivision=draw(st.none() | codes) if kind is AddressKind.BOTH else None,
        country=country,
        name=draw(text) if kind is AddressKind.SHIPPING else None,
    )


@st.composite
def customers(draw: st.DrawFn) -> Customer:
    return Customer(
        kind=CustomerKind.ORGANISATION,
        name=draw(text),
        email=draw(st.none() | st.emails().filter(lambda e: len(e) < 80)),
        phone=draw(optional),
        vat_number=draw(optional),
        currency=draw(st.none() | st.sampled_from(["EUR", "USD", "CHF"])),
        payment_terms=draw(st.none() | codes),
        credit_limit=draw(st.none() | amounts.map(lambda a: Money(amount=a, currency=LCY))),
        addresses=tuple(draw(st.lists(addresses(AddressKind.BOTH), max_size=1))),
    )


@st.composite
def orders(draw: st.DrawFn) -> SalesOrder:
    currency = draw(st.sampled_from(["EUR", "USD"]))
    count = draw(st.integers(min_value=1, max_value=6))
    lines = tuple(
        OrderLine(
            line_number=n,
            sku=draw(codes),
            description=draw(optional),
            quantity=draw(
                st.decimals(min_value=Decimal("0.001"), max_value=Decimal(10**6), places=3)
            ),
            unit_of_measure=draw(st.sampled_from(["EA", "KGM", "BX"])),
            unit_price=Money(amount=draw(amounts), currency=currency),
            discount=draw(st.none() | discounts.map(lambda a: Money(amount=a, currency=currency))),
            line_total=Money(amount=draw(amounts), currency=currency),
        )
        for n in range(1, count + 1)
    )
    day = draw(
        st.dates(min_value=datetime(2000, 1, 1).date(), max_value=datetime(2099, 1, 1).date())
    )
    return SalesOrder(
        order_number=draw(st.text(alphabet="0123456789-ABC", min_size=1, max_size=35)),
        customer_ref="C00042",
        status=OrderStatus.RECEIVED,
        ordered_at=datetime.combine(day, time(), tzinfo=UTC),
        currency=currency,
        lines=lines,
        shipping_address=draw(st.none() | addresses(AddressKind.SHIPPING)),
        shipping_total=draw(st.none() | amounts.map(lambda a: Money(amount=a, currency=currency))),
        total=Money(amount=sum(line.line_total.amount for line in lines), currency=currency),
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(customers())
def test_a_customer_survives_the_trip_to_nav_and_back(customer: Customer) -> None:
    record = nav.customer_to_nav(customer, no="C00042")
    assert nav.customer_from_nav(record, lcy=LCY) == customer


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(orders())
def test_a_sales_order_survives_the_trip_to_nav_and_back(order: SalesOrder) -> None:
    record = nav.sales_order_to_nav(order, customer_no="C00042")
    assert nav.sales_order_from_nav(record, lcy=LCY) == order


def test_a_page_record_read_as_xml_maps_like_a_dict() -> None:
    xml = """<Sales_Order><No>SO-10001</No><Sell_to_Customer_No>C00010</Sell_to_Customer_No>
      <External_Document_No>1063</External_Document_No><Order_Date>2025-03-11</Order_Date>
      <Status>Released</Status><Amount_Including_VAT>23.80</Amount_Including_VAT>
      <SalesLines><Sales_Order_Line><No>TDM-KBX-01</No><Quantity>1</Quantity>
      <Unit_Price>20</Unit_Price><Line_Amount>20.00</Line_Amount></Sales_Order_Line></SalesLines>
      </Sales_Order>"""
    order = nav.sales_order_from_nav(xmltodict.parse(xml)["Sales_Order"])
    assert (order.order_number, order.status, order.currency) == ("1063", "accepted", "EUR")
    assert order.total.amount == Decimal("23.80") and order.lines[0].sku == "TDM-KBX-01"


def test_a_bad_page_record_names_the_erp_record_and_fields() -> None:
    record = {"No": "SO-7", "Order_Date": "11/03/2025", "Status": "Archived",
              "SalesLines": {"Sales_Order_Line": [{"No": "A", "Quantity": "0"}]}}  # fmt: skip
    with pytest.raises(InvalidRecord) as caught:
        nav.sales_order_from_nav(record)
    assert str(caught.value).startswith("erp sales_order SO-7: ")
    assert [e.path for e in caught.value.errors] == [
        "Status",
        "Order_Date",
        "SalesLines.Sales_Order_Line[0].Quantity",
        "SalesLines.Sales_Order_Line[0].Unit_Price",
        "SalesLines.Sales_Order_Line[0].Line_Amount",
        "Amount_Including_VAT",  # no total: neither the ERP's nor line amounts to add up
    ]


def test_the_primary_address_is_billing_then_both_then_shipping() -> None:
    shipping = Address(kind=AddressKind.SHIPPING, street="Ship St 1", city="A", country="DE")
    billing = Address(kind=AddressKind.BILLING, street="Bill St 2", city="B", country="FR")
    customer = Customer(kind=CustomerKind.PERSON, name="X", addresses=(shipping, billing))
    assert nav.customer_to_nav(customer)["Address"] == "Bill St 2"
    only_shipping = customer.model_copy(update={"addresses": (shipping,)})
    assert nav.customer_to_nav(only_shipping)["Country_Region_Code"] == "DE"
