"""The BMEcat reader and the PDM connector beyond the contract: bad products, broken and
hostile files, namespaces, resuming a file, settings from a connection."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Generator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from canonical.errors import PermanentError
from connectors.base import Quarantined, RawRecord
from connectors.connection import Connection, parse_connection
from connectors.pdm import CatalogReader, PdmConnector, PdmSettings
from connectors.pdm.sources import CatalogFile, stable
from sandbox.pdm.bmecat import CatalogInfo, write_catalog
from sandbox.pdm.products import generated
from tests.connectors.contract import drain

NS = "http://www.bmecat.org/bmecat/2005"


def catalog(products: str, *, root: str = f'<BMECAT version="2005" xmlns="{NS}">') -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"{root}<HEADER><CATALOG><LANGUAGE>eng</LANGUAGE><CATALOG_ID>C</CATALOG_ID>"
        "<CATALOG_VERSION>9.1</CATALOG_VERSION><CURRENCY>EUR</CURRENCY></CATALOG></HEADER>\n"
        f"{products}</BMECAT>\n"
    ).encode()


def product(pid: str, price: str = "1.50", mode: str | None = None) -> str:
    opening = f'<PRODUCT mode="{mode}">' if mode else "<PRODUCT>"
    key = f"<SUPPLIER_PID>{pid}</SUPPLIER_PID>" if pid else ""
    return (
        f"{opening}{key}<PRODUCT_DETAILS><DESCRIPTION_SHORT>P {pid}</DESCRIPTION_SHORT>"
        '</PRODUCT_DETAILS><PRODUCT_PRICE_DETAILS><PRODUCT_PRICE price_type="net_list">'
        f"<PRICE_AMOUNT>{price}</PRICE_AMOUNT></PRODUCT_PRICE></PRODUCT_PRICE_DETAILS></PRODUCT>\n"
    )


def read(data: bytes, name: str = "cat.xml", skip: int = 0) -> list[RawRecord | Quarantined]:
    return list(CatalogReader(io.BytesIO(data), name, skip=skip))


def test_bad_products_are_quarantined_with_file_position_and_field() -> None:
    body = product("A") + product("") + product("C", price="12,50") + product("D")
    items = read(catalog(f"<T_NEW_CATALOG>{body}</T_NEW_CATALOG>"))
    assert [i.key for i in items if isinstance(i, RawRecord)] == ["A", "D"]
    missing, price = [i for i in items if isinstance(i, Quarantined)]
    assert missing.source.startswith("cat.xml product 2 (line")
    assert "SUPPLIER_PID: is missing" in missing.reason
    assert b"P </DESCRIPTION_SHORT>" in missing.raw
    assert "cat.xml product 3" in price.reason
    assert "PRODUCT_PRICE_DETAILS[0].PRODUCT_PRICE[0].PRICE_AMOUNT: '12,50' is not a decimal" in (
        price.reason
    )


def test_a_truncated_file_yields_the_products_before_the_break_then_its_position() -> None:
    whole = catalog("<T_NEW_CATALOG>" + "".join(product(f"P{i}") for i in range(5)))
    cut = whole[: whole.index(b"P3</SUPPLIER_PID>")]
    items = read(cut, "cut.xml")
    assert [i.key for i in items if isinstance(i, RawRecord)] == ["P0", "P1", "P2"]
    (broken,) = [i for i in items if isinstance(i, Quarantined)]
    assert broken.source == "cut.xml"
    assert "not well-formed XML at line" in broken.reason and "column" in broken.reason
    assert "after 3 product(s)" in broken.reason


@pytest.mark.parametrize(
    ("doctype", "words"),
    [
        ('<!DOCTYPE BMECAT [<!ENTITY x SYSTEM "file:///etc/passwd">]>', "declares entities (x)"),
        (
            '<!DOCTYPE BMECAT [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
            '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]>',
            "declares entities (a, b, c)",
        ),
        ('<!DOCTYPE BMECAT [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x.dtd"> %p;]>', "entities"),
    ],
    ids=["xxe", "billion-laughs", "parameter-entity"],
)
def test_entities_are_refused_with_a_clear_error(doctype: str, words: str) -> None:
    body = "<T_NEW_CATALOG>" + product("&c;" if "c " in doctype else "A") + "</T_NEW_CATALOG>"
    data = catalog(body).replace(b"\n", f"\n{doctype}\n".encode(), 1)
    items = read(data, "evil.xml")
    assert len(items) == 1 and isinstance(items[0], Quarantined), items
    assert words in items[0].reason and "refused" in items[0].reason
    assert "root:" not in items[0].reason  # nothing of /etc/passwd


def test_a_doctype_naming_the_bmecat_12_dtd_is_accepted_and_not_loaded() -> None:
    data = (
        b'<?xml version="1.0"?>\n<!DOCTYPE BMECAT SYSTEM "http://127.0.0.1:9/bmecat.dtd">\n'
        b'<BMECAT version="1.2"><T_NEW_CATALOG><ARTICLE><SUPPLIER_AID>X1</SUPPLIER_AID>'
        b"</ARTICLE></T_NEW_CATALOG></BMECAT>"
    )
    (item,) = read(data)
    assert isinstance(item, RawRecord) and item.key == "X1"
    assert item.data["catalog"]["bmecat_version"] == "1.2"


def test_namespaces_present_prefixed_or_absent_read_alike() -> None:
    body = "<T_NEW_CATALOG>" + product("A") + "</T_NEW_CATALOG>"
    plain = read(catalog(body, root='<BMECAT version="2005">'))
    default = read(catalog(body))
    prefixed = read(
        re.sub(rb"<(/?)([A-Z])", rb"<\1b:\2", catalog(body)).replace(
            f'xmlns="{NS}"'.encode(), f'xmlns:b="{NS}"'.encode()
        )
    )
    firsts = [items[0] for items in (plain, default, prefixed)]
    datas = [r.data for r in firsts if isinstance(r, RawRecord)]
    assert len(datas) == 3
    assert datas[0] == datas[1] == datas[2]
    assert datas[0]["catalog"]["version"] == "9.1"


def test_delta_modes_become_operations_and_a_missing_mode_is_quarantined() -> None:
    body = (
        '<T_UPDATE_PRODUCTS prev_version="9.0">'
        + product("N", mode="new")
        + product("U", mode="update")
        + '<PRODUCT mode="delete"><SUPPLIER_PID>D</SUPPLIER_PID></PRODUCT>'
        + product("X")
        + "</T_UPDATE_PRODUCTS>"
    )
    items = read(catalog(body), "delta.xml")
    ops = [(i.key, i.data["operation"]) for i in items if isinstance(i, RawRecord)]
    assert ops == [("N", "new"), ("U", "update"), ("D", "delete")]
    (bad,) = [i for i in items if isinstance(i, Quarantined)]
    assert "delta.xml product 4" in bad.reason and "@mode: missing" in bad.reason
    first = items[0]
    assert isinstance(first, RawRecord) and first.version == "9.1/delta.xml"
    assert first.data["catalog"]["prev_version"] == "9.0"


def test_a_file_that_is_not_bmecat_is_quarantined() -> None:
    (item,) = read(b"<?xml version='1.0'?><ORDERS><ORDER/></ORDERS>", "orders.xml")
    assert isinstance(item, Quarantined) and "not a BMEcat document" in item.reason


def write_products(folder: Path, name: str, count: int) -> None:
    info = CatalogInfo("TDM", "001.000", "t", datetime(2026, 1, 1, tzinfo=UTC))
    with (folder / name).open("wb") as out:
        write_catalog(out, info, generated(count))


def test_a_file_left_part_of_the_way_resumes_after_the_last_page(tmp_path: Path) -> None:
    write_products(tmp_path, "a_full.xml", 25)
    connector = PdmConnector(PdmSettings(folder=tmp_path, settle_seconds=0, page_size=10))
    pages = connector.read("products", None)
    assert isinstance(pages, Generator)
    first = next(pages)
    assert len(first.records) == 10 and first.cursor is not None
    pages.close()  # the run stops here (crash, stop)
    assert json.loads(first.cursor)["at"]["n"] == 10
    rest, cursor = drain(connector, "products", first.cursor)
    assert rest == [f"TDM-GEN-{i:07d}" for i in range(11, 26)]
    assert drain(connector, "products", cursor)[0] == []


def test_a_rewritten_file_is_read_again_and_vanished_files_leave_the_cursor(
    tmp_path: Path,
) -> None:
    write_products(tmp_path, "a_full.xml", 3)
    connector = PdmConnector(PdmSettings(folder=tmp_path, settle_seconds=0))
    keys, cursor = drain(connector, "products", None)
    assert len(keys) == 3
    write_products(tmp_path, "a_full.xml", 4)  # same name, new content
    again, cursor = drain(connector, "products", cursor)
    assert len(again) == 4
    (tmp_path / "a_full.xml").unlink()
    write_products(tmp_path, "b_update.xml", 1)
    _, cursor = drain(connector, "products", cursor)
    assert cursor is not None and list(json.loads(cursor)["done"]) == ["b_update.xml"]


def test_temp_and_hidden_names_are_not_read(tmp_path: Path) -> None:
    for name in ("x.xml.part", ".y.xml", "z.txt"):
        write_products(tmp_path, name, 1)
    connector = PdmConnector(PdmSettings(folder=tmp_path, settle_seconds=0))
    assert drain(connector, "products", None)[0] == []


def test_settings_from_connections() -> None:
    folder = PdmSettings.from_connection(
        parse_connection("pdm", "fs://?path=/data/pdm&page_size=50")
    )
    assert (folder.folder, folder.page_size) == (Path("/data/pdm"), 50)
    uri = "sftp://pdm:s3cr%40t@pdm.example:2222/home/pdm?host_key_fingerprint=SHA256:abc&directory=out"
    sftp = PdmSettings.from_connection(parse_connection("pdm", uri))
    assert sftp.sftp is not None and sftp.directory == "out"
    assert (sftp.sftp.host, sftp.sftp.port, sftp.sftp.root) == ("pdm.example", 2222, "home/pdm")
    assert sftp.sftp.password is not None and sftp.sftp.password.get_secret_value() == "s3cr@t"
    with pytest.raises(PermanentError) as caught:
        PdmSettings.from_connection(Connection("pdm", conn_type="http", host="x"))
    assert "not a PDM source" in str(caught.value)
    with pytest.raises(PermanentError) as bad:
        PdmSettings.from_connection(parse_connection("pdm", uri + "&page_size=zero"))
    assert "page_size" in str(bad.value) and "s3cr" not in str(bad.value)


def test_raw_bytes_are_each_products_own_across_read_chunks(tmp_path: Path) -> None:
    write_products(tmp_path, "big.xml", 1500)  # ~2 MB: several parser chunks
    data = (tmp_path / "big.xml").read_bytes()
    items = list(CatalogReader(io.BytesIO(data), "big.xml", keep_raw=True))
    assert len(items) == 1500
    for item in items:
        assert isinstance(item, RawRecord) and item.raw is not None
        assert item.raw.startswith(b"<PRODUCT>") and item.raw.endswith(b"</PRODUCT>")
        assert f"<SUPPLIER_PID>{item.key}</SUPPLIER_PID>".encode() in item.raw


def test_windows_1252_and_utf_16_catalogues_are_decoded() -> None:
    body = "<T_NEW_CATALOG>" + product("Kühler-€") + "</T_NEW_CATALOG>"
    for encoding in ("windows-1252", "utf-16"):
        text = catalog(body).decode().replace('encoding="UTF-8"', f'encoding="{encoding}"')
        (item,) = read(text.encode(encoding))
        assert isinstance(item, RawRecord) and item.key == "Kühler-€", encoding


def test_an_entity_the_unread_dtd_would_define_is_refused() -> None:
    data = (
        b'<?xml version="1.0"?>\n<!DOCTYPE BMECAT SYSTEM "bmecat.dtd">\n<BMECAT version="1.2">'
        b"<T_NEW_CATALOG><ARTICLE><SUPPLIER_AID>&secret;</SUPPLIER_AID></ARTICLE>"
        b"</T_NEW_CATALOG></BMECAT>"
    )
    (item,) = read(data, "ext.xml")
    assert isinstance(item, Quarantined)
    assert "refused: a reference to the entity &secret;" in item.reason


def test_a_connection_can_name_the_sftp_connection_to_use(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_PDM_SFTP",
        "sftp://pdm:pw@10.0.0.9:2222/srv?host_key=ssh-ed25519%20AAAAC3Nza",
    )
    settings = PdmSettings.from_connection(
        parse_connection("pdm", "fs://?sftp_conn_id=pdm_sftp&directory=outbound&settle_seconds=0")
    )
    assert settings.sftp is not None and settings.folder is None
    assert (settings.sftp.host, settings.directory, settings.settle_seconds) == (
        "10.0.0.9",
        "outbound",
        0,
    )


def test_a_file_still_being_written_waits_for_a_later_read() -> None:
    growing = iter([100, 250])
    stable_one = CatalogFile.of("a_full.xml", 10, 1.0, "1")

    def listing() -> list[CatalogFile]:
        size = next(growing)
        return [stable_one, CatalogFile.of("b_update.xml", size, 2.0, str(size))]

    assert stable(listing, 0.01) == [stable_one]
