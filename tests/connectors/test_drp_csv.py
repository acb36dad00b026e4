"""Reading distributors' stock/sell-through CSV reports: every dialect, and bad rows."""

from __future__ import annotations

import codecs
import csv
import io
from datetime import date
from decimal import Decimal

import pytest

from connectors.drp.csv_dialect import (
    CsvFormatError,
    CsvOptions,
    decode,
    detect_delimiter,
    parse_date,
    parse_number,
    render_csv,
    safe_cell,
)
from connectors.drp.csv_report import ReportContext, RowProblem, read_report
from connectors.drp.records import ActivityRow
from sandbox.drp.distributors import DISTRIBUTORS, read_stock_csv, stock_csv
from sandbox.edi.trade import ActivityLine

ITEMS = [
    ActivityLine("TDM-GRD-200", "4012345000024", 1234, 5, 0),
    ActivityLine("TDM-ESP-100", "4012345000017", 3, 12, 24),
]
NAMES = {"TDM-GRD-200": "Kaffeemühle Classic", "TDM-ESP-100": "Espresso Machine; Barista"}
START, END = date(2026, 11, 17), date(2026, 11, 23)
CONTEXT = ReportContext("dist", "stock_dist_20261123_1.csv")


def read(
    data: bytes, options: CsvOptions | None = None, columns: dict[str, str] | None = None
) -> list[ActivityRow | RowProblem]:
    _, rows = read_report(data, CONTEXT, options, columns)
    return list(rows)


def good(results: list[ActivityRow | RowProblem]) -> list[ActivityRow]:
    rows = [r for r in results if isinstance(r, ActivityRow)]
    assert len(rows) == len(results), [r for r in results if isinstance(r, RowProblem)]
    return rows


@pytest.mark.parametrize("distributor", DISTRIBUTORS, ids=lambda d: d.key)
def test_every_sandbox_dialect_reads_to_the_same_rows(distributor: object) -> None:
    dist = DISTRIBUTORS[[d.key for d in DISTRIBUTORS].index(distributor.key)]  # type: ignore[attr-defined]
    data = stock_csv(ITEMS, NAMES, START, END, delimiter=dist.csv_delimiter,
                     encoding=dist.csv_encoding, language=dist.csv_language)  # fmt: skip
    dialect, rows = read_report(data, CONTEXT)
    expected_encoding = {"cp1252": "utf-8", "utf-8-sig": "utf-8-sig", "utf-8": "utf-8"}
    if dist.csv_encoding == "cp1252":  # 'ü' in Windows-1252 is not valid UTF-8
        expected_encoding["cp1252"] = "cp1252"
    assert dialect.encoding == expected_encoding[dist.csv_encoding]
    assert dialect.delimiter == dist.csv_delimiter
    found = good(list(rows))
    assert [(r.sku, r.gtin, r.period_start, r.period_end) for r in found] == [
        ("TDM-GRD-200", "4012345000024", START, END),
        ("TDM-ESP-100", "4012345000017", START, END),
    ]
    assert found[0].activity == {"QA": Decimal(1234), "QS": Decimal(5), "QP": Decimal(0)}
    assert found[0].description == "Kaffeemühle Classic"
    assert found[1].description == "Espresso Machine; Barista"  # quoted delimiter
    assert found[0].key == "dist|-|TDM-GRD-200|20261117-20261123|QA+QP+QS"
    assert read_stock_csv(data)[0]["EAN" if dist.csv_language == "de" else "GTIN"]


def _csv(rows: list[list[str]], delimiter: str) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "delimiter", [";", ",", "\t", "|"], ids=["semicolon", "comma", "tab", "pipe"]
)
@pytest.mark.parametrize(
    ("encoding", "bom"),
    [("utf-8", b""), ("utf-8", codecs.BOM_UTF8), ("cp1252", b""),
     ("utf-16-le", codecs.BOM_UTF16_LE), ("utf-16-be", codecs.BOM_UTF16_BE)],
    ids=["utf8", "utf8-bom", "cp1252", "utf16le-bom", "utf16be-bom"],
)  # fmt: skip
def test_delimiter_and_encoding_are_detected(delimiter: str, encoding: str, bom: bytes) -> None:
    text = _csv(
        [["Artikelnummer", "Bezeichnung", "Bestand", "Verkauft", "Datum"],
         ["A-1", "Größe M", "10", "2", "23.11.2026"],
         ["B-2", "Kühlbox", "0", "7", "23.11.2026"]],
        delimiter,
    )  # fmt: skip
    rows = good(read(bom + text.encode(encoding)))
    assert [(r.sku, r.description, r.activity["QA"], r.activity["QS"]) for r in rows] == [
        ("A-1", "Größe M", Decimal(10), Decimal(2)),
        ("B-2", "Kühlbox", Decimal(0), Decimal(7)),
    ]
    assert rows[0].period_start == rows[0].period_end == date(2026, 11, 23)


