"""The web shop, the CRM and the NAV SOAP ERP for the customer flows' tests, emptied of their
seeded records (the tests count what the flows create), and a ``Services`` over them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import SecretStr

from connectors.base import Connector
from connectors.connection import Connection
from connectors.crm import CrmConnector
from connectors.crm.settings import CrmSettings
from connectors.erp_soap import ErpSoapConnector, ErpSoapSettings
from connectors.transports.retry import RetryPolicy as TransportRetry
from connectors.webshop import WebshopConnector, WebshopSettings
from flows.policy import RetryPolicy
from hub.store import Hub
from sandbox.crm.peer import CrmHandle
from sandbox.crm.peer import start_in_thread as start_crm
from sandbox.erp_soap.server import ErpHandle
from sandbox.erp_soap.server import start_in_thread as start_erp
from sandbox.webshop.peer import WebshopHandle
from sandbox.webshop.peer import start_in_thread as start_webshop

FAST = TransportRetry(attempts=2, initial_wait=0.01, max_wait=0.05, jitter=0.0)
ERP_USER, ERP_SECRET = "tandem-svc", "erp-Secret-4711"


@dataclass
class Landscape:
    shop: WebshopHandle
    crm: CrmHandle
    erp: ErpHandle

    def clear(self) -> None:
        """No records anywhere (the shop keeps its catalogue)."""
        store = self.shop.api.store
        with store._lock:
            store.data.customers.clear()
            store.data.orders.clear()
        crm = self.crm.api.store
        with crm._lock:
            for records in crm.records.values():
                records.clear()
            crm.links.clear()
        erp = self.erp.app.store
        with erp.lock:
            for records in erp.records.values():
                records.clear()

    # -- the peers as their users change them ------------------------------------------------

    def shop_customer(self, **body: Any) -> int:
        return int(self.shop.api.store.create_customer(body)["id"])

    def crm_record(self, module: str, **attributes: Any) -> str:
        return self.crm.api.store.create(module, attributes, None)

    def crm_records(self, module: str) -> dict[str, dict[str, str]]:
        store = self.crm.api.store
        return {k: dict(v) for k, v in store.records[module].items() if v["deleted"] == "0"}

    def erp_customers(self) -> dict[str, dict[str, Any]]:
        return {k: dict(v) for k, v in self.erp.app.store.records["Customer"].items()}

    def snapshot(self) -> dict[str, Any]:
        """Everything the peers hold, to show a run changed nothing."""
        return {
            "shop": {
                k: v["date_modified_gmt"] for k, v in self.shop.api.store.data.customers.items()
            },
            "crm": {m: self.crm_records(m) for m in ("Accounts", "Contacts", "Leads", "Notes")},
            "erp": self.erp_customers(),
        }


def start_landscape() -> Iterator[Landscape]:
    shop, crm = start_webshop(seed=1), start_crm(seed=1)
    erp = start_erp(credentials=(ERP_USER, ERP_SECRET))
    try:
        yield Landscape(shop, crm, erp)
    finally:
        shop.stop()
        crm.stop()
        erp.stop()


@dataclass
class PeerServices:
    """What flows need (``flows.spec.Services``) over the sandbox peers."""

    hub: Hub
    land: Landscape
    retry_policy: RetryPolicy = field(
        default_factory=lambda: RetryPolicy(max_attempts=3, base_delay=0.0, jitter=0.0)
    )
    _connectors: dict[str, Connector] = field(default_factory=dict)

    def system_name(self, role: str) -> str:
        return "erp_soap" if role == "erp" else role

    def erp(self) -> ErpSoapConnector:
        connector = self.connector("erp")
        assert isinstance(connector, ErpSoapConnector)
        return connector

    def connector(self, system: str) -> Connector:
        name = self.system_name(system)
        if name not in self._connectors:
            self._connectors[name] = self._build(name)
        return self._connectors[name]

    def _build(self, name: str) -> Connector:
        land = self.land
        if name == "webshop":
            return WebshopConnector(
                WebshopSettings(
                    base_url=land.shop.api_url,
                    consumer_key=SecretStr(land.shop.consumer_key),
                    consumer_secret=SecretStr(land.shop.consumer_secret),
                    retry=FAST,
                )
            )
        if name == "crm":
            return CrmConnector(
                CrmSettings(
                    base_url=land.crm.api_url,
                    client_id=land.crm.client_id,
                    client_secret=SecretStr(land.crm.client_secret),
                    retry=FAST,
                )
            )
        conn = Connection(
            conn_id="erp_soap", conn_type="http", host=land.erp.host, port=land.erp.port,
            login=ERP_USER, password=SecretStr(ERP_SECRET), schema="WS/CRONUS/Page",
        )  # fmt: skip
        return ErpSoapConnector(ErpSoapSettings.from_connection(conn, retry=FAST))

    def close(self) -> None:
        for connector in self._connectors.values():
            connector.close()
