"""The XML profile, for 3PLs that do not speak X12 (``format: xml``).

One document per file (or several under a plural root: ``<ShippingAdvices>``,
``<InventoryAdvices>``); attributes only, UTF-8; dates ``YYYY-MM-DD``::

    <ShippingOrder orderNumber="SO-1" poNumber="PO-9" purpose="N"
                   requestedShipDate="2026-11-23" carrier="UPSN">
      <ShipTo name="Ada Shop" street="1 Main St" city="Springfield" state="IL"
              postcode="62701" country="US"/>
      <Line number="1" sku="SKU-1" quantity="2" uom="EA" gtin="" description="Mug"/>
    </ShippingOrder>

    <ShippingAdvice shipmentId="SH1" orderNumber="SO-1" poNumber="PO-9"
                    shipDate="2026-11-24" carrier="UPSN" weight="1.5" weightUnit="KG">
      <ShipTo .../>
      <Package trackingNumber="1Z999">
        <Line number="1" sku="SKU-1" ordered="2" shipped="2" status="CC" uom="EA"/>
      </Package>
      <Line number="2" sku="SKU-2" ordered="1" shipped="0" status="BO"/>  (not shipped)
    </ShippingAdvice>

    <InventoryAdvice reportId="INV1" asOf="2026-11-24T06:00">
      <Item sku="SKU-1" gtin="4006381333931" onHand="120" available="100" uom="EA"/>
    </InventoryAdvice>

Reading gives the same dicts as the X12 sets (``x12_docs``), so one set of mappings serves
both. Parsing refuses DTDs/entities and network access; inventory is streamed (iterparse).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, BinaryIO

from lxml import etree

from canonical.errors import PermanentError
from connectors.logistics.x12_docs import build_940


class XmlDocumentError(PermanentError):
    """An XML document that cannot be read, naming the element and attribute."""


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def build_order_xml(record: Mapping[str, Any]) -> bytes:
    """The XML shipping order; checked like the 940 (same ``InvalidRecord``)."""
    build_940(record)  # the same field checks as the X12 profile
    root = etree.Element("ShippingOrder")
    attrs = {
        "orderNumber": record.get("order_number"),
        "poNumber": record.get("po_number"),
        "purpose": record.get("purpose") or "N",
        "requestedShipDate": str(record.get("requested_ship_date") or "")[:10],
        "carrier": record.get("carrier_scac"),
    }
    _set(root, attrs)
    ship_to = record.get("ship_to") or {}
    _set(
        etree.SubElement(root, "ShipTo"),
        {
            k: ship_to.get(k)
            for k in ("name", "street", "street2", "city", "state", "postcode", "country")
        },
    )
    for index, line in enumerate(record.get("lines") or [], start=1):
        _set(
            etree.SubElement(root, "Line"),
            {
                "number": line.get("line_number") or index,
                "sku": line.get("sku"),
                "quantity": line.get("quantity"),
                "uom": line.get("uom") or "EA",
                "gtin": line.get("gtin"),
                "description": line.get("description"),
            },
        )
    data: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return data


def _set(element: Any, attrs: Mapping[str, Any]) -> None:
    for key, value in attrs.items():
        if value is not None and str(value) != "":
            element.set(key, str(value))


def _ymd(value: str) -> str:
    return value[:10].replace("-", "")


def _int(el: Any, name: str, where: str) -> int:
    value = el.get(name, "")
    try:
        return int(value)
    except ValueError:
        raise XmlDocumentError(
            f"{where}: line {el.sourceline} <{el.tag}> {name}={value!r} is not a whole number"
        ) from None


def parse_advices(stream: BinaryIO, source: str) -> Iterator[dict[str, Any] | XmlDocumentError]:
    """Each ``<ShippingAdvice>`` as the dict ``x12_docs.parse_945`` makes; a bad one is an
    ``XmlDocumentError`` item and the others go on."""
    try:
        root = etree.parse(stream, _parser()).getroot()
    except etree.XMLSyntaxError as exc:
        yield XmlDocumentError(f"{source}: not well-formed XML: {exc}")
        return
    docs = [root] if root.tag == "ShippingAdvice" else list(root.iter("ShippingAdvice"))
    if not docs:
        yield XmlDocumentError(f"{source}: root <{root.tag}> holds no <ShippingAdvice>")
    for index, doc in enumerate(docs, start=1):
        where = f"{source} ShippingAdvice {doc.get('shipmentId') or index}"
        try:
            yield _advice(doc, where)
        except XmlDocumentError as exc:
            yield exc


def _advice(doc: Any, where: str) -> dict[str, Any]:
    if not doc.get("orderNumber"):
        raise XmlDocumentError(f"{where}: line {doc.sourceline}: orderNumber is required")
    lines: list[dict[str, Any]] = []
    tracking: list[str] = []
    for line in doc.iter("Line"):
        parent = line.getparent()
        package = parent.get("trackingNumber", "") if parent.tag == "Package" else ""
        if package and package not in tracking:
            tracking.append(package)
        ordered, shipped = _int(line, "ordered", where), _int(line, "shipped", where)
        lines.append(
            {
                "line_number": len(lines) + 1,
                "status": line.get("status", ""),
                "ordered": ordered,
                "shipped": shipped,
                "difference": ordered - shipped,
                "uom": line.get("uom") or "EA",
                "sku": line.get("sku", ""),
                "gtin": line.get("gtin", ""),
                "tracking_number": package,
            }
        )
    if not lines:
        raise XmlDocumentError(f"{where}: no <Line>")
    ship_to = doc.find("ShipTo")
    return {
        "shipment_id": doc.get("shipmentId") or doc.get("orderNumber"),
        "order_number": doc.get("orderNumber"),
        "po_number": doc.get("poNumber", ""),
        "ship_date": _ymd(doc.get("shipDate", "")),
        "carrier_scac": doc.get("carrier", ""),
        "ship_to": dict(ship_to.attrib) if ship_to is not None else {},
        "tracking_numbers": tracking,
        "lines": lines,
        "totals": {
            "units": sum(x["shipped"] for x in lines),
            "weight": doc.get("weight", ""),
            "weight_unit": doc.get("weightUnit", ""),
            "cartons": str(len(tracking)),
        },
        "envelope": {},
    }


def parse_inventory(
    stream: BinaryIO, source: str, warehouse: str
) -> Iterator[dict[str, Any] | XmlDocumentError]:
    """Each ``<Item>`` as the dict ``x12_docs.parse_846`` makes, streamed."""
    report, day, hhmm = "", "", "0000"
    try:
        for event, el in etree.iterparse(
            stream, events=("start", "end"), resolve_entities=False, no_network=True, load_dtd=False
        ):
            if event == "start" and el.tag == "InventoryAdvice":
                report = el.get("reportId", "")
                as_of = el.get("asOf", "")
                day, hhmm = _ymd(as_of), (as_of[11:16].replace(":", "") or "0000")
            elif event == "end" and el.tag == "Item":
                if not el.get("sku"):
                    yield XmlDocumentError(f"{source}: line {el.sourceline} <Item> without sku")
                else:
                    yield {
                        "sku": el.get("sku"),
                        "gtin": el.get("gtin", ""),
                        "on_hand": el.get("onHand", ""),
                        "available": el.get("available", ""),
                        "uom": el.get("uom") or "EA",
                        "report_id": report,
                        "as_of_date": day,
                        "as_of_time": hhmm,
                        "warehouse": warehouse,
                    }
                el.clear()
    except etree.XMLSyntaxError as exc:
        yield XmlDocumentError(f"{source}: not well-formed XML: {exc}")
