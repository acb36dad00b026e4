"""The reader's fast path (products cut into fragments, parsed with lxml, in worker processes)
gives exactly what the sequential hardened parser gives: same records, quarantines, raw
bytes, positions, lines and file errors; anything it cannot read goes to the sequential
parser without losing or repeating a product."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Generator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.base import Quarantined, RawRecord
from connectors.connection import parse_connection
from connectors.pdm import CatalogReader, PdmConnector, PdmSettings, fastpath
from connectors.pdm import connector as pdm_connector
from connectors.pdm.settings import default_workers
from sandbox.pdm.bmecat import CatalogInfo, write_catalog
from sandbox.pdm.products import generated
from tests.connectors.contract import drain
from tests.connectors.test_pdm_reader import NS, catalog, product

Item = RawRecord | Quarantined


@pytest.fixture(autouse=True)
def small_fragments(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fragments of a few hundred bytes, so a small file is cut many times."""
    monkeypatch.setattr(fastpath, "FRAGMENT", 700)


def read(data: bytes, workers: int, *, skip: int = 0) -> tuple[list[Item], str | None]:
    reader = CatalogReader(io.BytesIO(data), "cat.xml", skip=skip, keep_raw=True, workers=workers)
    return list(reader), reader.fallback


def same_as_sequential(data: bytes, workers: int = 1, *, skip: int = 0) -> list[Item]:
    """The fast path's items (asserted equal to the sequential parser's)."""
    sequential, _ = read(data, 0, skip=skip)
    fast, _ = read(data, workers, skip=skip)
    assert fast == sequential
    return fast


def body(*products: str, transaction: str = "<T_NEW_CATALOG>") -> bytes:
    closing = transaction.split(maxsplit=1)[0].replace("<", "</").rstrip(">") + ">"
    return catalog(transaction + "".join(products) + closing)


def many(count: int, start: int = 0) -> list[str]:
    return [product(f"P{i}", price=f"{i}.50") for i in range(start, start + count)]


def keys(items: list[Item]) -> list[str]:
    return [i.key for i in items if isinstance(i, RawRecord)]


def test_products_bad_products_lines_and_raw_bytes_match_the_sequential_parser() -> None:
    products = [*many(20), product(""), product("C", price="12,50"), *many(20, 20)]
    data = body(*products)
    items, fallback = read(data, 1)
    assert fallback is None  # read by the fast path, not handed back
    assert items == same_as_sequential(data)
    assert len(keys(items)) == 40
    missing, price = [i for i in items if isinstance(i, Quarantined)]
    assert missing.source.startswith("cat.xml product 21 (line ")
    assert missing.raw.startswith(b"<PRODUCT>") and missing.raw.endswith(b"</PRODUCT>")
    assert "'12,50' is not a decimal" in price.reason
    record = items[5]
    assert isinstance(record, RawRecord) and record.raw == product("P5", "5.50").strip().encode()


def test_mixed_content_attributes_prefixes_and_comments_read_alike() -> None:
    special = (
        '<PRODUCT><SUPPLIER_PID type="x">M1</SUPPLIER_PID><!-- a comment -->'
        '<PRODUCT_DETAILS><DESCRIPTION_LONG lang="deu">Erst<br/>dann <b>fett</b>'
        " Ende</DESCRIPTION_LONG><DESCRIPTION_SHORT><![CDATA[A & <c>]]></DESCRIPTION_SHORT>"
        '<?pi skip?><INTERNATIONAL_PID type="gtin"/><MANUFACTURER_NAME>  </MANUFACTURER_NAME>'
        "</PRODUCT_DETAILS></PRODUCT>"
    )
    data = body(*many(3), special, *many(3, 3))
    items, fallback = read(data, 1)
    assert fallback is None and items == same_as_sequential(data)
    details = items[3].data["PRODUCT_DETAILS"] if isinstance(items[3], RawRecord) else {}
    assert details["DESCRIPTION_LONG"]["@lang"] == "deu"
    assert details["DESCRIPTION_LONG"]["#text"].endswith("dann Ende fett")
    assert details["DESCRIPTION_SHORT"] == "A & <c>"
    prefixed = re.sub(rb"<(/?)([A-Z])", rb"<\1b:\2", data).replace(
        f'xmlns="{NS}"'.encode(), f'xmlns:b="{NS}"'.encode()
    )
    assert [i.data if isinstance(i, RawRecord) else i for i in same_as_sequential(prefixed)] == [
        i.data if isinstance(i, RawRecord) else i for i in items
    ]


