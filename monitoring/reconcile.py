"""Reconciliation: what a system holds (keys and versions of one stream) against the hub's
xrefs for one entity. Reports are kept in the hub (``reconciliation_reports``).

The reading of the system happens where connectors live (``tandem reconcile``); this module
only compares and records, so monitoring never drives a connector.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from hub.schema import CanonicalRecord, ReconciliationReport, Xref
from hub.store import Hub
from hub.types import utcnow
from monitoring.tracking import Page

MAX_ITEMS = 1000
IN_STEP, DRIFT, FAILED = "in_step", "drift", "failed"


def checksum(items: Mapping[str, str | None]) -> str:
    """Order-independent digest of keys and versions (equal sets give equal sums)."""
    digest = hashlib.sha256()
    for key in sorted(items):
        digest.update(f"{key}\0{items[key] or ''}\n".encode())
    return digest.hexdigest()


def hub_items(hub: Hub, system: str, entity: str) -> dict[str, tuple[str, str | None]]:
    """external id -> (canonical id, version) of every xref of ``system`` and ``entity``."""
    with hub.begin() as hs:
        rows = hs.session.execute(
            select(Xref.external_id, Xref.canonical_id, Xref.external_version).where(
                Xref.system == system, Xref.entity == entity
            )
        )
        return {ext: (cid, version) for ext, cid, version in rows}


@dataclass
class Comparison:
    system_count: int
    hub_count: int
    system_checksum: str
    hub_checksum: str
    items: list[dict[str, Any]] = field(default_factory=list)
    missing_in_hub: int = 0
    missing_in_system: int = 0
    version_drift: int = 0

    @property
    def status(self) -> str:
        return (
            DRIFT
            if self.missing_in_hub or self.missing_in_system or self.version_drift
            else (IN_STEP)
        )


def compare(
    system_side: Mapping[str, str | None], hub_side: Mapping[str, tuple[str, str | None]]
) -> Comparison:
    """Missing in the hub, missing in the system, and version drift (both sides know a
    version and they differ)."""
    result = Comparison(
        len(system_side),
        len(hub_side),
        checksum(system_side),
        checksum({k: v for k, (_c, v) in hub_side.items()}),
    )

    def note(kind: str, key: str, canonical: str | None, sys_v: Any, hub_v: Any) -> None:
        if len(result.items) < MAX_ITEMS:
            result.items.append(
                {
                    "kind": kind,
                    "external_id": key,
                    "canonical_id": canonical,
                    "system_version": sys_v,
                    "hub_version": hub_v,
                }
            )

    for key in sorted(system_side):
        version = system_side[key]
        if key not in hub_side:
            result.missing_in_hub += 1
            note("missing_in_hub", key, None, version, None)
            continue
        canonical, hub_version = hub_side[key]
        if version is not None and hub_version is not None and version != hub_version:
            result.version_drift += 1
            note("version_drift", key, canonical, version, hub_version)
    for key in sorted(set(hub_side) - set(system_side)):
        result.missing_in_system += 1
        note("missing_in_system", key, hub_side[key][0], None, hub_side[key][1])
    return result


def save_report(
    hub: Hub,
    *,
    system: str,
    entity: str,
    stream: str | None,
    comparison: Comparison | None,
    actor: str,
    error: str | None = None,
) -> int:
    """Keep one report (a failed read is a report too, with its error) and log an event."""
    now = utcnow()
    row = ReconciliationReport(
        system=system,
        entity=entity,
        stream=stream,
        started_at=now,
        finished_at=now,
        status=FAILED if comparison is None else comparison.status,
        error=error,
        actor=actor,
        items="[]",
    )
    if comparison is not None:
        row.system_count, row.hub_count = comparison.system_count, comparison.hub_count
        row.system_checksum, row.hub_checksum = comparison.system_checksum, comparison.hub_checksum
        row.missing_in_hub = comparison.missing_in_hub
        row.missing_in_system = comparison.missing_in_system
        row.version_drift = comparison.version_drift
        row.items = json.dumps(comparison.items)
    with hub.begin() as hs:
        hs.session.add(row)
        hs.session.flush()
        hs.event(
            "reconciled",
            system=system,
            actor=actor,
            detail=f"{entity}: {row.status}" + (f" ({error})" if error else f", report {row.id}"),
        )
        return row.id


def reconcile(
    hub: Hub,
    *,
    system: str,
    entity: str,
    stream: str | None,
    system_side: Mapping[str, str | None],
    actor: str,
    hub_system: str | None = None,
) -> tuple[int, Comparison]:
    """Compare and keep the report; ``hub_system`` when the hub's xrefs name the system
    differently (a role such as ``erp``)."""
    comparison = compare(system_side, hub_items(hub, hub_system or system, entity))
    report_id = save_report(
        hub, system=system, entity=entity, stream=stream, comparison=comparison, actor=actor
    )
    return report_id, comparison


def latest_reports(hub: Hub, *, limit: int = 50, offset: int = 0) -> Page[ReconciliationReport]:
    with hub.begin() as hs:
        rows = list(
            hs.session.scalars(
                select(ReconciliationReport)
                .order_by(ReconciliationReport.id.desc())
                .limit(limit + 1)
                .offset(offset)
            )
        )
    return Page(rows[:limit], offset, limit, has_next=len(rows) > limit)


def get_report(
    hub: Hub, report_id: int
) -> tuple[ReconciliationReport, list[dict[str, Any]]] | None:
    with hub.begin() as hs:
        row = hs.session.get(ReconciliationReport, report_id)
    if row is None:
        return None
    return row, list(json.loads(row.items))


@dataclass(frozen=True)
class HubInventory:
    system: str
    entity: str
    xrefs: int


def hub_inventory(hub: Hub) -> list[HubInventory]:
    """xref counts per system and entity (one grouped pass over the xref table)."""
    with hub.begin() as hs:
        rows = hs.session.execute(
            select(Xref.system, Xref.entity, func.count())
            .group_by(Xref.system, Xref.entity)
            .order_by(Xref.system, Xref.entity)
        )
        return [HubInventory(s, e, int(n)) for s, e, n in rows]


def record_counts(hub: Hub) -> dict[str, tuple[int, str]]:
    """Canonical records per entity with a checksum of their content hashes."""
    found: dict[str, tuple[int, str]] = {}
    with hub.begin() as hs:
        entities: Iterable[str] = hs.session.scalars(select(CanonicalRecord.entity).distinct())
        for entity in list(entities):
            digest = hashlib.sha256()
            count = 0
            for cid, content in hs.session.execute(
                select(CanonicalRecord.id, CanonicalRecord.content_hash)
                .where(CanonicalRecord.entity == entity)
                .order_by(CanonicalRecord.id)
            ):
                digest.update(f"{cid}\0{content}\n".encode())
                count += 1
            found[entity] = (count, digest.hexdigest())
    return found
