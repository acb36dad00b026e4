"""The streams of the staging-table ERP: customers, stock and sales orders.

- ``customers``: read ``customer_out``, write ``customer_in``;
- ``stock``: read ``stock_out`` (read-only);
- ``sales_orders``: read ``order_status_out`` (the ERP's order states), write
  ``sales_order_in`` with its lines in ``sales_order_line_in``.

A sales order record carries its lines as a list under ``settings.lines_field`` (``lines``).
Its lines are written first, lines the order no longer has are deleted, and its header last:
the ERP's import job starts from headers marked ``N``, so it never picks up an order whose
lines are not all there. An order with a line the database refuses is rejected as a whole
(its header is not written).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from canonical.errors import PermanentError, TandemError, TransientError
from connectors.base import Outcome, Page, Rejected, Stream
from connectors.erp_sql.settings import ErpSqlSettings
from connectors.erp_sql.tables import ExportTable, ImportTable
from connectors.transports.sql import run_with_retries


class StagingStream(Stream):
    """Reads one export table; writes one import table (when the stream has one)."""

    def __init__(
        self,
        name: str,
        engine: Engine,
        settings: ErpSqlSettings,
        *,
        export: str,
        imports: str | None = None,
    ) -> None:
        self.name = name
        self.export = ExportTable(engine, settings, export, name)
        self.imports = ImportTable(engine, settings, imports) if imports else None

    def read(self, cursor: str | None) -> Iterator[Page]:
        return self.export.read(cursor)

    def write(self, records: Sequence[Mapping[str, Any]]) -> list[Outcome]:
        if self.imports is None:
            return super().write(records)
        return self.imports.write(records)


class SalesOrders(StagingStream):
    """Order states from the ERP; orders with lines to the ERP (see the module doc)."""

    def __init__(self, engine: Engine, settings: ErpSqlSettings) -> None:
        super().__init__(
            "sales_orders", engine, settings, export="order_status_out", imports="sales_order_in"
        )
        self.engine = engine
        self.retry = settings.retry
        self.lines_field = settings.lines_field
        self.lines = ImportTable(engine, settings, "sales_order_line_in")
        self.order_key = settings.table("sales_order_in").key
        self.line_no = self.lines.spec.key[-1]  # the line number: the last key field

    def write(self, records: Sequence[Mapping[str, Any]]) -> list[Outcome]:
        assert self.imports is not None
        failed: dict[int, Rejected] = {}
        lines: list[tuple[int, dict[str, Any]]] = []
        for i, record in enumerate(records):
            try:
                lines.extend((i, line) for line in self._lines_of(record))
            except PermanentError as exc:
                failed[i] = Rejected(self.imports.key_of(record), exc)
        written = self.lines.write([line for _, line in lines])
        for (i, line), outcome in zip(lines, written, strict=True):
            if isinstance(outcome, Rejected) and i not in failed:
                failed[i] = Rejected(
                    self.imports.key_of(records[i]), self._line_error(line, outcome)
                )
        heads = [i for i in range(len(records)) if i not in failed]
        try:
            self._drop_stale_lines([records[i] for i in heads])
        except TandemError as exc:
            failed.update({i: Rejected(self.imports.key_of(records[i]), exc) for i in heads})
            heads = []
        header_outcomes = self.imports.write([self._header(records[i]) for i in heads])
        outcomes: dict[int, Outcome] = {**failed, **dict(zip(heads, header_outcomes, strict=True))}
        return [outcomes[i] for i in range(len(records))]

    def _lines_of(self, record: Mapping[str, Any]) -> list[dict[str, Any]]:
        lines = record.get(self.lines_field)
        key = self.imports.key_of(record) if self.imports else ""
        if not isinstance(lines, Sequence) or isinstance(lines, str) or not lines:
            raise PermanentError(f"sales order {key!r}: {self.lines_field}: an order needs lines")
        order = {k: record.get(k) for k in self.order_key}
        if None in order.values():
            raise PermanentError(f"sales order: no {'/'.join(self.order_key)} (the order key)")
        return [
            {**line, **order, self.line_no: line.get(self.line_no) or position}
            for position, line in enumerate(lines, start=1)
        ]

    def _header(self, record: Mapping[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in record.items() if k != self.lines_field}

    def _line_error(self, line: Mapping[str, Any], rejected: Rejected) -> TandemError:
        """The order's error for its line's: transient stays transient (a lost server)."""
        kind = TransientError if rejected.transient else PermanentError
        error = kind(f"line {line.get(self.line_no)}: {rejected.error}")
        error.__cause__ = rejected.error
        return error

    def _drop_stale_lines(self, records: Sequence[Mapping[str, Any]]) -> None:
        """Deletes the lines of these orders beyond the lines they have now."""
        if not records:
            return
        table = self.lines.writer.table()
        spec = self.lines.spec
        order_cols = [table.c[spec.column(k)] for k in self.order_key]
        line_col = table.c[spec.column(self.line_no)]
        statements = []
        for record in records:
            keep = [line[self.line_no] for line in self._lines_of(record)]
            match = sa.and_(
                *(c == record[k] for c, k in zip(order_cols, self.order_key, strict=True))
            )
            statements.append(sa.delete(table).where(match, line_col.not_in(keep)))

        def run() -> None:
            with self.engine.begin() as conn:
                for statement in statements:
                    conn.execute(statement)

        run_with_retries(self.engine, run, self.retry, what="deleting old lines", table=spec.table)
