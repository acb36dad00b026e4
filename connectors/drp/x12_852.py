"""X12 4010 852 Product Activity Data -> activity rows.

The parts of the published 852 read here:

- ``XQ``: XQ01 action (H notification, F final...), XQ02 the reporting date or period
  start, XQ03 the period end (absent: a one-day period);
- ``N9``: reference numbers; ``N9*DP`` (or ``IX``, ``RI``...) names the report, ``N9*IA``
  our vendor number at the distributor;
- the header ``N1`` loop: ``N1*WH`` / ``ST`` / ``SN`` / ``RL`` / ``LR`` / ``DC`` is the location the
  whole report is about (N104, else N102); ``DS``, ``BY``, ``VN``... are parties, not places;
- the ``LIN`` loop, per product: LIN02/03, 04/05... qualifier/id pairs (``VN`` / ``VP`` / ``SK``
  / ``MG`` our item, ``EN`` / ``UP`` / ``UK`` / ``UA`` its GTIN, ``BP`` / ``IN`` / ``CB`` the
  distributor's own number), ``PID*F`` a description; each ``ZA`` (ZA01 activity code such as
  QS sold, QA available, QP on order, QR received, QU returned, QO out of stock...; ZA02
  quantity; ZA03 unit) and, after it, ``SDQ`` segments splitting it by location (SDQ01 unit,
  SDQ02 id qualifier, then up to ten location/quantity pairs);
- ``CTT01``: the number of LIN loops, checked.

One row per LIN and location. A bad quantity quarantines that product's row only; a set
without XQ or with a bad reporting date, or whose CTT01 is wrong, is quarantined whole.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from connectors.drp.records import ActivityRow
from connectors.formats.x12 import Segment, TransactionSet, element

SKU_QUALIFIERS = ("VN", "VP", "SK", "MG", "VA")
GTIN_QUALIFIERS = ("EN", "UP", "UK", "UA", "EO")
BUYER_QUALIFIERS = ("BP", "IN", "CB")
LOCATION_ENTITIES = frozenset({"WH", "ST", "SN", "RL", "LR", "DC", "WD", "SF", "MA"})
REPORT_REFERENCES = ("DP", "IX", "RI", "PD", "ZZ")


class SetError(ValueError):
    """The whole transaction set is unusable (the message says where and why)."""


@dataclass
class _Item:
    number: int
    position: int
    ids: dict[str, str]
    description: str = ""
    # location ("" = the report's) -> activity code -> quantity
    figures: dict[str, dict[str, Decimal]] = field(default_factory=dict)
    uom: str = ""
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ReportHeader:
    start: date
    end: date
    report_id: str
    location: str


def _date(value: str, what: str) -> date:
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:8]))
    except ValueError as exc:
        raise SetError(f"{what}: {value!r} is not a CCYYMMDD date") from exc


@lru_cache(maxsize=4096)  # quantities repeat from item to item
def _number(value: str) -> Decimal:
    try:
        number = Decimal(value)
    except InvalidOperation as exc:
        raise ValueError(f"{value!r} is not a number") from exc
    if not number.is_finite():
        raise ValueError(f"{value!r} is not a number")
    return number


def header(tx: TransactionSet) -> ReportHeader:
    xq = next((s for s in tx.body if s[0] == "XQ"), None)
    if xq is None:
        raise SetError(f"{tx.where}: mandatory segment XQ (reporting date) missing")
    start = _date(element(xq, 2), "XQ02")
    end = _date(element(xq, 3), "XQ03") if element(xq, 3) else start
    if end < start:
        raise SetError(f"{tx.where}: XQ03 {end} is before XQ02 {start}")
    refs = {element(s, 1): element(s, 2) for s in tx.body if s[0] == "N9"}
    report_id = next((refs[q] for q in REPORT_REFERENCES if refs.get(q)), "")
    location = ""
    for seg in tx.body:
        if seg[0] == "LIN":
            break
        if seg[0] == "N1" and element(seg, 1) in LOCATION_ENTITIES:
            location = element(seg, 4) or element(seg, 2)
    return ReportHeader(start, end, report_id or f"{tx.group.control_number}-{tx.control_number}",
                        location)  # fmt: skip


def _items(tx: TransactionSet) -> list[_Item]:
    items: list[_Item] = []
    za_code = ""
    for position, seg in enumerate(tx.body, start=2):  # ST is segment 1
        tag = seg[0]
        if tag == "LIN":
            ids = _ids(seg)
            items.append(_Item(len(items) + 1, position, ids))
            za_code = ""
        elif not items:
            continue
        elif tag == "PID" and element(seg, 1) == "F":
            items[-1].description = element(seg, 5)
        elif tag == "ZA":
            za_code = _za(items[-1], seg, position)
        elif tag == "SDQ" and za_code:
            _sdq(items[-1], seg, position, za_code)
    return items


def _ids(seg: Segment) -> dict[str, str]:
    ids: dict[str, str] = {}
    for index in range(2, len(seg) - 1, 2):
        if seg[index] and seg[index + 1]:
            ids.setdefault(seg[index], seg[index + 1])
    return ids


def _add(item: _Item, location: str, code: str, quantity: Decimal) -> None:
    figures = item.figures.setdefault(location, {})
    figures[code] = figures.get(code, Decimal(0)) + quantity


def _za(item: _Item, seg: Segment, position: int) -> str:
    code = element(seg, 1)
    if not code:
        item.problems.append(f"segment {position} (ZA) element ZA01: activity code missing")
        return ""
    item.uom = item.uom or element(seg, 3)
    if element(seg, 2):
        try:
            _add(item, "", code, _number(element(seg, 2)))
        except ValueError as exc:
            item.problems.append(f"segment {position} (ZA) element ZA02: {exc}")
    return code


def _sdq(item: _Item, seg: Segment, position: int, code: str) -> None:
    item.uom = item.uom or element(seg, 1)
    for index in range(3, len(seg) - 1, 2):
        location, quantity = element(seg, index), element(seg, index + 1)
        if not location and not quantity:
            continue
        try:
            _add(item, location, code, _number(quantity))
        except ValueError as exc:
            item.problems.append(f"segment {position} (SDQ) element SDQ{index + 1:02d}: {exc}")
    # SDQ splits the ZA by location: its ZA02 (when given) was the total of the split
    item.figures.get("", {}).pop(code, None)
    if not item.figures.get("", True):
        item.figures.pop("", None)


@dataclass(frozen=True)
class RowError:
    where: str
    reason: str
    raw: bytes


def read_852(
    tx: TransactionSet, distributor: str, file: str, default_location: str = ""
) -> Iterator[ActivityRow | RowError]:
    """The rows of one 852; raises ``SetError`` when the set as a whole is unusable."""
    try:
        head = header(tx)
    except SetError as exc:
        if str(exc).startswith(tx.where):
            raise
        raise SetError(f"{tx.where}: {exc}") from exc
    items = _items(tx)
    ctt = next((s for s in tx.body if s[0] == "CTT"), None)
    if ctt is not None and element(ctt, 1) and element(ctt, 1) != str(len(items)):
        raise SetError(
            f"{tx.where}: CTT01 says {element(ctt, 1)!r} LIN items, counted {len(items)}"
        )
    for item in items:
        where = f"{tx.where}, LIN {item.number} (segment {item.position})"
        sku = next((item.ids[q] for q in SKU_QUALIFIERS if q in item.ids), "")
        gtin = next((item.ids[q] for q in GTIN_QUALIFIERS if q in item.ids), "")
        buyer = next((item.ids[q] for q in BUYER_QUALIFIERS if q in item.ids), "")
        problems = list(item.problems)
        if not (sku or gtin or buyer):
            problems.append("LIN has no product id (VN, EN, UP, BP...)")
        if problems:
            yield RowError(where, f"{where}: " + "; ".join(problems), _lin_raw(tx, item))
            continue
        for location, activity in sorted(item.figures.items()):
            yield ActivityRow(
                distributor=distributor,
                format="852",
                file=file,
                position=f"set {tx.control_number} LIN {item.number}",
                sku=sku,
                gtin=gtin,
                buyer_item=buyer,
                period_start=head.start,
                period_end=head.end,
                activity=activity,
                location=location or head.location or default_location,
                description=item.description,
                uom=(item.uom or "EA").upper(),
                report_id=head.report_id,
            )


def _lin_raw(tx: TransactionSet, item: _Item) -> bytes:
    """The segments of one LIN loop as they came."""
    end = next(
        (i for i in range(item.position, len(tx.lines)) if tx.lines[i].startswith(("LIN", "CTT"))),
        len(tx.lines) - 1,
    )
    term = tx.delimiters.segment
    return (term.join(tx.lines[item.position - 1 : end]) + term).encode("utf-8", "replace")
