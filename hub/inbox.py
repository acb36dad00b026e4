"""Batch intake into the hub's inbox: many inbound messages in one transaction.

``receive_many`` is ``Hub.receive`` for a whole batch (a group commit): every message of the
batch is inserted, deduplicated and logged in ONE transaction, so one fsync covers them all.
A message is a duplicate when its dedupe key is already held — by an earlier row, or by an
earlier message of the same batch — and then answers the first one's id, as ``receive`` does.
Either the whole batch is stored (with its ``received``/``duplicate`` events) or nothing is.

SQLite (Python's ``sqlite3``) takes a lean path on the driver's own connection, because it
runs in a writer thread next to the event loop that answers the senders: every Python step it
takes holds the GIL the loop needs, and every SQLite call gives the GIL up and must wait to get
it back. So a batch is four calls — ``BEGIN IMMEDIATE``, one multi-row ``INSERT ... ON CONFLICT
(dedupe_key) DO NOTHING`` into the inbox, one multi-row ``INSERT`` of the events, ``COMMIT`` —
where an ``executemany`` or a ``RETURNING`` would step (and give up the GIL) once per row. The
row count tells whether every key was new; only when one was not are the holders' ids read
back. The writer's connection checkpoints the WAL in small steps
(``SQLITE_WAL_AUTOCHECKPOINT_PAGES``).

PostgreSQL sends the batch as one ``INSERT ... ON CONFLICT (dedupe_key) DO NOTHING RETURNING
id``: the ids that come back are the rows this batch inserted; only for the other keys
(already held) is the holder's id read back. Keys are inserted in sorted order so two
concurrent batches take their row locks in the same order and cannot deadlock. Other
databases and drivers insert row by row under a savepoint.

New ids are time-ordered UUIDs (version 7): rows of one batch land next to each other in the
primary-key indexes instead of on as many random pages, which SQLite would each write out.
"""

from __future__ import annotations

import functools
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from json.encoder import encode_basestring_ascii as _json_str
from typing import Any

from sqlalchemy import Connection, Insert, insert, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import DBAPIError, IntegrityError

from hub.schema import Base, Event, InboxMessage, InboxStatus
from hub.store import Hub, IncomingMessage, ReceiveResult
from hub.types import utcnow

_INBOX = Base.metadata.tables[InboxMessage.__tablename__]
_EVENTS = Base.metadata.tables[Event.__tablename__]


def _headers_json(headers: dict[str, str] | None) -> str:
    """``json.dumps(headers, sort_keys=True)`` for a str -> str dict, without building an encoder
    per call (the writer thread holds the GIL while it runs)."""
    if not headers:
        return "{}"
    pairs = [_json_str(name) + ": " + _json_str(value) for name, value in sorted(headers.items())]
    return "{" + ", ".join(pairs) + "}"


_Candidates = dict[str, tuple[str, IncomingMessage]]


def receive_many(hub: Hub, messages: Sequence[IncomingMessage]) -> list[ReceiveResult]:
    """Store a batch of inbound messages durably, each once, in one transaction.

    Returns one ``ReceiveResult`` per message, in the order given. Raises (and stores nothing
    of the batch) when the database fails: a SQLAlchemy ``DBAPIError`` on every database.
    """
    if not messages:
        return []
    candidates = _first_of_each_key(messages)
    if hub.engine.dialect.name == "sqlite" and hub.engine.dialect.driver == "pysqlite":
        return _sqlite_receive(hub, messages, candidates)
    with hub.engine.begin() as conn:
        holders = _insert_new_returning(conn, candidates)
        results = _results(messages, candidates, holders)
        _log_events(conn, messages, results)
    return results


def _first_of_each_key(messages: Sequence[IncomingMessage]) -> _Candidates:
    """dedupe key -> (a fresh id, the first message with that key), sorted by key."""
    first: dict[str, IncomingMessage] = {}
    for msg in messages:
        first.setdefault(msg.dedupe_key, msg)
    ids = _new_ids(len(first))
    return {key: (next(ids), first[key]) for key in sorted(first)}


