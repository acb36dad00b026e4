"""``python -m sandbox.erp_sql create|change|import <database url> [--schema S] [-n N]``.

- ``create``: the staging tables (those missing), then ``-n`` customers and stock rows;
- ``change``: the ERP changes ``-n`` customers, stock rows and moves every order one status on;
- ``import``: the ERP's import job takes the rows the integration wrote.
"""

from __future__ import annotations

import argparse

import sqlalchemy as sa

from sandbox.erp_sql.erp import StagingErp


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.erp_sql", description=__doc__)
    parser.add_argument("action", choices=["create", "change", "import"])
    parser.add_argument("url", help="SQLAlchemy database URL, e.g. sqlite:///erp.sqlite")
    parser.add_argument("--schema", default=None, help="PostgreSQL schema / MariaDB database")
    parser.add_argument("-n", type=int, default=10, help="rows to create or change")
    args = parser.parse_args(argv)
    engine = sa.create_engine(args.url)
    erp = StagingErp(engine, args.schema)
    try:
        if args.action == "create":
            erp.create()
            print(f"customers {len(erp.change_customers(args.n))}", end=" ")
            print(f"stock rows {len(erp.change_stock(args.n))}")
        elif args.action == "change":
            print(f"customers {len(erp.change_customers(args.n, new=False))}", end=" ")
            print(f"stock rows {len(erp.change_stock(args.n))}", end=" ")
            print(f"orders moved {len(erp.advance_orders())}")
        else:
            run = erp.run_import()
            print(f"customers {run.customers} orders {run.orders} errors {run.errors}")
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
