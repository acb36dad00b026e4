"""The SQL of bulk loading: rows written through the driver, guarded updates, cursors, ids,
and a record's stored payload and content hash.

``insert_rows`` sends many rows as one binary ``COPY`` (PostgreSQL) or one ``executemany``
(SQLite) without SQLAlchemy's per-value processing, binding instants exactly as
``hub.types.UtcDateTime`` stores them, so the rows are the same as through the ORM;
``keys_in`` looks a batch's keys up with one parameter on PostgreSQL.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from json.encoder import encode_basestring_ascii
from typing import Any

from sqlalchemy import ColumnElement, Connection, Dialect, String, Table, any_, bindparam, update
from sqlalchemy.dialects import postgresql, sqlite

from canonical.models import Record
from hub.schema import Base, CanonicalRecord, Cursor
from hub.types import UtcDateTime, utcnow

RECORDS = Base.metadata.tables[CanonicalRecord.__tablename__]
_CURSORS = Base.metadata.tables[Cursor.__tablename__]
_ZERO = timedelta(0)
_HASH_EXCLUDE = {"id", "updated_at"}
# the columns the bulk path writes, in the order of its rows (the others stay NULL)
INBOX_COLUMNS = ("id", "dedupe_key", "source_system", "kind", "entity", "canonical_id",
                 "content_type", "headers", "raw_body", "status", "error", "received_at",
                 "processed_at")  # fmt: skip
RECORD_COLUMNS = ("id", "entity", "payload", "content_hash", "version", "source_system",
                  "source_updated_at", "created_at", "updated_at")  # fmt: skip
XREF_COLUMNS = ("entity", "canonical_id", "system", "external_id", "external_version",
                "created_at", "updated_at")  # fmt: skip
DELIVERY_COLUMNS = ("message_id", "target_system", "entity", "canonical_id",
                    "record_version", "status", "attempts", "next_attempt_at", "created_at",
                    "updated_at")  # fmt: skip

json_text: Callable[[str], str] = encode_basestring_ascii
"""A string as JSON text: what ``json.dumps`` does with one, without its per-call set-up."""


def hash_and_payload(record: Record, canonical_id: str) -> tuple[str, str]:
    """``content_hash(record)`` and the stored payload (the record with its canonical id),
    from one serialisation: the payload is the hashed body with ``id`` and ``updated_at``
    put in front (field order does not matter to a reader; the hash is that of
    ``hub.session.content_hash``)."""
    body = record.model_dump_json(exclude=_HASH_EXCLUDE)
    digest = hashlib.sha256(body.encode()).hexdigest()
    stamp = record.updated_at
    head = '{"id":' + json_text(canonical_id) + ',"updated_at":'
    head += "null" if stamp is None else '"' + stamp.isoformat().replace("+00:00", "Z") + '"'
    return digest, head + ("}" if body == "{}" else "," + body[1:])


def time_ordered_ids(count: int) -> Iterator[str]:
    """``count`` version-7 UUID hex strings: ids of one batch sort together, so their rows
    land on neighbouring index pages instead of as many random ones."""
    stamp = (time.time_ns() // 1_000_000) << 80 | 0x7 << 76 | 0b10 << 62
    pool = os.urandom(10 * count)
    for start in range(0, 10 * count, 10):
        bits = int.from_bytes(pool[start : start + 10], "big")
        yield f"{stamp | (bits >> 68) << 64 | (bits & 0x3FFF_FFFF_FFFF_FFFF):032x}"


def insert_rows(
    conn: Connection, table: Table, columns: Sequence[str], rows: list[list[Any]]
) -> None:
    """Insert many rows (lists of the ``columns``' values; the columns left out are NULL)
    through the driver: one binary ``COPY`` on PostgreSQL, one ``executemany`` on SQLite,
    without SQLAlchemy's per-value processing. Instants are bound as ``UtcDateTime`` stores
    them (UTC; on SQLite as the text SQLAlchemy writes and reads), each distinct one converted
    once, so the rows are the same as through the ORM. The rows' lists are reused for that."""
    stamps = [i for i, name in enumerate(columns) if isinstance(table.c[name].type, UtcDateTime)]
    postgres = conn.dialect.name == "postgresql"
    bound: dict[datetime, Any] = {}
    for row in rows:
        for i in stamps:
            stamp = row[i]
            if stamp is not None:
                value = bound.get(stamp)
                if value is None:
                    value = _utc(stamp) if postgres else _utc(stamp).strftime(_SQLITE_STAMP)
                    bound[stamp] = value
                row[i] = value
    names = ", ".join(columns)
    driver = conn.connection.driver_connection
    assert driver is not None
    if postgres:
        with (
            driver.cursor() as cursor,
            cursor.copy(f"COPY {table.name} ({names}) FROM STDIN (FORMAT BINARY)") as copy,
        ):
            copy.set_types(_copy_types(conn.dialect, table, tuple(columns)))
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" * len(columns))
    cursor = driver.cursor()
    try:
        cursor.executemany(f"INSERT INTO {table.name} ({names}) VALUES ({marks})", rows)
    finally:
        cursor.close()


_PG_TYPES = {"TIMESTAMP WITH TIME ZONE": "timestamptz", "INTEGER": "int4", "BIGINT": "int8"}


@lru_cache
def _copy_types(dialect: Dialect, table: Table, columns: tuple[str, ...]) -> list[str]:
    """The PostgreSQL types of ``columns``, for a binary ``COPY`` (no text to format on our
    side and to parse on the server's: a third less time than text)."""
    found = []
    for name in columns:
        compiled = table.c[name].type.compile(dialect=dialect).split("(")[0]
        found.append(_PG_TYPES.get(compiled, compiled.lower()))
    return found


def keys_in(column: ColumnElement[str], dialect: str) -> ColumnElement[bool]:
    """``column`` is one of the list bound as ``keys``: one array parameter on PostgreSQL
    (``= ANY``: a batch's thousands of keys are not thousands of parameters to send and
    plan), an expanded ``IN`` on SQLite."""
    if dialect == "postgresql":
        return column == any_(bindparam("keys", type_=postgresql.ARRAY(String)))
    return column.in_(bindparam("keys", expanding=True))


_SQLITE_STAMP = "%Y-%m-%d %H:%M:%S.%f"  # SQLAlchemy's storage format for DateTime on SQLite


def _utc(stamp: datetime) -> datetime:
    if stamp.tzinfo is None or stamp.utcoffset() is None:
        raise ValueError(f"naive datetime {stamp!r} cannot be stored as an instant")
    return stamp if stamp.utcoffset() == _ZERO else stamp.astimezone(UTC)


def set_cursor(conn: Connection, name: str, value: str) -> None:
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    stmt = insert(_CURSORS).values(name=name, value=value, updated_at=utcnow())
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[_CURSORS.c.name],
            set_={"value": stmt.excluded.value, "updated_at": stmt.excluded.updated_at},
        )
    )


def as_uuid(hexa: str) -> str:
    return f"{hexa[:8]}-{hexa[8:12]}-{hexa[12:16]}-{hexa[16:20]}-{hexa[20:]}"


UPDATE_RECORD = (
    update(RECORDS)
    .where(RECORDS.c.id == bindparam("b_id"), RECORDS.c.version == bindparam("b_version"))
    .values(
        payload=bindparam("payload"),
        content_hash=bindparam("content_hash"),
        version=bindparam("version"),
        source_system=bindparam("source_system"),
        source_updated_at=bindparam("source_updated_at"),
        updated_at=bindparam("updated_at"),
    )
)
