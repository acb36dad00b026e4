"""The hub store: inbox, canonical records with xref, deliveries, cursors and the message log.

``Hub`` owns the engine and offers short, self-contained operations (receive a message, claim
work, record a delivery outcome). ``HubSession`` is one transaction of a flow: everything a
message causes (records, xref, deliveries, inbox status, events) commits together or not at all.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, or_, select, update
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
        from hub.inbox import receive_many  # the one intake path; it imports this module

        return receive_many(self, [msg])[0]

    def claim_inbox(
        self,
        source_system: str,
        *,
        limit: int = 100,
        lease: timedelta = timedelta(minutes=5),
        since: datetime | None = None,
        message_ids: Sequence[str] | None = None,
        kinds: Sequence[str] | None = None,
    ) -> list[InboxMessage]:
        """Take up to ``limit`` unprocessed messages (of ``kinds`` when given); another
        worker will not get them."""
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
            if kinds is not None:
                stmt = stmt.where(InboxMessage.kind.in_(kinds))
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

    def defer_inbox(self, message_id: str, seconds: float) -> None:
        """Keep a claimed message for ``seconds`` more (a transient failure): no claimer takes
        it before then, so a run does not spin on it; the next run after that does."""
        with self.begin() as hs:
            hs.session.execute(
                update(InboxMessage)
                .where(InboxMessage.id == message_id)
                .values(
                    status=InboxStatus.PROCESSING,
                    lease_until=utcnow() + timedelta(seconds=seconds),
                )
            )

    def release_inbox(self, message_id: str) -> None:
        """Give a claimed message back (a transient failure while processing it)."""
        with self.begin() as hs:
            hs.session.execute(
                update(InboxMessage)
                .where(InboxMessage.id == message_id)
                .values(status=InboxStatus.RECEIVED, lease_until=None)
            )
