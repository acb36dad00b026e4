"""Helpers of the order-to-cash tests (no tests here): the landscape of real sandbox peers as
the flow's ``Services``, web orders placed in the shop, and readings of every peer."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from sqlalchemy import select

from connectors.base import Connector
from connectors.crm.connector import CrmConnector
from connectors.crm.settings import CrmSettings
from connectors.erp_soap import ErpSoapConnector, ErpSoapSettings
from connectors.logistics import LogisticsConnector
from connectors.transports.retry import RetryPolicy as ConnectorRetry
from connectors.webshop.connector import WebshopConnector
from connectors.webshop.settings import WebshopSettings
from flows.erp_orders import ErpWriter
from flows.policy import RetryPolicy
from flows.spec import RunOptions
from flows.summary import FlowSummary
from hub.engine import upgrade
from hub.schema import Delivery, Xref
from hub.store import Hub
from sandbox.crm.peer import CrmHandle
from sandbox.files.runner import FilePartners
from sandbox.sshd import SshdHandle
from sandbox.webshop.peer import WebshopHandle
from tests.connectors.test_logistics_support import settings as logistics_settings
from tests.connectors.test_logistics_support import start_partners

FAST = ConnectorRetry(attempts=2, initial_wait=0.01, max_wait=0.05, jitter=0.0)
GERMAN_BUYER = {
    "first_name": "Grete",
    "last_name": "Kaffeeklatsch",
    "address_1": "Kaffeegasse 7",
    "city": "Berlin",
    "postcode": "10115",
    "country": "DE",
    "state": "BE",
    "phone": "+49 30 1234567",
}


@dataclass
class Landscape:
    """The flow's ``Services`` over real peers (the connectors built once per test)."""

    hub: Hub
    connectors: dict[str, Connector]
    erp_system: str = "erp_soap"
    retry_policy: RetryPolicy = field(
        default_factory=lambda: RetryPolicy(max_attempts=2, base_delay=0.0, jitter=0.0)
    )

    def erp(self) -> ErpWriter:
        connector = self.connectors["erp_soap"]
        assert isinstance(connector, ErpSoapConnector)
        return connector

    def system_name(self, role: str) -> str:
        return self.erp_system if role == "erp" else role

    def connector(self, system: str) -> Connector:
        return self.connectors[self.system_name(system)]

    def close(self) -> None:
        for connector in self.connectors.values():
            connector.close()
        self.hub.close()


def new_hub(tmp_path: Path) -> Hub:
    url = f"sqlite:///{tmp_path / 'hub.sqlite'}"
    upgrade(url)
    return Hub(url)


def shop_connector(shop: WebshopHandle) -> WebshopConnector:
    return WebshopConnector(
        WebshopSettings(
            base_url=shop.api_url,
            consumer_key=SecretStr(shop.consumer_key),
            consumer_secret=SecretStr(shop.consumer_secret),
            retry=FAST,
        )
    )


def crm_connector(crm: CrmHandle) -> CrmConnector:
    return CrmConnector(
        CrmSettings(
            base_url=crm.api_url,
            client_id=crm.client_id,
            client_secret=SecretStr(crm.client_secret),
            retry=FAST,
        )
    )


def erp_connector(base_url: str) -> ErpSoapConnector:
    return ErpSoapConnector(ErpSoapSettings(base_url=base_url, retry=FAST))


@dataclass
class Warehouse:
    area: Path
    partners: FilePartners
    connector: LogisticsConnector

    def tick(self) -> None:
        """Two passes: the first takes the 940s, the second ships what is due."""
        self.partners.tick()
        self.partners.tick()

    def files(self, folder: str, order_number: str) -> list[str]:
        """Names of the 3PL's files of one order in ``inbound``/``archive``/``outbound``."""
        pattern = re.compile(rf"^(940|945)_{re.escape(order_number)}_")
        where = self.area / "3pl" / folder
        return sorted(p.name for p in where.iterdir() if pattern.match(p.name))


def warehouse(sshd: SshdHandle, tmp_path: Path, name: str, **knobs: Any) -> Iterator[Warehouse]:
    area = sshd.area(f"tests/order_to_cash/{name}", clean=True)
    partners = start_partners(area, **knobs)
    connector = LogisticsConnector(logistics_settings(sshd, area, tmp_path / "x12.db"))
    yield Warehouse(area, partners, connector)
    partners.stop()


def start_from_now(services: Landscape) -> None:
    """The shop's order history is not this test's: the orders cursor starts at its end."""
    cursor = None
    for page in services.connector("webshop").read("orders", None):
        cursor = page.cursor or cursor
    assert cursor is not None
    with services.hub.begin() as hs:
        hs.set_cursor("webshop.orders", cursor)


def place_order(shop: WebshopHandle, email: str, lines: list[tuple[str, int]]) -> dict[str, Any]:
    """A paid guest order, as the shop's checkout makes one."""
    billing = GERMAN_BUYER | {"email": email}
    return shop.api.store.create_order(
        {
            "billing": billing,
            "shipping": {k: v for k, v in billing.items() if k not in ("email", "phone")},
            "line_items": [{"sku": sku, "quantity": quantity} for sku, quantity in lines],
            "payment_method": "stripe",
            "set_paid": True,
        }
    )


def run(services: Landscape) -> FlowSummary:
    from flows.order_to_cash import FLOW

    return FLOW.run(services, RunOptions())


def xrefs(hub: Hub) -> set[tuple[str, str]]:
    with hub.begin() as hs:
        return {(x.entity, x.system) for x in hs.session.scalars(select(Xref))}


def deliveries(hub: Hub, correlation: str) -> list[tuple[str, str, str]]:
    with hub.begin() as hs:
        rows = hs.session.scalars(
            select(Delivery).where(Delivery.correlation_id == correlation).order_by(Delivery.id)
        )
        return [(d.target_system, d.entity, d.status) for d in rows]


def shop_notes(shop: WebshopHandle, order_id: int) -> list[str]:
    return [n["note"] for n in shop.api.store.list_notes(order_id, "customer")]


def crm_notes(crm: CrmHandle, order_number: str) -> list[dict[str, Any]]:
    return sorted(
        (
            dict(record)
            for record in crm.api.store.records["Notes"].values()
            if record["deleted"] == "0" and f"order {order_number}" in str(record.get("name"))
        ),
        key=lambda r: str(r.get("name")),
    )
