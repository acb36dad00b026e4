"""Order to cash end to end on the sandbox landscape: the web shop, the NAV SOAP ERP (with its
SalesOrderPosting codeunit), the 3PL over the real OpenSSH sshd, and the CRM.

One web order becomes an ERP order, a 940 the 3PL ships with a 945, a posted ERP shipment,
tracking on the web shop, a CRM note, an ERP invoice with its payment status on the web shop
and in the CRM — every step visible under the order number. Peers are read directly (the
sandbox's own stores, a plain zeep client), never through the flow's connectors.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from canonical.models import Entity, Shipment
from hub.queries import trace
from hub.schema import Delivery, DeliveryStatus, InboxMessage, InboxStatus, Xref
from sandbox.crm.peer import CrmHandle
from sandbox.erp_soap.server import ErpHandle
from sandbox.sshd import SshdHandle
from sandbox.webshop.peer import WebshopHandle
from tandem.cli import app as cli
from tests.flows.order_to_cash_peers import (  # noqa: F401 (fixtures)
    crm_fixture,
    erp_fixture,
    erp_posting,
    erp_records,
    peers,
    shop_fixture,
    sshd_fixture,
)
from tests.flows.test_order_to_cash_support import (
    Landscape,
    Warehouse,
    crm_connector,
    crm_notes,
    deliveries,
    erp_connector,
    new_hub,
    place_order,
    run,
    shop_connector,
    shop_notes,
    start_from_now,
    warehouse,
    xrefs,
)


def _landscape(
    tmp_path: Path, erp: ErpHandle, shop: WebshopHandle, crm: CrmHandle, wh: Warehouse
) -> Landscape:
    services = Landscape(
        hub=new_hub(tmp_path),
        connectors={
            "erp_soap": erp_connector(erp.base_url),
            "webshop": shop_connector(shop),
            "crm": crm_connector(crm),
            "logistics": wh.connector,
        },
    )
    start_from_now(services)
    return services


@pytest.fixture
def full_warehouse(sshd: SshdHandle, tmp_path: Path) -> Iterator[Warehouse]:
    yield from warehouse(sshd, tmp_path, "full", partial_rate=0, backorder_rate=0)


@pytest.fixture
def short_warehouse(sshd: SshdHandle, tmp_path: Path) -> Iterator[Warehouse]:
    yield from warehouse(sshd, tmp_path, "short", partial_rate=1.0, backorder_rate=0)


@pytest.fixture
def slow_warehouse(sshd: SshdHandle, tmp_path: Path) -> Iterator[Warehouse]:
    yield from warehouse(sshd, tmp_path, "slow", delay_s=3600, partial_rate=0, backorder_rate=0)


# -- the tests ------------------------------------------------------------------------------


def test_one_web_order_goes_all_the_way_to_cash_and_a_rerun_changes_nothing(
    tmp_path: Path,
    erp: ErpHandle,
    shop: WebshopHandle,
    crm: CrmHandle,
    full_warehouse: Warehouse,
) -> None:
    wh = full_warehouse
    services = _landscape(tmp_path, erp, shop, crm, wh)
    order = place_order(shop, "grete.o2c@example.org", [("TDM-ESP-100", 2), ("TDM-CUP-6", 3)])
    number = str(order["number"])

    first = run(services)  # order in -> ERP order -> 940 to the 3PL
    assert first.dead == 0 and first.quarantined == 0
    [erp_order] = erp_records(erp, "Sales_Order", number)
    assert len(wh.files("inbound", number)) == 1, "one 940 uploaded"

    wh.tick()  # the warehouse takes the 940 and answers with a 945
    assert len(wh.files("outbound", number)) == 1
    second = run(services)  # 945 -> ERP posting, web shop tracking, CRM note
    assert second.dead == 0, deliveries(services.hub, number)
    [posted] = erp_records(erp, "Posted_Sales_Shipment", number)
    assert posted.Order_No == erp_order.No and posted.Package_Tracking_No
    shop_order = shop.api.store.get_order(int(order["id"]))
    meta = {m["key"]: m["value"] for m in shop_order["meta_data"]}
    assert shop_order["status"] == "completed"
    assert meta["tracking_number"] == posted.Package_Tracking_No
    assert meta["tracking_carrier"] == posted.Shipping_Agent_Code
    assert any(posted.Package_Tracking_No in n for n in shop_notes(shop, int(order["id"])))
    [shipment_note] = crm_notes(crm, number)
    assert (
        shipment_note["parent_type"] == "Contacts"
        and "2 x TDM-ESP-100" in (shipment_note["description"])
    )

    # the ERP's accountant invoices the order and the customer pays half, then the rest
    posting = erp_posting(erp)
    invoice_no = posting.PostInvoice(orderNo=erp_order.No)
    third = run(services)
    assert third.dead == 0
    meta = {m["key"]: m["value"] for m in shop.api.store.get_order(int(order["id"]))["meta_data"]}
    assert (meta["erp_invoice_number"], meta["erp_payment_status"]) == (invoice_no, "open")
    [invoice] = erp_records(erp, "Posted_Sales_Invoice", number)
    total = Decimal(str(invoice.Amount_Including_VAT))
    posting.RegisterPayment(invoiceNo=invoice_no, amount=total / 2)
    run(services)
    meta = {m["key"]: m["value"] for m in shop.api.store.get_order(int(order["id"]))["meta_data"]}
    assert meta["erp_payment_status"] == "partially_paid"
    posting.RegisterPayment(invoiceNo=invoice_no, amount=total - total / 2)
    run(services)
    meta = {m["key"]: m["value"] for m in shop.api.store.get_order(int(order["id"]))["meta_data"]}
    assert meta["erp_payment_status"] == "paid"
    notes = crm_notes(crm, number)
    assert notes[0]["name"] == f"Invoice {invoice_no} for order {number}: paid"
    assert notes[1]["name"].startswith("Shipment SH") and notes[1]["name"].endswith(number)

    # every xref of the chain is recorded
    assert {
        (Entity.SALES_ORDER, "webshop"), (Entity.SALES_ORDER, "erp"),
        (Entity.SALES_ORDER, "logistics"), (Entity.CUSTOMER, "webshop"), (Entity.CUSTOMER, "erp"),
        (Entity.CUSTOMER, "crm"), (Entity.SHIPMENT, "logistics"), (Entity.SHIPMENT, "erp"),
        (Entity.SHIPMENT, "webshop"), (Entity.SHIPMENT, "crm"), (Entity.INVOICE, "erp"),
        (Entity.INVOICE, "webshop"), (Entity.INVOICE, "crm"),
    } <= xrefs(services.hub)  # fmt: skip
    with services.hub.begin() as hs:
        erp_no = hs.session.scalar(
            select(Xref.external_id).where(Xref.system == "erp", Xref.entity == Entity.SALES_ORDER)
        )
    assert erp_no == erp_order.No

    # the whole chain under the order number: the query and the CLI
    chain = trace(services.hub, correlation_id=number)
    assert {(d.target_system, d.entity) for d in chain.deliveries} >= {
        ("erp", Entity.CUSTOMER), ("erp", Entity.SALES_ORDER), ("logistics", Entity.SALES_ORDER),
        ("erp", Entity.SHIPMENT), ("webshop", Entity.SHIPMENT), ("crm", Entity.SHIPMENT),
        ("webshop", Entity.INVOICE), ("crm", Entity.INVOICE),
    }  # fmt: skip
    assert {m.source_system for m in chain.messages} >= {
        "webshop",
        "logistics",
        "erp-order-to-cash",
    }
    shown = CliRunner().invoke(
        cli,
        ["messages", "show", "--correlation", number],
        env={"TANDEM_DATABASE_URL": services.hub.url, "COLUMNS": "300"},
    )
    assert shown.exit_code == 0, shown.output
    for text in ("logistics", "erp-order-to-cash", "crm", erp_order.No, invoice_no):
        assert text in shown.output

    # every step once more: no peer changes
    before = peers(erp, shop, crm, wh, order)
    assert before["erp orders"] == 0, "shipped and invoiced in full: NAV deleted the order"
    again = run(services)
    wh.tick()
    again.merge(run(services))
    assert again.dead == 0 and again.quarantined == 0
    assert peers(erp, shop, crm, wh, order) == before
    services.close()


def test_a_partial_shipment_and_a_backorder_leave_the_order_open_with_a_note(
    tmp_path: Path,
    sshd: SshdHandle,
    erp: ErpHandle,
    shop: WebshopHandle,
    crm: CrmHandle,
    short_warehouse: Warehouse,
) -> None:
    wh = short_warehouse
    services = _landscape(tmp_path, erp, shop, crm, wh)
    order = place_order(shop, "paul.partial@example.org", [("TDM-GRD-200", 3), ("TDM-FLT-3PK", 4)])
    number = str(order["number"])
    run(services)
    wh.tick()
    summary = run(services)
    assert summary.dead == 0, deliveries(services.hub, number)

    with services.hub.begin() as hs:
        [shipment_id] = hs.session.scalars(
            select(Xref.canonical_id).where(
                Xref.system == "logistics", Xref.entity == Entity.SHIPMENT
            )
        )
        shipment = hs.load(shipment_id, Shipment)
    assert isinstance(shipment, Shipment)
    ordered = {"TDM-GRD-200": 3, "TDM-FLT-3PK": 4}
    assert all(0 < line.quantity_shipped < ordered[line.sku] for line in shipment.lines)

    # the ERP posted what left the warehouse; the order stays open there for the rest
    [erp_order] = erp_records(erp, "Sales_Order", number)
    assert erp_order.Status == "Released"
    shipped = {
        line.No: Decimal(str(line.Quantity_Shipped))
        for line in erp_order.SalesLines.Sales_Order_Line
        if line.Type == "Item"
    }
    assert shipped == {line.sku: line.quantity_shipped for line in shipment.lines}
    # the web shop order stays open, with a note of what shipped and what is to come
    shop_order = shop.api.store.get_order(int(order["id"]))
    assert shop_order["status"] == "processing"
    [note] = shop_notes(shop, int(order["id"]))
    assert "Still to come (backordered)" in note and shipment.shipment_number in note
    [crm_note] = crm_notes(crm, number)
    assert shipment.shipment_number in crm_note["name"]

    # a rerun changes nothing
    before = peers(erp, shop, crm, wh, order)
    run(services)
    assert peers(erp, shop, crm, wh, order) == before

    # a backordered line (the warehouse is out of stock) is a shipment line with a backorder
    wh.partners.set_knobs("threepl", partial_rate=0, backorder_rate=1.0)
    late = place_order(shop, "paul.partial@example.org", [("TDM-MLK-110", 3), ("TDM-KBX-01", 1)])
    run(services)
    wh.tick()
    assert run(services).dead == 0
    with services.hub.begin() as hs:
        ids = list(
            hs.session.scalars(
                select(Delivery.canonical_id).where(
                    Delivery.correlation_id == str(late["number"]),
                    Delivery.entity == Entity.SHIPMENT,
                )
            )
        )
        backordered = hs.load(ids[0], Shipment)
    assert isinstance(backordered, Shipment)
    by_sku = {line.sku: line for line in backordered.lines}
    assert by_sku["TDM-KBX-01"].quantity_shipped == 0
    assert by_sku["TDM-KBX-01"].quantity_backordered == 1
    assert by_sku["TDM-MLK-110"].quantity_backordered == 3 - by_sku["TDM-MLK-110"].quantity_shipped
    assert shop.api.store.get_order(int(late["id"]))["status"] == "processing"
    assert any("backordered" in n for n in shop_notes(shop, int(late["id"])))

    # a 945 about an order Tandem never sent is quarantined with the reason; the rest goes on
    [advice] = wh.files("outbound", number)
    stray = (wh.area / "3pl" / "outbound" / advice).read_bytes()
    stray = stray.replace(f"W06*F*{number}*".encode(), b"W06*F*STRAY-1*")
    sshd.drop(wh.area / "3pl" / "outbound" / "945_STRAY-1_000000001.edi", stray)
    stray_run = run(services)
    assert (stray_run.quarantined, stray_run.dead) == (1, 0)
    with services.hub.begin() as hs:
        [parked] = hs.session.scalars(
            select(InboxMessage).where(InboxMessage.status == InboxStatus.QUARANTINED)
        )
    assert "order STRAY-1 was never sent to the 3PL" in (parked.error or "")
    assert b"STRAY-1" in parked.raw_body
    services.close()


def test_a_cancellation_before_shipping_cancels_the_erp_order_and_the_3pl_order(
    tmp_path: Path,
    erp: ErpHandle,
    shop: WebshopHandle,
    crm: CrmHandle,
    slow_warehouse: Warehouse,
) -> None:
    wh = slow_warehouse
    services = _landscape(tmp_path, erp, shop, crm, wh)
    order = place_order(shop, "carl.cancel@example.org", [("TDM-MUG-RED-500", 2)])
    number = str(order["number"])
    run(services)
    wh.tick()  # the warehouse has the order, due to ship in an hour
    assert len(erp_records(erp, "Sales_Order", number)) == 1
    assert len(wh.files("archive", number)) == 1

    shop.api.store.update_order(int(order["id"]), {"status": "cancelled"})
    summary = run(services)
    assert summary.dead == 0, deliveries(services.hub, number)
    assert erp_records(erp, "Sales_Order", number) == [], (
        summary,
        deliveries(services.hub, number),
    )
    [cancel] = [
        name
        for name in wh.files("inbound", number)
        if re.search(rb"W05\*C\*", (wh.area / "3pl" / "inbound" / name).read_bytes())
    ]
    wh.tick()  # the warehouse drops the order: nothing ever ships
    assert wh.partners.threepl.state.data["pending"] == []
    assert wh.files("outbound", number) == []
    assert cancel in wh.files("archive", number)
    chain = {
        (target, entity, status) for target, entity, status in deliveries(services.hub, number)
    }
    assert ("logistics", Entity.SALES_ORDER, DeliveryStatus.DELIVERED) in chain

    before = peers(erp, shop, crm, wh, order)
    run(services)
    wh.tick()
    assert peers(erp, shop, crm, wh, order) == before
    services.close()
