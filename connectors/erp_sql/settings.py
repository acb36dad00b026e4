"""Settings of the ERP staging-table connector: where the database is, and which tables,
keys, change columns and columns the ERP's staging layout uses.

Every table is named by its role (``customer_out``, ``stock_out``, ``order_status_out``,
``customer_in``, ``sales_order_in``, ``sales_order_line_in``) and described by a
``TableSpec``; the defaults are the layout in docs/connectors/erp_sql.md. Another ERP's
staging tables work by configuration: give the role its table name, key and change columns,
and in ``columns`` the ERP's column for each field the mappings use.
"""

from __future__ import annotations

import json
from typing import Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from canonical.errors import PermanentError
from connectors.connection import Connection, settings_error
from connectors.transports.retry import RetryPolicy
from connectors.transports.sql import SqlSettings, safe_url

DRIVERS = {
    "postgres": "postgresql+psycopg",
    "postgresql": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mysql+pymysql",
    "sqlite": "sqlite",
}
_EXTRAS = ("table_schema", "page_size", "overlap_seconds", "connect_timeout", "tables", "retry")


class TableSpec(BaseModel):
    """One staging table. Field names are what records carry; ``columns`` maps a field to the
    table's column when they differ (empty: every column, under its own name)."""

    model_config = ConfigDict(frozen=True)

    table: str = Field(min_length=1)
    key: tuple[str, ...] = Field(min_length=1)
    cursor: str | None = None  # the change column of an export table
    cursor_type: Literal["timestamp", "sequence"] = "timestamp"  # what the change column holds
    columns: dict[str, str] = Field(default_factory=dict)
    numbers: tuple[str, ...] = ()  # fields that must read as decimal numbers
    required: tuple[str, ...] = ()  # fields that must have a value
    set_on_write: dict[str, Any] = Field(default_factory=dict)  # e.g. the ERP's pick-up flag

    def column(self, field: str) -> str:
        return self.columns.get(field, field)


_CUSTOMER_FIELDS = (
    "name",
    "name_2",
    "address",
    "address_2",
    "post_code",
    "city",
    "county",
    "country_code",
    "email",
    "phone_no",
    "vat_reg_no",
    "currency_code",
    "payment_terms_code",
    "credit_limit",
)

DEFAULT_TABLES: dict[str, TableSpec] = {
    "customer_out": TableSpec(
        table="erp_customer_out",
        key=("customer_no",),
        cursor="changed_at",
        numbers=("credit_limit",),
        required=("name",),
    ),
    "stock_out": TableSpec(
        table="erp_item_stock_out",
        key=("item_no", "location_code"),
        cursor="changed_at",
        numbers=("qty_on_hand", "qty_reserved", "qty_available"),
    ),
    "order_status_out": TableSpec(
        table="erp_order_status_out",
        key=("order_no",),
        cursor="changed_at",
        required=("status_code",),
    ),
    "customer_in": TableSpec(
        table="erp_customer_in",
        key=("ext_customer_id",),
        set_on_write={"process_status": "N", "process_message": None},
    ),
    "sales_order_in": TableSpec(
        table="erp_sales_order_in",
        key=("ext_order_no",),
        set_on_write={"process_status": "N", "process_message": None},
    ),
    "sales_order_line_in": TableSpec(
        table="erp_sales_order_line_in", key=("ext_order_no", "line_no")
    ),
}


class ErpSqlSettings(BaseModel):
    """``url`` is secret (only ``safe_url()`` shows it); ``table_schema`` qualifies the tables
    (a PostgreSQL schema or a MariaDB database); ``page_size`` rows per page read and per
    statement written; ``overlap_seconds`` how far before its cursor a read looks again for
    rows committed late (see connectors/transports/sql_incremental.py)."""

    model_config = ConfigDict(frozen=True, hide_input_in_errors=True)

    url: SecretStr
    table_schema: str | None = None
    tables: dict[str, TableSpec] = Field(default_factory=lambda: dict(DEFAULT_TABLES))
    page_size: int = Field(default=500, ge=1)
    overlap_seconds: float = Field(default=30.0, ge=0)
    connect_timeout: float = Field(default=5.0, gt=0)
    lines_field: str = "lines"
    retry: RetryPolicy = RetryPolicy()

    @field_validator("tables", mode="before")
    @classmethod
    def _over_defaults(cls, value: Any) -> Any:
        """Roles given replace the default layout's; roles not given keep it."""
        if isinstance(value, str):
            value = json.loads(value)
        if isinstance(value, dict):
            return {**DEFAULT_TABLES, **value}
        return value

    def table(self, role: str) -> TableSpec:
        try:
            return self.tables[role]
        except KeyError:
            raise PermanentError(f"erp_sql settings: no table for role {role!r}") from None

    def sql(self) -> SqlSettings:
        return SqlSettings(url=self.url, connect_timeout=self.connect_timeout, retry=self.retry)

    def safe_url(self) -> str:
        return safe_url(self.url.get_secret_value())

    @classmethod
    def from_connection(cls, conn: Connection, **overrides: Any) -> ErpSqlSettings:
        """From an Airflow-style connection: ``conn_type`` postgres / mysql / mariadb /
        sqlite (or ``extra.driver``, e.g. ``postgresql+psycopg2``), host, port, login,
        password, ``schema`` the database (SQLite: the file, from host or schema); extras
        ``table_schema``, ``page_size``, ``overlap_seconds``, ``connect_timeout``, ``retry``
        and ``tables`` (a JSON object by role)."""
        values: dict[str, Any] = {k: conn.extra[k] for k in _EXTRAS if k in conn.extra}
        values["url"] = SecretStr(database_url(conn))
        values.update(overrides)
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            raise settings_error(f"connection {conn.conn_id}", exc) from None
        except ValueError as exc:  # a ``tables`` extra that is not JSON
            raise PermanentError(f"connection {conn.conn_id}: extra tables: {exc}") from None


def database_url(conn: Connection) -> str:
    """The SQLAlchemy URL of ``conn`` (with its password: keep it in a SecretStr)."""
    driver = str(conn.extra.get("driver") or DRIVERS.get(conn.conn_type.lower(), ""))
    if not driver:
        known = ", ".join(sorted(DRIVERS))
        raise PermanentError(
            f"connection {conn.conn_id}: conn_type {conn.conn_type!r} is not a database "
            f"this connector knows ({known}); or give extra.driver"
        )
    if driver.startswith("sqlite"):
        path = conn.host or conn.schema
        if not path:
            raise PermanentError(f"connection {conn.conn_id}: no SQLite file (host or schema)")
        return f"{driver}:///{path}"
    if not conn.host:
        raise PermanentError(f"connection {conn.conn_id}: no host")
    url = sa.URL.create(
        driver,
        username=conn.login,
        password=conn.password.get_secret_value() if conn.password else None,
        host=conn.host,
        port=conn.port,
        database=conn.schema,
    )
    return url.render_as_string(hide_password=False)