def test_decimal_comma_and_thousands_points_in_a_german_file() -> None:
    text = "Artikelnr;EAN;Lagerbestand;Abverkauf;Zeitraum von;Zeitraum bis\r\n"
    text += "K-1;4012345000017;1.234,5;12,5;01.11.2026;30.11.2026\r\n"
    text += "K-2;4012345000024;2.000;1.000;01.11.2026;30.11.2026\r\n"
    rows = good(read(text.encode("cp1252")))
    assert rows[0].activity == {"QA": Decimal("1234.5"), "QS": Decimal("12.5")}
    assert rows[1].activity == {"QA": Decimal(2000), "QS": Decimal(1000)}
    assert (rows[0].period_start, rows[0].period_end) == (date(2026, 11, 1), date(2026, 11, 30))


def test_decimal_point_and_thousands_commas_in_a_us_file() -> None:
    text = "Item Number,UPC,Qty On Hand,Units Sold,On Order,Week Ending\n"
    text += '"A-1",012345678905,"1,234",12.5,0,11/28/2026\n'
    text += "A-2,012345678912,3,1,2,11/21/2026\n"
    rows = good(read(text.encode()))
    assert rows[0].activity == {"QA": Decimal(1234), "QS": Decimal("12.5"), "QP": Decimal(0)}
    assert rows[0].period_end == date(2026, 11, 28)
    assert rows[0].gtin == "012345678905"


@pytest.mark.parametrize(
    ("text", "decimal_sep", "expected"),
    [("1.234,56", ",", "1234.56"), ("1,234.56", ",", "1234.56"), ("12,5", ",", "12.5"),
     ("12.5", ",", "12.5"), ("1.234", ",", "1234"), ("1,234", ".", "1234"), ("1,234", ",", "1.234"),
     ("1 234", ".", "1234"), ("1'234.5", ".", "1234.5"), ("1.234.567", ",", "1234567"),
     ("-3", ".", "-3"), ("3-", ",", "-3"), ("\u22124,5", ",", "-4.5"), ("0", ",", "0")],
)  # fmt: skip
def test_numbers_as_spreadsheets_write_them(text: str, decimal_sep: str, expected: str) -> None:
    assert parse_number(text, decimal_sep) == Decimal(expected)


@pytest.mark.parametrize("text", ["n/a", "12a", "1,2,3.4.5", "", "--1", "1e5"])
def test_what_is_not_a_number(text: str) -> None:
    with pytest.raises(ValueError, match="not a number"):
        parse_number(text, ",")


@pytest.mark.parametrize(
    ("text", "day_first", "expected"),
    [("31.12.2026", False, date(2026, 12, 31)), ("2026-12-31", False, date(2026, 12, 31)),
     ("20261231", False, date(2026, 12, 31)), ("12/31/2026", False, date(2026, 12, 31)),
     ("31/12/2026", True, date(2026, 12, 31)), ("01/02/26", True, date(2026, 2, 1)),
     ("2026-12-31T00:00:00", False, date(2026, 12, 31))],
)  # fmt: skip
def test_dates(text: str, day_first: bool, expected: date) -> None:
    assert parse_date(text, day_first=day_first) == expected


def test_day_first_slashes_are_learnt_from_the_file() -> None:
    text = "SKU;Sold;Date\r\nA;1;05/11/2026\r\nB;2;25/11/2026\r\n"
    rows = good(read(text.encode()))
    assert [r.period_end for r in rows] == [date(2026, 11, 5), date(2026, 11, 25)]


def test_a_bad_row_is_quarantined_with_line_column_and_bytes_and_the_rest_read() -> None:
    text = "SKU;EAN;Bestand;Verkauft;Datum\r\n"
    text += "A-1;4012345000017;10;2;23.11.2026\r\n"
    text += "A-2;4012345000024;n/a;3;23.11.2026\r\n"
    text += "A-3;4012345000031;7;1;31.02.2026\r\n"
    text += "A-4;4012345000048;5\r\n"
    text += ";;4;4;23.11.2026\r\n"
    text += "A-5;4012345000055;1;1;23.11.2026;extra\r\n"
    text += "A-6;4012345000062;8;0;23.11.2026\r\n"
    results = read(text.encode("cp1252"))
    assert [r.sku for r in results if isinstance(r, ActivityRow)] == ["A-1", "A-6"]
    problems = [r for r in results if isinstance(r, RowProblem)]
    assert [p.position for p in problems] == ["line 3", "line 4", "line 5", "line 6", "line 7"]
    assert problems[0].reason == "line 3, column 'Bestand': 'n/a' is not a number"
    assert problems[0].raw == b"A-2;4012345000024;n/a;3;23.11.2026\r\n"
    assert "column 'Datum'" in problems[1].reason and "31.02.2026" in problems[1].reason
    assert problems[2].reason == "line 5: 3 fields, the header has 5"
    assert "no product id" in problems[3].reason
    assert "6 fields" in problems[4].reason


