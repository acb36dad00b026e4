"""BMEcat catalogue files as a PDM exports them, written as a stream.

BMEcat 2005 (default): ``<BMECAT version="2005" xmlns="http://www.bmecat.org/bmecat/2005">``,
HEADER (GENERATOR_INFO, CATALOG with LANGUAGE, CATALOG_ID, CATALOG_VERSION, CATALOG_NAME,
GENERATION_DATE, CURRENCY; SUPPLIER with SUPPLIER_ID and SUPPLIER_NAME), then either
T_NEW_CATALOG (the full catalogue) or T_UPDATE_PRODUCTS prev_version="..." (a delta whose
PRODUCTs carry mode="new", "update" or "delete"; a delete names only SUPPLIER_PID).
A PRODUCT holds SUPPLIER_PID, PRODUCT_DETAILS (DESCRIPTION_SHORT, DESCRIPTION_LONG,
INTERNATIONAL_PID type="gtin", MANUFACTURER_NAME, PRODUCT_STATUS), PRODUCT_FEATURES,
PRODUCT_ORDER_DETAILS (ORDER_UNIT, CONTENT_UNIT, NO_CU_PER_OU, PRICE_QUANTITY, QUANTITY_MIN,
QUANTITY_INTERVAL) and PRODUCT_PRICE_DETAILS (PRODUCT_PRICE price_type="net_list").

BMEcat 1.2 (``version="1.2"``, no namespace) uses ARTICLE/SUPPLIER_AID/ARTICLE_DETAILS/EAN/
ARTICLE_FEATURES/ARTICLE_ORDER_DETAILS/ARTICLE_PRICE_DETAILS/ARTICLE_PRICE and
``DATETIME type="generation_date"``; T_UPDATE_PRODUCTS carries ARTICLE mode="...".

Products are written one at a time, so a generator of any size streams in constant memory.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO
from xml.sax.saxutils import escape, quoteattr

from sandbox.pdm.products import MANUFACTURER, MasterProduct

NAMESPACE_2005 = "http://www.bmecat.org/bmecat/2005"


@dataclass(frozen=True)
class CatalogInfo:
    catalog_id: str
    version: str  # CATALOG_VERSION, e.g. "001.000"
    name: str
    generated: datetime
    language: str = "eng"
    currency: str = "EUR"
    supplier_id: str = "4012345000009"
    supplier_name: str = MANUFACTURER


def _e(text: str) -> str:
    return escape(text)


class BMEcatWriter:
    """Write a catalogue to a binary stream: ``header()``, ``product()`` * n, ``close()``."""

    def __init__(self, out: BinaryIO, *, version: str = "2005") -> None:
        if version not in ("2005", "1.2"):
            raise ValueError(f"BMEcat version {version!r}: use '2005' or '1.2'")
        self.out = out
        self.v2005 = version == "2005"
        self.body = ""
        self.count = 0

    def _w(self, text: str) -> None:
        self.out.write(text.encode("utf-8"))

    def header(self, info: CatalogInfo, *, update_of: str | None = None) -> None:
        self._w('<?xml version="1.0" encoding="UTF-8"?>\n')
        if self.v2005:
            self._w(f'<BMECAT version="2005" xmlns="{NAMESPACE_2005}">\n')
            when = (
                f"<GENERATION_DATE>{info.generated.isoformat(timespec='seconds')}</GENERATION_DATE>"
            )
        else:
            self._w('<BMECAT version="1.2">\n')
            when = (
                f'<DATETIME type="generation_date"><DATE>{info.generated:%Y-%m-%d}</DATE>'
                f"<TIME>{info.generated:%H:%M:%S}</TIME></DATETIME>"
            )
        supplier_id = (
            f'<SUPPLIER_ID type="gln">{info.supplier_id}</SUPPLIER_ID>' if self.v2005 else ""
        )
        self._w(
            "<HEADER>\n"
            "<GENERATOR_INFO>Tandem sandbox PDM</GENERATOR_INFO>\n"
            f"<CATALOG><LANGUAGE>{info.language}</LANGUAGE>"
            f"<CATALOG_ID>{_e(info.catalog_id)}</CATALOG_ID>"
            f"<CATALOG_VERSION>{_e(info.version)}</CATALOG_VERSION>"
            f"<CATALOG_NAME>{_e(info.name)}</CATALOG_NAME>{when}"
            f"<CURRENCY>{info.currency}</CURRENCY></CATALOG>\n"
            f"<SUPPLIER>{supplier_id}<SUPPLIER_NAME>{_e(info.supplier_name)}</SUPPLIER_NAME>"
            "</SUPPLIER>\n</HEADER>\n"
        )
        if update_of is None:
            self.body = "T_NEW_CATALOG"
            self._w("<T_NEW_CATALOG>\n")
        else:
            self.body = "T_UPDATE_PRODUCTS"
            self._w(f"<T_UPDATE_PRODUCTS prev_version={quoteattr(update_of)}>\n")

    def product(self, product: MasterProduct, *, mode: str | None = None) -> None:
        self.count += 1
        self._w(self.product_xml(product, mode=mode))

    def product_xml(self, p: MasterProduct, *, mode: str | None = None) -> str:
        tag, pid = ("PRODUCT", "SUPPLIER_PID") if self.v2005 else ("ARTICLE", "SUPPLIER_AID")
        opening = f"<{tag} mode={quoteattr(mode)}>" if mode else f"<{tag}>"
        if mode == "delete":
            return f"{opening}<{pid}>{_e(p.sku)}</{pid}></{tag}>\n"
        v = self.v2005
        prefix = "PRODUCT" if v else "ARTICLE"
        gtin = (
            f'<INTERNATIONAL_PID type="gtin">{p.gtin}</INTERNATIONAL_PID>'
            if v
            else f"<EAN>{p.gtin}</EAN>"
        )
        status = (
            f'<PRODUCT_STATUS type="{p.status}">{p.status.replace("_", " ")}</PRODUCT_STATUS>'
            if v
            else ""
        )
        features = "".join(
            f"<FEATURE><FNAME>{_e(name)}</FNAME><FVALUE>{_e(value)}</FVALUE>"
            + (f"<FUNIT>{_e(unit)}</FUNIT>" if unit else "")
            + "</FEATURE>"
            for name, value, unit in (*p.features, ("Weight", str(p.weight_kg), "KGM"))
        )
        tax = (
            "<TAX_DETAILS><TAX_TYPE>vat</TAX_TYPE><TAX>0.19</TAX></TAX_DETAILS>"
            if v
            else "<TAX>0.19</TAX>"
        )
        return (
            f"{opening}<{pid}>{_e(p.sku)}</{pid}>"
            f"<{prefix}_DETAILS><DESCRIPTION_SHORT>{_e(p.name)}</DESCRIPTION_SHORT>"
            f"<DESCRIPTION_LONG>{_e(p.description)}</DESCRIPTION_LONG>{gtin}"
            f"<MANUFACTURER_{pid[-3:]}>{_e(p.sku)}</MANUFACTURER_{pid[-3:]}>"
            f"<MANUFACTURER_NAME>{_e(MANUFACTURER)}</MANUFACTURER_NAME>{status}"
            f"</{prefix}_DETAILS>"
            f"<{prefix}_FEATURES><REFERENCE_FEATURE_SYSTEM_NAME>ECLASS-13.0"
            f"</REFERENCE_FEATURE_SYSTEM_NAME><REFERENCE_FEATURE_GROUP_ID>{_eclass(p.group)}"
            f"</REFERENCE_FEATURE_GROUP_ID>{features}</{prefix}_FEATURES>"
            f"<{prefix}_ORDER_DETAILS><ORDER_UNIT>{p.order_unit}</ORDER_UNIT>"
            f"<CONTENT_UNIT>{p.order_unit}</CONTENT_UNIT><NO_CU_PER_OU>1</NO_CU_PER_OU>"
            "<PRICE_QUANTITY>1</PRICE_QUANTITY><QUANTITY_MIN>1</QUANTITY_MIN>"
            f"<QUANTITY_INTERVAL>1</QUANTITY_INTERVAL></{prefix}_ORDER_DETAILS>"
            f'<{prefix}_PRICE_DETAILS><{prefix}_PRICE price_type="net_list">'
            f"<PRICE_AMOUNT>{p.net_price_eur}</PRICE_AMOUNT><PRICE_CURRENCY>EUR</PRICE_CURRENCY>"
            f"{tax}<LOWER_BOUND>1</LOWER_BOUND></{prefix}_PRICE></{prefix}_PRICE_DETAILS>"
            f"</{tag}>\n"
        )

    def close(self) -> None:
        self._w(f"</{self.body}>\n</BMECAT>\n")


def _eclass(group: str) -> str:
    # ECLASS classes of the kind a coffee equipment maker uses (illustrative ids).
    return {"machines": "18-01-01-01", "coffee": "16-03-01-01", "care": "18-01-90-01"}.get(
        group, "18-01-91-01"
    )


def write_catalog(
    out: BinaryIO, info: CatalogInfo, products: Iterable[MasterProduct], *, version: str = "2005"
) -> int:
    """A full T_NEW_CATALOG; returns the number of products written."""
    writer = BMEcatWriter(out, version=version)
    writer.header(info)
    for product in products:
        writer.product(product)
    writer.close()
    return writer.count


def write_update(
    out: BinaryIO,
    info: CatalogInfo,
    prev_version: str,
    changes: Iterable[tuple[str, MasterProduct]],
    *,
    version: str = "2005",
) -> int:
    """A T_UPDATE_PRODUCTS delta of (mode, product) changes: new, update or delete."""
    writer = BMEcatWriter(out, version=version)
    writer.header(info, update_of=prev_version)
    for mode, product in changes:
        writer.product(product, mode=mode)
    writer.close()
    return writer.count
