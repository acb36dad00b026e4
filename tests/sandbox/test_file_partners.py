"""The file-based sandbox partners: X12 envelopes, 3PL, DRP distributors, PDM, over real sshd."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import uuid
from datetime import date, datetime
from pathlib import Path

import pytest
from lxml import etree

from sandbox.drp.distributors import read_stock_csv
from sandbox.drp.engine import DrpConfig, DrpEngine, DrpKnobs
from sandbox.edi.documents import (
    Invoice,
    NamedParty,
    OrderLine,
    PoLine,
    PurchaseOrder,
    ShippingOrder,
    build_810,
    build_855,
    build_940,
    parse_846,
    parse_850,
    parse_852,
    parse_945,
    parse_997,
)
from sandbox.edi.x12 import (
    InterchangeError,
    Party,
    X12Error,
    build_interchange,
    parse_interchange,
    read_interchange,
)
from sandbox.files.runner import start_file_partners
from sandbox.pdm.bmecat import NAMESPACE_2005
from sandbox.pdm.engine import PdmConfig, PdmEngine
from sandbox.pdm.products import shop_products
from sandbox.threepl.engine import ThreePLConfig, ThreePLEngine, ThreePLKnobs
from sandbox.threepl.faults import break_interchange
from sandbox.webshop.catalog import PRODUCTS
from tests.services import need_program

TANDEM = Party("ZZ", "TANDEM", "TANDEM")
WAREHOUSE = Party("ZZ", "NORTHWAY3PL", "NORTHWAY3PL")
WHEN = datetime(2025, 3, 3, 12, 0)
NS = {"b": NAMESPACE_2005}


class Clock:
    def __init__(self) -> None:
        self.now = 1_740_000_000.0

    def __call__(self) -> float:
        return self.now


def order(number: str, lines: list[tuple[str, int]], scac: str = "") -> ShippingOrder:
    return ShippingOrder(
        order_number=number,
        po_number=f"PO-{number}",
        ship_to=NamedParty(
            "ST", "Anna Müller", "", "", "Invalidenstraße 44", "Berlin", "", "10115", "DE"
        ),
        requested_ship_date=date(2025, 3, 4),
        lines=tuple(OrderLine(i, sku, qty) for i, (sku, qty) in enumerate(lines, start=1)),
        carrier_scac=scac,
    )


def interchange_940(*orders: ShippingOrder, number: int = 41) -> str:
    sets = [("940", build_940(o)) for o in orders]
    return build_interchange(
        TANDEM, WAREHOUSE, sets, interchange_number=number, group_number=number, when=WHEN
    )


def good_940() -> str:
    return interchange_940(order("SO-1001", [("TDM-ESP-100", 1), ("TDM-TMP-58", 2)]))


# -- envelope validation -----------------------------------------------------------------


def test_valid_interchange_round_trips() -> None:
    interchange = parse_interchange(good_940())
    assert interchange.sender_id == "TANDEM"
    assert interchange.control_number == "000000041"
    (group,) = interchange.groups
    assert (group.functional_id, group.control_number, group.version) == ("OW", "41", "004010")
    assert [tx.set_id for tx in group.transactions] == ["940"]


def test_isa_is_fixed_width_106_characters() -> None:
    text = good_940()
    assert text.index("~") == 105
    assert text[3] == "*" and text[104] == ">"


def test_wrong_se_count_is_named() -> None:
    text = good_940().replace("SE*13*0001", "SE*14*0001")
    with pytest.raises(X12Error, match=r"SE01 says '14' segments.*has 13") as caught:
        parse_interchange(text)
    assert (caught.value.code, caught.value.segment_id, caught.value.element) == ("4", "SE", 1)


def test_mismatched_transaction_control_numbers() -> None:
    text = good_940().replace("SE*13*0001", "SE*13*0002")
    with pytest.raises(X12Error, match="SE02 '0002' does not match ST02 '0001'"):
        parse_interchange(text)


def test_mismatched_group_control_numbers() -> None:
    text = good_940().replace("GE*1*41", "GE*1*42")
    with pytest.raises(X12Error, match="GE02 '42' does not match GS06 '41'"):
        parse_interchange(text)


def test_wrong_group_and_interchange_counts() -> None:
    with pytest.raises(X12Error, match="GE01 says '2' transaction sets"):
        parse_interchange(good_940().replace("GE*1*41", "GE*2*41"))
    with pytest.raises(InterchangeError, match="IEA01 says '2' functional groups") as caught:
        read_interchange(good_940().replace("IEA*1*", "IEA*2*"))
    assert caught.value.code == "021"


def test_mismatched_interchange_control_numbers() -> None:
    with pytest.raises(InterchangeError, match="IEA02 '000000042' does not match ISA13") as c:
        read_interchange(good_940().replace("IEA*1*000000041", "IEA*1*000000042"))
    assert c.value.code == "001"


def test_wrong_delimiters_are_refused() -> None:
    text = good_940()
    shifted = text.replace("*TANDEM         *", "*TANDEM*", 1)  # ISA no longer fixed width
    with pytest.raises(InterchangeError, match="ISA"):
        read_interchange(shifted)
    piped = "ISA|" + text[4:]  # element separator changed at position 4 only
    with pytest.raises(InterchangeError, match="expected 16"):
        read_interchange(piped)
    same = text[:104] + "~" + text[105:]  # component separator equal to the terminator
    with pytest.raises(InterchangeError, match="distinct"):
        read_interchange(same)


def test_non_edi_content_is_refused() -> None:
    for junk in (b"<?xml version='1.0'?><order/>", b"order;qty\n1;2\n", b""):
        with pytest.raises(InterchangeError, match="not an X12 interchange"):
            read_interchange(junk)


# -- 3PL -------------------------------------------------------------------------------


def threepl(tmp_path: Path, clock: Clock, **knobs: object) -> ThreePLEngine:
    settings = ThreePLKnobs(delay_s=30, settle_s=0, inventory_interval_s=0)
    settings.update(dict(knobs))
    return ThreePLEngine(ThreePLConfig(tmp_path / "3pl", tmp_path / "state", knobs=settings), clock)


def outbound(engine: ThreePLEngine, prefix: str) -> list[Path]:
    return sorted(engine.outbound.glob(f"{prefix}_*.edi"))


def test_940_gets_997_then_945_after_the_delay(tmp_path: Path) -> None:
    clock = Clock()
    engine = threepl(tmp_path, clock, partial_rate=0.3, backorder_rate=0.3)
    orders = [
        order("SO-1", [("TDM-ESP-100", 2), ("TDM-TMP-58", 5), ("TDM-CUP-6", 3)], "FDEG"),
        order(
            "SO-2", [("TDM-KBX-01", 4), ("TDM-GRD-200", 1), ("TDM-MLK-110", 6), ("TDM-CLN-DSC", 9)]
        ),
    ]
    (engine.inbound / "orders.edi").write_text(interchange_940(*orders))
    (engine.inbound / "half.edi.part").write_text("ISA*00*")  # an upload in progress
    engine.tick()

    (ack_file,) = outbound(engine, "997")
    ack = parse_997(parse_interchange(ack_file.read_bytes()).transactions()[0])
    assert (ack.functional_id, ack.group_control_number, ack.status) == ("OW", "41", "A")
    assert [s.status for s in ack.sets] == ["A", "A"]
    assert outbound(engine, "945") == []
    assert (engine.archive / "orders.edi").exists()
    assert (engine.inbound / "half.edi.part").exists()

    clock.now += 31
    engine.tick()
    advices = {}
    for path in outbound(engine, "945"):
        interchange = parse_interchange(path.read_bytes())
        assert interchange.groups[0].functional_id == "SW"
        assert interchange.receiver_id == "TANDEM"
        advice = parse_945(interchange.transactions()[0])
        advices[advice.order_number] = advice
    assert sorted(advices) == ["SO-1", "SO-2"]
    assert advices["SO-1"].carrier_scac == "FDEG"
    for o in orders:
        advice = advices[o.order_number]
        assert {line.sku: line.ordered for line in advice.lines} == {
            line.sku: line.quantity for line in o.lines
        }
        for line in advice.lines:
            assert line.shipped + line.difference == line.ordered
            expected = {"CC": line.shipped == line.ordered, "BO": line.shipped == 0}
            if line.status in expected:
                assert expected[line.status], line
            else:
                assert line.status in ("CP", "BP") and 0 < line.shipped < line.ordered, line
        assert all(p.tracking_number for p in advice.packages)
        assert advice.units_shipped == sum(
            line.shipped for p in advice.packages for line in p.lines
        )


def test_backorders_when_the_warehouse_is_short(tmp_path: Path) -> None:
    clock = Clock()
    engine = threepl(tmp_path, clock, delay_s=0, backorder_rate=1.0)
    (engine.inbound / "o.x12").write_text(interchange_940(order("SO-7", [("TDM-ESP-100", 5)])))
    engine.tick()
    engine.tick()
    (path,) = outbound(engine, "945")
    (line,) = parse_945(parse_interchange(path.read_bytes()).transactions()[0]).lines
    assert line.status in ("BP", "BO") and line.shipped < 5 and line.difference == 5 - line.shipped


def test_945_is_deterministic_for_a_seed(tmp_path: Path) -> None:
    contents = []
    for run in ("a", "b"):
        engine = threepl(tmp_path / run, Clock(), delay_s=0, partial_rate=0.5)
        (engine.inbound / "o.edi").write_text(good_940())
        engine.tick()
        engine.tick()
        contents.append(outbound(engine, "945")[0].read_text())
    assert contents[0] == contents[1]


def test_bad_940_goes_to_errors_with_a_rejecting_997(tmp_path: Path) -> None:
    engine = threepl(tmp_path, Clock(), delay_s=0)
    (engine.inbound / "bad.edi").write_text(good_940().replace("SE*13*0001", "SE*9*0001"))
    engine.tick()
    engine.tick()
    assert (engine.errors / "bad.edi").exists()
    report = (engine.errors / "bad.edi.error.txt").read_text()
    assert "bad.edi" in report and "SE01 says '9'" in report and "element 01" in report
    (ack_file,) = outbound(engine, "997")
    ack = parse_997(parse_interchange(ack_file.read_bytes()).transactions()[0])
    assert ack.status == "R" and ack.sets[0].status == "R" and ack.sets[0].codes == ("4",)
    assert outbound(engine, "945") == []


def test_unusable_interchanges_are_kept_and_answered_with_ta1(tmp_path: Path) -> None:
    engine = threepl(tmp_path, Clock())
    (engine.inbound / "junk.edi").write_text("Hello, please ship 3 mugs")
    (engine.inbound / "iea.edi").write_text(good_940().replace("IEA*1*000000041", "IEA*1*9"))
    engine.tick()
    assert "not an X12 interchange" in (engine.errors / "junk.edi.error.txt").read_text()
    assert "IEA02" in (engine.errors / "iea.edi.error.txt").read_text()
    (ta1,) = outbound(engine, "TA1")
    assert "TA1*000000041*250303*1200*R*001~" in ta1.read_text()
    assert outbound(engine, "997") == []


def test_846_is_sent_every_interval(tmp_path: Path) -> None:
    clock = Clock()
    engine = threepl(tmp_path, clock, inventory_interval_s=60)
    engine.tick()
    clock.now += 30
    engine.tick()
    assert len(outbound(engine, "846")) == 1
    clock.now += 31
    engine.tick()
    files = outbound(engine, "846")
    assert len(files) == 2
    interchange = parse_interchange(files[-1].read_bytes())
    assert interchange.groups[0].functional_id == "IB"
    advice = parse_846(interchange.transactions()[0])
    stock = engine.state.data["stock"]
    assert {item.sku: item.on_hand for item in advice.items} == stock
    assert {p.sku for p in PRODUCTS} <= {item.sku for item in advice.items}


def test_fault_knobs_malformed_duplicate_paused(tmp_path: Path) -> None:
    engine = threepl(tmp_path, Clock(), delay_s=0, malformed_rate=1.0, duplicate_rate=1.0)
    engine.knobs.update({"paused": True})
    (engine.inbound / "o.edi").write_text(good_940())
    engine.tick()
    assert list(engine.outbound.iterdir()) == []
    engine.knobs.update({"paused": False})
    engine.tick()
    engine.tick()
    first, resend = outbound(engine, "945")
    assert resend.name.endswith("_resend.edi")
    assert first.read_bytes() == resend.read_bytes()
    with pytest.raises(X12Error):
        parse_interchange(first.read_bytes())


@pytest.mark.parametrize("kind", ["se_count", "group_control", "truncated", "interchange_control"])
def test_every_breakage_is_caught_by_the_reader(kind: str) -> None:
    import random

    with pytest.raises(X12Error):
        parse_interchange(break_interchange(good_940(), random.Random(1), kind))


# -- DRP -------------------------------------------------------------------------------


def drp(tmp_path: Path, clock: Clock, **knobs: object) -> DrpEngine:
    settings = DrpKnobs(delay_s=0, settle_s=0)
    settings.update(dict(knobs))
    return DrpEngine(DrpConfig(tmp_path / "drp", tmp_path / "state", knobs=settings), clock)


def test_distributors_drop_852_csv_and_850(tmp_path: Path) -> None:
    engine = drp(tmp_path, Clock())
    engine.tick()
    encodings = {}
    for dist in engine.config.distributors:
        out = tmp_path / "drp" / dist.key / "outbound"
        (f852,) = out.glob("852_*.edi")
        report = parse_852(parse_interchange(f852.read_bytes()).transactions()[0])
        assert report.distributor.name == dist.address.name
        assert len(report.items) == len(PRODUCTS)
        (f850,) = out.glob("850_*.edi")
        interchange = parse_interchange(f850.read_bytes())
        assert (interchange.sender_id, interchange.groups[0].functional_id) == (
            dist.party.interchange_id,
            "PO",
        )
        po = parse_850(interchange.transactions()[0])
        assert po.currency == dist.currency and po.lines and po.po_number
        (csv_file,) = out.glob("stock_*.csv")
        raw = csv_file.read_bytes()
        encodings[dist.key] = raw
        rows = read_stock_csv(raw)
        first = list(rows[0].values())
        by_sku = {item.sku: item for item in report.items}
        assert len(rows) == len(report.items)
        assert int(first[3]) == by_sku[first[0]].on_hand and int(first[4]) == by_sku[first[0]].sold
    assert encodings["alpenkaffee"].startswith(b"\xef\xbb\xbf")
    nord = encodings["kaffeehandel-nord"]
    assert b"Kaffeem\xfchle" in nord and b";" in nord.splitlines()[0]
    assert b"," in encodings["pacific-brew"].splitlines()[0]


def test_csv_knobs_override_encoding_and_delimiter(tmp_path: Path) -> None:
    engine = drp(tmp_path, Clock(), csv_encoding="utf-8-sig", csv_delimiter=",")
    engine.tick()
    raw = next((tmp_path / "drp" / "kaffeehandel-nord" / "outbound").glob("*.csv")).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfArtikelnummer,EAN,")
    assert "Kaffeemühle Classic" in raw.decode("utf-8-sig")


def test_distributor_checks_855_and_810_from_tandem(tmp_path: Path) -> None:
    engine = drp(tmp_path, Clock())
    engine.tick()
    dist = engine.config.distributors[0]
    base = tmp_path / "drp" / dist.key
    po = parse_850(
        parse_interchange(next((base / "outbound").glob("850_*")).read_bytes()).transactions()[0]
    )
    ack = PurchaseOrder(
        po.po_number, po.order_date, "", po.buyer, po.ship_to, po.lines, ack_type="AD"
    )
    invoice = Invoice(
        "INV-1",
        date(2025, 3, 5),
        "NOT-OURS",
        (PoLine(1, "TDM-ESP-100", 1, po.lines[0].unit_price),),
        po.lines[0].unit_price,
    )
    supplier = Party("ZZ", "TANDEM", "TANDEM")
    for name, set_id, body in (
        ("ack.edi", "855", build_855(ack)),
        ("inv.edi", "810", build_810(invoice)),
    ):
        text = build_interchange(
            supplier, dist.party, [(set_id, body)], interchange_number=77, group_number=7, when=WHEN
        )
        (base / "inbound" / name).write_text(text)
    (base / "inbound" / "broken.edi").write_text("ISA*garbage")
    engine.tick()
    assert (base / "archive" / "ack.edi").exists()
    assert (
        "BIG04: unknown purchase order 'NOT-OURS'"
        in (base / "errors" / "inv.edi.error.txt").read_text()
    )
    assert (base / "errors" / "broken.edi.error.txt").exists()
    statuses = sorted(
        parse_997(parse_interchange(p.read_bytes()).transactions()[0]).status
        for p in (base / "outbound").glob("997_*.edi")
    )
    assert statuses == ["A", "R"]


# -- PDM -------------------------------------------------------------------------------


def test_full_bmecat_2005_catalog_matches_the_shop(tmp_path: Path) -> None:
    engine = PdmEngine(PdmConfig(tmp_path / "pdm", tmp_path / "state", extra_products=30), Clock())
    engine.tick()
    (full,) = (tmp_path / "pdm").glob("*_full.xml")
    root = etree.parse(str(full)).getroot()
    assert root.tag == f"{{{NAMESPACE_2005}}}BMECAT" and root.get("version") == "2005"
    assert root.findtext("b:HEADER/b:CATALOG/b:CATALOG_VERSION", namespaces=NS) == "001.000"
    assert root.findtext("b:HEADER/b:SUPPLIER/b:SUPPLIER_NAME", namespaces=NS)
    products = root.findall("b:T_NEW_CATALOG/b:PRODUCT", NS)
    assert len(products) == len(PRODUCTS) + 30
    by_sku = {p.findtext("b:SUPPLIER_PID", namespaces=NS): p for p in products}
    for shop in PRODUCTS:
        product = by_sku[shop.sku]
        assert product.findtext("b:PRODUCT_DETAILS/b:DESCRIPTION_SHORT", namespaces=NS) == shop.name
        price = product.findtext(
            "b:PRODUCT_PRICE_DETAILS/b:PRODUCT_PRICE/b:PRICE_AMOUNT", namespaces=NS
        )
        assert price == str(shop.price_eur)
        gtin = product.find("b:PRODUCT_DETAILS/b:INTERNATIONAL_PID", NS)
        assert gtin is not None and gtin.get("type") == "gtin" and len(gtin.text or "") == 13
        for path in (
            "b:PRODUCT_DETAILS/b:DESCRIPTION_LONG",
            "b:PRODUCT_DETAILS/b:MANUFACTURER_NAME",
            "b:PRODUCT_FEATURES/b:FEATURE/b:FNAME",
            "b:PRODUCT_ORDER_DETAILS/b:ORDER_UNIT",
            "b:PRODUCT_ORDER_DETAILS/b:CONTENT_UNIT",
        ):
            assert product.findtext(path, namespaces=NS), path


def test_bmecat_delta_updates_and_deletes(tmp_path: Path) -> None:
    clock = Clock()
    engine = PdmEngine(PdmConfig(tmp_path / "pdm", tmp_path / "state"), clock)
    engine.knobs.update({"delta_interval_s": 60, "changes_per_delta": 5})
    engine.tick()
    clock.now += 61
    engine.tick()
    (delta,) = (tmp_path / "pdm").glob("*_update.xml")
    root = etree.parse(str(delta)).getroot()
    update = root.find("b:T_UPDATE_PRODUCTS", NS)
    assert update is not None and update.get("prev_version") == "001.000"
    modes = [p.get("mode") for p in update.findall("b:PRODUCT", NS)]
    assert "update" in modes and "delete" in modes
    deleted = next(p for p in update.findall("b:PRODUCT", NS) if p.get("mode") == "delete")
    assert [child.tag.split("}")[1] for child in deleted] == ["SUPPLIER_PID"]
    assert deleted.findtext("b:SUPPLIER_PID", namespaces=NS) not in {
        p.sku for p in engine.products()
    }


def test_bmecat_12_variant_and_streaming(tmp_path: Path) -> None:
    from sandbox.pdm.bmecat import CatalogInfo, write_catalog
    from sandbox.pdm.products import generated

    buffer = io.BytesIO()
    info = CatalogInfo("C", "001.000", "test", WHEN)
    count = write_catalog(buffer, info, generated(500), version="1.2")
    root = etree.fromstring(buffer.getvalue())
    assert count == 500 and root.tag == "BMECAT" and root.get("version") == "1.2"
    articles = root.findall("T_NEW_CATALOG/ARTICLE")
    assert len(articles) == 500 and articles[0].findtext("SUPPLIER_AID") == "TDM-GEN-0000001"
    assert articles[0].findtext("ARTICLE_DETAILS/EAN")
    assert root.find("HEADER/CATALOG/DATETIME").get("type") == "generation_date"  # type: ignore[union-attr]


def test_shop_products_keep_the_shop_skus_and_prices() -> None:
    assert [(p.sku, p.net_price_eur) for p in shop_products()] == [
        (p.sku, p.price_eur) for p in PRODUCTS
    ]


# -- runner ----------------------------------------------------------------------------


def test_runner_applies_control_file_knobs_at_run_time(tmp_path: Path) -> None:
    clock = Clock()
    partners = start_file_partners(
        tmp_path, knobs={"threepl": {"delay_s": 999, "settle_s": 0}}, clock=clock, run=False
    )
    assert partners.threepl.knobs.delay_s == 999
    (tmp_path / ".partners" / "control.json").write_text(
        json.dumps({"threepl": {"delay_s": 0}, "drp": {"paused": True}})
    )
    (tmp_path / "3pl" / "inbound" / "o.edi").write_text(good_940())
    partners.tick()
    partners.tick()
    assert partners.threepl.knobs.delay_s == 0 and partners.drp.knobs.paused
    assert list((tmp_path / "3pl" / "outbound").glob("945_*.edi"))
    assert not list((tmp_path / "drp" / "alpenkaffee" / "outbound").iterdir())
    effective = json.loads((tmp_path / ".partners" / "knobs.json").read_text())
    assert effective["threepl"]["delay_s"] == 0
    (tmp_path / ".partners" / "control.json").write_text(json.dumps({"threepl": {"nope": 1}}))
    os.utime(tmp_path / ".partners" / "control.json", (1, 1))
    partners.tick()
    assert "unknown knob 'nope'" in partners.errors[-1]


def test_runner_thread_starts_and_stops(tmp_path: Path) -> None:
    from sandbox.files.runner import wait_for

    partners = start_file_partners(tmp_path, interval=0.05)
    try:
        assert wait_for(lambda: any((tmp_path / "pdm" / "outbound").glob("*_full.xml")))
    finally:
        partners.stop()
    assert partners._thread is not None and not partners._thread.is_alive()


# -- over a real OpenSSH sshd --------------------------------------------------------------


def test_openssh_sftp_client_lists_and_fetches_a_945(tmp_path: Path) -> None:
    need_program("/usr/sbin/sshd", "apt-get install openssh-server")
    need_program("sftp", "apt-get install openssh-client")
    if os.geteuid() != 0:
        pytest.skip("sshd peer needs root (it creates the SFTP user)")
    from sandbox.sshd import start_sshd

    with start_sshd(tmp_path / "sshd") as sshd:
        root = sshd.area(f"partners-{uuid.uuid4().hex[:8]}")
        try:
            partners = start_file_partners(
                root, knobs={"threepl": {"delay_s": 0, "settle_s": 0}}, run=False
            )
            order_file = tmp_path / "o1.edi"
            order_file.write_text(good_940())
            inbound = root / "3pl" / "inbound"

            def sftp(*commands: str) -> str:
                batch = tmp_path / "batch"
                batch.write_text("\n".join(commands) + "\n")
                result = subprocess.run(
                    [
                        "sftp",
                        "-b",
                        str(batch),
                        "-i",
                        str(sshd.client_key),
                        "-o",
                        f"UserKnownHostsFile={sshd.known_hosts}",
                        "-o",
                        "StrictHostKeyChecking=yes",
                        "-o",
                        "BatchMode=yes",
                        "-P",
                        str(sshd.port),
                        f"{sshd.user}@{sshd.host}",
                    ],
                    capture_output=True,
                    text=True,
                    timeout=30,
                    check=False,
                )
                assert result.returncode == 0, result.stderr
                return result.stdout

            # Tandem's way: upload under a .part name, then rename (atomic for the reader)
            sftp(
                f"put {order_file} {inbound}/o1.edi.part",
                f"rename {inbound}/o1.edi.part {inbound}/o1.edi",
            )
            partners.tick()
            partners.tick()
            listing = sftp(f"cd {root}/3pl/outbound", "ls -1")
            names = [line.strip() for line in listing.splitlines() if line.strip().endswith(".edi")]
            (advice_name,) = [name for name in names if name.startswith("945_SO-1001_")]
            assert any(name.startswith("997_") for name in names)
            fetched = tmp_path / "fetched.edi"
            sftp(
                f"get {root}/3pl/outbound/{advice_name} {fetched}",
                f"rm {root}/3pl/outbound/{advice_name}",  # the area is the SFTP user's own
            )
            assert not (root / "3pl" / "outbound" / advice_name).exists()
            advice = parse_945(parse_interchange(fetched.read_bytes()).transactions()[0])
            assert advice.order_number == "SO-1001" and advice.packages
            assert (root / "3pl" / "archive" / "o1.edi").exists()
        finally:
            shutil.rmtree(root, ignore_errors=True)
