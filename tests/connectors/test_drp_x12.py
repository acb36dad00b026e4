"""852 and 850 as the published X12 4010 guides write them, and 855/810 as we write them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from canonical.errors import InvalidRecord
from connectors.base import Quarantined, RawRecord
from connectors.drp.connector import Partner
from connectors.drp.inbound import PurchaseOrders, SellThrough
from connectors.drp.settings import DistributorSettings
from connectors.drp.x12_out import build_810, build_855
from connectors.formats.x12 import GroupOut, Party, SetOut, build_interchange
from connectors.transports.sftp import SftpSettings
from sandbox.edi.trade import parse_810, parse_855
from sandbox.edi.x12 import read_interchange

REPORT = """XQ*H*20261116*20261122
N9*IA*V-40711
N9*DP*KHN-REPORT-47
N1*DS*Kaffeehandel Nord GmbH*92*KHN01
LIN**UP*012345678905*VN*TDM-GRD-200*BP*KH-778
ZA*QS*12*EA
SDQ*EA*92*HH01*5*HH02*7
ZA*QA**EA
SDQ*EA*92*HH01*30*HH02*20
LIN**VN*TDM-ESP-100
PID*F****Espresso Machine
ZA*QS*3*EA
ZA*QA*8*EA
ZA*QU*1*EA
CTT*2"""

ORDER = """BEG*00*SA*PO-4711**20261120
CUR*BY*EUR
REF*DP*038
DTM*002*20261127
N1*BY*Kaffeehandel Nord GmbH*92*KHN01
N1*ST*KHN Lager*92*KHN01-DC
N3*Am Sandtorkai 5*Halle 2
N4*Hamburg**20457*DE
PO1*1*12*EA*10.5*PE*VN*TDM-GRD-200*EN*4012345000024
PID*F****Kaffeemühle Classic
PO1*2*6*CA*99*PE*UP*012345678905
CTT*2*18"""


def segments(text: str) -> list[Any]:
    return [line.split("*") for line in text.splitlines()]


def interchange(
    code: str, *bodies: str, sender: str = "KHNORD", number: int = 42, break_ge: bool = False
) -> bytes:
    sets = [SetOut(code, f"{n:04d}", segments(b)) for n, b in enumerate(bodies, start=1)]
    data = build_interchange(
        Party("ZZ", sender), Party("ZZ", "TANDEM"), number, [GroupOut(number, sets)],
        usage="P", now=datetime(2026, 11, 23, 12, tzinfo=UTC), newline=True,
    )  # fmt: skip
    if break_ge:
        data = data.replace(f"GE*{len(sets)}*{number}~".encode(), f"GE*{len(sets)}*9~".encode())
    return data


def partner(tmp_path: Path, **overrides: Any) -> Partner:
    sftp = SftpSettings(host="127.0.0.1", username="u", password="p", known_hosts=tmp_path)
    values: dict[str, Any] = {"key": "khn", "sftp": sftp, "their_id": "KHNORD", **overrides}
    return Partner(DistributorSettings(**values))


def parsed(stream: SellThrough | PurchaseOrders, p: Partner, data: bytes) -> tuple[
    list[RawRecord], list[Quarantined]
]:  # fmt: skip
    items = list(stream.parse(p, "852_test.edi", data))
    return (
        [i for i in items if isinstance(i, RawRecord)],
        [i for i in items if isinstance(i, Quarantined)],
    )


def test_852_rows_per_product_and_sdq_location(tmp_path: Path) -> None:
    p = partner(tmp_path, location="KHN-ALL")
    records, quarantined = parsed(SellThrough([p], 100), p, interchange("852", REPORT))
    assert quarantined == []
    rows = {(r.data["sku"], r.data["location"]): r.data for r in records}
    assert set(rows) == {
        ("TDM-GRD-200", "HH01"),
        ("TDM-GRD-200", "HH02"),
        ("TDM-ESP-100", "KHN-ALL"),
    }
    assert rows["TDM-GRD-200", "HH01"]["activity"] == {"QA": "30", "QS": "5"}
    assert rows["TDM-GRD-200", "HH02"]["activity"] == {"QA": "20", "QS": "7"}
    assert rows["TDM-GRD-200", "HH01"]["gtin"] == "012345678905"
    assert rows["TDM-GRD-200", "HH01"]["buyer_item"] == "KH-778"
    esp = rows["TDM-ESP-100", "KHN-ALL"]
    assert esp["quantities"] == {"available": "8", "sold": "3", "returned": "1"}
    assert esp["description"] == "Espresso Machine" and esp["report_id"] == "KHN-REPORT-47"
    assert (esp["period_start"], esp["period_end"]) == ("2026-11-16", "2026-11-22")
    keys = sorted(r.key for r in records)
    assert keys[0] == "khn|HH01|TDM-GRD-200|20261116-20261122|QA+QS"


def test_852_bad_quantity_quarantines_that_product_only(tmp_path: Path) -> None:
    p = partner(tmp_path)
    body = REPORT.replace("ZA*QA*8*EA", "ZA*QA*8x*EA")
    records, quarantined = parsed(SellThrough([p], 100), p, interchange("852", body))
    assert {r.data["sku"] for r in records} == {"TDM-GRD-200"}
    (bad,) = quarantined
    assert "LIN 2" in bad.source and "ZA02: '8x' is not a number" in bad.reason
    assert bad.raw.startswith(b"LIN**VN*TDM-ESP-100~")


@pytest.mark.parametrize(
    ("body", "reason"),
    [(REPORT.replace("CTT*2", "CTT*3"), "CTT01 says '3' LIN items, counted 2"),
     (REPORT.replace("XQ*H*20261116*20261122", "XQ*H*20261316"), "XQ02: '20261316'"),
     ("\n".join(REPORT.splitlines()[1:]), "XQ (reporting date) missing")],
)  # fmt: skip
def test_852_unusable_set_is_quarantined_whole(tmp_path: Path, body: str, reason: str) -> None:
    p = partner(tmp_path)
    good = REPORT.replace("KHN-REPORT-47", "R2")
    records, quarantined = parsed(SellThrough([p], 100), p, interchange("852", body, good))
    assert len(records) == 3  # the other set of the file
    (bad,) = quarantined
    assert reason in bad.reason and "set 852 0001" in bad.reason


def test_a_broken_envelope_rejects_its_interchange_and_not_the_next(tmp_path: Path) -> None:
    p = partner(tmp_path)
    data = interchange("852", REPORT, break_ge=True) + interchange("852", REPORT, number=43)
    records, quarantined = parsed(SellThrough([p], 100), p, data)
    assert len(records) == 3
    assert all(r.source.startswith("khn/852_test.edi") for r in records)
    (bad,) = quarantined
    assert "envelope rejected" in bad.reason and "GE02 '9' does not match GS06 '42'" in bad.reason
    assert bad.raw.startswith(b"ST*852*0001~")


def test_an_interchange_from_someone_else_is_quarantined(tmp_path: Path) -> None:
    p = partner(tmp_path)
    records, quarantined = parsed(SellThrough([p], 100), p, interchange("852", REPORT, sender="X"))
    assert records == []
    assert "ISA06 sender 'X' is not the distributor's id 'KHNORD'" in quarantined[0].reason


def test_not_x12_at_all_is_read_as_csv_and_refused_with_the_file_named(tmp_path: Path) -> None:
    p = partner(tmp_path)
    items = list(SellThrough([p], 100).parse(p, "852_x.edi", b"<xml/>"))
    assert len(items) == 1 and isinstance(items[0], Quarantined)
    assert items[0].source == "khn/852_x.edi" and items[0].raw == b"<xml/>"


def test_850_is_one_record_with_lines_parties_and_dates(tmp_path: Path) -> None:
    p = partner(tmp_path)
    records, quarantined = parsed(PurchaseOrders([p], 100), p, interchange("850", ORDER))
    assert quarantined == []
    (order,) = records
    assert order.key == "khn|PO-4711"
    data = order.data
    assert (data["po_number"], data["po_date"], data["currency"]) == (
        "PO-4711",
        "2026-11-20",
        "EUR",
    )
    assert data["requested_delivery"] == "2026-11-27" and data["references"] == {"DP": "038"}
    assert data["ship_to"] == {
        "entity": "ST", "name": "KHN Lager", "id_qualifier": "92", "id": "KHN01-DC",
        "street": "Am Sandtorkai 5", "street2": "Halle 2", "city": "Hamburg",
        "postcode": "20457", "country": "DE",
    }  # fmt: skip
    first, second = data["lines"]
    assert first == {
        "line_number": "1", "quantity": "12", "uom": "EA", "unit_price": "10.5",
        "price_basis": "PE", "sku": "TDM-GRD-200", "gtin": "4012345000024", "buyer_item": None,
        "ids": {"VN": "TDM-GRD-200", "EN": "4012345000024"}, "description": "Kaffeemühle Classic",
    }  # fmt: skip
    assert (second["sku"], second["gtin"], second["uom"]) == (None, "012345678905", "CA")
    assert order.version and order.raw is not None and order.raw.startswith(b"ST*850*0001~")


@pytest.mark.parametrize(
    ("change", "reason"),
    [(("PO1*2*6*", "PO1*2*six*"), "PO102): 'six' is not a number"),
     (("CTT*2*18", "CTT*2*19"), "CTT02 quantity hash '19', the lines add up to 18"),
     (("BEG*00*SA*PO-4711**20261120", "BEG*00*SA***20261120"), "BEG03: purchase order number"),
     (("UP*012345678905", ""), "no product id")],
)  # fmt: skip
def test_a_bad_850_is_quarantined_whole(
    tmp_path: Path, change: tuple[str, str], reason: str
) -> None:
    p = partner(tmp_path)
    body = ORDER.replace(*change)
    records, quarantined = parsed(PurchaseOrders([p], 100), p, interchange("850", body))
    assert records == []
    assert reason in quarantined[0].reason, quarantined[0].reason


ACK = {
    "distributor": "khn", "po_number": "PO-4711", "po_date": "2026-11-20", "ack_type": "AC",
    "ack_date": date(2026, 11, 21), "currency": "eur",
    "lines": [
        {"line_number": 1, "sku": "TDM-GRD-200", "gtin": "4012345000024", "quantity": "12",
         "unit_price": Decimal("10.50"), "status": "IA", "ship_date": "2026-11-25"},
        {"line_number": 2, "sku": "TDM-ESP-100", "quantity": 6, "uom": "ea",
         "unit_price": "99", "status": "IQ", "ack_quantity": "4"},
    ],
}  # fmt: skip


def test_855_body_and_the_distributor_reads_it() -> None:
    body = build_855(ACK)
    assert body == [
        ["BAK", "00", "AC", "PO-4711", "20261120", "", "", "", "", "20261121"],
        ["CUR", "SE", "EUR"],
        ["PO1", "1", "12", "EA", "10.5", "PE", "VN", "TDM-GRD-200", "EN", "4012345000024"],
        ["ACK", "IA", "12", "EA", "068", "20261125"],
        ["PO1", "2", "6", "EA", "99", "PE", "VN", "TDM-ESP-100"],
        ["ACK", "IQ", "4", "EA"],
        ["CTT", "2", "16"],
    ]
    group = GroupOut(7, [SetOut("855", "0001", list(body))])
    data = build_interchange(Party("ZZ", "TANDEM"), Party("ZZ", "KHNORD"), 7, [group], usage="P")
    (tx,) = read_interchange(data).groups[0].transactions
    ack = parse_855(tx)
    assert (ack.po_number, ack.ack_type, ack.lines[1].acknowledged_quantity) == ("PO-4711", "AC", 4)


def test_810_body_total_in_cents_and_the_distributor_reads_it() -> None:
    invoice = {"invoice_number": "INV-1", "invoice_date": "2026-11-24", "po_number": "PO-4711",
               "currency": "USD", "total": "720.00", "tax": "0",
               "lines": [{"sku": "A", "quantity": "12", "unit_price": "60"}]}  # fmt: skip
    body = build_810(invoice)
    assert body[0] == ["BIG", "20261124", "INV-1", "", "PO-4711"]
    assert ["TDS", "72000"] in body and body[-1] == ["CTT", "1"]
    group = GroupOut(8, [SetOut("810", "0001", list(body))])
    data = build_interchange(Party("ZZ", "TANDEM"), Party("ZZ", "KHNORD"), 8, [group], usage="P")
    (tx,) = read_interchange(data).groups[0].transactions
    assert parse_810(tx).total == Decimal("720.00")


def test_every_bad_field_of_an_ack_is_named_at_once() -> None:
    bad = {"po_number": "", "po_date": "20.11.2026", "ack_type": "XX",
           "lines": [{"sku": "A", "quantity": "0"}, {"quantity": 1.5}]}  # fmt: skip
    with pytest.raises(InvalidRecord) as caught:
        build_855(bad)
    paths = [e.path for e in caught.value.errors]
    assert paths == ["po_number", "po_date", "ack_type", "lines[0].quantity",
                     "lines[1].quantity", "lines[1].sku", "lines[1].ack_quantity"]  # fmt: skip
    with pytest.raises(InvalidRecord, match=r"total: 1\.005 has more than two decimals"):
        build_810({**invoice_base(), "total": "1.005"})


def invoice_base() -> dict[str, Any]:
    return {"invoice_number": "I", "invoice_date": "2026-11-24", "po_number": "P",
            "lines": [{"sku": "A", "quantity": "1", "unit_price": "1"}]}  # fmt: skip


def test_an_852_in_windows_1252_is_read(tmp_path: Path) -> None:
    p = partner(tmp_path)
    body = REPORT.replace("Espresso Machine", "Espressomaschine Größe L")
    data = interchange("852", body).decode().encode("cp1252")
    records, quarantined = parsed(SellThrough([p], 100), p, data)
    assert quarantined == [] and len(records) == 3
    assert {r.data["description"] for r in records} >= {"Espressomaschine Größe L"}
