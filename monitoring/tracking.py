"""Message tracking: find messages by any id a person has at hand, and the whole business
chain of one of them across systems (messages, deliveries with every attempt, events)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, or_, select

from hub.schema import CanonicalRecord, Delivery, Event, InboxMessage, Xref
from hub.store import Hub
from monitoring.masking import Masker

T = TypeVar("T")
CHAIN_LIMIT = 500


@dataclass(frozen=True)
class Page(Generic[T]):
    rows: list[T]
    offset: int
    limit: int
    has_next: bool

    @property
    def next_offset(self) -> int:
        return self.offset + self.limit

    @property
    def prev_offset(self) -> int | None:
        return None if self.offset == 0 else max(0, self.offset - self.limit)


@dataclass(frozen=True)
class MessageQuery:
    """``text`` is any id: correlation id (e.g. the web shop's order number), a system's
    external id (xref), a canonical id or a message id."""

    text: str | None = None
    status: str | None = None
    source: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def _canonical_ids_for(hub: Hub, text: str) -> set[str]:
    with hub.begin() as hs:
        ids = set(hs.session.scalars(select(Xref.canonical_id).where(Xref.external_id == text)))
        if hs.session.get(CanonicalRecord, text) is not None:
            ids.add(text)
    return ids


def _id_filter(hub: Hub, text: str) -> ColumnElement[bool]:
    """Messages ``text`` names: as correlation or message id, or through the canonical
    record it is (or an xref points to) and the deliveries of that record. Each part is an
    index lookup, so the inbox is never scanned."""
    cids = _canonical_ids_for(hub, text)
    ids, correlations = {text}, {text}
    if cids:
        with hub.begin() as hs:
            for message_id, correlation in hs.session.execute(
                select(Delivery.message_id, Delivery.correlation_id)
                .where(Delivery.canonical_id.in_(cids))
                .limit(CHAIN_LIMIT)
            ):
                ids.add(message_id)
                if correlation:
                    correlations.add(correlation)
    return or_(InboxMessage.id.in_(ids), InboxMessage.correlation_id.in_(correlations))


def search_messages(
    hub: Hub, query: MessageQuery, *, limit: int = 50, offset: int = 0
) -> Page[InboxMessage]:
    """One page of matching inbox messages, newest first."""
    stmt = select(InboxMessage).order_by(InboxMessage.received_at.desc())
    text = (query.text or "").strip()
    if text:
        stmt = stmt.where(_id_filter(hub, text))
    if query.status:
        stmt = stmt.where(InboxMessage.status == query.status)
    if query.source:
        stmt = stmt.where(InboxMessage.source_system == query.source)
    if query.since:
        stmt = stmt.where(InboxMessage.received_at >= query.since)
    if query.until:
        stmt = stmt.where(InboxMessage.received_at < query.until)
    with hub.begin() as hs:
        rows = list(hs.session.scalars(stmt.limit(limit + 1).offset(offset)))
    return Page(rows[:limit], offset, limit, has_next=len(rows) > limit)


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str
    system: str
    actor: str
    detail: str
    message_id: str | None
    delivery_id: int | None


@dataclass
class Chain:
    """One business chain: everything the hub knows, with payloads masked."""

    key: str
    messages: list[InboxMessage] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    xrefs: list[Xref] = field(default_factory=list)
    records: list[CanonicalRecord] = field(default_factory=list)
    timeline: list[TimelineEntry] = field(default_factory=list)
    payloads: dict[str, str] = field(default_factory=dict)  # message id / canonical id -> text

    @property
    def systems(self) -> list[str]:
        seen = {m.source_system for m in self.messages} | {d.target_system for d in self.deliveries}
        return sorted(seen | {x.system for x in self.xrefs})


def _seed_messages(hub: Hub, key: str) -> list[InboxMessage]:
    with hub.begin() as hs:
        stmt = select(InboxMessage).where(_id_filter(hub, key)).limit(CHAIN_LIMIT)
        found = list(hs.session.scalars(stmt))
        correlations = {m.correlation_id for m in found if m.correlation_id}
        if correlations:
            more = select(InboxMessage).where(InboxMessage.correlation_id.in_(correlations))
            known = {m.id for m in found}
            found += [m for m in hs.session.scalars(more.limit(CHAIN_LIMIT)) if m.id not in known]
    return sorted(found, key=lambda m: m.received_at)


def chain(hub: Hub, key: str, masker: Masker) -> Chain | None:
    """The chain of messages ``key`` names (any id, as in the search); None when unknown."""
    messages = _seed_messages(hub, key.strip())
    if not messages:
        return None
    ids = [m.id for m in messages]
    correlations = {m.correlation_id for m in messages if m.correlation_id}
    with hub.begin() as hs:
        s = hs.session
        deliveries = list(
            s.scalars(select(Delivery).where(Delivery.message_id.in_(ids)).order_by(Delivery.id))
        )
        event_filter: ColumnElement[bool] = Event.message_id.in_(ids)
        if correlations:
            event_filter = or_(event_filter, Event.correlation_id.in_(correlations))
        events = list(
            s.scalars(select(Event).where(event_filter).order_by(Event.id).limit(CHAIN_LIMIT * 4))
        )
        cids = {m.canonical_id for m in messages if m.canonical_id}
        cids |= {d.canonical_id for d in deliveries}
        xrefs = list(s.scalars(select(Xref).where(Xref.canonical_id.in_(cids)).order_by(Xref.id)))
        records = list(s.scalars(select(CanonicalRecord).where(CanonicalRecord.id.in_(cids))))
    found = Chain(key, messages, deliveries, xrefs, sorted(records, key=lambda r: r.id))
    found.timeline = [
        TimelineEntry(
            e.at, e.kind, e.system or "", e.actor or "", e.detail or "", e.message_id, e.delivery_id
        )
        for e in sorted(events, key=lambda e: (e.at, e.id))
    ]
    for m in messages:
        found.payloads[m.id] = masker.mask_text(m.raw_body)
    for r in found.records:
        found.payloads[r.id] = masker.mask_text(r.payload)
    return found


def message_summary(m: InboxMessage) -> dict[str, Any]:
    return {
        "id": m.id,
        "received_at": m.received_at.isoformat(),
        "source": m.source_system,
        "kind": m.kind,
        "correlation_id": m.correlation_id,
        "status": m.status,
        "error": m.error,
    }
