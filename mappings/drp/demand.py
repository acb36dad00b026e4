"""The demand signal a distributor's sell-through row gives (canonical ``DemandSignal``).

A product activity row (X12 852 or CSV report, stream ``sell_through``) says how much of our
product a distributor sold, got back, received and still has at one location over one
period: one ``canonical.models.DemandSignal``. The row's key (the connector's record key)
names the record in errors; the hub keeps it as the xref, not in the signal.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError

from canonical.errors import FieldError, InvalidRecord
from canonical.models import DemandSignal

# DemandSignal field -> the X12 activity codes (ZA01) that give it, in order of preference
MEASURES: dict[str, tuple[str, ...]] = {
    "sold": ("QS", "Q1", "TS"),
    "returned": ("QU", "Q2"),
    "received": ("QR",),
    "on_hand": ("OH", "QA", "QE"),
    "available": ("QA",),
    "on_order": ("QP",),
    "in_transit": ("QI",),
    "lost_sales": ("LS",),
}


def _measure(activity: Mapping[str, Any], codes: tuple[str, ...]) -> tuple[Decimal | None, str]:
    for code in codes:
        if activity.get(code) not in (None, ""):
            try:
                return Decimal(str(activity[code])), code
            except InvalidOperation:
                raise ValueError(f"activity.{code}: {activity[code]!r} is not a number") from None
    return None, ""


def demand_signal(record: Mapping[str, Any], *, key: str) -> DemandSignal:
    """The demand signal of one ``sell_through`` record (``RawRecord.data``, its ``key``);
    ``InvalidRecord`` naming every bad field."""
    activity = record.get("activity") or {}
    values: dict[str, Any] = {}
    errors: list[FieldError] = []
    for name, codes in MEASURES.items():
        try:
            values[name] = _measure(activity, codes)[0]
        except ValueError as exc:
            errors.append(FieldError(str(exc).partition(":")[0], str(exc).partition(": ")[2]))
    distributor = str(record.get("distributor") or "")
    location = str(record.get("location") or "")
    sku = record.get("sku") or (f"gtin:{record['gtin']}" if record.get("gtin") else None)
    sku = sku or (f"buyer:{record['buyer_item']}" if record.get("buyer_item") else None)
    values.update(
        distributor=distributor,
        location=f"{distributor}/{location}" if location else distributor,
        sku=sku,
        gtin=record.get("gtin"),
        period_start=record.get("period_start"),
        period_end=record.get("period_end"),
        unit_of_measure=record.get("uom") or "EA",
        report_id=record.get("report_id"),
        source_format=record.get("format"),
    )
    if not errors:
        try:
            return DemandSignal.model_validate(values)
        except ValidationError as exc:
            errors = [
                FieldError(".".join(str(p) for p in e["loc"]), e["msg"]) for e in exc.errors()
            ]
    raise InvalidRecord("drp", key, errors, entity="demand_signal")
