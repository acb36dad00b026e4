"""Warehouse transaction sets (004010): 940 shipping order, 945 shipping advice, 846 inventory.

940 (GS01 OW, depositor -> warehouse): W05 order ids, N1 loop (ST ship-to), N9, G62*10
(requested ship date), W66 (carrier: W6610 SCAC), then per line LX, W01 (qty, UOM, product
ids), G69 description; W76 totals.

945 (GS01 SW, warehouse -> depositor): W06 (F full detail, depositor order, ship date,
shipment id, agent shipment id, PO), N1 loop, G62*11 (shipped on), W27 (W2702 SCAC), then per
package LX, MAN*CP (carrier package id = tracking number) and the W12 lines in it (status,
ordered, shipped, difference); W03 totals (units, weight, cartons).

846 (GS01 IB, warehouse -> depositor): BIA, DTM*007, per item LIN, QTY*17 (on hand) and
QTY*33 (available for sale), CTT.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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
class OrderLine:
    line_number: int
    sku: str
    quantity: int
    gtin: str = ""
    uom: str = "EA"
    description: str = ""


@dataclass(frozen=True)
class ShippingOrder:
    """A 940: what the depositor asks the warehouse to ship."""

    order_number: str
    po_number: str
    ship_to: NamedParty
    requested_ship_date: date
    lines: tuple[OrderLine, ...]
    carrier_scac: str = ""
    purpose: str = "N"  # W0501: N original, R replace, C cancel


def build_940(order: ShippingOrder) -> list[Segment]:
    body: list[Segment] = [["W05", order.purpose, order.order_number, order.po_number]]
    body.extend(order.ship_to.segments())
    body.append(["N9", "CO", order.order_number])
    body.append(["G62", "10", ccyymmdd(order.requested_ship_date)])
    if order.carrier_scac:
        body.append(["W66", "PP", "U", "", "", "", "", "", "", "", order.carrier_scac])
    for line in order.lines:
        body.append(["LX", str(line.line_number)])
        w01 = ["W01", str(line.quantity), line.uom, "", "VN", line.sku]
        if line.gtin:
            w01 += ["EN", line.gtin]
        body.append(w01)
        if line.description:
            body.append(["G69", line.description[:45]])
    body.append(["W76", str(sum(line.quantity for line in order.lines))])
    return body


def parse_940(tx: Transaction) -> ShippingOrder:
    w05 = require(tx, "W05")
    ship_to = party(tx, "ST")
    if ship_to is None:
        raise DocumentError(tx, "N1*ST (ship-to) missing", segment_id="N1")
    g62 = next((s for s in tx.all("G62") if element(s, 1) in ("10", "37", "38")), None)
    w66 = tx.first("W66")
    lines: list[OrderLine] = []
    current_lx = 0
    pending: dict[str, object] | None = None
    for seg in tx.segments:
        if seg[0] == "LX":
            current_lx = read_int(tx, seg, 1)
        elif seg[0] == "W01":
            if pending is not None:
                lines.append(OrderLine(**pending))  # type: ignore[arg-type]
            ids = product_ids(seg, 4)
            sku = ids.get("VN") or ids.get("SK") or ids.get("BP") or ""
            if not sku:
                raise DocumentError(
                    tx, f"W01 of line {current_lx}: no VN/SK item id", segment_id="W01"
                )
            pending = {
                "line_number": current_lx or len(lines) + 1,
                "sku": sku,
                "quantity": read_int(tx, seg, 1),
                "gtin": ids.get("EN") or ids.get("UK") or ids.get("UP") or element(seg, 3),
                "uom": element(seg, 2) or "EA",
            }
        elif seg[0] == "G69" and pending is not None:
            pending["description"] = element(seg, 1)
    if pending is not None:
        lines.append(OrderLine(**pending))  # type: ignore[arg-type]
    if not lines:
        raise DocumentError(tx, "no W01 line items", segment_id="W01")
    return ShippingOrder(
        order_number=element(w05, 2),
        po_number=element(w05, 3),
        ship_to=ship_to,
        requested_ship_date=read_date(tx, g62, 2) if g62 else date.today(),
        lines=tuple(lines),
        carrier_scac=element(w66, 10) if w66 else "",
        purpose=element(w05, 1),
    )


@dataclass(frozen=True)
class ShippedLine:
    line_number: int
    sku: str
    ordered: int
    shipped: int
    status: str  # W1201: CC complete, CP partial (no backorder), BP partial + backorder, BO
    uom: str = "EA"

    @property
    def difference(self) -> int:
        return self.ordered - self.shipped


@dataclass(frozen=True)
class Package:
    tracking_number: str
    lines: tuple[ShippedLine, ...]


@dataclass(frozen=True)
class ShippingAdvice:
    """A 945: what the warehouse shipped for one order."""

    order_number: str
    po_number: str
    shipment_id: str
    ship_date: date
    carrier_scac: str
    ship_to: NamedParty
    packages: tuple[Package, ...]
    unshipped: tuple[ShippedLine, ...] = ()  # lines with nothing shipped (backordered)
    weight_kg: Decimal = Decimal("0")

    @property
    def lines(self) -> list[ShippedLine]:
        return [line for pkg in self.packages for line in pkg.lines] + list(self.unshipped)

    @property
    def units_shipped(self) -> int:
        return sum(line.shipped for line in self.lines)


def _w12(line: ShippedLine) -> Segment:
    return [
        "W12",
        line.status,
        str(line.ordered),
        str(line.shipped),
        str(line.difference),
        line.uom,
        "",
        "VN",
        line.sku,
    ]


def build_945(advice: ShippingAdvice) -> list[Segment]:
    body: list[Segment] = [
        [
            "W06",
            "F",
            advice.order_number,
            ccyymmdd(advice.ship_date),
            advice.shipment_id,
            "",
            advice.po_number,
        ]
    ]
    body.extend(advice.ship_to.segments())
    body.append(["G62", "11", ccyymmdd(advice.ship_date)])
    body.append(["W27", "U", advice.carrier_scac, "", "PP"])
    number = 0
    for pkg in advice.packages:
        number += 1
        body.append(["LX", str(number)])
        body.append(["MAN", "CP", pkg.tracking_number])
        body.extend(_w12(line) for line in pkg.lines)
    if advice.unshipped:
        number += 1
        body.append(["LX", str(number)])
        body.extend(_w12(line) for line in advice.unshipped)
    body.append(
        [
            "W03",
            str(advice.units_shipped),
            amount(advice.weight_kg),
            "KG",
            "",
            "",
            str(len(advice.packages)),
            "CT",
        ]
    )
    return body


def parse_945(tx: Transaction) -> ShippingAdvice:
    w06 = require(tx, "W06")
    w27 = tx.first("W27")
    w03 = require(tx, "W03")
    ship_to = party(tx, "ST") or NamedParty("ST", "")
    packages: list[Package] = []
    unshipped: list[ShippedLine] = []
    tracking = ""
    lines: list[ShippedLine] = []

    def close() -> None:
        if tracking:
            packages.append(Package(tracking, tuple(lines)))
        else:
            unshipped.extend(lines)

    for seg in tx.segments:
        if seg[0] == "LX":
            close()
            tracking, lines = "", []
        elif seg[0] == "MAN" and element(seg, 1) in ("CP", "GM"):
            tracking = tracking or element(seg, 2)
        elif seg[0] == "W12":
            ids = product_ids(seg, 7)
            line = ShippedLine(
                line_number=len(lines) + len(unshipped) + sum(len(p.lines) for p in packages) + 1,
                sku=ids.get("VN", ""),
                ordered=read_int(tx, seg, 2),
                shipped=read_int(tx, seg, 3),
                status=element(seg, 1),
                uom=element(seg, 5) or "EA",
            )
            if line.difference != read_int(tx, seg, 4):
                raise DocumentError(
                    tx, f"W1204 {element(seg, 4)} is not ordered - shipped", segment_id="W12"
                )
            lines.append(line)
    close()
    advice = ShippingAdvice(
        order_number=element(w06, 2),
        po_number=element(w06, 6),
        shipment_id=element(w06, 4),
        ship_date=read_date(tx, w06, 3),
        carrier_scac=element(w27, 2) if w27 else "",
        ship_to=ship_to,
        packages=tuple(packages),
        unshipped=tuple(unshipped),
        weight_kg=read_number(tx, w03, 2) if element(w03, 2) else Decimal("0"),
    )
    if advice.units_shipped != read_int(tx, w03, 1):
        raise DocumentError(
            tx, f"W0301 {element(w03, 1)} is not the sum of W1203", segment_id="W03"
        )
    return advice


@dataclass(frozen=True)
class StockLine:
    sku: str
    on_hand: int
    available: int
    gtin: str = ""


@dataclass(frozen=True)
class InventoryAdvice:
    """An 846: the warehouse's stock of the depositor's goods."""

    report_id: str
    as_of: date
    items: tuple[StockLine, ...] = field(default_factory=tuple)


def build_846(advice: InventoryAdvice, time_hhmm: str = "0000") -> list[Segment]:
    body: list[Segment] = [["BIA", "00", "SI", advice.report_id, ccyymmdd(advice.as_of), time_hhmm]]
    body.append(["DTM", "007", ccyymmdd(advice.as_of)])
    for item in advice.items:
        lin = ["LIN", "", "VN", item.sku] + (["EN", item.gtin] if item.gtin else [])
        body.append(lin)
        body.append(["QTY", "17", str(item.on_hand), "EA"])
        body.append(["QTY", "33", str(item.available), "EA"])
    body.append(["CTT", str(len(advice.items))])
    return body


def parse_846(tx: Transaction) -> InventoryAdvice:
    bia = require(tx, "BIA")
    items: list[StockLine] = []
    current: dict[str, object] | None = None
    for seg in tx.segments:
        if seg[0] == "LIN":
            if current is not None:
                items.append(StockLine(**current))  # type: ignore[arg-type]
            ids = product_ids(seg, 2)
            current = {"sku": ids.get("VN", ""), "gtin": ids.get("EN", ""), "on_hand": 0}
            current["available"] = 0
        elif seg[0] == "QTY" and current is not None:
            key = {"17": "on_hand", "33": "available"}.get(element(seg, 1))
            if key:
                current[key] = read_int(tx, seg, 2)
    if current is not None:
        items.append(StockLine(**current))  # type: ignore[arg-type]
    ctt = tx.first("CTT")
    if ctt is not None and read_int(tx, ctt, 1) != len(items):
        raise DocumentError(tx, f"CTT01 {ctt[1]} but {len(items)} LIN items", segment_id="CTT")
    return InventoryAdvice(element(bia, 3), read_date(tx, bia, 4), tuple(items))
