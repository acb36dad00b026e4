"""Read-side queries over the message log, for the CLI and monitoring."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, or_, select

from hub.schema import Delivery, Event, InboxMessage, Xref
from hub.store import Hub


@dataclass(frozen=True)
class MessageTrace:
    messages: list[InboxMessage]
    deliveries: list[Delivery]
    events: list[Event]
    xrefs: list[Xref]


def trace(
    hub: Hub, *, message_id: str | None = None, correlation_id: str | None = None
) -> MessageTrace:
    """Everything the hub knows about one message or one business chain."""
    if (message_id is None) == (correlation_id is None):
        raise ValueError("give exactly one of message_id or correlation_id")
    with hub.begin() as hs:
        s = hs.session
        if message_id is not None:
            messages = list(s.scalars(select(InboxMessage).where(InboxMessage.id == message_id)))
        else:
            messages = list(
                s.scalars(
                    select(InboxMessage)
                    .where(InboxMessage.correlation_id == correlation_id)
                    .order_by(InboxMessage.received_at)
                )
            )
        ids = [m.id for m in messages]
        deliveries = list(
            s.scalars(select(Delivery).where(Delivery.message_id.in_(ids)).order_by(Delivery.id))
        )
        event_filter: ColumnElement[bool] = Event.message_id.in_(ids)
        if correlation_id is not None:
            event_filter = or_(event_filter, Event.correlation_id == correlation_id)
        events = list(s.scalars(select(Event).where(event_filter).order_by(Event.id)))
        canonical_ids = {m.canonical_id for m in messages if m.canonical_id}
        canonical_ids |= {d.canonical_id for d in deliveries}
        xrefs = list(
            s.scalars(select(Xref).where(Xref.canonical_id.in_(canonical_ids)).order_by(Xref.id))
        )
        return MessageTrace(messages, deliveries, events, xrefs)


def recent_messages(
    hub: Hub,
    *,
    status: str | None = None,
    source: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[InboxMessage]:
    """Inbox messages newest first, one page at a time (never the whole table)."""
    with hub.begin() as hs:
        stmt = select(InboxMessage).order_by(InboxMessage.received_at.desc())
        if status is not None:
            stmt = stmt.where(InboxMessage.status == status)
        if source is not None:
            stmt = stmt.where(InboxMessage.source_system == source)
        return list(hs.session.scalars(stmt.limit(limit).offset(offset)))
