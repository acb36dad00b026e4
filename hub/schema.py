"""The hub's tables (SQLAlchemy 2 typed ORM). Alembic migrations in hub/migrations build them.

Delivery semantics live here as constraints, not in Python sets:
- ``inbox.dedupe_key`` is unique: a redelivered message is recognised on any worker;
- ``xref (system, entity, external_id)`` is unique: one external record maps to one canonical id;
- ``deliveries (message_id, target_system, entity)`` is unique: one write per message and target.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from hub.types import UtcDateTime, utcnow

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BigInteger ids autoincrement on PostgreSQL; SQLite only does so for INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class InboxStatus(StrEnum):
    RECEIVED = "received"
    PROCESSING = "processing"
    PROCESSED = "processed"
    QUARANTINED = "quarantined"
    IGNORED = "ignored"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    IN_FLIGHT = "in_flight"
    FAILED = "failed"  # a transient failure; retried at next_attempt_at
    DELIVERED = "delivered"
    DEAD = "dead"  # permanent failure or retries exhausted; replayable
    DISCARDED = "discarded"  # an operator decided it must not be delivered


class CanonicalRecord(Base):
    __tablename__ = "records"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    entity: Mapped[str] = mapped_column(String(32), index=True)
    payload: Mapped[str] = mapped_column(Text)  # canonical JSON, decimals as strings
    content_hash: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)
    source_system: Mapped[str] = mapped_column(String(64))
    # golden records: which system (and when) each top-level field came from, as JSON
    field_sources: Mapped[str | None] = mapped_column(Text)
    source_updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)


class Xref(Base):
    __tablename__ = "xref"
    __table_args__ = (
        UniqueConstraint("system", "entity", "external_id"),
        Index("ix_xref_canonical", "canonical_id", "system"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    entity: Mapped[str] = mapped_column(String(32))
    canonical_id: Mapped[str] = mapped_column(String(64), ForeignKey("records.id"))
    system: Mapped[str] = mapped_column(String(64))
    external_id: Mapped[str] = mapped_column(String(255))
    external_version: Mapped[str | None] = mapped_column(String(255))
    # hash of the payload last written to (or read from) this system: an update that maps to
    # the same content is not sent again
    sent_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class InboxMessage(Base):
    """One inbound message exactly as received, kept whatever happens to it."""

    __tablename__ = "inbox"
    # No index on delivery_id: WooCommerce derives X-WC-Webhook-Delivery-ID from the webhook id
    # and the current second, so different events can share one; dedupe is by ``dedupe_key``
    # and no query looks a message up by delivery id (migration 0002 dropped that index).
    __table_args__ = (
        Index("ix_inbox_status_received", "status", "received_at"),
        # monitoring: the newest messages first, a page at a time (times only grow: appends)
        Index("ix_inbox_received", "received_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(255), unique=True)
    source_system: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(64))  # e.g. "order.created"
    delivery_id: Mapped[str | None] = mapped_column(String(255))
    correlation_id: Mapped[str | None] = mapped_column(String(255), index=True)
    entity: Mapped[str | None] = mapped_column(String(32))
    canonical_id: Mapped[str | None] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(128))
    headers: Mapped[str] = mapped_column(Text, default="{}")
    raw_body: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16), default=InboxStatus.RECEIVED)
    error: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    processed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Delivery(Base):
    """One write of one message to one target system, with its retry state."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("message_id", "target_system", "entity"),
        Index("ix_deliveries_due", "status", "next_attempt_at"),
        Index("ix_deliveries_delivered_at", "delivered_at"),
        Index("ix_deliveries_canonical", "canonical_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(String(36), ForeignKey("inbox.id"))
    target_system: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(32))
    canonical_id: Mapped[str] = mapped_column(String(64), ForeignKey("records.id"))
    record_version: Mapped[int] = mapped_column(Integer)
    correlation_id: Mapped[str | None] = mapped_column(String(255), index=True)
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    external_id: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Cursor(Base):
    """Where an incremental read stands. Moved in the same transaction as the data it covers."""

    __tablename__ = "cursors"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Event(Base):
    """The message log: every state change of a message or delivery, for tracking and audit."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_message", "message_id", "id"),
        # monitoring: the newest event of a kind per system, and counts in a time window
        Index("ix_events_kind_system_at", "kind", "system", "at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(String(32))
    message_id: Mapped[str | None] = mapped_column(String(36))
    delivery_id: Mapped[int | None] = mapped_column(BigId)
    correlation_id: Mapped[str | None] = mapped_column(String(255), index=True)
    system: Mapped[str | None] = mapped_column(String(64))
    actor: Mapped[str | None] = mapped_column(String(128))
    detail: Mapped[str | None] = mapped_column(Text)


class SourceView(Base):
    """What one system last said about a canonical record (its mapped canonical JSON), from
    which the golden record is built field by field."""

    __tablename__ = "source_views"
    __table_args__ = (UniqueConstraint("canonical_id", "system"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    canonical_id: Mapped[str] = mapped_column(String(64), ForeignKey("records.id"))
    system: Mapped[str] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)
    source_updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ReviewStatus(StrEnum):
    OPEN = "open"
    MERGED = "merged"
    DISTINCT = "distinct"


class ReviewItem(Base):
    """A pair of records identity resolution was not sure about: a person decides."""

    __tablename__ = "review_items"
    __table_args__ = (
        UniqueConstraint("entity", "left_id", "right_id"),
        Index("ix_review_items_status", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    entity: Mapped[str] = mapped_column(String(32))
    left_id: Mapped[str] = mapped_column(String(64))
    right_id: Mapped[str] = mapped_column(String(64))
    score: Mapped[str] = mapped_column(String(32))
    explanation: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=ReviewStatus.OPEN)
    decided_by: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ReconciliationReport(Base):
    """One comparison of what a system holds (keys and versions of one stream) with the hub's
    xrefs for one entity: counts, checksums and the drift found (capped list, as JSON)."""

    __tablename__ = "reconciliation_reports"
    __table_args__ = (Index("ix_reconciliation_reports_scope", "system", "entity", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    system: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(32))
    stream: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(16))  # in_step, drift, failed
    system_count: Mapped[int] = mapped_column(Integer, default=0)
    hub_count: Mapped[int] = mapped_column(Integer, default=0)
    system_checksum: Mapped[str | None] = mapped_column(String(64))
    hub_checksum: Mapped[str | None] = mapped_column(String(64))
    missing_in_hub: Mapped[int] = mapped_column(Integer, default=0)
    missing_in_system: Mapped[int] = mapped_column(Integer, default=0)
    version_drift: Mapped[int] = mapped_column(Integer, default=0)
    items: Mapped[str] = mapped_column(Text, default="[]")
    error: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str | None] = mapped_column(String(128))


class AlertState(Base):
    """What was last notified for one alert key, so alerts are not repeated (de-duplication)
    across restarts; the rate limit counts ``alert_sent`` events."""

    __tablename__ = "alert_state"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(default=True)
    message: Mapped[str] = mapped_column(Text)
    first_seen_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    sent_count: Mapped[int] = mapped_column(Integer, default=0)
    suppressed_count: Mapped[int] = mapped_column(Integer, default=0)
