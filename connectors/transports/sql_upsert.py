"""Idempotent batched upserts with the database's own statement.

PostgreSQL ``INSERT .. ON CONFLICT (key) DO UPDATE .. WHERE <a column differs>``, SQLite the same
(``ON CONFLICT .. DO UPDATE``), MariaDB/MySQL ``INSERT .. ON DUPLICATE KEY UPDATE``. The key
columns must carry a primary key or unique constraint. Writing the same rows twice leaves the
same table (the second time every row counts as unchanged).

Each batch is one transaction, retried as a whole on transient errors. A batch refused for its
data (integrity, type, NULL) is written again row by row: the good rows are kept and each bad
one is reported in ``WriteResult.rejected`` with a ``PermanentError`` naming the table and key.
Counts come from a key lookup in the same transaction; with concurrent writers of the same keys
they are approximate, the table contents are not.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sx
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from canonical.errors import PermanentError
from connectors.transports.retry import RetryPolicy
from connectors.transports.sql import reflect_table, run_with_retries

Row = Mapping[str, Any]
MAX_PARAMETERS = 30_000  # below SQLite's 32,766 and PostgreSQL's 65,535 bind parameters


@dataclass(frozen=True)
class RejectedRow:
    key: tuple[Any, ...]
    error: PermanentError


@dataclass(frozen=True)
class WriteResult:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: tuple[RejectedRow, ...] = ()

    def __add__(self, other: WriteResult) -> WriteResult:
        return WriteResult(
            self.inserted + other.inserted,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
            self.rejected + other.rejected,
        )


class UpsertWriter:
    """Upserts rows (dicts of column values) into ``table`` by ``key_cols``."""

    def __init__(
        self,
        engine: Engine,
        table: str | sa.Table,
        key_cols: Sequence[str],
        *,
        batch_size: int = 500,
        schema: str | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        if not key_cols:
            raise ValueError("key_cols must name the primary key or a unique key")
        self.engine = engine
        self._table_arg = table
        self.name = table if isinstance(table, str) else table.name
        self.key_cols = tuple(key_cols)
        self.batch_size = max(1, batch_size)
        self.schema = schema
        self.retry = retry or RetryPolicy()
        self._table: sa.Table | None = None
        if engine.dialect.name not in ("postgresql", "sqlite", "mysql", "mariadb"):
            raise PermanentError(f"table {self.name}: no upsert for {engine.dialect.name}")

    def table(self) -> sa.Table:
        if self._table is None:
            if isinstance(self._table_arg, sa.Table):
                self._table = self._table_arg
            else:
                self._table = reflect_table(
                    self.engine, self.name, schema=self.schema, retry=self.retry
                )
        return self._table

    def key_of(self, row: Row) -> tuple[Any, ...]:
        return tuple(row.get(k) for k in self.key_cols)

    def write(self, rows: Sequence[Row]) -> WriteResult:
        """Upserts ``rows``; later rows win over earlier ones with the same key."""
        table = self.table()
        result = WriteResult()
        groups: dict[tuple[str, ...], dict[tuple[Any, ...], dict[str, Any]]] = {}
        for row in rows:
            problem = self._check(table, row)
            if problem is not None:
                result += WriteResult(rejected=(RejectedRow(self.key_of(row), problem),))
                continue
            columns = tuple(sorted(row))
            groups.setdefault(columns, {})[self.key_of(row)] = dict(row)
        for columns, by_key in groups.items():
            size = max(1, min(self.batch_size, MAX_PARAMETERS // len(columns)))
            batch = list(by_key.values())
            for start in range(0, len(batch), size):
                result += self._write_batch(table, batch[start : start + size])
        return result

    def _check(self, table: sa.Table, row: Row) -> PermanentError | None:
        key = self.key_of(row)
        unknown = sorted(set(row) - set(table.c.keys()))
        if unknown:
            return PermanentError(f"table {self.name} key {key!r}: unknown column(s) {unknown}")
        missing = [k for k in self.key_cols if row.get(k) is None]
        if missing:
            return PermanentError(f"table {self.name}: row without key column(s) {missing}")
        return None

    def _write_batch(self, table: sa.Table, batch: list[dict[str, Any]]) -> WriteResult:
        try:
            return self._attempt(
                table, batch, key=self.key_of(batch[0]) if len(batch) == 1 else None
            )
        except PermanentError as exc:
            if not isinstance(exc.__cause__, sx.IntegrityError | sx.DataError):
                raise
            if len(batch) == 1:
                return WriteResult(rejected=(RejectedRow(self.key_of(batch[0]), exc),))
        result = WriteResult()
        for row in batch:  # find the rows the database refuses; keep the others
            result += self._write_batch(table, [row])
        return result

    def _attempt(self, table: sa.Table, batch: list[dict[str, Any]], key: Any) -> WriteResult:
        def transaction() -> WriteResult:
            with self.engine.begin() as conn:
                return self._upsert(conn, table, batch)

        return run_with_retries(
            self.engine, transaction, self.retry, what="upsert", table=self.name, key=key
        )

    def _existing(self, conn: Connection, table: sa.Table, batch: list[dict[str, Any]]) -> int:
        keys = [table.c[k] for k in self.key_cols]
        if len(keys) == 1:
            where = keys[0].in_([row[self.key_cols[0]] for row in batch])
        else:
            where = sa.tuple_(*keys).in_([self.key_of(row) for row in batch])
        found = conn.execute(sa.select(sa.func.count()).select_from(table).where(where))
        return int(found.scalar_one())

    def _upsert(
        self, conn: Connection, table: sa.Table, batch: list[dict[str, Any]]
    ) -> WriteResult:
        existing = self._existing(conn, table, batch)
        if conn.dialect.name in ("mysql", "mariadb"):
            count = conn.execute(self._statement(table, batch)).rowcount
        else:  # a multi-row INSERT's rowcount is not reliable through every driver
            count = len(conn.execute(self._statement(table, batch)).all())
        total = len(batch)
        inserted = total - existing
        # MariaDB (FOUND_ROWS): 1 per inserted or unchanged row, 2 per updated one;
        # PostgreSQL and SQLite return inserted and changed rows only
        mysql_like = conn.dialect.name in ("mysql", "mariadb")
        updated = count - total if mysql_like else count - inserted
        updated = max(0, min(updated, existing))
        return WriteResult(inserted, updated, existing - updated)

    def _statement(self, table: sa.Table, batch: list[dict[str, Any]]) -> Any:
        columns = [c for c in batch[0] if c not in self.key_cols]
        dialect = self.engine.dialect.name
        if dialect in ("mysql", "mariadb"):
            stmt = mysql.insert(table).values(batch)
            assignments = {c: stmt.inserted[c] for c in columns} or {
                self.key_cols[0]: table.c[self.key_cols[0]]
            }
            return stmt.on_duplicate_key_update(assignments)
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        upsert: Any = insert(table).values(batch)
        return self._on_conflict(table, upsert, columns)

    def _on_conflict(self, table: sa.Table, stmt: Any, columns: list[str]) -> Any:
        """PostgreSQL and SQLite share the ON CONFLICT form; unchanged rows are not touched."""
        touched: sa.ColumnElement[Any] = sa.literal_column("1")
        if not columns:
            return stmt.on_conflict_do_nothing(index_elements=list(self.key_cols)).returning(
                touched
            )
        changed = sa.or_(*(table.c[c].is_distinct_from(stmt.excluded[c]) for c in columns))
        return stmt.on_conflict_do_update(
            index_elements=list(self.key_cols),
            set_={c: stmt.excluded[c] for c in columns},
            where=changed,
        ).returning(touched)
