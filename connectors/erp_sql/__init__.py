"""Connector for an ERP that exchanges through staging tables (Sage, SAP Business One,
AS/400 setups): export tables read incrementally, import tables upserted by key."""

from connectors.erp_sql.connector import ErpSqlConnector
from connectors.erp_sql.settings import DEFAULT_TABLES, ErpSqlSettings, TableSpec, database_url

__all__ = ["DEFAULT_TABLES", "ErpSqlConnector", "ErpSqlSettings", "TableSpec", "database_url"]
