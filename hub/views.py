"""What flows keep beside the canonical records, inside one ``HubSession`` transaction.

- ``receive``: an inbound record into the inbox within the caller's transaction, so a polled
  page and the cursor after it commit together (a cursor never runs ahead of its data);
- source views: what each system last said about a record, to build the golden record from;
- field sources: which system each golden field came from;
- sent hashes: what was last written to a system, so an unchanged payload is not sent again;
- the identity review list.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select

from hub.schema import (
    CanonicalRecord,
    InboxMessage,
    InboxStatus,
    ReviewItem,
    ReviewStatus,
    SourceView,
    Xref,
)
from hub.session import HubSession
from hub.store import IncomingMessage, ReceiveResult
from hub.types import utcnow


def receive(
    hs: HubSession,
    msg: IncomingMessage,
    *,
    status: InboxStatus = InboxStatus.RECEIVED,
    error: str | None = None,
) -> ReceiveResult:
    """Store one inbound message unless its dedupe key is already held (then: that one's id)."""
    held = hs.session.scalar(
        select(InboxMessage.id).where(InboxMessage.dedupe_key == msg.dedupe_key)
    )
    if held is not None:
        return ReceiveResult(held, duplicate=True)
    now = utcnow()
    message_id = str(uuid.uuid4())
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
            status=status,
            error=error,
            received_at=msg.received_at or now,
            processed_at=now if status != InboxStatus.RECEIVED else None,
        )
    )
    hs.session.flush()
    hs.event(
        "received" if status == InboxStatus.RECEIVED else f"inbox_{status}",
        message_id=message_id,
        correlation_id=msg.correlation_id,
        system=msg.source_system,
        detail=error or f"{msg.kind} {msg.dedupe_key}",
    )
    return ReceiveResult(message_id, duplicate=False)


# -- source views and golden field sources ---------------------------------------------------


def save_view(
    hs: HubSession,
    canonical_id: str,
    system: str,
    payload: dict[str, Any],
    source_updated_at: datetime | None,
) -> bool:
    """Keep what ``system`` says about the record; False when an older view arrives late."""
    row = hs.session.scalar(
        select(SourceView).where(
            SourceView.canonical_id == canonical_id, SourceView.system == system
        )
    )
    text = json.dumps(payload, sort_keys=True, default=str)
    if row is None:
        hs.session.add(
            SourceView(
                canonical_id=canonical_id,
                system=system,
                payload=text,
                source_updated_at=source_updated_at,
                updated_at=utcnow(),
            )
        )
        hs.session.flush()
        return True
    if (
        source_updated_at is not None
        and row.source_updated_at is not None
        and source_updated_at < row.source_updated_at
    ):
        return False
    row.payload, row.updated_at = text, utcnow()
    row.source_updated_at = source_updated_at or row.source_updated_at
    return True


def views(hs: HubSession, canonical_id: str) -> dict[str, tuple[dict[str, Any], datetime | None]]:
    """Every system's view of a record: system -> (payload, when the system changed it)."""
    rows = hs.session.scalars(select(SourceView).where(SourceView.canonical_id == canonical_id))
    return {r.system: (json.loads(r.payload), r.source_updated_at) for r in rows}


def set_field_sources(hs: HubSession, canonical_id: str, sources: dict[str, Any]) -> None:
    row = hs.session.get(CanonicalRecord, canonical_id)
    if row is None:
        raise KeyError(canonical_id)
    row.field_sources = json.dumps(sources, sort_keys=True, default=str)


def field_sources(hs: HubSession, canonical_id: str) -> dict[str, Any]:
    row = hs.session.get(CanonicalRecord, canonical_id)
    return json.loads(row.field_sources) if row is not None and row.field_sources else {}


# -- what each system was last sent ---------------------------------------------------------


def sent_hash(hs: HubSession, entity: str, canonical_id: str, system: str) -> str | None:
    return hs.session.scalar(
        select(Xref.sent_hash)
        .where(Xref.canonical_id == canonical_id, Xref.system == system, Xref.entity == entity)
        .order_by(Xref.id)
        .limit(1)
    )


def set_sent_hash(hs: HubSession, entity: str, canonical_id: str, system: str, digest: str) -> None:
    rows = hs.session.scalars(
        select(Xref).where(
            Xref.canonical_id == canonical_id, Xref.system == system, Xref.entity == entity
        )
    )
    for row in rows:
        row.sent_hash = digest


# -- identity review list --------------------------------------------------------------------


def add_review(
    hs: HubSession, entity: str, left_id: str, right_id: str, score: float, explanation: str
) -> bool:
    """Put a pair on the review list once (either order); False when it is already there."""
    left, right = sorted((left_id, right_id))
    exists = hs.session.scalar(
        select(ReviewItem.id).where(
            ReviewItem.entity == entity, ReviewItem.left_id == left, ReviewItem.right_id == right
        )
    )
    if exists is not None:
        return False
    hs.session.add(
        ReviewItem(
            entity=entity,
            left_id=left,
            right_id=right,
            score=f"{score:.1f}",
            explanation=explanation,
            status=ReviewStatus.OPEN,
            created_at=utcnow(),
        )
    )
    hs.event("review_queued", detail=f"{entity} {left} ~ {right}: {explanation}"[:2000])
    return True


def open_reviews(hs: HubSession, entity: str, *, limit: int = 100) -> list[ReviewItem]:
    stmt = (
        select(ReviewItem)
        .where(ReviewItem.entity == entity, ReviewItem.status == ReviewStatus.OPEN)
        .order_by(ReviewItem.created_at)
        .limit(limit)
    )
    return list(hs.session.scalars(stmt))
