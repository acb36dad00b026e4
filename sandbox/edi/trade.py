"""Distributor transaction sets (004010): 852 product activity, 850 PO, 855 PO ack, 810 invoice.

852 (GS01 PD): XQ*H (notification) with the reporting period, XPO, N9*IA (our vendor number
at the distributor), N1*DS (distributor), per item LIN, ZA*QA (on hand, available), ZA*QS
(sold in the period), ZA*QP (on order, not yet received), CTT.
850 (GS01 PO): BEG*00*SA, CUR, DTM*002, N1*BY/N1*ST, PO1 (qty, UOM, unit price, PE,
VN/EN ids), PID*F description, CTT (line count, quantity hash).
855 (GS01 PR): BAK (purpose, AC/AD/RJ, PO number, PO date), PO1 and ACK (IA accepted, IB
backordered, IR rejected, IQ quantity changed) per line, CTT.
810 (GS01 IN): BIG (invoice date, number, PO date, PO number), N1, IT1 lines, TDS (total in
cents, implied two decimals), CTT.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sandbox.edi.common import (
    DocumentError,
    NamedParty,
    amount,
    ccyymmdd,
    party,
    product_ids,
    read_date,
    read_int,
    read_number,
    require,
)
from sandbox.edi.x12 import Segment, Transaction, element


@dataclass(frozen=True)
class ActivityLine:
    sku: str
    gtin: str
    on_hand: int
    sold: int
    on_order: int


@dataclass(frozen=True)
class ProductActivity:
    """An 852: a distributor's stock and sell-through for a period."""

    report_id: str
    period_start: date
    period_end: date
    vendor_number: str
    distributor: NamedParty
    items: tuple[ActivityLine, ...]


def build_852(report: ProductActivity) -> list[Segment]:
    body: list[Segment] = [
        ["XQ", "H", ccyymmdd(report.period_start), ccyymmdd(report.period_end)],
        ["N9", "IA", report.vendor_number],
        ["N9", "DP", report.report_id],
    ]
    body.extend(report.distributor.segments())
    for item in report.items:
        body.append(["LIN", "", "VN", item.sku, "EN", item.gtin])
        body.append(["ZA", "QA", str(item.on_hand), "EA"])
        body.append(["ZA", "QS", str(item.sold), "EA"])
        body.append(["ZA", "QP", str(item.on_order), "EA"])
    body.append(["CTT", str(len(report.items))])
    return body


def parse_852(tx: Transaction) -> ProductActivity:
    xq = require(tx, "XQ")
    n9 = {element(s, 1): element(s, 2) for s in tx.all("N9")}
    items: list[ActivityLine] = []
    current: dict[str, object] | None = None
    for seg in tx.segments:
        if seg[0] == "LIN":
            if current is not None:
                items.append(ActivityLine(**current))  # type: ignore[arg-type]
            ids = product_ids(seg, 2)
            current = {"sku": ids.get("VN", ""), "gtin": ids.get("EN", ids.get("UP", ""))}
            current.update(on_hand=0, sold=0, on_order=0)
        elif seg[0] == "ZA" and current is not None:
            key = {"QA": "on_hand", "QS": "sold", "QP": "on_order"}.get(element(seg, 1))
            if key:
                current[key] = read_int(tx, seg, 2)
    if current is not None:
        items.append(ActivityLine(**current))  # type: ignore[arg-type]
    distributor = party(tx, "DS")
    if distributor is None:
        raise DocumentError(tx, "N1*DS (distributor) missing", segment_id="N1")
    return ProductActivity(
        report_id=n9.get("DP", ""),
        period_start=read_date(tx, xq, 2),
        period_end=read_date(tx, xq, 3) if element(xq, 3) else read_date(tx, xq, 2),
        vendor_number=n9.get("IA", ""),
        distributor=distributor,
        items=tuple(items),
    )


@dataclass(frozen=True)
class PoLine:
    line_number: int
    sku: str
    quantity: int
    unit_price: Decimal
    gtin: str = ""
    uom: str = "EA"
    description: str = ""
    status: str = ""  # 855 ACK01: IA accepted, IB backordered, IR rejected, IQ qty changed
    acknowledged_quantity: int | None = None


@dataclass(frozen=True)
class PurchaseOrder:
    """An 850 from a distributor (or the 855 answering one, with ``ack_type``)."""

    po_number: str
    order_date: date
    currency: str
    buyer: NamedParty
    ship_to: NamedParty
    lines: tuple[PoLine, ...]
    requested_delivery: date | None = None
    ack_type: str = ""  # 855 BAK02: AC, AD, RJ ...


def _po1(line: PoLine) -> Segment:
    seg = ["PO1", str(line.line_number), str(line.quantity), line.uom, amount(line.unit_price)]
    seg += ["PE", "VN", line.sku]
    return seg + (["EN", line.gtin] if line.gtin else [])


def build_850(po: PurchaseOrder) -> list[Segment]:
    body: list[Segment] = [["BEG", "00", "SA", po.po_number, "", ccyymmdd(po.order_date)]]
    body.append(["CUR", "BY", po.currency])
    if po.requested_delivery:
        body.append(["DTM", "002", ccyymmdd(po.requested_delivery)])
    body.extend(po.buyer.segments())
    body.extend(po.ship_to.segments())
    for line in po.lines:
        body.append(_po1(line))
        if line.description:
            body.append(["PID", "F", "", "", "", line.description[:80]])
    body.append(["CTT", str(len(po.lines)), str(sum(line.quantity for line in po.lines))])
    return body


