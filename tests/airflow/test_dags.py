"""Tandem's DAGs as Airflow loads and runs them (each check in a fresh interpreter, since
Airflow reads its configuration once per process)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import zeep

from flows.registry import FLOWS
from hub.engine import upgrade
from hub.store import Hub, IncomingMessage
from sandbox.erp_soap.server import ErpHandle, start_in_thread
from sandbox.webshop.orders import make_order
from tandem.dag_factory import dag_id
from tests.airflow.dagcheck import dagcheck


def test_every_flow_is_a_dag_that_loads_without_errors(airflow_env: dict[str, str]) -> None:
    found = dagcheck("bag", env=airflow_env)
    assert found["import_errors"] == {}
    dags = found["dags"]
    assert set(dags) == {dag_id(name) for name in FLOWS}
    for name, spec in FLOWS.items():
        dag = dags[dag_id(name)]
        assert spec.description in dag["doc_md"] and "**From**" in dag["doc_md"]
        assert dag["max_active_runs"] == 1 and "tandem" in dag["tags"]
        params = dag["params"]
        assert params["full_resync"]["type"] == "boolean"
        assert params["dry_run"]["type"] == "boolean"
        assert params["since"]["format"] == "date-time"
        assert params["entity_ids"]["items"] == {"type": "string"}
        assert set(params["targets"]["items"]["enum"]) >= set(spec.targets)
        assert dag["defaults"]["dry_run"] is False
    # the schedule is configuration, not code (the environment overrides the flow's default)
    assert "*/7 * * * *" in dags[dag_id("deliver")]["schedule"]
    # the webhook-triggered flow has a sweep by default: what a lost trigger left in the
    # inbox is taken up within minutes
    assert dags[dag_id("webshop-orders")]["schedule"] == "*/5 * * * *"


def test_parsing_the_dag_file_reads_no_file_and_opens_no_socket(
    airflow_env: dict[str, str],
) -> None:
    found = dagcheck("io", env=airflow_env)
    assert found["hook_works"], "the audit hook saw nothing: this test could not fail"
    assert found["touched"] == []
    assert found["dags"]


@pytest.fixture
def erp(tmp_path: Path) -> Iterator[ErpHandle]:
    handle = start_in_thread(state_path=tmp_path / "erp.json")
    yield handle
    handle.stop()


def erp_orders(erp: ErpHandle, number: str) -> list[Any]:
    client = zeep.Client(erp.wsdl_url("Sales_Order"))
    service = client.create_service(
        "{urn:microsoft-dynamics-schemas/page/sales_order}Sales_Order_Binding",
        f"{erp.base_url}Sales_Order",
    )
    found = service.ReadMultiple(
        filter=[{"Field": "External_Document_No", "Criteria": f"'{number}'"}], setSize=0
    )
    return list(found or [])


def test_a_dag_run_takes_a_web_order_from_the_inbox_to_the_erp(
    airflow_env: dict[str, str], erp: ErpHandle, tmp_path: Path
) -> None:
    hub_url = f"sqlite:///{tmp_path / 'hub.sqlite'}"
    upgrade(hub_url)
    order = make_order(42, 5001)
    order["status"] = "processing"
    hub = Hub(hub_url)
    hub.receive(
        IncomingMessage(
            source_system="webshop", kind="order.created", dedupe_key="webshop:dag-test-5001",
            body=json.dumps(order).encode(),
        )
    )  # fmt: skip
    hub.close()
    env = airflow_env | {"TANDEM_DATABASE_URL": hub_url, "TANDEM_ERP_SOAP_URL": erp.base_url}
    run = dagcheck("test", dag_id("webshop-orders"), env=env)
    assert run["state"] == "success", run
    assert run["tasks"]["run_flow"] == "success" and run["tasks"]["deliver[0]"] == "success"
    assert len(erp_orders(erp, str(order["number"]))) == 1


def test_airflow_retries_transient_failures_only() -> None:
    """A task whose peer or hub database is away is retried; one that needs a fix fails at once
    with its reason; an unexpected error (a bug) is not retried either."""
    import sqlalchemy as sa

    from canonical.errors import PermanentError, TransientError
    from tandem.dag_factory import RETRY_POLICY

    lost = sa.exc.OperationalError("SELECT 1", {}, Exception("server closed the connection"))
    retried = [TransientError("ERP down"), lost, sa.exc.DisconnectionError("gone")]
    failed = [PermanentError("bad credentials"), ValueError("a bug")]
    assert [RETRY_POLICY.evaluate(e, 1, 3).action.value for e in retried] == ["retry"] * 3
    assert [RETRY_POLICY.evaluate(e, 1, 3).action.value for e in failed] == ["fail"] * 2
    assert "not retried" in (RETRY_POLICY.evaluate(failed[0], 1, 3).reason or "")
