"""The inventory flow against its real peers: the NAV SOAP sandbox ERP, the sandbox web shop
and the sandbox 3PL over a real OpenSSH sshd (846 files).

One landscape per module (ERP, shop, sshd + 3PL, hub); each test first runs the flow until
it has nothing left to do, then changes one peer as its users would and checks what reached
the shop: which products the shop was asked to change (its PUTs, counted in the shop) and the
quantities it now shows.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from canonical.models import Entity, InventoryLevel, SalesOrder
from connectors.base import Connector
from connectors.connection import Connection
from connectors.erp_soap import ErpSoapConnector, ErpSoapSettings
from connectors.logistics import LogisticsConnector
from connectors.transports.soap import RetryPolicy as SoapRetry
from flows.erp_orders import ErpWriter
from flows.inventory import FLOW
from flows.policy import RetryPolicy
from flows.spec import RunOptions
from flows.summary import FlowSummary
from hub.engine import upgrade
from hub.schema import CanonicalRecord, Delivery
from hub.store import Hub, IncomingMessage
from hub.views import receive
from sandbox.erp_soap.pages import PAGES
from sandbox.erp_soap.server import ErpHandle
from sandbox.erp_soap.server import start_in_thread as start_erp
from sandbox.erp_soap.store import qty_on_sales_order
from sandbox.files.runner import FilePartners
from sandbox.sshd import SshdHandle, start_sshd
from sandbox.webshop.peer import WebshopHandle
from sandbox.webshop.peer import start_in_thread as start_shop
from tests.connectors.test_logistics_support import PASSWORD, settings, start_partners
from tests.connectors.webshop_support import connect
from tests.services import need_program

USER, SECRET = "tandem-svc", "erp-Secret-4711"
HELD = "TDM-GRD-200"  # a catalogue product the 3PL holds
NOT_HELD = "TDM-GEN-0000003"  # a range product only the ERP's own warehouse holds
_orders = itertools.count(1)


@dataclass
class Services:
    hub: Hub
    systems: dict[str, Connector]
    retry_policy: RetryPolicy = field(default_factory=lambda: RetryPolicy(base_delay=0.01))

    def erp(self) -> ErpWriter:
        raise AssertionError("the inventory flow writes nothing to the ERP")

    def connector(self, system: str) -> Connector:
        name = self.system_name(system)
        if name not in self.systems:
            raise KeyError(f"no connection for {name}")
        return self.systems[name]

    def system_name(self, role: str) -> str:
        return "erp_soap" if role == "erp" else role


@dataclass
class Landscape:
    erp: ErpHandle
    shop: WebshopHandle
    partners: FilePartners
    services: Services
    puts: list[int] = field(default_factory=list)

    def run(self) -> FlowSummary:
        self.puts.clear()
        return FLOW.run(self.services, RunOptions())

    def settle(self) -> None:
        for _ in range(3):
            if not self.run().delivered:
                return
        raise AssertionError("the flow keeps delivering")

    def shop_quantity(self, sku: str) -> Any:
        for product in self.shop.api.store.data.products.values():
            if product.get("sku") == sku:
                return product["stock_quantity"]
        raise KeyError(sku)

    def shop_id(self, sku: str) -> int:
        for product in self.shop.api.store.data.products.values():
            if product.get("sku") == sku:
                return int(product["id"])
        raise KeyError(sku)

    def erp_free(self, sku: str) -> Decimal:
        store = self.erp.app.store
        item = store.records["Item"][sku]
        return Decimal(str(item["Inventory"])) - Decimal(qty_on_sales_order(store, item))

    def set_erp_inventory(self, sku: str, quantity: int) -> None:
        self.erp.app.store.set_flow_fields("Item", sku, {"Inventory": str(quantity)})

    def send_846(self, **stock: int) -> None:
        time.sleep(1.05)  # an 846's report id is its second: a new report, a new id
        self.partners.threepl.state.data["stock"].update(stock)
        self.partners.threepl.send_inventory()

    def tpl_stock(self, sku: str) -> int:
        return int(self.partners.threepl.state.data["stock"][sku])


@pytest.fixture(scope="module")
def land(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Landscape]:
    need_program("/usr/sbin/sshd", "apt-get install openssh-server")
    tmp = tmp_path_factory.mktemp("inventory")
    sshd: SshdHandle = start_sshd(tmp / "sshd", password=PASSWORD)
    area = sshd.area("tests/flows/inventory", clean=True)
    partners = start_partners(area)
    partners.threepl.send_inventory()
    erp = start_erp(seed=1, credentials=(USER, SECRET))
    shop = start_shop(seed=1)
    hub_url = f"sqlite:///{tmp / 'hub.sqlite'}"
    upgrade(hub_url)
    hub = Hub(hub_url, sqlite_synchronous="NORMAL")
    conn = Connection(
        conn_id="erp_soap", conn_type="http", host=erp.host, port=erp.port, login=USER,
        password=SecretStr(SECRET), schema="WS/CRONUS/Page", extra={"page_size": 100},
    )  # fmt: skip
    quick = SoapRetry(attempts=2, initial_wait=0.01, max_wait=0.02, jitter=0)
    systems: dict[str, Connector] = {
        "erp_soap": ErpSoapConnector(ErpSoapSettings.from_connection(conn, retry=quick)),
        "webshop": connect(shop),
        "logistics": LogisticsConnector(settings(sshd, area, tmp / "x12.db")),
    }
    landscape = Landscape(erp, shop, partners, Services(hub, systems))
    original = shop.api.store.update_product

    def counting(product_id: int, body: Any, parent: int | None = None) -> Any:
        landscape.puts.append(int(product_id))
        return original(product_id, body, parent)

    shop.api.store.update_product = counting  # type: ignore[method-assign]
    yield landscape
    for connector in systems.values():
        connector.close()
    hub.close()
    shop.stop()
    erp.stop()
    partners.stop()
    sshd.stop()


def atp_record(hub: Hub, sku: str) -> InventoryLevel:
    with hub.begin() as hs:
        for row in hs.session.scalars(
            select(CanonicalRecord).where(CanonicalRecord.source_system == "atp")
        ):
            level = InventoryLevel.model_validate_json(row.payload)
            if level.sku == sku:
                return level
    raise KeyError(sku)


def test_the_first_run_brings_the_shop_in_line_and_a_second_run_pushes_nothing(
    land: Landscape,
) -> None:
    first = land.run()
    assert first.quarantined == 0
    assert first.delivered > 0 and first.dead == 0
    free = land.erp_free(HELD)
    expected = max(0, int(min(free, Decimal(land.tpl_stock(HELD)))))
    assert land.shop_quantity(HELD) == expected
    assert land.shop_quantity(NOT_HELD) == max(0, int(land.erp_free(NOT_HELD)))
    land.settle()
    again = land.run()
    assert (again.delivered, again.dead) == (0, 0)
    assert land.puts == [], "a second run sends the shop nothing"


def test_an_erp_stock_change_pushes_only_the_changed_skus(land: Landscape) -> None:
    land.settle()
    land.set_erp_inventory(NOT_HELD, int(land.erp_free(NOT_HELD)) + 40)
    land.set_erp_inventory(HELD, 0)  # the ERP's book figure is now below the 3PL's
    summary = land.run()
    assert summary.delivered == 2
    assert sorted(land.puts) == sorted([land.shop_id(NOT_HELD), land.shop_id(HELD)])
    assert land.shop_quantity(NOT_HELD) == int(land.erp_free(NOT_HELD))
    assert land.shop_quantity(HELD) == max(0, int(land.erp_free(HELD)))
    assert land.run().delivered == 0 and land.puts == []


def test_a_3pl_846_lowers_availability_where_the_3pl_holds_the_goods(land: Landscape) -> None:
    land.set_erp_inventory(HELD, 900)
    land.settle()
    before = land.shop_quantity(HELD)
    assert before == land.tpl_stock(HELD), "ERP above the 3PL: the 3PL's count is the limit"
    land.send_846(**{HELD: before - 5})
    summary = land.run()
    assert summary.delivered == 1 and land.puts == [land.shop_id(HELD)]
    assert land.shop_quantity(HELD) == before - 5
    level = atp_record(land.services.hub, HELD)
    assert level.available == before - 5 and level.on_hand == before - 5
    assert land.run().delivered == 0 and land.puts == []


def _web_order(number: str, sku: str, quantity: int) -> SalesOrder:
    price = {"amount": "10.00", "currency": "EUR"}
    total = {"amount": str(10 * quantity), "currency": "EUR"}
    return SalesOrder.model_validate(
        {
            "order_number": number,
            "status": "received",
            "ordered_at": datetime.now(UTC),
            "currency": "EUR",
            "lines": [{"line_number": 1, "sku": sku, "quantity": quantity,
                       "unit_price": price, "line_total": total}],
            "total": total,
            "updated_at": datetime.now(UTC),
        }
    )  # fmt: skip


def test_an_open_order_lowers_atp_until_the_erp_counts_it_itself(land: Landscape) -> None:
    land.set_erp_inventory(NOT_HELD, 50)
    land.settle()
    base = land.shop_quantity(NOT_HELD)
    hub = land.services.hub
    number = f"WEB-{next(_orders)}-{time.time_ns()}"
    with hub.begin() as hs:  # a web order the hub holds and the ERP does not know yet
        outcome = hs.upsert(_web_order(number, NOT_HELD, 3), canonical_id=None,
                            source_system="webshop")  # fmt: skip
        hs.link(Entity.SALES_ORDER, outcome.canonical_id, "webshop", number)
    summary = land.run()
    assert summary.delivered == 1 and land.shop_quantity(NOT_HELD) == base - 3
    assert atp_record(hub, NOT_HELD).allocated >= 3
    # the order reaches the ERP: its Qty_on_Sales_Order counts it, the hub no longer does
    customer = next(iter(land.erp.app.store.records["Customer"]))
    land.erp.app.store.create(PAGES["Sales_Order"], {
        "Sell_to_Customer_No": customer, "External_Document_No": number,
        "Order_Date": "2026-01-05",
        "SalesLines": [{"Type": "Item", "No": NOT_HELD, "Quantity": "3"}],
    })  # fmt: skip
    with hub.begin() as hs:
        hs.link(Entity.SALES_ORDER, outcome.canonical_id, "erp", "SO-X")
    after = land.run()
    assert after.delivered == 0 and land.puts == [], "the order is counted once"
    assert land.shop_quantity(NOT_HELD) == base - 3


def test_distributor_stock_is_kept_in_the_hub_and_not_pushed(land: Landscape) -> None:
    land.settle()
    hub = land.services.hub
    row = {
        "distributor": "NORDKAFFEE", "location": "HAMBURG", "sku": NOT_HELD, "format": "csv",
        "period_start": "2026-11-16", "period_end": "2026-11-22", "uom": "EA",
        "activity": {"QA": "17", "QS": "4"}, "quantities": {"available": "17", "sold": "4"},
    }  # fmt: skip
    with hub.begin() as hs:
        receive(hs, IncomingMessage(
            source_system="drp", kind="sell_through",
            dedupe_key=f"drp:sell_through:test:{time.time_ns()}",
            body=json.dumps(row).encode(), headers={"key": NOT_HELD},
        ))  # fmt: skip
    summary = land.run()
    assert summary.delivered == 0 and land.puts == []
    with hub.begin() as hs:
        rows = hs.session.scalars(
            select(CanonicalRecord).where(CanonicalRecord.source_system == "drp")
        )
        levels = [InventoryLevel.model_validate_json(r.payload) for r in rows]
        targets = {d.target_system for d in hs.session.scalars(select(Delivery))}
    assert [(lv.location, lv.available) for lv in levels] == [("NORDKAFFEE/HAMBURG", Decimal(17))]
    assert targets == {"webshop"}


def test_a_dry_run_changes_nothing(land: Landscape, tmp_path: Path) -> None:
    land.settle()
    land.set_erp_inventory(NOT_HELD, 77)
    dry = FLOW.run(land.services, RunOptions(dry_run=True))
    assert dry.delivered == 0 and land.puts == []
    assert land.run().delivered == 1


@pytest.mark.parametrize(
    ("stock", "expected"),
    [
        # ERP only: on hand less what the ERP's orders hold, less hub orders not yet there
        ({"erp_on_hand": 40, "erp_allocated": 5, "pending": 3}, (40, 32)),
        # the 3PL holds the goods: the smaller of ERP free and 3PL available
        ({"erp_on_hand": 40, "tpl_on_hand": 30, "tpl_available": 25}, (30, 25)),
        ({"erp_on_hand": 10, "tpl_on_hand": 30, "tpl_available": 25}, (10, 10)),
        # more promised than there is: never below zero
        ({"erp_on_hand": 4, "erp_allocated": 2, "pending": 9}, (4, 0)),
    ],
)
def test_the_atp_formula(stock: dict[str, int], expected: tuple[int, int]) -> None:
    from flows.availability.atp import SkuStock

    values = {name: Decimal(value) for name, value in stock.items()}
    level = SkuStock(**values, as_of=[datetime(2026, 11, 23, tzinfo=UTC)]).atp("SKU-1")  # type: ignore[arg-type]
    assert (level.on_hand, level.available) == tuple(Decimal(v) for v in expected)
    assert level.allocated == level.on_hand - level.available and level.location == "ATP"
