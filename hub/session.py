"""One transaction's view of the hub: xref, canonical records, deliveries, inbox, cursors, log.

A flow does everything one message causes (records, xref, queued deliveries, inbox status,
events) inside one ``HubSession``, so it commits together or not at all.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from canonical.models import Entity, Record
from hub.schema import (
    CanonicalRecord,
    Cursor,
    Delivery,
    DeliveryStatus,
    Event,
    InboxMessage,
    InboxStatus,
    Xref,
)
from hub.types import utcnow

_ID_PREFIX = {
    Entity.CUSTOMER: "cus",
    Entity.PRODUCT: "prd",
    Entity.SALES_ORDER: "ord",
    Entity.SHIPMENT: "shp",
    Entity.INVENTORY_LEVEL: "inv",
    Entity.INVOICE: "bil",
    Entity.SERVICE_REQUEST: "svc",
    Entity.DEMAND_SIGNAL: "dmd",
    Entity.LEAD: "led",
    Entity.CAMPAIGN_RESPONSE: "cmp",
}
_HASH_EXCLUDE = {"id", "updated_at"}
T = TypeVar("T")


def skip_locked(stmt: Select[T], hs: HubSession) -> Select[T]:
    """Row locks that concurrent claimers skip (PostgreSQL, MariaDB); SQLite's write lock
    already serialises claimers, taken by BEGIN IMMEDIATE."""
    if hs.session.get_bind().dialect.name == "sqlite":
        return stmt
    return stmt.with_for_update(skip_locked=True)


def new_canonical_id(entity: Entity) -> str:
    return f"{_ID_PREFIX[entity]}_{uuid.uuid4().hex}"


def content_hash(record: Record) -> str:
    """Hash of what a record *says*: ids and change stamps excluded, so unchanged means equal."""
    body = record.model_dump_json(exclude=_HASH_EXCLUDE)
    return hashlib.sha256(body.encode()).hexdigest()


@dataclass(frozen=True)
class UpsertOutcome:
    canonical_id: str
    version: int
    created: bool
    changed: bool
    stale: bool  # an older update than the one the hub holds: not applied


class HubSession:
    """One transaction's view of the hub. Created by ``Hub.begin()``."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # --- cross references --------------------------------------------------------------

    def resolve(self, entity: Entity, system: str, external_id: str) -> str | None:
        stmt = select(Xref.canonical_id).where(
            Xref.system == system, Xref.entity == entity, Xref.external_id == external_id
        )
        return self.session.scalar(stmt)

    def external_id(self, entity: Entity, canonical_id: str, system: str) -> str | None:
        stmt = select(Xref.external_id).where(
            Xref.canonical_id == canonical_id, Xref.system == system, Xref.entity == entity
        )
        return self.session.scalar(stmt.order_by(Xref.id).limit(1))

    def link(
        self,
        entity: Entity,
        canonical_id: str,
        system: str,
        external_id: str,
        version: str | None = None,
    ) -> bool:
        """Tie an external id to a canonical id (idempotent; the version is refreshed)."""
        existing = self.session.scalar(
            select(Xref).where(
                Xref.system == system, Xref.entity == entity, Xref.external_id == external_id
            )
        )
        if existing is None:
            self.session.add(
                Xref(
                    entity=entity,
                    canonical_id=canonical_id,
                    system=system,
                    external_id=external_id,
                    external_version=version,
                )
            )
        elif existing.canonical_id != canonical_id:
            # Two canonical records claim one external record: identity resolution must
            # decide (merge them). Keep the first link and leave a visible trace.
            self.event(
                "xref_conflict",
                system=system,
                detail=f"{entity} {external_id} is linked to {existing.canonical_id}, "
                f"not re-linked to {canonical_id}",
            )
            return False
        elif version is not None and existing.external_version != version:
            existing.external_version = version
            existing.updated_at = utcnow()
        self.session.flush()
        return True

    # --- canonical records -------------------------------------------------------------

    def get(self, canonical_id: str) -> CanonicalRecord | None:
        return self.session.get(CanonicalRecord, canonical_id)

    def load(self, canonical_id: str, model: type[Record]) -> Record:
        row = self.session.get(CanonicalRecord, canonical_id)
        if row is None:
            raise KeyError(canonical_id)
        return model.model_validate_json(row.payload)

    def upsert(
        self, record: Record, *, canonical_id: str | None, source_system: str
    ) -> UpsertOutcome:
        """Store a canonical record. An update older than the stored one never wins."""
        entity = record.entity
        cid = canonical_id or new_canonical_id(entity)
        stored = record.model_copy(update={"id": cid})
        digest = content_hash(stored)
        row = self.session.get(CanonicalRecord, cid) if canonical_id else None
        now = utcnow()
        if row is None:
            self.session.add(
                CanonicalRecord(
                    id=cid,
                    entity=entity,
                    payload=stored.model_dump_json(),
                    content_hash=digest,
                    version=1,
                    source_system=source_system,
                    source_updated_at=record.updated_at,
                    created_at=now,
                    updated_at=now,
                )
            )
            self.session.flush()
            return UpsertOutcome(cid, 1, created=True, changed=True, stale=False)
        if (
            record.updated_at is not None
            and row.source_updated_at is not None
            and record.updated_at < row.source_updated_at
        ):
            return UpsertOutcome(cid, row.version, created=False, changed=False, stale=True)
        if row.content_hash == digest:
            return UpsertOutcome(cid, row.version, created=False, changed=False, stale=False)
        row.payload = stored.model_dump_json()
        row.content_hash = digest
        row.version += 1
        row.source_system = source_system
        row.source_updated_at = record.updated_at or row.source_updated_at
        row.updated_at = now
        self.session.flush()
        return UpsertOutcome(cid, row.version, created=False, changed=True, stale=False)

    # --- deliveries and the inbox ------------------------------------------------------

    def enqueue(
        self,
        *,
        message_id: str,
        target_system: str,
        entity: Entity,
        canonical_id: str,
        record_version: int,
        correlation_id: str | None,
    ) -> None:
        delivery = Delivery(
            message_id=message_id,
            target_system=target_system,
            entity=entity,
            canonical_id=canonical_id,
            record_version=record_version,
            correlation_id=correlation_id,
            status=DeliveryStatus.PENDING,
            next_attempt_at=utcnow(),
        )
        self.session.add(delivery)
        self.session.flush()
        self.event(
            "delivery_queued",
            message_id=message_id,
            delivery_id=delivery.id,
            correlation_id=correlation_id,
            system=target_system,
            detail=f"{entity} {canonical_id} v{record_version}",
        )

    def finish_inbox(
        self,
        message_id: str,
        status: InboxStatus,
        *,
        error: str | None = None,
        correlation_id: str | None = None,
        entity: str | None = None,
        canonical_id: str | None = None,
    ) -> None:
        msg = self.session.get(InboxMessage, message_id)
        if msg is None:
            raise KeyError(message_id)
        msg.status = status
        msg.error = error
        msg.correlation_id = correlation_id or msg.correlation_id
        msg.entity = entity or msg.entity
        msg.canonical_id = canonical_id or msg.canonical_id
        msg.processed_at = utcnow()
        msg.lease_until = None
        self.event(
            f"inbox_{status}",
            message_id=message_id,
            correlation_id=msg.correlation_id,
            system=msg.source_system,
            detail=error,
        )

    # --- cursors and the log -----------------------------------------------------------

    def get_cursor(self, name: str) -> str | None:
        row = self.session.get(Cursor, name)
        return None if row is None else row.value

    def set_cursor(self, name: str, value: str) -> None:
        row = self.session.get(Cursor, name)
        if row is None:
            self.session.add(Cursor(name=name, value=value, updated_at=utcnow()))
        else:
            row.value, row.updated_at = value, utcnow()

    def event(self, kind: str, **fields: Any) -> None:
        self.session.add(Event(kind=kind, at=utcnow(), **fields))
