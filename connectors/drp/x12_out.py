"""855 Purchase Order Acknowledgment and 810 Invoice bodies (X12 4010) from plain records.

The records are what ``mappings/drp/po_ack.from_canonical.yaml`` and
``invoice.from_canonical.yaml`` make of canonical orders and invoices::

    855: {"po_number", "po_date", "ack_type" (AC, AD, AK, RJ...), "purpose" ("00"),
          "ack_date", "currency", "reason" (optional note), "lines": [{"line_number",
          "sku", "gtin", "quantity", "uom", "unit_price", "status" (IA, IB, IR, IQ...),
          "ack_quantity", "ship_date"}]}
    810: {"invoice_number", "invoice_date", "po_number", "po_date", "currency",
          "lines": [{"line_number", "sku", "gtin", "quantity", "uom", "unit_price"}],
          "total", "tax"}

855: BAK (purpose, type, PO number, PO date, BAK09 acknowledgment date), CUR, a ``reason``
(why the order is rejected) as N9*L1 + MSG segments of 264 characters, PO1 per line
(quantity ordered, unit, unit price, PE, VN sku, EN gtin) followed by ACK (line status,
quantity, unit, 068 current scheduled ship date), CTT (lines, quantity hash).
810: BIG (invoice date, number, PO date, PO number), CUR, IT1 per line (quantity invoiced,
unit, unit price, PE, VN, EN), TDS (total in cents: two implied decimals), TXI (tax, when
given), CTT (lines). Every problem of a record is reported at once, naming the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from canonical.errors import FieldError, InvalidRecord

Body = list[list[str]]
ACK_TYPES = frozenset(
    {"AC", "AD", "AE", "AH", "AK", "AP", "AT", "NA", "RD", "RF", "RJ", "RO", "ZZ"}
)
LINE_STATUSES = frozenset({"AC", "AR", "BP", "DR", "IA", "IB", "IC", "ID", "IF", "IP", "IQ",
                           "IR", "IS", "IW", "R1", "R2", "SP"})  # fmt: skip


class _Checker:
    def __init__(self, what: str, record: Mapping[str, Any]) -> None:
        self.what = what
        self.record = record
        self.errors: list[FieldError] = []

    def text(self, path: str, value: Any, *, required: bool = True, max_len: int = 80) -> str:
        text = "" if value is None else str(value).strip()
        if required and not text:
            self.errors.append(FieldError(path, "is required"))
        elif len(text) > max_len:
            self.errors.append(FieldError(path, f"is longer than {max_len} characters"))
        return text

    def day(self, path: str, value: Any, *, required: bool = True) -> str:
        if value in (None, ""):
            if required:
                self.errors.append(FieldError(path, "is required"))
            return ""
        try:
            return date.fromisoformat(str(value)[:10]).strftime("%Y%m%d")
        except ValueError:
            self.errors.append(FieldError(path, f"{value!r} is not a date (YYYY-MM-DD)"))
            return ""

    def number(
        self, path: str, value: Any, *, required: bool = True, positive: bool = False
    ) -> Decimal | None:
        if value in (None, ""):
            if required:
                self.errors.append(FieldError(path, "is required"))
            return None
        if isinstance(value, float):
            self.errors.append(FieldError(path, "a float is not exact; give text or a Decimal"))
            return None
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            self.errors.append(FieldError(path, f"{value!r} is not a number"))
            return None
        if not number.is_finite() or (positive and number <= 0):
            self.errors.append(FieldError(path, f"{value!r} must be a number above zero"))
            return None
        return number

    def code(self, path: str, value: Any, allowed: frozenset[str], default: str) -> str:
        text = str(value or default).strip().upper()
        if text not in allowed:
            self.errors.append(FieldError(path, f"{text!r} is not one of {sorted(allowed)}"))
        return text

    def done(self, record_id: str) -> None:
        if self.errors:
            raise InvalidRecord("drp", record_id or None, self.errors, entity=self.what)


def x12_number(value: Decimal) -> str:
    """An X12 R/N value: no exponent, no trailing zeros."""
    text = format(value.normalize(), "f")
    return "0" if text == "-0" else text


def _lines(check: _Checker, record: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    lines = record.get("lines")
    if not isinstance(lines, list | tuple) or not lines:
        check.errors.append(FieldError("lines", "at least one line is required"))
        return []
    good: list[Mapping[str, Any]] = []
    for index, line in enumerate(lines):
        if not isinstance(line, Mapping):
            check.errors.append(FieldError(f"lines[{index}]", "must be an object"))
        else:
            good.append(line)
    return good


def _item(check: _Checker, tag: str, index: int, line: Mapping[str, Any]) -> list[str]:
    path = f"lines[{index}]"
    number = check.text(f"{path}.line_number", line.get("line_number") or index + 1, max_len=20)
    quantity = check.number(f"{path}.quantity", line.get("quantity"), positive=True)
    uom = check.text(f"{path}.uom", line.get("uom") or "EA", max_len=2).upper()
    price = check.number(f"{path}.unit_price", line.get("unit_price"), required=tag == "IT1")
    sku = check.text(f"{path}.sku", line.get("sku"), required=not line.get("gtin"), max_len=48)
    gtin = check.text(f"{path}.gtin", line.get("gtin"), required=False, max_len=14)
    seg = [tag, number, x12_number(quantity) if quantity is not None else "", uom]
    seg += [x12_number(price), "PE"] if price is not None else ["", ""]
    if sku:
        seg += ["VN", sku]
    if gtin:
        seg += ["EN", gtin]
    return seg


def build_855(record: Mapping[str, Any]) -> Body:
    """The 855 body (ST/SE excluded); ``InvalidRecord`` naming every bad field."""
    check = _Checker("po_ack", record)
    po_number = check.text("po_number", record.get("po_number"), max_len=22)
    po_date = check.day("po_date", record.get("po_date"))
    ack_type = check.code("ack_type", record.get("ack_type"), ACK_TYPES, "AD")
    purpose = check.text("purpose", record.get("purpose") or "00", max_len=2)
    ack_date = check.day("ack_date", record.get("ack_date"), required=False)
    currency = check.text("currency", record.get("currency"), required=False, max_len=3)
    body: Body = [["BAK", purpose, ack_type, po_number, po_date, "", "", "", "", ack_date]]
    if currency:
        body.append(["CUR", "SE", currency.upper()])
    reason = check.text("reason", record.get("reason"), required=False, max_len=264 * 10)
    if reason:
        body.append(["N9", "L1", "REASON"])
        body += [["MSG", reason[at : at + 264]] for at in range(0, len(reason), 264)]
    hash_total = Decimal(0)
    lines = _lines(check, record)
    for index, line in enumerate(lines):
        body.append(_item(check, "PO1", index, line))
        path = f"lines[{index}]"
        status = check.code(f"{path}.status", line.get("status"), LINE_STATUSES, "IA")
        quantity = line.get("ack_quantity", line.get("quantity"))
        acked = check.number(f"{path}.ack_quantity", quantity)
        uom = str(line.get("uom") or "EA").upper()
        ship = check.day(f"{path}.ship_date", line.get("ship_date"), required=False)
        ack = ["ACK", status, x12_number(acked) if acked is not None else "", uom]
        body.append(ack + (["068", ship] if ship else []))
        hash_total += acked or 0
    body.append(["CTT", str(len(lines)), x12_number(hash_total)])
    check.done(po_number)
    return body


def build_810(record: Mapping[str, Any]) -> Body:
    """The 810 body (ST/SE excluded); ``InvalidRecord`` naming every bad field."""
    check = _Checker("invoice", record)
    invoice_number = check.text("invoice_number", record.get("invoice_number"), max_len=22)
    invoice_date = check.day("invoice_date", record.get("invoice_date"))
    po_number = check.text("po_number", record.get("po_number"), max_len=22)
    po_date = check.day("po_date", record.get("po_date"), required=False)
    currency = check.text("currency", record.get("currency"), required=False, max_len=3)
    total = check.number("total", record.get("total"))
    tax = check.number("tax", record.get("tax"), required=False)
    body: Body = [["BIG", invoice_date, invoice_number, po_date, po_number]]
    if currency:
        body.append(["CUR", "SE", currency.upper()])
    lines = _lines(check, record)
    for index, line in enumerate(lines):
        body.append(_item(check, "IT1", index, line))
    if total is not None:
        cents = total * 100
        if cents != cents.to_integral_value():
            check.errors.append(FieldError("total", f"{total} has more than two decimals"))
        body.append(["TDS", str(int(cents.to_integral_value()))])
    if tax is not None:
        body.append(["TXI", "VA", x12_number(tax)])
    body.append(["CTT", str(len(lines))])
    check.done(invoice_number)
    return body
