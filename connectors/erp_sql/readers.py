"""Incremental readers of an export table by (change column, key): a timestamp or a sequence.

Both give ``pages(cursor)``: batches of rows with a whole key in (change, key) order, each with
the cursor after it and the highest change value in it; and ``keyless(lower, upper)``: the rows
with an empty key column whose change value is in ``(lower, upper]`` (they cannot be placed in
key order, so the export table reports them apart).

- ``TimestampReader``: the SQL transport's ``IncrementalReader`` (overlap window for rows
  committed late; the cursor is its ``Watermark``).
- ``SequenceReader``: a change number the ERP counts up with every change (an AS/400 journal
  sequence, an ERP's change log number). The cursor is ``{"seq": n, "key": [...]}``: the last
  row read; rows with the same number are ordered by key. A number is read once, so the ERP
  must hand out numbers in commit order (one writer, or a number taken at commit).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from canonical.errors import PermanentError
from connectors.transports.retry import RetryPolicy
from connectors.transports.sql import reflect_table, run_with_retries
from connectors.transports.sql_incremental import IncrementalReader, Watermark

Row = dict[str, Any]


class ChangeReader(Protocol):
    def start(self, cursor: str | None) -> Any: ...

    def pages(self, cursor: str | None) -> Iterator[tuple[list[Row], str, Any]]: ...

    def keyless(self, lower: Any, upper: Any) -> list[Row]: ...


def _bind(column: sa.ColumnElement[Any], value: Any) -> sa.ColumnElement[Any]:
    kind = column.type
    if isinstance(kind, sa.types.NullType) and isinstance(value, datetime):
        kind = sa.DateTime()
    return sa.literal(value, kind)


def _fetch(engine: Engine, query: Any, retry: RetryPolicy, name: str) -> list[Row]:
    def run() -> list[Row]:
        with engine.connect() as conn:
            return [dict(row) for row in conn.execute(query).mappings()]

    return run_with_retries(engine, run, retry, what="reading", table=name)


def keyless_query(table: sa.Table, change: str, keys: Sequence[str], lower: Any, upper: Any) -> Any:
    column = table.c[change]
    where = [sa.or_(*(table.c[k].is_(None) for k in keys)), column <= _bind(column, upper)]
    if lower is not None:
        where.append(column > _bind(column, lower))
    return sa.select(table).where(*where).order_by(column)


class TimestampReader(IncrementalReader):
    """The transport's reader over the rows with a whole key (see the module doc)."""

    def _query(self, table: sa.Table, floor: datetime | None, after: Any) -> Any:
        query = super()._query(table, floor, after)
        return query.where(*(table.c[k].is_not(None) for k in self.key_cols))

    def start(self, cursor: str | None) -> datetime | None:
        return Watermark.parse(cursor).updated_at if cursor else None

    def pages(self, cursor: str | None) -> Iterator[tuple[list[Row], str, datetime]]:
        for rows, mark in self.read(Watermark.parse(cursor) if cursor else None):
            yield rows, str(mark), mark.updated_at

    def keyless(self, lower: datetime | None, upper: datetime) -> list[Row]:
        query = keyless_query(self._reflect(), self.updated_at_col, self.key_cols, lower, upper)
        return _fetch(self.engine, query, self.retry, self.name)


def _key_value(value: Any, column: str, table: str) -> int | str:
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    if isinstance(value, int | str) and not isinstance(value, bool):
        return value
    raise PermanentError(f"table {table}: column {column}: {value!r} is not a whole number or text")


class SequenceReader:
    """Reads by (change number, key) after the last row read (see the module doc)."""

    def __init__(
        self,
        engine: Engine,
        name: str,
        *,
        sequence_col: str,
        key_cols: Sequence[str],
        batch_size: int,
        schema: str | None,
        retry: RetryPolicy,
    ) -> None:
        self.engine, self.name, self.schema, self.retry = engine, name, schema, retry
        self.sequence_col, self.key_cols, self.batch_size = (
            sequence_col,
            tuple(key_cols),
            batch_size,
        )
        self._table: sa.Table | None = None

    def table(self) -> sa.Table:
        if self._table is None:
            table = reflect_table(self.engine, self.name, schema=self.schema, retry=self.retry)
            missing = {self.sequence_col, *self.key_cols} - set(table.c.keys())
            if missing:
                raise PermanentError(f"table {self.name}: no column(s) {sorted(missing)}")
            self._table = table
        return self._table

    def parse(self, cursor: str | None) -> tuple[int, tuple[int | str, ...]] | None:
        if not cursor:
            return None
        try:
            data = json.loads(cursor)
            return int(data["seq"]), tuple(data["key"])
        except (ValueError, TypeError, KeyError) as exc:
            raise PermanentError(f"invalid sequence cursor {cursor[:80]!r}: {exc}") from exc

    def start(self, cursor: str | None) -> int | None:
        parsed = self.parse(cursor)
        return None if parsed is None else parsed[0]

    def _query(self, after: tuple[int, tuple[int | str, ...]] | None) -> Any:
        table = self.table()
        seq = table.c[self.sequence_col]
        keys = [table.c[k] for k in self.key_cols]
        query = sa.select(table).where(seq.is_not(None), *(k.is_not(None) for k in keys))
        if after is not None:
            bound = [_bind(seq, after[0])] + [
                _bind(c, v) for c, v in zip(keys, after[1], strict=True)
            ]
            query = query.where(sa.tuple_(seq, *keys) > sa.tuple_(*bound))
        return query.order_by(seq, *keys).limit(self.batch_size)

    def pages(self, cursor: str | None) -> Iterator[tuple[list[Row], str, int]]:
        after = self.parse(cursor)
        while True:
            rows = _fetch(self.engine, self._query(after), self.retry, self.name)
            if not rows:
                return
            last = rows[-1]
            after = (
                int(_key_value(last[self.sequence_col], self.sequence_col, self.name)),
                tuple(_key_value(last[k], k, self.name) for k in self.key_cols),
            )
            text = json.dumps({"v": 1, "seq": after[0], "key": list(after[1])})
            yield rows, text, after[0]
            if len(rows) < self.batch_size:
                return

    def keyless(self, lower: int | None, upper: int) -> list[Row]:
        query = keyless_query(self.table(), self.sequence_col, self.key_cols, lower, upper)
        return _fetch(self.engine, query, self.retry, self.name)
