"""The sandbox ERP's items, posted documents and posting codeunit, called with plain zeep
clients: shipments lower inventory, invoices carry the right amounts, payments close them."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import requests
import zeep
from lxml import etree
from zeep.exceptions import Fault

from sandbox.erp_soap.server import ErpHandle, start_in_thread
from sandbox.webshop.catalog import PRODUCTS

POSTING = "SalesOrderPosting"


class Erp:
    """Plain zeep clients for every service of one sandbox ERP."""

    def __init__(self, handle: ErpHandle) -> None:
        self.handle = handle
        self.customers = self._page("Customer")
        self.items = self._page("Item")
        self.orders = self._page("Sales_Order")
        self.shipments = self._page("Posted_Sales_Shipment")
        self.invoices = self._page("Posted_Sales_Invoice")
        self.posting = zeep.Client(handle.codeunit_wsdl_url(POSTING)).service

    def _page(self, page: str) -> Any:
        return zeep.Client(self.handle.wsdl_url(page)).service

    def knobs(self, **knobs: Any) -> None:
        requests.post(f"{self.handle.url}/_control", json=knobs, timeout=5).raise_for_status()

    def order(self, *lines: tuple[str, str, int | str], price: str = "10.00") -> Any:
        """A new order for a new customer; lines are (Type, No, Quantity)."""
        customer = self.customers.Create(Customer={"Name": "Kaffeehaus Test GmbH"})
        sales_lines = [
            {"Type": kind, "No": no, "Quantity": quantity, "Unit_Price": price}
            for kind, no, quantity in lines
        ]
        return self.orders.Create(
            Sales_Order={
                "Sell_to_Customer_No": customer.No,
                "External_Document_No": "PO-TEST-1",
                "SalesLines": {"Sales_Order_Line": sales_lines},
            }
        )

    def ship(self, order_no: str, *lines: tuple[int, int], tracking: str = "") -> str:
        ship_lines = {"ShipLine": [{"lineNo": no, "quantity": q} for no, q in lines]}
        shipment: str = self.posting.PostShipment(
            orderNo=order_no,
            shipLines=ship_lines,
            shippingAgentCode="DHL" if tracking else "",
            packageTrackingNo=tracking,
        )
        return shipment

    def inventory(self, item_no: str) -> Decimal:
        level: Decimal = self.items.Read(No=item_no).Inventory
        return level


@pytest.fixture(scope="module")
def seeded_handle() -> Iterator[ErpHandle]:
    handle = start_in_thread(seed=1)
    yield handle
    handle.stop()


@pytest.fixture
def erp(seeded_handle: ErpHandle) -> Iterator[Erp]:
    client = Erp(seeded_handle)
    yield client
    client.knobs(strict_items=True, allow_negative_inventory=False)


@pytest.fixture
def bare() -> Iterator[Erp]:
    handle = start_in_thread()
    yield Erp(handle)
    handle.stop()


ESPRESSO, BEANS = "TDM-ESP-100", "TDM-BNS-ROM-1KG"


def stocked(erp: Erp, minimum: int) -> list[str]:
    """Items with at least ``minimum`` on inventory (filtered by the ERP)."""
    found = erp.items.ReadMultiple(
        filter=[{"Field": "Inventory", "Criteria": f">={minimum}"}], setSize=5
    )
    return [item.No for item in found]


# -- items -----------------------------------------------------------------------------------


def test_items_are_the_product_master_with_inventory(erp: Erp) -> None:
    espresso = erp.items.Read(No=ESPRESSO)
    assert (espresso.Description, espresso.Unit_Price) == (
        "Espresso Machine Barista Pro",
        Decimal("349.00"),
    )
    assert espresso.GTIN and espresso.Base_Unit_of_Measure == "PCS"
    assert espresso.Inventory >= 0 and espresso.Blocked is False
    machines = erp.items.ReadMultiple(
        filter=[{"Field": "Item_Category_Code", "Criteria": "MACHINES"}], setSize=0
    )
    assert {ESPRESSO, "TDM-GRD-200"} <= {item.No for item in machines}
    with pytest.raises(Fault, match="Description must have a value in Item"):
        erp.items.Create(Item={"No": "NEW-1"})


def test_inventory_cannot_be_written_through_the_page(erp: Erp) -> None:
    item = erp.items.Read(No=BEANS)
    updated = erp.items.Update(Item={"Key": item.Key, "Inventory": "999999", "Unit_Cost": "9.10"})
    assert (updated.Inventory, updated.Unit_Cost) == (item.Inventory, Decimal("9.10"))


# -- order lines -----------------------------------------------------------------------------


def test_unknown_item_on_an_order_line_is_a_fault_naming_it(erp: Erp) -> None:
    with pytest.raises(Fault) as refused:
        erp.order(("Item", "NO-SUCH-SKU", 1))
    assert "The Item does not exist" in refused.value.message
    assert "NO-SUCH-SKU" in refused.value.message
    order = erp.order(("Item", BEANS, 2), ("G_L_Account", "6110", 1))  # shipping charge line
    line = order.SalesLines.Sales_Order_Line[0]
    assert (line.Description, line.Unit_of_Measure_Code) == ("Espresso Beans Roma 1 kg", "PCS")
    erp.knobs(strict_items=False)
    assert erp.order(("Item", "NO-SUCH-SKU", 1)).No


def test_an_erp_without_items_accepts_any_item_no(bare: Erp) -> None:
    assert bare.order(("Item", "1000", 1)).No == "SO-10001"
    bare.items.Create(Item={"No": "1000", "Description": "Bolt"})
    with pytest.raises(Fault, match=r"No\.='2000'"):
        bare.order(("Item", "2000", 1))


def test_web_shop_catalogue_skus_are_items(erp: Erp) -> None:
    skus = [p.sku for p in PRODUCTS]
    found = erp.items.ReadMultiple(filter=[{"Field": "No", "Criteria": "|".join(skus)}], setSize=0)
    assert sorted(item.No for item in found) == sorted(skus)


# -- shipments -------------------------------------------------------------------------------


def test_partial_shipment_lowers_inventory_and_posts_a_shipment(erp: Erp) -> None:
    first, second = stocked(erp, 5)[:2]
    before = {no: erp.inventory(no) for no in (first, second)}
    item_key = erp.items.Read(No=first).Key
    order = erp.order(("Item", first, 3), ("Item", second, 2), ("G_L_Account", "6110", 1))

    shipment_no = erp.ship(order.No, (10000, 2), tracking="JJD0099123")

    assert erp.inventory(first) == before[first] - 2
    assert erp.inventory(second) == before[second]
    assert erp.items.Read(No=first).Key == item_key  # Inventory is a FlowField
    shipment = erp.shipments.Read(No=shipment_no)
    assert (shipment.Order_No, shipment.Package_Tracking_No) == (order.No, "JJD0099123")
    assert shipment.Shipping_Agent_Code == "DHL"
    assert shipment.External_Document_No == "PO-TEST-1"
    shipped = [(x.No, x.Quantity) for x in shipment.SalesShipmLines.Posted_Sales_Shipment_Line]
    assert shipped == [(first, Decimal(2)), ("6110", Decimal(1))]  # freight goes first
    after = erp.orders.Read(No=order.No)
    assert after.Status == "Released"
    lines = after.SalesLines.Sales_Order_Line
    assert [(x.Quantity_Shipped, x.Outstanding_Quantity, x.Qty_to_Ship) for x in lines] == [
        (2, 1, 1),
        (0, 2, 2),
        (1, 0, 0),
    ]
    by_order = erp.shipments.ReadMultiple(
        filter=[{"Field": "Order_No", "Criteria": order.No}], setSize=0
    )
    assert [s.No for s in by_order] == [shipment_no]


def test_qty_to_ship_on_the_order_drives_a_shipment_without_ship_lines(erp: Erp) -> None:
    [item] = stocked(erp, 4)[:1]
    order = erp.order(("Item", item, 4))
    line = order.SalesLines.Sales_Order_Line[0]
    with pytest.raises(Fault, match="You cannot ship more than 4 units"):
        erp.orders.Update(
            Sales_Order={
                "Key": order.Key,
                "SalesLines": {"Sales_Order_Line": [{"Key": line.Key, "Qty_to_Ship": 5}]},
            }
        )
    erp.orders.Update(
        Sales_Order={
            "Key": order.Key,
            "SalesLines": {"Sales_Order_Line": [{"Key": line.Key, "Qty_to_Ship": 1}]},
        }
    )
    before = erp.inventory(item)
    shipment_no = erp.ship(order.No)
    lines = erp.shipments.Read(No=shipment_no).SalesShipmLines.Posted_Sales_Shipment_Line
    assert [x.Quantity for x in lines] == [1]
    assert erp.inventory(item) == before - 1


def test_insufficient_inventory_is_a_fault_and_changes_nothing(erp: Erp) -> None:
    [item] = stocked(erp, 1)[:1]
    level = erp.inventory(item)
    order = erp.order(("Item", item, int(level) + 1))
    with pytest.raises(Fault) as refused:
        erp.ship(order.No)
    assert f"insufficient quantity of Item {item}" in refused.value.message
    assert erp.inventory(item) == level
    assert erp.orders.Read(No=order.No).Status == "Open"
    erp.knobs(allow_negative_inventory=True)
    erp.ship(order.No)
    assert erp.inventory(item) == -1


def test_shipping_more_than_ordered_or_nothing_is_refused(erp: Erp) -> None:
    [item] = stocked(erp, 3)[:1]
    order = erp.order(("Item", item, 2))
    with pytest.raises(Fault, match="You cannot ship more than 2 units"):
        erp.ship(order.No, (10000, 3))
    with pytest.raises(Fault, match="There is nothing to post"):
        erp.ship(order.No, (10000, 0))
    with pytest.raises(Fault, match=r"Line No\.='90000'"):
        erp.ship(order.No, (90000, 1))
    with pytest.raises(Fault, match="The Sales Header does not exist"):
        erp.ship("SO-99999")


# -- invoices and payments -------------------------------------------------------------------


def test_invoice_has_the_shipped_amount_and_payment_closes_it(erp: Erp) -> None:
    [item] = stocked(erp, 3)[:1]
    order = erp.order(("Item", item, 3), ("G_L_Account", "6110", 1), price="12.50")
    customer_no = order.Sell_to_Customer_No
    erp.ship(order.No, (10000, 2), (20000, 1))

    invoice_no = erp.posting.PostInvoice(orderNo=order.No)

    invoice = erp.invoices.Read(No=invoice_no)
    assert (invoice.Order_No, invoice.Sell_to_Customer_No) == (order.No, customer_no)
    assert invoice.Amount == invoice.Amount_Including_VAT == Decimal("37.50")  # 2 + 1 x 12.50
    assert invoice.Remaining_Amount == Decimal("37.50") and invoice.Closed is False
    lines = invoice.SalesInvLines.Posted_Sales_Invoice_Line
    assert [(x.No, x.Quantity, x.Line_Amount) for x in lines] == [
        (item, 2, Decimal("25.00")),
        ("6110", 1, Decimal("12.50")),
    ]
    assert erp.customers.Read(No=customer_no).Balance_LCY == Decimal("37.50")
    with pytest.raises(Fault, match="There is nothing to post"):
        erp.posting.PostInvoice(orderNo=order.No)

    assert erp.posting.RegisterPayment(invoiceNo=invoice_no, amount="30.00") == Decimal("7.50")
    assert erp.invoices.Read(No=invoice_no).Remaining_Amount == Decimal("7.50")
    with pytest.raises(Fault, match=r"exceeds the remaining amount 7\.50"):
        erp.posting.RegisterPayment(invoiceNo=invoice_no, amount="8.00")
    assert erp.posting.RegisterPayment(invoiceNo=invoice_no, amount="7.50") == Decimal("0.00")
    paid = erp.invoices.Read(No=invoice_no)
    assert (paid.Remaining_Amount, paid.Closed) == (Decimal("0.00"), True)
    assert erp.customers.Read(No=customer_no).Balance_LCY == Decimal("0.00")
    open_ones = erp.invoices.ReadMultiple(
        filter=[{"Field": "Sell_to_Customer_No", "Criteria": customer_no},
                {"Field": "Closed", "Criteria": "false"}],
        setSize=0,
    )  # fmt: skip
    assert open_ones is None


def test_fully_shipped_and_invoiced_order_leaves_the_order_list(erp: Erp) -> None:
    [item] = stocked(erp, 1)[:1]
    order = erp.order(("Item", item, 1))
    erp.ship(order.No)
    with pytest.raises(Fault, match="shipped but not invoiced"):
        erp.orders.Delete(Key=erp.orders.Read(No=order.No).Key)
    invoice_no = erp.posting.PostInvoice(orderNo=order.No)
    assert erp.orders.Read(No=order.No) is None  # as NAV deletes it
    assert erp.invoices.Read(No=invoice_no).External_Document_No == "PO-TEST-1"


def test_invoice_balance_counts_against_the_credit_limit(erp: Erp) -> None:
    [item] = stocked(erp, 2)[:1]
    customer = erp.customers.Create(Customer={"Name": "Tight GmbH", "Credit_Limit_LCY": "25"})
    line = {"Type": "Item", "No": item, "Quantity": 2, "Unit_Price": "10.00"}
    order = erp.orders.Create(
        Sales_Order={
            "Sell_to_Customer_No": customer.No,
            "SalesLines": {"Sales_Order_Line": [line]},
        }
    )
    erp.ship(order.No)
    erp.posting.PostInvoice(orderNo=order.No)
    with pytest.raises(Fault, match=f"credit limit of customer {customer.No}"):
        erp.orders.Create(
            Sales_Order={
                "Sell_to_Customer_No": customer.No,
                "SalesLines": {"Sales_Order_Line": [{**line, "Quantity": 1}]},
            }
        )


# -- read-only pages and the codeunit contract -----------------------------------------------


@pytest.mark.parametrize("page", ["Posted_Sales_Shipment", "Posted_Sales_Invoice"])
def test_posted_pages_refuse_writes(erp: Erp, page: str) -> None:
    service = getattr(erp, "shipments" if "Shipment" in page else "invoices")
    with pytest.raises(AttributeError, match="Create"):
        _ = service.Create
    wsdl = etree.fromstring(requests.get(erp.handle.wsdl_url(page), timeout=5).content)
    operations = {op.get("name") for op in wsdl.iter("{http://schemas.xmlsoap.org/wsdl/}operation")}
    assert operations == {"Read", "ReadByRecId", "ReadMultiple", "IsUpdated", "GetRecIdFromKey"}
    ns = f"urn:microsoft-dynamics-schemas/page/{page.lower()}"
    response = requests.post(
        erp.handle.base_url + page,
        data=(
            '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
            f'<Create xmlns="{ns}"><{page}><No>X</No></{page}></Create></s:Body></s:Envelope>'
        ),
        headers={"SOAPAction": f"{ns}:Create"},
        timeout=5,
    )
    assert response.status_code == 500
    assert b"No operation" in response.content


def test_codeunit_wsdl_is_nav_shaped_and_served_at_its_own_address(erp: Erp) -> None:
    url = erp.handle.codeunit_wsdl_url(POSTING)
    assert "/WS/CRONUS/Codeunit/SalesOrderPosting" in url
    wsdl = etree.fromstring(requests.get(url, timeout=5).content)
    ns = "urn:microsoft-dynamics-schemas/codeunit/SalesOrderPosting"
    assert wsdl.get("targetNamespace") == ns
    soap = "http://schemas.xmlsoap.org/wsdl/soap/"
    actions = {op.get("soapAction") for op in wsdl.iter(f"{{{soap}}}operation")}
    assert actions == {f"{ns}:{op}" for op in ("PostShipment", "PostInvoice", "RegisterPayment")}
    address = wsdl.find(f".//{{{soap}}}address")
    assert address is not None and address.get("location") == erp.handle.codeunit_url(POSTING)
    assert (
        requests.get(f"{erp.handle.url}/WS/CRONUS/Codeunit/Nope?wsdl", timeout=5).status_code == 404
    )


# -- seeded data -----------------------------------------------------------------------------


def count(service: Any, *filters: tuple[str, str]) -> int:
    rows = service.ReadMultiple(
        filter=[{"Field": f, "Criteria": c} for f, c in filters]
        or [{"Field": "No", "Criteria": ""}],
        setSize=0,
    )
    return len(rows or [])


def test_seeded_company_data_is_deterministic() -> None:
    fresh = Erp(start_in_thread(seed=1))
    try:
        assert count(fresh.customers) == 300
        assert count(fresh.items) == 200
        open_orders = count(fresh.orders)
        assert 60 <= open_orders <= 120
        assert count(fresh.orders, ("Status", "Released")) > 0  # shipped in part
        assert count(fresh.shipments) >= 50
        assert count(fresh.invoices, ("Closed", "false")) > 0
        assert count(fresh.invoices, ("Closed", "true")) > 0
        assert count(fresh.items, ("Inventory", ">0")) > 150
        customer = fresh.customers.Read(No="C00010")
        assert customer.Name and customer.Address and customer.City and customer.Country_Region_Code
        same = Erp(start_in_thread(seed=1))
        try:
            page = {"filter": [{"Field": "No", "Criteria": ""}], "setSize": 40}
            assert [
                (o.No, o.Key, o.Amount_Including_VAT) for o in fresh.orders.ReadMultiple(**page)
            ] == [(o.No, o.Key, o.Amount_Including_VAT) for o in same.orders.ReadMultiple(**page)]
        finally:
            same.handle.stop()
    finally:
        fresh.handle.stop()


def test_start_in_thread_is_empty_unless_seeded(bare: Erp) -> None:
    for service in (bare.customers, bare.items, bare.orders, bare.shipments, bare.invoices):
        assert count(service) == 0
    assert bare.customers.Create(Customer={"Name": "First"}).No == "C00010"


def test_seeded_pages_read_in_bookmark_pages(erp: Erp) -> None:
    seen: list[str] = []
    bookmark = None
    while batch := erp.customers.ReadMultiple(
        filter=[{"Field": "Country_Region_Code", "Criteria": "DE|AT"}],
        bookmarkKey=bookmark,
        setSize=25,
    ):
        seen += [c.No for c in batch]
        bookmark = batch[-1].Key
    assert len(seen) == len(set(seen)) > 25
    assert seen == sorted(seen)
