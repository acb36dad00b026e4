"""The warehouse transaction sets (004010) as Tandem's plain dicts.

940 warehouse shipping order (written)::

    W05*N*<order>*<po>~  N1*ST*<name>*<qual>*<id>~  N3*<street>~  N4*<city>*<state>*<zip>*<cc>~
    N9*CO*<order>~  G62*10*<CCYYMMDD>~  W66*PP*U*******<SCAC>~
    LX*<n>~  W01*<qty>*<uom>**VN*<sku>[*EN*<gtin>]~  G69*<description>~ ...  W76*<total qty>~

945 shipping advice (read): W06 (order, ship date, shipment id, PO), N1 loop, G62*11, W27
(W2702 carrier SCAC), per package LX + MAN*CP (tracking number) + W12 lines (status CC/CP/BP/
BO, ordered, shipped, difference, UOM, VN sku), W03 (units, weight, cartons).

846 inventory advice (read): BIA (report id, date, time), DTM, per item LIN (VN sku, EN gtin)
with QTY*17 (on hand) and QTY*33 (available); one dict per item.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from canonical.errors import FieldError, InvalidRecord
from connectors.formats.x12 import Segment, TransactionSet, X12Error, element

SYSTEM = "logistics"


# -- 940 out ---------------------------------------------------------------------------------


def _text(
    record: Mapping[str, Any],
    path: str,
    errors: list[FieldError],
    *,
    required: bool = True,
    size: int = 80,
    at: str = "",
) -> str:
    value: Any = record
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    text = "" if value is None else str(value).strip()
    if required and not text:
        errors.append(FieldError(at + path, "is required"))
    elif len(text) > size:
        errors.append(FieldError(at + path, f"{text[:20]!r}... is longer than {size} characters"))
    return text


def _quantity(value: Any, path: str, errors: list[FieldError]) -> str:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        errors.append(FieldError(path, f"{value!r} is not a number"))
        return ""
    if not number.is_finite() or number <= 0:
        errors.append(FieldError(path, f"{value!r} must be a positive quantity"))
        return ""
    text = format(number.normalize(), "f")
    return text


def _ymd(value: Any, path: str, errors: list[FieldError]) -> str:
    try:
        return date.fromisoformat(str(value)[:10]).strftime("%Y%m%d")
    except ValueError:
        errors.append(FieldError(path, f"{value!r} is not a date (YYYY-MM-DD)"))
        return ""


def build_940(record: Mapping[str, Any]) -> list[Segment]:
    """The 940 body for a shipping order dict (see mappings/x12/sales_order.from_canonical);
    every invalid field is reported in one ``InvalidRecord``."""
    errors: list[FieldError] = []
    order = _text(record, "order_number", errors, size=22)
    po = _text(record, "po_number", errors, required=False, size=22)
    purpose = _text(record, "purpose", errors, required=False) or "N"
    if purpose not in ("N", "R", "C"):
        errors.append(FieldError("purpose", f"{purpose!r} must be N, R or C"))
    ship_to = record.get("ship_to") or {}
    body: list[Segment] = [["W05", purpose, order, po]]
    body.append(
        [
            "N1",
            "ST",
            _text(ship_to, "name", errors, at="ship_to.", size=60) if ship_to else "",
            _text(ship_to, "id_qualifier", errors, at="ship_to.", required=False, size=2),
            _text(ship_to, "id_code", errors, at="ship_to.", required=False, size=80),
        ]
    )
    if not ship_to:
        errors.append(FieldError("ship_to", "is required"))
    street = _text(ship_to, "street", errors, at="ship_to.", required=False, size=55)
    if street:
        body.append(
            [
                "N3",
                street,
                _text(ship_to, "street2", errors, at="ship_to.", required=False, size=55),
            ]
        )
    city = _text(ship_to, "city", errors, at="ship_to.", required=False, size=30)
    country = _text(ship_to, "country", errors, at="ship_to.", required=False, size=3)
    if city or country:
        body.append(
            [
                "N4",
                city,
                _text(ship_to, "state", errors, at="ship_to.", required=False, size=2),
                _text(ship_to, "postcode", errors, at="ship_to.", required=False, size=15),
                country,
            ]
        )
    body.append(["N9", "CO", order])
    requested = record.get("requested_ship_date")
    if requested:
        body.append(["G62", "10", _ymd(requested, "requested_ship_date", errors)])
    scac = _text(record, "carrier_scac", errors, required=False, size=4)
    if scac:
        body.append(["W66", "PP", "U", "", "", "", "", "", "", "", scac])
    lines = record.get("lines") or []
    if not lines:
        errors.append(FieldError("lines", "a shipping order needs at least one line"))
    total = Decimal(0)
    for index, line in enumerate(lines):
        at = f"lines[{index}]"
        sku = _text(line, "sku", errors, size=48, at=at + ".")
        qty = _quantity(line.get("quantity"), f"{at}.quantity", errors)
        total += Decimal(qty) if qty else 0
        uom = _text(line, "uom", errors, required=False, size=2, at=at + ".") or "EA"
        body.append(["LX", str(line.get("line_number") or index + 1)])
        w01 = ["W01", qty, uom, "", "VN", sku]
        gtin = _text(line, "gtin", errors, required=False, size=14, at=at + ".")
        if gtin:
            w01 += ["EN", gtin]
        body.append(w01)
        description = _text(line, "description", errors, required=False, size=400, at=at + ".")
        if description:
            body.append(["G69", description[:45]])
    if errors:
        raise InvalidRecord(SYSTEM, order or None, errors, entity="shipping order")
    body.append(["W76", format(total.normalize(), "f")])
    return body


# -- 945 in ----------------------------------------------------------------------------------


def _party(segments: list[Segment], entity: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for seg in segments:
        tag = seg[0]
        if tag == "N1":
            if found:
                break
            if element(seg, 1) == entity:
                found = {
                    "entity": entity,
                    "name": element(seg, 2),
                    "id_qualifier": element(seg, 3),
                    "id_code": element(seg, 4),
                }
        elif found and tag == "N3":
            found["street"] = element(seg, 1)
            found["street2"] = element(seg, 2)
        elif found and tag == "N4":
            found.update(
                city=element(seg, 1),
                state=element(seg, 2),
                postcode=element(seg, 3),
                country=element(seg, 4),
            )
        elif found and tag not in ("N2", "PER"):
            break
    return found


def _fail(ts: TransactionSet, tag: str, message: str, element_no: int = 0) -> X12Error:
    position = next((i + 1 for i, s in enumerate(ts.segments) if s[0] == tag), 0)
    return X12Error(
        message,
        source=ts.source,
        interchange=ts.interchange.control_number,
        group=ts.group.control_number,
        set_code=ts.code,
        set_control=ts.control_number,
        segment_id=tag,
        position=position,
        element=element_no,
        code="5",
        raw=ts.raw,
    )


def _int(ts: TransactionSet, seg: Segment, index: int) -> int:
    value = element(seg, index)
    try:
        return int(Decimal(value))
    except (InvalidOperation, ValueError):
        raise _fail(ts, seg[0], f"{seg[0]}{index:02d} {value!r} is not a number", index) from None


def parse_945(ts: TransactionSet) -> dict[str, Any]:
    """A shipping advice dict; raises ``X12Error`` naming segment and element."""
    if ts.code != "945":
        raise _fail(ts, "ST", f"transaction set {ts.code} is not a 945", 1)
    body = ts.body
    w06 = next((s for s in body if s[0] == "W06"), None)
    w03 = next((s for s in body if s[0] == "W03"), None)
    if w06 is None or not element(w06, 2):
        raise _fail(ts, "W06", "W06 with the depositor order number (W0602) is required", 2)
    w27 = next((s for s in body if s[0] == "W27"), None)
    lines: list[dict[str, Any]] = []
    tracking: list[str] = []
    package = ""
    for seg in body:
        tag = seg[0]
        if tag == "LX":
            package = ""
        elif tag == "MAN" and element(seg, 1) in ("CP", "GM"):
            package = package or element(seg, 2)
            if package and package not in tracking:
                tracking.append(package)
        elif tag == "W12":
            ordered, shipped = _int(ts, seg, 2), _int(ts, seg, 3)
            ids = {element(seg, i): element(seg, i + 1) for i in range(7, len(seg) - 1, 2)}
            lines.append(
                {
                    "line_number": len(lines) + 1,
                    "status": element(seg, 1),
                    "ordered": ordered,
                    "shipped": shipped,
                    "difference": ordered - shipped,
                    "uom": element(seg, 5) or "EA",
                    "sku": ids.get("VN") or ids.get("SK") or ids.get("BP") or "",
                    "gtin": ids.get("EN") or ids.get("UP") or "",
                    "tracking_number": package,
                }
            )
    if not lines:
        raise _fail(ts, "W12", "no W12 line in the shipping advice")
    units = sum(line["shipped"] for line in lines)
    if w03 is not None and _int(ts, w03, 1) != units:
        raise _fail(ts, "W03", f"W0301 {element(w03, 1)!r} is not the sum of W1203 ({units})", 1)
    return {
        "shipment_id": element(w06, 4) or f"{element(w06, 2)}-{ts.control_number}",
        "order_number": element(w06, 2),
        "po_number": element(w06, 6),
        "ship_date": element(w06, 3),
        "carrier_scac": element(w27, 2) if w27 else "",
        "ship_to": _party(body, "ST"),
        "tracking_numbers": tracking,
        "lines": lines,
        "totals": {
            "units": units,
            "weight": element(w03, 2) if w03 else "",
            "weight_unit": element(w03, 3) if w03 else "",
            "cartons": element(w03, 6) if w03 else "",
        },
        "envelope": _envelope(ts),
    }


def _envelope(ts: TransactionSet) -> dict[str, str]:
    return {
        "interchange": ts.interchange.control_number,
        "group": ts.group.control_number,
        "set": ts.control_number,
        "sender": ts.interchange.sender_id,
    }


# -- 846 in ----------------------------------------------------------------------------------


def parse_846(ts: TransactionSet, warehouse: str) -> Iterator[dict[str, Any]]:
    """One dict per LIN item: sku, gtin, on_hand, available, uom, report id, as-of date and
    time. The set's text is cut at each ``~LIN*`` in one call and each item's few segments
    are read directly: large 846 files are mostly this loop."""
    if ts.code != "846":
        raise _fail(ts, "ST", f"transaction set {ts.code} is not an 846", 1)
    sep, term = ts.delimiters.element, ts.terminator
    chunks = ts.text.split(term + "LIN" + sep)
    report, day, hhmm = "", "", "0000"
    for line in chunks[0].split(term):
        if line.startswith("BIA" + sep):
            seg = line.split(sep)
            report, day, hhmm = element(seg, 3), element(seg, 4), element(seg, 5) or "0000"
    for chunk in chunks[1:]:
        # the usual item, LIN**VN*sku*EN*gtin~QTY*17*n*uom~QTY*33*n*uom, in two calls
        f = chunk.replace(term, sep).split(sep)
        if (
            len(f) == 13
            and f[1] == "VN"
            and f[3] == "EN"
            and f[5] == "QTY"
            and f[6] == "17"
            and f[9] == "QTY"
            and f[10] == "33"
        ):
            sku, gtin, on_hand, available, uom = f[2], f[4], f[7], f[11], f[12] or "EA"
        else:
            sku, gtin, on_hand, available, uom = _lin_item(chunk, sep, term)
        yield {
            "sku": sku,
            "gtin": gtin,
            "on_hand": on_hand,
            "available": available,
            "uom": uom,
            "report_id": report,
            "as_of_date": day,
            "as_of_time": hhmm,
            "warehouse": warehouse,
        }


def _lin_item(chunk: str, sep: str, term: str) -> tuple[str, str, str, str, str]:
    """sku, gtin, on hand, available and unit of one LIN loop (the text after ``LIN*``)."""
    parts = chunk.split(term + "QTY" + sep)  # the LIN's elements, then each QTY's
    head = parts[0]
    if term in head:  # other segments after the LIN (DTM, ...): not needed
        head = head[: head.index(term)]
    lin = head.split(sep)  # LIN01 (assigned id), then qualifier/id pairs
    ids = dict(zip(lin[1::2], lin[2::2], strict=False))
    sku = ids.get("VN") or ids.get("SK") or ids.get("BP") or ""
    gtin = ids.get("EN") or ids.get("UP") or ""
    on_hand = available = ""
    uom = "EA"
    for part in parts[1:]:
        # cut off the segments after this QTY (CTT, SE, ...)
        q = (part[: part.index(term)] if term in part else part).split(sep)
        if len(q) > 1:
            if q[0] == "17":
                on_hand = q[1]
            elif q[0] == "33":
                available = q[1]
            if len(q) > 2 and q[2]:
                uom = q[2]
    return sku, gtin, on_hand, available, uom