def test_quoted_newlines_keep_line_numbers_right() -> None:
    text = 'SKU,Description,On Hand,Date\n"A","two\nlines",1,2026-11-23\nB,x,oops,2026-11-23\n'
    results = read(text.encode())
    assert isinstance(results[0], ActivityRow) and results[0].description == "two\nlines"
    assert isinstance(results[1], RowProblem) and results[1].position == "line 4"


def test_blank_and_total_rows_are_skipped() -> None:
    text = "SKU;Sold;Date\r\nA;1;23.11.2026\r\n;;\r\n\r\nSumme;;1\r\nTotal;1;\r\n"
    assert [r.sku for r in good(read(text.encode()))] == ["A"]


def test_own_headers_map_to_fields_and_activity_codes() -> None:
    text = "Art.;Filiale;Abverkauf Stk;Retourenmenge;Stichtag\r\nA;HH-1;5;1;23.11.2026\r\n"
    (row,) = good(read(text.encode(), None, {"Art.": "sku", "Retourenmenge": "QU"}))
    assert (row.sku, row.location) == ("A", "HH-1")
    assert row.activity == {"QS": Decimal(5), "QU": Decimal(1)}
    assert row.key == "dist|HH-1|A|20261123-20261123|QS+QU"


def test_without_a_date_column_the_date_in_the_file_name_is_the_period() -> None:
    (row,) = good(read(b"GTIN,On Hand\n4012345000017,4\n"))
    assert row.period_start == row.period_end == date(2026, 11, 23)
    assert row.product == "gtin:4012345000017"


@pytest.mark.parametrize(
    ("data", "message"),
    [(b"", "empty"), (b"Name;Bestand\r\nx;1\r\n", "no product column"),
     (b"SKU;Name\r\nA;x\r\n", "no quantity column"), (b"just one column\n", "no delimiter")],
)  # fmt: skip
def test_a_file_without_its_columns_is_refused_as_a_whole(data: bytes, message: str) -> None:
    with pytest.raises(CsvFormatError, match=message):
        read(data)


def test_fixed_options_override_detection() -> None:
    data = "SKU|On Hand|Date\nA|1,5|2026-11-23\n".encode("cp1252")
    options = CsvOptions(encoding="cp1252", delimiter="|", decimal_sep=",")
    (row,) = good(read(data, options))
    assert row.activity == {"QA": Decimal("1.5")}
    with pytest.raises(CsvFormatError, match="not readable as utf-16"):
        read(b"\xff", CsvOptions(encoding="utf-16"))


def test_encoding_detection() -> None:
    assert decode("Größe".encode("cp1252")) == ("Größe", "cp1252")
    assert decode(b"\xef\xbb\xbfabc") == ("abc", "utf-8-sig")
    assert decode(b"\x81\x8d") == ("\x81\x8d", "latin-1")  # undefined in cp1252: kept
    assert detect_delimiter("a;b;c\n1,5;2,5;3\n") == ";"
    assert detect_delimiter("a,b\n1,2\n") == ","


@pytest.mark.parametrize(
    ("value", "cell"),
    [("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"), ("+1+2", "'+1+2"),
     ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("-12.5", "-12.5"),
     ("plain", "plain"), (None, ""), (7, "7"), ("\uff1d1+1", "'\uff1d1+1")],
)  # fmt: skip
def test_cells_we_write_cannot_start_a_formula(value: object, cell: str) -> None:
    assert safe_cell(value) == cell


def test_written_csv_reads_back_as_text() -> None:
    text = render_csv([["sku", "note"], ["A;1", "=1+1"]], delimiter=";")
    assert text == 'sku;note\r\n"A;1";\'=1+1\r\n'


def test_excel_sep_line_title_lines_and_text_formulas() -> None:
    text = "sep=,\r\nStock report week 47\r\nPacific Brew Supply Inc.\r\n\r\n"
    text += "SKU,UPC,On Hand,Units Sold,Week Ending\r\n"
    text += 'A-1,="012345678905",4,"1,200",11/28/2026\r\n'
    text += "A-2,012345678912,x,1,11/28/2026\r\n"
    results = read(text.encode())
    row, bad = results
    assert isinstance(row, ActivityRow) and isinstance(bad, RowProblem)
    assert row.gtin == "012345678905"  # Excel's ="..." keeps the leading zero
    assert row.activity == {"QA": Decimal(4), "QS": Decimal(1200)}
    assert bad.position == "line 7"  # the sep= and title lines still count
    assert detect_delimiter("Bestandsbericht KW 47\nSKU;Bestand\nA;1\nB;2\n") == ";"