def build_855(po: PurchaseOrder) -> list[Segment]:
    body: list[Segment] = [
        ["BAK", "00", po.ack_type or "AD", po.po_number, ccyymmdd(po.order_date)]
    ]
    body.extend(po.buyer.segments())
    for line in po.lines:
        body.append(_po1(line))
        qty = line.quantity if line.acknowledged_quantity is None else line.acknowledged_quantity
        body.append(["ACK", line.status or "IA", str(qty), line.uom])
    body.append(["CTT", str(len(po.lines))])
    return body


def _read_po_lines(tx: Transaction) -> list[PoLine]:
    lines: list[PoLine] = []
    for seg in tx.segments:
        if seg[0] == "PO1":
            ids = product_ids(seg, 6)
            lines.append(
                PoLine(
                    line_number=read_int(tx, seg, 1) if element(seg, 1) else len(lines) + 1,
                    sku=ids.get("VN", ids.get("BP", "")),
                    quantity=read_int(tx, seg, 2),
                    unit_price=read_number(tx, seg, 4) if element(seg, 4) else Decimal(0),
                    gtin=ids.get("EN", ids.get("UP", "")),
                    uom=element(seg, 3) or "EA",
                )
            )
        elif seg[0] == "PID" and lines:
            last = lines[-1]
            lines[-1] = PoLine(**{**last.__dict__, "description": element(seg, 5)})
        elif seg[0] == "ACK" and lines:
            last = lines[-1]
            qty = read_int(tx, seg, 2) if element(seg, 2) else None
            lines[-1] = PoLine(
                **{**last.__dict__, "status": element(seg, 1), "acknowledged_quantity": qty}
            )
    if not lines:
        raise DocumentError(tx, "no PO1 line items", segment_id="PO1")
    return lines


def parse_850(tx: Transaction) -> PurchaseOrder:
    beg = require(tx, "BEG")
    cur = tx.first("CUR")
    dtm = next((s for s in tx.all("DTM") if element(s, 1) == "002"), None)
    lines = _read_po_lines(tx)
    ctt = tx.first("CTT")
    if ctt is not None and read_int(tx, ctt, 1) != len(lines):
        raise DocumentError(tx, f"CTT01 {ctt[1]} but {len(lines)} PO1 lines", segment_id="CTT")
    return PurchaseOrder(
        po_number=element(beg, 3),
        order_date=read_date(tx, beg, 5),
        currency=element(cur, 2) if cur else "",
        buyer=party(tx, "BY") or NamedParty("BY", ""),
        ship_to=party(tx, "ST") or NamedParty("ST", ""),
        lines=tuple(lines),
        requested_delivery=read_date(tx, dtm, 2) if dtm else None,
    )


def parse_855(tx: Transaction) -> PurchaseOrder:
    bak = require(tx, "BAK")
    if element(bak, 2) not in ("AC", "AD", "AE", "AK", "AP", "AT", "RD", "RJ", "RO", "ZZ"):
        raise DocumentError(tx, f"BAK02 {element(bak, 2)!r} is not an acknowledgment type")
    return PurchaseOrder(
        po_number=element(bak, 3),
        order_date=read_date(tx, bak, 4),
        currency="",
        buyer=party(tx, "BY") or NamedParty("BY", ""),
        ship_to=party(tx, "ST") or NamedParty("ST", ""),
        lines=tuple(_read_po_lines(tx)),
        ack_type=element(bak, 2),
    )


@dataclass(frozen=True)
class Invoice:
    """An 810 from the manufacturer to the distributor."""

    invoice_number: str
    invoice_date: date
    po_number: str
    lines: tuple[PoLine, ...]
    total: Decimal
    currency: str = ""


def build_810(invoice: Invoice) -> list[Segment]:
    body: list[Segment] = [
        ["BIG", ccyymmdd(invoice.invoice_date), invoice.invoice_number, "", invoice.po_number]
    ]
    if invoice.currency:
        body.append(["CUR", "SE", invoice.currency])
    for line in invoice.lines:
        it1 = ["IT1", str(line.line_number), str(line.quantity), line.uom]
        body.append([*it1, amount(line.unit_price), "PE", "VN", line.sku])
    body.append(["TDS", str(int((invoice.total * 100).to_integral_value()))])
    body.append(["CTT", str(len(invoice.lines))])
    return body


def parse_810(tx: Transaction) -> Invoice:
    big = require(tx, "BIG")
    tds = require(tx, "TDS")
    lines: list[PoLine] = []
    for seg in tx.all("IT1"):
        ids = product_ids(seg, 6)
        lines.append(
            PoLine(
                line_number=read_int(tx, seg, 1) if element(seg, 1) else len(lines) + 1,
                sku=ids.get("VN", ids.get("BP", "")),
                quantity=read_int(tx, seg, 2),
                unit_price=read_number(tx, seg, 4),
                uom=element(seg, 3) or "EA",
            )
        )
    if not lines:
        raise DocumentError(tx, "no IT1 line items", segment_id="IT1")
    cur = tx.first("CUR")
    return Invoice(
        invoice_number=element(big, 2),
        invoice_date=read_date(tx, big, 1),
        po_number=element(big, 4),
        lines=tuple(lines),
        total=read_number(tx, tds, 1) / 100,
        currency=element(cur, 2) if cur else "",
    )
