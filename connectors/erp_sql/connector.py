"""``ErpSqlConnector``: an ERP that exchanges through staging tables in a SQL database.

The ERP writes changed customers, stock levels and order states into export tables with a
change timestamp; the connector reads them incrementally by (change timestamp, key), so rows
stamped alike are neither read twice nor skipped. The connector writes customers and sales
orders (with lines) into import tables by key, idempotently; the ERP's import job picks them
up. Table and column names come from ``ErpSqlSettings`` (docs/connectors/erp_sql.md).
"""

from __future__ import annotations

from sqlalchemy.engine import Engine

from connectors.base import Connector, Health
from connectors.connection import Connection, get_connection
from connectors.erp_sql.settings import ErpSqlSettings
from connectors.erp_sql.streams import SalesOrders, StagingStream
from connectors.transports.sql import make_engine, ping


class ErpSqlConnector(Connector):
    system = "erp_sql"

    def __init__(self, settings: ErpSqlSettings, *, engine: Engine | None = None) -> None:
        self.settings = settings
        self.engine = engine or make_engine(settings.sql())
        super().__init__(
            [
                StagingStream(
                    "customers", self.engine, settings, export="customer_out", imports="customer_in"
                ),
                StagingStream("stock", self.engine, settings, export="stock_out"),
                SalesOrders(self.engine, settings),
            ]
        )

    @classmethod
    def from_connection_id(cls, conn_id: str = "erp_sql") -> ErpSqlConnector:
        return cls(ErpSqlSettings.from_connection(get_connection(conn_id)))

    @classmethod
    def from_connection(cls, conn: Connection) -> ErpSqlConnector:
        return cls(ErpSqlSettings.from_connection(conn))

    def health(self) -> Health:
        """``SELECT 1`` on the staging database, reported (never raised)."""
        return ping(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    def __repr__(self) -> str:
        return f"ErpSqlConnector({self.settings.safe_url()})"
