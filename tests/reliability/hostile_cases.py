"""The hostile and malformed inputs of suite 5, generated from good documents by mutation.

Each case is (id, bytes, what the error must name). The suites feed them to the real
parsers (X12 reader, DRP CSV reader, BMEcat reader, the webhook receiver and the order flow).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

from sandbox.drp.distributors import stock_csv
from sandbox.edi.trade import ActivityLine
from sandbox.pdm.bmecat import CatalogInfo, write_catalog
from sandbox.pdm.products import master
from tests.formats.test_x12_reader import interchange

Case = tuple[str, bytes, str]

# --- X12 ---------------------------------------------------------------------------------

GOOD_X12 = interchange(sets=3)


def _x12_swap(old: str, new: str) -> bytes:
    text = GOOD_X12.decode()
    assert old in text, old
    return text.replace(old, new, 1).encode()


X12_SET_DAMAGE: list[Case] = [
    ("se01-count-high", _x12_swap("SE*5*0002", "SE*9*0002"), "SE01"),
    ("se01-count-low", _x12_swap("SE*5*0002", "SE*2*0002"), "SE01"),
    ("se01-not-a-number", _x12_swap("SE*5*0002", "SE*five*0002"), "SE01"),
    ("se02-mismatch", _x12_swap("SE*5*0002", "SE*5*0009"), "SE02"),
    ("se-missing", _x12_swap("SE*5*0002~", ""), "0002"),
    ("st-twice", _x12_swap("ST*846*0002~", "ST*846*0002~ST*846*0002~"), "0002"),
]
X12_ENVELOPE_DAMAGE: list[Case] = [
    ("ge01-count", _x12_swap("GE*3*7", "GE*2*7"), "GE01"),
    ("ge02-mismatch", _x12_swap("GE*3*7", "GE*3*8"), "GE02"),
    ("iea01-count", _x12_swap("IEA*1*", "IEA*4*"), "IEA01"),
    ("iea02-mismatch", _x12_swap("IEA*1*000000041", "IEA*1*000000042"), "IEA02"),
    ("isa13-letters", _x12_swap("*000000041*", "*00000004X*"), "ISA13"),
    ("ge-missing", _x12_swap("GE*3*7~", ""), "group"),
    ("iea-missing", GOOD_X12[: GOOD_X12.rindex(b"IEA")], "in.x12"),
    ("wrong-element-separator", _x12_swap("ISA*00*", "ISA|00*"), "in.x12"),
    ("segment-terminator-changed", GOOD_X12.replace(b"~", b"\n", 3), "in.x12"),
    ("isa-short", GOOD_X12[:80], "in.x12"),
    ("isa-unpadded", _x12_swap("*ZZ*TANDEM         *", "*ZZ*TANDEM*"), "ISA"),
    ("invalid-utf8", GOOD_X12.replace(b"SKU-2", b"SKU-\xff"), "utf-8"),
    ("garbage-after-iea", GOOD_X12 + b"%PDF-1.7 trailing", "in.x12"),
]
X12_NOT_EDI: list[Case] = [
    ("empty-ish", b"   \r\n\t ", "in.x12"),
    ("pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "in.x12"),
    ("html", b"<!DOCTYPE html><html><body>502 Bad Gateway</body></html>", "in.x12"),
    ("json", b'{"orders": [1, 2, 3]}', "in.x12"),
    ("csv", b"SKU,Qty\nA,1\n", "in.x12"),
    ("edifact", b"UNA:+.? 'UNB+UNOC:3+SENDER+RECEIVER+261123:1642+1'", "in.x12"),
    ("zip", b"PK\x03\x04\x14\x00\x00\x00\x08\x00", "in.x12"),
    ("nul-bytes", b"\x00" * 200, "in.x12"),
    ("utf16-isa", GOOD_X12.decode().encode("utf-16"), "in.x12"),
    ("xml", b"<?xml version='1.0'?><ISA/>", "in.x12"),
    ("isa-lowercase", GOOD_X12.replace(b"ISA*", b"isa*", 1), "in.x12"),
]
X12_TRUNCATED: list[Case] = [
    (f"truncated-at-{n}", GOOD_X12[:n], "in.x12") for n in (3, 50, 105, 107, 120, 200, 260, 330)
]

# --- CSV ---------------------------------------------------------------------------------

ITEMS = [
    ActivityLine("TDM-GRD-200", "4012345000024", 1234, 5, 0),
    ActivityLine("TDM-ESP-100", "4012345000017", 3, 12, 24),
    ActivityLine("TDM-CUP-010", "4012345000031", 40, 7, 0),
]
NAMES = {"TDM-GRD-200": "Grinder", "TDM-ESP-100": "Espresso", "TDM-CUP-010": "Cups"}
GOOD_CSV = stock_csv(
    ITEMS, NAMES, date(2026, 11, 17), date(2026, 11, 23), delimiter=",", encoding="utf-8",
    language="en",
)  # fmt: skip
_LINES = GOOD_CSV.decode().splitlines(keepends=True)


def _csv_row2(new: str) -> bytes:
    """The good file with its second data row replaced (line 3 of the file)."""
    return "".join([*_LINES[:2], new + "\r\n", *_LINES[3:]]).encode()


CSV_BAD_ROWS: list[Case] = [
    ("ragged-short", _csv_row2("TDM-ESP-100,4012345000017,Espresso"), "line 3"),
    (
        "ragged-long",
        _csv_row2("TDM-ESP-100,4012345000017,E,3,12,24,2026-11-17,2026-11-23,x,y"),
        "line 3",
    ),
    (
        "qty-text",
        _csv_row2("TDM-ESP-100,4012345000017,E,three,12,24,2026-11-17,2026-11-23"),
        "line 3",
    ),
    (
        "qty-formula",
        _csv_row2('TDM-ESP-100,4012345000017,E,"=1+2",12,24,2026-11-17,2026-11-23'),
        "line 3",
    ),
    ("qty-nan", _csv_row2("TDM-ESP-100,4012345000017,E,NaN,12,24,2026-11-17,2026-11-23"), "line 3"),
    (
        "qty-inf",
        _csv_row2("TDM-ESP-100,4012345000017,E,Infinity,12,24,2026-11-17,2026-11-23"),
        "line 3",
    ),
    ("date-bad", _csv_row2("TDM-ESP-100,4012345000017,E,3,12,24,2026-13-45,2026-11-23"), "line 3"),
    ("date-text", _csv_row2("TDM-ESP-100,4012345000017,E,3,12,24,yesterday,2026-11-23"), "line 3"),
    ("sku-empty", _csv_row2(",,E,3,12,24,2026-11-17,2026-11-23"), "line 3"),
    (
        "unclosed-quote",
        _csv_row2('TDM-ESP-100,"4012345000017,E,3,12,24,2026-11-17,2026-11-23'),
        "line",
    ),
]
CSV_BAD_FILES: list[Case] = [
    ("no-header", b"\r\n\r\n", "stock_dist"),
    ("header-only-garbage", b"foo,bar,baz\r\n1,2,3\r\n", "stock_dist"),
    ("binary", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "stock_dist"),
    ("utf16-no-bom", GOOD_CSV.decode().encode("utf-16-le"), "stock_dist"),
    ("json", b'[{"sku": "A"}]', "stock_dist"),
]
CSV_READABLE_VARIANTS: list[Case] = [
    ("bom-utf8", b"\xef\xbb\xbf" + GOOD_CSV, ""),
    ("bom-utf16", GOOD_CSV.decode().encode("utf-16"), ""),
    ("cp1252", GOOD_CSV.decode().replace("Cups", "Tassen für Café").encode("cp1252"), ""),
    ("crlf-mixed", GOOD_CSV.replace(b"\r\n", b"\n", 1), ""),
    ("sep-line", b"sep=,\r\n" + GOOD_CSV, ""),
]

FORMULA_PAYLOADS = [
    "=1+2",
    '=HYPERLINK("http://evil.example","click")',
    "+1+1",
    "-2+3",
    "@SUM(A1:A2)",
    "\t=1",
    "\r=1",
    "\n=1",
    "=cmd|' /C calc'!A0",
    "\uff1d1+2",  # full-width equals
    "\uff0b1",
    "\uff0d1+1",
    "\uff20SUM(1)",
    "-",
    "+",
    "=",
    "@",
    "-1e3+1",
    "=-1",
    "+=1",
    "-12.5 ",
    " =1",
    '=""',
    "@@",
    "=1;=2",
]

# --- XML (BMEcat) -------------------------------------------------------------------------


def good_catalog(count: int = 3) -> bytes:
    out = io.BytesIO()
    info = CatalogInfo("CAT-1", "001.000", "Test", datetime(2026, 11, 23, tzinfo=UTC))
    write_catalog(out, info, master()[:count])
    return out.getvalue()


def _with_doctype(doctype: str) -> bytes:
    text = good_catalog().decode()
    head, _, rest = text.partition("?>")
    return (head + "?>" + doctype + rest).encode()


XML_UNSAFE: list[Case] = [
    ("xxe-file", _with_doctype('<!DOCTYPE b [<!ENTITY x SYSTEM "file:///etc/passwd">]>'), ".xml"),
    ("xxe-http", _with_doctype('<!DOCTYPE b [<!ENTITY x SYSTEM "http://127.0.0.1:9/x">]>'), ".xml"),
    (
        "parameter-entity",
        _with_doctype('<!DOCTYPE b [<!ENTITY % p SYSTEM "file:///etc/hostname"> %p;]>'),
        ".xml",
    ),
    (
        "billion-laughs",
        _with_doctype(
            '<!DOCTYPE b [<!ENTITY a "lol">'
            + "".join(
                f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9)
            )
            + "]>"
        ),
        ".xml",
    ),
    ("quadratic-blowup", _with_doctype(f'<!DOCTYPE b [<!ENTITY a "{"x" * 100_000}">]>'), ".xml"),
    ("internal-dtd-only", _with_doctype("<!DOCTYPE BMECAT [<!ELEMENT BMECAT ANY>]>"), ".xml"),
]
XML_BROKEN: list[Case] = [
    ("truncated-half", good_catalog()[: len(good_catalog()) // 2], ".xml"),
    ("truncated-tag", good_catalog()[: good_catalog().index(b"<PRODUCT") + 5], ".xml"),
    ("not-xml", b"this is not xml at all", ".xml"),
    ("empty", b"", ".xml"),
    ("invalid-utf8", good_catalog().replace(b"</BMECAT>", b"\xff\xfe</BMECAT>"), ".xml"),
    ("mismatched-tag", good_catalog().replace(b"</PRODUCT>", b"</PRODUKT>", 1), ".xml"),
    ("two-roots", good_catalog() + b"<BMECAT/>", ".xml"),
    ("nul-byte", good_catalog().replace(b"</BMECAT>", b"\x00</BMECAT>"), ".xml"),
]

# --- JSON (web shop orders) ---------------------------------------------------------------

WRONG_VALUES: list[tuple[str, Any]] = [
    ("string", "abc"),
    ("object", {"a": 1}),
    ("list", [1, 2]),
    ("bool", True),
    ("huge", 10**30),
    ("negative", -5),
    ("float-exp", 1e308),
    ("null", None),
]
ORDER_FIELDS = [
    ("line_items[0].quantity", ("line_items", 0, "quantity")),
    ("line_items[0].total", ("line_items", 0, "total")),
    ("line_items[0].sku", ("line_items", 0, "sku")),
    ("billing.email", ("billing", "email")),
    ("total", ("total",)),
    ("currency", ("currency",)),
    ("date_modified_gmt", ("date_modified_gmt",)),
]


def set_path(doc: dict[str, Any], path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    copy: dict[str, Any] = json.loads(json.dumps(doc))
    node: Any = copy
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return copy


def json_bodies(order: dict[str, Any]) -> Iterator[tuple[str, bytes]]:
    """Malformed order bodies (signed and delivered as they are)."""
    good = json.dumps(order)
    currency = f'"currency": "{order["currency"]}"'
    assert currency in good
    yield "truncated", good[: len(good) // 2].encode()
    yield "not-json", b"<order>1</order>"
    yield "invalid-utf8", good.encode().replace(currency.encode(), b'"currency": "\xff\xfe"')
    yield "raw-invalid-utf8", good.encode()[:40] + b"\xc3\x28" + good.encode()[40:]
    yield "deep-nesting-list", b"[" * 100_000 + b"]" * 100_000
    yield "deep-nesting-object", b'{"a":' * 50_000 + b"1" + b"}" * 50_000
    yield (
        "huge-integer",
        json.dumps(order | {"total": 0}).replace('"total": 0', '"total": ' + "9" * 5000).encode(),
    )
    yield "nan", good.replace('"total": "', '"total": NaN, "x": "', 1).encode()
    yield "top-level-list", json.dumps([order]).encode()
    yield "top-level-string", b'"order"'
    yield "top-level-null", b"null"
    yield "empty-object", b"{}"
    yield "no-line-items", json.dumps(order | {"line_items": []}).encode()
    yield "line-items-object", json.dumps(order | {"line_items": {"0": {}}}).encode()
    yield "duplicate-keys", good.replace('{"id": ', '{"id": "x", "id": ', 1).encode()
    yield "utf16-body", good.encode("utf-16")
    yield "bom-then-garbage", b"\xef\xbb\xbf" + b"{" * 3
    yield "lone-surrogate", good.replace(currency, '"currency": "\\udc00"').encode()
    yield "control-chars", good.replace(currency, '"currency": "E\\u0000R"').encode()
    for field_name, path in ORDER_FIELDS:
        for kind, value in WRONG_VALUES:
            yield f"{field_name}={kind}", json.dumps(set_path(order, path, value)).encode()


# --- names and addresses that must round-trip unchanged ------------------------------------

# SQL metacharacters, escapes and Unicode edge cases
EDGE_TEXT = [
    "O'Brien",
    'Say "cheese"',
    "Robert'); DROP TABLE customers;--",
    "1' OR '1'='1",
    "back\\slash",
    "percent % and _under_",
    "semi;colon",
    "Zoë Ångström-Łukasiewicz",
    "Straße",
    "\u0130stanbul \u0131i",
    "東京都千代田区",
    "مرحبا",  # right-to-left
    "\u202eevil\u202c",  # right-to-left override
    "zero\u200bwidth",
    "e\u0301 combining",
    "emoji \U0001f600\U0001f1e9\U0001f1ea",
    "\U00010348 astral",
    "<b>tag</b> &amp;",
    "${jndi:ldap://127.0.0.1/x}",
    "{{7*7}}",
]
