"""A distributor's stock/sell-through CSV report -> activity rows; a bad row is quarantined.

Columns are found by their header, not their position, through aliases in German and English
(``Artikelnummer``/``SKU``, ``EAN``/``GTIN``/``UPC``, ``Bestand``/``On Hand``,
``Verkauft``/``Units Sold``, ``Bestellt``/``On Order``, ``Zeitraum von``/``Period Start``...);
case, spaces, punctuation and umlauts do not count. A distributor's own headers are added
with ``columns`` (header -> field name or X12 activity code). Quantity columns become X12
activity codes (see ``records.ActivityRow``).

A file without a product column or without any quantity column is refused as a whole; a row
whose cell is not a number, whose date is not a date, that has no product id or that has
more or fewer fields than the header is quarantined with its line number, column and raw
bytes, and the rest of the file goes on. Blank rows and total rows (``Summe``, ``Total``)
are skipped.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TypeVar

from connectors.drp.csv_dialect import (
    CsvFormatError,
    CsvOptions,
    Dialect,
    decode,
    detect_delimiter,
    excel_sep_line,
    guess_decimal_sep,
    parse_date,
    parse_number,
    slash_order,
)
from connectors.drp.records import ActivityRow

FIELDS = ("sku", "gtin", "buyer_item", "description", "location", "uom", "start", "end", "date")

_ALIASES: dict[str, tuple[str, ...]] = {
    "sku": ("sku", "artikelnummer", "artikelnr", "artnr", "itemnumber", "itemno", "item",
            "partnumber", "partno", "productcode", "productnumber", "productid", "vendoritem",
            "vendoritemnumber", "vendorsku", "vendorpartnumber", "supplieritem", "mfrpartnumber",
            "herstellerartikelnummer", "lieferantenartikelnummer", "materialnummer", "modelnumber",
            "style"),
    "gtin": ("gtin", "ean", "eancode", "ean13", "gtin13", "gtin14", "upc", "upccode",
             "barcode"),
    "buyer_item": ("distributoritem", "distributorsku", "buyeritem", "buyerpartnumber",
                   "eigeneartikelnummer", "haendlerartikelnummer", "customeritem"),
    "description": ("description", "bezeichnung", "artikelbezeichnung", "beschreibung",
                    "name", "productname", "itemdescription", "artikel", "produkt", "product"),
    "location": ("location", "locationid", "lager", "lagerort", "warehouse", "store", "filiale",
                 "standort", "branch", "dc", "site", "niederlassung"),
    "uom": ("uom", "unit", "einheit", "me", "mengeneinheit", "unitofmeasure"),
    "start": ("periodstart", "periodfrom", "from", "von", "zeitraumvon", "startdate",
              "weekstart", "beginn", "start", "datumvon", "abdatum"),
    "end": ("periodend", "periodto", "to", "bis", "zeitraumbis", "enddate", "weekending",
            "weekend", "ende", "end", "datumbis", "bisdatum"),
    "date": ("date", "datum", "asof", "asofdate", "stichtag", "reportdate", "berichtsdatum",
             "stockdate", "bestandsdatum"),
    "QA": ("onhand", "stock", "bestand", "lagerbestand", "inventory", "qtyonhand",
           "quantityonhand", "onhandqty", "stockonhand", "soh", "available", "verfuegbar",
           "verfugbar", "qtyavailable", "availablequantity", "bestandstk"),
    "QS": ("sold", "unitssold", "verkauft", "absatz", "sales", "salesqty", "salesunits",
           "qtysold", "quantitysold", "abverkauf", "verkaufsmenge", "sellthrough", "unitsales",
           "verkaufstk"),
    "QP": ("onorder", "bestellt", "offenebestellungen", "qtyonorder", "quantityonorder",
           "openorders", "openpo", "offenebestellmenge"),
    "QR": ("received", "wareneingang", "eingang", "qtyreceived", "receipts", "receivedqty"),
    "QU": ("returned", "returns", "retouren", "retoure", "rueckgaben", "customerreturns"),
    "QI": ("intransit", "unterwegs", "transit"),
    "QC": ("committed", "reserviert", "allocated", "reserved", "reservierung"),
    "QO": ("outofstock", "oos", "fehlmenge"),
    "LS": ("lostsales", "entgangeneverkaeufe"),
    "QB": ("beginningbalance", "anfangsbestand", "openingstock"),
    "QE": ("endingbalance", "endbestand", "closingstock"),
}  # fmt: skip
T = TypeVar("T")
_TOTAL = re.compile(r"^\s*(summe|gesamt|total|totals|grand total|sum)\b", re.IGNORECASE)
_RAW_CODECS = {"utf-8-sig": "utf-8"}  # a row's bytes without the file's byte order mark
_FILE_DATE = re.compile(r"(20\d{2})(\d{2})(\d{2})")


def normalise(header: str) -> str:
    """``'Zeitraum von'`` -> ``zeitraumvon``, ``'Verfügbar'`` -> ``verfuegbar``."""
    text = header.strip().casefold().replace("ß", "ss")
    for umlaut, plain in (("ä", "ae"), ("ö", "oe"), ("ü", "ue")):
        text = text.replace(umlaut, plain)
    text = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in text if ch.isalnum() and ch.isascii())


_UNIT_SUFFIXES = ("stueck", "stck", "stk", "pcs", "qty", "units", "menge", "ea", "st")


def _without_unit(name: str) -> str:
    """``abverkaufstk`` -> ``abverkauf``: a unit word at the end does not change the column."""
    for suffix in _UNIT_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix) + 2:
            return name[: -len(suffix)]
    return name


_LOOKUP = {alias: name for name, aliases in _ALIASES.items() for alias in aliases}


@dataclass(frozen=True)
class RowProblem:
    """A row that could not be read: where, why, and its bytes as they came."""

    position: str
    reason: str
    raw: bytes


@dataclass(frozen=True)
class Columns:
    """Which column (index) holds which field, and which columns are activity codes."""

    fields: dict[str, int]
    activities: dict[str, int]
    headers: list[str]


def _header(
    rows: list[tuple[int, int, list[str]]], columns: Mapping[str, str] | None
) -> tuple[Columns, list[tuple[int, int, list[str]]]]:
    """The header (the first of the first ten rows naming a product and a quantity column:
    title lines above it are skipped) and the rows after it."""
    if not rows:
        raise CsvFormatError("the file has no header row")
    first_error: CsvFormatError | None = None
    for index, (_, _, cells) in enumerate(rows[:10]):
        try:
            return map_columns([cell.strip() for cell in cells], columns), rows[index + 1 :]
        except CsvFormatError as exc:
            first_error = first_error or exc
    assert first_error is not None
    raise first_error


def map_columns(headers: list[str], extra: Mapping[str, str] | None = None) -> Columns:
    own = {normalise(h): target for h, target in (extra or {}).items()}
    fields: dict[str, int] = {}
    activities: dict[str, int] = {}
    for index, header in enumerate(headers):
        name = normalise(header)
        target = own.get(name) or _LOOKUP.get(name) or _LOOKUP.get(_without_unit(name))
        if target is None:
            continue
        chosen = activities if target.isupper() and len(target) == 2 else fields
        chosen.setdefault(target, index)
    if "sku" not in fields and "gtin" not in fields and "buyer_item" not in fields:
        raise CsvFormatError(f"no product column (SKU, Artikelnummer, EAN, GTIN...) in {headers}")
    if not activities:
        raise CsvFormatError(
            f"no quantity column (On Hand/Bestand, Units Sold/Verkauft...) in {headers}"
        )
    return Columns(fields, activities, headers)


@dataclass(frozen=True)
class ReportContext:
    distributor: str
    file: str
    location: str = ""
    uom: str = "EA"


def read_report(
    data: bytes,
    context: ReportContext,
    options: CsvOptions | None = None,
    columns: Mapping[str, str] | None = None,
) -> tuple[Dialect, Iterator[ActivityRow | RowProblem]]:
    """The dialect found and the file's rows (or problems), in order. Raises
    ``CsvFormatError`` when the file as a whole is unreadable (no header, no product column)."""
    options = options or CsvOptions()
    text, encoding = decode(data, options.encoding)
    declared = excel_sep_line(text)
    if declared is not None:  # Excel's "sep=;" line: blank it, keep the line numbers
        text = text[5:]
    delimiter = options.delimiter or declared or detect_delimiter(text)
    lines = text.splitlines(keepends=True)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[tuple[int, int, list[str]]] = []  # (first line, last line, cells)
    last = 0
    for cells in reader:
        first, last = last + 1, reader.line_num
        if any(cell.strip() for cell in cells):
            rows.append((first, last, cells))
    found, rows = _header(rows, columns)
    numbers = [c[i] for _, _, c in rows[:500] for i in found.activities.values() if i < len(c)]
    decimal_sep = options.decimal_sep or guess_decimal_sep(numbers, delimiter)
    dates = [c[i] for _, _, c in rows[:500] for n, i in found.fields.items() if n in
             ("start", "end", "date") and i < len(c)]  # fmt: skip
    order = slash_order(dates)
    day_first = order if order is not None else (options.day_first or False)
    dialect = Dialect(encoding, delimiter, decimal_sep)
    parser = _RowParser(context, found, dialect, day_first)
    raw_codec = _RAW_CODECS.get(encoding, encoding)
    if encoding == "utf-16":
        raw_codec = "utf-16-le" if data.startswith(b"\xff\xfe") else "utf-16-be"

    def results() -> Iterator[ActivityRow | RowProblem]:
        for first, last_line, cells in rows:

            def raw(first: int = first, last_line: int = last_line) -> bytes:
                return "".join(lines[first - 1 : last_line]).encode(raw_codec, errors="replace")

            result = parser.row(first, cells, raw)
            if result is not None:
                yield result

    return dialect, results()


class _RowParser:
    def __init__(
        self,
        context: ReportContext,
        columns: Columns,
        dialect: Dialect,
        day_first: bool,
    ) -> None:
        self.context = context
        self.columns = columns
        self.dialect = dialect
        self.day_first = day_first
        self.file_date = _date_in_name(context.file)
        used = [*columns.fields.values(), *columns.activities.values()]
        self.needed = max(used) + 1
        self._numbers = _Memo[Decimal]()  # quantities and dates repeat from row to row
        self._dates = _Memo[date]()

    def row(
        self, line: int, cells: list[str], raw: Callable[[], bytes]
    ) -> ActivityRow | RowProblem | None:
        """One row; ``raw`` gives its bytes (only asked for when the row is bad)."""
        where = f"line {line}"
        headers = self.columns.headers
        label = cells[0].strip() or (cells[1].strip() if len(cells) > 1 else "")
        if label[:1].isalpha() and _TOTAL.match(label):
            return None
        extra = [c for c in cells[len(headers) :] if c.strip()]
        if extra or len(cells) < self.needed:
            return RowProblem(
                where, f"{where}: {len(cells)} fields, the header has {len(headers)}", raw()
            )
        problems: list[str] = []
        activity: dict[str, Decimal] = {}
        for code, index in self.columns.activities.items():
            value = _text(cells[index])
            if value in ("", "-", "--"):
                continue
            known = self._numbers.get(value)
            if known is not None:
                activity[code] = known
                continue
            try:
                activity[code] = self._numbers[value] = parse_number(
                    value, self.dialect.decimal_sep
                )
            except ValueError as exc:
                problems.append(f"{where}, column {headers[index]!r}: {exc}")
        start, end = self._period(cells, where, problems)
        sku, gtin = self._cell(cells, "sku"), self._cell(cells, "gtin")
        buyer_item = self._cell(cells, "buyer_item")
        if not (sku or gtin or buyer_item):
            problems.append(f"{where}: no product id (SKU or GTIN column is empty)")
        if not activity and not problems:
            problems.append(f"{where}: no quantity in any quantity column")
        if problems or start is None or end is None:
            return RowProblem(where, "; ".join(problems), raw())
        return ActivityRow(
            distributor=self.context.distributor,
            format="csv",
            file=self.context.file,
            position=where,
            sku=sku,
            gtin=gtin,
            buyer_item=buyer_item,
            period_start=start,
            period_end=end,
            activity=activity,
            location=self._cell(cells, "location") or self.context.location,
            description=self._cell(cells, "description"),
            uom=self._cell(cells, "uom").upper() or self.context.uom,
        )

    def _cell(self, cells: list[str], name: str) -> str:
        index = self.columns.fields.get(name)
        return _text(cells[index]) if index is not None and index < len(cells) else ""

    def _date(self, cells: list[str], name: str, where: str, problems: list[str]) -> date | None:
        value = self._cell(cells, name)
        if not value:
            return None
        known = self._dates.get(value)
        if known is not None:
            return known
        try:
            found = self._dates[value] = parse_date(value, day_first=self.day_first)
            return found
        except ValueError as exc:
            header = self.columns.headers[self.columns.fields[name]]
            problems.append(f"{where}, column {header!r}: {exc}")
            return None

    def _period(
        self, cells: list[str], where: str, problems: list[str]
    ) -> tuple[date | None, date | None]:
        before = len(problems)
        start = self._date(cells, "start", where, problems)
        end = self._date(cells, "end", where, problems)
        single = self._date(cells, "date", where, problems)
        if len(problems) > before:
            return None, None
        start, end = start or single or end, end or single or start
        if start is None or end is None:
            if self.file_date is None:
                problems.append(f"{where}: no reporting period (no date column, no date in name)")
                return None, None
            start = end = self.file_date
        if end < start:
            problems.append(f"{where}: period ends {end} before it starts {start}")
            return None, None
        return start, end


def _text(cell: str) -> str:
    """A cell's text; Excel's ``="0123"`` (text kept with its leading zeros) unwrapped."""
    cell = cell.strip()
    if cell[:2] == '="' and cell[-1:] == '"' and len(cell) > 2:
        return cell[2:-1].strip()
    return cell


class _Memo(dict[str, T]):
    """A dict that starts afresh when it holds too many texts."""

    LIMIT = 4096

    def __setitem__(self, key: str, value: T) -> None:
        if len(self) >= self.LIMIT:
            self.clear()
        super().__setitem__(key, value)


def _date_in_name(name: str) -> date | None:
    found = _FILE_DATE.search(name)
    if found is None:
        return None
    try:
        return date(int(found.group(1)), int(found.group(2)), int(found.group(3)))
    except ValueError:
        return None
