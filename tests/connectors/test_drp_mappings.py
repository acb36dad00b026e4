"""mappings/drp: 850 -> SalesOrder, 852/CSV rows -> InventoryLevel and DemandSignal,
SalesOrder -> 855 and Invoice -> 810 that the sandbox distributor accepts."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from canonical.errors import InvalidRecord
from canonical.models import Invoice, Money, OrderStatus
from connectors.base import RawRecord
from connectors.drp.connector import Partner
from connectors.drp.csv_report import ReportContext, read_report
from connectors.drp.inbound import PurchaseOrders, SellThrough
from connectors.drp.records import ActivityRow
from connectors.drp.settings import DistributorSettings
from connectors.drp.x12_out import build_810, build_855
from connectors.formats.x12 import GroupOut, Party, SetOut, build_interchange
from connectors.transports.sftp import SftpSettings
from mappings.drp import (
    demand_signal,
    inventory_level,
    invoice_to_810,
    po_ack_from_order,
    sales_order_from_850,
)
from sandbox.drp.distributors import DISTRIBUTORS, stock_csv
from sandbox.edi.common import NamedParty
from sandbox.edi.trade import (
    ActivityLine,
    PoLine,
    ProductActivity,
    PurchaseOrder,
    build_850,
    build_852,
    parse_810,
    parse_855,
)
from sandbox.edi.x12 import Party as SandboxParty
from sandbox.edi.x12 import build_interchange as sandbox_interchange
from sandbox.edi.x12 import read_interchange

PACIFIC = DISTRIBUTORS[2]
WHEN = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


def partner(tmp_path: Path) -> Partner:
    sftp = SftpSettings(host="127.0.0.1", username="u", password="p", known_hosts=tmp_path)
    return Partner(DistributorSettings(key="pacific-brew", sftp=sftp, their_id="PACBREW"))


def sandbox_850() -> bytes:
    po = PurchaseOrder(
        "PAC2611230001", date(2026, 11, 23), "USD",
        NamedParty("BY", PACIFIC.address.name, "92", "PBS-001"),
        NamedParty("ST", PACIFIC.address.name, "92", "PBS-001-DC", "1200 1st Ave", "Seattle",
                   "WA", "98101", "US"),
        (PoLine(1, "TDM-GRD-200", 12, Decimal("97.02"), "4012345000024", description="Grinder"),
         PoLine(2, "TDM-ESP-100", 6, Decimal("500.5"), "4012345000017")),
        requested_delivery=date(2026, 11, 30),
    )  # fmt: skip
    text = sandbox_interchange(PACIFIC.party, SandboxParty("ZZ", "TANDEM", "TANDEM"),
                               [("850", build_850(po))], interchange_number=5, group_number=5,
                               when=WHEN)  # fmt: skip
    return text.encode()


def order_record(tmp_path: Path) -> RawRecord:
    p = partner(tmp_path)
    (record,) = [r for r in PurchaseOrders([p], 100).parse(p, "850_x.edi", sandbox_850())
                 if isinstance(r, RawRecord)]  # fmt: skip
    return record


def test_a_distributors_850_becomes_a_sales_order(tmp_path: Path) -> None:
    record = order_record(tmp_path)
    key, order = sales_order_from_850(record.data)
    assert key == record.key == "pacific-brew|PAC2611230001"
    assert (order.order_number, order.customer_ref, order.currency) == (
        "PAC2611230001", "pacific-brew", "USD",
    )  # fmt: skip
    assert order.status is OrderStatus.RECEIVED
    assert order.ordered_at == datetime(2026, 11, 23, tzinfo=UTC)
    assert [(line.sku, line.quantity, line.line_total.amount) for line in order.lines] == [
        ("TDM-GRD-200", Decimal(12), Decimal("1164.24")),
        ("TDM-ESP-100", Decimal(6), Decimal("3003.0")),
    ]
    assert order.lines[0].description == "Grinder"
    assert order.total == Money(amount=Decimal("4167.24"), currency="USD")
    address = order.shipping_address
    assert address is not None
    assert (address.street, address.city, address.subdivision, address.country) == (
        "1200 1st Ave", "Seattle", "WA", "US",
    )  # fmt: skip


def test_an_850_without_currency_or_with_a_bad_line_names_the_fields(tmp_path: Path) -> None:
    data: dict[str, Any] = dict(order_record(tmp_path).data)
    data["currency"] = None
    data["lines"] = [dict(data["lines"][0], quantity="twelve"), data["lines"][1]]
    with pytest.raises(InvalidRecord) as caught:
        sales_order_from_850(data)
    paths = {e.path for e in caught.value.errors}
    assert "currency" in paths and "lines[0].quantity" in paths
    assert "PAC2611230001" in str(caught.value)
    _, order = sales_order_from_850(dict(data, lines=data["lines"][1:]), currency="EUR")
    assert order.currency == "EUR" and len(order.lines) == 1


def test_the_orders_855_is_accepted_by_the_distributors_reader(tmp_path: Path) -> None:
    _, order = sales_order_from_850(order_record(tmp_path).data)
    ack = po_ack_from_order(order, distributor="pacific-brew")
    assert (ack["po_number"], ack["ack_type"], str(ack["po_date"])) == (
        "PAC2611230001", "AK", "2026-11-23",
    )  # fmt: skip
    accepted = po_ack_from_order(order.model_copy(update={"status": "accepted"}),
                                 distributor="pacific-brew")  # fmt: skip
    assert accepted["ack_type"] == "AD"
    cancelled = po_ack_from_order(order.model_copy(update={"status": "cancelled"}),
                                  distributor="pacific-brew")  # fmt: skip
    assert cancelled["ack_type"] == "RJ" and {x["status"] for x in cancelled["lines"]} == {"IR"}
    tx = _as_sandbox_set("855", build_855(accepted))
    parsed = parse_855(tx)
    assert parsed.po_number == "PAC2611230001" and parsed.ack_type == "AD"
    assert [(x.sku, x.quantity, x.status) for x in parsed.lines] == [
        ("TDM-GRD-200", 12, "IA"), ("TDM-ESP-100", 6, "IA"),
    ]  # fmt: skip


def test_an_invoice_becomes_an_810_with_the_invoiced_lines(tmp_path: Path) -> None:
    _, order = sales_order_from_850(order_record(tmp_path).data)
    money = {"currency": "USD"}
    invoice = Invoice(
        invoice_number="INV-77", order_number=order.order_number, invoice_date=date(2026, 11, 24),
        currency="USD", net_amount=Money(amount=Decimal("4167.24"), **money),
        tax_amount=Money(amount=Decimal("0"), **money),
        total_amount=Money(amount=Decimal("4167.24"), **money),
    )  # fmt: skip
    record = invoice_to_810(invoice, order.lines, distributor="pacific-brew")
    parsed = parse_810(_as_sandbox_set("810", build_810(record)))
    assert (parsed.invoice_number, parsed.po_number, parsed.total) == (
        "INV-77", "PAC2611230001", Decimal("4167.24"),
    )  # fmt: skip
    assert [(x.sku, x.quantity, x.unit_price) for x in parsed.lines] == [
        ("TDM-GRD-200", 12, Decimal("97.02")), ("TDM-ESP-100", 6, Decimal("500.5")),
    ]  # fmt: skip
    with pytest.raises(InvalidRecord, match="lines param is required"):
        invoice_to_810(invoice, [], distributor="pacific-brew")


def _as_sandbox_set(code: str, body: list[list[str]]) -> Any:
    group = GroupOut(3, [SetOut(code, "0001", list(body))])
    data = build_interchange(Party("ZZ", "TANDEM"), Party("ZZ", "PACBREW"), 3, [group], usage="P")
    (tx,) = read_interchange(data).groups[0].transactions
    return tx


def _rows_both_ways(tmp_path: Path) -> tuple[list[RawRecord], list[ActivityRow]]:
    items = (ActivityLine("TDM-GRD-200", "4012345000024", 17, 5, 24),)
    report = ProductActivity("R-1", date(2026, 11, 17), date(2026, 11, 23), "TANDEM01",
                             PACIFIC.address, items)  # fmt: skip
    text = sandbox_interchange(PACIFIC.party, SandboxParty("ZZ", "TANDEM", "TANDEM"),
                               [("852", build_852(report))], interchange_number=6,
                               group_number=6, when=WHEN)  # fmt: skip
    p = partner(tmp_path)
    x12 = [r for r in SellThrough([p], 100).parse(p, "852_x.edi", text.encode())
           if isinstance(r, RawRecord)]  # fmt: skip
    data = stock_csv(items, {}, date(2026, 11, 17), date(2026, 11, 23), delimiter=",",
                     encoding="utf-8", language="en")  # fmt: skip
    _, rows = read_report(data, ReportContext("pacific-brew", "stock.csv"))
    return x12, [r for r in rows if isinstance(r, ActivityRow)]


def test_852_and_csv_rows_give_the_same_stock_and_demand(tmp_path: Path) -> None:
    (x12,), (csv_row,) = _rows_both_ways(tmp_path)
    assert x12.key == csv_row.key and x12.version == csv_row.version
    level = inventory_level(x12.data)
    assert level is not None and level == inventory_level(csv_row.data())
    assert (level.sku, level.location, level.on_hand, level.available) == (
        "TDM-GRD-200", "pacific-brew", Decimal(17), Decimal(17),
    )  # fmt: skip
    assert level.as_of == datetime(2026, 11, 23, tzinfo=UTC)
    signal = demand_signal(x12.data, key=x12.key)
    figures = (signal.sold, signal.on_hand, signal.on_order, signal.returned)
    assert figures == (Decimal(5), Decimal(17), Decimal(24), None)
    assert signal.period_start == date(2026, 11, 17) and signal.source_format == "852"
    same = demand_signal(csv_row.data(), key=csv_row.key)
    assert same.model_dump(exclude={"source_format", "report_id"}) == signal.model_dump(
        exclude={"source_format", "report_id"}
    )


def test_a_sales_only_row_has_demand_but_no_stock() -> None:
    row = ActivityRow("khn", "csv", "s.csv", "line 2", "", "4012345000017",
                      date(2026, 11, 1), date(2026, 11, 30), {"QS": Decimal("3")},
                      location="HH-1")  # fmt: skip
    assert inventory_level(row.data()) is None
    signal = demand_signal(row.data(), key=row.key)
    assert (signal.sku, signal.location) == ("gtin:4012345000017", "khn/HH-1")
    assert signal.sold == Decimal(3)
    with pytest.raises(InvalidRecord, match=r"activity\.QS"):
        demand_signal(dict(row.data(), activity={"QS": "x"}), key=row.key)


def test_a_cancelling_850_is_a_cancelled_order(tmp_path: Path) -> None:
    data = dict(order_record(tmp_path).data, purpose="01")
    _, order = sales_order_from_850(data)
    assert order.status is OrderStatus.CANCELLED
