"""BMEcat products as vendors send them, read by the PDM connector's reader and mapped.

The samples (tests/mappings/golden/bmecat_*.xml) cover what real catalogues vary in: BMEcat
2005 with the default namespace, two languages, several identifiers, prices and feature
values, CDATA and a missing price currency; 2005 with a prefixed namespace as a
T_UPDATE_PRODUCTS delta (update and delete); BMEcat 1.2 in ISO-8859-1 with a DOCTYPE naming
the DTD, ARTICLE/SUPPLIER_AID and a generation date in DATE/TIME/TIMEZONE.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
import xmltodict

from canonical.errors import InvalidRecord
from canonical.models import LifecycleStatus
from connectors.base import RawRecord
from connectors.pdm.bmecat import CatalogReader
from mappings.bmecat import MappedProduct, map_product
from tests.mappings.support import GOLDEN, golden


def records(name: str) -> list[RawRecord]:
    with (GOLDEN / name).open("rb") as stream:
        items = list(CatalogReader(stream, name, keep_raw=True))
    assert all(isinstance(i, RawRecord) for i in items), items
    return [i for i in items if isinstance(i, RawRecord)]


def dump(mapped: MappedProduct) -> dict[str, Any]:
    product = (
        json.loads(mapped.product.model_dump_json(exclude_none=True)) if mapped.product else None
    )
    return {"key": mapped.key, "operation": mapped.operation, "product": product}


@pytest.mark.parametrize(
    ("sample", "language"),
    [
        ("bmecat_2005_vendor.xml", None),
        ("bmecat_2005_vendor.xml", "eng"),
        ("bmecat_2005_update.xml", None),
        ("bmecat_12_vendor.xml", None),
    ],
)
def test_vendor_catalogues_match_their_golden_files(sample: str, language: str | None) -> None:
    produced = [dump(map_product(r.data, language=language)) for r in records(sample)]
    name = sample.replace(".xml", f"{'_' + language if language else ''}.json")
    assert produced == golden(name, {"products": produced})["products"]


def test_the_default_language_the_price_and_the_status_are_chosen_as_documented() -> None:
    duo, descaler = (map_product(r.data).product for r in records("bmecat_2005_vendor.xml"))
    assert duo is not None and descaler is not None
    assert duo.name == "Siebträgermaschine Duo"  # LANGUAGE default="true" is deu
    assert duo.gtin == "4006381333931"  # the gtin, not the upc
    assert duo.list_price is not None and duo.list_price.amount == Decimal("1595.80")
    assert duo.lifecycle_status is LifecycleStatus.PHASE_OUT
    assert duo.attributes["Anschlüsse"] == "Festwasser, Tank"
    assert duo.attributes["Leistung"] == "1400 WTT"
    assert duo.long_description is not None and "PID & Rotationspumpe" in duo.long_description
    # net_customer per 10 pieces in the catalogue's currency
    assert descaler.list_price is not None
    assert (descaler.list_price.amount, descaler.list_price.currency) == (Decimal("5.99"), "EUR")
    assert descaler.unit_of_measure == "C62"


def test_english_texts_when_asked() -> None:
    duo = map_product(records("bmecat_2005_vendor.xml")[0].data, language="eng").product
    assert duo is not None
    assert duo.name == "Espresso machine Duo"
    assert duo.attributes["Colour"] == "black"


def test_a_delete_carries_only_its_key() -> None:
    update, delete = (map_product(r.data) for r in records("bmecat_2005_update.xml"))
    assert (update.operation, delete.operation) == ("update", "delete")
    assert update.product is not None and update.product.list_price is not None
    assert update.product.list_price.currency == "CHF"  # the header's currency
    assert (delete.key, delete.product) == ("RN-0815", None)


def test_bmecat_12_articles_map_like_2005_products() -> None:
    (article,) = records("bmecat_12_vendor.xml")
    product = map_product(article.data).product
    assert product is not None
    assert (product.sku, product.gtin, product.unit_of_measure) == ("MS-100", "4012345678901", "PK")
    assert product.name == "Kegelmahlwerk für Kaffeemühle"  # ISO-8859-1 decoded
    assert product.updated_at is not None and product.updated_at.isoformat() == (
        "2026-02-14T22:15:00+00:00"
    )


def test_a_product_without_a_name_is_an_error_naming_the_field() -> None:
    record = dict(records("bmecat_2005_vendor.xml")[1].data)
    record["PRODUCT_DETAILS"] = {"DESCRIPTION_LONG": "no short text"}
    with pytest.raises(InvalidRecord) as caught:
        map_product(record)
    assert "RN-0815" in str(caught.value)
    assert "DESCRIPTION_SHORT" in str(caught.value)


def test_the_reader_gives_what_xmltodict_gives_for_a_product() -> None:
    """So `tandem mapping preview` on a product's XML shows what the connector maps."""
    (first, _) = records("bmecat_2005_vendor.xml")
    assert first.raw is not None
    parsed = xmltodict.parse(first.raw, disable_entities=True)["PRODUCT"]
    parsed = {k: v for k, v in parsed.items() if not k.startswith("@xmlns")}
    ours = {k: v for k, v in first.data.items() if k[0].isupper() or k.startswith("@")}
    ours["PRODUCT_DETAILS"] = dict(ours["PRODUCT_DETAILS"])
    # xmltodict keeps inner whitespace of mixed text as it is; compare the words
    for entry in (ours, parsed):
        for long in entry["PRODUCT_DETAILS"]["DESCRIPTION_LONG"]:
            long["#text"] = " ".join(long["#text"].split())
    assert ours == parsed


def test_a_bare_product_element_maps_too() -> None:
    """What `tandem mapping preview` gives for one product's XML (no header, no key added)."""
    (first, _) = records("bmecat_2005_vendor.xml")
    assert first.raw is not None
    bare = xmltodict.parse(first.raw, disable_entities=True)["PRODUCT"]
    product = map_product(bare).product
    assert product is not None
    assert (product.sku, product.gtin) == ("RN-4711", "4006381333931")
    assert product.list_price is not None and product.list_price.currency == "EUR"
