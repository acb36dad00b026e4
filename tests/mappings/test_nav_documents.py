"""NAV Item, Posted_Sales_Shipment and Posted_Sales_Invoice records -> canonical Product,
InventoryLevel, Shipment and Invoice, against golden files.

The XML files are records as the sandbox ERP's page web services send them (seed 1: an item on
open orders, a shipment with a shipping charge line, a partly paid invoice). zeep reads them
with the page's own WSDL (typed values), xmltodict gives text; both must map the same, and the
connector's own reads must map as the files do.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import xmltodict
import zeep
from lxml import etree
from zeep.helpers import serialize_object

from canonical.errors import InvalidRecord
from canonical.models import PaymentStatus
from connectors.erp_soap import ErpSoapConnector, ErpSoapSettings
from mappings import nav
from sandbox.erp_soap.server import ErpHandle
from tests.mappings.support import GOLDEN, golden

Reader = Callable[[str, Path], dict[str, Any]]
READ_AT = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def read_with_xmltodict(_page: str, file: Path) -> dict[str, Any]:
    parsed = xmltodict.parse(file.read_bytes(), disable_entities=True)
    record: dict[str, Any] = next(iter(parsed.values()))
    return record


@pytest.fixture(scope="module")
def read_with_zeep(seeded_erp: ErpHandle) -> Reader:
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


def item(reader: Reader) -> dict[str, Any]:
    return reader("Item", GOLDEN / "nav_item.xml")


def invoice(reader: Reader) -> dict[str, Any]:
    return reader("Posted_Sales_Invoice", GOLDEN / "nav_posted_invoice.xml")


def test_an_item_is_a_product(reader: Reader) -> None:
    product = nav.product_from_nav(item(reader))
    assert dump(product) == golden("nav_product.json", dump(product))
    assert product.sku == "TDM-BNS-ROM-1KG"
    assert product.list_price is not None and product.list_price.amount == Decimal("18.90")
    assert product.attributes["item_category"] == "COFFEE"


def test_a_blocked_item_is_discontinued(reader: Reader) -> None:
    record = item(reader) | {"Blocked": True}
    assert nav.product_from_nav(record).lifecycle_status == "discontinued"
    assert nav.product_from_nav(item(reader)).lifecycle_status == "active"


def test_an_item_is_an_inventory_level_with_its_sales_order_quantity(reader: Reader) -> None:
    level = nav.inventory_from_nav(item(reader), as_of=READ_AT)
    assert dump(level) == golden("nav_inventory_level.json", dump(level))
    assert (level.on_hand, level.allocated, level.available) == (
        Decimal(183),
        Decimal(33),
        Decimal(150),
    )
    assert level.as_of == READ_AT
    assert level.location == "ALL"


def test_a_page_without_qty_on_sales_order_has_all_on_hand_available(reader: Reader) -> None:
    record = {k: v for k, v in item(reader).items() if k != "Qty_on_Sales_Order"}
    level = nav.inventory_from_nav(record, location="MAIN")
    assert (level.allocated, level.available, level.location) == (Decimal(0), Decimal(183), "MAIN")
    assert level.as_of == datetime(2025, 1, 6, 12, 9, 4, tzinfo=UTC)  # no read time given


def test_a_posted_shipment_is_a_shipment_of_its_item_lines(reader: Reader) -> None:
    record = reader("Posted_Sales_Shipment", GOLDEN / "nav_posted_shipment.xml")
    shipment = nav.shipment_from_nav(record)
    assert dump(shipment) == golden("nav_shipment.json", dump(shipment))
    assert shipment.order_number == "PO-2501-0001"  # the web shop's number, not SO-10002
    assert [(line.sku, line.quantity_shipped) for line in shipment.lines] == [
        ("TDM-CUP-6", Decimal(1)),
        ("TDM-ESP-100", Decimal(1)),
    ]  # the G/L shipping line is no goods
    assert shipment.tracking_numbers == ("JJD005027478897",)


def test_a_shipment_without_item_lines_is_an_error_naming_the_record(reader: Reader) -> None:
    record = reader("Posted_Sales_Shipment", GOLDEN / "nav_posted_shipment.xml")
    lines = record["SalesShipmLines"]["Posted_Sales_Shipment_Line"]
    record["SalesShipmLines"] = {"Posted_Sales_Shipment_Line": [lines[-1]]}
    with pytest.raises(InvalidRecord, match=r"102002.*at least one item line"):
        nav.shipment_from_nav(record)


def test_a_posted_invoice_is_an_invoice_with_its_payment_status(reader: Reader) -> None:
    result = nav.invoice_from_nav(invoice(reader))
    assert dump(result) == golden("nav_invoice.json", dump(result))
    assert result.payment_status is PaymentStatus.PARTIALLY_PAID
    assert result.amount_paid is not None and result.amount_paid.amount == Decimal("535.68")


@pytest.mark.parametrize(
    ("changes", "status"),
    [
        ({"Remaining_Amount": "1071.36", "Closed": "false"}, PaymentStatus.OPEN),
        ({"Remaining_Amount": "0", "Closed": "true"}, PaymentStatus.PAID),
        ({"Cancelled": "true"}, PaymentStatus.CANCELLED),
    ],
)
def test_payment_status_follows_remaining_amount_and_closed(
    changes: dict[str, str], status: PaymentStatus
) -> None:
    record = read_with_xmltodict("Posted_Sales_Invoice", GOLDEN / "nav_posted_invoice.xml")
    assert nav.invoice_from_nav(record | changes).payment_status is status


def test_an_invoice_in_a_foreign_currency_keeps_it(reader: Reader) -> None:
    record = invoice(reader) | {"Currency_Code": "USD"}
    result = nav.invoice_from_nav(record)
    assert (result.currency, result.total_amount.currency) == ("USD", "USD")


def test_what_the_connector_reads_maps(seeded_erp: ErpHandle) -> None:
    erp = ErpSoapConnector(ErpSoapSettings(base_url=seeded_erp.base_url))
    items = [r.data for p in erp.read("items") for r in p.records]
    shipments = [r.data for p in erp.read("posted_shipments") for r in p.records]
    invoices = [r.data for p in erp.read("posted_invoices") for r in p.records]
    assert len({nav.product_from_nav(i).sku for i in items}) == len(items) == 200
    assert all(nav.inventory_from_nav(i, as_of=READ_AT).on_hand >= 0 for i in items)
    assert all(nav.shipment_from_nav(s).lines for s in shipments)
    statuses = {nav.invoice_from_nav(i).payment_status for i in invoices}
    assert PaymentStatus.PAID in statuses and PaymentStatus.PARTIALLY_PAID in statuses