def test_delta_modes_and_the_header_reach_each_record() -> None:
    data = body(
        product("N", mode="new"),
        product("X"),
        '<PRODUCT mode="delete"><SUPPLIER_PID>D</SUPPLIER_PID></PRODUCT>',
        transaction='<T_UPDATE_PRODUCTS prev_version="9.0">',
    )
    items = same_as_sequential(data)
    first = items[0]
    assert isinstance(first, RawRecord) and first.data["catalog"]["prev_version"] == "9.0"
    assert [(i.key, i.data["operation"]) for i in items if isinstance(i, RawRecord)] == [
        ("N", "new"),
        ("D", "delete"),
    ]


def test_a_resumed_file_skips_the_products_already_given() -> None:
    data = body(*many(30))
    items = same_as_sequential(data, skip=17)
    assert keys(items) == [f"P{i}" for i in range(17, 30)]
    assert items[0].data["position"] == 18 if isinstance(items[0], RawRecord) else False


@pytest.mark.parametrize(
    ("odd", "words"),
    [
        ("<!-- </PRODUCT> -->", "comment holding a closing tag"),
        ("<![CDATA[</PRODUCT>]]>", "CDATA holding a closing tag"),
        ("<PRODUCT><SUPPLIER_PID>S</SUPPLIER_PID></PRODUCT >", "closing tag with a space"),
        ("<PRODUCT/>", "empty product"),
        ("<CATALOG_GROUP_SYSTEM/>", "another element between products"),
    ],
)
def test_what_bytes_cannot_cut_goes_to_the_sequential_parser(odd: str, words: str) -> None:
    inner = odd if odd.startswith("<PRODUCT") or odd.startswith("<CATALOG") else None
    middle = inner or product("Q").replace("<PRODUCT_DETAILS>", odd + "<PRODUCT_DETAILS>")
    data = body(*many(10), middle, *many(10, 10))
    items, fallback = read(data, 1)
    assert fallback is not None, words  # handed to the sequential parser ...
    assert items == same_as_sequential(data), words  # ... which gives every product once
    assert keys(items)[:10] == [f"P{i}" for i in range(10)]
    assert keys(items)[-10:] == [f"P{i}" for i in range(10, 20)]


def test_a_file_broken_after_many_products_reports_the_same_line_and_count() -> None:
    whole = body(*many(40))
    cut = whole[: whole.index(b"P33</SUPPLIER_PID>")] + b"</PRODUCT_DETAILS></PRODUCT>"
    items, fallback = read(cut, 1)
    assert items == same_as_sequential(cut)
    assert fallback is not None
    assert keys(items) == [f"P{i}" for i in range(33)]
    broken = items[-1]
    assert isinstance(broken, Quarantined) and "not well-formed XML at line" in broken.reason


@pytest.mark.parametrize(
    "doctype",
    [
        '<!DOCTYPE BMECAT [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
        '<!DOCTYPE BMECAT [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>',
    ],
    ids=["xxe", "billion-laughs"],
)
def test_entities_are_refused_by_the_fast_path_too(doctype: str) -> None:
    data = body(product("A"), product("&x;&b;")).replace(b"\n", f"\n{doctype}\n".encode(), 1)
    (item,) = same_as_sequential(data)
    assert isinstance(item, Quarantined) and "refused" in item.reason
    assert "root:" not in item.reason


