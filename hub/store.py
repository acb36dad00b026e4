"""The hub store: inbox, canonical records with xref, deliveries, cursors and the message log.

``Hub`` owns the engine and offers short, self-contained operations (receive a message, claim
work, record a delivery outcome). ``HubSession`` is one transaction of a flow: everything a
message causes (records, xref, deliveries, inbox status, events) commits together or not at all.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Engine, Select, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from canonical.models import Entity, Record
from hub.engine import make_engine
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
class IncomingMessage:
    source_system: str
    kind: str
    dedupe_key: str
    body: bytes
    content_type: str = "application/json"
    delivery_id: str | None = None
    headers: dict[str, str] | None = None
    correlation_id: str | None = None
    received_at: datetime | None = None


@dataclass(frozen=True)
class ReceiveResult:
    message_id: str
    duplicate: bool


@dataclass(frozen=True)
class UpsertOutcome:
    canonical_id: str
    version: int
    created: bool
    changed: bool
    stale: bool  # an older update than the one the hub holds: not applied


@dataclass(frozen=True)
class DeliveryTask:
    id: int
    message_id: str
    target_system: str
    entity: str
    canonical_id: str
    record_version: int
    correlation_id: str | None
    attempts: int


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


class Hub:
    """The hub store behind one database URL."""

    def __init__(self, url: str, *, engine: Engine | None = None) -> None:
        self.url = url
        self.engine = engine or make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def begin(self) -> Iterator[HubSession]:
        with self._sessions() as session, session.begin():
            yield HubSession(session)

    # --- intake ------------------------------------------------------------------------

    def receive(self, msg: IncomingMessage) -> ReceiveResult:
        """Store an inbound message durably, once. A redelivery returns the first one's id."""
        message_id = str(uuid.uuid4())
        try:
            with self.begin() as hs:
                hs.session.add(
                    InboxMessage(
                        id=message_id,
                        dedupe_key=msg.dedupe_key,
                        source_system=msg.source_system,
                        kind=msg.kind,
                        delivery_id=msg.delivery_id,
                        correlation_id=msg.correlation_id,
                        content_type=msg.content_type,
                        headers=json.dumps(msg.headers or {}, sort_keys=True),
                        raw_body=msg.body,
                        status=InboxStatus.RECEIVED,
                        received_at=msg.received_at or utcnow(),
                    )
                )
                hs.session.flush()
                hs.event(
                    "received",
                    message_id=message_id,
                    correlation_id=msg.correlation_id,
                    system=msg.source_system,
                    detail=msg.kind,
                )
        except IntegrityError:
            existing = self._find_duplicate(msg)
            if existing is None:
                raise
            with self.begin() as hs:
                hs.event(
                    "duplicate",
                    message_id=existing,
                    system=msg.source_system,
                    detail=f"redelivery {msg.delivery_id or ''}".strip(),
                )
            return ReceiveResult(existing, duplicate=True)
        return ReceiveResult(message_id, duplicate=False)

    def _find_duplicate(self, msg: IncomingMessage) -> str | None:
        with self.begin() as hs:
            stmt = select(InboxMessage.id).where(InboxMessage.dedupe_key == msg.dedupe_key)
            return hs.session.scalar(stmt)

    def claim_inbox(
        self,
        source_system: str,
        *,
        limit: int = 100,
        lease: timedelta = timedelta(minutes=5),
        since: datetime | None = None,
        message_ids: Sequence[str] | None = None,
    ) -> list[InboxMessage]:
        """Take up to ``limit`` unprocessed messages; another worker will not get them."""
        now = utcnow()
        with self.begin() as hs:
            stmt = select(InboxMessage.id).where(
                InboxMessage.source_system == source_system,
                or_(
                    InboxMessage.status == InboxStatus.RECEIVED,
                    (InboxMessage.status == InboxStatus.PROCESSING)
                    & (InboxMessage.lease_until < now),
                ),
            )
            if since is not None:
                stmt = stmt.where(InboxMessage.received_at >= since)
            if message_ids is not None:
                stmt = stmt.where(InboxMessage.id.in_(message_ids))
            stmt = skip_locked(stmt.order_by(InboxMessage.received_at).limit(limit), hs)
            ids = list(hs.session.scalars(stmt))
            claimed: list[InboxMessage] = []
            for mid in ids:
                result = hs.session.execute(
                    update(InboxMessage)
                    .where(
                        InboxMessage.id == mid,
                        or_(
                            InboxMessage.status == InboxStatus.RECEIVED,
                            InboxMessage.lease_until < now,
                        ),
                    )
                    .values(status=InboxStatus.PROCESSING, lease_until=now + lease)
                    .execution_options(synchronize_session=False)
                )
                if result.rowcount == 1:  # type: ignore[attr-defined]
                    row = hs.session.get(InboxMessage, mid, populate_existing=True)
                    assert row is not None
                    claimed.append(row)
            return claimed

    def release_inbox(self, message_id: str) -> None:
        """Give a claimed message back (a transient failure while processing it)."""
        with self.begin() as hs:
            hs.session.execute(
                update(InboxMessage)
                .where(InboxMessage.id == message_id)
                .values(status=InboxStatus.RECEIVED, lease_until=None)
            )
