"""Staging databases for the ERP staging-table tests: SQLite, PostgreSQL, MariaDB, each test
in a schema (PostgreSQL) or database (MariaDB) of its own, dropped afterwards.

(A support module named like the tests so it stays with them; it holds no tests.)
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from pydantic import SecretStr

from connectors.connection import Connection
from connectors.erp_sql import ErpSqlConnector, ErpSqlSettings
from connectors.transports.retry import RetryPolicy
from sandbox.erp_sql import StagingErp
from tests.connectors.contract import closed_port
from tests.services import MARIADB_URL, POSTGRES_URL, need_service

BACKENDS = [
    "sqlite",
    pytest.param("postgres", marks=pytest.mark.postgres),
    pytest.param("mariadb", marks=pytest.mark.mariadb),
]
# the connector's password (the local PostgreSQL trusts any; MariaDB gets a user with it),
# which must stay out of every log line
PASSWORD = "pw-erp-staging-5c1d"
FAST_RETRY = RetryPolicy(attempts=2, initial_wait=0.01, max_wait=0.05, jitter=0)


@dataclass
class Staging:
    backend: str
    conn: Connection  # how the connector is configured (an Airflow-style connection)
    admin: sa.Engine  # the ERP's own access to the staging database
    schema: str | None
    erp: StagingErp
    secret: str | None

    def connector(self, **overrides: Any) -> ErpSqlConnector:
        values: dict[str, Any] = {"retry": FAST_RETRY, **overrides}
        return ErpSqlConnector(ErpSqlSettings.from_connection(self.conn, **values))

    def table(self, name: str) -> sa.Table:
        return self.erp.table(name)

    def rows(self, name: str, **where: Any) -> list[dict[str, Any]]:
        table = self.table(name)
        query = sa.select(table).where(*(table.c[k] == v for k, v in where.items()))
        with self.admin.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]


def _conn(url: str, schema: str | None, password: str | None) -> Connection:
    parsed = sa.engine.make_url(url)
    kind = "postgres" if parsed.get_backend_name() == "postgresql" else "mysql"
    return Connection(
        conn_id="erp_sql",
        conn_type=kind,
        host=parsed.host,
        port=parsed.port,
        login=parsed.username,
        password=SecretStr(password) if password else None,
        schema=parsed.database,
        extra={"table_schema": schema, "page_size": 2, "overlap_seconds": 5},
    )


@contextmanager
def open_staging(backend: str, tmp_path: Path) -> Iterator[Staging]:
    """The staging tables, created by the ERP, with 5 customers and 4 stock rows."""
    schema: str | None = None
    if backend == "sqlite":
        path = tmp_path / "erp_staging.sqlite"
        admin = sa.create_engine(f"sqlite:///{path}")
        conn = Connection(
            conn_id="erp_sql", conn_type="sqlite", host=str(path), extra={"page_size": 2}
        )
        secret = None
    else:
        url = POSTGRES_URL if backend == "postgres" else MARIADB_URL
        need_service("PostgreSQL" if backend == "postgres" else "MariaDB", url)
        schema = f"erp_{uuid.uuid4().hex[:10]}"
        admin = sa.create_engine(url)
        kind = "SCHEMA" if backend == "postgres" else "DATABASE"
        with admin.begin() as c:
            c.execute(sa.text(f"CREATE {kind} {schema}"))
            if backend == "mariadb":  # a user of its own, with a password to keep secret
                c.execute(sa.text(f"CREATE USER '{schema}'@'%' IDENTIFIED BY '{PASSWORD}'"))
                c.execute(sa.text(f"GRANT ALL ON {schema}.* TO '{schema}'@'%'"))
                url = (
                    sa.engine.make_url(url)
                    .set(username=schema, database=schema)
                    .render_as_string(False)
                )
        secret = PASSWORD
        conn = _conn(url, schema, secret)
    erp = StagingErp(admin, schema).create()
    erp.change_customers(5)
    erp.change_stock(4)
    try:
        yield Staging(backend, conn, admin, schema, erp, secret)
    finally:
        if schema is not None:
            with admin.begin() as c:
                cascade = " CASCADE" if backend == "postgres" else ""
                c.execute(sa.text(f"DROP {kind} {schema}{cascade}"))
                if backend == "mariadb":
                    c.execute(sa.text(f"DROP USER '{schema}'@'%'"))
        admin.dispose()


def dead_connector(backend: str) -> ErpSqlConnector:
    """Pointed at a loopback port nobody listens on (SQLite has no server: PostgreSQL's
    driver stands in for it)."""
    kind = "mysql" if backend == "mariadb" else "postgres"
    conn = Connection(
        conn_id="erp_sql_dead",
        conn_type=kind,
        host="127.0.0.1",
        port=closed_port(),
        login="root" if kind == "mysql" else "postgres",
        password=SecretStr(PASSWORD),
        schema="test",
    )
    settings = ErpSqlSettings.from_connection(conn, retry=FAST_RETRY, connect_timeout=2)
    return ErpSqlConnector(settings)
