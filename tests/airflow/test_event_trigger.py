"""Event triggers that lose nothing, on a real ``airflow standalone``: 200 signed web orders
within about a second -> the receiver inside Airflow stores each, pokes the DAG -> exactly
200 ERP orders, none lost, none twice."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import zeep

from hub.engine import upgrade
from sandbox.airflow_standalone import StandaloneAirflow, free_port, tandem_environment
from sandbox.erp_soap.server import ErpHandle, start_in_thread
from sandbox.webshop.orders import make_order
from sandbox.webshop.sender import WebhookSender

SECRET = "burst-webhook-secret"
ORDERS = 200


@pytest.fixture
def erp(tmp_path: Path) -> Iterator[ErpHandle]:
    handle = start_in_thread(state_path=tmp_path / "erp.json")
    yield handle
    handle.stop()


@pytest.fixture
def airflow(tmp_path: Path, erp: ErpHandle) -> Iterator[StandaloneAirflow]:
    hub_url = f"sqlite:///{tmp_path / 'hub.sqlite'}"
    upgrade(hub_url)
    port, password = free_port(), "burst-airflow-pw"
    env = tandem_environment(
        tmp_path / "tandem", hub_url=hub_url, erp_url=erp.base_url, webhook_secret=SECRET,
        api_url=f"http://127.0.0.1:{port}", password=password,
    )  # fmt: skip
    with StandaloneAirflow(tmp_path / "airflow", env=env, port=port, password=password) as af:
        af.wait_for_dag("tandem_webshop_orders")
        af.unpause("tandem_webshop_orders")
        yield af


def erp_order_numbers(erp: ErpHandle) -> list[str]:
    client = zeep.Client(erp.wsdl_url("Sales_Order"))
    service = client.create_service(
        "{urn:microsoft-dynamics-schemas/page/sales_order}Sales_Order_Binding",
        f"{erp.base_url}Sales_Order",
    )
    every = [{"Field": "External_Document_No", "Criteria": "2*"}]  # 20000..20199
    found: list[Any] = list(service.ReadMultiple(filter=every, setSize=0) or [])
    return [str(o["External_Document_No"]) for o in found]


@pytest.mark.slow
def test_a_burst_of_200_web_orders_becomes_exactly_200_erp_orders(
    airflow: StandaloneAirflow, erp: ErpHandle
) -> None:
    orders = []
    for i in range(ORDERS):
        order = make_order(7, 20_000 + i)
        order["status"] = "processing"
        orders.append(order)
    url = f"{airflow.url}/tandem/webhooks/webshop"
    with WebhookSender(url, SECRET, retries=2) as sender, ThreadPoolExecutor(16) as pool:
        started = time.monotonic()
        statuses = list(pool.map(lambda o: sender.send("order.created", o)[0], orders))
        burst = time.monotonic() - started
    assert statuses == [200] * ORDERS, Counter(statuses)
    wanted = {str(o["number"]) for o in orders}
    deadline = time.monotonic() + 600
    numbers: list[str] = []
    while time.monotonic() < deadline:
        numbers = [n for n in erp_order_numbers(erp) if n in wanted]
        if len(set(numbers)) == ORDERS:
            break
        time.sleep(3)
    twice = [n for n, count in Counter(numbers).items() if count > 1]
    assert not twice, f"orders created twice in the ERP: {twice}"
    assert set(numbers) == wanted, f"lost: {sorted(wanted - set(numbers))[:10]}"
    runs = airflow.runs("tandem_webshop_orders")
    triggered = [r for r in runs if r["triggered_by"] == "rest_api"]
    assert triggered, "the receiver triggered no DAG run"
    assert len(runs) < ORDERS / 4, "pokes are coalesced, not one run per webhook"
    print(f"burst of {ORDERS} in {burst:.2f}s; {len(runs)} runs ({len(triggered)} triggered)")
