"""Which source records a run was asked for (``RunOptions.entity_ids``), as the hub knows them.

An on-demand run may name the records to sync by the source system's ids. A message in the
inbox says which record it is about in one of these ways (``record_ids``), all of them kept
as the message arrived:

- the ``key`` header: the key the connector gave a pulled record (``flows/pull.py`` writes it
  for every record it stores): an ERP customer number, a web shop customer or order id, a
  PDM product's SKU, a 945's shipment id, a distributor's ``<distributor>|<PO number>``;
- a webhook carries no such header (the sender's headers name the topic, not the record):
  the top-level ``id`` of its JSON body (WooCommerce: the order's or the customer's id);
- the correlation id the message was stored with (the leads flow's notes: the e-mail
  address or the order number; ATP levels: the SKU) and, once a flow has processed it, the
  one the flow gave it (a web order's number, a case number, a PO number);
- fields of the body a flow names for its messages (``InboxProcessor.id_fields``, dotted
  paths: ``number`` of a web order, ``order_number`` of a 945, ``arg.id`` of a service form
  entry), so the ids an operator knows select the message too.

Ids are compared as exact strings. ``waiting_messages`` finds the unprocessed messages of a
source that are about the records; ``open_deliveries`` the deliveries not yet made that came
of them (through their message, or by their own correlation id).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import select

from hub.schema import Delivery, DeliveryStatus, InboxMessage, InboxStatus
from hub.store import Hub

_WAITING = (InboxStatus.RECEIVED, InboxStatus.PROCESSING)
_OPEN = (DeliveryStatus.PENDING, DeliveryStatus.FAILED, DeliveryStatus.IN_FLIGHT)
_SCAN = 500  # rows fetched at a time while looking for the records' messages
T = TypeVar("T")


def _headers(message: InboxMessage) -> dict[str, Any]:
    try:
        value = json.loads(message.headers or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _at(doc: Any, path: str) -> Any:
    """The value at a dotted path (``arg.id``, ``sales.0.reference``), or None."""
    for part in path.split("."):
        if isinstance(doc, dict):
            doc = doc.get(part)
        elif isinstance(doc, list) and part.isdigit() and int(part) < len(doc):
            doc = doc[int(part)]
        else:
            return None
    return doc


def _text(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    text = str(value).strip()
    return text or None


def record_ids(message: InboxMessage, fields: Sequence[str] = ()) -> set[str]:
    """The ids of the source record ``message`` is about (see the module's docstring)."""
    ids: set[str] = set()
    key = _text(_headers(message).get("key"))
    if key is not None:
        ids.add(key)
    if message.correlation_id:
        ids.add(message.correlation_id)
    paths = list(fields) if key is not None else ["id", *fields]
    if paths:
        try:
            doc = json.loads(message.raw_body)
        except (ValueError, UnicodeDecodeError, RecursionError):
            doc = None  # not JSON: only the header and the correlation id say what it is
        for path in paths:
            found = _text(_at(doc, path))
            if found is not None:
                ids.add(found)
    return ids


def chunks(items: Sequence[T], size: int = _SCAN) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def waiting_messages(
    hub: Hub,
    system: str,
    entity_ids: Collection[str],
    *,
    kinds: Sequence[str] | None = None,
    since: datetime | None = None,
    message_ids: Sequence[str] | None = None,
    ids_of: Callable[[InboxMessage], set[str]] = record_ids,
) -> list[str]:
    """The ids of ``system``'s unprocessed messages (of ``kinds``) about these records, oldest
    first. Every waiting message of the source is looked at: fine for an on-demand run."""
    wanted = set(entity_ids)
    stmt = select(InboxMessage).where(
        InboxMessage.source_system == system, InboxMessage.status.in_(_WAITING)
    )
    if kinds is not None:
        stmt = stmt.where(InboxMessage.kind.in_(kinds))
    if since is not None:
        stmt = stmt.where(InboxMessage.received_at >= since)
    if message_ids is not None:
        stmt = stmt.where(InboxMessage.id.in_(message_ids))
    stmt = stmt.order_by(InboxMessage.received_at, InboxMessage.id)
    with hub.begin() as hs:
        rows: Iterable[InboxMessage] = hs.session.scalars(stmt.execution_options(yield_per=_SCAN))
        return [m.id for m in rows if ids_of(m) & wanted]


def drain_selected(
    hub: Hub,
    system: str,
    entity_ids: Collection[str],
    drain: Callable[[Sequence[str]], object],
    *,
    kinds: Sequence[str] | None,
    since: datetime | None,
    message_ids: Sequence[str] | None,
    ids_of: Callable[[InboxMessage], set[str]],
    notes: list[str],
) -> None:
    """Process only the waiting messages about ``entity_ids``: ``drain`` each part of their
    ids; the other messages stay waiting for a later run (said in ``notes``)."""
    chosen = waiting_messages(
        hub, system, entity_ids, kinds=kinds, since=since, message_ids=message_ids, ids_of=ids_of
    )
    notes.append(
        f"{system}: {len(chosen)} waiting message(s) about the {len(entity_ids)} record(s) "
        "asked for; the others wait for a later run"
    )
    for part in chunks(chosen):
        drain(part)


def open_deliveries(hub: Hub, entity_ids: Collection[str]) -> list[int]:
    """The ids of the deliveries not yet made (pending, failed, in flight) about these
    records: their message is about one of them, or their correlation id is one of them."""
    wanted = set(entity_ids)
    stmt = (
        select(Delivery.id, Delivery.correlation_id, InboxMessage)
        .join(InboxMessage, InboxMessage.id == Delivery.message_id)
        .where(Delivery.status.in_(_OPEN))
        .order_by(Delivery.id)
    )
    found: list[int] = []
    with hub.begin() as hs:
        for did, correlation, message in hs.session.execute(
            stmt.execution_options(yield_per=_SCAN)
        ):
            if correlation in wanted or record_ids(message) & wanted:
                found.append(did)
    return found
