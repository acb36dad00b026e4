"""An ERP that exchanges through staging tables: it changes export rows and imports rows.

``StagingErp(engine)`` plays the ERP's side on any database SQLAlchemy reaches (SQLite,
PostgreSQL, MariaDB):

- ``change_customers(n)`` / ``change_stock(n)`` / ``set_order_status(...)``: the ERP's export
  job writes changed master data and order states into the ``*_out`` tables (new rows first,
  then changes of existing ones), ``changed_at`` stamped at the time of the change;
- ``put_row(table, **values)``: one row exactly as given (a broken export, for tests);
- ``run_import()``: the ERP's import job takes the ``*_in`` rows marked ``N``: customers get a
  customer number and appear in ``erp_customer_out``; sales orders with at least one line get
  an order number and the status ``OPEN`` in ``erp_order_status_out``; others are marked ``E``
  with the reason.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from sandbox.erp_sql.schema import (
    CUSTOMER_IN,
    CUSTOMER_OUT,
    ITEM_STOCK_OUT,
    ORDER_STATUS_OUT,
    SALES_ORDER_IN,
    SALES_ORDER_LINE_IN,
    create_staging_tables,
    staging_metadata,
)

CITIES = [
    ("Hauptstrasse 5", "10115", "Berlin", "DE"),
    ("Rue de Rivoli 12", "75001", "Paris", "FR"),
    ("Keizersgracht 100", "1015 CX", "Amsterdam", "NL"),
    ("Bahnhofstrasse 1", "8001", "Zürich", "CH"),
]
LOCATIONS = ("MAIN", "EAST")
STATUS_FLOW = ("OPEN", "RELEASED", "SHIPPED", "INVOICED")


def now() -> datetime:
    """The ERP's clock: UTC without a zone, to the microsecond (as the columns keep it)."""
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass
class ImportRun:
    customers: int = 0
    orders: int = 0
    errors: int = 0


