"""X12 4010 850 Purchase Order -> one record per purchase order.

Read: ``BEG`` (BEG01 purpose, BEG02 type, BEG03 PO number, BEG04 release, BEG05 PO date),
``CUR`` (CUR02 currency), ``REF`` (qualifier -> value), ``DTM`` (qualifier -> date: 002
delivery requested, 010 ship requested...), the ``N1`` loops with ``N2``/``N3``/``N4`` (BY
buyer, ST ship-to, BT bill-to...), ``PO1`` lines (PO101 line number, PO102 quantity, PO103
unit, PO104 unit price, PO105 price basis, then qualifier/id pairs: VN/VP/SK our item,
EN/UP/UK its GTIN, BP/IN the buyer's number) each with its ``PID*F`` description, and ``CTT``
(CTT01 line count, checked; CTT02 quantity hash, checked when given).

Any problem quarantines the whole purchase order: an order is taken complete or not at all.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.drp.x12_852 import BUYER_QUALIFIERS, GTIN_QUALIFIERS, SKU_QUALIFIERS, SetError
from connectors.formats.x12 import Segment, TransactionSet, element

_PARTY_CONTINUATIONS = frozenset({"N2", "N3", "N4", "PER", "REF"})


def _date(seg: Segment, index: int) -> str:
    value = element(seg, index)
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:8])).isoformat()
    except ValueError as exc:
        raise SetError(f"{seg[0]}{index:02d}: {value!r} is not a CCYYMMDD date") from exc


def _decimal(seg: Segment, index: int, position: int) -> Decimal:
    value = element(seg, index)
    try:
        number = Decimal(value)
    except InvalidOperation as exc:
        raise SetError(
            f"segment {position} ({seg[0]}{index:02d}): {value!r} is not a number"
        ) from exc
    if not number.is_finite():
        raise SetError(f"segment {position} ({seg[0]}{index:02d}): {value!r} is not a number")
    return number


def _text(number: Decimal) -> str:
    text = format(number.normalize(), "f")
    return "0" if text == "-0" else text


def _parties(body: list[Segment]) -> list[dict[str, str]]:
    parties: list[dict[str, str]] = []
    current: dict[str, str] | None = None
    for seg in body:
        tag = seg[0]
        if tag == "N1":
            current = {
                "entity": element(seg, 1),
                "name": element(seg, 2),
                "id_qualifier": element(seg, 3),
                "id": element(seg, 4),
            }
            parties.append(current)
        elif current is not None and tag in _PARTY_CONTINUATIONS:
            if tag == "N2":
                current["name2"] = element(seg, 1)
            elif tag == "N3":
                key = "street2" if "street" in current else "street"
                current[key] = element(seg, 1)
                if element(seg, 2):
                    current["street2"] = element(seg, 2)
            elif tag == "N4":
                current.update(
                    city=element(seg, 1),
                    state=element(seg, 2),
                    postcode=element(seg, 3),
                    country=element(seg, 4),
                )
        else:
            current = None
    return [{k: v for k, v in p.items() if v} for p in parties]


def _line(seg: Segment, position: int, number: int) -> dict[str, Any]:
    ids: dict[str, str] = {}
    for index in range(6, len(seg) - 1, 2):
        if seg[index] and seg[index + 1]:
            ids.setdefault(seg[index], seg[index + 1])
    quantity = _decimal(seg, 2, position)
    if quantity <= 0:
        raise SetError(f"segment {position} (PO102): quantity {quantity} must be above zero")
    sku = next((ids[q] for q in SKU_QUALIFIERS if q in ids), "")
    gtin = next((ids[q] for q in GTIN_QUALIFIERS if q in ids), "")
    buyer = next((ids[q] for q in BUYER_QUALIFIERS if q in ids), "")
    if not (sku or gtin or buyer):
        raise SetError(f"segment {position} (PO1): no product id (VN, EN, UP, BP...)")
    price = _decimal(seg, 4, position) if element(seg, 4) else None
    return {
        "line_number": element(seg, 1) or str(number),
        "quantity": _text(quantity),
        "uom": element(seg, 3) or "EA",
        "unit_price": None if price is None else _text(price),
        "price_basis": element(seg, 5) or None,
        "sku": sku or None,
        "gtin": gtin or None,
        "buyer_item": buyer or None,
        "ids": ids,
        "description": None,
    }


def read_850(tx: TransactionSet, distributor: str, file: str) -> dict[str, Any]:
    """The purchase order as a JSON-friendly record; ``SetError`` when it is unusable."""
    try:
        return _read(tx, distributor, file)
    except SetError as exc:
        raise SetError(f"{tx.where}: {exc}") from exc


def _read(tx: TransactionSet, distributor: str, file: str) -> dict[str, Any]:
    body = tx.body
    beg = next((s for s in body if s[0] == "BEG"), None)
    if beg is None:
        raise SetError("mandatory segment BEG missing")
    if not element(beg, 3):
        raise SetError("BEG03: purchase order number missing")
    lines: list[dict[str, Any]] = []
    refs: dict[str, str] = {}
    dates: dict[str, str] = {}
    currency = ""
    ctt: Segment | None = None
    for position, seg in enumerate(body, start=2):
        tag = seg[0]
        if tag == "PO1":
            lines.append(_line(seg, position, len(lines) + 1))
        elif tag == "PID" and lines and element(seg, 1) == "F":
            lines[-1]["description"] = element(seg, 5) or None
        elif tag == "CUR" and not currency:
            currency = element(seg, 2)
        elif tag == "REF" and not lines:
            refs.setdefault(element(seg, 1), element(seg, 2) or element(seg, 3))
        elif tag == "DTM" and element(seg, 2):
            dates.setdefault(element(seg, 1), _date(seg, 2))
        elif tag == "CTT":
            ctt = seg
    if not lines:
        raise SetError("no PO1 line items")
    if ctt is not None:
        if element(ctt, 1) and element(ctt, 1) != str(len(lines)):
            raise SetError(f"CTT01 says {element(ctt, 1)!r} PO1 lines, counted {len(lines)}")
        total = sum((Decimal(line["quantity"]) for line in lines), Decimal(0))
        if element(ctt, 2) and _decimal(ctt, 2, 0) != total:
            raise SetError(f"CTT02 quantity hash {element(ctt, 2)!r}, the lines add up to {total}")
    parties = _parties(body)
    by_entity = {p["entity"]: p for p in reversed(parties) if p.get("entity")}
    record: dict[str, Any] = {
        "distributor": distributor,
        "file": file,
        "interchange": tx.interchange.control_number,
        "group": tx.group.control_number,
        "set": tx.control_number,
        "sender_id": tx.interchange.sender_id.strip(),
        "purpose": element(beg, 1),
        "order_type": element(beg, 2),
        "po_number": element(beg, 3),
        "release": element(beg, 4) or None,
        "po_date": _date(beg, 5),
        "currency": currency or None,
        "references": refs,
        "dates": dates,
        "requested_delivery": dates.get("002") or dates.get("010"),
        "parties": parties,
        "buyer": by_entity.get("BY"),
        "ship_to": by_entity.get("ST"),
        "bill_to": by_entity.get("BT"),
        "lines": lines,
    }
    return record


def order_version(record: dict[str, Any]) -> str:
    """A digest of what the order says (not where or when it was sent)."""
    content = {k: v for k, v in record.items() if k not in ("file", "interchange", "group", "set")}
    text = json.dumps(content, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]
