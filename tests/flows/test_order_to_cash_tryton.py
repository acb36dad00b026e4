"""Order to cash with the real Tryton 8.2 as the ERP (``erp_system = erp_tryton``): the web
order becomes a confirmed Tryton sale, the 3PL's 945 completes its customer shipment (assign,
pick, pack, done), and the invoice Tryton's accountant posts reaches the web shop and the CRM.
Tryton is read through its own JSON-RPC (``sandbox.tryton.rpc``), not through the connector.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from canonical.models import Entity
from connectors.erp_tryton import TrytonConnector, TrytonSettings
from hub.queries import trace
from sandbox.crm.peer import CrmHandle
from sandbox.crm.peer import start_in_thread as start_crm
from sandbox.sshd import SshdHandle, start_sshd
from sandbox.tryton.server import TrytonHandle, start_tryton
from sandbox.webshop.peer import WebshopHandle
from sandbox.webshop.peer import start_in_thread as start_webshop
from tests.connectors.test_logistics_support import PASSWORD
from tests.flows.test_order_to_cash_support import (
    FAST,
    Landscape,
    Warehouse,
    crm_connector,
    crm_notes,
    deliveries,
    new_hub,
    place_order,
    run,
    shop_connector,
    shop_notes,
    start_from_now,
    warehouse,
    xrefs,
)
from tests.services import need_program


@pytest.fixture(scope="module")
def tryton(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TrytonHandle]:
    trytond = str(Path(sys.executable).parent / "trytond")
    need_program(trytond, "install requirements.lock into the venv (trytond 8.2, trytond-sale)")
    handle = start_tryton(tmp_path_factory.mktemp("o2c-tryton"), offline_email=True)
    yield handle
    handle.stop()


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshdHandle]:
    need_program("/usr/sbin/sshd", "apt-get install openssh-server")
    handle = start_sshd(tmp_path_factory.mktemp("o2c-tryton-sshd"), password=PASSWORD)
    yield handle
    handle.stop()


@pytest.fixture
def shop() -> Iterator[WebshopHandle]:
    handle = start_webshop(seed=4)
    yield handle
    handle.stop()


@pytest.fixture
def crm() -> Iterator[CrmHandle]:
    handle = start_crm(seed=4)
    yield handle
    handle.stop()


@pytest.fixture
def wh(sshd: SshdHandle, tmp_path: Path) -> Iterator[Warehouse]:
    yield from warehouse(sshd, tmp_path, "tryton", partial_rate=0, backorder_rate=0)


def test_a_web_order_is_sold_shipped_and_invoiced_in_tryton(
    tmp_path: Path, tryton: TrytonHandle, shop: WebshopHandle, crm: CrmHandle, wh: Warehouse
) -> None:
    erp = TrytonConnector(
        TrytonSettings(
            url=tryton.url,
            database=tryton.database,
            username=tryton.login,
            password=SecretStr(tryton.password),
            retry=FAST,
        )
    )
    services = Landscape(
        hub=new_hub(tmp_path),
        connectors={
            "erp_tryton": erp,
            "webshop": shop_connector(shop),
            "crm": crm_connector(crm),
            "logistics": wh.connector,
        },
        erp_system="erp_tryton",
    )
    start_from_now(services)
    with tryton.client() as admin:
        invoices_before = len(
            admin.model("account.invoice", "search", [("type", "=", "out")], 0, None, None)
        )
    order = place_order(shop, "tilda.tryton@example.org", [("TDM-GRD-200", 2), ("TDM-KBX-01", 1)])
    number = str(order["number"])

    first = run(services)
    assert first.dead == 0, deliveries(services.hub, number)
    with tryton.client() as admin:
        [sale] = admin.search_read(
            "sale.sale", [("reference", "=", number)], ["state", "shipments", "invoices"]
        )
    assert sale["state"] == "processing"
    assert len(wh.files("inbound", number)) == 1

    wh.tick()
    second = run(services)
    assert second.dead == 0, deliveries(services.hub, number)
    with tryton.client() as admin:
        [shipment] = admin.model(
            "stock.shipment.out", "read", sale["shipments"], ["state", "reference"]
        )
    assert shipment["state"] == "done"
    assert shipment["reference"].startswith("SH")
    shop_order = shop.api.store.get_order(int(order["id"]))
    assert shop_order["status"] == "completed"
    assert any(shipment["reference"] in n["name"] for n in crm_notes(crm, number))

    # Tryton's accountant posts the invoice the sale made
    with tryton.client() as admin:
        admin.model("account.invoice", "post", sale["invoices"])
        [invoice] = admin.model("account.invoice", "read", sale["invoices"], ["number", "state"])
    third = run(services)
    assert third.dead == 0, deliveries(services.hub, number)
    meta = {m["key"]: m["value"] for m in shop.api.store.get_order(int(order["id"]))["meta_data"]}
    assert meta["erp_invoice_number"] == invoice["number"]
    assert meta["erp_payment_status"] == "open"
    assert any(n["name"].startswith(f"Invoice {invoice['number']}") for n in crm_notes(crm, number))
    assert {
        (Entity.SALES_ORDER, "erp_tryton"), (Entity.CUSTOMER, "erp_tryton"),
        (Entity.SHIPMENT, "erp_tryton"), (Entity.INVOICE, "erp_tryton"),
        (Entity.SALES_ORDER, "logistics"), (Entity.SHIPMENT, "webshop"),
    } <= xrefs(services.hub)  # fmt: skip
    chain = trace(services.hub, correlation_id=number)
    assert {(d.target_system, d.entity) for d in chain.deliveries} >= {
        ("erp_tryton", Entity.SALES_ORDER), ("erp_tryton", Entity.SHIPMENT),
        ("webshop", Entity.INVOICE), ("crm", Entity.INVOICE),
    }  # fmt: skip

    # again: Tryton, the shop and the CRM stay as they are
    notes = shop_notes(shop, int(order["id"]))
    crm_before = crm_notes(crm, number)
    with tryton.client() as admin:
        [before] = admin.model("stock.shipment.out", "read", sale["shipments"], ["write_date"])
    run(services)
    with tryton.client() as admin:
        assert admin.model("sale.sale", "search_count", [("reference", "=", number)]) == 1
        out = admin.model("account.invoice", "search", [("type", "=", "out")], 0, None, None)
        assert len(out) == invoices_before + 1
        [again] = admin.model("stock.shipment.out", "read", sale["shipments"], ["write_date"])
    assert again == before
    assert shop_notes(shop, int(order["id"])) == notes
    assert crm_notes(crm, number) == crm_before
    services.close()