def test_an_undeclared_entity_in_a_product_is_refused() -> None:
    data = (
        b'<?xml version="1.0"?>\n<!DOCTYPE BMECAT SYSTEM "bmecat.dtd">\n<BMECAT version="1.2">'
        b"<T_NEW_CATALOG><ARTICLE><SUPPLIER_AID>A1</SUPPLIER_AID></ARTICLE>"
        b"<ARTICLE><SUPPLIER_AID>&secret;</SUPPLIER_AID></ARTICLE></T_NEW_CATALOG></BMECAT>"
    )
    items = same_as_sequential(data)
    assert "A1" not in keys(items)[1:]  # nothing after the refusal
    assert isinstance(items[-1], Quarantined) and "refused" in items[-1].reason
    assert "&secret;" in items[-1].reason


class OneWay(io.RawIOBase):
    """A stream that cannot seek (as an SFTP read), counting how often it was opened."""

    opened = 0

    def __init__(self, data: bytes) -> None:
        self.inner = io.BytesIO(data)
        OneWay.opened += 1

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        chunk = self.inner.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def test_a_stream_that_cannot_seek_is_reopened_for_the_fallback() -> None:
    data = body(*many(10), "<PRODUCT/>", *many(10, 10))  # the fast path hands it back
    OneWay.opened = 0
    reader = CatalogReader(
        io.BufferedReader(OneWay(data)),
        "cat.xml",
        workers=1,
        reopen=lambda: io.BufferedReader(OneWay(data)),
    )
    items = list(reader)
    assert reader.fallback is not None and OneWay.opened == 2
    assert items == list(CatalogReader(io.BytesIO(data), "cat.xml"))
    without = CatalogReader(io.BufferedReader(OneWay(data)), "cat.xml", workers=1)
    assert list(without) == items and without.fallback is None  # sequential from the start


def test_windows_1252_and_utf_16_files_read_alike() -> None:
    text = body(product("Kühler-€"), *many(5)).decode()
    for encoding in ("windows-1252", "utf-16"):
        data = text.replace('encoding="UTF-8"', f'encoding="{encoding}"').encode(encoding)
        items = same_as_sequential(data)
        assert keys(items)[0] == "Kühler-€", encoding


def test_two_worker_processes_give_the_file_in_order() -> None:
    data = body(*many(150), product(""), *many(150, 150))
    items, fallback = read(data, 2)
    assert fallback is None
    assert items == read(data, 0)[0]
    assert keys(items) == [f"P{i}" for i in range(300)]


def write_products(folder: Path, name: str, count: int) -> None:
    info = CatalogInfo("TDM", "001.000", "t", datetime(2026, 1, 1, tzinfo=UTC))
    with (folder / name).open("wb") as out:
        write_catalog(out, info, generated(count))


def test_the_connector_with_workers_pages_and_resumes_without_loss(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pdm_connector, "POOL_MIN_BYTES", 0)  # use the processes on a small file
    monkeypatch.setattr(fastpath, "FRAGMENT", 8000)  # fragments larger than a page
    write_products(tmp_path, "a_full.xml", 60)
    settings = PdmSettings(folder=tmp_path, settle_seconds=0, page_size=7, workers=2)
    connector = PdmConnector(settings)
    pages = connector.read("products", None)
    assert isinstance(pages, Generator)
    first = next(pages)
    pages.close()  # stops the workers mid-file
    assert len(first.records) == 7 and json.loads(first.cursor or "")["at"]["n"] == 7
    rest, cursor = drain(connector, "products", first.cursor)
    expected = [f"TDM-GEN-{i:07d}" for i in range(1, 61)]
    assert [r.key for r in first.records] + rest == expected
    assert drain(connector, "products", cursor)[0] == []


def test_workers_setting_defaults_to_two_at_most_and_comes_from_the_connection() -> None:
    assert 1 <= default_workers() <= 2
    assert PdmSettings(folder=Path("/x")).workers == default_workers()
    assert PdmSettings(folder=Path("/x"), workers=0).workers == 0
    conn = parse_connection("pdm", "fs://?path=/data/pdm&workers=1")
    assert PdmSettings.from_connection(conn).workers == 1
    with pytest.raises(ValueError, match="workers"):
        PdmSettings(folder=Path("/x"), workers=-1)
