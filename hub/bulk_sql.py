"""The SQL of bulk loading: rows written through the driver, guarded updates, cursors, ids.

``insert_rows`` sends many rows as one ``COPY`` (PostgreSQL) or one ``executemany``
(SQLite) without SQLAlchemy's per-value processing, binding instants exactly as
``hub.types.UtcDateTime`` stores them, so the rows are the same as through the ORM.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Table, bindparam, update
from sqlalchemy.dialects import postgresql, sqlite

from hub.schema import Base, CanonicalRecord, Cursor
from hub.types import UtcDateTime, utcnow

RECORDS = Base.metadata.tables[CanonicalRecord.__tablename__]
_CURSORS = Base.metadata.tables[Cursor.__tablename__]
_ZERO = timedelta(0)


def time_ordered_ids(count: int) -> Iterator[str]:
    """``count`` version-7 UUID hex strings: ids of one batch sort together, so their rows
    land on neighbouring index pages instead of as many random ones."""
    stamp = (time.time_ns() // 1_000_000) << 80 | 0x7 << 76 | 0b10 << 62
    pool = os.urandom(10 * count)
    for start in range(0, 10 * count, 10):
        bits = int.from_bytes(pool[start : start + 10], "big")
        yield f"{stamp | (bits >> 68) << 64 | (bits & 0x3FFF_FFFF_FFFF_FFFF):032x}"


def insert_rows(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert many rows (dicts with the same keys, in the same order) through the driver: one
    ``COPY`` on PostgreSQL, one ``executemany`` on SQLite, without SQLAlchemy's per-value
    processing. Instants are bound as ``UtcDateTime`` stores them (UTC; on SQLite as the text
    SQLAlchemy writes and reads), so the rows are the same as through the ORM."""
    columns = list(rows[0])
    stamps = [i for i, name in enumerate(columns) if isinstance(table.c[name].type, UtcDateTime)]
    names = ", ".join(columns)
    driver = conn.connection.driver_connection
    assert driver is not None
    if conn.dialect.name == "postgresql":
        with (
            driver.cursor() as cursor,
            cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy,
        ):
            for row in rows:
                values = list(row.values())
                for i in stamps:
                    if values[i] is not None:
                        values[i] = _utc(values[i])
                copy.write_row(values)
        return
    texts: dict[datetime, str] = {}
    tuples = []
    for row in rows:
        values = list(row.values())
        for i in stamps:
            stamp = values[i]
            if stamp is not None:
                text = texts.get(stamp)
                if text is None:
                    text = texts[stamp] = _utc(stamp).strftime(_SQLITE_STAMP)
                values[i] = text
        tuples.append(values)
    marks = ", ".join("?" * len(columns))
    cursor = driver.cursor()
    try:
        cursor.executemany(f"INSERT INTO {table.name} ({names}) VALUES ({marks})", tuples)
    finally:
        cursor.close()


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
