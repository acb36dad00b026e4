"""The distributor-orders flow against a sandbox distributor over the real sshd and the NAV
SOAP sandbox ERP: an 850 becomes an ERP order and an accepted 855 the distributor takes; an
850 over the credit limit becomes a rejected 855 with the ERP's reason and no ERP order; the
ERP's posted invoice goes out as an 810; a second run sends nothing twice."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from connectors.base import Ack, Connector
from connectors.drp import DistributorSettings, DrpConnector, DrpSettings
from connectors.erp_soap import ErpSoapConnector
from flows.distributor_orders import FLOW
from flows.erp_orders import ErpWriter
from flows.policy import RetryPolicy
from flows.spec import RunOptions
from hub.schema import Delivery, DeliveryStatus
from hub.store import Hub
from sandbox.drp.distributors import DISTRIBUTORS
from sandbox.edi.model import Transaction
from sandbox.edi.trade import parse_810, parse_855
from sandbox.edi.x12 import read_interchange
from sandbox.erp_soap.pages import PAGES
from sandbox.erp_soap.server import ErpHandle, start_in_thread
from sandbox.files.runner import FilePartners, start_file_partners
from sandbox.sshd import SshdHandle, start_sshd
from tests.connectors.test_drp_contract import Clock, distributor_settings
from tests.connectors.test_erp_soap_contract import SECRET, USER, connector_for
from tests.services import need_program

KEY = "pacific-brew"
PACIFIC = next(d for d in DISTRIBUTORS if d.key == KEY)


class FlowServices:
    """What a flow needs, over the sandbox peers."""

    def __init__(self, hub: Hub, connectors: dict[str, Connector], erp: ErpWriter) -> None:
        self.hub = hub
        self.connectors = connectors
        self._erp: ErpWriter = erp
        self.retry_policy = RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.05)

    def erp(self) -> ErpWriter:
        return self._erp

    def system_name(self, role: str) -> str:
        return "erp_soap" if role == "erp" else role

    def connector(self, system: str) -> Connector:
        return self.connectors[self.system_name(system)]


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshdHandle]:
    need_program("/usr/sbin/sshd", "apt-get install openssh-server")
    # key login: the test user's system password is shared with other suites
    handle = start_sshd(tmp_path_factory.mktemp("orders-sshd"))
    yield handle
    handle.stop()


def by_key(sshd: SshdHandle, area: Path) -> DistributorSettings:
    settings = distributor_settings(sshd, area, KEY)
    sftp = settings.sftp.model_copy(update={"password": None, "key_file": sshd.client_key})
    return settings.model_copy(update={"sftp": sftp})


@dataclass
class World:
    services: FlowServices
    partners: FilePartners
    erp: ErpHandle
    erp_connector: ErpSoapConnector
    customer_no: str
    base: Path  # the distributor's folder

    def send_po(self) -> str:
        engine = self.partners.drp
        engine.send_purchase_order(PACIFIC)
        engine.state.save()
        return str(sorted(engine.state.data["distributors"][KEY]["pos"])[-1])

    def run(self) -> Any:
        return FLOW.run(self.services, RunOptions())

    def distributor_reads_inbound(self) -> list[Path]:
        """The distributor's DRP takes what we uploaded: archive/ (good) or errors/."""
        taken = sorted((self.base / "inbound").glob("*.edi"))
        for path in taken:
            self.partners.drp.receive(PACIFIC, path)
        return taken

    def documents(self, prefix: str) -> list[Path]:
        folders = ("inbound", "archive", "errors")
        return sorted(p for d in folders for p in (self.base / d).glob(f"{prefix}*.edi"))


