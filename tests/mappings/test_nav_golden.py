"""Real NAV page records, as zeep and as xmltodict read them, against golden files.

The XML files are ``Customer`` and ``Sales_Order`` records as the ERP's page web services send
them (a released, partly shipped order with a line discount given as a percent and the
shipping charge on G/L account 6110). zeep reads them with the page's own WSDL (typed values:
Decimal, date, None for an empty element); xmltodict gives text. Both must map the same.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import xmltodict
import zeep
from lxml import etree
from zeep.helpers import serialize_object

from mappings import nav
from sandbox.erp_soap.server import ErpHandle
from tests.mappings.support import GOLDEN, golden

Reader = Callable[[str, Path], dict[str, Any]]


def read_with_xmltodict(_page: str, file: Path) -> dict[str, Any]:
    parsed = xmltodict.parse(file.read_bytes(), disable_entities=True)
    record: dict[str, Any] = next(iter(parsed.values()))
    return record


@pytest.fixture(scope="module")
def read_with_zeep(seeded_erp: ErpHandle) -> Reader:
    """Parse a page record with zeep and the page's WSDL, as the ERP connector reads it."""

    def read(page: str, file: Path) -> dict[str, Any]:
        client = zeep.Client(seeded_erp.wsdl_url(page))
        node = etree.parse(str(file)).getroot()
        value = client.get_type(node.tag).parse_xmlelement(node, client.wsdl.types)
        return dict(serialize_object(value, target_cls=dict))

    return read


@pytest.fixture(params=["xmltodict", "zeep"])
def reader(request: pytest.FixtureRequest) -> Reader:
    if request.param == "zeep":
        zeep_reader: Reader = request.getfixturevalue("read_with_zeep")
        return zeep_reader
    return read_with_xmltodict


def dump(model: Any) -> dict[str, Any]:
    produced: dict[str, Any] = json.loads(model.model_dump_json(exclude_none=True))
    return produced


def test_a_nav_customer_record_matches_its_golden_file(reader: Reader) -> None:
    customer = nav.customer_from_nav(reader("Customer", GOLDEN / "nav_customer.xml"))
    assert dump(customer) == golden("nav_customer.json", dump(customer))


def test_a_nav_sales_order_record_matches_its_golden_file(reader: Reader) -> None:
    order = nav.sales_order_from_nav(reader("Sales_Order", GOLDEN / "nav_sales_order.xml"))
    assert dump(order) == golden("nav_sales_order.json", dump(order))


def test_the_shipping_line_is_the_shipping_total_and_a_percent_is_a_discount(
    reader: Reader,
) -> None:
    order = nav.sales_order_from_nav(reader("Sales_Order", GOLDEN / "nav_sales_order.xml"))
    assert [line.sku for line in order.lines] == [
        "TDM-KBX-01", "TDM-GEN-0000025", "TDM-BNS-YIR-250", "TDM-ESP-100",
    ]  # fmt: skip
    assert [line.line_number for line in order.lines] == [1, 2, 3, 4]
    assert order.shipping_total is not None and order.shipping_total.amount == Decimal("9.90")
    discounts = [line.discount.amount if line.discount else None for line in order.lines]
    assert discounts == [None, None, None, Decimal("34.90")]  # 10 % of 349.00
    assert order.total.amount == Decimal("862.04")


def test_another_freight_account_is_an_order_line_unless_configured(reader: Reader) -> None:
    record = reader("Sales_Order", GOLDEN / "nav_sales_order.xml")
    other = nav.ShippingCharge(account="6120")
    order = nav.sales_order_from_nav(record, shipping=other)
    assert order.shipping_total is None
    assert order.lines[-1].sku == "6110"  # a G/L line of another account stays a line
