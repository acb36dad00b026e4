"""Customer 360: one customer's records in every system, the golden record with the source
of each field, and the timeline of its orders, shipments, invoices and cases."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from hub.schema import CanonicalRecord, SourceView, Xref
from hub.store import Hub
from monitoring.masking import Masker

TIMELINE_ENTITIES = ("sales_order", "invoice", "service_request", "campaign_response", "lead")
TIMELINE_LIMIT = 200


@dataclass(frozen=True)
class GoldenField:
    name: str
    value: str  # masked where personal
    system: str
    at: str
    rule: str


@dataclass(frozen=True)
class TimelineItem:
    at: datetime
    entity: str
    canonical_id: str
    label: str
    status: str
    source_system: str


@dataclass
class Customer360:
    record: CanonicalRecord
    golden: list[GoldenField]
    xrefs: list[Xref]
    views: dict[str, str]  # system -> masked payload of what it last said
    timeline: list[TimelineItem] = field(default_factory=list)


def find_customer_id(hub: Hub, key: str) -> str | None:
    """A canonical customer id from itself or from any system's customer id."""
    key = key.strip()
    with hub.begin() as hs:
        row = hs.session.get(CanonicalRecord, key)
        if row is not None and row.entity == "customer":
            return row.id
        return hs.session.scalar(
            select(Xref.canonical_id)
            .where(Xref.entity == "customer", Xref.external_id == key)
            .order_by(Xref.id)
            .limit(1)
        )


def _label(entity: str, payload: dict[str, Any]) -> str:
    for key in ("order_number", "invoice_number", "shipment_number", "case_number", "campaign"):
        if payload.get(key):
            return f"{entity.replace('_', ' ')} {payload[key]}"
    return entity.replace("_", " ")


def _when(row: CanonicalRecord, payload: dict[str, Any]) -> datetime:
    for key in ("ordered_at", "shipped_at", "opened_at", "occurred_at"):
        value = payload.get(key)
        if isinstance(value, str):
            try:
                return datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                continue
    return row.source_updated_at or row.created_at


def _related(hub: Hub, customer_id: str) -> list[CanonicalRecord]:
    needle = f'%"customer_id":"{customer_id}"%'
    with hub.begin() as hs:
        found = list(
            hs.session.scalars(
                select(CanonicalRecord)
                .where(
                    CanonicalRecord.entity.in_(TIMELINE_ENTITIES),
                    CanonicalRecord.payload.like(needle),
                )
                .limit(TIMELINE_LIMIT)
            )
        )
        numbers = [
            json.loads(r.payload).get("order_number") for r in found if r.entity == "sales_order"
        ]
        for number in [n for n in numbers if n]:
            found += hs.session.scalars(
                select(CanonicalRecord)
                .where(
                    CanonicalRecord.entity == "shipment",
                    CanonicalRecord.payload.like(f'%"order_number":{json.dumps(number)}%'),
                )
                .limit(20)
            )
    return found


def customer_360(hub: Hub, customer_id: str, masker: Masker) -> Customer360 | None:
    with hub.begin() as hs:
        record = hs.session.get(CanonicalRecord, customer_id)
        if record is None:
            return None
        xrefs = list(
            hs.session.scalars(
                select(Xref).where(Xref.canonical_id == customer_id).order_by(Xref.system)
            )
        )
        views = list(
            hs.session.scalars(select(SourceView).where(SourceView.canonical_id == customer_id))
        )
    payload = json.loads(record.payload)
    sources = json.loads(record.field_sources) if record.field_sources else {}
    golden = []
    for name, value in payload.items():
        if value is None or value in ([], {}) or name in ("id", "updated_at", "schema_version"):
            continue
        src = sources.get(name) or {}
        shown = masker.mask_value(name, value) if masker.is_personal(name) else masker.mask(value)
        golden.append(
            GoldenField(
                name,
                shown if isinstance(shown, str) else json.dumps(shown, ensure_ascii=False),
                str(src.get("system") or record.source_system),
                str(src.get("at") or ""),
                str(src.get("rule") or ("" if src else "last write")),
            )
        )
    result = Customer360(
        record, golden, xrefs, {v.system: masker.mask_text(v.payload) for v in views}
    )
    for row in _related(hub, customer_id):
        body = json.loads(row.payload)
        result.timeline.append(
            TimelineItem(
                _when(row, body),
                row.entity,
                row.id,
                _label(row.entity, body),
                str(body.get("status") or body.get("payment_status") or ""),
                row.source_system,
            )
        )
    result.timeline.sort(key=lambda t: t.at, reverse=True)
    return result
