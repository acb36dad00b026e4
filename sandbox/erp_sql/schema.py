"""The ERP's staging tables, as the ERP team documents them (docs/connectors/erp_sql.md).

Export tables (``*_out``) are written by the ERP: one row per customer, item/location or order,
replaced in place when it changes, ``changed_at`` set to the time of the change. Import tables
(``*_in``) are written by the integration and picked up by the ERP's import job, which reads
the rows whose ``process_status`` is ``N`` (new or changed) and sets it to ``P`` (processed) or
``E`` (error, with ``process_message``). A sales order's lines are written before its header:
the ERP starts from headers, so it never sees an order without its lines.

Amounts in ``erp_customer_out`` are character fields, as the ERP's export writes them (``.`` as
the decimal separator); everything else is typed.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

STAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
AMOUNT = sa.Numeric(18, 2)
QUANTITY = sa.Numeric(18, 4)

CUSTOMER_OUT = "erp_customer_out"
ITEM_STOCK_OUT = "erp_item_stock_out"
ORDER_STATUS_OUT = "erp_order_status_out"
CUSTOMER_IN = "erp_customer_in"
SALES_ORDER_IN = "erp_sales_order_in"
SALES_ORDER_LINE_IN = "erp_sales_order_line_in"
ALL_TABLES = (
    CUSTOMER_OUT,
    ITEM_STOCK_OUT,
    ORDER_STATUS_OUT,
    CUSTOMER_IN,
    SALES_ORDER_IN,
    SALES_ORDER_LINE_IN,
)


def _address(prefix: str = "") -> list[sa.Column[Any]]:
    return [
        sa.Column(f"{prefix}address", sa.String(100)),
        sa.Column(f"{prefix}address_2", sa.String(50)),
        sa.Column(f"{prefix}post_code", sa.String(20)),
        sa.Column(f"{prefix}city", sa.String(50)),
        sa.Column(f"{prefix}county", sa.String(30)),
        sa.Column(f"{prefix}country_code", sa.String(3)),
    ]


def _customer_columns(credit_limit: sa.types.TypeEngine[Any]) -> list[sa.Column[Any]]:
    return [
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("name_2", sa.String(50)),
        *_address(),
        sa.Column("email", sa.String(80)),
        sa.Column("phone_no", sa.String(30)),
        sa.Column("vat_reg_no", sa.String(20)),
        sa.Column("currency_code", sa.String(3)),
        sa.Column("payment_terms_code", sa.String(10)),
        sa.Column("credit_limit", credit_limit),
    ]


def _import_status() -> list[sa.Column[Any]]:
    return [
        sa.Column("process_status", sa.String(1), nullable=False, server_default="N"),
        sa.Column("process_message", sa.String(250)),
        sa.Column("created_at", STAMP, nullable=False, server_default=sa.func.current_timestamp()),
    ]


def staging_metadata(schema: str | None = None) -> sa.MetaData:
    """The six staging tables (in ``schema`` when given: a PostgreSQL schema or a MariaDB
    database)."""
    md = sa.MetaData(schema=schema)
    sa.Table(
        CUSTOMER_OUT,
        md,
        sa.Column("customer_no", sa.String(20), primary_key=True),
        *_customer_columns(sa.String(20)),
        sa.Column("changed_at", STAMP, nullable=False),
        sa.Index(f"ix_{CUSTOMER_OUT}_changed", "changed_at", "customer_no"),
    )
    sa.Table(
        ITEM_STOCK_OUT,
        md,
        sa.Column("item_no", sa.String(20), primary_key=True),
        sa.Column("location_code", sa.String(10), primary_key=True),
        sa.Column("qty_on_hand", QUANTITY, nullable=False),
        sa.Column("qty_reserved", QUANTITY, nullable=False, server_default="0"),
        sa.Column("qty_available", QUANTITY, nullable=False),
        sa.Column("uom_code", sa.String(10), nullable=False, server_default="PCS"),
        sa.Column("changed_at", STAMP, nullable=False),
        sa.Index(f"ix_{ITEM_STOCK_OUT}_changed", "changed_at", "item_no", "location_code"),
    )
    sa.Table(
        ORDER_STATUS_OUT,
        md,
        sa.Column("order_no", sa.String(20), primary_key=True),
        sa.Column("ext_order_no", sa.String(35)),
        sa.Column("customer_no", sa.String(20)),
        sa.Column("status_code", sa.String(20), nullable=False),
        sa.Column("changed_at", STAMP, nullable=False),
        sa.Index(f"ix_{ORDER_STATUS_OUT}_changed", "changed_at", "order_no"),
    )
    sa.Table(
        CUSTOMER_IN,
        md,
        sa.Column("ext_customer_id", sa.String(40), primary_key=True),
        sa.Column("customer_no", sa.String(20)),
        *_customer_columns(AMOUNT),
        *_import_status(),
    )
    sa.Table(
        SALES_ORDER_IN,
        md,
        sa.Column("ext_order_no", sa.String(35), primary_key=True),
        sa.Column("customer_no", sa.String(20), nullable=False),
        sa.Column("order_date", sa.Date, nullable=False),
        sa.Column("currency_code", sa.String(3), nullable=False),
        sa.Column("ship_to_name", sa.String(100)),
        *_address("ship_to_"),
        sa.Column("shipping_amount", AMOUNT),
        sa.Column("total_amount", AMOUNT, nullable=False),
        *_import_status(),
    )
    sa.Table(
        SALES_ORDER_LINE_IN,
        md,
        sa.Column("ext_order_no", sa.String(35), primary_key=True),
        sa.Column("line_no", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("item_no", sa.String(20), nullable=False),
        sa.Column("description", sa.String(100)),
        sa.Column("quantity", QUANTITY, nullable=False),
        sa.Column("uom_code", sa.String(10)),
        sa.Column("unit_price", QUANTITY, nullable=False),
        sa.Column("discount_amount", AMOUNT),
        sa.Column("line_amount", AMOUNT, nullable=False),
    )
    return md


def create_staging_tables(engine: sa.Engine, schema: str | None = None) -> sa.MetaData:
    """Creates the staging tables that do not exist yet; returns their metadata."""
    md = staging_metadata(schema)
    md.create_all(engine)
    return md


def drop_staging_tables(engine: sa.Engine, schema: str | None = None) -> None:
    staging_metadata(schema).drop_all(engine)
