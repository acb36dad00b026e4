"""The seeded distributors and their stock/sell-through CSV layouts (as their DRP exports them)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sandbox.edi.common import NamedParty
from sandbox.edi.trade import ActivityLine
from sandbox.edi.x12 import Party


@dataclass(frozen=True)
class Distributor:
    key: str  # the folder name under drp/
    party: Party
    address: NamedParty  # N1*DS: name and address
    vendor_number: str  # the manufacturer's vendor number in the distributor's system
    currency: str
    csv_delimiter: str
    csv_encoding: str  # "cp1252" (Windows-1252), "utf-8-sig" (with BOM) or "utf-8"
    csv_language: str  # "de" or "en"


DISTRIBUTORS: tuple[Distributor, ...] = (
    Distributor(
        "kaffeehandel-nord",
        Party("ZZ", "KHNORD", "KHNORD"),
        NamedParty(
            "DS",
            "Kaffeehandel Nord GmbH",
            "92",
            "KHN01",
            "Am Sandtorkai 5",
            "Hamburg",
            "",
            "20457",
            "DE",
        ),
        "V-40711",
        "EUR",
        ";",
        "cp1252",
        "de",
    ),
    Distributor(
        "alpenkaffee",
        Party("ZZ", "ALPENKAFFEE", "ALPENKAFFEE"),
        NamedParty(
            "DS",
            "Alpenkaffee Vertrieb GmbH",
            "92",
            "AKV-7",
            "Mariahilfer Straße 77",
            "Wien",
            "",
            "1060",
            "AT",
        ),
        "LIEF-0815",
        "EUR",
        ";",
        "utf-8-sig",
        "de",
    ),
    Distributor(
        "pacific-brew",
        Party("ZZ", "PACBREW", "PACBREW"),
        NamedParty(
            "DS",
            "Pacific Brew Supply Inc.",
            "92",
            "PBS-001",
            "1200 1st Ave",
            "Seattle",
            "WA",
            "98101",
            "US",
        ),
        "TANDEM01",
        "USD",
        ",",
        "utf-8",
        "en",
    ),
)

HEADERS = {
    "de": (
        "Artikelnummer",
        "EAN",
        "Bezeichnung",
        "Bestand",
        "Verkauft",
        "Bestellt",
        "Zeitraum von",
        "Zeitraum bis",
    ),
    "en": (
        "SKU",
        "GTIN",
        "Description",
        "On Hand",
        "Units Sold",
        "On Order",
        "Period Start",
        "Period End",
    ),
}


def _day(value: date, language: str) -> str:
    return value.strftime("%d.%m.%Y" if language == "de" else "%Y-%m-%d")


def stock_csv(
    items: Sequence[ActivityLine],
    names: dict[str, str],
    start: date,
    end: date,
    *,
    delimiter: str,
    encoding: str,
    language: str,
) -> bytes:
    """The stock/sell-through report; CRLF lines like the spreadsheet tools that make them."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(HEADERS[language])
    for item in items:
        writer.writerow(
            [
                item.sku,
                item.gtin,
                names.get(item.sku, ""),
                item.on_hand,
                item.sold,
                item.on_order,
                _day(start, language),
                _day(end, language),
            ]
        )
    return buffer.getvalue().encode(encoding, errors="replace")


def read_stock_csv(data: bytes) -> list[dict[str, str]]:
    """Decode a report the way a careful reader must: BOM, UTF-8 or Windows-1252, ; or ,."""
    if data.startswith(b"\xef\xbb\xbf"):
        text = data[3:].decode("utf-8")
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("cp1252")
    dialect = csv.Sniffer().sniff(text.splitlines()[0], delimiters=";,")
    return list(csv.DictReader(io.StringIO(text), dialect=dialect))
