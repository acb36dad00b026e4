"""The hub store: inbox, canonical records with xref, deliveries, cursors and the message log.

``Hub`` owns the engine and offers short, self-contained operations (receive a message, claim
work, record a delivery outcome). ``HubSession`` is one transaction of a flow: everything a
message causes (records, xref, deliveries, inbox status, events) commits together or not at all.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from hub.engine import make_engine
from hub.schema import (
    InboxMessage,
    InboxStatus,
)
from hub.session import (
    HubSession,
    UpsertOutcome,
    content_hash,
    new_canonical_id,
    skip_locked,
)
from hub.types import utcnow

__all__ = [
    "DeliveryTask",
    "Hub",
    "HubSession",
    "IncomingMessage",
    "ReceiveResult",
    "UpsertOutcome",
    "content_hash",
    "new_canonical_id",
    "skip_locked",
]


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
class DeliveryTask:
    id: int
    message_id: str
    target_system: str
    entity: str
    canonical_id: str
    record_version: int
    correlation_id: str | None
    attempts: int


class Hub:
    """The hub store behind one database URL."""

    def __init__(
        self, url: str, *, engine: Engine | None = None, sqlite_synchronous: str = "FULL"
    ) -> None:
        self.url = url
        self.engine = engine or make_engine(url, sqlite_synchronous=sqlite_synchronous)
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
