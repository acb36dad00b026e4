"""Batch intake into the hub's inbox: many inbound messages in one transaction.

``receive_many`` is ``Hub.receive`` for a whole batch (a group commit): every message of the
batch is inserted, deduplicated and logged in ONE transaction, so one fsync covers them all.
A message is a duplicate when its dedupe key is already held — by an earlier row, or by an
earlier message of the same batch — and then answers the first one's id, as ``receive`` does.
Either the whole batch is stored (with its ``received``/``duplicate`` events) or nothing is.

SQLite and PostgreSQL send the batch as one ``INSERT ... ON CONFLICT (dedupe_key) DO NOTHING
RETURNING id``: the ids that come back are the rows this batch inserted; only for the other keys
(already held) is the holder's id read back. Keys are inserted in sorted order so two
concurrent batches on PostgreSQL take their row locks in the same order and cannot deadlock.
Other databases insert row by row under a savepoint.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Insert, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from hub.schema import Base, Event, InboxMessage, InboxStatus
from hub.store import Hub, IncomingMessage, ReceiveResult
from hub.types import utcnow

_INBOX = Base.metadata.tables[InboxMessage.__tablename__]
_EVENTS = Base.metadata.tables[Event.__tablename__]


def receive_many(hub: Hub, messages: Sequence[IncomingMessage]) -> list[ReceiveResult]:
    """Store a batch of inbound messages durably, each once, in one transaction.

    Returns one ``ReceiveResult`` per message, in the order given. Raises (and stores nothing
    of the batch) when the database fails.
    """
    if not messages:
        return []
    candidates = _first_of_each_key(messages)
    with hub.engine.begin() as conn:
        inserted = _insert_new(conn, candidates)
        holders = {key: mid for key, (mid, _) in candidates.items() if mid in inserted}
        held_before = [key for key in candidates if key not in holders]
        if held_before:
            holders.update(_holders(conn, held_before))
        results = _results(messages, candidates, holders)
        _log_events(conn, messages, results)
    return results


def _first_of_each_key(
    messages: Sequence[IncomingMessage],
) -> dict[str, tuple[str, IncomingMessage]]:
    """dedupe key -> (a fresh id, the first message with that key), sorted by key."""
    first: dict[str, IncomingMessage] = {}
    for msg in messages:
        first.setdefault(msg.dedupe_key, msg)
    ids = _new_ids(len(first))
    return {key: (next(ids), first[key]) for key in sorted(first)}


def _new_ids(count: int) -> Iterator[str]:
    """``count`` random (version 4) UUIDs from ONE ``os.urandom`` call.

    ``uuid4()`` reads the OS random source once per id and releases the GIL each time; in the
    writer thread each release means waiting for the GIL again behind the request handlers.
    """
    pool = os.urandom(16 * count)
    for start in range(0, 16 * count, 16):
        yield str(uuid.UUID(bytes=pool[start : start + 16], version=4))


def _row(message_id: str, msg: IncomingMessage) -> dict[str, Any]:
    return {
        "id": message_id,
        "dedupe_key": msg.dedupe_key,
        "source_system": msg.source_system,
        "kind": msg.kind,
        "delivery_id": msg.delivery_id,
        "correlation_id": msg.correlation_id,
        "content_type": msg.content_type,
        "headers": json.dumps(msg.headers or {}, sort_keys=True),
        "raw_body": msg.body,
        "status": InboxStatus.RECEIVED,
        "received_at": msg.received_at or utcnow(),
    }


def _insert_new(conn: Connection, candidates: dict[str, tuple[str, IncomingMessage]]) -> set[str]:
    """Insert what is not held yet; the ids actually inserted."""
    rows = [_row(message_id, msg) for message_id, msg in candidates.values()]
    stmt = _insert_ignoring_duplicates(conn.dialect.name)
    if stmt is not None:
        # With RETURNING, SQLAlchemy sends the rows as ONE multi-row INSERT ("insertmanyvalues")
        # instead of a statement per row; only rows actually inserted come back.
        return set(conn.execute(stmt.returning(_INBOX.c.id), rows).scalars())
    inserted: set[str] = set()
    for row in rows:  # no ON CONFLICT: a savepoint per row keeps the batch's transaction
        try:
            with conn.begin_nested():
                conn.execute(insert(_INBOX), row)
        except IntegrityError:
            continue  # the key is held: _holders() finds by whom
        inserted.add(row["id"])
    return inserted


def _insert_ignoring_duplicates(dialect: str) -> Insert | None:
    if dialect == "sqlite":
        return sqlite.insert(_INBOX).on_conflict_do_nothing(index_elements=["dedupe_key"])
    if dialect == "postgresql":
        return postgresql.insert(_INBOX).on_conflict_do_nothing(index_elements=["dedupe_key"])
    return None


def _holders(conn: Connection, keys: list[str]) -> dict[str, str]:
    """dedupe key -> id of the inbox row holding it."""
    stmt = select(_INBOX.c.dedupe_key, _INBOX.c.id).where(_INBOX.c.dedupe_key.in_(keys))
    return {key: message_id for key, message_id in conn.execute(stmt)}


def _results(
    messages: Sequence[IncomingMessage],
    candidates: dict[str, tuple[str, IncomingMessage]],
    holders: dict[str, str],
) -> list[ReceiveResult]:
    results: list[ReceiveResult] = []
    stored: set[str] = set()
    for msg in messages:
        holder = holders.get(msg.dedupe_key)
        if holder is None:  # inserted by nobody: the database did not do what it said
            raise RuntimeError("an inbox row vanished inside its own transaction")
        ours, first = candidates[msg.dedupe_key]
        new = holder == ours and msg is first and holder not in stored
        if new:
            stored.add(holder)
        results.append(ReceiveResult(holder, duplicate=not new))
    return results


def _log_events(
    conn: Connection, messages: Sequence[IncomingMessage], results: list[ReceiveResult]
) -> None:
    now = utcnow()
    events: list[dict[str, Any]] = []
    for msg, result in zip(messages, results, strict=True):
        if result.duplicate:
            detail = f"redelivery {msg.delivery_id or ''}".strip()
            events.append(
                _event("duplicate", at=now, message_id=result.message_id, msg=msg, detail=detail)
            )
        else:
            events.append(
                _event(
                    "received",
                    at=now,
                    message_id=result.message_id,
                    msg=msg,
                    correlation_id=msg.correlation_id,
                    detail=msg.kind,
                )
            )
    # RETURNING again for one multi-row INSERT rather than one statement per event.
    conn.execute(insert(_EVENTS).returning(_EVENTS.c.id), events)


def _event(
    kind: str,
    *,
    at: datetime,
    message_id: str,
    msg: IncomingMessage,
    correlation_id: str | None = None,
    detail: str,
) -> dict[str, Any]:
    return {
        "kind": kind,
        "at": at,
        "message_id": message_id,
        "delivery_id": None,
        "correlation_id": correlation_id,
        "system": msg.source_system,
        "actor": None,
        "detail": detail,
    }
