"""The connector contract for the ERP over SOAP, stream by stream, against the sandbox ERP.

Each test starts its own seeded sandbox ERP (300 customers, 200 items, orders and posted
history; ~0.2 s) with HTTP Basic credentials. Records are added and changed in the ERP through
the sandbox's own store and posting codeunit, never through the connector. A malformed record
is a value that is not of its XSD type (the sandbox stores lexical values, so one can be put
in place); the connector parses the answer record by record and quarantines that one.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from typing import Any

import pytest
from pydantic import SecretStr

from connectors.base import Connector
from connectors.connection import Connection
from connectors.erp_soap import ErpSoapConnector, ErpSoapSettings
from connectors.transports.soap import RetryPolicy
from sandbox.erp_soap.pages import PAGES
from sandbox.erp_soap.server import ErpHandle, start_in_thread
from tests.connectors.contract import ConnectorContract, ConnectorPeer, closed_port

USER, SECRET = "tandem-svc", "erp-Secret-4711"
FAST = RetryPolicy(attempts=2, initial_wait=0.01, max_wait=0.02, jitter=0)
ITEM_NO = "TDM-MUG-BLK-350"  # a seeded, unblocked inventory item


def connector_for(host: str, port: int) -> ErpSoapConnector:
    conn = Connection(
        conn_id="erp_soap",
        conn_type="http",
        host=host,
        port=port,
        login=USER,
        password=SecretStr(SECRET),
        schema="WS/CRONUS/Page",
        extra={"page_size": 40},
    )
    return ErpSoapConnector(ErpSoapSettings.from_connection(conn, retry=FAST))


class SandboxErp:
    """Changes in the sandbox ERP made as its users and its posting would make them."""

    def __init__(self, handle: ErpHandle) -> None:
        self.store = handle.app.store
        self.posting = handle.app.posting
        self.store.allow_negative_inventory = True
        self.serial = itertools.count(1)
        buyer = self.store.create(PAGES["Customer"], {"Name": "Contract Buyer GmbH"})
        self.buyer = str(buyer["No"])

    def _pick(self, page: str, taken: set[str], where: Callable[[Any], bool]) -> str:
        with self.store.lock:
            for no, record in sorted(self.store.records[page].items()):
                if no not in taken and where(record):
                    return no
        raise AssertionError(f"no {page} record left to change")

    def update(self, page: str, no: str, **changes: Any) -> None:
        current = self.store.read(PAGES[page], no)
        assert current is not None
        self.store.update(PAGES[page], {"Key": current["Key"], **changes})

    def corrupt(self, page: str, no: str, path: tuple[Any, ...], value: str) -> str:
        """Puts a value that is not of its type into a stored record."""
        with self.store.lock:
            node: Any = self.store.records[page][no]
            for step in path[:-1]:
                node = node[step]
            node[path[-1]] = value
        return no

    def customers(self, n: int) -> set[str]:
        keys: set[str] = set()
        for i in range(n):
            tag = next(self.serial)
            if i % 2:
                no = self._pick("Customer", keys | {self.buyer}, lambda r: True)
                self.update("Customer", no, City=f"Graz {tag}")
            else:
                no = self.store.create(PAGES["Customer"], {"Name": f"New Customer {tag}"})["No"]
            keys.add(str(no))
        return keys

    def items(self, n: int) -> set[str]:
        keys: set[str] = set()
        for i in range(n):
            tag = next(self.serial)
            if i % 2:  # Inventory is a FlowField: posting changes it, not the item's stamp
                no = self._pick("Item", keys, lambda r: True)
                level = Decimal(str(self.store.records["Item"][no]["Inventory"])) + tag
                self.store.set_flow_fields("Item", no, {"Inventory": str(level)})
            else:
                created = self.store.create(PAGES["Item"], {"Description": f"New Item {tag}"})
                no = created["No"]
            keys.add(str(no))
        return keys

    def new_order(self, quantity: int = 2) -> str:
        tag = next(self.serial)
        order = self.store.create(
            PAGES["Sales_Order"],
            {
                "Sell_to_Customer_No": self.buyer,
                "External_Document_No": f"CT-{tag}",
                "Order_Date": "2026-01-05",
                "SalesLines": [{"Type": "Item", "No": ITEM_NO, "Quantity": str(quantity)}],
            },
        )
        return str(order["No"])

    def orders(self, n: int) -> set[str]:
        keys: set[str] = set()
        for i in range(n):
            if i % 2:
                no = self._pick("Sales_Order", keys, lambda r: r.get("Status") == "Open")
                self.update("Sales_Order", no, Requested_Delivery_Date="2026-02-01")
            else:
                no = self.new_order()
            keys.add(no)
        return keys

    def shipments(self, n: int) -> set[str]:
        return {self.posting.post_shipment(self.new_order()) for _ in range(n)}

    def invoice(self) -> str:
        order = self.new_order()
        self.posting.post_shipment(order)
        return self.posting.post_invoice(order)

    def invoices(self, n: int) -> set[str]:
        keys: set[str] = set()
        for i in range(n):
            if i % 2:  # a payment: Remaining_Amount (a FlowField) drops, Closed at zero
                no = self._pick(
                    "Posted_Sales_Invoice", keys, lambda r: Decimal(r["Remaining_Amount"]) > 1
                )
                self.posting.register_payment(no, Decimal(1))
            else:
                no = self.invoice()
            keys.add(no)
        return keys

    def count(self, page: str, field: str, value: Any) -> int:
        with self.store.lock:
            return sum(1 for r in self.store.records[page].values() if r.get(field) == value)


@pytest.fixture
def erp() -> Iterator[ErpHandle]:
    handle = start_in_thread(seed=1, credentials=(USER, SECRET))
    yield handle
    handle.stop()


@pytest.fixture
def sandbox(erp: ErpHandle) -> SandboxErp:
    return SandboxErp(erp)


class ErpContract(ConnectorContract):
    @pytest.fixture
    def dead(self) -> Connector:
        return connector_for("127.0.0.1", closed_port())


class TestCustomersContract(ErpContract):
    @pytest.fixture
    def peer(self, erp: ErpHandle, sandbox: SandboxErp) -> ConnectorPeer:
        serial = itertools.count(1)

        def sample() -> Mapping[str, Any]:
            return {"Name": "Writer", "E_Mail": f"w{next(serial)}@example.com", "City": "Linz"}

        def corrupt() -> str:
            no = sorted(sandbox.customers(1))[0]
            return sandbox.corrupt("Customer", no, ("Credit_Limit_LCY",), "n/a")

        return ConnectorPeer(
            connector=connector_for(erp.host, erp.port),
            stream="customers",
            add_records=sandbox.customers,
            write_stream="customers",
            sample=sample,
            count=lambda r: sandbox.count("Customer", "E_Mail", r["E_Mail"]),
            bad=lambda: {"Name": " ", "E_Mail": "nameless@example.com"},
            corrupt=corrupt,
            secret=SECRET,
        )


class TestItemsContract(ErpContract):
    @pytest.fixture
    def peer(self, erp: ErpHandle, sandbox: SandboxErp) -> ConnectorPeer:
        def corrupt() -> str:
            created = erp.app.store.create(PAGES["Item"], {"Description": "Broken price"})
            return sandbox.corrupt("Item", str(created["No"]), ("Unit_Price",), "12,50 EUR")

        return ConnectorPeer(
            connector=connector_for(erp.host, erp.port),
            stream="items",
            add_records=sandbox.items,
            corrupt=corrupt,
            secret=SECRET,
        )


class TestSalesOrdersContract(ErpContract):
    @pytest.fixture
    def peer(self, erp: ErpHandle, sandbox: SandboxErp) -> ConnectorPeer:
        serial = itertools.count(1)

        def sample() -> Mapping[str, Any]:
            line = {"Type": "Item", "No": ITEM_NO, "Quantity": 1}
            return {
                "Sell_to_Customer_No": sandbox.buyer,
                "External_Document_No": f"WEB-C{next(serial)}",
                "SalesLines": {"Sales_Order_Line": [line]},
            }

        def bad() -> Mapping[str, Any]:
            return {**sample(), "Sell_to_Customer_No": "NOBODY"}

        def corrupt() -> str:
            no = sandbox.new_order()
            return sandbox.corrupt("Sales_Order", no, ("SalesLines", 0, "Quantity"), "lots")

        return ConnectorPeer(
            connector=connector_for(erp.host, erp.port),
            stream="sales_orders",
            add_records=sandbox.orders,
            write_stream="sales_orders",
            sample=sample,
            count=lambda r: sandbox.count(
                "Sales_Order", "External_Document_No", r["External_Document_No"]
            ),
            bad=bad,
            corrupt=corrupt,
            secret=SECRET,
        )


class TestPostedShipmentsContract(ErpContract):
    @pytest.fixture
    def peer(self, erp: ErpHandle, sandbox: SandboxErp) -> ConnectorPeer:
        def corrupt() -> str:
            no = sorted(sandbox.shipments(1))[0]
            return sandbox.corrupt("Posted_Sales_Shipment", no, ("Shipment_Date",), "tomorrow")

        return ConnectorPeer(
            connector=connector_for(erp.host, erp.port),
            stream="posted_shipments",
            add_records=sandbox.shipments,
            corrupt=corrupt,
            secret=SECRET,
        )


class TestPostedInvoicesContract(ErpContract):
    @pytest.fixture
    def peer(self, erp: ErpHandle, sandbox: SandboxErp) -> ConnectorPeer:
        def corrupt() -> str:
            no = sandbox.invoice()
            return sandbox.corrupt("Posted_Sales_Invoice", no, ("Amount",), "1.071,36")

        return ConnectorPeer(
            connector=connector_for(erp.host, erp.port),
            stream="posted_invoices",
            add_records=sandbox.invoices,
            corrupt=corrupt,
            secret=SECRET,
        )
