"""The 3PL connector beyond the contract: 997 matching, 846 paging, quarantine, XML profile."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from connectors.base import Ack, Page
from connectors.connection import parse_connection
from connectors.logistics import LogisticsConnector, LogisticsSettings
from mappings.x12 import inventory_from_846, shipment_from_945
from sandbox.sshd import SshdHandle, start_sshd
from tests.connectors.test_logistics_support import (
    PASSWORD,
    order_record,
    settings,
    start_partners,
)
from tests.services import need_program


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshdHandle]:
    need_program("/usr/sbin/sshd", "apt-get install openssh-server")
    handle = start_sshd(tmp_path_factory.mktemp("logistics-sshd2"), password=PASSWORD)
    yield handle
    handle.stop()


@pytest.fixture
def area(sshd: SshdHandle, request: pytest.FixtureRequest) -> Path:
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", request.node.name)
    return sshd.area(f"tests/logistics2/{name}", clean=True)


def read_all(c: LogisticsConnector, stream: str, cursor: str | None = None) -> list[Page]:
    return list(c.read(stream, cursor))


def test_a_sent_940_is_acknowledged_shipped_and_matched(
    sshd: SshdHandle, area: Path, tmp_path: Path
) -> None:
    partners = start_partners(area, partial_rate=0, backorder_rate=0)
    with LogisticsConnector(settings(sshd, area, tmp_path / "x12.db")) as c:
        assert isinstance(c, LogisticsConnector)
        record = order_record()
        (ack,) = c.write("shipping_orders", [record])
        assert isinstance(ack, Ack) and ack.created
        uploaded = (area / "3pl" / "inbound" / ack.external_id).read_bytes()
        assert b"W05*N*" + record["order_number"].encode() in uploaded
        assert not list((area / "3pl" / "inbound").glob("*.part"))
        partners.tick()
        partners.tick()
        acks = [r for p in read_all(c, "acks") for r in p.records]
        assert [(r.data["functional_id"], r.data["status"], r.data["matched"]) for r in acks] == [
            ("OW", "A", 1)
        ]
        assert c.store.sent(c.settings.partner_key)[0].ack_status == "A"
        advices = [r for p in read_all(c, "shipping_advices") for r in p.records]
        shipment = shipment_from_945(advices[0].data)
        assert shipment.order_number == record["order_number"]
        assert [line.quantity_shipped for line in shipment.lines] == [1, 2]
        assert shipment.tracking_numbers
    partners.stop()


def test_inventory_pages_resume_inside_a_large_file(
    sshd: SshdHandle, area: Path, tmp_path: Path
) -> None:
    partners = start_partners(area)
    partners.threepl.send_inventory()
    stock = partners.threepl.state.data["stock"]
    with LogisticsConnector(settings(sshd, area, tmp_path / "x12.db", page_size=3)) as c:
        pages = read_all(c, "inventory")
        keys = [r.key for p in pages for r in p.records]
        assert sorted(keys) == sorted(stock) and len(pages) > 2
        level = inventory_from_846(pages[0].records[0].data)
        assert level.location == "NORTHWAY3PL" and level.on_hand == stock[level.sku]
        # a crash after the second page: reading from its cursor gives the rest, once
        rest = [r.key for p in read_all(c, "inventory", pages[1].cursor) for r in p.records]
        assert rest == keys[6:]
        assert read_all(c, "inventory", pages[-1].cursor) == []
    partners.stop()


def test_a_broken_945_is_quarantined_with_its_bytes_and_the_rest_read(
    sshd: SshdHandle, area: Path, tmp_path: Path
) -> None:
    partners = start_partners(area)
    with LogisticsConnector(settings(sshd, area, tmp_path / "x12.db")) as c:
        c.write("shipping_orders", [order_record()])
        partners.set_knobs("threepl", malformed_rate=1.0)
        c.write("shipping_orders", [order_record()])
        partners.tick()
        partners.tick()
        pages = read_all(c, "shipping_advices")
    partners.stop()
    quarantined = [q for p in pages for q in p.quarantined]
    records = [r for p in pages for r in p.records]
    assert len(records) + len(quarantined) >= 2
    assert quarantined, "the broken 945 was not quarantined"
    q = quarantined[0]
    assert q.source.startswith("945_") and q.raw
    assert re.search(r"(SE01|GE02|IEA02|truncated)", q.reason), q.reason


def test_writing_the_same_order_twice_uploads_one_file_and_a_change_a_second(
    sshd: SshdHandle, area: Path, tmp_path: Path
) -> None:
    with LogisticsConnector(settings(sshd, area, tmp_path / "x12.db")) as c:
        c.client.makedirs("3pl/inbound")  # the 3PL's folder (no 3PL runs in this test)
        record = order_record()
        first, again = c.write("shipping_orders", [record, record])
        assert isinstance(first, Ack) and isinstance(again, Ack)
        assert (first.created, again.created) == (True, False)
        changed = {**record, "carrier_scac": "FDEG"}
        (third,) = c.write("shipping_orders", [changed])
        assert isinstance(third, Ack) and third.created
        assert third.external_id != first.external_id
        assert len(list((area / "3pl" / "inbound").glob("940_*"))) == 2
        isa13 = [c.store.sent(c.settings.partner_key)[i].isa13 for i in (0, 1)]
        assert isa13 == [1, 2]


def test_the_xml_profile(sshd: SshdHandle, area: Path, tmp_path: Path) -> None:
    with LogisticsConnector(
        settings(
            sshd,
            area,
            tmp_path / "x12.db",
            format="xml",
            advice_patterns=("advice_*.xml",),
            inventory_patterns=("stock_*.xml",),
        )
    ) as c:
        c.client.makedirs("3pl/inbound")
        (ack,) = c.write("shipping_orders", [order_record("SO-XML-1")])
        assert isinstance(ack, Ack) and ack.external_id.endswith(".xml")
        doc = etree.fromstring((area / "3pl" / "inbound" / ack.external_id).read_bytes())
        assert doc.tag == "ShippingOrder" and doc.get("orderNumber") == "SO-XML-1"
        assert [line.get("sku") for line in doc.iter("Line")] == [
            r["sku"] for r in order_record()["lines"]
        ]
        out = area / "3pl" / "outbound"
        out.mkdir(parents=True, exist_ok=True)
        sshd.drop(
            out / "advice_1.xml",
            b"""<ShippingAdvices>
          <ShippingAdvice shipmentId="SHX1" orderNumber="SO-XML-1" shipDate="2026-11-24"
                          carrier="UPSN">
            <Package trackingNumber="1ZXML">
              <Line sku="A" ordered="2" shipped="2" status="CC"/>
            </Package>
            <Line sku="B" ordered="1" shipped="0" status="BO"/>
          </ShippingAdvice>
          <ShippingAdvice shipmentId="SHX2" orderNumber="">
            <Line sku="A" ordered="1" shipped="1"/>
          </ShippingAdvice>
        </ShippingAdvices>""",
        )
        sshd.drop(
            out / "stock_1.xml",
            b'<InventoryAdvice reportId="I1" asOf="2026-11-24T06:15">'
            b'<Item sku="A" onHand="5" available="4"/><Item sku="B" onHand="1"/></InventoryAdvice>',
        )
        pages = read_all(c, "shipping_advices")
        (record,) = [r for p in pages for r in p.records]
        (bad,) = [q for p in pages for q in p.quarantined]
        assert "orderNumber is required" in bad.reason and bad.source == "advice_1.xml"
        shipment = shipment_from_945(record.data)
        assert shipment.tracking_numbers == ("1ZXML",)
        assert [(x.sku, x.quantity_backordered) for x in shipment.lines] == [
            ("A", Decimal(0)),
            ("B", Decimal(1)),
        ]
        levels = [inventory_from_846(r.data) for p in read_all(c, "inventory") for r in p.records]
        assert [(x.sku, x.on_hand, x.available) for x in levels] == [
            ("A", Decimal(5), Decimal(4)),
            ("B", Decimal(1), Decimal(1)),
        ]


def test_settings_from_an_airflow_connection(tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    known.write_text("")
    conn = parse_connection(
        "threepl_sftp",
        json.dumps(
            {
                "conn_type": "sftp",
                "host": "sftp.3pl.example",
                "port": 2222,
                "login": "tandem",
                "password": "s3cret",
                "schema": "/home/tandem",
                "extra": {
                    "known_hosts": str(known),
                    "their_id": "ACME3PL",
                    "usage": "P",
                    "format": "x12",
                    "advice_patterns": "945*,SHIP*",
                },
            }
        ),
    )
    s = LogisticsSettings.from_connection(conn, our_id="TANDEMCO")
    assert (s.sftp.host, s.sftp.port, s.sftp.root) == ("sftp.3pl.example", 2222, "/home/tandem")
    assert (s.their_id, s.our_id, s.usage) == ("ACME3PL", "TANDEMCO", "P")
    assert s.advice_patterns == ("945*", "SHIP*")
    assert "s3cret" not in repr(s)
