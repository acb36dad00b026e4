"""The sandbox peers of the order-to-cash tests (no tests here): fixtures that start them, and
readings of what they hold with their own clients (a plain zeep client for the ERP, the shop's
and the CRM's stores, the 3PL's folders), never through the flow's connectors.

Test modules import the fixtures explicitly and ask for ``sshd``, ``shop``, ``crm``, ``erp``::

    from tests.flows.order_to_cash_peers import (  # noqa: F401 (fixtures)
        crm_fixture, erp_fixture, shop_fixture, sshd_fixture,
    )
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import zeep

from sandbox.crm.peer import CrmHandle
from sandbox.crm.peer import start_in_thread as start_crm
from sandbox.erp_soap.server import ErpHandle
from sandbox.erp_soap.server import start_in_thread as start_erp
from sandbox.sshd import SshdHandle, start_sshd
from sandbox.webshop.peer import WebshopHandle
from sandbox.webshop.peer import start_in_thread as start_webshop
from tests.connectors.test_logistics_support import PASSWORD
from tests.flows.test_order_to_cash_support import Warehouse, crm_notes, shop_notes
from tests.services import need_program


@pytest.fixture(name="sshd", scope="module")
def sshd_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshdHandle]:
    need_program("/usr/sbin/sshd", "apt-get install openssh-server")
    handle = start_sshd(tmp_path_factory.mktemp("o2c-sshd"), password=PASSWORD)
    yield handle
    handle.stop()


@pytest.fixture(name="shop", scope="module")
def shop_fixture() -> Iterator[WebshopHandle]:
    handle = start_webshop(seed=3)
    yield handle
    handle.stop()


@pytest.fixture(name="crm", scope="module")
def crm_fixture() -> Iterator[CrmHandle]:
    handle = start_crm(seed=3)
    yield handle
    handle.stop()


@pytest.fixture(name="erp")
def erp_fixture(tmp_path: Path) -> Iterator[ErpHandle]:
    handle = start_erp(state_path=tmp_path / "erp.json")
    yield handle
    handle.stop()


# -- the ERP, read with a plain zeep client ------------------------------------------------


def _service(erp: ErpHandle, page: str) -> Any:
    client = zeep.Client(erp.wsdl_url(page))
    binding = f"{{urn:microsoft-dynamics-schemas/page/{page.lower()}}}{page}_Binding"
    return client.create_service(binding, f"{erp.base_url}{page}")


def erp_records(erp: ErpHandle, page: str, ext: str) -> list[Any]:
    found = _service(erp, page).ReadMultiple(
        filter=[{"Field": "External_Document_No", "Criteria": f"'{ext}'"}], setSize=0
    )
    return list(found or [])


def erp_posting(erp: ErpHandle) -> Any:
    """The ERP's own posting codeunit, as its accountant's client calls it."""
    client = zeep.Client(erp.codeunit_wsdl_url("SalesOrderPosting"))
    binding = "{urn:microsoft-dynamics-schemas/codeunit/SalesOrderPosting}SalesOrderPosting_Binding"
    return client.create_service(binding, erp.codeunit_url("SalesOrderPosting"))


def peers(erp: ErpHandle, shop: WebshopHandle, crm: CrmHandle, wh: Warehouse,
          order: dict[str, Any]) -> dict[str, Any]:  # fmt: skip
    """Everything the peers hold about one order."""
    number = str(order["number"])
    shop_order = shop.api.store.get_order(int(order["id"]))
    return {
        "erp orders": len(erp_records(erp, "Sales_Order", number)),
        "erp shipments": [s.No for s in erp_records(erp, "Posted_Sales_Shipment", number)],
        "erp invoices": [i.No for i in erp_records(erp, "Posted_Sales_Invoice", number)],
        "3pl inbound": wh.files("inbound", number) + wh.files("archive", number),
        "3pl outbound": wh.files("outbound", number),
        "shop status": shop_order["status"],
        "shop modified": shop_order["date_modified_gmt"],
        "shop meta": {m["key"]: m["value"] for m in shop_order["meta_data"]},
        "shop notes": shop_notes(shop, int(order["id"])),
        "crm notes": [
            (n["name"], n["description"], n["date_modified"]) for n in crm_notes(crm, number)
        ],
    }
