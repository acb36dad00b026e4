"""Suite 5 — hostile and malformed input through the real parsers: every bad case is refused
or quarantined with a message naming the file/record (and the field where there is one),
and the good records of the same batch still come through.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
import sqlalchemy as sa

from connectors.base import Quarantined, RawRecord
from connectors.drp.csv_dialect import CsvFormatError
from connectors.drp.csv_report import ReportContext, RowProblem, read_report
from connectors.drp.records import ActivityRow
from connectors.formats.x12 import TransactionSet, X12Error, read_x12
from connectors.pdm.bmecat import CatalogReader
from flows.export import render_csv
from flows.registry import FLOWS, RunOptions
from hub.schema import InboxMessage, InboxStatus
from tests.reliability import hostile_cases as hc
from tests.reliability.figures import Figures, record
from tests.reliability.slice import account, paid_order, running_slice

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
COUNTS: dict[str, int] = {}


def _count(kind: str) -> None:
    COUNTS[kind] = COUNTS.get(kind, 0) + 1


def _x12(data: bytes) -> tuple[list[TransactionSet], list[X12Error]]:
    items = list(read_x12(data, "in.x12"))
    return (
        [i for i in items if isinstance(i, TransactionSet)],
        [i for i in items if isinstance(i, X12Error)],
    )


@pytest.mark.parametrize(("name", "data", "names"), hc.X12_SET_DAMAGE, ids=lambda v: str(v)[:30])
def test_x12_set_damage_fails_that_set_and_the_others_go_on(
    name: str, data: bytes, names: str
) -> None:
    sets, errors = _x12(data)
    assert errors, f"{name}: accepted"
    assert all("in.x12" in str(e) for e in errors)
    assert any(names in str(e) for e in errors), [str(e) for e in errors]
    assert len(sets) >= 2, f"{name}: the undamaged sets were not read"  # the rest goes on
    _count("x12")


@pytest.mark.parametrize(
    ("name", "data", "names"),
    hc.X12_ENVELOPE_DAMAGE + hc.X12_NOT_EDI + hc.X12_TRUNCATED,
    ids=lambda v: str(v)[:30],
)
def test_x12_hostile_envelopes_are_clear_errors(name: str, data: bytes, names: str) -> None:
    _sets, errors = _x12(data)
    assert errors, f"{name}: accepted"
    text = " | ".join(str(e) for e in errors)
    assert names in text, text
    assert all(str(e).startswith("in.x12") for e in errors), text
    _count("x12")


CONTEXT = ReportContext("dist", "stock_dist_20261123_1.csv")


@pytest.mark.parametrize(("name", "data", "names"), hc.CSV_BAD_ROWS, ids=lambda v: str(v)[:30])
def test_csv_bad_row_is_a_problem_naming_file_line_and_the_rest_is_read(
    name: str, data: bytes, names: str
) -> None:
    _, rows = read_report(data, CONTEXT)
    results = list(rows)
    problems = [r for r in results if isinstance(r, RowProblem)]
    good = [r for r in results if isinstance(r, ActivityRow)]
    assert problems, f"{name}: accepted {results}"
    # the connector prefixes the file name (connectors/drp/inbound.py); here: line and column
    assert all(p.reason.startswith(names) for p in problems), problems
    assert {r.sku for r in good} >= {"TDM-GRD-200"}, name  # the first row still counts
    _count("csv")


@pytest.mark.parametrize(("name", "data", "_names"), hc.CSV_BAD_FILES, ids=lambda v: str(v)[:30])
def test_csv_unreadable_file_is_refused(name: str, data: bytes, _names: str) -> None:
    try:
        _, rows = read_report(data, CONTEXT)
        results = list(rows)
    except CsvFormatError as exc:
        assert str(exc), name  # the connector quarantines the file as "<file>: <this>"
    else:  # or every row is a problem with its line: nothing of it is taken as data
        assert results and all(isinstance(r, RowProblem) for r in results), (name, results)
        assert all(r.reason.startswith("line ") for r in results if isinstance(r, RowProblem))
    _count("csv")


@pytest.mark.parametrize(
    ("name", "data", "names"), hc.CSV_READABLE_VARIANTS, ids=lambda v: str(v)[:30]
)
def test_csv_boms_and_encodings_are_read_not_refused(name: str, data: bytes, names: str) -> None:
    _, rows = read_report(data, CONTEXT)
    good = [r for r in rows if isinstance(r, ActivityRow)]
    assert [r.sku for r in good] == ["TDM-GRD-200", "TDM-ESP-100", "TDM-CUP-010"], name
    _count("read")


@pytest.mark.parametrize("payload", hc.FORMULA_PAYLOADS, ids=repr)
def test_formula_cells_never_reach_an_export_unescaped(payload: str) -> None:
    text = render_csv(["sku", "name", "qty"], [["TDM-1", payload, payload]]).decode("utf-8")
    [_header, row] = list(csv.reader(io.StringIO(text, newline="")))
    for cell in row[1:]:
        if cell.startswith(FORMULA_START):
            float(cell)  # only a plain number may start with a sign
        assert cell.lstrip("'") == payload, (cell, payload)  # escaped, not mangled
    _count("read")  # exported, escaped


@pytest.mark.parametrize(
    ("name", "data", "names"), hc.XML_UNSAFE + hc.XML_BROKEN, ids=lambda v: str(v)[:30]
)
def test_hostile_xml_is_quarantined_naming_the_file(name: str, data: bytes, names: str) -> None:
    items = list(CatalogReader(io.BytesIO(data), "catalog_2026.xml"))
    parked = [i for i in items if isinstance(i, Quarantined)]
    assert parked, f"{name}: accepted"
    assert all("catalog_2026.xml" in q.reason for q in parked), [q.reason for q in parked]
    leaked = b"root:" in b"".join(r.raw or b"" for r in parked) or any(
        "root:x" in str(r.data) for r in items if isinstance(r, RawRecord)
    )
    assert not leaked, "an external entity was resolved"
    _count("xml")


def test_bad_product_is_quarantined_and_the_rest_of_the_catalog_read() -> None:
    data = hc.good_catalog(3)
    first = data.index(b"<SUPPLIER_PID")
    end = data.index(b"</SUPPLIER_PID>", first) + len(b"</SUPPLIER_PID>")
    items = list(CatalogReader(io.BytesIO(data[:first] + data[end:]), "catalog_2026.xml"))
    parked = [i for i in items if isinstance(i, Quarantined)]
    records = [i for i in items if isinstance(i, RawRecord)]
    assert len(parked) == 1 and len(records) == 2
    assert "catalog_2026.xml" in parked[0].reason and "SUPPLIER_PID" in parked[0].reason
    _count("xml")


# values of an acceptable kind for their field: these orders are valid and stored as sent
ACCEPTABLE = frozenset(
    {
        "billing.email=null",  # a guest order without e-mail
        "currency=string",  # any three letters
        "date_modified_gmt=null",  # falls back to date_modified
        "duplicate-keys",  # the last key wins, as in every JSON parser
        "line_items[0].sku=null",  # a line without SKU is a text line
        "line_items[0].sku=string",
        "utf16-body",  # RFC 8259 encodings are detected
    }
)
# order amounts out of range: refused naming the order, the field and the reason
HUGE = str(10**30)
AMOUNT_ERRORS = {
    "total=huge": f"webshop order 40000: total: {HUGE} is out of range for an amount",
    "total=negative": "webshop order 40000: total: -5 is negative",
    "line_items[0].total=huge": f"line_items[0].total: {HUGE} is out of range for an amount",
    "line_items[0].total=negative": "webshop order 40000: line_items[0].total: -5 is negative",
}


def test_malformed_order_json_is_quarantined_and_the_batch_goes_on(tmp_path: Path) -> None:
    base = paid_order(40_000, seed=4)
    bodies = list(hc.json_bodies(base))
    with running_slice(f"sqlite:///{tmp_path / 'hub.sqlite'}") as world:
        for _name, body in bodies:
            assert world.sender.send("order.created", body) == [200]
        good = [paid_order(40_100 + n, seed=n) for n in range(3)]
        for order in good:
            assert world.sender.send("order.created", order) == [200]
        FLOWS["webshop-orders"].run(world.runtime, RunOptions())
        with world.runtime.hub.begin() as hs:
            rows = list(hs.session.scalars(sa.select(InboxMessage)))
            by_body = {m.raw_body: (m.status, m.error or "") for m in rows}
        books = account(world.runtime, world.erp, [str(o["number"]) for o in good])
    assert len(books.delivered) == 3 and not books.lost, books
    refused = accepted = 0
    taken: list[str] = []
    for name, body in bodies:
        status, error = by_body[body]
        assert status in (InboxStatus.QUARANTINED, InboxStatus.PROCESSED), (name, status)
        if status == InboxStatus.QUARANTINED:
            refused += 1
            assert "message" in error or "webshop order" in error, (name, error)
            field = name.partition("=")[0]
            if "=" in name:
                assert field.split(".")[-1].split("[")[0] in error, (name, error)
            assert AMOUNT_ERRORS.get(name, "") in error, (name, error)
        else:
            accepted += 1  # a value of the right kind (e.g. a text SKU): stored as sent
            taken.append(name)
    record(
        Figures(
            "5 hostile JSON orders", len(bodies) + 3, delivered=3 + accepted, quarantined=refused
        )
    )
    assert set(taken) <= ACCEPTABLE, f"accepted: {sorted(set(taken) - ACCEPTABLE)}"


def test_figures() -> None:
    """Runs last in this module: the hostile cases counted by kind, for the report."""
    total = sum(COUNTS.values())
    read = COUNTS.get("read", 0)  # BOM/encoding variants read, formula cells escaped
    if total:
        record(
            Figures(
                "5 hostile files (X12/CSV/XML)", total, delivered=read, quarantined=total - read
            )
        )


def test_sql_metacharacters_and_unicode_round_trip_through_hub_and_erp(tmp_path: Path) -> None:
    with running_slice(f"sqlite:///{tmp_path / 'hub.sqlite'}") as world:
        numbers = []
        for n, text in enumerate(hc.EDGE_TEXT):
            order = paid_order(70_000 + n, seed=n)
            order["billing"]["last_name"] = text
            order["billing"]["company"] = ""
            order["billing"]["address_1"] = text
            order["billing"]["email"] = f"edge{n}@example.com"
            assert world.sender.send("order.created", order) == [200]
            numbers.append(str(order["number"]))
        FLOWS["webshop-orders"].run(world.runtime, RunOptions())
        books = account(world.runtime, world.erp, numbers)
        with world.erp.app.store.lock:
            customers = {c["E_Mail"]: c for c in world.erp.app.store.records["Customer"].values()}
    assert len(books.delivered) == len(hc.EDGE_TEXT), books
    for n, text in enumerate(hc.EDGE_TEXT):
        customer = customers[f"edge{n}@example.com"]
        assert customer["Name"].endswith(text), (text, customer["Name"])
        assert customer["Address"] == text, (text, customer["Address"])
    record(books.figures("5 SQL/Unicode round trip (SOAP ERP)", len(hc.EDGE_TEXT)))
