"""One staging table each: an export table read incrementally, an import table upserted.

``ExportTable.read(cursor)`` yields pages of ``RawRecord`` in (change column, key) order
(``readers``: a timestamp through the SQL transport's ``Watermark``, or a change sequence).
A row the connector cannot take (a number column that is no number, a required column that
is empty) comes back as ``Quarantined`` naming table, key and column, with the row as JSON;
the cursor moves past it. A row with an empty key column cannot be ordered by key: it is
quarantined with the first page whose cursor reaches its change value (a page of later rows;
the last rows of a read wait for the next).

``ImportTable.write(records)`` turns records (field names) into rows (column names), upserts
them by key and answers per record: the ERP's key as ``external_id``, ``created`` when the key
was new. A value its column's type cannot take (checked first, alike on every database: see
``values``) or a row the database refuses (NOT NULL, constraint) is a permanent ``Rejected``
naming table, key and column; the others are written.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from canonical.errors import PermanentError, TandemError
from connectors.base import Ack, Outcome, Page, Quarantined, RawRecord, Rejected
from connectors.erp_sql.readers import ChangeReader, SequenceReader, TimestampReader
from connectors.erp_sql.settings import ErpSqlSettings, TableSpec
from connectors.erp_sql.values import as_number, for_column
from connectors.transports.sql import run_with_retries
from connectors.transports.sql_upsert import UpsertWriter

Row = dict[str, Any]


def key_text(values: Sequence[Any]) -> str:
    """A record's key as the connector reports it: the key values joined by ``|``."""
    return "|".join("" if v is None else str(v) for v in values)


def _json_default(value: Any) -> str:
    return value.isoformat() if isinstance(value, date | datetime) else str(value)


def change_reader(engine: Engine, settings: ErpSqlSettings, spec: TableSpec) -> ChangeReader:
    """The reader for ``spec``'s change column: a timestamp or a sequence."""
    assert spec.cursor is not None
    keys = [spec.column(k) for k in spec.key]
    if spec.cursor_type == "sequence":
        return SequenceReader(
            engine,
            spec.table,
            sequence_col=spec.column(spec.cursor),
            key_cols=keys,
            batch_size=settings.page_size,
            schema=settings.table_schema,
            retry=settings.retry,
        )
    return TimestampReader(
        engine,
        spec.table,
        updated_at_col=spec.column(spec.cursor),
        key_cols=keys,
        overlap=timedelta(seconds=settings.overlap_seconds),
        batch_size=settings.page_size,
        schema=settings.table_schema,
        retry=settings.retry,
    )


class ExportTable:
    """An ERP export table, read after a cursor (see the module doc)."""

    def __init__(self, engine: Engine, settings: ErpSqlSettings, role: str, stream: str) -> None:
        self.spec = settings.table(role)
        if self.spec.cursor is None:
            raise PermanentError(f"erp_sql table {self.spec.table}: no cursor column configured")
        self.stream = stream
        self.reader = change_reader(engine, settings, self.spec)

    def read(self, cursor: str | None) -> Iterator[Page]:
        covered = self.reader.start(cursor)
        for keyed, after, top in self.reader.pages(cursor):
            records: list[RawRecord] = []
            quarantined: list[Quarantined] = []
            rows = keyed
            if top != covered:  # rows without a key, up to this page's end
                rows = self.reader.keyless(covered, top) + keyed
                covered = top
            for row in rows:
                taken = self.record(row)
                if isinstance(taken, RawRecord):
                    records.append(taken)
                else:
                    quarantined.append(taken)
            yield Page(records=records, cursor=after, quarantined=quarantined)

    def fields(self, row: Mapping[str, Any]) -> Row:
        """The row under field names: the configured columns, or every column as it is."""
        if not self.spec.columns:
            return dict(row)
        missing = sorted(c for c in self.spec.columns.values() if c not in row)
        if missing:
            raise PermanentError(f"table {self.spec.table}: no column(s) {missing}")
        return {name: row[column] for name, column in self.spec.columns.items()}

    def record(self, row: Mapping[str, Any]) -> RawRecord | Quarantined:
        data = self.fields(row)
        key = key_text([data.get(k) for k in self.spec.key])
        where = f"table {self.spec.table} key {key!r}"
        problems = [f"column {self.spec.column(f)}: is empty" for f in self._empty(data)]
        for name in self.spec.numbers:
            try:
                data[name] = as_number(data.get(name))
            except ValueError as exc:
                problems.append(f"column {self.spec.column(name)}: {exc}")
        if problems:
            raw = json.dumps(dict(row), default=_json_default, sort_keys=True).encode()
            return Quarantined(self.stream, where, f"{where}: " + "; ".join(problems), raw)
        changed = data.get(self.spec.cursor or "")
        version = changed.isoformat() if isinstance(changed, datetime) else None
        return RawRecord(self.stream, key, data, version=version, source=where)

    def _empty(self, data: Row) -> list[str]:
        return [
            f
            for f in (*self.spec.key, *self.spec.required)
            if data.get(f) is None or (isinstance(data.get(f), str) and not data[f].strip())
        ]


