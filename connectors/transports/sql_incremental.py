"""Incremental reads of a table or view by an ``(updated_at, key...)`` watermark.

``IncrementalReader.read(cursor)`` yields ``(rows, watermark)`` batches in ``(updated_at, key)``
order. Store the watermark (``str(watermark)`` / ``Watermark.parse``) only once the rows it
covers are durably kept; pass it to the next ``read``.

How rows committed late are caught, and why none is emitted twice:

- Each read starts ``overlap`` before the watermark's ``updated_at`` (the overlap window), so
  a row committed after the previous read but stamped a little earlier (a long transaction,
  an application clock) is still read. Rows with equal ``updated_at`` are ordered by the key
  columns (the tie-breaker), so a tie at a batch boundary is neither skipped nor repeated.
- The watermark remembers the identities ``(updated_at, key)`` of the rows it emitted inside
  the overlap window; rows re-read there are dropped, so a row version is emitted once. A row
  updated again gets a new ``updated_at`` and so is emitted again (as it must be).

The guarantee: a row version is missed only when it becomes visible (commits) with an
``updated_at`` older than ``watermark - overlap`` of a read that already ran, i.e. when it
commits more than ``overlap`` after the time it is stamped with. Choose ``overlap`` longer than
your longest writing transaction plus any clock skew, and prefer timestamps set by the database
(``DEFAULT CURRENT_TIMESTAMP`` / ``ON UPDATE`` / a trigger) over ones sent by applications.
``updated_at`` must change on every update; rows whose ``updated_at`` is NULL are not read. The
watermark's size grows with the rows changed within one overlap window. Key values must be
integers or strings.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from canonical.errors import PermanentError
from connectors.transports.retry import RetryPolicy
from connectors.transports.sql import reflect_table, run_with_retries

Key = tuple[int | str, ...]
Identity = tuple[datetime, Key]


@dataclass(frozen=True)
class Watermark:
    """The last emitted position and the identities emitted inside the overlap window."""

    updated_at: datetime
    key: Key
    seen: frozenset[Identity] = field(default_factory=frozenset)

    @property
    def position(self) -> Identity:
        return (self.updated_at, self.key)

    def emitted(self, identity: Identity) -> bool:
        return identity == self.position or identity in self.seen

    def __str__(self) -> str:
        return json.dumps(
            {
                "v": 1,
                "updated_at": self.updated_at.isoformat(),
                "key": list(self.key),
                "seen": sorted([t.isoformat(), list(k)] for t, k in self.seen),
            },
            separators=(",", ":"),
        )

    @classmethod
    def parse(cls, text: str) -> Watermark:
        """The watermark ``str(watermark)`` wrote; PermanentError naming the problem if bad."""
        try:
            data = json.loads(text)
            seen = frozenset((datetime.fromisoformat(t), _key(k)) for t, k in data.get("seen", []))
            return cls(datetime.fromisoformat(data["updated_at"]), _key(data["key"]), seen)
        except (ValueError, TypeError, KeyError) as exc:
            raise PermanentError(f"invalid SQL watermark {text[:80]!r}: {exc}") from exc


def _key(values: Iterable[Any]) -> Key:
    key = tuple(values)
    for value in key:
        if not isinstance(value, int | str) or isinstance(value, bool):
            raise TypeError(f"key value {value!r} is not an integer or a string")
    return key


def _timestamp(value: Any, column: str) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, str):  # SQLite views report untyped columns as text
        return datetime.fromisoformat(value)
    raise PermanentError(f"column {column}: {value!r} is not a timestamp")


def advance(mark: Watermark | None, emitted: Sequence[Identity], overlap: timedelta) -> Watermark:
    """The watermark after ``emitted``: the furthest position, and the identities still inside
    the overlap window below it."""
    positions = list(emitted) + ([mark.position] if mark else [])
    top = max(positions)
    floor = top[0] - overlap
    seen = {i for i in (*(mark.seen if mark else ()), *positions) if i[0] >= floor and i != top}
    return Watermark(top[0], top[1], frozenset(seen))


class IncrementalReader:
    """Reads ``table_or_view`` in ``batch_size`` batches after a watermark (see module doc)."""

    def __init__(
        self,
        engine: Engine,
        table_or_view: str | sa.Table,
        *,
        updated_at_col: str,
        key_cols: Sequence[str],
        overlap: timedelta = timedelta(0),
        batch_size: int = 500,
        schema: str | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        if not key_cols:
            raise ValueError("key_cols must name at least one column (the tie-breaker)")
        if batch_size < 1 or overlap < timedelta(0):
            raise ValueError("batch_size must be >= 1 and overlap >= 0")
        self.engine = engine
        self._table_arg = table_or_view
        self.name = table_or_view if isinstance(table_or_view, str) else table_or_view.name
        self.updated_at_col = updated_at_col
        self.key_cols = tuple(key_cols)
        self.overlap = overlap
        self.batch_size = batch_size
        self.schema = schema
        self.retry = retry or RetryPolicy()
        self._table: sa.Table | None = None

    def _reflect(self) -> sa.Table:
        if self._table is None:
            if isinstance(self._table_arg, sa.Table):
                self._table = self._table_arg
            else:
                self._table = reflect_table(
                    self.engine, self.name, schema=self.schema, retry=self.retry
                )
            missing = {self.updated_at_col, *self.key_cols} - set(self._table.c.keys())
            if missing:
                raise PermanentError(f"table {self.name}: no column(s) {sorted(missing)}")
        return self._table

    def _bind(self, column: sa.ColumnElement[Any], value: Any) -> sa.ColumnElement[Any]:
        kind = column.type
        if isinstance(kind, sa.types.NullType) and isinstance(value, datetime):
            kind = sa.DateTime()
        return sa.literal(value, kind)

    def _query(self, table: sa.Table, floor: datetime | None, after: Identity | None) -> Any:
        ts = table.c[self.updated_at_col]
        keys = [table.c[k] for k in self.key_cols]
        query = sa.select(table).where(ts.is_not(None))
        if floor is not None:
            query = query.where(ts >= self._bind(ts, floor))
        if after is not None:
            bound = [self._bind(ts, after[0])] + [
                self._bind(c, v) for c, v in zip(keys, after[1], strict=True)
            ]
            query = query.where(sa.tuple_(ts, *keys) > sa.tuple_(*bound))
        return query.order_by(ts, *keys).limit(self.batch_size)

    def _fetch(self, query: Any) -> list[dict[str, Any]]:
        def run() -> list[dict[str, Any]]:
            with self.engine.connect() as conn:
                return [dict(row) for row in conn.execute(query).mappings()]

        return run_with_retries(self.engine, run, self.retry, what="reading", table=self.name)

    def identity(self, row: dict[str, Any]) -> Identity:
        try:
            key = _key(row[k] for k in self.key_cols)
        except TypeError as exc:
            raise PermanentError(f"table {self.name}: {exc}") from exc
        return (_timestamp(row[self.updated_at_col], self.updated_at_col), key)

    def read(
        self, cursor: Watermark | None = None
    ) -> Iterator[tuple[list[dict[str, Any]], Watermark]]:
        """Batches of rows not emitted before, each with the watermark that covers it."""
        table = self._reflect()
        mark = cursor
        floor = None if cursor is None else cursor.updated_at - self.overlap
        after: Identity | None = None
        while True:
            rows = self._fetch(self._query(table, floor, after))
            if not rows:
                return
            identities = [self.identity(row) for row in rows]
            after = identities[-1]
            fresh = [
                (row, ident)
                for row, ident in zip(rows, identities, strict=True)
                if mark is None or not mark.emitted(ident)
            ]
            if fresh:
                mark = advance(mark, [ident for _, ident in fresh], self.overlap)
                yield [row for row, _ in fresh], mark
            if len(rows) < self.batch_size:
                return
