"""The connector contract for the staging-table ERP on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connectors.base import Connector
from tests.connectors.contract import ConnectorContract, ConnectorPeer
from tests.connectors.test_erp_sql_support import BACKENDS, Staging, dead_connector, open_staging


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def staging(backend: str, tmp_path: Path) -> Iterator[Staging]:
    with open_staging(backend, tmp_path) as opened:
        yield opened


def customer_record(**values: Any) -> dict[str, Any]:
    """A customer for erp_customer_in, as mappings/erp_sql/customer.from_canonical.yaml
    makes it."""
    return {
        "ext_customer_id": f"web-{uuid.uuid4().hex[:8]}",
        "name": "Acme Trading GmbH",
        "address": "Hauptstrasse 5",
        "post_code": "10115",
        "city": "Berlin",
        "country_code": "DE",
        "email": "orders@acme.example",
        "credit_limit": Decimal("2500.00"),
        **values,
    }


class TestErpSqlContract(ConnectorContract):
    @pytest.fixture
    def peer(self, staging: Staging) -> Iterator[ConnectorPeer]:
        connector = staging.connector()

        def count(record: Mapping[str, Any]) -> int:
            return len(staging.rows("erp_customer_in", ext_customer_id=record["ext_customer_id"]))

        def corrupt() -> str:
            key = f"C-BAD-{uuid.uuid4().hex[:6]}"
            staging.erp.put_row(
                "erp_customer_out", customer_no=key, name="Broken", credit_limit="n/a"
            )
            return key

        yield ConnectorPeer(
            connector=connector,
            stream="customers",
            add_records=lambda n: set(staging.erp.change_customers(n)),
            write_stream="customers",
            sample=customer_record,
            count=count,
            bad=lambda: customer_record(name=None),  # NOT NULL in erp_customer_in
            corrupt=corrupt,
            secret=staging.secret,
        )
        connector.close()

    @pytest.fixture
    def dead(self, backend: str) -> Iterator[Connector]:
        connector = dead_connector(backend)
        yield connector
        connector.close()