class ImportTable:
    """An ERP import table, upserted by key (see the module doc)."""

    def __init__(self, engine: Engine, settings: ErpSqlSettings, role: str) -> None:
        self.engine = engine
        self.spec = settings.table(role)
        self.retry = settings.retry
        self.key_cols = tuple(self.spec.column(k) for k in self.spec.key)
        self.writer = UpsertWriter(
            engine,
            self.spec.table,
            self.key_cols,
            batch_size=settings.page_size,
            schema=settings.table_schema,
            retry=settings.retry,
        )

    def row(self, record: Mapping[str, Any]) -> Row:
        """The table row for a record: field names to columns, plus ``set_on_write``."""
        if self.spec.columns:
            unknown = sorted(set(record) - set(self.spec.columns) - set(self.spec.key))
            if unknown:
                raise PermanentError(
                    f"table {self.spec.table} key {self.key_of(record)!r}: no column "
                    f"configured for field(s) {unknown}"
                )
        row = {self.spec.column(name): value for name, value in record.items()}
        row.update(self.spec.set_on_write)
        return row

    def key_of(self, record: Mapping[str, Any]) -> str:
        return key_text([record.get(k) for k in self.spec.key])

    def typed(self, table: sa.Table, row: Row, key: str) -> Row:
        """``row`` with each value as its column's type takes it; a PermanentError naming
        every column whose value does not fit (unknown columns are the writer's to name)."""
        problems: list[str] = []
        typed: Row = {}
        for column, value in row.items():
            try:
                typed[column] = for_column(table.c[column], value) if column in table.c else value
            except ValueError as exc:
                problems.append(f"column {column}: {exc}")
        if problems:
            raise PermanentError(f"table {self.spec.table} key {key!r}: " + "; ".join(problems))
        return typed

    def existing(self, keys: Sequence[tuple[Any, ...]]) -> set[tuple[Any, ...]]:
        """Which of ``keys`` (column values) the table holds already."""
        wanted = [k for k in keys if None not in k]
        if not wanted:
            return set()
        table = self.writer.table()
        columns = [table.c[c] for c in self.key_cols]
        found: set[tuple[Any, ...]] = set()
        size = max(1, 1000 // len(columns))
        for start in range(0, len(wanted), size):
            chunk = wanted[start : start + size]
            where = (
                columns[0].in_([k[0] for k in chunk])
                if len(columns) == 1
                else sa.tuple_(*columns).in_(chunk)
            )

            def run(where: Any = where) -> list[tuple[Any, ...]]:
                with self.engine.connect() as conn:
                    return [tuple(r) for r in conn.execute(sa.select(*columns).where(where))]

            rows = run_with_retries(
                self.engine, run, self.retry, what="looking up", table=self.spec.table
            )
            found.update(rows)
        return found

    def write(self, records: Sequence[Mapping[str, Any]]) -> list[Outcome]:
        """One outcome per record, in order (see the module doc)."""
        if not records:
            return []
        outcomes: dict[int, Outcome] = {}
        rows: dict[int, Row] = {}
        try:
            table = self.writer.table()
        except TandemError as exc:
            return [Rejected(self.key_of(record), exc) for record in records]
        for i, record in enumerate(records):
            try:
                rows[i] = self.typed(table, self.row(record), self.key_of(record))
            except PermanentError as exc:
                outcomes[i] = Rejected(self.key_of(record), exc)
        keys = {i: tuple(row.get(c) for c in self.key_cols) for i, row in rows.items()}
        try:
            before = self.existing(list(keys.values()))
            result = self.writer.write(list(rows.values()))
        except TandemError as exc:  # the whole batch: the database is gone, or the table
            return [outcomes.get(i) or Rejected(self.key_of(r), exc) for i, r in enumerate(records)]
        refused = {r.key: r.error for r in result.rejected}
        for i, key in keys.items():
            text = key_text(key)
            error = refused.get(key)
            outcomes[i] = (
                Rejected(text, error)
                if error is not None
                else Ack(text, external_id=text, created=key not in before)
            )
        return [outcomes[i] for i in range(len(records))]
