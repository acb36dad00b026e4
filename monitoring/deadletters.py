"""Dead letters: filter, inspect (error, attempts, masked payload), replay, discard — every
action recorded as an event with its actor (the ledger does the audit trail)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from hub.deliveries import DeliveryLedger
from hub.schema import CanonicalRecord, Delivery, DeliveryStatus, Event, InboxMessage
from hub.store import Hub
from monitoring.masking import Masker
from monitoring.tracking import Page


@dataclass(frozen=True)
class DeadLetterFilter:
    target: str | None = None
    entity: str | None = None
    error: str | None = None  # a piece of the error text
    correlation_id: str | None = None


def list_dead_letters(
    hub: Hub, flt: DeadLetterFilter, *, limit: int = 50, offset: int = 0
) -> Page[Delivery]:
    stmt = select(Delivery).where(Delivery.status == DeliveryStatus.DEAD)
    if flt.target:
        stmt = stmt.where(Delivery.target_system == flt.target)
    if flt.entity:
        stmt = stmt.where(Delivery.entity == flt.entity)
    if flt.error:
        stmt = stmt.where(Delivery.last_error.contains(flt.error, autoescape=True))
    if flt.correlation_id:
        stmt = stmt.where(Delivery.correlation_id == flt.correlation_id)
    with hub.begin() as hs:
        rows = list(
            hs.session.scalars(stmt.order_by(Delivery.id.desc()).limit(limit + 1).offset(offset))
        )
    return Page(rows[:limit], offset, limit, has_next=len(rows) > limit)


@dataclass(frozen=True)
class DeadLetterDetail:
    delivery: Delivery
    message: InboxMessage | None
    events: list[Event]
    message_payload: str
    record_payload: str


def inspect(hub: Hub, delivery_id: int, masker: Masker) -> DeadLetterDetail | None:
    with hub.begin() as hs:
        row = hs.session.get(Delivery, delivery_id)
        if row is None:
            return None
        message = hs.session.get(InboxMessage, row.message_id)
        record = hs.session.get(CanonicalRecord, row.canonical_id)
        events = list(
            hs.session.scalars(
                select(Event).where(Event.delivery_id == delivery_id).order_by(Event.id).limit(500)
            )
        )
    return DeadLetterDetail(
        row,
        message,
        events,
        masker.mask_text(message.raw_body if message else None),
        masker.mask_text(record.payload if record else None),
    )


def replay(hub: Hub, ids: Sequence[int], *, actor: str) -> list[int]:
    """Queue dead letters again (audited as ``replay_requested`` with the actor)."""
    if not ids:
        return []
    return DeliveryLedger(hub).replay(list(ids), actor=actor)


def discard(hub: Hub, delivery_id: int, *, actor: str, reason: str) -> bool:
    if not reason.strip():
        raise ValueError("a discard needs a reason")
    return DeliveryLedger(hub).discard(delivery_id, actor=actor, reason=reason.strip())


def deliveries_by_id(hub: Hub, ids: Sequence[int]) -> list[Delivery]:
    return DeliveryLedger(hub).get(list(ids))
