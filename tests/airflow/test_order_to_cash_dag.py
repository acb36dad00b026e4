"""The order-to-cash DAG run by Airflow (``dag.test()``) against the sandbox peers: the web shop
sending signed webhooks to Tandem's receiver, the NAV SOAP ERP, the 3PL over the real OpenSSH
sshd and the CRM, every connection an ``AIRFLOW_CONN_*`` variable as the sandbox writes them.

Two paid web orders become two ERP orders (in a run triggered for the ERP alone), then two 940s;
the 3PL's 945s become posted ERP shipments, tracking on the shop and CRM notes; the invoices the
ERP's accountant posts, and the payments, reach the shop's order meta and the CRM. One more DAG
run changes nothing in any peer.
Peers are read with their own clients, never through the flow's connectors.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from hub.schema import InboxMessage
from hub.store import Hub
from sandbox.crm.peer import CrmHandle
from sandbox.erp_soap.server import ErpHandle
from sandbox.flow_connections import SftpPeer, flow_connections
from sandbox.sshd import SshdHandle
from sandbox.webshop.peer import WebshopHandle
from tandem.dag_factory import dag_id
from tandem.runtime import Runtime
from tandem.settings import TandemSettings
from tests.airflow.dagcheck import DagSession
from tests.flows.order_to_cash_peers import (  # noqa: F401 (fixtures)
    crm_fixture,
    erp_fixture,
    erp_posting,
    erp_records,
    peers,
    shop_fixture,
    sshd_fixture,
)
from tests.flows.test_order_to_cash_support import (
    Landscape,
    Warehouse,
    crm_notes,
    new_hub,
    place_order,
    shop_connector,
    shop_notes,
    start_from_now,
    warehouse,
)
from tests.support import serve_asgi

SECRET = "o2c-dag-webhook-secret-5b1e"
ORDERS = [
    ("anna.dag@example.org", [("TDM-ESP-100", 1), ("TDM-CUP-6", 2)]),
    ("bruno.dag@example.org", [("TDM-GRD-200", 2)]),
]


@pytest.fixture
def wh(sshd: SshdHandle, tmp_path: Path) -> Iterator[Warehouse]:
    yield from warehouse(sshd, tmp_path, "dag", partial_rate=0, backorder_rate=0)


@pytest.fixture
def o2c_hub(tmp_path: Path, shop: WebshopHandle) -> Iterator[Hub]:
    hub = new_hub(tmp_path)
    shop_api = shop_connector(shop)
    start_from_now(Landscape(hub=hub, connectors={"webshop": shop_api}))
    shop_api.close()
    yield hub
    hub.close()


@pytest.fixture
def receiver(o2c_hub: Hub, shop: WebshopHandle) -> Iterator[str]:
    """Tandem's webhook receiver on loopback, the shop's order webhooks subscribed to it."""
    runtime = Runtime(TandemSettings(database_url=o2c_hub.url, webshop_webhook_secret=SECRET))
    with serve_asgi(runtime.webhook_app()) as base:
        url = f"{base}/webhooks/webshop"
        hook = shop.subscribe(url, SECRET, ("order.created", "order.updated"))
        yield url
        shop.drain_webhooks()
        shop.api.dispatcher.unsubscribe(hook)
    runtime.close()


@pytest.fixture
def dag(
    airflow_env: dict[str, str], tmp_path: Path, o2c_hub: Hub, erp: ErpHandle,
    shop: WebshopHandle, crm: CrmHandle, sshd: SshdHandle, wh: Warehouse,
) -> Iterator[DagSession]:  # fmt: skip
    """The order-to-cash DAG in an Airflow process of its own, connected to the peers."""
    connections = flow_connections(
        tmp_path, erp_url=erp.base_url,
        shop_url=shop.api_url, shop_key=shop.consumer_key, shop_secret=shop.consumer_secret,
        crm_url=crm.api_url, crm_client=crm.client_id, crm_secret=crm.client_secret,
        sftp=SftpPeer(sshd.host, sshd.port, sshd.user, sshd.client_key, sshd.known_hosts, wh.area),
    )  # fmt: skip
    env = airflow_env | connections | {"TANDEM_DATABASE_URL": o2c_hub.url}
    session = DagSession(dag_id("order-to-cash"), env=env, log=tmp_path / "airflow.log")
    yield session
    session.close()


def succeeded(run: dict[str, Any], targets: int = 4) -> None:
    """The DAG run and every task instance (one delivery per chosen target) succeeded."""
    assert run["state"] == "success", run
    tasks = run["tasks"]
    assert set(tasks) == {"run_flow", "targets", *(f"deliver[{i}]" for i in range(targets))}, run
    assert set(tasks.values()) == {"success"}, run


def meta(shop: WebshopHandle, order: dict[str, Any]) -> dict[str, Any]:
    found = shop.api.store.get_order(int(order["id"]))["meta_data"]
    return {m["key"]: m["value"] for m in found}


@pytest.mark.usefixtures("receiver")
def test_dag_test_runs_order_to_cash_end_to_end_and_a_rerun_changes_nothing(
    dag: DagSession, o2c_hub: Hub, erp: ErpHandle, shop: WebshopHandle, crm: CrmHandle,
    wh: Warehouse,
) -> None:  # fmt: skip
    orders = [place_order(shop, email, lines) for email, lines in ORDERS]
    numbers = [str(o["number"]) for o in orders]
    assert shop.drain_webhooks(), "the shop could not deliver its webhooks"
    with o2c_hub.begin() as hs:  # each checkout's signed webhook is in the durable inbox
        stored = hs.session.scalars(
            select(InboxMessage.raw_body).where(
                InboxMessage.source_system == "webshop", InboxMessage.kind == "order.created"
            )
        )
        assert sorted(json.loads(body)["number"] for body in stored) == sorted(numbers)

    # triggered from the form with one target system: orders in -> ERP orders, nothing else
    succeeded(dag.run({"targets": ["erp"]}), targets=1)
    erp_orders = {}
    for number in numbers:
        [erp_orders[number]] = erp_records(erp, "Sales_Order", number)
        assert wh.files("inbound", number) == [], "the 3PL was not among the targets"
    succeeded(dag.run())  # every target: the 940s the first run left queued go to the 3PL
    for number in numbers:
        assert len(erp_records(erp, "Sales_Order", number)) == 1
        assert len(wh.files("inbound", number)) == 1, f"one 940 for order {number}"

    wh.tick()  # the warehouse takes the 940s and answers each with a 945
    succeeded(dag.run())  # 945s -> ERP postings, shop status and tracking, CRM notes
    for order, number in zip(orders, numbers, strict=True):
        [posted] = erp_records(erp, "Posted_Sales_Shipment", number)
        assert posted.Order_No == erp_orders[number].No and posted.Package_Tracking_No
        assert shop.api.store.get_order(int(order["id"]))["status"] == "completed"
        assert meta(shop, order)["tracking_number"] == posted.Package_Tracking_No
        assert any(posted.Package_Tracking_No in n for n in shop_notes(shop, int(order["id"])))
        [note] = crm_notes(crm, number)
        assert note["name"].startswith("Shipment SH") and note["name"].endswith(number)

    # the ERP's accountant invoices both orders; the first is paid in full, the second half
    posting = erp_posting(erp)
    invoice_nos = [posting.PostInvoice(orderNo=erp_orders[n].No) for n in numbers]
    for number, invoice_no, share in zip(numbers, invoice_nos, (1, 2), strict=True):
        [invoice] = erp_records(erp, "Posted_Sales_Invoice", number)
        total = Decimal(str(invoice.Amount_Including_VAT))
        posting.RegisterPayment(invoiceNo=invoice_no, amount=total / share)
    succeeded(dag.run())  # invoices and payments -> shop order meta, CRM notes
    for order, invoice_no, status in zip(
        orders, invoice_nos, ("paid", "partially_paid"), strict=True
    ):
        found = meta(shop, order)
        assert (found["erp_invoice_number"], found["erp_payment_status"]) == (invoice_no, status)
        number = str(order["number"])
        invoice_note = crm_notes(crm, number)[0]
        assert invoice_note["name"] == f"Invoice {invoice_no} for order {number}: {status}"

    # once more: our writes came back from the shop as webhooks; nothing changes anywhere
    assert shop.drain_webhooks()
    before = [peers(erp, shop, crm, wh, order) for order in orders]
    assert [p["erp orders"] for p in before] == [0, 0], "shipped and invoiced: NAV deleted them"
    assert all(len(p["erp shipments"]) == len(p["erp invoices"]) == 1 for p in before)
    succeeded(dag.run())
    wh.tick()
    assert shop.drain_webhooks()
    assert [peers(erp, shop, crm, wh, order) for order in orders] == before
