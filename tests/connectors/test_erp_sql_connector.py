"""The staging-table ERP connector beyond the contract: settings, ties on the change column,
another ERP's layout by configuration, sales orders with lines, the ERP's round trip."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from pydantic import SecretStr

from canonical.errors import PermanentError
from canonical.models import Customer, CustomerKind, Money, OrderLine, SalesOrder
from connectors.base import Ack, Rejected
from connectors.connection import Connection, parse_connection
from connectors.erp_sql import ErpSqlConnector, ErpSqlSettings
from mappings.erp_sql import (
    customer_from_staging,
    customer_to_staging,
    sales_order_to_staging,
    stock_from_staging,
)
from sandbox.erp_sql.erp import now
from tests.connectors.contract import drain
from tests.connectors.test_erp_sql_support import BACKENDS, Staging, dead_connector, open_staging


@pytest.fixture(params=BACKENDS)
def staging(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Staging]:
    with open_staging(str(request.param), tmp_path) as opened:
        yield opened


@pytest.fixture
def connector(staging: Staging) -> Iterator[ErpSqlConnector]:
    built = staging.connector()
    yield built
    built.close()


# -- settings ----------------------------------------------------------------------------


def test_settings_build_the_url_from_the_connection_and_never_show_the_password() -> None:
    conn = parse_connection(
        "erp_sql", "postgres://svc:s3cr%40t-9x@db.example:5433/erp?table_schema=staging"
    )
    settings = ErpSqlSettings.from_connection(conn, page_size=100)
    assert (
        settings.url.get_secret_value()
        == "postgresql+psycopg://svc:s3cr%40t-9x@db.example:5433/erp"
    )
    assert settings.safe_url() == "postgresql+psycopg://svc:***@db.example:5433/erp"
    assert (settings.table_schema, settings.page_size) == ("staging", 100)
    assert "s3cr" not in repr(settings) and "s3cr" not in repr(ErpSqlConnector(settings))
    maria = ErpSqlSettings.from_connection(Connection("m", "mariadb", "db", 3306, "u", None, "erp"))
    assert maria.url.get_secret_value() == "mysql+pymysql://u@db:3306/erp"
    lite = ErpSqlSettings.from_connection(Connection("l", "sqlite", host="/data/erp.sqlite"))
    assert lite.url.get_secret_value() == "sqlite:////data/erp.sqlite"


def test_bad_settings_are_permanent_and_echo_no_password() -> None:
    secret = SecretStr("pw-never-shown-42")
    with pytest.raises(PermanentError, match=r"conn_type 'ftp'.*mariadb"):
        ErpSqlSettings.from_connection(Connection("e", "ftp", "h", password=secret))
    with pytest.raises(PermanentError, match="page_size") as caught:
        ErpSqlSettings.from_connection(
            Connection("e", "postgres", "h", password=secret, extra={"page_size": 0})
        )
    assert "pw-never-shown-42" not in str(caught.value)


def test_a_role_configured_in_the_extras_replaces_only_that_role() -> None:
    tables = {"stock_out": {"table": "ITEMSTK", "key": ["item_no"], "cursor": "changed_at"}}
    conn = Connection("e", "sqlite", host="/tmp/x.sqlite", extra={"tables": json.dumps(tables)})
    settings = ErpSqlSettings.from_connection(conn)
    assert settings.table("stock_out").table == "ITEMSTK"
    assert settings.table("customer_out").table == "erp_customer_out"
    with pytest.raises(PermanentError, match="no table for role 'invoice_out'"):
        settings.table("invoice_out")


# -- reads -------------------------------------------------------------------------------


def test_rows_with_the_same_change_time_are_read_once_across_pages(
    staging: Staging, connector: ErpSqlConnector
) -> None:
    _, cursor = drain(connector, "customers", None)
    same = now()
    table = staging.table("erp_customer_out")
    with staging.admin.begin() as conn:
        conn.execute(sa.update(table).values(changed_at=same))  # one export run: one stamp
    pages = list(connector.read("customers", cursor))
    keys = [r.key for p in pages for r in p.records]
    assert sorted(keys) == [f"C{10000 + i}" for i in range(5)]  # page size 2: ties cut
    assert len(pages) >= 3
    assert drain(connector, "customers", pages[-1].cursor)[0] == []
    changed = staging.erp.change_customers(1, new=False)
    assert drain(connector, "customers", pages[-1].cursor)[0] == changed


def test_stock_is_read_per_item_and_location_with_exact_numbers(
    staging: Staging, connector: ErpSqlConnector
) -> None:
    records = [r for p in connector.read("stock", None) for r in p.records]
    expected = ["ITEM-1000|EAST", "ITEM-1000|MAIN", "ITEM-1001|EAST", "ITEM-1001|MAIN"]
    assert sorted(r.key for r in records) == expected
    first = records[0]
    assert isinstance(first.data["qty_on_hand"], Decimal)
    assert first.source == f"table erp_item_stock_out key {first.key!r}"
    level = stock_from_staging(first.data)
    assert level.available == first.data["qty_on_hand"] - first.data["qty_reserved"]
    assert f"{level.sku}|{level.location}" == first.key


def test_a_row_the_connector_cannot_take_is_quarantined_naming_table_key_and_column(
    staging: Staging, connector: ErpSqlConnector
) -> None:
    _, cursor = drain(connector, "customers", None)
    staging.erp.put_row("erp_customer_out", customer_no="C-E1", name=" ", credit_limit="1.5e")
    good = staging.erp.change_customers(1)
    pages = list(connector.read("customers", cursor))
    (bad,) = [q for p in pages for q in p.quarantined]
    assert bad.source == "table erp_customer_out key 'C-E1'"
    assert "column name: is empty" in bad.reason
    assert "column credit_limit: '1.5e' is not a number" in bad.reason
    assert json.loads(bad.raw)["credit_limit"] == "1.5e"
    assert [r.key for p in pages for r in p.records] == good
    assert drain(connector, "customers", pages[-1].cursor) == ([], pages[-1].cursor)


def test_another_erps_staging_layout_works_by_configuration(staging: Staging) -> None:
    md = sa.MetaData(schema=staging.schema)
    sage = sa.Table(
        "SAGE_CUST_EXP",
        md,
        sa.Column("CUSTNO", sa.String(12), primary_key=True),
        sa.Column("CUSTNAME", sa.String(60), nullable=False),
        sa.Column("CRLIMIT", sa.String(15)),
        sa.Column("INTERNAL_NOTE", sa.String(60)),
        sa.Column("LASTCHG", sa.DateTime, nullable=False),
    )
    md.create_all(staging.admin)
    stamp = datetime(2025, 3, 11, 8, 0)
    with staging.admin.begin() as conn:
        conn.execute(
            sa.insert(sage),
            [
                {"CUSTNO": f"S{i}", "CUSTNAME": f"Sage {i}", "CRLIMIT": f"{i}000", "LASTCHG": stamp}
                for i in range(3)
            ],
        )
    layout = {
        "table": "SAGE_CUST_EXP",
        "key": ["customer_no"],
        "cursor": "changed_at",
        "columns": {
            "customer_no": "CUSTNO",
            "name": "CUSTNAME",
            "credit_limit": "CRLIMIT",
            "changed_at": "LASTCHG",
        },
        "numbers": ["credit_limit"],
    }
    with staging.connector(tables={"customer_out": layout}) as connector:
        records = [r for p in connector.read("customers", None) for r in p.records]
    assert [r.key for r in records] == ["S0", "S1", "S2"]
    assert records[1].data == {
        "customer_no": "S1",
        "name": "Sage 1",
        "credit_limit": Decimal(1000),
        "changed_at": stamp,
    }
    customer = customer_from_staging(records[1].data)
    assert customer.credit_limit == Money(amount=Decimal(1000), currency="EUR")


# -- writes ------------------------------------------------------------------------------


def _customer(n: int) -> Customer:
    return Customer(
        id=f"web-{n}",
        kind=CustomerKind.ORGANISATION,
        name=f"Shop Customer {n}",
        email=f"c{n}@x.example",
    )


def test_customers_are_upserted_by_key_and_a_change_is_marked_for_the_erp_again(
    staging: Staging, connector: ErpSqlConnector
) -> None:
    _, cursor = drain(connector, "customers", None)
    rows = [customer_to_staging(_customer(n)) for n in (1, 2)]
    first = connector.write("customers", rows)
    again = connector.write("customers", rows)
    assert [(o.external_id, o.created) for o in first if isinstance(o, Ack)] == [
        ("web-1", True),
        ("web-2", True),
    ]
    assert [(o.external_id, o.created) for o in again if isinstance(o, Ack)] == [
        ("web-1", False),
        ("web-2", False),
    ]
    staging.erp.run_import()
    assert {r["process_status"] for r in staging.rows("erp_customer_in")} == {"P"}
    exported = [r for p in connector.read("customers", cursor) for r in p.records]
    names = sorted(customer_from_staging(r.data).name for r in exported)
    assert names == ["Shop Customer 1", "Shop Customer 2"]  # the ERP has them now
    changed = customer_to_staging(_customer(1).model_copy(update={"name": "Renamed"}))
    assert isinstance(connector.write("customers", [changed])[0], Ack)
    (row,) = staging.rows("erp_customer_in", ext_customer_id="web-1")
    assert (row["name"], row["process_status"]) == ("Renamed", "N")
    assert row["customer_no"] is not None, "the number the ERP gave was cleared"


def test_a_value_its_column_cannot_hold_is_rejected_alike_on_every_database(
    staging: Staging, connector: ErpSqlConnector
) -> None:
    """SQLite would store any of these; the connector refuses them as PostgreSQL does."""
    good = customer_to_staging(_customer(1))
    not_a_number = {**customer_to_staging(_customer(2)), "credit_limit": "abc"}
    too_long = {**customer_to_staging(_customer(3)), "post_code": "1" * 21}
    outcomes = connector.write("customers", [not_a_number, too_long, good])
    assert [type(o) for o in outcomes] == [Rejected, Rejected, Ack]
    reasons = [str(o.error) for o in outcomes if isinstance(o, Rejected)]
    assert reasons == [
        "table erp_customer_in key 'web-2': column credit_limit: 'abc' is not a number",
        "table erp_customer_in key 'web-3': column post_code: 21 characters, the column holds 20",
    ]
    order = sales_order_to_staging(_order("WEB-D", 1), customer_no="C1")
    (refused,) = connector.write("sales_orders", [{**order, "order_date": "11.03.2025"}])
    assert isinstance(refused, Rejected) and "column order_date: '11.03.2025'" in str(refused.error)
    assert [r["ext_customer_id"] for r in staging.rows("erp_customer_in")] == ["web-1"]


def _order(number: str, lines: int) -> SalesOrder:
    eur = lambda a: Money(amount=Decimal(a), currency="EUR")  # noqa: E731
    return SalesOrder(
        order_number=number,
        ordered_at=datetime(2025, 3, 11, 10, 0).astimezone(),
        currency="EUR",
        lines=tuple(
            OrderLine(
                line_number=i,
                sku=f"ITEM-{1000 + i}",
                quantity=Decimal(i),
                unit_price=eur("10"),
                line_total=eur(str(10 * i)),
            )
            for i in range(1, lines + 1)
        ),
        total=eur(str(sum(10 * i for i in range(1, lines + 1)))),
    )


def test_sales_orders_are_written_with_their_lines_idempotently(
    staging: Staging, connector: ErpSqlConnector
) -> None:
    record = sales_order_to_staging(_order("WEB-1", 3), customer_no="C10000")
    first = connector.write("sales_orders", [record])
    again = connector.write("sales_orders", [record])
    assert isinstance(first[0], Ack) and first[0].created
    assert isinstance(again[0], Ack) and not again[0].created
    assert len(staging.rows("erp_sales_order_in", ext_order_no="WEB-1")) == 1
    assert len(staging.rows("erp_sales_order_line_in", ext_order_no="WEB-1")) == 3
    shorter = sales_order_to_staging(_order("WEB-1", 2), customer_no="C10000")
    assert isinstance(connector.write("sales_orders", [shorter])[0], Ack)
    lines = staging.rows("erp_sales_order_line_in", ext_order_no="WEB-1")
    assert sorted(r["line_no"] for r in lines) == [1, 2]
    (head,) = staging.rows("erp_sales_order_in", ext_order_no="WEB-1")
    assert head["total_amount"] == Decimal("30.00")


def test_an_order_with_a_refused_line_is_rejected_whole_and_the_others_written(
    staging: Staging, connector: ErpSqlConnector
) -> None:
    bad = sales_order_to_staging(_order("WEB-BAD", 2), customer_no="C10000")
    bad["lines"][1]["quantity"] = None  # NOT NULL
    no_lines: dict[str, Any] = {
        **sales_order_to_staging(_order("WEB-EMPTY", 1), customer_no="C1"),
        "lines": [],
    }
    good = sales_order_to_staging(_order("WEB-GOOD", 1), customer_no="C10000")
    outcomes = connector.write("sales_orders", [bad, no_lines, good])
    assert [type(o) for o in outcomes] == [Rejected, Rejected, Ack]
    assert isinstance(outcomes[0], Rejected) and not outcomes[0].transient
    assert "line 2" in str(outcomes[0].error) and "erp_sales_order_line_in" in str(
        outcomes[0].error
    )
    assert isinstance(outcomes[1], Rejected) and "WEB-EMPTY" in str(outcomes[1].error)
    assert staging.rows("erp_sales_order_in", ext_order_no="WEB-BAD") == []
    assert len(staging.rows("erp_sales_order_in", ext_order_no="WEB-GOOD")) == 1


def test_the_erp_imports_an_order_and_its_states_come_back(
    staging: Staging, connector: ErpSqlConnector
) -> None:
    _, cursor = drain(connector, "sales_orders", None)
    connector.write(
        "sales_orders", [sales_order_to_staging(_order("WEB-7", 1), customer_no="C10000")]
    )
    assert staging.erp.run_import().orders == 1
    pages = list(connector.read("sales_orders", cursor))
    (state,) = [r for p in pages for r in p.records]
    assert (state.data["ext_order_no"], state.data["status_code"]) == ("WEB-7", "OPEN")
    staging.erp.advance_orders()
    (later,) = [r for p in connector.read("sales_orders", pages[-1].cursor) for r in p.records]
    assert (later.key, later.data["status_code"]) == (state.key, "RELEASED")


def test_stock_is_read_only(connector: ErpSqlConnector) -> None:
    with pytest.raises(PermanentError, match="stock is read-only"):
        connector.write("stock", [{"item_no": "X"}])


def test_writes_to_a_dead_database_are_rejected_as_transient_with_the_cause() -> None:
    order = sales_order_to_staging(_order("WEB-9", 2), customer_no="C1")
    with dead_connector("postgres") as connector:
        outcomes = connector.write("customers", [customer_to_staging(_customer(1))])
        outcomes += connector.write("sales_orders", [order])
    for outcome in outcomes:
        assert isinstance(outcome, Rejected) and outcome.transient, outcome
        assert outcome.error.__cause__ is not None


def test_a_row_without_a_key_in_a_table_without_constraints_is_quarantined(
    staging: Staging,
) -> None:
    """Export files of older ERPs (an AS/400 physical file) carry no primary key: a row with
    an empty key is reported by table, column and change time, the others read in order."""
    md = sa.MetaData(schema=staging.schema)
    stock = sa.Table(
        "STKEXP",
        md,
        sa.Column("ITNBR", sa.String(15)),
        sa.Column("WHSE", sa.String(3)),
        sa.Column("ONHAND", sa.String(15)),
        sa.Column("CHGTS", sa.DateTime),
    )
    md.create_all(staging.admin)
    t0 = datetime(2025, 3, 11, 8, 0)
    rows = [("A1", "01", "5", 0), (None, "01", "7", 1), ("A2", "01", "3", 2), ("A3", "01", "x", 3)]
    with staging.admin.begin() as conn:
        conn.execute(
            sa.insert(stock),
            [
                {"ITNBR": i, "WHSE": w, "ONHAND": q, "CHGTS": t0.replace(minute=m)}
                for i, w, q, m in rows
            ],
        )
    layout = {
        "table": "STKEXP",
        "key": ["item_no", "location_code"],
        "cursor": "changed_at",
        "columns": {
            "item_no": "ITNBR",
            "location_code": "WHSE",
            "qty_on_hand": "ONHAND",
            "changed_at": "CHGTS",
        },
        "numbers": ["qty_on_hand"],
    }
    with staging.connector(tables={"stock_out": layout}, page_size=1) as connector:
        pages = list(connector.read("stock", None))
        assert drain(connector, "stock", pages[-1].cursor)[0] == []
        again = [q.reason for p in connector.read("stock", pages[1].cursor) for q in p.quarantined]
    assert [r.key for p in pages for r in p.records] == ["A1|01", "A2|01"]
    reasons = [q.reason for p in pages for q in p.quarantined]
    assert reasons == [
        "table STKEXP key '|01': column ITNBR: is empty",
        "table STKEXP key 'A3|01': column ONHAND: 'x' is not a number",
    ]
    assert again == [reasons[1]], "a row without a key was reported twice"


def test_an_export_numbered_by_a_change_sequence_is_read_by_number_and_key(
    staging: Staging,
) -> None:
    """A change log numbered by the ERP (no timestamps): rows sharing a number are ordered by
    key, a row without a key is quarantined once, a change gets a new number and comes again."""
    md = sa.MetaData(schema=staging.schema)
    log = sa.Table(
        "CUSTCHG",
        md,
        sa.Column("CUSNO", sa.String(10)),
        sa.Column("CUSNM", sa.String(40)),
        sa.Column("CHGSEQ", sa.Numeric(15, 0)),
    )
    md.create_all(staging.admin)
    rows = [("K3", 1), ("K1", 1), (None, 2), ("K2", 2), ("K4", 3)]
    with staging.admin.begin() as conn:
        conn.execute(
            sa.insert(log), [{"CUSNO": k, "CUSNM": f"Name {k}", "CHGSEQ": n} for k, n in rows]
        )
    layout = {
        "table": "CUSTCHG",
        "key": ["customer_no"],
        "cursor": "change_no",
        "cursor_type": "sequence",
        "columns": {"customer_no": "CUSNO", "name": "CUSNM", "change_no": "CHGSEQ"},
    }
    with staging.connector(tables={"customer_out": layout}, page_size=2) as connector:
        pages = list(connector.read("customers", None))
        assert [r.key for p in pages for r in p.records] == ["K1", "K3", "K2", "K4"]
        assert [q.reason for p in pages for q in p.quarantined] == [
            "table CUSTCHG key '': column CUSNO: is empty"
        ]
        assert drain(connector, "customers", pages[-1].cursor)[0] == []
        with staging.admin.begin() as conn:
            conn.execute(sa.update(log).where(log.c.CUSNO == "K1").values(CHGSEQ=4))
        assert drain(connector, "customers", pages[-1].cursor)[0] == ["K1"]
        with pytest.raises(PermanentError, match="invalid sequence cursor"):
            list(connector.read("customers", "not json"))
