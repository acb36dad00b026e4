"""How a distributor's CSV export is written: encoding, delimiter, numbers and dates.

Spreadsheet tools and DRP exports differ by country and by tool; a careful reader detects:

- the encoding: a byte order mark (UTF-8, UTF-16 LE/BE) wins; else strict UTF-8; else
  Windows-1252 (the German/Austrian Excel default); bytes Windows-1252 leaves undefined fall
  back to Latin-1 so nothing is lost;
- the delimiter: of ``;``, ``,``, tab and ``|``, the one that splits the header and the first
  rows into the same number (> 1) of fields, outside quotes; ties go to the most fields;
- numbers: ``1.234,5`` and ``1,234.5``, ``12,5`` and ``12.5``, ``1 234`` and ``1'234``; a lone
  separator followed by exactly three digits (``1.234``, ``1,234``) is a thousands separator
  unless the file's decimal separator says otherwise;
- dates: ``31.12.2026``, ``2026-12-31``, ``20261231``, ``12/31/2026`` and ``31/12/2026`` (day
  or month first as the file's own unambiguous dates show, else as configured).

Every choice can be fixed per distributor (``CsvOptions``) when detection is not wanted.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

DELIMITERS = (";", ",", "\t", "|")
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_NUMBER = re.compile(r"^[+-]?(\d[\d.,' \u00a0\u202f]*)?\d([.,]\d*)?$|^[+-]?[.,]\d+$")
_GROUPED = re.compile(r"^\d{1,3}([.,' \u00a0\u202f]\d{3})+$")


@dataclass(frozen=True)
class CsvOptions:
    """Fixed choices for one distributor's files; ``None`` means detect."""

    encoding: str | None = None
    delimiter: str | None = None
    decimal_sep: str | None = None  # "," or "."
    day_first: bool | None = None  # for dd/mm/yyyy vs mm/dd/yyyy


@dataclass(frozen=True)
class Dialect:
    """What was detected (or fixed) for one file."""

    encoding: str
    delimiter: str
    decimal_sep: str


class CsvFormatError(ValueError):
    """The file as a whole cannot be read as CSV (the message says why)."""


def decode(data: bytes, encoding: str | None = None) -> tuple[str, str]:
    """The text of ``data`` and the encoding used (a BOM is removed)."""
    if encoding:
        try:
            return data.decode(encoding).removeprefix("\ufeff"), encoding
        except (UnicodeDecodeError, LookupError) as exc:
            raise CsvFormatError(f"not readable as {encoding}: {exc}") from exc
    for bom, name in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(name).removeprefix("\ufeff"), name
            except UnicodeDecodeError as exc:
                raise CsvFormatError(f"starts with a {name} byte order mark but: {exc}") from exc
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:  # 0x81, 0x8D, 0x8F, 0x90, 0x9D are undefined in cp1252
        return data.decode("latin-1"), "latin-1"


def _field_counts(lines: list[str], delimiter: str) -> list[int]:
    reader = csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter)
    return [len(row) for row in reader if any(cell.strip() for cell in row)]


def detect_delimiter(text: str, sample_lines: int = 20) -> str:
    """The delimiter that splits the first lines into equal (> 1) numbers of fields."""
    lines = [line for line in text.splitlines()[:sample_lines] if line.strip()]
    if not lines:
        raise CsvFormatError("the file is empty")
    best: tuple[int, int, int] | None = None  # (rows agreeing, fields, -preference)
    choice = ""
    for rank, delimiter in enumerate(DELIMITERS):
        counts = [count for count in _field_counts(lines, delimiter) if count > 1]
        if not counts:
            continue
        usual = max(set(counts), key=lambda c: (counts.count(c), c))  # title lines aside
        score = (counts.count(usual), usual, -rank)
        if best is None or score > best:
            best, choice = score, delimiter
    if not choice:
        raise CsvFormatError("no delimiter found: every line is one column with ; , tab and |")
    return choice


def excel_sep_line(text: str) -> str | None:
    """The delimiter an Excel ``sep=;`` first line declares, or None."""
    first = text[:8].splitlines()[0] if text else ""
    if first.lower().startswith("sep=") and len(first) == 5:
        return first[4]
    return None