class StagingErp:
    def __init__(self, engine: sa.Engine, schema: str | None = None, seed: int = 7) -> None:
        self.engine = engine
        self.schema = schema
        self.tables = staging_metadata(schema).tables
        self.random = random.Random(seed)

    def table(self, name: str) -> sa.Table:
        return self.tables[f"{self.schema}.{name}" if self.schema else name]

    def create(self) -> StagingErp:
        create_staging_tables(self.engine, self.schema)
        return self

    # -- the ERP's export job ----------------------------------------------------------------

    def _keys(self, table: sa.Table, *columns: str) -> list[tuple[Any, ...]]:
        with self.engine.connect() as conn:
            query = sa.select(*(table.c[c] for c in columns)).order_by(*columns)
            return [tuple(row) for row in conn.execute(query)]

    def _upsert(self, table: sa.Table, key: dict[str, Any], values: dict[str, Any]) -> None:
        where = sa.and_(*(table.c[k] == v for k, v in key.items()))
        with self.engine.begin() as conn:
            if conn.execute(sa.update(table).where(where).values(**values)).rowcount == 0:
                conn.execute(sa.insert(table).values(**key, **values))

    def customer_values(self, number: int) -> dict[str, Any]:
        street, post_code, city, country = CITIES[number % len(CITIES)]
        return {
            "name": f"Customer {number} GmbH",
            "address": street,
            "post_code": post_code,
            "city": city,
            "country_code": country,
            "email": f"buyer{number}@customer{number}.example",
            "phone_no": f"+49 30 {1000 + number}",
            "currency_code": "EUR",
            "payment_terms_code": "30D",
            "credit_limit": f"{self.random.randint(1, 500) * 100}.00",
        }

    def change_customers(self, n: int, *, new: bool = True) -> list[str]:
        """``n`` customers created (``new``) or changed; their customer numbers."""
        table = self.table(CUSTOMER_OUT)
        existing = [k[0] for k in self._keys(table, "customer_no")]
        if new:
            start = 10000 + len(existing)
            keys = [f"C{start + i}" for i in range(n)]
        else:
            keys = self.random.sample(existing, n)
        for key in keys:
            values = self.customer_values(int(key[1:]) if key[1:].isdigit() else 0)
            values["phone_no"] = f"+49 30 {self.random.randint(1000, 9999)}"
            self._upsert(table, {"customer_no": key}, {**values, "changed_at": now()})
        return keys

    def change_stock(self, n: int) -> list[str]:
        """``n`` new item/location stock rows; their keys ``item|location``."""
        table = self.table(ITEM_STOCK_OUT)
        count = len(self._keys(table, "item_no", "location_code"))
        keys = []
        for i in range(count, count + n):
            item, location = f"ITEM-{1000 + i // 2}", LOCATIONS[i % 2]
            on_hand = Decimal(self.random.randint(0, 500))
            reserved = min(on_hand, Decimal(self.random.randint(0, 50)))
            self._upsert(
                table,
                {"item_no": item, "location_code": location},
                {
                    "qty_on_hand": on_hand,
                    "qty_reserved": reserved,
                    "qty_available": on_hand - reserved,
                    "uom_code": "PCS",
                    "changed_at": now(),
                },
            )
            keys.append(f"{item}|{location}")
        return keys

    def set_order_status(
        self, order_no: str, status: str, *, ext_order_no: str | None = None
    ) -> None:
        values: dict[str, Any] = {"status_code": status, "changed_at": now()}
        if ext_order_no is not None:
            values["ext_order_no"] = ext_order_no
        self._upsert(self.table(ORDER_STATUS_OUT), {"order_no": order_no}, values)

    def advance_orders(self) -> list[str]:
        """Every order not yet invoiced moves one step (OPEN -> RELEASED -> SHIPPED -> ...)."""
        table = self.table(ORDER_STATUS_OUT)
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(table.c.order_no, table.c.status_code)).all()
        moved = []
        for order_no, status in rows:
            if status in STATUS_FLOW[:-1]:
                self.set_order_status(order_no, STATUS_FLOW[STATUS_FLOW.index(status) + 1])
                moved.append(order_no)
        return moved

    def put_row(self, table_name: str, /, **values: Any) -> None:
        """One row exactly as given (``changed_at`` now unless given): a broken export."""
        table = self.table(table_name)
        if "changed_at" in table.c and "changed_at" not in values:
            values["changed_at"] = now()
        with self.engine.begin() as conn:
            conn.execute(sa.insert(table).values(**values))

    # -- the ERP's import job ----------------------------------------------------------------

    def run_import(self) -> ImportRun:
        run = ImportRun()
        self._import_customers(run)
        self._import_orders(run)
        return run

    def _import_customers(self, run: ImportRun) -> None:
        inbox, out = self.table(CUSTOMER_IN), self.table(CUSTOMER_OUT)
        with self.engine.begin() as conn:
            rows = conn.execute(sa.select(inbox).where(inbox.c.process_status == "N")).mappings()
            known = conn.execute(sa.select(sa.func.count()).select_from(out)).scalar_one()
            for row in list(rows):
                # a new customer gets the next number of the ERP's import number range
                number = row["customer_no"] or f"C{30000 + known + run.customers}"
                values = {
                    c: row[c]
                    for c in (col.name for col in out.columns)
                    if c in row and c != "customer_no"
                }
                limit = values.get("credit_limit")
                values["credit_limit"] = None if limit is None else f"{Decimal(limit):.2f}"
                values["changed_at"] = now()
                conn.execute(sa.delete(out).where(out.c.customer_no == number))
                conn.execute(sa.insert(out).values(customer_no=number, **values))
                conn.execute(
                    sa.update(inbox)
                    .where(inbox.c.ext_customer_id == row["ext_customer_id"])
                    .values(process_status="P", customer_no=number)
                )
                run.customers += 1

    def _import_orders(self, run: ImportRun) -> None:
        heads, lines = self.table(SALES_ORDER_IN), self.table(SALES_ORDER_LINE_IN)
        accepted: list[str] = []
        with self.engine.begin() as conn:
            pending = conn.execute(
                sa.select(heads.c.ext_order_no).where(heads.c.process_status == "N")
            ).all()
            for (ext_no,) in pending:
                count = conn.execute(
                    sa.select(sa.func.count()).where(lines.c.ext_order_no == ext_no)
                ).scalar_one()
                done = heads.c.ext_order_no == ext_no
                if not count:
                    message = "order has no lines"
                    conn.execute(
                        sa.update(heads)
                        .where(done)
                        .values(process_status="E", process_message=message)
                    )
                    run.errors += 1
                    continue
                conn.execute(sa.update(heads).where(done).values(process_status="P"))
                accepted.append(ext_no)
        run.orders += len(accepted)
        for ext_no in accepted:
            self.set_order_status(f"SO{date.today():%y}-{ext_no}"[:20], "OPEN", ext_order_no=ext_no)