@pytest.fixture
def world(
    sshd: SshdHandle,
    hub: Hub,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[World]:
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", request.node.name)
    area = sshd.area(f"tests/flows/orders/{name}", clean=True)
    knobs: dict[str, dict[str, Any]] = {
        "drp": {"delay_s": 0, "settle_s": 0},
        "threepl": {"paused": True},
        "pdm": {"paused": True},
    }
    partners = start_file_partners(area, knobs=knobs, run=False, clock=Clock())
    erp = start_in_thread(credentials=(USER, SECRET))
    erp.app.store.allow_negative_inventory = True
    customer = erp.app.store.create(
        PAGES["Customer"], {"Name": PACIFIC.address.name, "Credit_Limit_LCY": "500000"}
    )
    monkeypatch.setenv(
        "TANDEM_DISTRIBUTOR_ACCOUNTS", json.dumps({KEY: {"erp": str(customer["No"])}})
    )
    drp = DrpConnector(
        DrpSettings(
            distributors=(by_key(sshd, area),),
            control_db_url=f"sqlite:///{tmp_path / 'x12.db'}",
        )
    )
    erp_connector = connector_for(erp.host, erp.port)
    services = FlowServices(hub, {"drp": drp, "erp_soap": erp_connector}, erp_connector)
    yield World(services, partners, erp, erp_connector, str(customer["No"]), area / "drp" / KEY)
    drp.close()
    erp_connector.close()
    erp.stop()
    partners.stop()


def one_set(path: Path) -> Transaction:
    (group,) = read_interchange(path.read_bytes()).groups
    (tx,) = group.transactions
    return tx


def test_an_850_becomes_an_erp_order_an_accepted_855_and_later_an_810(world: World) -> None:
    po_number = world.send_po()
    first = world.run()
    assert first.quarantined == 0 and first.dead == 0
    order = world.erp_connector.find_sales_order(po_number)
    assert order is not None and order["Sell_to_Customer_No"] == world.customer_no
    (ack,) = world.distributor_reads_inbound()
    assert list((world.base / "errors").iterdir()) == []  # the distributor took it
    parsed = parse_855(one_set(world.base / "archive" / ack.name))
    assert (parsed.po_number, parsed.ack_type) == (po_number, "AD")
    ordered = world.partners.drp.state.data["distributors"][KEY]["pos"][po_number]
    assert {line.sku: line.quantity for line in parsed.lines} == ordered
    assert {line.status for line in parsed.lines} == {"IA"}

    # the ERP ships and invoices the order; the next run sends the 810
    world.erp.app.posting.post_shipment(str(order["No"]))
    invoice_no = world.erp.app.posting.post_invoice(str(order["No"]))
    world.run()
    (sent,) = world.distributor_reads_inbound()
    assert sent.name.startswith(f"810_{invoice_no}_")
    assert list((world.base / "errors").iterdir()) == []
    invoice = parse_810(one_set(world.base / "archive" / sent.name))
    assert invoice.po_number == po_number and invoice.invoice_number == invoice_no
    assert {line.sku: line.quantity for line in invoice.lines} == ordered
    assert invoice.total == sum(
        (line.quantity * line.unit_price for line in invoice.lines), Decimal(0)
    )

    # running again sends nothing twice
    again = world.run()
    assert (again.delivered, again.changed, again.dead) == (0, 0, 0)
    assert len(world.documents(f"855_{po_number}_")) == 1
    assert len(world.documents(f"810_{invoice_no}_")) == 1
    assert list((world.base / "inbound").glob("*.edi")) == []


def test_an_850_over_the_credit_limit_is_rejected_with_the_erps_reason(world: World) -> None:
    store = world.erp.app.store
    customer = store.read(PAGES["Customer"], world.customer_no)
    assert customer is not None
    store.update(PAGES["Customer"], {"Key": customer["Key"], "Credit_Limit_LCY": "10"})
    po_number = world.send_po()
    summary = world.run()
    assert world.erp_connector.find_sales_order(po_number) is None  # no ERP order
    (ack,) = world.distributor_reads_inbound()
    assert list((world.base / "errors").iterdir()) == []  # a well-formed 855 all the same
    tx = one_set(world.base / "archive" / ack.name)
    parsed = parse_855(tx)
    assert (parsed.po_number, parsed.ack_type) == (po_number, "RJ")
    assert {line.status for line in parsed.lines} == {"IR"}
    note = " ".join(seg[1] for seg in tx.all("MSG"))
    assert "credit limit" in note and world.customer_no in note, note
    with world.services.hub.begin() as hs:  # answered: not left as a dead letter
        statuses = set(hs.session.scalars(select(Delivery.status)))
    assert DeliveryStatus.DEAD not in statuses and DeliveryStatus.DISCARDED in statuses
    assert summary.dead == 1  # the ERP's refusal, seen by this run

    again = world.run()
    assert (again.delivered, again.dead) == (0, 0)
    assert len(world.documents(f"855_{po_number}_")) == 1


class ClerkErp:
    """The ERP as its sales clerk uses it: as soon as an order is in, its first line is cut
    to 1 unit (short of stock), before the acknowledgement goes out."""

    def __init__(self, connector: ErpSoapConnector, erp: ErpHandle) -> None:
        self.connector = connector
        self.store = erp.app.store

    def write_customer(self, record: dict[str, Any]) -> Ack:
        return self.connector.write_customer(record)

    def cancel_sales_order(self, external_document_no: str) -> Ack | None:
        return self.connector.cancel_sales_order(external_document_no)

    def write_sales_order(self, record: dict[str, Any]) -> Ack:
        ack = self.connector.write_sales_order(record)
        order = self.store.read(PAGES["Sales_Order"], ack.external_id)
        assert order is not None
        lines = [dict(line) for line in order["SalesLines"]]
        lines[0]["Quantity"] = "1"
        self.store.update(PAGES["Sales_Order"], {"Key": order["Key"], "SalesLines": lines})
        return ack


def test_lines_the_erp_changed_are_acknowledged_as_changed(world: World) -> None:
    world.services._erp = ClerkErp(world.erp_connector, world.erp)
    po_number = world.send_po()
    world.run()
    (ack,) = world.distributor_reads_inbound()
    assert list((world.base / "errors").iterdir()) == []
    parsed = parse_855(one_set(world.base / "archive" / ack.name))
    assert parsed.ack_type == "AC"
    first, *others = parsed.lines
    assert (first.status, first.acknowledged_quantity) == ("IQ", 1)
    assert all(line.status == "IA" for line in others)
    assert world.run().delivered == 0
    assert len(world.documents(f"855_{po_number}_")) == 1