def _new_ids(count: int) -> Iterator[str]:
    """``count`` time-ordered (version 7) UUIDs: 48 bits of milliseconds, then 74 random bits."""
    stamp = (time.time_ns() // 1_000_000) << 80 | 0x7 << 76 | 0b10 << 62
    pool = _RANDOM.take(10 * count)
    for start in range(0, 10 * count, 10):
        bits = int.from_bytes(pool[start : start + 10], "big")  # 80 random bits
        value = stamp | (bits >> 68) << 64 | (bits & 0x3FFF_FFFF_FFFF_FFFF)
        hexa = f"{value:032x}"
        yield f"{hexa[:8]}-{hexa[8:12]}-{hexa[12:16]}-{hexa[16:20]}-{hexa[20:]}"


class _RandomPool:
    """Bytes from the OS random source, read ahead 64 KiB at a time.

    Each ``os.urandom`` call releases the GIL, and in the writer thread each release means
    waiting for the GIL again behind the request handlers.
    """

    def __init__(self, refill: int = 64 * 1024) -> None:
        self._refill = refill
        self._lock = threading.Lock()
        self._buffer = b""
        self._offset = 0

    def take(self, count: int) -> bytes:
        with self._lock:
            if len(self._buffer) - self._offset < count:
                self._buffer, self._offset = os.urandom(max(count, self._refill)), 0
            start, self._offset = self._offset, self._offset + count
            return self._buffer[start : self._offset]


_RANDOM = _RandomPool()


def _holders(conn: Connection, keys: list[str]) -> dict[str, str]:
    """dedupe key -> id of the inbox row holding it."""
    stmt = select(_INBOX.c.dedupe_key, _INBOX.c.id).where(_INBOX.c.dedupe_key.in_(keys))
    return {key: message_id for key, message_id in conn.execute(stmt)}


def _results(
    messages: Sequence[IncomingMessage], candidates: _Candidates, holders: dict[str, str]
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


def _event_detail(msg: IncomingMessage, result: ReceiveResult) -> str:
    if result.duplicate:
        return f"redelivery {msg.delivery_id or ''}".strip()
    return msg.kind


# --- SQLite: plain SQL on the driver's connection, one statement per table -----------------

_INBOX_COLUMNS = (
    "id, dedupe_key, source_system, kind, delivery_id, correlation_id, content_type, headers, "
    "raw_body, status, received_at"
)
_EVENT_COLUMNS = "at, kind, message_id, correlation_id, system, detail"
_MAX_CHUNK_ROWS = 512

# WAL pages after which a commit also checkpoints (SQLite's default is 1000). The checkpoint runs
# in the committing writer, so the senders of the next batch wait for it: 100 pages (~400 KB)
# take about a millisecond, where 1000 took 5-40 ms under load and set the receiver's p99.
SQLITE_WAL_AUTOCHECKPOINT_PAGES = 100
_CHECKPOINT_SET = "tandem_inbox_wal_autocheckpoint"


def _sqlite_receive(
    hub: Hub, messages: Sequence[IncomingMessage], candidates: _Candidates
) -> list[ReceiveResult]:
    pooled = hub.engine.raw_connection()
    try:
        driver = pooled.driver_connection
        assert isinstance(driver, sqlite3.Connection)  # the pysqlite dialect's driver
        if not pooled.info.get(_CHECKPOINT_SET):
            driver.execute(f"PRAGMA wal_autocheckpoint={SQLITE_WAL_AUTOCHECKPOINT_PAGES}")
            pooled.info[_CHECKPOINT_SET] = True
        return _sqlite_transaction(driver, messages, candidates)
    except sqlite3.Error as exc:
        # the same exception types as every other hub path; never the bodies in the message
        raise DBAPIError.instance(
            None, None, exc, sqlite3.Error, hide_parameters=True, dialect=hub.engine.dialect
        ) from exc
    finally:
        pooled.close()


def _sqlite_transaction(
    driver: sqlite3.Connection, messages: Sequence[IncomingMessage], candidates: _Candidates
) -> list[ReceiveResult]:
    """BEGIN, one INSERT per table (for batches up to ``_MAX_CHUNK_ROWS``), COMMIT."""
    cursor = driver.cursor()
    cursor.execute("BEGIN IMMEDIATE")
    try:
        holders = _sqlite_insert_new(cursor, candidates)
        results = _results(messages, candidates, holders)
        _sqlite_log_events(cursor, messages, results)
        cursor.execute("COMMIT")
    except BaseException:
        if driver.in_transaction:
            driver.rollback()
        raise
    finally:
        cursor.close()
    return results


@functools.cache
def _sqlite_insert_sql(table: str, columns: str, width: int, rows: int, tail: str) -> str:
    row = "(" + ", ".join(["?"] * width) + ")"
    return f"INSERT INTO {table} ({columns}) VALUES {', '.join([row] * rows)}{tail}"


def _chunked(rows: list[tuple[Any, ...]]) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """The rows as (row count, flat parameters), at most ``_MAX_CHUNK_ROWS`` at a time."""
    for start in range(0, len(rows), _MAX_CHUNK_ROWS):
        chunk = rows[start : start + _MAX_CHUNK_ROWS]
        yield len(chunk), tuple(value for row in chunk for value in row)


def _sqlite_instant(value: datetime | None) -> str:
    """An aware instant as SQLAlchemy stores ``UtcDateTime`` on SQLite (UTC wall time)."""
    if value is None:
        value = utcnow()
    elif value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value!r} cannot be stored as an instant")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _sqlite_insert_new(cursor: sqlite3.Cursor, candidates: _Candidates) -> dict[str, str]:
    """Insert what is not held yet; dedupe key -> the id of the row holding it."""
    rows = [
        (
            message_id,
            key,
            msg.source_system,
            msg.kind,
            msg.delivery_id,
            msg.correlation_id,
            msg.content_type,
            _headers_json(msg.headers),
            msg.body,
            InboxStatus.RECEIVED.value,
            _sqlite_instant(msg.received_at),
        )
        for key, (message_id, msg) in candidates.items()
    ]
    inserted = 0
    tail = " ON CONFLICT (dedupe_key) DO NOTHING"
    for size, params in _chunked(rows):
        cursor.execute(_sqlite_insert_sql("inbox", _INBOX_COLUMNS, 11, size, tail), params)
        inserted += cursor.rowcount
    if inserted == len(candidates):  # every key was new: each is held by its own row
        return {key: message_id for key, (message_id, _) in candidates.items()}
    holders: dict[str, str] = {}
    keys = list(candidates)
    for start in range(0, len(keys), _MAX_CHUNK_ROWS):
        chunk = keys[start : start + _MAX_CHUNK_ROWS]
        marks = ", ".join(["?"] * len(chunk))
        sql = f"SELECT dedupe_key, id FROM inbox WHERE dedupe_key IN ({marks})"
        holders.update(cursor.execute(sql, chunk).fetchall())
    return holders


def _sqlite_log_events(
    cursor: sqlite3.Cursor, messages: Sequence[IncomingMessage], results: list[ReceiveResult]
) -> None:
    now = _sqlite_instant(utcnow())
    rows = [
        (
            now,
            "duplicate" if result.duplicate else "received",
            result.message_id,
            None if result.duplicate else msg.correlation_id,
            msg.source_system,
            _event_detail(msg, result),
        )
        for msg, result in zip(messages, results, strict=True)
    ]
    for size, params in _chunked(rows):
        cursor.execute(_sqlite_insert_sql("events", _EVENT_COLUMNS, 6, size, ""), params)


# --- PostgreSQL and others: SQLAlchemy Core -----------------------------------------------


def _row(message_id: str, msg: IncomingMessage) -> dict[str, Any]:
    return {
        "id": message_id,
        "dedupe_key": msg.dedupe_key,
        "source_system": msg.source_system,
        "kind": msg.kind,
        "delivery_id": msg.delivery_id,
        "correlation_id": msg.correlation_id,
        "content_type": msg.content_type,
        "headers": _headers_json(msg.headers),
        "raw_body": msg.body,
        "status": InboxStatus.RECEIVED,
        "received_at": msg.received_at or utcnow(),
    }


def _insert_new_returning(conn: Connection, candidates: _Candidates) -> dict[str, str]:
    """Insert what is not held yet; dedupe key -> the id of the row holding it."""
    inserted = _insert_new(conn, candidates)
    holders = {key: mid for key, (mid, _) in candidates.items() if mid in inserted}
    held_before = [key for key in candidates if key not in holders]
    if held_before:
        holders.update(_holders(conn, held_before))
    return holders


def _insert_new(conn: Connection, candidates: _Candidates) -> set[str]:
    """Insert what is not held yet; the ids actually inserted."""
    rows = [_row(message_id, msg) for message_id, msg in candidates.values()]
    if conn.dialect.name == "postgresql":
        stmt: Insert = postgresql.insert(_INBOX).on_conflict_do_nothing(
            index_elements=["dedupe_key"]
        )
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


def _log_events(
    conn: Connection, messages: Sequence[IncomingMessage], results: list[ReceiveResult]
) -> None:
    now = utcnow()
    events = [
        {
            "kind": "duplicate" if result.duplicate else "received",
            "at": now,
            "message_id": result.message_id,
            "delivery_id": None,
            "correlation_id": None if result.duplicate else msg.correlation_id,
            "system": msg.source_system,
            "actor": None,
            "detail": _event_detail(msg, result),
        }
        for msg, result in zip(messages, results, strict=True)
    ]
    # RETURNING again for one multi-row INSERT rather than one statement per event.
    conn.execute(insert(_EVENTS).returning(_EVENTS.c.id), events)
