"""Delivery state per (message, target): claim, succeed, fail with backoff, dead letters, replay."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update

from canonical.models import Entity
from hub.schema import Delivery, DeliveryStatus
from hub.store import DeliveryTask, Hub, skip_locked
from hub.types import utcnow
from hub.views import set_sent_hash

_CLAIMABLE = (DeliveryStatus.PENDING, DeliveryStatus.FAILED)


def _task(row: Delivery) -> DeliveryTask:
    return DeliveryTask(
        id=row.id,
        message_id=row.message_id,
        target_system=row.target_system,
        entity=row.entity,
        canonical_id=row.canonical_id,
        record_version=row.record_version,
        correlation_id=row.correlation_id,
        attempts=row.attempts,
    )


class DeliveryLedger:
    """What has been delivered where. All state is in the hub, so any worker can continue."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    def claim_due(
        self,
        *,
        target_system: str | None = None,
        limit: int = 100,
        lease: timedelta = timedelta(minutes=5),
        ids: Sequence[int] | None = None,
    ) -> list[DeliveryTask]:
        """Take due deliveries (pending, failed and due, or in flight with an expired lease)."""
        now = utcnow()
        due = or_(
            Delivery.status.in_(_CLAIMABLE) & (Delivery.next_attempt_at <= now),
            (Delivery.status == DeliveryStatus.IN_FLIGHT) & (Delivery.lease_until < now),
        )
        with self.hub.begin() as hs:
            stmt = select(Delivery.id).where(due)
            if target_system is not None:
                stmt = stmt.where(Delivery.target_system == target_system)
            if ids is not None:
                stmt = stmt.where(Delivery.id.in_(ids))
            stmt = skip_locked(stmt.order_by(Delivery.id).limit(limit), hs)
            candidates = list(hs.session.scalars(stmt))
            tasks: list[DeliveryTask] = []
            for did in candidates:
                result = hs.session.execute(
                    update(Delivery)
                    .where(Delivery.id == did, due)
                    .values(
                        status=DeliveryStatus.IN_FLIGHT,
                        lease_until=now + lease,
                        attempts=Delivery.attempts + 1,
                        updated_at=now,
                    )
                    .execution_options(synchronize_session=False)
                )
                if result.rowcount == 1:  # type: ignore[attr-defined]
                    row = hs.session.get(Delivery, did, populate_existing=True)
                    assert row is not None
                    tasks.append(_task(row))
            return tasks

    def succeed(
        self,
        task: DeliveryTask,
        *,
        external_id: str | None,
        detail: str = "",
        links: Sequence[tuple[Entity, str, str, str, str | None]] = (),
        sent: Sequence[tuple[Entity, str, str, str]] = (),
    ) -> None:
        """Record a delivery and the xrefs it created, in one transaction; ``sent`` holds
        (entity, canonical id, system, payload hash) of what was written."""
        now = utcnow()
        with self.hub.begin() as hs:
            for entity, canonical_id, system, ext_id, version in links:
                hs.link(entity, canonical_id, system, ext_id, version)
            for entity, canonical_id, system, digest in sent:
                set_sent_hash(hs, entity, canonical_id, system, digest)
            hs.session.execute(
                update(Delivery)
                .where(Delivery.id == task.id)
                .values(
                    status=DeliveryStatus.DELIVERED,
                    external_id=external_id,
                    delivered_at=now,
                    updated_at=now,
                    lease_until=None,
                    last_error=None,
                )
            )
            hs.event(
                "delivered",
                message_id=task.message_id,
                delivery_id=task.id,
                correlation_id=task.correlation_id,
                system=task.target_system,
                detail=f"{task.entity} -> {external_id} {detail}".strip(),
            )

    def fail(self, task: DeliveryTask, *, error: str, retry_at: datetime | None) -> bool:
        """Record a failed attempt. ``retry_at=None`` makes it a dead letter. Returns dead?"""
        dead = retry_at is None
        now = utcnow()
        with self.hub.begin() as hs:
            hs.session.execute(
                update(Delivery)
                .where(Delivery.id == task.id)
                .values(
                    status=DeliveryStatus.DEAD if dead else DeliveryStatus.FAILED,
                    last_error=error,
                    next_attempt_at=retry_at or now,
                    lease_until=None,
                    updated_at=now,
                )
            )
            hs.event(
                "dead_letter" if dead else "attempt_failed",
                message_id=task.message_id,
                delivery_id=task.id,
                correlation_id=task.correlation_id,
                system=task.target_system,
                detail=f"attempt {task.attempts}: {error}",
            )
        return dead

    def replay(self, ids: Sequence[int] | None, *, actor: str) -> list[int]:
        """Put dead letters back in the queue (all of them when ``ids`` is None), audited."""
        now = utcnow()
        with self.hub.begin() as hs:
            stmt = select(Delivery).where(Delivery.status == DeliveryStatus.DEAD)
            if ids is not None:
                stmt = stmt.where(Delivery.id.in_(ids))
            rows = list(hs.session.scalars(stmt.order_by(Delivery.id)))
            for row in rows:
                row.status = DeliveryStatus.PENDING
                row.attempts = 0
                row.next_attempt_at = now
                row.updated_at = now
                hs.event(
                    "replay_requested",
                    message_id=row.message_id,
                    delivery_id=row.id,
                    correlation_id=row.correlation_id,
                    system=row.target_system,
                    actor=actor,
                    detail=f"after: {row.last_error}",
                )
            return [row.id for row in rows]

    def discard(self, delivery_id: int, *, actor: str, reason: str) -> bool:
        with self.hub.begin() as hs:
            row = hs.session.get(Delivery, delivery_id)
            if row is None or row.status != DeliveryStatus.DEAD:
                return False
            row.status = DeliveryStatus.DISCARDED
            row.updated_at = utcnow()
            hs.event(
                "discarded",
                message_id=row.message_id,
                delivery_id=row.id,
                correlation_id=row.correlation_id,
                system=row.target_system,
                actor=actor,
                detail=reason,
            )
            return True

    def get(self, ids: Sequence[int]) -> list[Delivery]:
        with self.hub.begin() as hs:
            stmt = select(Delivery).where(Delivery.id.in_(ids)).order_by(Delivery.id)
            return list(hs.session.scalars(stmt))

    def dead_letters(self, *, limit: int = 100, offset: int = 0) -> list[Delivery]:
        with self.hub.begin() as hs:
            stmt = (
                select(Delivery)
                .where(Delivery.status == DeliveryStatus.DEAD)
                .order_by(Delivery.id)
                .limit(limit)
                .offset(offset)
            )
            return list(hs.session.scalars(stmt))