def guess_decimal_sep(values: list[str], delimiter: str) -> str:
    """The file's decimal separator, from its numbers; else ``,`` for ``;`` files."""
    comma = point = 0
    for raw in values:
        value = raw.strip()
        if not _NUMBER.match(value):
            continue
        last_comma, last_point = value.rfind(","), value.rfind(".")
        if last_comma >= 0 and last_point >= 0:
            comma, point = (comma + 1, point) if last_comma > last_point else (comma, point + 1)
        elif last_comma >= 0 and not _GROUPED.match(value.lstrip("+-")):
            comma += 1
        elif last_point >= 0 and not _GROUPED.match(value.lstrip("+-")):
            point += 1
    if comma != point:
        return "," if comma > point else "."
    return "," if delimiter == ";" else "."


def parse_number(text: str, decimal_sep: str) -> Decimal:
    """An exact decimal from a spreadsheet cell; ``ValueError`` naming the text otherwise."""
    value = text.strip().replace("\u2212", "-")
    negative = value.endswith("-") and len(value) > 1  # SAP style 12-
    if negative:
        value = "-" + value[:-1].strip()
    if not value or not _NUMBER.match(value):
        raise ValueError(f"{text!r} is not a number")
    sign = "-" if value.startswith("-") else ""
    digits = value.lstrip("+-")
    for space in (" ", "\u00a0", "\u202f", "'"):
        digits = digits.replace(space, "")
    decimal, group = _separators(digits, decimal_sep)
    if group:
        digits = digits.replace(group, "")
    if decimal and digits.count(decimal) > 1:
        raise ValueError(f"{text!r} is not a number")
    try:
        return Decimal(sign + (digits.replace(decimal, ".") if decimal else digits))
    except InvalidOperation as exc:
        raise ValueError(f"{text!r} is not a number") from exc


def _separators(digits: str, decimal_sep: str) -> tuple[str, str]:
    """(decimal separator, thousands separator) of one number; "" for none."""
    if "," in digits and "." in digits:  # both: the last one is the decimal separator
        return (",", ".") if digits.rfind(",") > digits.rfind(".") else (".", ",")
    sep = "," if "," in digits else "." if "." in digits else ""
    if not sep:
        return "", ""
    if digits.count(sep) > 1:  # 1.234.567
        return "", sep
    if sep == decimal_sep:  # the file's own decimal separator: 12,5 and 1,234 in a de file
        return sep, ""
    if _GROUPED.match(digits):  # a foreign lone separator before 3 digits groups: 1.234
        return "", sep
    return sep, ""  # 12.5 in a comma file


_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ].*)?$")
_DOTTED = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{2}|\d{4})$")
_SLASHED = re.compile(r"^(\d{1,2})[/-](\d{1,2})[/-](\d{2}|\d{4})$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


def _year(text: str) -> int:
    year = int(text)
    return year + 2000 if year < 100 else year


def slash_order(values: list[str]) -> bool | None:
    """True (day first) or False (month first) when a slashed date of the file proves it."""
    for value in values:
        found = _SLASHED.match(value.strip())
        if found:
            first, second = int(found.group(1)), int(found.group(2))
            if first > 12 >= second:
                return True
            if second > 12 >= first:
                return False
    return None


def parse_date(text: str, *, day_first: bool) -> date:
    """A calendar date in one of the forms the module docstring lists."""
    value = text.strip()
    try:
        if found := _ISO.match(value):
            return date(int(found.group(1)), int(found.group(2)), int(found.group(3)))
        if found := _DOTTED.match(value):
            return date(_year(found.group(3)), int(found.group(2)), int(found.group(1)))
        if found := _COMPACT.match(value):
            return date(int(found.group(1)), int(found.group(2)), int(found.group(3)))
        if found := _SLASHED.match(value):
            first, second = int(found.group(1)), int(found.group(2))
            day, month = (first, second) if day_first else (second, first)
            return date(_year(found.group(3)), month, day)
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a valid date ({exc})") from exc
    raise ValueError(f"{text!r} is not a date (like 31.12.2026, 2026-12-31 or 12/31/2026)")


# -- writing: cells a spreadsheet will not run ----------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def safe_cell(value: object) -> str:
    """``value`` as CSV text a spreadsheet shows as text: a cell that would start a formula
    (``=``, ``+``, ``-``, ``@``, tab, CR, LF, or their full-width forms) gets a leading ``'``,
    as OWASP recommends. Plain numbers (``-12.5``) stay numbers."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_START):
        try:
            Decimal(text)
        except InvalidOperation:
            return "'" + text
        return text if text.strip() == text else "'" + text
    return text


def render_csv(rows: list[list[object]], *, delimiter: str = ";") -> str:
    """Rows as CSV text (CRLF, every cell through ``safe_cell``, quoted where needed)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return buffer.getvalue()
