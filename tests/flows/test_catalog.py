"""The catalog flow against its real peers: BMEcat files in the PDM's folder (written with the
sandbox PDM's own BMEcat writer), the NAV SOAP sandbox ERP (starting without items) and the
sandbox web shop (its seeded catalogue).

One landscape per module; the tests run in order, each adding a catalogue file as the PDM
would: the full catalogue, a delta (update, delete, new), a delta with a bad product. What
each peer holds is read from the peer itself; the shop counts its product creates and updates.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from connectors.base import Connector
from connectors.connection import Connection
from connectors.erp_soap import ErpSoapConnector, ErpSoapSettings
from connectors.pdm.connector import PdmConnector
from connectors.pdm.settings import PdmSettings
from connectors.transports.soap import RetryPolicy as SoapRetry
from flows.catalog import FLOW
from flows.erp_orders import ErpWriter
from flows.policy import RetryPolicy
from flows.spec import RunOptions
from flows.summary import FlowSummary
from hub.engine import upgrade
from hub.schema import InboxMessage, InboxStatus
from hub.store import Hub
from sandbox.erp_soap.server import ErpHandle
from sandbox.erp_soap.server import start_in_thread as start_erp
from sandbox.pdm.bmecat import CatalogInfo, write_catalog, write_update
from sandbox.pdm.products import MasterProduct, generated, shop_products
from sandbox.webshop.peer import WebshopHandle
from sandbox.webshop.peer import start_in_thread as start_shop
from tests.connectors.webshop_support import connect

USER, SECRET = "tandem-svc", "erp-Secret-4711"
KNOWN = shop_products()[:3]  # products the shop already sells
NEW = list(generated(3, start=501))  # products new to the shop (and to the ERP)
START = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


@dataclass
class Services:
    hub: Hub
    systems: dict[str, Connector]
    retry_policy: RetryPolicy = field(default_factory=lambda: RetryPolicy(base_delay=0.01))

    def erp(self) -> ErpWriter:
        raise AssertionError("the catalog flow writes the ERP through its connector")

    def connector(self, system: str) -> Connector:
        return self.systems[self.system_name(system)]

    def system_name(self, role: str) -> str:
        return "erp_soap" if role == "erp" else role


@dataclass
class Landscape:
    erp: ErpHandle
    shop: WebshopHandle
    folder: Path
    services: Services
    calls: list[tuple[str, Any]] = field(default_factory=list)
    version: int = 0

    def run(self) -> FlowSummary:
        self.calls.clear()
        return FLOW.run(self.services, RunOptions())

    def drop(self, changes: list[tuple[str, MasterProduct]] | None = None) -> None:
        """A catalogue file as the PDM writes it: the full one, or a delta of ``changes``."""
        self.version += 1
        info = CatalogInfo("TDM-MASTER", f"{self.version:03d}.000", "master",
                           START + timedelta(minutes=self.version))  # fmt: skip
        buffer = BytesIO()
        if changes is None:
            write_catalog(buffer, info, [*KNOWN, *NEW])
            name = f"catalog_{self.version:03d}_full.xml"
        else:
            write_update(buffer, info, f"{self.version - 1:03d}.000", changes)
            name = f"catalog_{self.version:03d}_update.xml"
        part = self.folder / f".{name}.part"
        part.write_bytes(buffer.getvalue())
        part.rename(self.folder / name)

    def item(self, sku: str) -> dict[str, Any]:
        return dict(self.erp.app.store.records["Item"][sku])

    def product(self, sku: str) -> dict[str, Any]:
        found = [p for p in self.shop.api.store.data.products.values() if p.get("sku") == sku]
        assert len(found) == 1, f"{len(found)} shop products with SKU {sku}"
        return dict(found[0])

    def peers(self) -> tuple[Any, Any]:
        return (
            copy.deepcopy(self.erp.app.store.records["Item"]),
            copy.deepcopy(self.shop.api.store.data.products),
        )


@pytest.fixture(scope="module")
def land(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Landscape]:
    tmp = tmp_path_factory.mktemp("catalog")
    folder = tmp / "pdm" / "outbound"
    folder.mkdir(parents=True)
    erp = start_erp(credentials=(USER, SECRET))
    shop = start_shop(seed=1)
    hub_url = f"sqlite:///{tmp / 'hub.sqlite'}"
    upgrade(hub_url)
    hub = Hub(hub_url, sqlite_synchronous="NORMAL")
    conn = Connection(
        conn_id="erp_soap", conn_type="http", host=erp.host, port=erp.port, login=USER,
        password=SecretStr(SECRET), schema="WS/CRONUS/Page",
    )  # fmt: skip
    quick = SoapRetry(attempts=2, initial_wait=0.01, max_wait=0.02, jitter=0)
    pdm = Connection(conn_id="pdm", conn_type="fs",
                     extra={"path": str(folder), "settle_seconds": 0})  # fmt: skip
    systems: dict[str, Connector] = {
        "erp_soap": ErpSoapConnector(ErpSoapSettings.from_connection(conn, retry=quick)),
        "webshop": connect(shop),
        "pdm": PdmConnector(PdmSettings.from_connection(pdm)),
    }
    landscape = Landscape(erp, shop, folder, Services(hub, systems))
    store = shop.api.store
    create, update = store.create_product, store.update_product

    def counting_create(body: Any) -> Any:
        landscape.calls.append(("POST", body.get("sku")))
        return create(body)

    def counting_update(product_id: int, body: Any, parent: int | None = None) -> Any:
        landscape.calls.append(("PUT", int(product_id)))
        return update(product_id, body, parent)

    store.create_product = counting_create  # type: ignore[method-assign]
    store.update_product = counting_update  # type: ignore[method-assign]
    yield landscape
    for connector in systems.values():
        connector.close()
    hub.close()
    shop.stop()
    erp.stop()


def test_a_full_catalogue_creates_the_products_in_the_erp_and_the_shop(land: Landscape) -> None:
    land.drop()
    summary = land.run()
    assert (summary.read, summary.quarantined, summary.dead) == (6, 0, 0)
    assert summary.delivered == 12, "6 products to 2 systems"
    for master in [*KNOWN, *NEW]:
        item = land.item(master.sku)
        assert item["Description"] == master.name
        assert Decimal(item["Unit_Price"]) == master.net_price_eur
        assert (item["GTIN"], item["Base_Unit_of_Measure"]) == (master.gtin, "PCS")
        assert item["Blocked"] in ("false", False)
        product = land.product(master.sku)
        assert (product["name"], product["status"]) == (master.name, "publish")
        assert product["description"] == master.description
        assert Decimal(product["regular_price"]) == master.net_price_eur
    assert sorted(sku for verb, sku in land.calls if verb == "POST") == [p.sku for p in NEW]


def test_a_second_run_changes_nothing_in_any_peer(land: Landscape) -> None:
    before = land.peers()
    summary = land.run()
    assert (summary.read, summary.delivered, summary.changed) == (0, 0, 0)
    assert land.calls == [] and land.peers() == before
    land.drop()  # the same full catalogue sent again (a new version of it)
    again = land.run()
    assert again.read == 6 and again.changed == 0 and again.delivered == 0
    assert land.calls == [] and land.peers() == before


def test_a_delta_updates_discontinues_and_adds(land: Landscape) -> None:
    dearer = replace(NEW[0], net_price_eur=NEW[0].net_price_eur + Decimal("5.00"))
    gone, added = NEW[1], next(generated(1, start=504))
    land.drop([("update", dearer), ("delete", gone), ("new", added)])
    summary = land.run()
    assert (summary.read, summary.changed, summary.quarantined, summary.dead) == (3, 3, 0, 0)
    assert Decimal(land.item(dearer.sku)["Unit_Price"]) == dearer.net_price_eur
    assert land.item(gone.sku)["Blocked"] in ("true", True)
    assert land.item(added.sku)["Description"] == added.name
    assert Decimal(land.product(dearer.sku)["regular_price"]) == dearer.net_price_eur
    retired = land.product(gone.sku)
    assert (retired["status"], retired["catalog_visibility"]) == ("draft", "hidden")
    shop_ids = {land.product(s)["id"] for s in (dearer.sku, gone.sku)}
    assert {sku for verb, sku in land.calls if verb == "PUT"} == shop_ids
    assert [sku for verb, sku in land.calls if verb == "POST"] == [added.sku]
    before = land.peers()
    assert land.run().delivered == 0 and land.calls == [] and land.peers() == before


def test_a_bad_product_is_quarantined_and_the_rest_goes_on(land: Landscape) -> None:
    good = next(generated(1, start=505))
    bad = replace(next(generated(1, start=506)), name="")
    land.drop([("new", bad), ("new", good)])
    summary = land.run()
    assert summary.quarantined == 1 and summary.dead == 0
    assert land.item(good.sku)["Description"] == good.name
    assert land.product(good.sku)["name"] == good.name
    assert bad.sku not in land.erp.app.store.records["Item"]
    with land.services.hub.begin() as hs:
        parked = list(
            hs.session.scalars(
                select(InboxMessage).where(InboxMessage.status == InboxStatus.QUARANTINED)
            )
        )
    assert len(parked) == 1
    error = parked[0].error or ""
    assert bad.sku in error and "DESCRIPTION_SHORT" in error
    assert bad.sku.encode() in parked[0].raw_body
